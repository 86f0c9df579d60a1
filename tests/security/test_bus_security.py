"""Event-bus security (issue 17, item 1): no secrets on the bus, and a bus that asks who you are.

One private stack for the module on a private nats-server with per-service users
(`Infra(authenticated_nats=True)`: services/common/nats_auth.py writes its config), each service
connecting as itself. Checked against the real servers:

- a password-reset mail travels sealed: no message stored in the AUTH stream holds the reset
  token, the link or the recipient's address, yet the mail reaches the outbox and its link works;
- the server refuses anonymous clients and wrong passwords;
- a service's user cannot read or consume what it has no business with (the reporter and the
  gateway cannot see `auth.email.requested`, nor publish `jobs.dispatch.*`, nor read other
  services' inboxes), while the stack still runs a job end to end on those credentials.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import nats
import nats.errors
import pytest
import pytest_asyncio
from nats.aio.client import Client as NATSClient
from swarmcast.auth.v1 import auth_pb2
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import Infra, PrivateStack, create_request, evidence_seed, wait_terminal
from services.auth.handlers import read_outbox
from services.common import subjects
from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub
from services.common.nats_auth import ADMIN_USER, inbox_prefix

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

PASSWORD = "bus security passphrase 5521"
NEW_PASSWORD = "a brand new passphrase 9034"
# A denied JetStream API request gets no answer: this long is enough to know it never will.
DENIED_WAIT = 2.0


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Infra(tmp_path_factory.mktemp("bus-security-infra"), authenticated_nats=True) as value:
        yield value


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateStack]:
    value = infra.stack(tmp_path_factory.mktemp("bus-security-stack"))
    try:
        await value.launch("auth", "jobs", "reporter", "gpu_runner")
        yield value
    finally:
        await asyncio.to_thread(value.stop_all)


class Connection:
    """A raw NATS connection as one user, recording the permission errors the server sends."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: NATSClient | None = None

    async def open(self, infra: Infra, user: str) -> NATSClient:
        assert infra.nats_credentials is not None

        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc).lower())

        self.nc = await nats.connect(
            infra.nats_url,
            user=user,
            password=infra.nats_credentials.passwords[user],
            inbox_prefix=inbox_prefix(user),
            allow_reconnect=False,
            connect_timeout=3,
            error_cb=on_error,
        )
        return self.nc

    async def violations(self, fragment: str) -> list[str]:
        assert self.nc is not None
        await self.nc.flush(timeout=2)
        await asyncio.sleep(0.3)  # the -ERR may trail the PONG
        return [e for e in self.errors if "permissions violation" in e and fragment.lower() in e]

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()


def stream(infra: Infra, stream_def: subjects.StreamDef) -> str:
    return f"{infra.nats_prefix}_{stream_def.name}"


def wire(infra: Infra, logical: str) -> str:
    return f"{infra.nats_prefix}.{logical}"


async def stored_messages(infra: Infra, stream_def: subjects.StreamDef) -> list[tuple[str, bytes, bytes]]:
    """Every message stored in a stream: (subject, all its bytes with headers, data), read as admin."""
    conn = Connection()
    nc = await conn.open(infra, ADMIN_USER)
    try:
        js = nc.jetstream()
        name = stream(infra, stream_def)
        info = await js.stream_info(name)
        out: list[tuple[str, bytes, bytes]] = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                raw = await js.get_msg(name, seq)
            except nats.js.errors.NotFoundError:
                continue
            headers = "".join(f"{k}:{v}" for k, v in (raw.headers or {}).items())
            data = raw.data or b""
            out.append((raw.subject or "", (raw.subject or "").encode() + headers.encode() + data, data))
        return out
    finally:
        await conn.close()


async def wait_mail(outbox: Path, to: str, kind: str, within: float = 30.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = [m for m in read_outbox(outbox) if m.get("to") == to and m.get("kind") == kind]
        if found:
            return found[-1]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {kind} mail for {to} in {outbox}")
        await asyncio.sleep(0.2)


# --- sealed mail -------------------------------------------------------------------------------


async def test_reset_mail_is_sealed_on_the_bus_and_still_works(infra: Infra, stack: PrivateStack) -> None:
    email = f"sealed-{secrets.token_hex(4)}@example.test"
    await stack.register(email, PASSWORD)
    async with insecure_channel(stack.addr("auth")) as ch:
        await auth_stub(ch).RequestPasswordReset(
            auth_pb2.RequestPasswordResetRequest(email=email), timeout=15
        )
    outbox = Path(stack.env["SWARMCAST_MAIL_OUTBOX_DIR"])
    mail = await wait_mail(outbox, email, "password_reset")
    token = parse_qs(urlparse(mail["link"]).query)["token"][0]
    assert token and mail["link"] in mail["body_text"] and mail["subject"]

    stored = await stored_messages(infra, subjects.AUTH)
    emails = [
        events_pb2.EmailRequested.FromString(data)
        for subject, _, data in stored
        if subject == wire(infra, subjects.EMAIL_REQUESTED)
    ]
    assert mail["message_id"] in {e.message_id for e in emails}, (
        "the reset request never went through the bus"
    )
    for secret in (token, mail["link"], email, email.split("@")[0], "reset-password", mail["subject"]):
        leaks = [subject for subject, blob, _ in stored if secret.encode() in blob]
        assert not leaks, f"{secret!r} is readable in the AUTH stream ({leaks})"
    # What is left in clear: the id and kind (the sealed box carries the rest).
    for event in emails:
        assert event.sealed and not (event.to or event.link or event.body_text or event.subject)

    async with insecure_channel(stack.addr("auth")) as ch:
        await auth_stub(ch).ResetPassword(
            auth_pb2.ResetPasswordRequest(token=token, new_password=NEW_PASSWORD), timeout=15
        )
        login = await auth_stub(ch).Login(
            auth_pb2.LoginRequest(email=email, password=NEW_PASSWORD), timeout=15
        )
    assert login.access_token


async def test_a_request_that_does_not_open_is_dropped_without_its_content(
    infra: Infra, stack: PrivateStack
) -> None:
    forged_to = f"forged-{secrets.token_hex(4)}@example.test"
    link = "https://evil.example/reset-password?token=forged"
    kind = events_pb2.EMAIL_KIND_PASSWORD_RESET
    unsealed = events_pb2.EmailRequested(
        message_id=secrets.token_hex(16), to=forged_to, kind=kind, subject="Reset", body_text=link, link=link
    )
    tampered = events_pb2.EmailRequested(
        message_id=secrets.token_hex(16), kind=kind, sealed=b"\x01" + secrets.token_bytes(80)
    )
    conn = Connection()
    nc = await conn.open(infra, ADMIN_USER)
    try:
        js = nc.jetstream()
        for event in (unsealed, tampered):
            await js.publish(
                wire(infra, subjects.EMAIL_REQUESTED),
                event.SerializeToString(),
                headers={"Nats-Msg-Id": f"email-{event.message_id}"},
            )
    finally:
        await conn.close()
    # A real request published after them is delivered: the sender got past both.
    email = f"after-{secrets.token_hex(4)}@example.test"
    await stack.register(email, PASSWORD)
    outbox = Path(stack.env["SWARMCAST_MAIL_OUTBOX_DIR"])
    await wait_mail(outbox, email, "verification")
    delivered = read_outbox(outbox)
    assert not [m for m in delivered if m["message_id"] in (unsealed.message_id, tampered.message_id)]
    assert not [m for m in delivered if m["to"] == forged_to]
    log = stack.procs["auth"].log_path.read_text(errors="replace")
    dropped = [line for line in log.splitlines() if "dropping" in line and "email request" in line]
    assert any(unsealed.message_id in line for line in dropped), dropped
    assert any(tampered.message_id in line for line in dropped), dropped
    assert forged_to not in log and "evil.example" not in log
    # Acked, not left for redelivery.
    admin = Connection()
    anc = await admin.open(infra, ADMIN_USER)
    try:
        info = await anc.jetstream().consumer_info(stream(infra, subjects.AUTH), "auth-mail-sender")
        assert info.num_ack_pending == 0 and info.num_redelivered == 0, info
    finally:
        await admin.close()


# --- authentication ----------------------------------------------------------------------------


async def test_anonymous_and_wrong_password_connections_are_refused(
    infra: Infra, stack: PrivateStack
) -> None:
    assert infra.nats_credentials is not None
    with pytest.raises((nats.errors.Error, OSError, asyncio.TimeoutError)) as anonymous:
        nc = await nats.connect(infra.nats_url, allow_reconnect=False, connect_timeout=3)
        await nc.close()
    assert "authorization" in str(anonymous.value).lower() or isinstance(anonymous.value, nats.errors.Error)
    with pytest.raises((nats.errors.Error, OSError, asyncio.TimeoutError)):
        nc = await nats.connect(
            infra.nats_url,
            user="reporter",
            password="not-the-password",
            allow_reconnect=False,
            connect_timeout=3,
        )
        await nc.close()
    # The right password is let in.
    conn = Connection()
    await conn.open(infra, "reporter")
    await conn.close()


# --- authorization -----------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["reporter", "gateway"])
async def test_a_service_user_cannot_read_mail_requests_nor_dispatch_jobs(
    infra: Infra, stack: PrivateStack, user: str
) -> None:
    conn = Connection()
    nc = await conn.open(infra, user)
    try:
        # Core subscriptions on the mail subject, and on anyone else's inbox, are refused.
        await nc.subscribe(wire(infra, subjects.EMAIL_REQUESTED))
        assert await conn.violations("subscription"), conn.errors
        conn.errors.clear()
        await nc.subscribe("_INBOX.>")
        await nc.subscribe(f"{inbox_prefix('auth')}.>")
        assert len(await conn.violations("subscription")) == 2, conn.errors

        js = nc.jetstream(timeout=DENIED_WAIT)
        auth_stream = stream(infra, subjects.AUTH)
        # No consumer over the mail requests, no message of the AUTH stream.
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await js.add_consumer(
                auth_stream,
                durable_name=f"spy-{user}",
                name=f"spy-{user}",
                filter_subject=wire(infra, subjects.EMAIL_REQUESTED),
            )
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await js.get_msg(auth_stream, 1)
        # Nor pull from the mail sender's own consumer.
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await nc.request(
                f"$JS.API.CONSUMER.MSG.NEXT.{auth_stream}.auth-mail-sender",
                b'{"batch":1}',
                timeout=DENIED_WAIT,
            )
        # No dispatching simulations.
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await js.publish(
                wire(infra, subjects.dispatch("cpu")),
                jobs_pb2.Job().SerializeToString(),
                timeout=DENIED_WAIT,
            )
        assert await conn.violations("publish"), conn.errors
    finally:
        await conn.close()
    # Nothing it tried landed: the work queue is empty of its dispatch, no spy consumer exists.
    admin = Connection()
    anc = await admin.open(infra, ADMIN_USER)
    try:
        ajs = anc.jetstream()
        consumers = await ajs.consumers_info(stream(infra, subjects.AUTH))
        assert all(not c.name.startswith("spy-") for c in consumers)
    finally:
        await admin.close()


async def test_a_job_runs_end_to_end_with_per_service_credentials(infra: Infra, stack: PrivateStack) -> None:
    for name in ("auth", "jobs", "reporter", "gpu_runner"):
        env = stack.procs[name].env
        assert env is not None and env["SWARMCAST_NATS_USER"] == name
    md = bearer((await _login_new_user(stack)).access_token)
    async with insecure_channel(stack.addr("jobs")) as ch:
        job_id = (
            await jobs_stub(ch).CreateJob(
                create_request(evidence_seed("Bus security e2e 7c2a")), metadata=md, timeout=30
            )
        ).job.id
    statuses = await wait_terminal(stack.addr("jobs"), md, [job_id], within=180)
    assert statuses[job_id] == "JOB_STATUS_COMPLETED", f"{statuses}\n{stack.tails()}"
    # No service hit a permission it lacked on the way.
    assert "permissions violation" not in stack.log_text().lower()


async def _login_new_user(stack: PrivateStack) -> auth_pb2.LoginResponse:
    email = f"e2e-{secrets.token_hex(4)}@example.test"
    await stack.register(email, PASSWORD)
    async with insecure_channel(stack.addr("auth")) as ch:
        return await auth_stub(ch).Login(auth_pb2.LoginRequest(email=email, password=PASSWORD), timeout=15)
