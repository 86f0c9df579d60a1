"""`python -m services.jobs` as a real process: starts, serves, runs its loops, stops on SIGTERM.

Auth is stood in for by a gRPC server that answers only GetSigningKeys with the test key.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from swarmcast.auth.v1 import auth_pb2, auth_pb2_grpc
from swarmcast.jobs.v1 import jobs_pb2, jobs_pb2_grpc

from services.cli.processes import ManagedProcess, free_address, grpc_probe
from services.common import subjects
from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.jobs.tests.jobs_helpers import AUDIENCE, GOAL, ISSUER, SEED, SERVICE_NAME, SigningKeys, progress

pytestmark = pytest.mark.asyncio(loop_scope="session")


class KeysOnlyAuth(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, keys: SigningKeys) -> None:
        self.keys = keys

    async def GetSigningKeys(
        self, request: auth_pb2.GetSigningKeysRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.GetSigningKeysResponse:
        return await self.keys.fetch()


@pytest_asyncio.fixture
async def fake_auth() -> AsyncIterator[tuple[str, SigningKeys]]:
    keys = SigningKeys()
    server = grpc.aio.server()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(KeysOnlyAuth(keys), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", keys
    await server.stop(0)


def process_env(
    database_url: str,
    nats_url: str,
    nats_prefix: str,
    s3_endpoint: str,
    bucket: str,
    auth_addr: str,
    jobs_addr: str,
    **extra: str,
) -> dict[str, str]:
    return {
        **os.environ,
        "SWARMCAST_DATABASE_URL": database_url,
        "SWARMCAST_NATS_URL": nats_url,
        "SWARMCAST_NATS_PREFIX": nats_prefix,
        "SWARMCAST_S3_ENDPOINT": s3_endpoint,
        "SWARMCAST_S3_BUCKET": bucket,
        "SWARMCAST_AUTH_ADDR": auth_addr,
        "SWARMCAST_JOBS_ADDR": jobs_addr,
        "SWARMCAST_TOKEN_ISSUER": ISSUER,
        "SWARMCAST_TOKEN_AUDIENCE": AUDIENCE,
        "SWARMCAST_LOG_FORMAT": "text",
        **extra,
    }


async def create_dispatch_and_watch(
    jobs_addr: str, keys: SigningKeys, dispatch_reader: Any, event_bus: EventBus, label: str, user: int = 5
) -> None:
    """A job is created and dispatched at once, and its watcher sees a runner's progress."""
    async with grpc.aio.insecure_channel(jobs_addr) as channel:
        stub = jobs_pb2_grpc.JobsServiceStub(channel)
        md = (("authorization", f"Bearer {keys.token(user)}"),)
        request = jobs_pb2.CreateJobRequest(seed_text=f"{label}\n\n{SEED}", goal=GOAL, tier="small")
        job = (await stub.CreateJob(request, metadata=md)).job
        # No manual flush: the process's relay publishes right after the commit.
        dispatch = await dispatch_reader.take(wait=5.0)
        assert dispatch.job_id == job.id and dispatch.run_id == job.workflow_run_id

        watch = stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=job.id), metadata=md)
        assert (await asyncio.wait_for(watch.read(), 5)).job.status == jobs_pb2.JOB_STATUS_PENDING
        event = progress(job.id, job.workflow_run_id, 1, 1)
        await event_bus.publish(subjects.runner_progress(job.id), event, msg_id=f"process-{label}-p1")
        update = (await asyncio.wait_for(watch.read(), 5)).job
        assert update.status == jobs_pb2.JOB_STATUS_RUNNING and update.pipeline_stage == 1
        watch.cancel()


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_the_process_serves_dispatches_watches_and_stops_cleanly(
    database_url: str,
    nats_url: str,
    nats_prefix: str,
    s3_endpoint: str,
    jobs_db: Any,
    object_store: ObjectStore,
    event_bus: EventBus,
    dispatch_reader: Any,
    fake_auth: tuple[str, SigningKeys],
    tmp_path: Path,
) -> None:
    auth_addr, keys = fake_auth
    jobs_addr = free_address()
    env = process_env(
        database_url, nats_url, nats_prefix, s3_endpoint, object_store.bucket, auth_addr, jobs_addr
    )
    proc = ManagedProcess("jobs", [sys.executable, "-m", "services.jobs"], tmp_path / "jobs.log", env).start()
    try:
        # Raises (with the log's tail) if the process exits or is not SERVING within 30 s.
        await asyncio.to_thread(proc.wait_ready, grpc_probe(jobs_addr, service=SERVICE_NAME), 30.0)
        await create_dispatch_and_watch(jobs_addr, keys, dispatch_reader, event_bus, "single")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        await asyncio.to_thread(proc.stop, 5.0, signal.SIGKILL)  # only if still running
        output = proc.log_path.read_text(errors="replace")
        assert "Traceback" not in output, output[-4000:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes use SO_REUSEPORT")
async def test_worker_processes_share_the_port_and_stop_with_their_parent(
    database_url: str,
    nats_url: str,
    nats_prefix: str,
    s3_endpoint: str,
    jobs_db: Any,
    object_store: ObjectStore,
    event_bus: EventBus,
    dispatch_reader: Any,
    fake_auth: tuple[str, SigningKeys],
    tmp_path: Path,
) -> None:
    auth_addr, keys = fake_auth
    jobs_addr = free_address()
    env = process_env(
        database_url,
        nats_url,
        nats_prefix,
        s3_endpoint,
        object_store.bucket,
        auth_addr,
        jobs_addr,
        SWARMCAST_JOBS_WORKERS="2",
    )
    command = [sys.executable, "-m", "services.jobs"]
    first = ManagedProcess("jobs", command, tmp_path / "jobs.log", env).start()
    second = ManagedProcess("jobs-again", command, tmp_path / "jobs-again.log", env)
    again = ManagedProcess("jobs", command, tmp_path / "jobs-3.log", env)
    try:
        await asyncio.to_thread(first.wait_ready, grpc_probe(jobs_addr, service=SERVICE_NAME), 30.0)
        assert first.pid is not None
        workers = children_of(first.pid)
        assert len(workers) == 2
        # Fresh connections land on either worker; each serves the whole API, and a watcher sees
        # progress whichever worker's consumer applied it.
        for n in range(4):  # one user each: a user's third job would wait for an in-flight slot
            await create_dispatch_and_watch(
                jobs_addr, keys, dispatch_reader, event_bus, f"worker-{n}", 10 + n
            )
        # A second set on the same port is refused, as a second lone server would be.
        second.start()
        assert await asyncio.to_thread(second.wait, 30) == 1
        first.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.wait, 30) == 0
        assert not any(alive(pid) for pid in workers)

        # A SIGKILLed parent takes its workers with it: nothing keeps serving the port.
        again.start()
        await asyncio.to_thread(again.wait_ready, grpc_probe(jobs_addr, service=SERVICE_NAME), 30.0)
        assert again.pid is not None
        workers = children_of(again.pid)
        again.send_signal(signal.SIGKILL)
        for _ in range(100):
            if not any(alive(pid) for pid in workers):
                break
            await asyncio.sleep(0.1)
        assert not any(alive(pid) for pid in workers)
    finally:
        for proc in (first, second, again):
            await asyncio.to_thread(proc.stop, 5.0, signal.SIGKILL)  # only if still running
        output = first.log_path.read_text(errors="replace")
        assert "Traceback" not in output, output[-4000:]
