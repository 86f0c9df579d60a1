"""The local stack: `python -m services.cli.stack up|down|status` (behind `make up/down/status`).

`up`
  1. makes sure the infrastructure answers, starting what is missing on loopback:
     PostgreSQL (SWARMCAST_DATABASE_URL; the database is created if missing), NATS with JetStream,
     and an S3-compatible server (`moto_server` from the venv) with the bucket.
     NATS: without an explicit SWARMCAST_NATS_URL the stack runs a nats-server of its own
     (`nats`, on SWARMCAST_LOCAL_NATS_ADDR, default 127.0.0.1:4223, store in `<run_dir>/nats/`)
     that refuses anonymous clients: one user per service with only its own subjects
     (services/common/nats_auth.py), passwords generated once per run folder in
     `<run_dir>/nats-passwords.json` (owner-only); each service connects as itself, CLI code
     (`Stack.settings`) as `admin`. An explicit SWARMCAST_NATS_URL (the tests' shared server, a
     remote one) is used as it is: started on 4222 when it is loopback and down, no logins
     unless SWARMCAST_NATS_USER/PASSWORD say so;
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
  stops exactly what `up` recorded (SIGTERM, then SIGKILL after a grace period), the stack's
  nats-server and moto_server included when `up` started them. A PID is only signalled while it
  still is the process we started (its kernel start time is recorded), so a recycled PID is never hit.
`status`
  one line per process: running / stopped, PID, address, health (for NATS: whether it asks
  clients who they are, and JetStream).

The `stack` pytest fixture drives the same `Stack` class. Starting, waiting for health and stopping
by PID are services/cli/processes.py, shared with the tests and the benchmarks; `isolated_env` is
the environment of a private stack beside this one (tests, benchmarks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from services.cli.processes import (
    LOG_TAIL_LINES,
    UNREACHABLE,
    Health,
    ManagedProcess,
    Probe,
    ProcessNotReady,
    grpc_probe,
    host_port,
    http_answers,
    http_probe,
    port_in_use,
    proc_start_time,
    wait_all_ready,
)
from services.common.config import REPO_ROOT, Settings
from services.common.nats_auth import ADMIN_USER, Credentials, server_config
from services.common.private_files import write_private

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
NATS_SERVER = "/usr/sbin/nats-server"
NATS_START = [
    "start-stop-daemon", "--start", "--oknodo", "--background", "--exec", NATS_SERVER, "--",
    "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server", "-l", "/var/log/nats-server.log",
]  # fmt: skip
# The stack's own nats-server (no explicit SWARMCAST_NATS_URL): beside, never on, the shared 4222.
LOCAL_NATS_PROCESS = "nats"
LOCAL_NATS_ADDR_ENV = "SWARMCAST_LOCAL_NATS_ADDR"
DEFAULT_LOCAL_NATS_ADDR = "127.0.0.1:4223"
NATS_PASSWORDS_FILE = "nats-passwords.json"
NATS_READY_TIMEOUT = 20.0
# The NATS user each stack process connects as (services/common/nats_auth.py ROLES); a process not
# listed (the model server) gets no NATS login at all.
NATS_USERS: dict[str, str] = {
    "auth": "auth",
    "jobs": "jobs",
    "gpu_runner": "gpu_runner",
    "runner_local": "gpu_runner",
    "reporter": "reporter",
    "gateway": "gateway",
}
DEFAULT_READY_TIMEOUT = 90.0
DEFAULT_STOP_GRACE = 20.0


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
        if not self.running:
            state = "stopped"
        else:  # no pid: a server this stack did not start (an explicit SWARMCAST_NATS_URL)
            state = f"running  pid {self.pid}" if self.pid is not None else "running"
        return f"{self.name:<11} {state:<18} {self.address:<22} {self.health}"


class _MappingSettings(Settings):
    """Settings read from an explicit mapping only (never this process's own environment)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Settings exactly as a child process started with environment `env` will see them."""
    prefix = "SWARMCAST_"
    fields = Settings.model_fields
    # Any: pydantic parses the strings into each field's type.
    values: dict[str, Any] = {
        key[len(prefix) :].lower(): value
        for key, value in env.items()
        if key.startswith(prefix) and key[len(prefix) :].lower() in fields
    }
    return _MappingSettings(**values)


def forward_secret(run_dir: Path) -> str:
    """The gateway forward secret kept in `run_dir` (created, owner-only, on first use)."""
    path = run_dir / "gateway-forward-secret"
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        value = ""
    if not value:
        value = secrets.token_urlsafe(32)
        write_private(path, value + "\n")
    return value


def write_private_if_changed(path: Path, text: str) -> bool:
    """Writes `text` to `path`, owner-only (0600); False when it already held exactly that."""
    try:
        unchanged = path.read_text(encoding="utf-8") == text
    except FileNotFoundError:
        unchanged = False
    if unchanged:
        path.chmod(0o600)
        return False
    write_private(path, text)
    return True


def nats_credentials(run_dir: Path) -> Credentials:
    """The NATS passwords (every service user and admin) kept in `run_dir`, owner-only; generated
    on first use, so a later `up`, `down` or `status` of the same run folder finds the same ones."""
    return Credentials.load_or_create(run_dir / NATS_PASSWORDS_FILE)


def isolated_env(
    *,
    database_url: str,
    nats_url: str,
    nats_prefix: str,
    s3_endpoint: str,
    bucket: str,
    run_dir: Path,
    **settings: str,
) -> dict[str, str]:
    """The environment of a private stack: this process's without its SWARMCAST_* variables, the
    given infrastructure, keys and mail under `run_dir`, the heuristic backend; `settings` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARMCAST_")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "SWARMCAST_DATABASE_URL": database_url,
            "SWARMCAST_NATS_URL": nats_url,
            "SWARMCAST_NATS_PREFIX": nats_prefix,
            "SWARMCAST_S3_ENDPOINT": s3_endpoint,
            "SWARMCAST_S3_BUCKET": bucket,
            "SWARMCAST_RUN_DIR": str(run_dir),
            "SWARMCAST_SIGNING_KEY_DIR": str(run_dir / "keys"),
            "SWARMCAST_MAIL_OUTBOX_DIR": str(run_dir / "outbox"),
            "SWARMCAST_LLM_BACKEND": "heuristic",
            **settings,
        }
    )
    return env


# --------------------------------------------------------------------------------------------
# process bookkeeping


@dataclass
class PidRecord:
    name: str
    pid: int
    start_time: int
    command: list[str]
    address: str

    def alive(self) -> bool:
        """True while the recorded process is alive *and* still the one we started."""
        return proc_start_time(self.pid) == self.start_time


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
        # The gateway's proof to auth that the client address it forwards is believable: one per
        # run folder, so services restarted later (another `swarmcast` command) share it.
        if not env.get("SWARMCAST_GATEWAY_FORWARD_SECRET"):
            env["SWARMCAST_GATEWAY_FORWARD_SECRET"] = forward_secret(self.run_dir)
        # No explicit NATS URL: the stack's own nats-server, which asks every client who it is.
        # This environment (migrations, CLI code using `self.settings`) is admin's; each service
        # gets its own user in `process_env`. An explicit URL is left exactly as it was given.
        self.local_nats_addr = ""
        self.nats_credentials: Credentials | None = None
        if not env.get("SWARMCAST_NATS_URL", "").strip():
            self.local_nats_addr = env.get(LOCAL_NATS_ADDR_ENV, "").strip() or DEFAULT_LOCAL_NATS_ADDR
            self.nats_credentials = nats_credentials(self.run_dir)
            env["SWARMCAST_NATS_URL"] = f"nats://{self.local_nats_addr}"
            env.pop("SWARMCAST_NATS_CREDS_FILE", None)
            env.update(self.nats_credentials.env(ADMIN_USER))
        self.env = env
        self.settings = settings_from_env(env)
        self.local_llm = env.get("SWARMCAST_LOCAL_LLM", "").strip().lower() in TRUTHY
        self.processes = PROCESSES + (LOCAL_LLM_PROCESSES if self.local_llm else ())
        self.logs_dir = self.run_dir / "logs"
        self.pids_dir = self.run_dir / "pids"
        self._out = out or (lambda line: print(line, flush=True))
        # What this run started (their Popen objects reap them); others are adopted from pid files.
        self._children: dict[str, ManagedProcess] = {}

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

    def _process(self, rec: PidRecord) -> ManagedProcess:
        """The process `rec` describes: our own child when this run started it, else adopted."""
        child = self._children.get(rec.name)
        if child is not None and child.pid == rec.pid:
            return child
        return ManagedProcess.adopt(
            rec.name,
            rec.pid,
            rec.start_time,
            self.log_path(rec.name),
            command=rec.command,
            address=rec.address,
        )

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
        host, port = host_port(self.address(proc), 0)
        return llama_server_command(model_id, path, host, port)

    def process_env(self, proc: ProcessDef) -> dict[str, str]:
        """The environment of ``proc``: the stack's, plus its own NATS login on the stack's nats-server
        and the local-LLM wiring where they apply."""
        env = dict(self.env)
        if self.nats_credentials is not None:
            user = NATS_USERS.get(proc.name)
            if user is None:
                env.pop("SWARMCAST_NATS_USER", None)
                env.pop("SWARMCAST_NATS_PASSWORD", None)
            else:
                env.update(self.nats_credentials.env(user))
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
    ) -> ManagedProcess:
        env = dict(self.env if env is None else env)
        proc = ManagedProcess(name, command, self.log_path(name), env, address=address)
        try:
            return self._record_started(proc.start())
        except ProcessNotReady as exc:
            raise StackError(str(exc)) from None

    def _record_started(self, proc: ManagedProcess) -> ManagedProcess:
        """Keeps `proc` (just started by this run) and writes its pid file."""
        assert proc.pid is not None and proc.start_time is not None
        self._children[proc.name] = proc
        self._write_record(PidRecord(proc.name, proc.pid, proc.start_time, list(proc.command), proc.address))
        return proc

    # --- health
    def probe(self, proc: ProcessDef) -> Probe:
        """grpc.health.v1 SERVING for a gRPC process; HTTP 200 on its health path for an http one."""
        address = self.address(proc)
        if proc.kind == "grpc":
            return grpc_probe(address)
        return http_probe(f"http://{address}{proc.health_path}")

    def health(self, proc: ProcessDef) -> str:
        return self.probe(proc)().status

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
        connect: dict[str, Any] = {
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
        if self.local_nats_addr:
            self.ensure_local_nats()
            return
        host, port = host_port(self.settings.nats_url, 4222)
        info = nats_info(host, port)
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
                info = nats_info(host, port)
            if info is None:
                raise StackError("nats-server did not come up; see /var/log/nats-server.log")
        if not info.get("jetstream"):
            raise StackError(f"NATS at {host}:{port} runs without JetStream; restart it with -js")
        self.say(f"nats        ok ({host}:{port}, JetStream on)")

    def local_nats_config(self) -> str:
        """The config of the stack's nats-server: listen address, JetStream store, a user per service."""
        assert self.nats_credentials is not None
        host, port = host_port(self.local_nats_addr, 4223)
        return server_config(
            self.nats_credentials.passwords,
            prefix=self.settings.nats_prefix,
            listen=f"{host}:{port}",
            store_dir=self.run_dir / "nats" / "store",
        )

    def ensure_local_nats(self) -> None:
        """The stack's own nats-server with JetStream, refusing anonymous clients (started if needed)."""
        addr = self.local_nats_addr
        host, port = host_port(addr, 4223)
        nats_dir = self.run_dir / "nats"
        nats_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        conf = nats_dir / "nats.conf"
        text = self.local_nats_config()
        rec = self.record(LOCAL_NATS_PROCESS)
        if rec is not None and rec.alive():
            if rec.address != addr:
                raise StackError(
                    f"the stack's nats-server (pid {rec.pid}) listens on {rec.address}, not {addr} "
                    f"({LOCAL_NATS_ADDR_ENV}); `make down` first"
                )
            # Another prefix or regenerated passwords since it started: nats-server reloads on SIGHUP.
            if write_private_if_changed(conf, text) and self._process(rec).send_signal(signal.SIGHUP):
                self.say(f"{LOCAL_NATS_PROCESS:<11} reloaded its config {conf}")
            info = nats_info(host, port)
            self.say(f"{LOCAL_NATS_PROCESS:<11} already running (pid {rec.pid}, {addr}), {nats_health(info)}")
        else:
            if rec is not None:
                self._drop_record(LOCAL_NATS_PROCESS)  # stale: that process is gone
            if port_in_use(host, port):
                raise StackError(
                    f"port {port} for the stack's nats-server ({addr}) is already in use by a process this "
                    f"stack did not start (set {LOCAL_NATS_ADDR_ENV} to another address)"
                )
            if not Path(NATS_SERVER).exists():
                raise StackError(f"{NATS_SERVER} is not installed (apt-get install nats-server)")
            write_private_if_changed(conf, text)
            # The server reads its passwords from the config file: none of ours in its environment.
            env = {k: v for k, v in self.env.items() if not k.startswith("SWARMCAST_")}
            child = self._spawn(LOCAL_NATS_PROCESS, [NATS_SERVER, "-c", str(conf)], addr, env)
            try:
                child.wait_ready(nats_probe(host, port), NATS_READY_TIMEOUT)
            except ProcessNotReady as exc:
                self._stop(child, grace=5.0)
                raise StackError(str(exc)) from None
            info = nats_info(host, port)
            self.say(f"{LOCAL_NATS_PROCESS:<11} started (pid {child.pid}, {addr}), {nats_health(info)}")
        if info is None:
            raise StackError(
                f"the stack's nats-server at {addr} does not answer; see {self.log_path(LOCAL_NATS_PROCESS)}"
            )
        if not info.get("auth_required") or not info.get("jetstream"):
            raise StackError(f"the stack's nats-server at {addr} is {nats_health(info)}; see {conf}")

    def ensure_s3(self) -> None:
        endpoint = self.settings.s3_endpoint.rstrip("/")
        if not http_answers(endpoint):
            host, port = host_port(endpoint, 80)
            if host not in LOOPBACK:
                raise StackError(f"S3 at {endpoint} is not reachable (SWARMCAST_S3_ENDPOINT)")
            rec = self.record(S3_PROCESS)
            if rec is not None and rec.alive():
                raise StackError(f"moto_server (pid {rec.pid}) is running but {endpoint} does not answer")
            self.say(f"s3          starting moto_server on {host}:{port}")
            try:
                moto = start_moto_server(host, port, self.log_path(S3_PROCESS), name=S3_PROCESS)
            except ProcessNotReady as exc:
                raise StackError(str(exc)) from None
            self._record_started(moto)
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
        started: list[ManagedProcess] = []
        waiting: list[tuple[ManagedProcess, Probe]] = []
        to_start: list[ProcessDef] = []
        for proc in self.processes:
            rec = self.record(proc.name)
            if rec is not None and rec.alive():
                self.say(f"{proc.name:<11} already running (pid {rec.pid}, {rec.address})")
                waiting.append((self._process(rec), self.probe(proc)))
                continue
            if rec is not None:
                self._drop_record(proc.name)  # stale: that process is gone
            to_start.append(proc)
        # Check every port before starting anything, so a conflict leaves nothing half-started.
        for proc in to_start:
            address = self.address(proc)
            host, port = host_port(address, 0)
            if port_in_use(host, port):
                raise StackError(
                    f"port {port} for {proc.name} ({address}) is already in use by a process this stack "
                    f"did not start (another stack? `make down` stops one started by `make up`)"
                )
        try:
            for proc in to_start:
                child = self._spawn(proc.name, self.command(proc), self.address(proc), self.process_env(proc))
                self.say(f"{proc.name:<11} started (pid {child.pid}), log {child.log_path}")
                started.append(child)
                waiting.append((child, self.probe(proc)))
            self._wait_ready(waiting, ready_timeout)
        except BaseException:
            if started:
                self.say("stopping what this run started")
                for child in reversed(started):
                    self._stop(child, grace=5.0)
            raise
        self.say(f"stack up: gateway http://{self.settings.gateway_addr}, run folder {self.run_dir}")

    def _wait_ready(self, waiting: list[tuple[ManagedProcess, Probe]], timeout: float) -> None:
        def ready(proc: ManagedProcess, health: Health) -> None:
            self.say(f"{proc.name:<11} ready ({health.status})")

        try:
            wait_all_ready(waiting, timeout, on_ready=ready)
        except ProcessNotReady as exc:
            raise StackError(str(exc)) from None

    def _stop(self, proc: ManagedProcess, grace: float) -> bool:
        """SIGTERM, SIGKILL after `grace` seconds; drops the pid file. False if it was not running."""
        outcome = proc.stop(grace)
        if outcome == "killed":
            self.say(f"{proc.name:<11} did not stop within {grace:.0f}s; killed")
        self._children.pop(proc.name, None)
        self._drop_record(proc.name)
        return outcome != "not running"

    def down(self, *, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stops every process `up` recorded in this run folder, newest first; the stack's
        nats-server and moto_server last."""
        names = [p.name for p in reversed(PROCESSES + LOCAL_LLM_PROCESSES)] + [LOCAL_NATS_PROCESS, S3_PROCESS]
        any_found = False
        for name in names:
            rec = self.record(name)
            if rec is None:
                continue
            any_found = True
            if self._stop(self._process(rec), grace):
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
        rows.append(self.nats_status())
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

    def nats_status(self) -> ProcessStatus:
        """The NATS row: the stack's own nats-server, or the server an explicit URL names."""
        rec = self.record(LOCAL_NATS_PROCESS)
        if self.local_nats_addr or rec is not None:
            address = self.local_nats_addr or (rec.address if rec else "")
            running = rec is not None and rec.alive()
            health = nats_health(nats_info(*host_port(address, 4223))) if running else "-"
            return ProcessStatus(
                LOCAL_NATS_PROCESS, running, rec.pid if running and rec else None, address, health
            )
        host, port = host_port(self.settings.nats_url.split(",")[0], 4222)
        info = nats_info(host, port)
        health = f"{nats_health(info)} (not started by up)" if info is not None else "-"
        return ProcessStatus(LOCAL_NATS_PROCESS, info is not None, None, f"{host}:{port}", health)


def moto_server_command(host: str, port: int) -> list[str]:
    """`moto_server` (an S3-compatible server) on host:port: the venv's, else the one on PATH."""
    beside_python = Path(sys.executable).parent / "moto_server"
    moto = str(beside_python) if beside_python.exists() else shutil.which("moto_server")
    if moto is None:
        raise StackError(f"S3 is down and {beside_python} is missing (run `make setup`)")
    return [moto, "-H", host, "-p", str(port)]


def start_moto_server(
    host: str, port: int, log_path: Path, *, name: str = "moto_server", timeout: float = 30.0
) -> ManagedProcess:
    """moto_server on host:port, answering HTTP. StackError if it is not installed; ProcessNotReady
    (with its log's tail; the process stopped) if it does not answer within `timeout` seconds."""
    proc = ManagedProcess(name, moto_server_command(host, port), log_path, address=f"{host}:{port}").start()
    try:
        proc.wait_ready(http_probe(f"http://{host}:{port}", any_answer=True), timeout)
    except ProcessNotReady:
        proc.stop(5.0)
        raise
    return proc


def llama_server_command(model_id: str, path: Path, host: str, port: int, n_ctx: int = 8192) -> list[str]:
    """`llama_cpp.server` serving the GGUF at ``path`` as ``model_id`` (OpenAI-compatible, /v1)."""
    threads = str(max(1, os.cpu_count() or 1))
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", model_id,
        "--host", host, "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", threads,
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# small probes


def nats_info(host: str, port: int, timeout: float = 2.0) -> dict[str, Any] | None:
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


def nats_health(info: Mapping[str, Any] | None) -> str:
    """What a NATS server's INFO greeting says: whether it asks who you are, and JetStream."""
    if info is None:
        return UNREACHABLE
    auth = "authenticated" if info.get("auth_required") else "OPEN (anonymous clients allowed)"
    return f"{auth}, JetStream {'on' if info.get('jetstream') else 'off'}"


def nats_probe(host: str, port: int) -> Probe:
    """Ready once a NATS server greets on host:port."""

    def probe() -> Health:
        info = nats_info(host, port, timeout=1.0)
        return Health(info is not None, nats_health(info))

    return probe


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
