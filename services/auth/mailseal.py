"""Sealing of `auth.email.requested` events: no recipient, body or link token in clear on the bus.

The auth service both requests mail (`mail.py`) and delivers it (`handlers.py`, in the same
process), so the content is encrypted for auth alone: AES-256-GCM under a key no other service has.
`EmailRequested.sealed` = version byte || 12-byte nonce || ciphertext+tag of an `EmailContent`;
`message_id` and `kind` stay in clear (logs, dedupe) and are bound in as associated data, so a box
cannot be replayed under another message id or kind. Anyone reading the stream (24 h retention)
sees neither the address nor the link.

The key: `SWARMCAST_MAIL_KEY` (base64 of 32 bytes) when set, else the file `mail-seal.key` in the
signing-key folder, created on first start like the signing keys (0600, under the folder's
`.lock`). Every auth replica must share it: a message sealed under another key cannot be opened
and is dropped.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import secrets
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from swarmcast.events.v1 import events_pb2

from services.common.private_files import write_private

KEY_FILE_NAME = "mail-seal.key"
KEY_BYTES = 32
_VERSION = b"\x01"
_NONCE_BYTES = 12


class SealError(Exception):
    """A sealed email request that cannot be opened (wrong key, tampered, malformed)."""


def parse_key(text: str) -> bytes:
    """The 32-byte key from its base64 text; ValueError if it is anything else."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the mail key must be base64 (32 bytes)") from exc
    if len(key) != KEY_BYTES:
        raise ValueError(f"the mail key must be {KEY_BYTES} bytes, not {len(key)}")
    return key


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    # The same lock file as the signing key ring: replicas starting together create one key.
    with open(directory / ".lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def load_or_create_key_file(directory: Path) -> bytes:
    """The key in `directory/mail-seal.key`, created (0600) if absent."""
    path = directory / KEY_FILE_NAME
    if path.exists():
        return parse_key(path.read_text(encoding="ascii"))
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(directory):
        if not path.exists():  # another replica may have written it while we waited
            write_private(path, new_key_text() + "\n")
    return parse_key(path.read_text(encoding="ascii"))


def _aad(message_id: str, kind: int) -> bytes:
    return f"swarmcast-mail-v1\x00{message_id}\x00{int(kind)}".encode()


class MailSeal:
    """Seals and opens the sensitive fields of `EmailRequested` messages."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the mail key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    @classmethod
    def load(cls, *, key_text: str | None, key_dir: Path) -> MailSeal:
        """From the configured key (base64) if any, else the key file in `key_dir`."""
        if key_text:
            return cls(parse_key(key_text))
        return cls(load_or_create_key_file(key_dir))

    def seal(self, msg: events_pb2.EmailRequested) -> events_pb2.EmailRequested:
        """A copy of `msg` with to/subject/body/link moved into `sealed` (cleared in clear)."""
        content = events_pb2.EmailContent(
            to=msg.to, subject=msg.subject, body_text=msg.body_text, link=msg.link
        )
        nonce = secrets.token_bytes(_NONCE_BYTES)
        box = self._aead.encrypt(nonce, content.SerializeToString(), _aad(msg.message_id, msg.kind))
        sealed = events_pb2.EmailRequested()
        sealed.CopyFrom(msg)
        for name in ("to", "subject", "body_text", "link"):
            sealed.ClearField(name)
        sealed.sealed = _VERSION + nonce + box
        return sealed

    def open(self, msg: events_pb2.EmailRequested) -> events_pb2.EmailRequested:
        """A copy of `msg` with the sealed fields restored; SealError if it cannot be opened."""
        data = msg.sealed
        if len(data) < 1 + _NONCE_BYTES + 16 or data[:1] != _VERSION:
            raise SealError("malformed sealed email request")
        nonce, box = data[1 : 1 + _NONCE_BYTES], data[1 + _NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, box, _aad(msg.message_id, msg.kind))
            content = events_pb2.EmailContent.FromString(plain)
        except (InvalidTag, DecodeError) as exc:
            raise SealError("sealed email request does not open under this key") from exc
        opened = events_pb2.EmailRequested()
        opened.CopyFrom(msg)
        opened.ClearField("sealed")
        opened.to, opened.subject = content.to, content.subject
        opened.body_text, opened.link = content.body_text, content.link
        return opened
