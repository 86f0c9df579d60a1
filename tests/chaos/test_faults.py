"""Fault suite (docs/performance.md, reliability): load, process kills, NATS and PostgreSQL outages.

Every test runs its own private stack (bench/harness.py): a fresh migrated database, a NATS
prefix (or a private nats-server where NATS itself is restarted), a private moto_server, and the
services as real processes (`python -m services.<name>`) on free loopback ports, heuristic
backend. Only processes started here are signalled, always by PID. No timing assertions: each
wait has a generous deadline that only guards against a hang.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import (
    Infra,
    Metadata,
    PrivateNats,
    PrivateStack,
    create_request,
    evidence_seed,
    wait_terminal,
)
from services.common import subjects
from services.common.bus import EventBus
from services.common.clients import insecure_channel, jobs_stub
from tests.fixtures.db import asyncpg_dsn

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(420)]

# Fast failure detection for the runner so a killed one's job moves on within seconds.
RUNNER_ENV = {
    "SWARMCAST_RUNNER_ACK_WAIT_SECONDS": "3",
    "SWARMCAST_RUNNER_HEARTBEAT_SECONDS": "1",
    "SWARMCAST_RUNNER_PROGRESS_INTERVAL_SECONDS": "0.1",
    "SWARMCAST_RUNNER_SHUTDOWN_GRACE_SECONDS": "1",
}
LONG_TIER = "large"  # made long (agents x rounds) in the private database by `lengthen_tier`


@pytest.fixture
def infra(tmp_path: Path) -> Any:
    with Infra(tmp_path / "infra") as value:
        yield value


@pytest_asyncio.fixture
async def private_stack(infra: Infra, tmp_path: Path) -> AsyncIterator[PrivateStack]:
    stack = PrivateStack(infra.env(tmp_path / "run"), tmp_path / "logs")
    try:
        yield stack
    finally:
        await asyncio.to_thread(stack.stop_all)


async def lengthen_tier(infra: Infra, *, agents: int = 400, rounds: int = 80) -> None:
    """Makes LONG_TIER's heuristic run last several seconds, so it can be interrupted mid-run."""
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        await conn.execute(
            "UPDATE jobs.model_routing SET target_agents = $1, max_rounds = $2 WHERE sim_tier = $3",
            agents,
            rounds,
            LONG_TIER,
        )
    finally:
        await conn.close()


async def job(stack: PrivateStack, md: Metadata, job_id: int) -> jobs_pb2.Job:
    async with insecure_channel(stack.addr("jobs")) as ch:
        return (
            await jobs_stub(ch).GetJob(jobs_pb2.GetJobRequest(job_id=job_id), metadata=md, timeout=20)
        ).job


async def wait_round(
    stack: PrivateStack, md: Metadata, job_id: int, at_least: int, within: float = 120
) -> None:
    """Until the job reports simulating round >= `at_least` (GetJob polled)."""
    async with asyncio.timeout(within):
        while True:
            current = await job(stack, md, job_id)
            status = jobs_pb2.JobStatus.Name(current.status)
            assert not status.endswith(("COMPLETED", "FAILED", "REFUNDED")), (
                f"{status} before round {at_least}"
            )
            if current.pipeline_stage == 3 and int(current.live_status["round"] or 0) >= at_least:
                return
            await asyncio.sleep(0.1)


async def submit(stack: PrivateStack, md: Metadata, count: int, tier: str = "small") -> list[int]:
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        created = await asyncio.gather(
            *(
                stub.CreateJob(
                    create_request(evidence_seed(f"Chaos seed {i}: week {i + 1} of the strike."), tier=tier),
                    metadata=md,
                    timeout=60,
                )
                for i in range(count)
            )
        )
    ids = [r.job.id for r in created]
    assert len(set(ids)) == count
    return ids


async def assert_all_completed(stack: PrivateStack, md: Metadata, ids: list[int], within: float) -> None:
    statuses = await wait_terminal(stack.addr("jobs"), md, ids, within=within)
    counts = Counter(statuses.values())
    assert counts == Counter({"JOB_STATUS_COMPLETED": len(ids)}), f"{counts}\n{stack.tails()}"
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        for job_id in ids:
            done = (await stub.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), metadata=md, timeout=20)).job
            assert done.sim_data_available and done.result_report, job_id


async def completions(infra: Infra) -> tuple[Counter[int], Counter[int]]:
    """runner.completed and reporter.completed events per job id, from the streams."""
    bus = await EventBus.connect(infra.settings(), name="chaos-count", connect_attempts=5)
    counts: dict[str, Counter[int]] = {"runner.completed.": Counter(), "reporter.completed.": Counter()}
    try:
        for stream_def in (subjects.RUNNER, subjects.REPORTER):
            stream = bus.stream_name(stream_def.name)
            total = (await bus.js.stream_info(stream)).state.messages
            sub = await bus.js.pull_subscribe(
                bus.subject(stream_def.subjects[0]),
                stream=stream,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
            )
            seen = 0
            try:
                while seen < total:
                    for msg in await sub.fetch(min(256, total - seen), timeout=10):
                        seen += 1
                        logical = bus.logical_subject(msg.subject)
                        for prefix, counter in counts.items():
                            if logical.startswith(prefix):
                                counter[int(logical.rsplit(".", 1)[1])] += 1
            finally:
                await sub.unsubscribe()
    finally:
        await bus.close()
    return counts["runner.completed."], counts["reporter.completed."]


async def run_counts(infra: Infra, ids: list[int]) -> dict[int, tuple[int, int]]:
    """(number of runs, retry_count) per job, from the database."""
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        rows = await conn.fetch(
            "SELECT j.id, j.retry_count, count(r.run_id) AS runs FROM jobs.simulation_jobs j"
            " LEFT JOIN jobs.job_runs r ON r.job_id = j.id WHERE j.id = ANY($1::bigint[]) GROUP BY j.id",
            ids,
        )
    finally:
        await conn.close()
    return {row["id"]: (row["runs"], row["retry_count"]) for row in rows}


async def test_200_concurrent_submissions_each_complete_exactly_once(
    infra: Infra, private_stack: PrivateStack
) -> None:
    stack = private_stack
    await stack.launch("auth", "jobs", "reporter")
    await stack.launch("gpu_runner", SWARMCAST_RUNNER_TIERS="small", SWARMCAST_RUNNER_CONCURRENCY="2")
    md = await stack.register()
    ids = await submit(stack, md, 200)
    await assert_all_completed(stack, md, ids, within=300)
    runner_done, reporter_done = await completions(infra)
    assert {j: runner_done[j] for j in ids} == dict.fromkeys(ids, 1)
    assert {j: reporter_done[j] for j in ids} == dict.fromkeys(ids, 1)
    assert set((await run_counts(infra, ids)).values()) == {(1, 0)}


async def test_a_sigkilled_runner_is_replaced_and_the_job_resumes(
    infra: Infra, private_stack: PrivateStack
) -> None:
    stack = private_stack
    await lengthen_tier(infra)
    await stack.launch("auth", "jobs", "reporter")
    await stack.launch("gpu_runner", SWARMCAST_RUNNER_INSTANCE_ID="runner-a", **RUNNER_ENV)
    md = await stack.register()
    [job_id] = await submit(stack, md, 1, tier=LONG_TIER)
    await wait_round(stack, md, job_id, 5)
    stack.kill("gpu_runner", signal.SIGKILL)
    await stack.launch("gpu_runner", SWARMCAST_RUNNER_INSTANCE_ID="runner-b", **RUNNER_ENV)
    await assert_all_completed(stack, md, [job_id], within=240)
    done = await job(stack, md, job_id)
    assert done.pod_id == "runner-b"
    # The same run went on (resumed from the checkpoint), not a retry with a new run.
    assert (await run_counts(infra, [job_id]))[job_id] == (1, 0)
    async with insecure_channel(stack.addr("jobs")) as ch:
        sim = await jobs_stub(ch).GetSimData(
            jobs_pb2.GetSimDataRequest(job_id=job_id), metadata=md, timeout=30
        )
    assert sim.ByteSize() > 0


async def test_a_sigkilled_jobs_service_loses_no_status_update(
    infra: Infra, private_stack: PrivateStack
) -> None:
    stack = private_stack
    await lengthen_tier(infra, agents=200, rounds=40)
    await stack.launch("auth", "jobs", "reporter")
    await stack.launch("gpu_runner", SWARMCAST_RUNNER_CONCURRENCY="2", **RUNNER_ENV)
    md = await stack.register()
    ids = await submit(stack, md, 6, tier=LONG_TIER)
    await wait_round(stack, md, ids[0], 3)  # events flowing: jobs running, others queued
    stack.kill("jobs", signal.SIGKILL)
    await asyncio.sleep(2.0)  # the runner and reporter keep publishing meanwhile
    await stack.launch("jobs")
    await assert_all_completed(stack, md, ids, within=240)
    assert set((await run_counts(infra, ids)).values()) == {(1, 0)}


@pytest.fixture
def private_nats(tmp_path: Path) -> Any:
    server = PrivateNats(store_dir=tmp_path / "nats", log=tmp_path / "nats.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_services_reconnect_after_nats_restarts_mid_run(
    private_nats: PrivateNats, tmp_path: Path
) -> None:
    with Infra(tmp_path / "infra", nats_url=private_nats.url) as infra:
        await lengthen_tier(infra, agents=300, rounds=60)
        stack = PrivateStack(infra.env(tmp_path / "run"), tmp_path / "logs")
        try:
            await stack.launch("auth", "jobs", "reporter")
            await stack.launch("gpu_runner", **RUNNER_ENV)
            md = await stack.register()
            [job_id] = await submit(stack, md, 1, tier=LONG_TIER)
            await wait_round(stack, md, job_id, 3)
            await asyncio.to_thread(private_nats.stop)
            await asyncio.sleep(2.0)
            await asyncio.to_thread(private_nats.start)  # same port, same JetStream store
            await assert_all_completed(stack, md, [job_id], within=240)
            # New work flows too once everything has reconnected.
            await assert_all_completed(stack, md, await submit(stack, md, 2), within=120)
            assert all(proc.alive() for proc in stack.procs.values()), stack.tails()
        finally:
            await asyncio.to_thread(stack.stop_all)


async def test_services_recover_when_database_connections_are_dropped(
    infra: Infra, private_stack: PrivateStack
) -> None:
    stack = private_stack
    await lengthen_tier(infra, agents=300, rounds=60)
    await stack.launch("auth", "jobs", "reporter")
    await stack.launch("gpu_runner", **RUNNER_ENV)
    md = await stack.register()
    [job_id] = await submit(stack, md, 1, tier=LONG_TIER)
    await wait_round(stack, md, job_id, 3)
    database = infra.database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        terminated = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()
    assert terminated > 0
    await assert_all_completed(stack, md, [job_id], within=240)
    # Auth and jobs serve fresh requests on new connections.
    md2 = await stack.register()
    await assert_all_completed(stack, md2, await submit(stack, md2, 2), within=120)
    assert all(proc.alive() for proc in stack.procs.values()), stack.tails()


class FlakyProxy:
    """A TCP proxy in front of the private moto_server that can drop every connection on demand."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.failing = False
        self.refused = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.fail()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def fail(self) -> None:
        self.failing = True
        for writer in list(self._writers):
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.failing:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.failing:
            self.refused += 1
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.difference_update((writer, up_writer))


async def test_s3_failing_transiently_mid_run_is_retried(infra: Infra, tmp_path: Path) -> None:
    proxy = FlakyProxy(infra.moto.port)
    await proxy.start()
    env = infra.env(tmp_path / "run")
    env["SWARMCAST_S3_ENDPOINT"] = f"http://127.0.0.1:{proxy.port}"
    stack = PrivateStack(env, tmp_path / "logs")
    try:
        await lengthen_tier(infra, agents=300, rounds=60)
        await stack.launch("auth", "jobs", "reporter")
        await stack.launch("gpu_runner", **RUNNER_ENV)
        md = await stack.register()
        [job_id] = await submit(stack, md, 1, tier=LONG_TIER)
        await wait_round(stack, md, job_id, 3)
        proxy.fail()  # checkpoint uploads fail from here
        await asyncio.sleep(3.0)
        proxy.failing = False
        await assert_all_completed(stack, md, [job_id], within=240)
        assert proxy.refused > 0, "no S3 request met the outage; make the window longer"
        assert (await run_counts(infra, [job_id]))[job_id] == (1, 0)
    finally:
        await asyncio.to_thread(stack.stop_all)
        await proxy.stop()
