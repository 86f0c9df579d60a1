"""ObjectStore against a real S3-compatible server (moto_server on loopback), plus the retry helper."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
import urllib3
from minio.error import S3Error, ServerError

from services.common import storage
from services.common.retry import backoff_delay, retry_async
from services.common.storage import (
    ObjectNotFound,
    ObjectStore,
    StorageError,
    get_via_presigned,
    put_via_presigned,
)
from tests.fixtures.settings import settings_for


async def test_put_get_round_trip(object_store: ObjectStore) -> None:
    payload = json.dumps({"prices": [0.5, 0.61]}).encode()
    await object_store.put_bytes("sim-data/1/market_curves.json", payload)
    assert await object_store.get_bytes("sim-data/1/market_curves.json") == payload
    assert await object_store.exists("sim-data/1/market_curves.json")
    assert not await object_store.exists("sim-data/1/nope.json")
    stat = await asyncio.to_thread(
        object_store.client.stat_object, object_store.bucket, "sim-data/1/market_curves.json"
    )
    assert stat.content_type == "application/json"
    # Overwrite replaces.
    await object_store.put_bytes("sim-data/1/market_curves.json", b"{}")
    assert await object_store.get_bytes("sim-data/1/market_curves.json") == b"{}"


async def test_missing_key_raises_object_not_found(object_store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound) as info:
        await object_store.get_bytes("sim-data/404/report.md")
    assert info.value.key == "sim-data/404/report.md"
    assert "sim-data/404/report.md" in str(info.value)
    assert isinstance(info.value, StorageError)


async def test_ensure_bucket_is_idempotent(object_store: ObjectStore) -> None:
    await object_store.ensure_bucket()
    await object_store.ensure_bucket()


async def test_presigned_put_then_presigned_get(object_store: ObjectStore, s3_endpoint: str) -> None:
    key = "sim-data/7/report.md"
    put_url = await object_store.presigned_put(key, timedelta(minutes=10))
    get_url = await object_store.presigned_get(key, timedelta(minutes=10))
    endpoint_host = urlsplit(s3_endpoint).netloc
    assert urlsplit(put_url).netloc == endpoint_host
    assert urlsplit(get_url).netloc == endpoint_host
    assert "X-Amz-Signature=" in put_url

    body = b"# Report\n\nVerdict: likely.\n"
    await put_via_presigned(put_url, body, "text/markdown")
    assert await object_store.get_bytes(key) == body
    assert await get_via_presigned(get_url) == body

    # A shared client works the same way.
    async with httpx.AsyncClient() as client:
        await put_via_presigned(put_url, b"v2", "text/markdown", client=client)
        assert await get_via_presigned(get_url, client=client) == b"v2"


async def test_presigned_get_of_a_missing_object(object_store: ObjectStore) -> None:
    url = await object_store.presigned_get("sim-data/9/absent.json", timedelta(minutes=5))
    with pytest.raises(ObjectNotFound):
        await get_via_presigned(url)


async def test_presigned_urls_are_made_without_a_server() -> None:
    # Nothing listens on this port: presigning must be purely local (region configured).
    store = ObjectStore.from_settings(settings_for(s3_endpoint="http://127.0.0.1:9", s3_bucket="bkt"))
    url = await asyncio.wait_for(store.presigned_put("k", timedelta(minutes=1)), timeout=2)
    assert url.startswith("http://127.0.0.1:9/bkt/k?")


async def test_delete_prefix_removes_only_that_prefix(object_store: ObjectStore) -> None:
    keys = [
        "sim-data/1/posts.json",
        "sim-data/1/trades.json",
        "sim-data/1/nested/deep.json",
        "sim-data/10/posts.json",
        "sim-data/2/posts.json",
        "models/hf-cache/config.json",
    ]
    for key in keys:
        await object_store.put_bytes(key, b"[]")
    assert await object_store.list_keys("sim-data/1/") == sorted(keys[:3])

    removed = await object_store.delete_prefix("sim-data/1/")
    assert removed == 3
    assert await object_store.list_keys() == sorted(keys[3:])
    assert await object_store.delete_prefix("sim-data/1/") == 0
    with pytest.raises(ValueError):
        await object_store.delete_prefix("")


async def test_put_to_an_unreachable_server_retries_then_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "ATTEMPTS", 3)
    monkeypatch.setattr(storage, "BASE_DELAY", 0.01)
    store = ObjectStore.from_settings(settings_for(s3_endpoint="http://127.0.0.1:9", s3_bucket="bkt"))
    calls = 0
    real_put = store.client.put_object

    def counting_put(*args, **kwargs):
        nonlocal calls
        calls += 1
        return real_put(*args, **kwargs)

    monkeypatch.setattr(store.client, "put_object", counting_put)
    with pytest.raises(urllib3.exceptions.HTTPError):
        await store.put_bytes("k", b"x")
    assert calls == 3


def test_transient_classification() -> None:
    assert storage.is_transient(urllib3.exceptions.MaxRetryError(None, "/", None))
    assert storage.is_transient(ServerError("boom", 503))
    assert storage.is_transient(httpx.ConnectError("refused"))
    assert not storage.is_transient(ObjectNotFound("k"))
    assert not storage.is_transient(ValueError("bad"))
    resp = urllib3.HTTPResponse(status=503)
    assert storage.is_transient(S3Error(resp, "SlowDown", "slow", "/b/k", "r", "h"))
    assert not storage.is_transient(
        S3Error(urllib3.HTTPResponse(status=403), "AccessDenied", "no", "/", "r", "h")
    )


# --- retry helper (shared by bus and storage)


async def test_retry_async_retries_only_what_it_is_told() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("down")
        return "ok"

    assert (
        await retry_async(flaky, attempts=5, base_delay=0.01, max_delay=0.02, retry_on=(ConnectionError,))
        == "ok"
    )
    assert calls == 3

    calls = 0

    async def wrong() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("not transient")

    with pytest.raises(KeyError):
        await retry_async(wrong, attempts=5, base_delay=0.01, max_delay=0.02, retry_on=(ConnectionError,))
    assert calls == 1

    calls = 0

    async def always() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("still down")

    with pytest.raises(ConnectionError):
        await retry_async(always, attempts=3, base_delay=0.01, max_delay=0.02, retry_on=(ConnectionError,))
    assert calls == 3

    with pytest.raises(ConnectionError):
        await retry_async(
            always, attempts=5, base_delay=0.01, max_delay=0.02, retry_if=lambda exc: "never" in str(exc)
        )


async def test_retry_async_backoff_grows_and_is_capped() -> None:
    for attempt in range(1, 10):
        delay = backoff_delay(attempt, base_delay=0.1, max_delay=1.0)
        cap = min(1.0, 0.1 * 2 ** (attempt - 1))
        assert cap / 2 <= delay <= cap
    started = time.monotonic()

    async def never() -> None:
        raise OSError("x")

    task = asyncio.create_task(retry_async(never, attempts=None, base_delay=0.01, max_delay=0.02))
    await asyncio.sleep(0.2)
    assert not task.done()  # attempts=None keeps going...
    task.cancel()  # ...until cancelled
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2
