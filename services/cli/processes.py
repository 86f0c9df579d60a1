"""Child processes on loopback: free ports, start, wait until ready, stop.

The one harness for everything that runs services (or their infrastructure) as local processes:
`make up` (services/cli/stack.py), the test fixtures, the scale-out and demo tests, and the
benchmarks' private stacks (bench/harness.py). It lives beside the CLI, not in services/common,
because no service needs it at run time.

- `free_port()` / `free_ports(n)`: loopback ports that nothing listens on (n distinct ones).
  `listen_ports(n)`: the same, but below the kernel's ephemeral range, for servers started later:
  no outgoing connection's source port can take one in the meantime.
- `ManagedProcess`: a command started with its own environment, its output appended to a log
  file, in a session of its own (a Ctrl-C in the terminal doesn't reach it). `wait_ready(probe)`
  polls a readiness probe until it says ready and raises `ProcessNotReady`, with the last lines of
  the log, when the process exits first or the timeout passes. `stop()` sends SIGTERM, then
  SIGKILL after a grace period. Signals only ever go to its own PID, and only while that PID is
  still the process it started: a process adopted from a PID file (`ManagedProcess.adopt`) is
  recognised by its kernel start time, so a recycled PID is never hit.
- probes (blocking, short timeouts): `tcp_probe`, `http_probe`, `grpc_probe` (grpc.health.v1,
  with mutual TLS when the given settings configure it).
- groups: `wait_all_ready` waits for several processes at once; `ProcessGroup` runs service
  modules (`python -m services.<name>`) side by side and stops them all with one grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.config import REPO_ROOT, Settings
from services.common.tls import load_tls

LOOPBACK_HOST = "127.0.0.1"
DEFAULT_READY_TIMEOUT_S = 90.0
DEFAULT_STOP_GRACE_S = 15.0
LOG_TAIL_LINES = 40
POLL_INTERVAL_S = 0.25
UNREACHABLE = "UNREACHABLE"


# --------------------------------------------------------------------------------------------
# ports and addresses


def free_ports(count: int, host: str = LOOPBACK_HOST) -> list[int]:
    """`count` distinct ports free on `host` now (all bound at once, so no two are the same)."""
    with contextlib.ExitStack() as sockets:
        bound = [sockets.enter_context(socket.socket()) for _ in range(count)]
        for sock in bound:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in bound]


# Ports below this are not handed out as ephemeral ports on any common kernel setting.
_LISTEN_PORT_FLOOR = 20_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_low() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def listen_ports(count: int, host: str = LOOPBACK_HOST) -> list[int]:
    """`count` distinct ports free on `host` now, below the ephemeral range.

    A port from `free_ports` lies in the range the kernel gives outgoing connections their source
    ports from, so between choosing it and a server binding it, any client connection (to
    PostgreSQL, NATS, S3...) may take it and the bind fails. Ports below that range are only ever
    taken by an explicit bind.
    """
    top = _ephemeral_low()
    if top - _LISTEN_PORT_FLOOR < count * 4:
        return free_ports(count, host)
    rng = random.SystemRandom()
    chosen: list[int] = []
    for _ in range(count * 200):
        port = rng.randrange(_LISTEN_PORT_FLOOR, top)
        if port in chosen:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        chosen.append(port)
        if len(chosen) == count:
            return chosen
    raise OSError(f"no {count} free ports on {host} below {top}")


def free_port(host: str = LOOPBACK_HOST) -> int:
    return free_ports(1, host)[0]


def free_address(host: str = LOOPBACK_HOST) -> str:
    """`host:port` on a free port."""
    return f"{host}:{free_port(host)}"


def port_in_use(host: str, port: int) -> bool:
    """True when something accepts TCP connections on `host:port`."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def host_port(addr_or_url: str, default_port: int) -> tuple[str, int]:
    """(host, port) of `host:port` or a URL; `default_port` when it names none."""
    parsed = urlparse(addr_or_url if "://" in addr_or_url else f"tcp://{addr_or_url}")
    return parsed.hostname or LOOPBACK_HOST, parsed.port or default_port


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(content[-lines:])


def proc_start_time(pid: int) -> int | None:
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


# --------------------------------------------------------------------------------------------
# readiness probes


class Health(NamedTuple):
    ready: bool
    status: str  # what the probe saw, for messages ("SERVING", "HTTP 200 (ok)", "UNREACHABLE", ...)


Probe = Callable[[], Health]


def http_health(url: str, timeout: float = 3.0) -> str:
    """`HTTP <code>` (with the JSON body's "status" when it has one), or UNREACHABLE."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            code, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return UNREACHABLE
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        status = None
    return f"HTTP {code} ({status})" if isinstance(status, str) else f"HTTP {code}"


def http_answers(url: str, timeout: float = 2.0) -> bool:
    """True when an HTTP server answers at `url`, whatever the status."""
    return http_health(url, timeout) != UNREACHABLE


def grpc_health(
    address: str, settings: Settings | None = None, *, service: str = "", timeout: float = 2.0
) -> str:
    """The grpc.health.v1 status name of `service` at `address` ("SERVING", ...), or UNREACHABLE.

    Over mutual TLS when `settings` configure it, else plaintext.
    """
    tls = load_tls(settings) if settings is not None else None
    channel = (
        grpc.secure_channel(address, tls.channel_credentials(), options=tls.channel_options())
        if tls is not None
        else grpc.insecure_channel(address)
    )
    with channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as exc:
            code = exc.code()
            if code is grpc.StatusCode.UNAVAILABLE:
                return UNREACHABLE
            return "SERVICE_UNKNOWN" if code is grpc.StatusCode.NOT_FOUND else str(code.name)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def tcp_probe(host: str, port: int) -> Probe:
    """Ready once something accepts connections on `host:port`."""

    def probe() -> Health:
        listening = port_in_use(host, port)
        return Health(listening, "listening" if listening else "not listening")

    return probe


def http_probe(url: str, *, any_answer: bool = False) -> Probe:
    """Ready once `url` answers 200 (with `any_answer`: any HTTP status)."""

    def probe() -> Health:
        status = http_health(url)
        return Health(status != UNREACHABLE if any_answer else status.startswith("HTTP 200"), status)

    return probe


def grpc_probe(address: str, settings: Settings | None = None, *, service: str = "") -> Probe:
    """Ready once the gRPC health service at `address` says SERVING (see `grpc_health`)."""

    def probe() -> Health:
        status = grpc_health(address, settings, service=service)
        return Health(status == "SERVING", status)

    return probe


# --------------------------------------------------------------------------------------------
# one process


class ProcessNotReady(RuntimeError):
    """A process exited during start-up or was not ready in time; the message holds its log's tail."""


@dataclass(eq=False)
class ManagedProcess:
    """One local process we start (or adopt from a PID file) and stop; see the module docstring."""

    name: str
    command: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None  # None: this process's environment
    cwd: Path = REPO_ROOT
    address: str = ""  # what it serves, for messages
    pid: int | None = None
    start_time: int | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def adopt(
        cls,
        name: str,
        pid: int,
        start_time: int,
        log_path: Path,
        *,
        command: Sequence[str] = (),
        address: str = "",
    ) -> ManagedProcess:
        """A process an earlier run started, known by its PID and kernel start time."""
        return cls(name, command, log_path, address=address, pid=pid, start_time=start_time)

    def start(self) -> ManagedProcess:
        """Spawns the command (again, if it ran before); raises ProcessNotReady if it exits at once."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            log_file.write(f"--- {stamp} starting: {' '.join(self.command)}\n".encode())
            log_file.flush()
            self.popen = subprocess.Popen(
                list(self.command),
                cwd=self.cwd,
                env=None if self.env is None else dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.popen.pid
        self.start_time = proc_start_time(self.pid)
        if self.start_time is None:
            raise ProcessNotReady(self.failure("exited immediately"))
        return self

    @property
    def returncode(self) -> int | None:
        """The exit status once a process we spawned has exited (None otherwise, or when adopted)."""
        return self.popen.poll() if self.popen is not None else None

    def alive(self) -> bool:
        """True while the process runs and still is the one we started."""
        if self.popen is not None:
            return self.popen.poll() is None
        return self.pid is not None and proc_start_time(self.pid) == self.start_time

    def send_signal(self, sig: int) -> bool:
        """Sends `sig` while the process is alive (never to a recycled PID); whether it was sent."""
        if self.pid is None or not self.alive():
            return False
        try:
            if self.popen is not None:
                self.popen.send_signal(sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def wait(self, timeout: float | None = None) -> int | None:
        """Blocks until the process has exited; its exit status (None for an adopted process).

        Raises subprocess.TimeoutExpired after `timeout` seconds.
        """
        if self.popen is not None:
            return self.popen.wait(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.alive():
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(list(self.command), timeout or 0.0)
            time.sleep(0.05)
        return None

    def stop(self, grace: float = DEFAULT_STOP_GRACE_S, sig: int = signal.SIGTERM) -> str:
        """`sig` (SIGTERM), then SIGKILL if the process outlives `grace` seconds; reaped either way.

        Returns "not running", "stopped" or "killed".
        """
        if not self.send_signal(sig):
            return "not running"
        return self.wait_or_kill(grace)

    def wait_or_kill(self, grace: float) -> str:
        """Waits up to `grace` seconds for a signalled process to exit, then SIGKILLs it; reaped.

        Returns "stopped" or "killed".
        """
        try:
            self.wait(grace)
        except subprocess.TimeoutExpired:
            self.send_signal(signal.SIGKILL)
            self.wait()
            return "killed"
        return "stopped"

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return log_tail(self.log_path, lines)

    def failure(self, what: str) -> str:
        """`<name> <what>` with the last lines of the log, for error messages."""
        return f"{self.name} {what}; last lines of {self.log_path}:\n{self.tail()}"

    def wait_ready(self, probe: Probe, timeout: float = DEFAULT_READY_TIMEOUT_S) -> Health:
        """Blocks until `probe` says ready (see `wait_all_ready`); what it saw then."""
        return wait_all_ready([(self, probe)], timeout)[self.name]


def stop_child(popen: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM a child someone else spawned, SIGKILL it after `grace` seconds; reaped either way."""
    ManagedProcess("child", (), Path(os.devnull), pid=popen.pid, popen=popen).stop(grace)


# --------------------------------------------------------------------------------------------
# several processes


def wait_all_ready(
    waits: Iterable[tuple[ManagedProcess, Probe]],
    timeout: float = DEFAULT_READY_TIMEOUT_S,
    *,
    on_ready: Callable[[ManagedProcess, Health], None] | None = None,
) -> dict[str, Health]:
    """Polls each process's probe until all say ready; what each probe saw then, by name.

    Raises ProcessNotReady (with the log's tail) as soon as one exits, or when `timeout` passes.
    Blocking: from a coroutine, run it with `asyncio.to_thread`.
    """
    deadline = time.monotonic() + timeout
    pending = list(waits)
    seen: dict[str, Health] = {}
    while pending:
        for proc, probe in list(pending):
            if not proc.alive():
                raise ProcessNotReady(proc.failure(f"exited during start-up (exit status {proc.returncode})"))
            seen[proc.name] = health = probe()
            if health.ready:
                pending.remove((proc, probe))
                if on_ready is not None:
                    on_ready(proc, health)
        if not pending:
            break
        if time.monotonic() > deadline:
            proc = pending[0][0]
            raise ProcessNotReady(proc.failure(f"not ready after {timeout:.0f}s ({seen[proc.name].status})"))
        time.sleep(POLL_INTERVAL_S)
    return seen


def stop_all(procs: Iterable[ManagedProcess], grace: float = DEFAULT_STOP_GRACE_S) -> None:
    """SIGTERM every process at once, then SIGKILL what outlives one shared grace period."""
    running = [proc for proc in procs if proc.send_signal(signal.SIGTERM)]
    deadline = time.monotonic() + grace
    for proc in running:
        proc.wait_or_kill(max(0.1, deadline - time.monotonic()))


@dataclass
class ProcessGroup:
    """Service modules started side by side (`python -m <module>`), logs in `<log_dir>/<name>.log`.

    `client_settings` say how to reach them (mutual TLS when configured); None: plaintext.
    """

    env: dict[str, str]
    log_dir: Path
    client_settings: Settings | None = None
    procs: dict[str, ManagedProcess] = field(default_factory=dict)

    def start_module(self, name: str, module: str, address: str, **extra_env: str) -> ManagedProcess:
        """Starts `python -m <module>` as `name` (replacing a stopped process of that name)."""
        env = {"PYTHONUNBUFFERED": "1", **self.env, **extra_env}
        command = [sys.executable, "-m", module]
        proc = ManagedProcess(name, command, self.log_dir / f"{name}.log", env, address=address).start()
        self.procs[name] = proc
        return proc

    async def wait_serving(self, *names: str, within: float = DEFAULT_READY_TIMEOUT_S) -> None:
        """Returns once every named process answers grpc.health.v1 SERVING (ProcessNotReady if not)."""
        waits = [(self.procs[n], grpc_probe(self.procs[n].address, self.client_settings)) for n in names]
        await asyncio.to_thread(wait_all_ready, waits, within)

    def stop_all(self, grace: float = DEFAULT_STOP_GRACE_S) -> None:
        """SIGTERM every process started here (by PID); SIGKILL what outlives the grace period."""
        stop_all(self.procs.values(), grace)

    def tails(self, lines: int = 30) -> str:
        return "\n".join(f"--- {p.name} ({p.log_path}):\n{p.tail(lines)}" for p in self.procs.values())

    def log_text(self) -> str:
        return "\n".join(
            p.log_path.read_text(errors="replace") for p in self.procs.values() if p.log_path.exists()
        )
