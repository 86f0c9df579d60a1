"""Helpers for the runner tests: dispatches with real presigned URLs, and an event recorder."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from swarmcast.events.v1 import events_pb2

# free_port: re-exported for the runner tests (one helper for every test, services/cli/processes.py).
from services.cli.processes import free_port as free_port
from services.common import subjects
from services.common.bus import EventBus, EventMeta
from services.common.storage import ObjectStore
from services.gpu_runner.engine import ARTIFACT_NAMES

REPO = Path(__file__).resolve().parents[3]
SEED_TEXT = (REPO / "demos" / "harbor_transit.md").read_text()
GOAL = "Will Harbor City voters approve Measure T, the Eastline light-rail levy?"
URL_TTL = timedelta(hours=2)


def round_checkpoint_key(job_id: int, round_no: int) -> str:
    """Where the jobs service keeps a job's checkpoint after ``round_no`` (0: built)."""
    return f"sim-data/{job_id}/checkpoints/{round_no:04d}"


def new_job_id() -> int:
    return secrets.randbelow(2**31 - 10) + 1


async def make_dispatch(
    store: ObjectStore,
    *,
    job_id: int | None = None,
    tier: str = "small",
    agents: int = 10,
    rounds: int = 15,
    random_seed: int = 1234,
    enrich_web: bool = False,
    resume: bool = False,
    attempt: int = 1,
    run_id: str | None = None,
    goal: str = GOAL,
    seed_text: str = SEED_TEXT,
    model_id: str = "Qwen/Qwen3-14B",
    events: Sequence[events_pb2.ScheduledEvent] = (),
    branch: events_pb2.BranchSource | None = None,
    round_checkpoints: bool = True,
) -> events_pb2.JobDispatch:
    """A JobDispatch like the jobs service builds, with presigned URLs into ``store``'s bucket
    (``round_checkpoints=False``: a dispatch from before round checkpoints existed)."""
    job_id = job_id or new_job_id()
    prefix = f"sim-data/{job_id}/"
    puts = {name: await store.presigned_put(prefix + name, URL_TTL) for name in ARTIFACT_NAMES}
    round_puts = (
        [await store.presigned_put(round_checkpoint_key(job_id, r), URL_TTL) for r in range(rounds + 1)]
        if round_checkpoints
        else []
    )
    message = events_pb2.JobDispatch(
        dispatch_id=f"sim-{job_id}",
        run_id=run_id or str(uuid.uuid4()),
        job_id=job_id,
        seed_text=seed_text,
        goal=goal,
        tier=tier,
        enrich_web=enrich_web,
        forecast_days=30,
        route=events_pb2.RouteSnapshot(
            sim_tier=tier,
            model_id=model_id,
            gpu_type="NVIDIA L40S",
            max_rounds=rounds,
            target_agents=agents,
            vllm_args="--max-model-len 16384",
        ),
        upload=events_pb2.UploadTargets(
            bucket=store.bucket,
            prefix=prefix,
            put_urls=puts,
            checkpoint_put_url=await store.presigned_put(prefix + "checkpoint", URL_TTL),
            checkpoint_get_url=await store.presigned_get(prefix + "checkpoint", URL_TTL),
            round_checkpoint_put_urls=round_puts,
        ),
        resume=resume,
        attempt=attempt,
        random_seed=random_seed,
        events=list(events),
    )
    if branch is not None:
        message.branch.CopyFrom(branch)
    message.upload.expires_at.FromDatetime(datetime.now(UTC) + URL_TTL)
    message.dispatched_at.FromDatetime(datetime.now(UTC))
    return message


async def publish_dispatch(bus: EventBus, dispatch: events_pb2.JobDispatch) -> None:
    await bus.publish(subjects.dispatch(dispatch.tier), dispatch, msg_id=dispatch.run_id)


async def publish_cancel(
    bus: EventBus, job_id: int, reason: str = "cancelled by user", run_id: str = ""
) -> None:
    message = events_pb2.JobCancel(job_id=job_id, reason=reason, run_id=run_id)
    message.requested_at.FromDatetime(datetime.now(UTC))
    await bus.publish(subjects.cancel(job_id), message, msg_id=f"cancel-{job_id}-{run_id or 'all'}")


@dataclass
class Received:
    at: float
    event: Any


@dataclass
class EventRecorder:
    """Every runner.progress/completed/failed event of a prefix, in arrival order."""

    progress: list[Received] = field(default_factory=list)
    completed: list[Received] = field(default_factory=list)
    failed: list[Received] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def attach(self, bus: EventBus) -> None:
        name = secrets.token_hex(4)
        for subject, kind, bucket in (
            (subjects.RUNNER_PROGRESS_ALL, events_pb2.RunnerProgress, self.progress),
            (subjects.RUNNER_COMPLETED_ALL, events_pb2.RunnerCompleted, self.completed),
            (subjects.RUNNER_FAILED_ALL, events_pb2.RunnerFailed, self.failed),
        ):
            await bus.subscribe(
                subject, kind, self._handler(bucket), durable=f"rec-{kind.__name__}-{name}", concurrency=1
            )

    def _handler(self, bucket: list[Received]) -> Callable[[Any, EventMeta], Any]:
        async def handle(event: Any, meta: EventMeta) -> None:
            async with self._changed:
                bucket.append(Received(asyncio.get_running_loop().time(), event))
                self._changed.notify_all()

        return handle

    async def wait_for(self, predicate: Callable[[], Any], within: float, what: str = "") -> Any:
        async def waiter() -> Any:
            async with self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                return value

        try:
            return await asyncio.wait_for(waiter(), within)
        except TimeoutError:
            raise AssertionError(f"timed out after {within}s waiting for {what or predicate}") from None

    def of(self, job_id: int, kind: str = "progress") -> list[Any]:
        return [r.event for r in getattr(self, kind) if r.event.job_id == job_id]

    async def outcome(self, job_id: int, within: float) -> Any:
        """The job's first completed or failed event."""
        return await self.wait_for(
            lambda: (self.of(job_id, "completed") + self.of(job_id, "failed") or [None])[0],
            within,
            f"the outcome of job {job_id}",
        )


def live(event: events_pb2.RunnerProgress) -> dict[str, Any]:
    return json_format.MessageToDict(event.live_status)


async def artifacts_of(store: ObjectStore, job_id: int) -> dict[str, bytes]:
    return {name: await store.get_bytes(f"sim-data/{job_id}/{name}") for name in ARTIFACT_NAMES}


async def work_queue_empty(bus: EventBus, within: float = 5.0) -> bool:
    """True once every dispatch was acked (a work queue drops acked messages); the ack follows
    the outcome event by a moment, so this polls up to ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        info = await bus.js.stream_info(bus.stream_name(subjects.JOBS_DISPATCH.name))
        if info.state.messages == 0:
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
