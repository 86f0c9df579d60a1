"""BatchPresigner gives exactly minio's presigned URLs (the runner uploads with them; the S3
round trip itself is covered in test_jobs_dispatch.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from minio import Minio
from minio.credentials import StaticProvider

from services.jobs.presign import BatchPresigner

KEYS = ("jobs/17/report.md", "jobs/17/checkpoints/round-0003.ckpt", "odd name+~é/ü%2F.json", "x")
WHEN = datetime(2026, 12, 5, 23, 59, 59, 900_000, tzinfo=UTC)
TTL = timedelta(days=7)


@pytest.mark.parametrize(
    ("endpoint", "secure", "region", "bucket"),
    [
        ("127.0.0.1:9000", False, "us-east-1", "swarmcast-bucket"),
        ("s3.amazonaws.com", True, "eu-west-1", "swarmcast-bucket"),  # virtual-host style
        ("s3.amazonaws.com", True, "us-east-1", "swarmcast.bucket"),  # a dot: path style
        ("minio.test", True, "eu-central-2", "swarmcast-bucket"),
    ],
)
def test_urls_are_minios_own(endpoint: str, secure: bool, region: str, bucket: str) -> None:
    client = Minio(endpoint, access_key="AKIA/EXAMPLE+1", secret_key="s" * 40, secure=secure, region=region)
    sign = BatchPresigner(client, bucket, TTL, WHEN)
    for key in KEYS:
        assert sign.put(key) == client.get_presigned_url("PUT", bucket, key, TTL, request_date=WHEN)
        assert sign.get(key) == client.get_presigned_url("GET", bucket, key, TTL, request_date=WHEN)


def test_session_credentials_are_signed_by_minio() -> None:
    provider = StaticProvider("AKIAEXAMPLE", "s" * 40, session_token="token/with+chars")
    client = Minio("127.0.0.1:9000", secure=False, region="us-east-1", credentials=provider)
    sign = BatchPresigner(client, "swarmcast-bucket", TTL, WHEN)
    url = sign.put(KEYS[0])
    assert "X-Amz-Security-Token=" in url
    assert url == client.get_presigned_url("PUT", "swarmcast-bucket", KEYS[0], TTL, request_date=WHEN)


def test_an_expiry_minio_refuses_is_refused() -> None:
    client = Minio("127.0.0.1:9000", access_key="a", secret_key="b", secure=False, region="us-east-1")
    with pytest.raises(ValueError):
        BatchPresigner(client, "swarmcast-bucket", timedelta(days=8), WHEN)
