"""Roles whose trust policy names an AWS account (boto3, not unionctl).

    python principals.py ENDPOINT ACCOUNT_ID   -> JSON list of role names
"""

import json
import sys

import boto3

endpoint, account = sys.argv[1], sys.argv[2]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-2")
names = [r["RoleName"] for r in iam.list_roles()["Roles"] if account in json.dumps(r.get("AssumeRolePolicyDocument", {}))]
print(json.dumps(names))
