"""The local stack: `python -m services.cli.stack up|down|status` (behind `make up/down/status`).

`up`
  1. makes sure the infrastructure answers, starting what is missing on loopback:
     PostgreSQL (SWARMCAST_DATABASE_URL; the database is created if missing), NATS with JetStream,
     and an S3-compatible server (`moto_server` from the venv) with the bucket;
  2. runs `alembic upgrade head`;
  3. starts auth, jobs, gpu_runner, reporter and gateway in the background, logs in
     `<run_dir>/logs/<name>.log`, PIDs in `<run_dir>/pids/<name>.json`;
  4. waits until each answers grpc.health.v1 SERVING (gateway: GET /api/health 200).
  With `SWARMCAST_LOCAL_LLM=1` it also starts a real language model on the CPU: a second runner
  (`runner_local`, the `llamacpp` backend, tier `local` only, on SWARMCAST_LOCAL_RUNNER_ADDR) beside
  the heuristic one, and `llama_cpp.server` with the same model (`llm_server`, on
  SWARMCAST_LOCAL_LLM_ADDR), whose OpenAI-compatible endpoint the reporter's LLM writer uses for the
  reports of `llamacpp` runs.
  On failure it prints the tail of the failing log, stops what it started, and exits 1.
  Already running processes are left alone, so a second `up` just reports and exits 0.
`down`
  stops exactly what `up` recorded (SIGTERM, then SIGKILL after a grace period), moto_server
  included when `up` started it. A PID is only signalled while it still is the process we
  started (its kernel start time is recorded), so a recycled PID is never hit.
`status`
  one line per process: running / stopped, PID, address, health.

The `stack` pytest fixture drives the same `Stack` class.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.config import REPO_ROOT, Settings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
NATS_SERVER = "/usr/sbin/nats-server"
NATS_START = [
    "start-stop-daemon", "--start", "--oknodo", "--background", "--exec", NATS_SERVER, "--",
    "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server", "-l", "/var/log/nats-server.log",
]  # fmt: skip
DEFAULT_READY_TIMEOUT = 90.0
DEFAULT_STOP_GRACE = 20.0
LOG_TAIL_LINES = 40


class StackError(RuntimeError):
    """`up` could not bring the stack up; the message says what and where to look."""


@dataclass(frozen=True)
class ProcessDef:
    name: str
    module: str
    # Settings attribute holding the address the process serves (or, for the local-LLM processes,
    # the environment variable naming it, with its default).
    addr_setting: str
    kind: str  # "grpc" or "http"
    addr_default: str = ""
    # What answers 200 when an http process is ready.
    health_path: str = "/api/health"


PROCESSES: tuple[ProcessDef, ...] = (
    ProcessDef("auth", "services.auth", "auth_addr", "grpc"),
    ProcessDef("jobs", "services.jobs", "jobs_addr", "grpc"),
    ProcessDef("gpu_runner", "services.gpu_runner", "runner_addr", "grpc"),
    ProcessDef("reporter", "services.reporter", "reporter_addr", "grpc"),
    ProcessDef("gateway", "services.gateway", "gateway_addr", "http"),
)
# Started only with SWARMCAST_LOCAL_LLM=1 (a real model on the CPU; needs the `local-llm` extra).
LOCAL_LLM_PROCESSES: tuple[ProcessDef, ...] = (
    ProcessDef(
        "llm_server", "llama_cpp.server", "SWARMCAST_LOCAL_LLM_ADDR", "http", "127.0.0.1:50056", "/v1/models"
    ),
    ProcessDef(
        "runner_local", "services.gpu_runner", "SWARMCAST_LOCAL_RUNNER_ADDR", "grpc", "127.0.0.1:50055"
    ),
)
LOCAL_TIER = "local"
S3_PROCESS = "s3"
TRUTHY = frozenset({"1", "true", "yes", "on"})


@dataclass
class ProcessStatus:
    name: str
    running: bool
    pid: int | None
    address: str
    health: str

    def line(self) -> str:
        state = f"running  pid {self.pid}" if self.running else "stopped"
        return f"{self.name:<11} {state:<18} {self.address:<22} {self.health}"


class _MappingSettings(Settings):
    """Settings read from an explicit mapping only (never this process's own environment)."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: Any, init_settings: Any, **_other_sources: Any
    ) -> tuple[Any, ...]:
        return (init_settings,)


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Settings exactly as a child process started with environment `env` will see them."""
    prefix = "SWARMCAST_"
    fields = Settings.model_fields
    values = {
        key[len(prefix) :].lower(): value
        for key, value in env.items()
        if key.startswith(prefix) and key[len(prefix) :].lower() in fields
    }
    return _MappingSettings(**values)


# --------------------------------------------------------------------------------------------
# process bookkeeping


def _proc_start_time(pid: int) -> int | None:
    """The kernel start time of `pid` (clock ticks since boot), None if there is no such process.

    A zombie counts as gone: it has exited and only waits to be reaped.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap our own child so it doesn't linger
        return None
    return int(fields[19])


@dataclass
class PidRecord:
    name: str
    pid: int
    start_time: int
    command: list[str]
    address: str

    def alive(self) -> bool:
        """True while the recorded process is alive *and* still the one we started."""
        return _proc_start_time(self.pid) == self.start_time


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def _host_port(addr_or_url: str, default_port: int) -> tuple[str, int]:
    parsed = urlparse(addr_or_url if "://" in addr_or_url else f"tcp://{addr_or_url}")
    return parsed.hostname or "127.0.0.1", parsed.port or default_port


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(content[-lines:])


# --------------------------------------------------------------------------------------------
# the stack


class Stack:
    """The local stack described by `env` (the environment the processes get)."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        out: Callable[[str], None] | None = None,
    ) -> None:
        env = dict(os.environ if env is None else env)
        self.settings = settings_from_env(env)
        self.run_dir = Path(self.settings.run_dir).resolve()
        # Keys and the mail outbox follow the run folder unless set explicitly, so separate run
        # folders (a test stack beside a dev stack) never share signing keys or mail.
        env.setdefault("SWARMCAST_RUN_DIR", str(self.run_dir))
        env.setdefault("SWARMCAST_SIGNING_KEY_DIR", str(self.run_dir / "keys"))
        env.setdefault("SWARMCAST_MAIL_OUTBOX_DIR", str(self.run_dir / "outbox"))
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.env = env
        self.settings = settings_from_env(env)
        self.local_llm = env.get("SWARMCAST_LOCAL_LLM", "").strip().lower() in TRUTHY
        self.processes = PROCESSES + (LOCAL_LLM_PROCESSES if self.local_llm else ())
        self.logs_dir = self.run_dir / "logs"
        self.pids_dir = self.run_dir / "pids"
        self._out = out or (lambda line: print(line, flush=True))
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def say(self, line: str) -> None:
        self._out(line)

    # --- records
    def _record_path(self, name: str) -> Path:
        return self.pids_dir / f"{name}.json"

    def record(self, name: str) -> PidRecord | None:
        path = self._record_path(name)
        try:
            data = json.loads(path.read_text())
            return PidRecord(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            self.say(f"ignoring unreadable pid file {path}")
            return None

    def _write_record(self, rec: PidRecord) -> None:
        self.pids_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._record_path(rec.name).with_suffix(".tmp")
        tmp.write_text(json.dumps(rec.__dict__))
        tmp.replace(self._record_path(rec.name))

    def _drop_record(self, name: str) -> None:
        self._record_path(name).unlink(missing_ok=True)

    def address(self, proc: ProcessDef) -> str:
        if proc.addr_default:
            return self.env.get(proc.addr_setting) or proc.addr_default
        return str(getattr(self.settings, proc.addr_setting))

    # --- the local model (SWARMCAST_LOCAL_LLM=1)
    def local_model(self) -> tuple[str, Path]:
        """The model the local runner and the model server load: (model id, GGUF file)."""
        from services.gpu_runner.model_store import DEFAULT_GGUF_MODEL, ModelUnavailable, packaged_gguf

        model_id = self.env.get("SWARMCAST_LOCAL_LLM_MODEL") or DEFAULT_GGUF_MODEL
        try:
            path = packaged_gguf(model_id) or Path(model_id)
        except ModelUnavailable as exc:
            raise StackError(str(exc)) from None
        if not path.is_file():
            raise StackError(f"the local model file {path} does not exist (SWARMCAST_LOCAL_LLM_MODEL)")
        return model_id, path

    def command(self, proc: ProcessDef) -> list[str]:
        if proc.name != "llm_server":
            return [sys.executable, "-m", proc.module]
        model_id, path = self.local_model()
        host, port = _host_port(self.address(proc), 0)
        return llama_server_command(model_id, path, host, port)

    def process_env(self, proc: ProcessDef) -> dict[str, str]:
        """The environment of ``proc``: the stack's, plus the local-LLM wiring where it applies."""
        env = dict(self.env)
        if proc.name == "runner_local":
            model_id, _ = self.local_model()
            env.update(
                SWARMCAST_RUNNER_ADDR=self.address(proc),
                SWARMCAST_LLM_BACKEND="llamacpp",
                SWARMCAST_LLM_MODEL=model_id,
                SWARMCAST_RUNNER_TIERS=LOCAL_TIER,
            )
            env.pop("SWARMCAST_LLM_URL", None)
        elif proc.name == "gpu_runner" and self.local_llm:
            # The local tier belongs to the llamacpp runner: the heuristic one leaves it alone.
            tiers = [t for t in self.settings.runner_tier_list if t != LOCAL_TIER]
            env["SWARMCAST_RUNNER_TIERS"] = ",".join(tiers)
        elif proc.name == "reporter" and self.local_llm and not env.get("SWARMCAST_REPORT_LLM_URL"):
            llm = next(p for p in LOCAL_LLM_PROCESSES if p.name == "llm_server")
            env["SWARMCAST_REPORT_LLM_URL"] = f"http://{self.address(llm)}/v1"
            env.setdefault("SWARMCAST_REPORT_LLM_BACKENDS", "llamacpp")
            # A small model on the CPU writes ~15 tokens/s: a report's prose within a minute or so.
            env.setdefault("SWARMCAST_REPORT_LLM_MAX_TOKENS", "600")
        return env

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    # --- starting processes
    def _spawn(
        self, name: str, command: Sequence[str], address: str, env: Mapping[str, str] | None = None
    ) -> PidRecord:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_path(name)
        with open(log_path, "ab") as log_file:
            log_file.write(
                f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} starting: {' '.join(command)}\n".encode()
            )
            log_file.flush()
            child = subprocess.Popen(
                list(command),
                cwd=REPO_ROOT,
                env=dict(self.env if env is None else env),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Own session: Ctrl-C in the terminal that ran `make up` doesn't reach the stack.
                start_new_session=True,
            )
        self._children[name] = child
        start_time = _proc_start_time(child.pid)
        if start_time is None:
            raise StackError(f"{name} exited immediately; log {log_path}:\n{_tail(log_path)}")
        rec = PidRecord(name, child.pid, start_time, list(command), address)
        self._write_record(rec)
        return rec

    def _exited(self, rec: PidRecord) -> bool:
        child = self._children.get(rec.name)
        if child is not None and child.pid == rec.pid:
            return child.poll() is not None
        return not rec.alive()

    # --- health
    def _grpc_health(self, address: str, timeout: float = 2.0) -> str:
        with grpc.insecure_channel(address) as channel:
            try:
                response = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=timeout
                )
            except grpc.RpcError as exc:
                return "UNREACHABLE" if exc.code() is grpc.StatusCode.UNAVAILABLE else exc.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def _http_health(self, address: str, timeout: float = 3.0, path: str = "/api/health") -> str:
        try:
            with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as response:
                body = json.loads(response.read() or b"{}")
                return f"HTTP {response.status} ({body.get('status', '?')})"
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError):
            return "UNREACHABLE"

    def health(self, proc: ProcessDef) -> str:
        address = self.address(proc)
        if proc.kind == "grpc":
            return self._grpc_health(address)
        return self._http_health(address, path=proc.health_path)

    @staticmethod
    def _healthy(proc: ProcessDef, health: str) -> bool:
        return health == "SERVING" if proc.kind == "grpc" else health.startswith("HTTP 200")

    # --- infrastructure
    def ensure_postgres(self) -> None:
        import psycopg  # local: only `up` needs it
        from sqlalchemy.engine import make_url

        url = make_url(self.settings.database_url)
        host, port = url.host or "127.0.0.1", url.port or 5432
        if not port_in_use(host, port):
            if host not in LOOPBACK:
                raise StackError(f"PostgreSQL at {host}:{port} is not reachable (SWARMCAST_DATABASE_URL)")
            self._start_postgres()
            self._wait_port("PostgreSQL", host, port, 30)
        dbname = url.database or "postgres"
        connect = {
            "host": host,
            "port": port,
            "user": url.username or "postgres",
            "password": url.password,
            "connect_timeout": 5,
            "autocommit": True,
        }
        try:
            with psycopg.connect(dbname="postgres", **connect) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
                if not exists:
                    from psycopg import sql

                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
                    self.say(f"postgres    created database {dbname}")
        except psycopg.Error as exc:
            raise StackError(f"PostgreSQL at {host}:{port}: {exc}".strip()) from exc
        self.say(f"postgres    ok ({host}:{port}/{dbname})")

    def _start_postgres(self) -> None:
        versions = (
            sorted(p.name for p in Path("/etc/postgresql").glob("*"))
            if Path("/etc/postgresql").is_dir()
            else []
        )
        if not versions or shutil.which("pg_ctlcluster") is None:
            raise StackError("PostgreSQL is down and no local cluster (pg_ctlcluster) is installed")
        for version in versions:
            command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
            self.say(f"postgres    starting: {' '.join(command)}")
            result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
            if result.returncode != 0:
                raise StackError(
                    f"starting PostgreSQL failed: {result.stderr.strip() or result.stdout.strip()}"
                )

    def ensure_nats(self) -> None:
        host, port = _host_port(self.settings.nats_url, 4222)
        info = _nats_info(host, port)
        if info is None:
            if host not in LOOPBACK:
                raise StackError(f"NATS at {host}:{port} is not reachable (SWARMCAST_NATS_URL)")
            if not Path(NATS_SERVER).exists():
                raise StackError(
                    f"NATS is down and {NATS_SERVER} is not installed (apt-get install nats-server)"
                )
            Path("/var/lib/nats-server").mkdir(parents=True, exist_ok=True)
            self.say(f"nats        starting: {' '.join(NATS_START)}")
            result = subprocess.run(NATS_START, capture_output=True, text=True, timeout=30, check=False)
            if result.returncode != 0:
                raise StackError(f"starting nats-server failed: {result.stderr.strip()}")
            deadline = time.monotonic() + 15
            while info is None and time.monotonic() < deadline:
                time.sleep(0.2)
                info = _nats_info(host, port)
            if info is None:
                raise StackError("nats-server did not come up; see /var/log/nats-server.log")
        if not info.get("jetstream"):
            raise StackError(f"NATS at {host}:{port} runs without JetStream; restart it with -js")
        self.say(f"nats        ok ({host}:{port}, JetStream on)")

    def ensure_s3(self) -> None:
        endpoint = self.settings.s3_endpoint.rstrip("/")
        if not _http_answers(endpoint):
            host, port = _host_port(endpoint, 80)
            if host not in LOOPBACK:
                raise StackError(f"S3 at {endpoint} is not reachable (SWARMCAST_S3_ENDPOINT)")
            rec = self.record(S3_PROCESS)
            if rec is not None and rec.alive():
                raise StackError(f"moto_server (pid {rec.pid}) is running but {endpoint} does not answer")
            moto = Path(sys.executable).parent / "moto_server"
            if not moto.exists():
                raise StackError(f"S3 is down and {moto} is missing (run `make setup`)")
            self.say(f"s3          starting moto_server on {host}:{port}")
            rec = self._spawn(S3_PROCESS, [str(moto), "-H", host, "-p", str(port)], f"{host}:{port}")
            deadline = time.monotonic() + 30
            while not _http_answers(endpoint):
                if self._exited(rec) or time.monotonic() > deadline:
                    raise StackError(
                        f"moto_server did not start; log {self.log_path(S3_PROCESS)}:\n"
                        f"{_tail(self.log_path(S3_PROCESS))}"
                    )
                time.sleep(0.2)
        from services.common.storage import ObjectStore

        try:
            asyncio.run(ObjectStore.from_settings(self.settings).ensure_bucket())
        except Exception as exc:
            raise StackError(
                f"S3 at {endpoint}: cannot ensure bucket {self.settings.s3_bucket}: {exc}"
            ) from exc
        self.say(f"s3          ok ({endpoint}, bucket {self.settings.s3_bucket})")

    def migrate(self) -> None:
        self.say("migrate     alembic upgrade head")
        result = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-LOG_TAIL_LINES:])
            raise StackError(f"alembic upgrade head failed (exit {result.returncode}):\n{output}")

    @staticmethod
    def _wait_port(what: str, host: str, port: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not port_in_use(host, port):
            if time.monotonic() > deadline:
                raise StackError(f"{what} did not start listening on {host}:{port}")
            time.sleep(0.3)

    # --- up / down / status
    def up(
        self,
        *,
        ensure_infra: bool = True,
        migrate: bool = True,
        ready_timeout: float = DEFAULT_READY_TIMEOUT,
    ) -> None:
        """Brings the stack up (see module docstring); raises StackError on failure."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if ensure_infra:
            self.ensure_postgres()
            self.ensure_nats()
            self.ensure_s3()
        if migrate:
            self.migrate()
        started: list[PidRecord] = []
        waiting: list[tuple[ProcessDef, PidRecord]] = []
        to_start: list[ProcessDef] = []
        for proc in self.processes:
            rec = self.record(proc.name)
            if rec is not None and rec.alive():
                self.say(f"{proc.name:<11} already running (pid {rec.pid}, {rec.address})")
                waiting.append((proc, rec))
                continue
            if rec is not None:
                self._drop_record(proc.name)  # stale: that process is gone
            to_start.append(proc)
        # Check every port before starting anything, so a conflict leaves nothing half-started.
        for proc in to_start:
            address = self.address(proc)
            host, port = _host_port(address, 0)
            if port_in_use(host, port):
                raise StackError(
                    f"port {port} for {proc.name} ({address}) is already in use by a process this stack "
                    f"did not start (another stack? `make down` stops one started by `make up`)"
                )
        try:
            for proc in to_start:
                rec = self._spawn(proc.name, self.command(proc), self.address(proc), self.process_env(proc))
                self.say(f"{proc.name:<11} started (pid {rec.pid}), log {self.log_path(proc.name)}")
                started.append(rec)
                waiting.append((proc, rec))
            self._wait_ready(waiting, ready_timeout)
        except BaseException:
            if started:
                self.say("stopping what this run started")
                for rec in reversed(started):
                    self._stop_one(rec, grace=5.0)
            raise
        self.say(f"stack up: gateway http://{self.settings.gateway_addr}, run folder {self.run_dir}")

    def _wait_ready(self, waiting: list[tuple[ProcessDef, PidRecord]], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(waiting)
        last: dict[str, str] = {}
        while pending:
            for proc, rec in list(pending):
                if self._exited(rec):
                    raise StackError(
                        f"{proc.name} exited during startup; last lines of {self.log_path(proc.name)}:\n"
                        f"{_tail(self.log_path(proc.name))}"
                    )
                health = self.health(proc)
                last[proc.name] = health
                if self._healthy(proc, health):
                    self.say(f"{proc.name:<11} ready ({health})")
                    pending.remove((proc, rec))
            if not pending:
                return
            if time.monotonic() > deadline:
                proc = pending[0][0]
                raise StackError(
                    f"{proc.name} not ready after {timeout:.0f}s (health: {last.get(proc.name)}); "
                    f"last lines of {self.log_path(proc.name)}:\n{_tail(self.log_path(proc.name))}"
                )
            time.sleep(0.25)

    def _stop_one(self, rec: PidRecord, grace: float) -> bool:
        """SIGTERM, wait up to `grace`, then SIGKILL. Returns False if it was not running."""
        if not rec.alive():
            self._drop_record(rec.name)
            return False
        try:
            os.kill(rec.pid, signal.SIGTERM)
        except ProcessLookupError:
            self._drop_record(rec.name)
            return False
        deadline = time.monotonic() + grace
        while rec.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if rec.alive():
            self.say(f"{rec.name:<11} did not stop within {grace:.0f}s; killing")
            with contextlib.suppress(ProcessLookupError):
                os.kill(rec.pid, signal.SIGKILL)
            while rec.alive():
                time.sleep(0.05)
        child = self._children.pop(rec.name, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
        self._drop_record(rec.name)
        return True

    def down(self, *, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stops every process `up` recorded in this run folder, newest first; moto_server last."""
        names = [p.name for p in reversed(PROCESSES + LOCAL_LLM_PROCESSES)] + [S3_PROCESS]
        any_found = False
        for name in names:
            rec = self.record(name)
            if rec is None:
                continue
            any_found = True
            if self._stop_one(rec, grace):
                self.say(f"{name:<11} stopped (pid {rec.pid})")
            else:
                self.say(f"{name:<11} was not running")
        if not any_found:
            self.say(f"nothing to stop (no pid files in {self.pids_dir})")

    def status(self) -> list[ProcessStatus]:
        rows: list[ProcessStatus] = []
        for proc in PROCESSES + LOCAL_LLM_PROCESSES:
            rec = self.record(proc.name)
            if proc in LOCAL_LLM_PROCESSES and rec is None and not self.local_llm:
                continue
            running = rec is not None and rec.alive()
            health = self.health(proc) if running else "-"
            rows.append(
                ProcessStatus(
                    proc.name, running, rec.pid if running and rec else None, self.address(proc), health
                )
            )
        rec = self.record(S3_PROCESS)
        if rec is not None:
            running = rec.alive()
            rows.append(
                ProcessStatus(
                    S3_PROCESS,
                    running,
                    rec.pid if running else None,
                    rec.address,
                    "started by up" if running else "-",
                )
            )
        return rows


def stop_child(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM a child this process started, SIGKILL it after ``grace`` seconds; reaped either way."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)


def llama_server_command(model_id: str, path: Path, host: str, port: int, n_ctx: int = 8192) -> list[str]:
    """`llama_cpp.server` serving the GGUF at ``path`` as ``model_id`` (OpenAI-compatible, /v1)."""
    threads = str(max(1, os.cpu_count() or 1))
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", model_id,
        "--host", host, "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", threads,
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# small probes


def _nats_info(host: str, port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    """NATS's INFO greeting (says whether JetStream is on), or None if nothing NATS answers."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            line = sock.makefile("rb").readline(65536)
    except OSError:
        return None
    if not line.startswith(b"INFO "):
        return None
    try:
        return json.loads(line[5:])
    except ValueError:
        return None


def _http_answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except (urllib.error.URLError, OSError, ValueError):
        return False


# --------------------------------------------------------------------------------------------
# command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.cli.stack", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the local stack in the background")
    up.add_argument("--timeout", type=float, default=DEFAULT_READY_TIMEOUT, help="seconds to wait for health")
    up.add_argument("--no-migrate", action="store_true", help="skip alembic upgrade head")
    down = sub.add_parser("down", help="stop what `up` started")
    down.add_argument("--grace", type=float, default=DEFAULT_STOP_GRACE, help="seconds before SIGKILL")
    sub.add_parser("status", help="show each process")
    args = parser.parse_args(argv)

    stack = Stack()
    if args.command == "up":
        try:
            stack.up(migrate=not args.no_migrate, ready_timeout=args.timeout)
        except StackError as exc:
            print(f"stack up failed: {exc}", file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        return 0
    if args.command == "down":
        stack.down(grace=args.grace)
        return 0
    for row in stack.status():
        print(row.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
