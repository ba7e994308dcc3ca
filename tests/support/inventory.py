"""An independent AWS client (boto3, not unionctl): counts the live resources tagged with a
data plane, per unionctl resource kind, and prints them as JSON.

    python inventory.py ENDPOINT DATA_PLANE [REGION]   (us-east-2 by default)
"""

import json
import sys

import boto3

endpoint, plane = sys.argv[1], sys.argv[2]
region = sys.argv[3] if len(sys.argv) > 3 else "us-east-2"
TAG = "unionctl.union.ai/data-plane"


def client(name):
    return boto3.client(name, endpoint_url=endpoint, region_name=region)


def ours(tags):
    return any((t.get("Key") or t.get("TagKey")) == TAG and (t.get("Value") or t.get("TagValue")) == plane for t in tags or [])


ec2, iam, s3, kms, eks, elb, trail = (client(n) for n in ("ec2", "iam", "s3", "kms", "eks", "elbv2", "cloudtrail"))
flt = [{"Name": f"tag:{TAG}", "Values": [plane]}]
# The tag filter is also checked here: moto ignores it for some kinds, and several data
# planes may share the account (a fleet).
mine = lambda items: [i for i in items if ours(i.get("Tags"))]
elb_ours = lambda arn: ours(elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"])
lbs = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if elb_ours(lb["LoadBalancerArn"])]
clusters = [c for c in eks.list_clusters()["clusters"] if eks.describe_cluster(name=c)["cluster"].get("tags", {}).get(TAG) == plane]
counts = {
    "aws.vpc": len(mine(ec2.describe_vpcs(Filters=flt)["Vpcs"])),
    "aws.subnet": len(mine(ec2.describe_subnets(Filters=flt)["Subnets"])),
    "aws.internet_gateway": len(mine(ec2.describe_internet_gateways(Filters=flt)["InternetGateways"])),
    "aws.nat_gateway": len([n for n in mine(ec2.describe_nat_gateways(Filters=flt)["NatGateways"]) if n["State"] in ("pending", "available")]),
    "aws.eip": len(mine(ec2.describe_addresses(Filters=flt)["Addresses"])),
    "aws.route_table": len(mine(ec2.describe_route_tables(Filters=flt)["RouteTables"])),
    "aws.security_group": len(mine(ec2.describe_security_groups(Filters=flt)["SecurityGroups"])),
    "aws.vpc_endpoint": len([e for e in mine(ec2.describe_vpc_endpoints(Filters=flt)["VpcEndpoints"]) if e["State"].lower() not in ("deleted", "deleting")]),
    "aws.flow_log": len(mine(ec2.describe_flow_logs()["FlowLogs"])),
    "aws.launch_template": len(mine(ec2.describe_launch_templates(Filters=flt)["LaunchTemplates"])),
    "aws.vpc_endpoint_service": len([c for c in mine(ec2.describe_vpc_endpoint_service_configurations(Filters=flt)["ServiceConfigurations"]) if c.get("ServiceState") not in ("Deleted", "Deleting")]),
    "aws.iam_role": len([r for r in iam.list_roles()["Roles"] if ours(iam.list_role_tags(RoleName=r["RoleName"])["Tags"])]),
    "aws.iam_policy": len([p for p in iam.list_policies(Scope="Local")["Policies"] if ours(iam.list_policy_tags(PolicyArn=p["Arn"])["Tags"])]),
    "aws.iam_openid_connect_provider": len([o for o in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] if ours(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=o["Arn"]).get("Tags"))]),
    "aws.kms_key": len([k for k in kms.list_keys()["Keys"] if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion" and ours(kms.list_resource_tags(KeyId=k["KeyId"])["Tags"])]),
    "aws.eks_cluster": len(clusters),
    "aws.eks_node_group": sum(len(eks.list_nodegroups(clusterName=c)["nodegroups"]) for c in clusters),
    "aws.eks_access_entry": sum(len(eks.list_access_entries(clusterName=c)["accessEntries"]) for c in clusters),
    "aws.eks_addon": sum(len(eks.list_addons(clusterName=c)["addons"]) for c in clusters),
    "aws.eks_pod_identity_association": sum(len(eks.list_pod_identity_associations(clusterName=c)["associations"]) for c in clusters),
    "aws.lb": len(lbs),
    "aws.lb_target_group": len([g for g in elb.describe_target_groups()["TargetGroups"] if elb_ours(g["TargetGroupArn"])]),
    "aws.lb_listener": sum(len(elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]) for lb in lbs),
    "aws.cloudtrail": len([t for t in trail.describe_trails()["trailList"] if ours(sum((r.get("TagsList", []) for r in trail.list_tags(ResourceIdList=[t["TrailARN"]])["ResourceTagList"]), []))]),
}
buckets = 0
for b in s3.list_buckets()["Buckets"]:
    try:
        if ours(s3.get_bucket_tagging(Bucket=b["Name"])["TagSet"]):
            buckets += 1
    except s3.exceptions.ClientError:
        pass
counts["aws.s3_bucket"] = buckets
print(json.dumps(counts, sort_keys=True))
