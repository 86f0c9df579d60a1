"""Builds the account emails and hands them to the bus as `auth.email.requested` events.

The auth service never talks SMTP itself: the mail sender (`handlers.py`) consumes these events.
Sending is best effort from the caller's point of view (a verification mail can be re-requested,
a reset can be requested again), so a failed publish is logged and reported as False, never raised.
With a `MailSeal` (always, in the server), the recipient, subject, body and link are sealed before
publishing: the bus only ever carries the message id and kind in clear (`mailseal.py`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

from google.protobuf.message import Message
from swarmcast.events.v1 import events_pb2

from services.auth.mailseal import MailSeal
from services.common import subjects

log = logging.getLogger("swarmcast.auth.mail")

Kind = events_pb2.EmailKind


class Publisher(Protocol):
    async def publish(self, subject: str, message: Message, *, msg_id: str) -> Any: ...


class Mailer:
    def __init__(
        self,
        bus: Publisher | None,
        *,
        public_url: str,
        product: str = "swarmcast",
        seal: MailSeal | None = None,
    ) -> None:
        self.bus = bus
        self.seal = seal
        self.public_url = public_url.rstrip("/")
        self.product = product

    # --- messages

    def verification(self, to: str, token: str) -> events_pb2.EmailRequested:
        link = f"{self.public_url}/verify-email?token={quote(token)}"
        body = (
            f"Welcome to {self.product}!\n\n"
            f"Confirm your email address by opening this link:\n\n{link}\n\n"
            "If you did not create an account, ignore this message.\n"
        )
        return self._message(
            to, Kind.EMAIL_KIND_VERIFICATION, f"Confirm your {self.product} email", body, link
        )

    def password_reset(self, to: str, token: str) -> events_pb2.EmailRequested:
        link = f"{self.public_url}/reset-password?token={quote(token)}"
        body = (
            f"Someone (hopefully you) asked to reset the password of your {self.product} account.\n\n"
            f"Choose a new password here (the link works once, for one hour):\n\n{link}\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n"
        )
        return self._message(
            to, Kind.EMAIL_KIND_PASSWORD_RESET, f"Reset your {self.product} password", body, link
        )

    def password_changed(self, to: str) -> events_pb2.EmailRequested:
        body = (
            f"The password of your {self.product} account was just changed, and every device was "
            "signed out.\n\nIf this was not you, reset your password now and check your account.\n"
        )
        return self._message(
            to, Kind.EMAIL_KIND_PASSWORD_CHANGED, f"Your {self.product} password was changed", body
        )

    def account_deleted(self, to: str) -> events_pb2.EmailRequested:
        body = f"Your {self.product} account and its simulations have been deleted.\n"
        return self._message(
            to, Kind.EMAIL_KIND_ACCOUNT_DELETED, f"Your {self.product} account was deleted", body
        )

    def _message(
        self, to: str, kind: events_pb2.EmailKind, subject: str, body: str, link: str = ""
    ) -> events_pb2.EmailRequested:
        msg = events_pb2.EmailRequested(
            message_id=uuid.uuid4().hex,
            to=to,
            kind=kind,
            subject=subject,
            body_text=body,
            link=link,
        )
        msg.requested_at.FromDatetime(datetime.now(UTC))
        return msg

    # --- sending

    async def send(self, message: events_pb2.EmailRequested) -> bool:
        if self.bus is None:
            log.warning("no event bus: email not sent", extra={"email_kind": Kind.Name(message.kind)})
            return False
        wire = self.seal.seal(message) if self.seal is not None else message
        try:
            await self.bus.publish(subjects.EMAIL_REQUESTED, wire, msg_id=f"email-{message.message_id}")
        except Exception as exc:  # the account change is committed; the user can ask again
            log.error(
                "could not queue email: %s",
                type(exc).__name__,
                extra={"email_kind": Kind.Name(message.kind), "message_id": message.message_id},
            )
            return False
        return True
