"""Scale-out on the local stack: two runners and two jobs replicas share the work (docs/architecture.md §3).

Real processes, started here like `make up` starts them (`python -m services.<name>`), against the
session's test database, this test's NATS prefix and S3 bucket, on free loopback ports (never the
default ports a dev stack may hold): auth, jobs twice, gpu_runner twice (heuristic backend) and
the reporter. 20 jobs are submitted through both jobs replicas; all must complete, each run
exactly once (one dispatch attempt, one runner's progress, one runner.completed), and both
runners must have taken some. A second, smaller stack runs every process with mutual TLS
(SWARMCAST_TLS_*): jobs complete over it and a plaintext client is refused.
Every process started here is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from swarmcast.auth.v1 import auth_pb2
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import evidence_seed, stack_env
from services.cli import devcerts
from services.cli.processes import ManagedProcess, ProcessGroup, ProcessNotReady, free_address
from services.common import subjects
from services.common.bus import EventBus
from services.common.clients import auth_stub, bearer, channel, insecure_channel, jobs_stub
from services.common.config import Settings
from services.common.storage import ObjectStore
from tests.fixtures.settings import settings_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

JOBS = 20
RUNNERS = ("runner-a", "runner-b")
COMPLETE_WITHIN_S = 120.0


@dataclass
class ScaleStack(ProcessGroup):
    """The processes of this test and how to reach them (`client_settings`: TLS when they use it)."""

    client_settings: Settings = field(default_factory=settings_for)
    # The CA the processes trust (mutual TLS), or empty.
    ca_pem: bytes = b""
    # Extra environment for one process, by name (its own certificate).
    env_for: Callable[[str], dict[str, str]] = lambda _name: {}

    def channel(self, addr: str) -> grpc.aio.Channel:
        return channel(addr, self.client_settings)

    def start(self, name: str, module: str, addr: str, **extra_env: str) -> ManagedProcess:
        return self.start_module(name, module, addr, **{**self.env_for(name), **extra_env})


@pytest.fixture
def scale_env(
    database_url: str,
    nats_url: str,
    nats_prefix: str,
    s3_endpoint: str,
    object_store: ObjectStore,
    tmp_path: Path,
) -> dict[str, str]:
    # A private stack's environment (bench/harness.py): free addresses every process dials (each
    # server overrides its own below), the heuristic backend.
    env = stack_env(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        s3_endpoint=s3_endpoint,
        bucket=object_store.bucket,
        run_dir=tmp_path / "run",
    )
    return {**env, "SWARMCAST_LOG_FORMAT": "text"}


async def launch(stack: ScaleStack, *, jobs_replicas: int, runners: tuple[str, ...]) -> None:
    """auth, the reporter, `jobs_replicas` jobs and one gpu_runner per name; returns once all serve."""
    env = stack.env
    stack.start("auth", "services.auth", env["SWARMCAST_AUTH_ADDR"])
    stack.start("reporter", "services.reporter", env["SWARMCAST_REPORTER_ADDR"])
    for i in range(1, jobs_replicas + 1):
        addr = env["SWARMCAST_JOBS_ADDR"] if i == 1 else free_address()
        stack.start(f"jobs-{i}", "services.jobs", addr, SWARMCAST_JOBS_ADDR=addr)
    for i, instance in enumerate(runners):
        addr = env["SWARMCAST_RUNNER_ADDR"] if i == 0 else free_address()
        stack.start(
            instance,
            "services.gpu_runner",
            addr,
            SWARMCAST_RUNNER_ADDR=addr,
            SWARMCAST_RUNNER_INSTANCE_ID=instance,
            SWARMCAST_RUNNER_TIERS="small",
            SWARMCAST_RUNNER_CONCURRENCY="1",
        )
    try:
        await stack.wait_serving(*stack.procs)
    except ProcessNotReady as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest_asyncio.fixture
async def scale_stack(scale_env: dict[str, str], tmp_path: Path) -> AsyncIterator[ScaleStack]:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    stack = ScaleStack(scale_env, log_dir)
    try:
        await launch(stack, jobs_replicas=2, runners=RUNNERS)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop_all)


@pytest_asyncio.fixture
async def tls_stack(scale_env: dict[str, str], tmp_path: Path) -> AsyncIterator[ScaleStack]:
    """One of each process, every one with its own certificate from one CA (mutual TLS)."""
    ca = devcerts.make_ca("scale-out test CA")
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    certs = tmp_path / "certs"
    for name in ("auth", "jobs-1", "runner-tls", "reporter", "client"):
        devcerts.write_service(certs, ca, name, [name, "localhost"], days=1)
    env = {**scale_env, "SWARMCAST_TLS_CA": str(tmp_path / "ca.crt")}
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    client = certs / "client"
    stack = ScaleStack(
        env,
        log_dir,
        client_settings=settings_for(
            tls_cert=client / "tls.crt", tls_key=client / "tls.key", tls_ca=client / "ca.crt"
        ),
        ca_pem=ca.cert_pem,
        env_for=lambda name: {
            "SWARMCAST_TLS_CERT": str(certs / name / "tls.crt"),
            "SWARMCAST_TLS_KEY": str(certs / name / "tls.key"),
        },
    )
    try:
        await launch(stack, jobs_replicas=1, runners=("runner-tls",))
        yield stack
    finally:
        await asyncio.to_thread(stack.stop_all)


RunnerEvent = events_pb2.RunnerProgress | events_pb2.RunnerCompleted


async def runner_events(bus: EventBus) -> list[tuple[str, RunnerEvent]]:
    """Every runner.progress / runner.completed event stored for this prefix, in stream order."""
    stream = bus.stream_name(subjects.RUNNER.name)
    info = await bus.js.stream_info(stream)
    total = info.state.messages
    sub = await bus.js.pull_subscribe(
        bus.subject("runner.>"),
        stream=stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
    )
    events: list[tuple[str, RunnerEvent]] = []
    try:
        seen = 0
        while seen < total:
            for msg in await sub.fetch(min(256, total - seen), timeout=5):
                seen += 1
                subject = bus.logical_subject(msg.subject)
                if subject.startswith("runner.progress."):
                    events.append((subject, events_pb2.RunnerProgress.FromString(msg.data)))
                elif subject.startswith("runner.completed."):
                    events.append((subject, events_pb2.RunnerCompleted.FromString(msg.data)))
    finally:
        await sub.unsubscribe()
    return events


def _jobs_addrs(stack: ScaleStack) -> list[str]:
    return [p.address for p in stack.procs.values() if p.name.startswith("jobs-")]


async def register(stack: ScaleStack) -> tuple[tuple[str, str], ...]:
    """Signs a new user up through auth; their bearer metadata."""
    async with stack.channel(stack.env["SWARMCAST_AUTH_ADDR"]) as ch:
        registered = await auth_stub(ch).Register(
            auth_pb2.RegisterRequest(
                email=f"scale-{secrets.token_hex(4)}@example.test", password="a long passphrase 42"
            ),
            timeout=15,
        )
    return bearer(registered.access_token)


async def submit(stubs: list[Any], md: tuple[tuple[str, str], ...], count: int) -> list[int]:
    """`count` small jobs, spread over `stubs` in turn; their ids."""
    created = await asyncio.gather(
        *(
            stubs[i % len(stubs)].CreateJob(
                jobs_pb2.CreateJobRequest(
                    seed_text=evidence_seed(f"Scale-out seed {i}: week {i + 1} of the harbour strike."),
                    goal="Will the strike end by June?",
                    tier="small",
                    enrich_web=False,
                ),
                metadata=md,
                timeout=15,
            )
            for i in range(count)
        )
    )
    job_ids = [r.job.id for r in created]
    assert len(set(job_ids)) == count
    return job_ids


async def wait_finished(
    stack: ScaleStack, stubs: list[Any], md: tuple[tuple[str, str], ...], job_ids: list[int]
) -> dict[int, str]:
    """Polls GetJob (through each stub in turn) until every job is terminal; their statuses."""
    deadline = time.monotonic() + COMPLETE_WITHIN_S
    poll = 0
    while True:
        stub = stubs[poll % len(stubs)]
        poll += 1
        answers = await asyncio.gather(
            *(stub.GetJob(jobs_pb2.GetJobRequest(job_id=j), metadata=md, timeout=10) for j in job_ids)
        )
        statuses = {r.job.id: jobs_pb2.JobStatus.Name(r.job.status) for r in answers}
        if all(s.endswith(("COMPLETED", "FAILED", "REFUNDED")) for s in statuses.values()):
            return statuses
        if time.monotonic() > deadline:
            stuck = {j: s for j, s in statuses.items() if not s.endswith("COMPLETED")}
            pytest.fail(
                f"not all jobs finished within {COMPLETE_WITHIN_S:.0f}s: {Counter(statuses.values())}; "
                f"unfinished: {stuck}\n{stack.tails()}",
                pytrace=False,
            )
        await asyncio.sleep(1.0)


async def test_two_runners_and_two_jobs_replicas_share_twenty_jobs(
    scale_stack: ScaleStack, event_bus: EventBus, db_engine: AsyncEngine
) -> None:
    jobs_addrs = _jobs_addrs(scale_stack)
    assert len(jobs_addrs) == 2 and jobs_addrs[0] != jobs_addrs[1]
    md = await register(scale_stack)
    channels = [scale_stack.channel(addr) for addr in jobs_addrs]
    try:
        stubs = [jobs_stub(ch) for ch in channels]
        # Half the submissions through each jobs replica; progress read through both in turn.
        job_ids = await submit(stubs, md, JOBS)
        statuses = await wait_finished(scale_stack, stubs, md, job_ids)
        assert all(s.endswith("COMPLETED") for s in statuses.values()), (
            f"{Counter(statuses.values())}\n{scale_stack.tails()}"
        )
    finally:
        for ch in channels:
            await ch.close()

    # Exactly once, from the database: one dispatch attempt per job, no retry, one runner.
    async with db_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT j.id, j.pod_id, j.retry_count, count(r.run_id) AS runs"
                    " FROM jobs.simulation_jobs j LEFT JOIN jobs.job_runs r ON r.job_id = j.id"
                    " WHERE j.id = ANY(:ids) GROUP BY j.id"
                ),
                {"ids": job_ids},
            )
        ).all()
    assert len(rows) == JOBS
    assert all(row.runs == 1 and row.retry_count == 0 for row in rows), rows
    by_runner = Counter(row.pod_id for row in rows)
    assert set(by_runner) <= set(RUNNERS), by_runner
    assert all(by_runner[r] > 0 for r in RUNNERS), f"one runner took everything: {by_runner}"

    # Exactly once, from the event stream: each job's events come from one runner and one run, and
    # it completed once.
    pods: dict[int, set[str]] = defaultdict(set)
    runs: dict[int, set[str]] = defaultdict(set)
    completed: Counter[int] = Counter()
    for subject, event in await runner_events(event_bus):
        pods[event.job_id].add(event.pod_id)
        runs[event.job_id].add(event.run_id)
        if subject.startswith("runner.completed."):
            completed[event.job_id] += 1
    for job_id in job_ids:
        assert len(pods[job_id]) == 1, (job_id, pods[job_id])
        assert len(runs[job_id]) == 1, (job_id, runs[job_id])
        assert completed[job_id] == 1, (job_id, completed[job_id])
    assert {next(iter(pods[j])) for j in job_ids} == set(RUNNERS)

    # Nothing left in the work queue: every dispatch was taken and acknowledged.
    queue = await event_bus.js.stream_info(event_bus.stream_name(subjects.JOBS_DISPATCH.name))
    assert queue.state.messages == 0


async def test_the_services_run_with_mutual_tls(tls_stack: ScaleStack, event_bus: EventBus) -> None:
    md = await register(tls_stack)
    (jobs_addr,) = _jobs_addrs(tls_stack)
    async with tls_stack.channel(jobs_addr) as ch:
        stubs = [jobs_stub(ch)]
        job_ids = await submit(stubs, md, 3)
        statuses = await wait_finished(tls_stack, stubs, md, job_ids)
    assert all(s.endswith("COMPLETED") for s in statuses.values()), f"{statuses}\n{tls_stack.tails()}"
    # The same call in plaintext, or over TLS without a client certificate, is refused.
    async with insecure_channel(jobs_addr) as plain:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await jobs_stub(plain).GetJob(jobs_pb2.GetJobRequest(job_id=job_ids[0]), metadata=md, timeout=5)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    ca_only = grpc.ssl_channel_credentials(root_certificates=tls_stack.ca_pem)
    async with grpc.aio.secure_channel(jobs_addr, ca_only) as no_cert:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await jobs_stub(no_cert).GetJob(jobs_pb2.GetJobRequest(job_id=job_ids[0]), metadata=md, timeout=5)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
