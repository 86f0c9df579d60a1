"""Deletion deletes (issue 17, item 3): an account deleted while its job runs leaves nothing behind.

The job is cancelled first, its objects (the checkpoint with goal and seed digest included) are
deleted once the runner has let go, and the RUNNER/REPORTER streams keep no message of the job.
Events never carried the goal or chat text in the first place (checked on a completed job).

A private stack (bench/harness.py: own database, NATS prefix, moto_server, services on free
ports, heuristic backend). No timing assertions: each wait is bounded only against a hang.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from nats.js.api import DeliverPolicy
from swarmcast.auth.v1 import auth_pb2
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import Infra, Metadata, PrivateStack, create_request, evidence_seed, wait_terminal
from services.common import subjects
from services.common.bus import EventBus
from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub
from services.common.storage import ObjectStore
from tests.fixtures.db import asyncpg_dsn

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(420)]

PASSWORD = "deletion test passphrase 5521"
RUNNER_ENV = {
    "SWARMCAST_RUNNER_ACK_WAIT_SECONDS": "3",
    "SWARMCAST_RUNNER_HEARTBEAT_SECONDS": "1",
    "SWARMCAST_RUNNER_PROGRESS_INTERVAL_SECONDS": "0.1",
    "SWARMCAST_RUNNER_SHUTDOWN_GRACE_SECONDS": "1",
}
LONG_TIER = "large"


@pytest.fixture
def infra(tmp_path: Path) -> Any:
    with Infra(tmp_path / "infra") as value:
        yield value


@pytest_asyncio.fixture
async def stack(infra: Infra, tmp_path: Path) -> AsyncIterator[PrivateStack]:
    value = PrivateStack(infra.env(tmp_path / "run"), tmp_path / "logs")
    try:
        await value.launch("auth", "jobs", "reporter")
        await value.launch("gpu_runner", **RUNNER_ENV)
        yield value
    finally:
        await asyncio.to_thread(value.stop_all)


async def lengthen_tier(infra: Infra) -> None:
    """Makes LONG_TIER's heuristic run last long enough to delete the account mid-run."""
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        await conn.execute(
            "UPDATE jobs.model_routing SET target_agents = 300, max_rounds = 200 WHERE sim_tier = $1",
            LONG_TIER,
        )
    finally:
        await conn.close()


async def register(stack: PrivateStack) -> auth_pb2.RegisterResponse:
    async with insecure_channel(stack.addr("auth")) as ch:
        return await auth_stub(ch).Register(
            auth_pb2.RegisterRequest(email=f"del-{secrets.token_hex(4)}@example.test", password=PASSWORD),
            timeout=15,
        )


async def create(stack: PrivateStack, md: Metadata, tier: str) -> int:
    request = create_request(evidence_seed(f"Deletion check {secrets.token_hex(3)}."), tier=tier)
    async with insecure_channel(stack.addr("jobs")) as ch:
        return int((await jobs_stub(ch).CreateJob(request, metadata=md, timeout=30)).job.id)


async def wait_for_checkpoint(store: ObjectStore, job_id: int, within: float = 120) -> None:
    async with asyncio.timeout(within):
        while True:
            if f"sim-data/{job_id}/checkpoint" in await store.list_keys(f"sim-data/{job_id}/"):
                return
            await asyncio.sleep(0.2)


async def stream_messages(bus: EventBus, stream: subjects.StreamDef, pattern: str) -> list[Any]:
    """Every message the stream still holds on `pattern` (an ephemeral ordered read)."""
    wire = bus.subject(pattern)
    info = await bus.js.stream_info(bus.stream_name(stream.name), subjects_filter=wire)
    if not info.state.subjects:
        return []
    total = sum(info.state.subjects.values())
    sub = await bus.js.subscribe(
        wire, stream=bus.stream_name(stream.name), ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    try:
        return [await sub.next_msg(timeout=10) for _ in range(total)]
    finally:
        await sub.unsubscribe()


async def job_rows(infra: Infra, job_id: int) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM jobs.simulation_jobs WHERE id = $1", job_id))
    finally:
        await conn.close()


async def test_deleting_an_account_mid_run_leaves_nothing_behind(stack: PrivateStack, infra: Infra) -> None:
    await lengthen_tier(infra)
    store = ObjectStore.from_settings(infra.settings())
    bus = await EventBus.connect(infra.settings(), name="deletion-test", connect_attempts=3)
    try:
        # A bystander's completed job: what the events of a run carry.
        other = await register(stack)
        other_md = bearer(other.access_token)
        done_id = await create(stack, other_md, "small")
        statuses = await wait_terminal(stack.addr("jobs"), other_md, [done_id], within=180)
        assert statuses[done_id] == "JOB_STATUS_COMPLETED", f"{statuses}\n{stack.tails()}"

        # The account to delete, with a job mid-run (a checkpoint is in the bucket).
        user = await register(stack)
        md = bearer(user.access_token)
        job_id = await create(stack, md, LONG_TIER)
        await wait_for_checkpoint(store, job_id)
        async with insecure_channel(stack.addr("jobs")) as ch:
            running = await jobs_stub(ch).GetJob(
                jobs_pb2.GetJobRequest(job_id=job_id), metadata=md, timeout=15
            )
        assert jobs_pb2.JobStatus.Name(running.job.status) == "JOB_STATUS_RUNNING"
        assert await stream_messages(bus, subjects.RUNNER, f"runner.*.{job_id}")

        async with insecure_channel(stack.addr("auth")) as ch:
            await auth_stub(ch).DeleteAccount(
                auth_pb2.DeleteAccountRequest(password=PASSWORD), metadata=md, timeout=15
            )

        # The runner was told to stop: it reports the run failed (cancelled).
        async with asyncio.timeout(120):
            while True:
                failed = await stream_messages(bus, subjects.RUNNER, f"runner.failed.{job_id}")
                if failed or await job_rows(infra, job_id) == 0:
                    break
                await asyncio.sleep(0.2)

        # Then: no object under the job's prefix, no message of the job in the streams, no row.
        deadline = time.monotonic() + 120
        while True:
            keys = await store.list_keys(f"sim-data/{job_id}/")
            runner_left = await stream_messages(bus, subjects.RUNNER, f"runner.*.{job_id}")
            reporter_left = await stream_messages(bus, subjects.REPORTER, f"reporter.*.{job_id}")
            rows = await job_rows(infra, job_id)
            if not keys and not runner_left and not reporter_left and rows == 0:
                break
            assert time.monotonic() < deadline, (
                keys,
                len(runner_left),
                len(reporter_left),
                rows,
                stack.tails(),
            )
            await asyncio.sleep(0.5)
        # It stays that way: a straggling upload is swept again.
        await asyncio.sleep(3.0)
        assert await store.list_keys(f"sim-data/{job_id}/") == []
        assert await job_rows(infra, job_id) == 0

        # The bystander's job is untouched, and its events carry no goal and no chat text.
        assert await store.list_keys(f"sim-data/{done_id}/")
        chat = json.loads(await store.get_bytes(f"sim-data/{done_id}/chat_log.json"))
        texts = [str(e.get("text") or e.get("content") or "") for e in chat.get("entries", [])]
        texts = [t for t in texts if len(t) >= 30]
        assert texts, "the heuristic run wrote no chat text to compare against"
        [completed_msg] = await stream_messages(bus, subjects.RUNNER, f"runner.completed.{done_id}")
        completed = events_pb2.RunnerCompleted.FromString(completed_msg.data)
        assert completed.goal == "" and completed.result_chat_log == ""
        for msg in await stream_messages(bus, subjects.RUNNER, f"runner.*.{done_id}"):
            body = msg.data.decode("utf-8", "replace")
            assert not any(text in body for text in texts), f"chat text on {msg.subject}"
        # ... and the job row still got its chat log (read from object storage).
        async with insecure_channel(stack.addr("jobs")) as ch:
            full = await jobs_stub(ch).GetJob(
                jobs_pb2.GetJobRequest(job_id=done_id), metadata=other_md, timeout=15
            )
        assert "entries" in json.loads(full.job.result_chat_log)
    finally:
        await bus.close()
