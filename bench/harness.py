"""A private swarmcast stack on free loopback ports, for the benchmarks and the chaos/security suites.

`Infra` owns what the processes need: a fresh migrated database (`swarmcast_test_bench_<hex>`,
dropped at the end), a NATS subject prefix (on the given server; streams deleted at the end) and
a moto_server on a free port with its own bucket. `PrivateStack` starts services exactly as
`make up` does (`python -m services.<name>`), each on a free port, logs under its own folder,
and stops every process it started by PID (services/cli/processes.py does the process handling).
Nothing here touches the default ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.cli.processes import ManagedProcess, ProcessGroup, free_port, free_ports, tcp_probe
from services.cli.stack import NATS_SERVER, isolated_env, settings_from_env, start_moto_server
from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub
from services.common.config import Settings

Metadata = tuple[tuple[str, str], ...]
PASSWORD = "a long bench passphrase 42"
TERMINAL = ("COMPLETED", "FAILED", "REFUNDED", "CANCELLED")
SERVICES = {
    "auth": ("services.auth", "SWARMCAST_AUTH_ADDR"),
    "jobs": ("services.jobs", "SWARMCAST_JOBS_ADDR"),
    "gpu_runner": ("services.gpu_runner", "SWARMCAST_RUNNER_ADDR"),
    "reporter": ("services.reporter", "SWARMCAST_REPORTER_ADDR"),
}


def run_async(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Runs a coroutine to completion on a fresh loop in a worker thread (safe inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


@dataclass(kw_only=True)
class RestartableServer:
    """A server on a port of its own that keeps it across `stop()`/`start()` (to simulate an outage)."""

    log: Path
    port: int = field(default_factory=free_port)
    process: ManagedProcess | None = None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            self.process.stop(10.0, sig=sig)
        self.process = None


@dataclass(kw_only=True)
class Moto(RestartableServer):
    """moto_server (the venv's) on a free port."""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = start_moto_server("127.0.0.1", self.port, self.log)


@dataclass(kw_only=True)
class PrivateNats(RestartableServer):
    """A nats-server with JetStream of our own (never the shared one on 4222)."""

    store_dir: Path

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        self.process = ManagedProcess("nats-server", command, self.log).start()
        self.process.wait_ready(tcp_probe("127.0.0.1", self.port), 15)


def stack_env(
    *, database_url: str, nats_url: str, nats_prefix: str, s3_endpoint: str, bucket: str, run_dir: Path
) -> dict[str, str]:
    """The environment of a private stack: free ports for every service, heuristic backend."""
    auth, jobs, runner, reporter = free_ports(4)
    return isolated_env(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        s3_endpoint=s3_endpoint,
        bucket=bucket,
        run_dir=run_dir,
        SWARMCAST_DATABASE_POOL_SIZE="5",
        SWARMCAST_BCRYPT_ROUNDS="4",
        SWARMCAST_AUTH_REGISTER_LIMIT="0",
        SWARMCAST_AUTH_LOGIN_LIMIT="0",
        SWARMCAST_AUTH_ADDR=f"127.0.0.1:{auth}",
        SWARMCAST_JOBS_ADDR=f"127.0.0.1:{jobs}",
        SWARMCAST_RUNNER_ADDR=f"127.0.0.1:{runner}",
        SWARMCAST_REPORTER_ADDR=f"127.0.0.1:{reporter}",
    )


@dataclass
class PrivateStack(ProcessGroup):
    """Service processes of one private stack; every one is stopped by its PID."""

    def addr(self, name: str) -> str:
        return self.env[SERVICES[name][1]]

    def start(self, name: str, **extra_env: str) -> ManagedProcess:
        """Starts service `name` (a key of SERVICES); a previous process of that name must be gone."""
        module, _ = SERVICES[name]
        return self.start_module(name, module, self.addr(name), **extra_env)

    async def launch(self, *names: str, **extra_env: str) -> None:
        for name in names:
            self.start(name, **extra_env)
        await self.wait_serving(*names)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        self.procs[name].stop(sig=sig)

    # --- clients
    async def register(self, email: str | None = None, password: str = PASSWORD) -> Metadata:
        """Signs a new user up through auth; their bearer metadata."""
        email = email or f"bench-{secrets.token_hex(4)}@example.test"
        async with insecure_channel(self.addr("auth")) as ch:
            registered = await auth_stub(ch).Register(
                auth_pb2.RegisterRequest(email=email, password=password), timeout=15
            )
        return bearer(registered.access_token)


# The jobs service refuses a seed under 30 words: a distinct `label` plus this much evidence makes a
# seed it takes (and the duplicate guard tells apart).
EVIDENCE = (
    "The harbour workers' union has been on strike for three weeks over pay and night shifts. The port "
    "authority has offered a four percent raise; the union's leader called it an insult, while two of the "
    "three shipping firms urged the government to appoint a mediator. Members vote on the next offer in May."
)


def evidence_seed(label: str) -> str:
    return f"{label}\n\n{EVIDENCE}"


def create_request(seed: str, *, tier: str = "small") -> jobs_pb2.CreateJobRequest:
    return jobs_pb2.CreateJobRequest(
        seed_text=seed, goal="Will the harbour strike end by June?", tier=tier, enrich_web=False
    )


async def wait_terminal(
    addr: str, md: Metadata, job_ids: Sequence[int], within: float, poll: float = 0.5
) -> dict[int, str]:
    """Polls GetJob until every job is terminal (or `within` seconds); their status names."""
    deadline = time.monotonic() + within
    statuses: dict[int, str] = {}
    async with insecure_channel(addr) as ch:
        stub = jobs_stub(ch)
        while True:
            pending = [j for j in job_ids if not statuses.get(j, "").endswith(TERMINAL)]
            for start in range(0, len(pending), 50):
                batch = pending[start : start + 50]
                answers = await asyncio.gather(
                    *(stub.GetJob(jobs_pb2.GetJobRequest(job_id=j), metadata=md, timeout=20) for j in batch),
                    return_exceptions=True,
                )
                for j, answer in zip(batch, answers, strict=True):
                    if isinstance(answer, BaseException):
                        if not isinstance(answer, grpc.aio.AioRpcError):
                            raise answer
                        statuses[j] = f"UNREACHABLE({answer.code().name})"
                    else:
                        statuses[j] = jobs_pb2.JobStatus.Name(answer.job.status)
            if all(s.endswith(TERMINAL) for s in statuses.values()) and len(statuses) == len(job_ids):
                return statuses
            if time.monotonic() > deadline:
                return statuses
            # Many pending jobs: poll less often, so the polling doesn't starve the service it waits on.
            await asyncio.sleep(max(poll, len(pending) / 50))


class Infra:
    """A migrated database, a NATS prefix and a private moto_server for one private stack."""

    def __init__(self, work_dir: Path, *, nats_url: str | None = None) -> None:
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.nats_url = nats_url or os.environ.get("SWARMCAST_NATS_URL", "nats://127.0.0.1:4222")
        self.nats_prefix = f"bench{secrets.token_hex(4)}"
        self.bucket = f"bench-{secrets.token_hex(4)}"
        self.moto = Moto(log=work_dir / "moto.log")
        self.database_url = ""

    def __enter__(self) -> Infra:
        from tests.fixtures.db import create_test_database, migrate

        self.database_url = create_test_database("swarmcast_test_bench_")
        try:
            migrate(self.database_url)
            self.moto.start()
            run_async(self._ensure_bucket)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def env(self, run_dir: Path | None = None) -> dict[str, str]:
        return stack_env(
            database_url=self.database_url,
            nats_url=self.nats_url,
            nats_prefix=self.nats_prefix,
            s3_endpoint=self.moto.endpoint,
            bucket=self.bucket,
            run_dir=run_dir or self.work_dir / "run",
        )

    def settings(self) -> Settings:
        return settings_from_env(self.env())

    async def _ensure_bucket(self) -> None:
        from services.common.storage import ObjectStore

        await ObjectStore.from_settings(self.settings()).ensure_bucket()

    async def _delete_streams(self) -> None:
        from services.common.bus import EventBus

        bus = await EventBus.connect(self.settings(), name="bench-teardown", connect_attempts=3)
        try:
            await bus.delete_streams()
        finally:
            await bus.close()

    def __exit__(self, *exc: Any) -> None:
        from tests.fixtures.db import drop_test_database

        with contextlib.suppress(Exception):
            run_async(self._delete_streams)
        self.moto.stop()
        if self.database_url:
            drop_test_database(self.database_url)


def print_figures(run_all: Callable[[Infra, Path], Coroutine[Any, Any, dict[str, Any]]], prefix: str) -> None:
    """Run a benchmark's ``run_all(infra, work_dir)`` on fresh private infrastructure and print its
    figures as the last stdout line (what `bench.run` merges into latest.json)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work = Path(tmp)
        with Infra(work) as infra:
            figures = asyncio.run(run_all(infra, work))
    sys.stdout.write(json.dumps(figures) + "\n")
