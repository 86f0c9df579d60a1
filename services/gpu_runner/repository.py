"""Transfers through the dispatch's presigned URLs: artifacts, and the checkpoints both ways.

The runner holds no bucket credentials for job data: the jobs service presigns one PUT URL per
artifact, PUT/GET URLs for the latest checkpoint `sim-data/<job_id>/checkpoint`, one PUT URL per
round for `sim-data/<job_id>/checkpoints/<round:04d>` (kept after the run: a what-if branch resumes
from any of them), and - for a branch - a GET URL of its parent's round checkpoint. Each transfer
retries transient failures (connection errors, timeouts, 5xx) inside `services.common.storage`.
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

    def has_round_checkpoint_url(self, round_no: int) -> bool:
        urls = self.targets.round_checkpoint_put_urls
        return 0 <= round_no < len(urls) and bool(urls[round_no])

    async def put_round_checkpoint(self, round_no: int, data: bytes) -> None:
        """Keep ``data`` as round ``round_no``'s own checkpoint; a no-op when the dispatch has no URL
        for that round (a dispatch from before round checkpoints existed)."""
        if self.has_round_checkpoint_url(round_no):
            await put_via_presigned(
                self.targets.round_checkpoint_put_urls[round_no],
                data,
                "application/octet-stream",
                client=self.http,
            )

    async def get_branch_checkpoint(self, branch: events_pb2.BranchSource) -> bytes:
        """The parent's round checkpoint a what-if branch starts from.

        ValueError (a permanent failure of the job) when the dispatch has no URL or the object is gone.
        """
        if not branch.checkpoint_get_url:
            raise InvalidTargets("the branch dispatch has no URL of its parent's round checkpoint")
        try:
            return await get_via_presigned(branch.checkpoint_get_url, client=self.http)
        except ObjectNotFound:
            raise ValueError(
                f"job {branch.parent_job_id} has no checkpoint after round {branch.round} any more"
            ) from None

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
