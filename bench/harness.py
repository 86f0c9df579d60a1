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
from services.common.nats_auth import ADMIN_USER, Credentials, server_config

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
    """A nats-server with JetStream of our own (never the shared one on 4222).

    With `config` (e.g. `nats_auth.server_config`: per-service users, no anonymous access), that
    text is written next to the store and the server runs with it.
    """

    store_dir: Path
    config: str | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        if self.config is not None:
            conf = self.store_dir.parent / f"nats-{self.port}.conf"
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text(self.config, encoding="utf-8")
            conf.chmod(0o600)  # it holds the passwords
            command += ["-c", str(conf)]
        self.process = ManagedProcess("nats-server", command, self.log).start()
        self.process.wait_ready(tcp_probe("127.0.0.1", self.port), 15)


# The jobs service's fair-use limits (services/jobs/settings.py), all off.
FAIR_USE_OFF = {
    "SWARMCAST_JOBS_MAX_LIVE_PER_USER": "0",
    "SWARMCAST_JOBS_MAX_DRAFTS_PER_USER": "0",
    "SWARMCAST_JOBS_CREATE_LIMIT": "0",
    "SWARMCAST_JOBS_IN_FLIGHT_PER_USER": "0",
}


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
        # Shared by auth and the gateway of this stack (auth believes forwarded addresses only
        # with it); tests that play the gateway send it too.
        SWARMCAST_GATEWAY_FORWARD_SECRET=secrets.token_urlsafe(32),
        # Benchmarks and chaos runs submit hundreds of jobs as one user; tests/security/test_fair_use.py
        # sets the limits it tests on top.
        **FAIR_USE_OFF,
        SWARMCAST_AUTH_ADDR=f"127.0.0.1:{auth}",
        SWARMCAST_JOBS_ADDR=f"127.0.0.1:{jobs}",
        SWARMCAST_RUNNER_ADDR=f"127.0.0.1:{runner}",
        SWARMCAST_REPORTER_ADDR=f"127.0.0.1:{reporter}",
    )


@dataclass
class PrivateStack(ProcessGroup):
    """Service processes of one private stack; every one is stopped by its PID."""

    # NATS user -> password of each service (`Infra.nats_users`); None: the env's NATS identity.
    nats_users: dict[str, str] | None = None

    def addr(self, name: str) -> str:
        return self.env[SERVICES[name][1]]

    def start(self, name: str, **extra_env: str) -> ManagedProcess:
        """Starts service `name` (a key of SERVICES); a previous process of that name must be gone.

        With `nats_users` (an authenticated NATS, `Infra(authenticated_nats=True)`), the service
        connects as its own NATS user, with only its own permissions.
        """
        module, _ = SERVICES[name]
        if self.nats_users is not None and name in self.nats_users:
            extra_env = {
                "SWARMCAST_NATS_USER": name,
                "SWARMCAST_NATS_PASSWORD": self.nats_users[name],
                **extra_env,
            }
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

    def __init__(
        self, work_dir: Path, *, nats_url: str | None = None, authenticated_nats: bool = False
    ) -> None:
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.nats_url = nats_url or os.environ.get("SWARMCAST_NATS_URL", "nats://127.0.0.1:4222")
        self.nats_prefix = f"bench{secrets.token_hex(4)}"
        # authenticated_nats: a private nats-server refusing anonymous clients, one user per service
        # (services/common/nats_auth.py); env() connects as `admin`, PrivateStack as each service.
        self.nats_credentials = Credentials() if authenticated_nats else None
        self.nats: PrivateNats | None = None
        if self.nats_credentials is not None:
            self.nats = PrivateNats(
                log=work_dir / "nats.log",
                store_dir=work_dir / "nats-store",
                config=server_config(dict(self.nats_credentials.passwords), prefix=self.nats_prefix),
            )
            self.nats_url = self.nats.url
        self.bucket = f"bench-{secrets.token_hex(4)}"
        self.moto = Moto(log=work_dir / "moto.log")
        self.database_url = ""

    def __enter__(self) -> Infra:
        from tests.fixtures.db import create_test_database, migrate

        self.database_url = create_test_database("swarmcast_test_bench_")
        try:
            if self.nats is not None:
                self.nats.start()
            migrate(self.database_url)
            self.moto.start()
            run_async(self._ensure_bucket)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def env(self, run_dir: Path | None = None) -> dict[str, str]:
        env = stack_env(
            database_url=self.database_url,
            nats_url=self.nats_url,
            nats_prefix=self.nats_prefix,
            s3_endpoint=self.moto.endpoint,
            bucket=self.bucket,
            run_dir=run_dir or self.work_dir / "run",
        )
        if self.nats_credentials is not None:
            env.update(self.nats_credentials.env(ADMIN_USER))
        return env

    @property
    def nats_users(self) -> dict[str, str] | None:
        """Each service's NATS password (for `PrivateStack(nats_users=...)`); None on an open server."""
        if self.nats_credentials is None:
            return None
        return {u: p for u, p in self.nats_credentials.passwords.items() if u != ADMIN_USER}

    def stack(self, work: Path) -> PrivateStack:
        """A PrivateStack on this infrastructure, each service with its own NATS identity."""
        return PrivateStack(self.env(work / "run"), work / "logs", nats_users=self.nats_users)

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
        if self.nats is not None:
            self.nats.stop()
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
