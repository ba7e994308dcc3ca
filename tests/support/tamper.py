"""Out-of-band changes, the way someone with console access would make them (boto3).

    python tamper.py ENDPOINT DATA_PLANE drift      # public endpoint on, bucket encryption off, production's trust opened to every namespace
    python tamper.py ENDPOINT DATA_PLANE ssh-open   # port 22 from the internet on the cluster security group
    python tamper.py ENDPOINT DATA_PLANE object B   # one object written into bucket DATA_PLANE-B (data a workload left)
"""

import json
import sys

import boto3

endpoint, plane, what = sys.argv[1], sys.argv[2], sys.argv[3]
c = lambda n: boto3.client(n, endpoint_url=endpoint, region_name="us-east-2")

if what == "drift":
    c("eks").update_cluster_config(name=plane, resourcesVpcConfig={"endpointPublicAccess": True, "endpointPrivateAccess": True})
    c("s3").delete_bucket_encryption(Bucket=f"{plane}-metadata")
    iam = c("iam")
    role = f"{plane}-w-production"
    doc = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    equals = doc["Statement"][0]["Condition"]["StringEquals"]
    del equals["aws:RequestTag/kubernetes-namespace"]
    doc["Statement"][0]["Condition"]["StringLike"] = {"aws:RequestTag/kubernetes-namespace": "*"}
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(doc))
elif what == "ssh-open":
    ec2 = c("ec2")
    sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{plane}-cluster"]}])["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(
        GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
elif what == "object":
    c("s3").put_object(Bucket=f"{plane}-{sys.argv[4]}", Key="runs/1/outputs.pb", Body=b"task output")
else:
    sys.exit(f"unknown change {what}")
