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
    env = {
        **os.environ,
        "SWARMCAST_DATABASE_URL": database_url,
        "SWARMCAST_NATS_URL": nats_url,
        "SWARMCAST_NATS_PREFIX": nats_prefix,
        "SWARMCAST_S3_ENDPOINT": s3_endpoint,
        "SWARMCAST_S3_BUCKET": object_store.bucket,
        "SWARMCAST_AUTH_ADDR": auth_addr,
        "SWARMCAST_JOBS_ADDR": jobs_addr,
        "SWARMCAST_TOKEN_ISSUER": ISSUER,
        "SWARMCAST_TOKEN_AUDIENCE": AUDIENCE,
        "SWARMCAST_LOG_FORMAT": "text",
    }
    proc = ManagedProcess("jobs", [sys.executable, "-m", "services.jobs"], tmp_path / "jobs.log", env).start()
    try:
        # Raises (with the log's tail) if the process exits or is not SERVING within 30 s.
        await asyncio.to_thread(proc.wait_ready, grpc_probe(jobs_addr, service=SERVICE_NAME), 30.0)
        async with grpc.aio.insecure_channel(jobs_addr) as channel:
            stub = jobs_pb2_grpc.JobsServiceStub(channel)
            md = (("authorization", f"Bearer {keys.token(5)}"),)
            request = jobs_pb2.CreateJobRequest(seed_text=SEED, goal=GOAL, tier="small")
            job = (await stub.CreateJob(request, metadata=md)).job
            # No manual flush: the process's relay publishes right after the commit.
            dispatch = await dispatch_reader.take(wait=5.0)
            assert dispatch.job_id == job.id and dispatch.run_id == job.workflow_run_id

            watch = stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=job.id), metadata=md)
            assert (await asyncio.wait_for(watch.read(), 5)).job.status == jobs_pb2.JOB_STATUS_PENDING
            event = progress(job.id, job.workflow_run_id, 1, 1)
            await event_bus.publish(subjects.runner_progress(job.id), event, msg_id="process-p1")
            update = (await asyncio.wait_for(watch.read(), 5)).job
            assert update.status == jobs_pb2.JOB_STATUS_RUNNING and update.pipeline_stage == 1
            watch.cancel()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        await asyncio.to_thread(proc.stop, 5.0, signal.SIGKILL)  # only if still running
        output = proc.log_path.read_text(errors="replace")
        assert "Traceback" not in output, output[-4000:]
