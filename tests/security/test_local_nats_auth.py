"""The local stack's NATS asks who you are (issue 17, item 1, locally too).

Without an explicit SWARMCAST_NATS_URL, `Stack.up` (`make up`, `make demo`, `swarmcast up`) runs a
nats-server of its own with one user per service (services/common/nats_auth.py), passwords kept
owner-only in the run folder. One such stack for the module, started by `services.cli.stack.Stack`
exactly as `make up` does, in a private run folder with its nats-server and every service on free
ports, on a private database and moto_server (`bench.harness.Infra`). Checked against the real
servers:

- the stack's nats-server refuses anonymous clients and wrong passwords, lets in the admin login
  kept in the run folder, and `status` says it is authenticated;
- every service connects as its own NATS user (and only the stack's CLI side holds admin's
  password), and the stack still runs a job end to end with no permission violation logged;
- `down` stops the nats-server too.

With an explicit SWARMCAST_NATS_URL nothing changes (no logins, no server of its own): the session
`stack` fixture and CI rely on that.
"""

from __future__ import annotations

import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from swarmcast.auth.v1 import auth_pb2

from bench.harness import PASSWORD, Infra, create_request, evidence_seed, run_async, wait_terminal
from services.cli.processes import free_ports, port_in_use
from services.cli.stack import (
    LOCAL_NATS_ADDR_ENV,
    LOCAL_NATS_PROCESS,
    NATS_PASSWORDS_FILE,
    NATS_USERS,
    PROCESSES,
    Stack,
    StackError,
)
from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub
from services.common.nats_auth import ADMIN_USER

pytestmark = pytest.mark.timeout(420)

JOB_WITHIN = 180.0


def _local_env(infra: Infra, run_dir: Path) -> dict[str, str]:
    """A private stack's environment as `make up` sees it: no SWARMCAST_NATS_URL; free ports."""
    env = infra.env(run_dir)
    del env["SWARMCAST_NATS_URL"]
    nats_port, gateway_port = free_ports(2)
    env[LOCAL_NATS_ADDR_ENV] = f"127.0.0.1:{nats_port}"
    env["SWARMCAST_GATEWAY_ADDR"] = f"127.0.0.1:{gateway_port}"
    return env


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    with Infra(tmp_path_factory.mktemp("local-nats-infra")) as value:
        yield value


@pytest.fixture(scope="module")
def local_stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = _local_env(infra, tmp_path_factory.mktemp("local-nats") / "run")
    lines: list[str] = []
    stack = Stack(env, out=lines.append)
    try:
        stack.up(migrate=False)  # Infra's database is migrated
    except StackError as exc:
        stack.down(grace=5.0)
        pytest.fail(f"the local stack did not come up: {exc}\n" + "\n".join(lines), pytrace=False)
    try:
        yield stack
    finally:
        stack.down(grace=10.0)


def _fresh(stack: Stack, lines: list[str] | None = None) -> Stack:
    """The stack as a later `make status` / `make down` sees it: the same run folder and settings,
    no NATS URL nor login given (what the first Stack filled in)."""
    given = {
        k: v for k, v in stack.env.items() if not k.startswith("SWARMCAST_NATS_") or k.endswith("PREFIX")
    }
    return Stack(given, out=(lines if lines is not None else []).append)


def _connect(url: str, **auth: Any) -> None:
    async def attempt() -> None:
        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=3, **auth)
        await nc.close()

    run_async(attempt)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode(errors="replace") for key, value in pairs}


def test_the_local_stack_nats_refuses_anonymous_clients(local_stack: Stack) -> None:
    url = local_stack.settings.nats_url
    assert url == f"nats://{local_stack.env[LOCAL_NATS_ADDR_ENV]}", "the stack must run its own nats-server"
    rec = local_stack.record(LOCAL_NATS_PROCESS)
    assert rec is not None and rec.alive(), "the nats-server must be a recorded stack process"

    with pytest.raises((nats.errors.Error, OSError, TimeoutError)) as anonymous:
        _connect(url)
    assert "authorization" in str(anonymous.value).lower() or isinstance(anonymous.value, nats.errors.Error)
    with pytest.raises((nats.errors.Error, OSError, TimeoutError)):
        _connect(url, user="reporter", password="not-the-password")
    # The admin login kept in the run folder is let in: what CLI code talking to NATS uses.
    assert local_stack.settings.nats_user == ADMIN_USER and local_stack.settings.nats_password is not None
    _connect(url, user=ADMIN_USER, password=local_stack.settings.nats_password.get_secret_value())

    # The passwords and the server config that holds them are the owner's alone.
    for path in (local_stack.run_dir / NATS_PASSWORDS_FILE, local_stack.run_dir / "nats" / "nats.conf"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    # A second `up` (as `make up` runs it again) finds the same passwords and the server running.
    lines: list[str] = []
    again = _fresh(local_stack, lines)
    assert again.env["SWARMCAST_NATS_PASSWORD"] == local_stack.env["SWARMCAST_NATS_PASSWORD"]
    again.up(migrate=False)
    assert any(line.startswith(LOCAL_NATS_PROCESS) and "already running" in line for line in lines), lines
    assert not any("reloaded" in line for line in lines), lines
    assert local_stack.record(LOCAL_NATS_PROCESS) == rec

    # `status` from a fresh Stack (as `make status` runs it) shows the nats line as authenticated.
    rows = {row.name: row for row in _fresh(local_stack).status()}
    assert rows[LOCAL_NATS_PROCESS].running and rows[LOCAL_NATS_PROCESS].pid == rec.pid
    assert rows[LOCAL_NATS_PROCESS].health.startswith("authenticated"), rows[LOCAL_NATS_PROCESS].line()


def test_each_service_connects_as_itself_and_a_job_runs_end_to_end(local_stack: Stack) -> None:
    admin_password = local_stack.env["SWARMCAST_NATS_PASSWORD"]
    for proc in PROCESSES:
        rec = local_stack.record(proc.name)
        assert rec is not None and rec.alive(), proc.name
        environ = _environ(rec.pid)
        assert environ.get("SWARMCAST_NATS_USER") == NATS_USERS[proc.name], proc.name
        assert environ.get("SWARMCAST_NATS_URL") == local_stack.settings.nats_url, proc.name
        assert admin_password not in environ.values(), f"{proc.name} holds the admin password"

    settings = local_stack.settings

    async def run_job() -> dict[int, str]:
        async with insecure_channel(settings.auth_addr) as ch:
            registered = await auth_stub(ch).Register(
                auth_pb2.RegisterRequest(
                    email=f"local-nats-{secrets.token_hex(4)}@example.test", password=PASSWORD
                ),
                timeout=15,
            )
        md = bearer(registered.access_token)
        async with insecure_channel(settings.jobs_addr) as ch:
            created = await jobs_stub(ch).CreateJob(
                create_request(evidence_seed("local nats auth")), metadata=md, timeout=20
            )
        return await wait_terminal(settings.jobs_addr, md, [created.job.id], within=JOB_WITHIN)

    statuses = run_async(run_job)
    assert list(statuses.values()) == ["JOB_STATUS_COMPLETED"], statuses
    for proc in PROCESSES:
        log = local_stack.log_path(proc.name).read_text(errors="replace").lower()
        assert "permissions violation" not in log, f"{proc.name} hit a NATS permission it lacks"
        assert "authorization violation" not in log, f"{proc.name} could not log in to NATS"


def test_down_stops_the_stacks_nats_server(local_stack: Stack) -> None:
    rec = local_stack.record(LOCAL_NATS_PROCESS)
    assert rec is not None
    host, port = local_stack.env[LOCAL_NATS_ADDR_ENV].rsplit(":", 1)
    _fresh(local_stack).down(grace=10.0)
    assert not rec.alive()
    assert not port_in_use(host, int(port))
    assert not list((local_stack.run_dir / "pids").glob("*.json"))


def test_an_explicit_nats_url_is_used_as_given(tmp_path: Path) -> None:
    env = {
        "SWARMCAST_RUN_DIR": str(tmp_path / "run"),
        "SWARMCAST_NATS_URL": "nats://127.0.0.1:4222",
    }
    stack = Stack(env, out=lambda _: None)
    assert stack.nats_credentials is None and not stack.local_nats_addr
    assert not (tmp_path / "run" / NATS_PASSWORDS_FILE).exists()
    for proc in PROCESSES:
        process_env = stack.process_env(proc)
        assert process_env["SWARMCAST_NATS_URL"] == "nats://127.0.0.1:4222"
        assert "SWARMCAST_NATS_USER" not in process_env and "SWARMCAST_NATS_PASSWORD" not in process_env
