"""Mail delivery (outbox files and SMTP) and the event outbox that makes auth.user.deleted reliable."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import socketserver
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from swarmcast.events.v1 import events_pb2

from services.auth.handlers import MailSender, read_outbox, write_outbox
from services.auth.mail import Mailer
from services.auth.tests.support import AuthNode
from services.common import subjects
from services.common.bus import EventBus
from tests.fixtures.settings import settings_for


class _Recorder:
    def __init__(self) -> None:
        self.published: list[tuple[str, Any, str]] = []

    async def publish(self, subject: str, message: Any, *, msg_id: str) -> None:
        self.published.append((subject, message, msg_id))


def test_messages_carry_the_link_and_no_other_secret() -> None:
    mailer = Mailer(None, public_url="https://swarmcast.example/")
    msg = mailer.password_reset("a@example.com", "TOKEN_abc-123")
    assert msg.link == "https://swarmcast.example/reset-password?token=TOKEN_abc-123"
    assert msg.link in msg.body_text and msg.kind == events_pb2.EMAIL_KIND_PASSWORD_RESET
    assert msg.to == "a@example.com" and msg.message_id and msg.HasField("requested_at")
    verify = mailer.verification("a@example.com", "T2")
    assert verify.link.endswith("/verify-email?token=T2")
    assert mailer.password_changed("a@example.com").link == ""


async def test_publish_uses_the_message_id_for_dedupe() -> None:
    bus = _Recorder()
    mailer = Mailer(bus, public_url="http://x")
    msg = mailer.verification("a@example.com", "tok")
    assert await mailer.send(msg)
    [(subject, sent, msg_id)] = bus.published
    assert subject == subjects.EMAIL_REQUESTED and sent is msg and msg_id == f"email-{msg.message_id}"
    assert not await Mailer(None, public_url="http://x").send(msg)  # no bus: reported, not raised


def test_outbox_files_are_private_whole_and_idempotent(tmp_path: Path) -> None:
    msg = Mailer(None, public_url="http://x").verification("a@example.com", "tok")
    first = write_outbox(tmp_path / "outbox", msg)
    second = write_outbox(tmp_path / "outbox", msg)  # a redelivery rewrites, never duplicates
    assert first == second and len(list((tmp_path / "outbox").iterdir())) == 1
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o600
    record = json.loads(first.read_text())
    assert record["kind"] == "verification" and record["to"] == "a@example.com"
    assert record["link"] == "http://x/verify-email?token=tok"
    assert read_outbox(tmp_path / "outbox") == [record]
    evil = events_pb2.EmailRequested(message_id="../../etc/passwd", to="a@example.com")
    assert write_outbox(tmp_path / "outbox", evil).parent == tmp_path / "outbox"


class _FakeSMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    received: list[dict[str, Any]] = []

    def _send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        mail: dict[str, Any] = {"rcpt": [], "auth": None}
        self._send("220 fake ESMTP")
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._send("250-fake")
                self._send("250 AUTH PLAIN")
            elif verb == "AUTH":
                mail["auth"] = line.split(" ", 2)[2]
                self._send("235 ok")
            elif verb == "MAIL":
                mail["from"] = line
                self._send("250 ok")
            elif verb == "RCPT":
                mail["rcpt"].append(line)
                self._send("250 ok")
            elif verb == "DATA":
                self._send("354 go")
                data = []
                while (chunk := self.rfile.readline().decode()) not in (".\r\n", ""):
                    data.append(chunk)
                mail["data"] = "".join(data)
                type(self).received.append(mail)
                self._send("250 queued")
            elif verb == "QUIT":
                self._send("221 bye")
                return
            else:
                self._send("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int]]:
    _FakeSMTP.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeSMTP)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address  # type: ignore[misc]
    server.shutdown()
    server.server_close()


async def test_smtp_delivery(smtp_server: tuple[str, int], tmp_path: Path) -> None:
    host, port = smtp_server
    sender = MailSender(
        outbox_dir=tmp_path, smtp_url=f"smtp://mailer:s3cret@{host}:{port}?from=noreply@x.test"
    )
    assert sender.mode == "smtp"
    msg = Mailer(None, public_url="http://x").password_reset("bob@example.com", "tok123")
    await sender.deliver(msg)
    [mail] = _FakeSMTP.received
    assert "noreply@x.test" in mail["from"] and "bob@example.com" in mail["rcpt"][0]
    parsed = email.message_from_string(mail["data"], policy=email.policy.default)
    assert parsed["Subject"] == "Reset your swarmcast password" and parsed["To"] == "bob@example.com"
    assert "reset-password?token=tok123" in parsed.get_content()
    assert mail["auth"]  # logged in with the URL's credentials
    assert not os.listdir(tmp_path)  # nothing in the outbox in SMTP mode


async def test_smtp_failure_raises_for_redelivery(tmp_path: Path) -> None:
    sender = MailSender(outbox_dir=tmp_path, smtp_url="smtp://127.0.0.1:1")
    msg = Mailer(None, public_url="http://x").password_changed("bob@example.com")
    with pytest.raises(OSError):
        await sender.deliver(msg)


async def test_outbox_relay_delivers_a_left_over_user_deleted_event(
    auth_node: AuthNode, nats_url: str, db_sessions: Any
) -> None:
    """A crash between the delete commit and the publish leaves the event in auth.outbox_events;
    the relay (at startup and in maintenance) publishes it with the same Nats-Msg-Id."""
    received: asyncio.Queue[tuple[events_pb2.UserDeleted, str | None]] = asyncio.Queue()

    async def on_deleted(event: events_pb2.UserDeleted, meta: Any) -> None:
        await received.put((event, meta.msg_id))

    event = events_pb2.UserDeleted(user_id="987654")
    event.deleted_at.FromDatetime(datetime.now(UTC))
    async with db_sessions() as session, session.begin():
        await session.execute(
            text("INSERT INTO auth.outbox_events (subject, msg_id, payload) VALUES (:s, :m, :p)"),
            {"s": subjects.USER_DELETED, "m": "user-deleted-987654", "p": event.SerializeToString()},
        )
    bus = await EventBus.connect(
        settings_for(nats_url=nats_url, nats_prefix=auth_node.settings.nats_prefix), name="relay-test"
    )
    try:
        await bus.subscribe(
            subjects.USER_DELETED,
            events_pb2.UserDeleted,
            on_deleted,
            durable="relay-test",
            deliver_new_only=True,
        )
        await auth_node.service.maintenance()
        got, msg_id = await asyncio.wait_for(received.get(), timeout=15)
        assert got.user_id == "987654" and msg_id == "user-deleted-987654"
    finally:
        await bus.close()
    async with db_sessions() as session:
        left = (await session.execute(text("SELECT count(*) FROM auth.outbox_events"))).scalar_one()
    assert left == 0
