"""Makes resources a customer already has (boto3, not unionctl), for profiles that name
existing ones; prints the id or name.

    python existing.py ENDPOINT key [disabled]      # a customer-managed KMS key; prints its id
    python existing.py ENDPOINT trail [stopped]     # a multi-region trail with validation; prints its name
"""

import sys

import boto3

endpoint, what = sys.argv[1], sys.argv[2]
variant = sys.argv[3] if len(sys.argv) > 3 else ""
c = lambda n: boto3.client(n, endpoint_url=endpoint, region_name="us-east-2")

if what == "key":
    kms = c("kms")
    key = kms.create_key(Description="the customer's own key")["KeyMetadata"]["KeyId"]
    if variant == "disabled":
        kms.disable_key(KeyId=key)
    print(key)
elif what == "trail":
    s3, trail = c("s3"), c("cloudtrail")
    name = f"org-trail-{variant}" if variant else "org-trail"
    s3.create_bucket(Bucket=f"{name}-logs", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    trail.create_trail(Name=name, S3BucketName=f"{name}-logs", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    if variant != "stopped":
        trail.start_logging(Name=name)
    print(name)
else:
    sys.exit(f"unknown resource {what}")
