"""Delivers `auth.email.requested` events: SMTP when `SWARMCAST_SMTP_URL` is set, else an outbox folder.

Runs inside the auth process as a durable JetStream consumer (every auth replica joins the same
consumer, so each message is delivered once). A failed SMTP send raises, so the bus redelivers
with backoff.

Outbox mode (development, demo, tests): each message becomes `<outbox>/<message_id>.json` with the
fields `message_id`, `to`, `kind` (`verification`, `password_reset`, `password_changed`,
`account_deleted`), `subject`, `body_text`, `link`, `requested_at` (ISO 8601). The file is named
by message id, so a redelivered event rewrites the same file instead of adding a second one. Files
are private (0600): links carry secret tokens.

Sealed requests (`mailseal.py`): with a `MailSeal` the sender opens `sealed` first. A request that
does not open (another key, tampered) or arrives unsealed is logged without its content and dropped
(acked, not redelivered: it never would open).

SMTP URL: `smtp://user:pass@host:587` (STARTTLS when the server offers it), `smtps://…:465`
(implicit TLS); `?from=noreply@example.com` sets the sender (default `swarmcast@<host>`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from swarmcast.events.v1 import events_pb2

from services.auth.mailseal import MailSeal, SealError
from services.common import subjects
from services.common.private_files import write_private

log = logging.getLogger("swarmcast.auth.mail_sender")

KIND_NAMES = {
    events_pb2.EMAIL_KIND_VERIFICATION: "verification",
    events_pb2.EMAIL_KIND_PASSWORD_RESET: "password_reset",
    events_pb2.EMAIL_KIND_PASSWORD_CHANGED: "password_changed",
    events_pb2.EMAIL_KIND_ACCOUNT_DELETED: "account_deleted",
}
SMTP_TIMEOUT_SECONDS = 30


def kind_name(kind: int) -> str:
    return KIND_NAMES.get(kind, "other")  # type: ignore[call-overload]


def _safe_name(message_id: str) -> str:
    # The id comes off the bus: never let it steer the path.
    cleaned = "".join(c for c in message_id if c.isalnum() or c in "-_")[:64]
    return cleaned or "message"


def outbox_record(msg: events_pb2.EmailRequested) -> dict[str, Any]:
    return {
        "message_id": msg.message_id,
        "to": msg.to,
        "kind": kind_name(msg.kind),
        "subject": msg.subject,
        "body_text": msg.body_text,
        "link": msg.link,
        "requested_at": msg.requested_at.ToDatetime().isoformat() + "Z"
        if msg.HasField("requested_at")
        else "",
    }


def write_outbox(outbox_dir: Path, msg: events_pb2.EmailRequested) -> Path:
    path = outbox_dir / f"{_safe_name(msg.message_id)}.json"
    # Owner-only (links carry secret tokens) and atomic: readers see a whole file or none.
    write_private(path, json.dumps(outbox_record(msg), ensure_ascii=False, indent=2))
    return path


def read_outbox(outbox_dir: Path) -> list[dict[str, Any]]:
    """Every message in the outbox, oldest first (what the demo and the tests read)."""
    records = []
    for path in outbox_dir.glob("*.json") if outbox_dir.is_dir() else ():
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(records, key=lambda r: (r.get("requested_at", ""), r.get("message_id", "")))


def smtp_send(smtp_url: str, msg: events_pb2.EmailRequested) -> None:
    """Sends one message over SMTP (blocking; run it in a thread)."""
    url = urlparse(smtp_url)
    if url.scheme not in ("smtp", "smtps"):
        raise ValueError("SWARMCAST_SMTP_URL must start with smtp:// or smtps://")
    host = url.hostname or "localhost"
    query = parse_qs(url.query)
    sender = query.get("from", [f"swarmcast@{host}"])[0]
    email = EmailMessage()
    email["From"] = sender
    email["To"] = msg.to
    email["Subject"] = msg.subject
    email["Message-ID"] = f"<{_safe_name(msg.message_id)}@swarmcast>"
    email.set_content(msg.body_text)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, url.port or 465, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(host, url.port or 587, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        smtp.ehlo()
        if url.scheme == "smtp" and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(email)


class MailSender:
    def __init__(
        self, *, outbox_dir: Path, smtp_url: str | None = None, seal: MailSeal | None = None
    ) -> None:
        self.outbox_dir = Path(outbox_dir)
        self.smtp_url = smtp_url or None
        self.seal = seal

    @property
    def mode(self) -> str:
        return "smtp" if self.smtp_url else "outbox"

    async def deliver(self, msg: events_pb2.EmailRequested, meta: Any = None) -> None:
        """Bus handler: raises on failure so the message is redelivered."""
        if self.seal is not None:
            if not msg.sealed:
                log.error("dropping an unsealed email request", extra={"message_id": msg.message_id})
                return
            try:
                msg = self.seal.open(msg)
            except SealError as exc:
                log.error("dropping an email request: %s", exc, extra={"message_id": msg.message_id})
                return
        if not msg.to:
            log.warning("dropping email request without a recipient", extra={"message_id": msg.message_id})
            return
        if self.smtp_url:
            await asyncio.to_thread(smtp_send, self.smtp_url, msg)
        else:
            await asyncio.to_thread(write_outbox, self.outbox_dir, msg)
        log.info(
            "email delivered",
            extra={"message_id": msg.message_id, "email_kind": kind_name(msg.kind), "mail_mode": self.mode},
        )

    async def start(self, bus: Any, *, durable: str) -> Any:
        """Subscribes to `auth.email.requested`; returns the bus Subscription (stop it on shutdown)."""
        return await bus.subscribe(
            subjects.EMAIL_REQUESTED, events_pb2.EmailRequested, self.deliver, durable=durable, ack_wait=60
        )
