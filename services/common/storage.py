"""Object storage (MinIO in production, any S3-compatible server locally) through the ``minio`` client.

``ObjectStore`` wraps the synchronous client with ``asyncio.to_thread`` so callers stay async.
Reads and writes retry transient failures (connection errors, timeouts, 5xx) with backoff; a
missing key raises ``ObjectNotFound``. Presigned URLs are computed locally (the client is given
the region, so presigning needs no network call); their host is the configured endpoint host.

``put_via_presigned`` / ``get_via_presigned`` move bytes through presigned URLs with httpx: the
GPU runner uploads artifacts that way and never holds bucket credentials.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, S3Error, ServerError

from services.common.config import Settings, get_settings
from services.common.retry import retry_async

log = logging.getLogger("swarmcast.storage")

T = TypeVar("T")

ATTEMPTS = 5
BASE_DELAY = 0.2
MAX_DELAY = 5.0

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject"})
_TRANSIENT_S3_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "RequestTimeTooSkewed"}
)
_BUCKET_RACE_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


class StorageError(Exception):
    """An object-storage operation failed for a reason other than a missing object."""


class ObjectNotFound(StorageError):
    """The requested object does not exist."""

    def __init__(self, key: str, bucket: str | None = None) -> None:
        where = f"{bucket}/{key}" if bucket else key
        super().__init__(f"object not found: {where}")
        self.key = key
        self.bucket = bucket


class _TransientHTTPError(StorageError):
    """A 5xx answer to a presigned-URL request; retried."""


def is_transient(exc: BaseException) -> bool:
    """True for failures a retry may fix: connection trouble, timeouts, 5xx, throttling."""
    if isinstance(exc, S3Error):
        status = exc.response.status if exc.response is not None else 0
        return exc.code in _TRANSIENT_S3_CODES or status >= 500
    if isinstance(exc, InvalidResponseError):
        # A non-XML answer, e.g. a proxy's 502 page; a 4xx one is not going to change.
        return getattr(exc, "_code", 0) >= 500
    if isinstance(exc, ServerError):
        return exc.status_code >= 500 or exc.status_code == 0
    return isinstance(
        exc,
        urllib3.exceptions.HTTPError
        | ConnectionError
        | TimeoutError
        | httpx.TransportError
        | _TransientHTTPError,
    )


async def _retry(fn: Callable[[], T], describe: str) -> T:
    """Run the blocking ``fn`` in a worker thread, retrying transient failures."""

    async def attempt() -> T:
        return await asyncio.to_thread(fn)

    return await retry_async(
        attempt,
        attempts=ATTEMPTS,
        base_delay=BASE_DELAY,
        max_delay=MAX_DELAY,
        retry_on=(Exception,),
        retry_if=is_transient,
        describe=describe,
    )


class ObjectStore:
    """One bucket on an S3-compatible server. All methods are async and thread-offloaded."""

    def __init__(self, client: Minio, bucket: str, *, region: str = "us-east-1") -> None:
        self.client = client
        self.bucket = bucket
        self.region = region

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, bucket: str | None = None) -> ObjectStore:
        """A store for ``settings.s3_*`` (default ``get_settings()``), on ``bucket`` or ``s3_bucket``."""
        settings = settings or get_settings()
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5.0, read=60.0),
            maxsize=16,
            # A quick connection-level retry here (stale keep-alive sockets); the jittered
            # retry in this module handles longer outages and 5xx.
            retries=urllib3.Retry(total=2, backoff_factor=0.1, status_forcelist=None),
        )
        client = Minio(
            settings.s3_host,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            # Known region: presigning and requests never ask the server for the bucket location.
            region=settings.s3_region,
            http_client=http,
        )
        return cls(client, bucket or settings.s3_bucket, region=settings.s3_region)

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (safe when several processes race)."""

        def run() -> None:
            if self.client.bucket_exists(self.bucket):
                return
            try:
                self.client.make_bucket(self.bucket, location=self.region)
            except S3Error as exc:
                if exc.code not in _BUCKET_RACE_CODES:
                    raise

        await _retry(run, f"ensure bucket {self.bucket}")

    async def put_bytes(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        """Store ``data`` under ``key``, replacing any existing object."""

        def run() -> None:
            # A fresh stream per attempt: a failed attempt may have consumed the previous one.
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

        await _retry(run, f"put {self.bucket}/{key}")

    async def get_bytes(self, key: str) -> bytes:
        """The object's bytes; raises ``ObjectNotFound`` if ``key`` does not exist."""

        def run() -> bytes:
            try:
                response = self.client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING_CODES:
                    raise ObjectNotFound(key, self.bucket) from None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await _retry(run, f"get {self.bucket}/{key}")

    async def exists(self, key: str) -> bool:
        """True if an object named exactly ``key`` exists."""

        def run() -> bool:
            try:
                self.client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING_CODES:
                    return False
                raise
            return True

        return await _retry(run, f"stat {self.bucket}/{key}")

    async def list_keys(self, prefix: str = "") -> list[str]:
        """Every key starting with ``prefix`` (recursively), sorted."""

        def run() -> list[str]:
            objects = self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
            return sorted(o.object_name for o in objects if o.object_name is not None)

        return await _retry(run, f"list {self.bucket}/{prefix}")

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; returns how many.

        ``prefix`` is a plain string prefix: pass ``"sim-data/1/"`` (with the slash) so that
        ``sim-data/10/`` survives. An empty prefix is refused rather than emptying the bucket.
        """
        if not prefix:
            raise ValueError("refusing to delete with an empty prefix (that would empty the bucket)")
        keys = await self.list_keys(prefix)
        if not keys:
            return 0

        def run() -> None:
            # remove_objects is lazy: iterating it performs the deletes and yields failures.
            errors = list(self.client.remove_objects(self.bucket, (DeleteObject(k) for k in keys)))
            if errors:
                raise StorageError(f"could not delete {len(errors)} objects under {prefix!r}: {errors[0]}")

        await _retry(run, f"delete {self.bucket}/{prefix}*")
        return len(keys)

    async def presigned_put(self, key: str, expires: timedelta) -> str:
        """A URL that lets its holder PUT ``key`` (any content type) until ``expires`` from now."""
        return await asyncio.to_thread(self.client.presigned_put_object, self.bucket, key, expires)

    async def presigned_get(self, key: str, expires: timedelta) -> str:
        """A URL that lets its holder GET ``key`` until ``expires`` from now."""
        return await asyncio.to_thread(self.client.presigned_get_object, self.bucket, key, expires)


# --- presigned-URL transfers (no credentials needed)

_PRESIGNED_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def _safe_url(url: str) -> str:
    """The URL without its query string, which holds the signature."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


async def _presigned_request(
    method: str,
    url: str,
    *,
    client: httpx.AsyncClient | None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    async def attempt(http: httpx.AsyncClient) -> bytes:
        response = await http.request(method, url, content=content, headers=headers)
        if response.status_code >= 500:
            raise _TransientHTTPError(f"{method} {_safe_url(url)}: HTTP {response.status_code}")
        if response.status_code == 404 and method == "GET":
            raise ObjectNotFound(urlsplit(url).path.lstrip("/"))
        if response.status_code >= 300:
            raise StorageError(
                f"{method} {_safe_url(url)}: HTTP {response.status_code}: {response.text[:300]}"
            )
        return response.content

    async def run() -> bytes:
        if client is not None:
            return await attempt(client)
        async with httpx.AsyncClient(timeout=_PRESIGNED_TIMEOUT) as http:
            return await attempt(http)

    return await retry_async(
        run,
        attempts=ATTEMPTS,
        base_delay=BASE_DELAY,
        max_delay=MAX_DELAY,
        retry_on=(Exception,),
        retry_if=is_transient,
        describe=f"presigned {method} {_safe_url(url)}",
    )


async def put_via_presigned(
    url: str,
    data: bytes,
    content_type: str = "application/json",
    *,
    client: httpx.AsyncClient | None = None,
) -> None:
    """Upload ``data`` with a presigned PUT URL; retries transient failures, raises ``StorageError``.

    Pass a long-lived ``client`` to reuse connections across many uploads.
    """
    await _presigned_request("PUT", url, client=client, content=data, headers={"Content-Type": content_type})


async def get_via_presigned(url: str, *, client: httpx.AsyncClient | None = None) -> bytes:
    """Download with a presigned GET URL; ``ObjectNotFound`` on 404, ``StorageError`` on other errors."""
    return await _presigned_request("GET", url, client=client)
