"""One-shot `minio-setup` of deploy/compose.local.yaml: the bucket on the local S3 server (moto).

MinIO's setup also makes an access key limited to the bucket; moto does not check credentials, so
here the services' key is only proven to write, read and delete in the bucket. Idempotent: an
existing bucket is kept. Exits non-zero (and so holds back everything that waits for it) when the
server never answers or the round trip fails.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ENDPOINT = os.environ.get("S3_ENDPOINT", "http://minio:9000")
REGION = os.environ.get("S3_REGION", "us-east-1")
WAIT_SECONDS = 60


def client(access_key: str, secret_key: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        # The endpoint is a bare host name (minio): bucket in the path, not in the host.
        config=Config(s3={"addressing_style": "path"}),
    )


def main() -> int:
    bucket = os.environ["BUCKET"]
    s3 = client(os.environ["ACCESS_KEY"], os.environ["SECRET_KEY"])
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
            break
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                print(f"S3 server at {ENDPOINT} did not answer: {exc}", file=sys.stderr)
                return 1
            time.sleep(1)
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    probe = ".setup-probe"
    s3.put_object(Bucket=bucket, Key=probe, Body=b"ok")
    if s3.get_object(Bucket=bucket, Key=probe)["Body"].read() != b"ok":
        print(f"bucket {bucket}: read back something else than was written", file=sys.stderr)
        return 1
    s3.delete_object(Bucket=bucket, Key=probe)
    print(f"bucket {bucket} ready at {ENDPOINT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
