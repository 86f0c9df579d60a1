"""Transfers through the dispatch's presigned URLs: artifacts, and the checkpoint both ways.

The runner holds no bucket credentials for job data: the jobs service presigns one PUT URL per
artifact plus PUT/GET URLs for `sim-data/<job_id>/checkpoint`. Each transfer retries transient
failures (connection errors, timeouts, 5xx) inside `services.common.storage`.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from swarmcast.events.v1 import events_pb2

from services.common.storage import ObjectNotFound, get_via_presigned, put_via_presigned
from services.gpu_runner.engine import ARTIFACT_NAMES

log = logging.getLogger("swarmcast.gpu_runner.uploads")

CHECKPOINT_NAME = "checkpoint"


class InvalidTargets(ValueError):
    """The dispatch lacks an upload URL the run needs (a permanent, configuration failure)."""


class JobStorage:
    def __init__(self, targets: events_pb2.UploadTargets, http: httpx.AsyncClient) -> None:
        missing = [name for name in ARTIFACT_NAMES if not targets.put_urls.get(name)]
        if missing:
            raise InvalidTargets(f"dispatch has no upload URL for {', '.join(missing)}")
        if not targets.checkpoint_put_url or not targets.checkpoint_get_url:
            raise InvalidTargets("dispatch has no checkpoint upload/download URL")
        self.targets = targets
        self.http = http

    def key(self, name: str) -> str:
        return f"{self.targets.prefix}{name}"

    async def get_checkpoint(self) -> bytes | None:
        """The last checkpoint, or None when the run never wrote one."""
        try:
            return await get_via_presigned(self.targets.checkpoint_get_url, client=self.http)
        except ObjectNotFound:
            return None

    async def put_checkpoint(self, data: bytes) -> None:
        await put_via_presigned(
            self.targets.checkpoint_put_url, data, "application/octet-stream", client=self.http
        )

    async def put_artifacts(self, artifacts: dict[str, bytes]) -> dict[str, str]:
        """Upload every artifact (concurrently); the manifest name -> object key."""
        unknown = sorted(set(artifacts) - set(ARTIFACT_NAMES))
        if unknown:
            raise InvalidTargets(f"no upload URL for artifacts {', '.join(unknown)}")
        await asyncio.gather(
            *(
                put_via_presigned(self.targets.put_urls[name], data, "application/json", client=self.http)
                for name, data in artifacts.items()
            )
        )
        return {name: self.key(name) for name in artifacts}
