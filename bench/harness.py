"""A private swarmcast stack on free loopback ports, for the benchmarks and the chaos/security suites.

`Infra` owns what the processes need: a fresh migrated database (`swarmcast_test_bench_<hex>`,
dropped at the end), a NATS subject prefix (on the given server; streams deleted at the end) and
a moto_server on a free port with its own bucket. `PrivateStack` starts services exactly as
`make up` does (`python -m services.<name>`), each on a free port, logs under its own folder,
and stops every process it started by PID. Nothing here touches the DESIGN ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.common.clients import auth_stub, bearer, check_health, insecure_channel, jobs_stub
from services.common.config import REPO_ROOT, Settings

Metadata = tuple[tuple[str, str], ...]
PASSWORD = "a long bench passphrase 42"
READY_WITHIN_S = 90.0
STOP_GRACE_S = 15.0
TERMINAL = ("COMPLETED", "FAILED", "REFUNDED", "CANCELLED")
SERVICES = {
    "auth": ("services.auth", "SWARMCAST_AUTH_ADDR"),
    "jobs": ("services.jobs", "SWARMCAST_JOBS_ADDR"),
    "gpu_runner": ("services.gpu_runner", "SWARMCAST_RUNNER_ADDR"),
    "reporter": ("services.reporter", "SWARMCAST_REPORTER_ADDR"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def run_async(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Runs a coroutine to completion on a fresh loop in a worker thread (safe inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def settings_from(env: Mapping[str, str]) -> Settings:
    from services.cli.stack import settings_from_env

    return settings_from_env(env)


@dataclass
class Moto:
    """moto_server (the venv's) on a free port; `stop()`/`start()` simulate an S3 outage."""

    log: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        moto = Path(sys.executable).parent / "moto_server"
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                [str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while not _http_answers(self.endpoint):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not start; see {self.log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self.popen = None


@dataclass
class PrivateNats:
    """A nats-server with JetStream of our own (never the shared one on 4222)."""

    store_dir: Path
    log: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                [
                    "/usr/sbin/nats-server",
                    "-a",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-js",
                    "-sd",
                    str(self.store_dir),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not start; see {self.log}")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self.popen = None


@dataclass
class Proc:
    name: str
    addr: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        try:
            content = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return f"--- {self.name} ({self.log}):\n" + "\n".join(content[-lines:])

    def alive(self) -> bool:
        return self.popen.poll() is None


def stack_env(
    *, database_url: str, nats_url: str, nats_prefix: str, s3_endpoint: str, bucket: str, run_dir: Path
) -> dict[str, str]:
    """The environment of a private stack: free ports for every service, heuristic backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARMCAST_")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "SWARMCAST_DATABASE_URL": database_url,
            "SWARMCAST_DATABASE_POOL_SIZE": "5",
            "SWARMCAST_NATS_URL": nats_url,
            "SWARMCAST_NATS_PREFIX": nats_prefix,
            "SWARMCAST_S3_ENDPOINT": s3_endpoint,
            "SWARMCAST_S3_BUCKET": bucket,
            "SWARMCAST_RUN_DIR": str(run_dir),
            "SWARMCAST_SIGNING_KEY_DIR": str(run_dir / "keys"),
            "SWARMCAST_MAIL_OUTBOX_DIR": str(run_dir / "outbox"),
            "SWARMCAST_BCRYPT_ROUNDS": "4",
            "SWARMCAST_LLM_BACKEND": "heuristic",
            "SWARMCAST_AUTH_REGISTER_LIMIT": "0",
            "SWARMCAST_AUTH_LOGIN_LIMIT": "0",
            "SWARMCAST_AUTH_ADDR": f"127.0.0.1:{free_port()}",
            "SWARMCAST_JOBS_ADDR": f"127.0.0.1:{free_port()}",
            "SWARMCAST_RUNNER_ADDR": f"127.0.0.1:{free_port()}",
            "SWARMCAST_REPORTER_ADDR": f"127.0.0.1:{free_port()}",
        }
    )
    return env


@dataclass
class PrivateStack:
    """Service processes of one private stack; every one is stopped by its PID."""

    env: dict[str, str]
    log_dir: Path
    procs: dict[str, Proc] = field(default_factory=dict)

    def addr(self, name: str) -> str:
        return self.env[SERVICES[name][1]]

    def start(self, name: str, **extra_env: str) -> Proc:
        """Starts service `name` (a key of SERVICES); a previous process of that name must be gone."""
        module, _ = SERVICES[name]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        env = {**self.env, **extra_env}
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", module],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, self.addr(name), popen, log)
        self.procs[name] = proc
        return proc

    async def wait_serving(self, *names: str) -> None:
        async def one(proc: Proc) -> None:
            deadline = time.monotonic() + READY_WITHIN_S
            async with insecure_channel(proc.addr) as ch:
                while True:
                    if not proc.alive():
                        raise RuntimeError(f"{proc.name} exited during start-up\n{proc.tail()}")
                    if await check_health(ch) == "SERVING":
                        return
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"{proc.name} not SERVING after {READY_WITHIN_S:.0f}s\n{proc.tail()}"
                        )
                    await asyncio.sleep(0.2)

        await asyncio.gather(*(one(self.procs[n]) for n in names))

    async def launch(self, *names: str, **extra_env: str) -> None:
        for name in names:
            self.start(name, **extra_env)
        await self.wait_serving(*names)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.alive():
            proc.popen.send_signal(sig)
        proc.popen.wait(timeout=STOP_GRACE_S)

    def stop_all(self) -> None:
        """SIGTERM every process started here (by PID); SIGKILL what outlives the grace period."""
        procs = list(self.procs.values())
        for proc in procs:
            if proc.alive():
                proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in procs:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout=5)

    def tails(self) -> str:
        return "\n".join(p.tail() for p in self.procs.values())

    def log_text(self) -> str:
        return "\n".join(p.log.read_text(errors="replace") for p in self.procs.values() if p.log.exists())

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
        return settings_from(self.env())

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
