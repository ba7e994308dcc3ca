#!/usr/bin/env python3
"""A team's state bucket, read and made with boto3 (not with unionctl).

    state_bucket.py ENDPOINT create BUCKET [--no-versioning]
    state_bucket.py ENDPOINT show BUCKET KEY     # {"versions": n, "serial": s, "lock": {...} or null}
"""

import json
import sys

import boto3

endpoint, command, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-2")

if command == "create":
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    if "--no-versioning" not in sys.argv:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
elif command == "show":
    key = sys.argv[4]
    versions = [v for v in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []) if v["Key"] == key]
    try:
        serial = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["serial"]
    except s3.exceptions.NoSuchKey:
        serial = None
    try:
        lock = json.loads(s3.get_object(Bucket=bucket, Key=key + ".lock")["Body"].read())
    except s3.exceptions.NoSuchKey:
        lock = None
    print(json.dumps({"versions": len(versions), "serial": serial, "lock": lock}))
else:
    sys.exit(f"unknown command {command}")
