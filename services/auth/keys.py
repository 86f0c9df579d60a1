"""The Ed25519 signing key ring.

One PEM file per key in `settings.signing_key_dir`, named `<kid>.pem`. The newest key signs new
access tokens; every key in the folder verifies, so `rotate()` logs nobody out: tokens signed by the
previous key keep verifying until it is removed (do that no earlier than one access-token lifetime
after the rotation). Key ids start with a UTC timestamp so "newest" is simply the largest id.

Several auth replicas may share the folder (a mounted volume/Secret). Creation takes an exclusive
`flock` on `.lock` so two replicas starting together create one key, not two. A replica re-reads
the folder when it changed (`reload_if_changed`: on an unknown `kid`, on GetSigningKeys, and
periodically), and so picks up a rotation made elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.common.private_files import write_private

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
_KID_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    created_at: dt.datetime

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


def new_kid(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.strftime(_KID_TIME_FORMAT)}-{secrets.token_hex(4)}"


def _created_at(kid: str, path: Path) -> dt.datetime:
    try:
        return dt.datetime.strptime(kid.split("-", 1)[0], _KID_TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:  # a key an operator dropped in under another name
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def _valid_kid(kid: str) -> bool:
    return 0 < len(kid) <= 64 and all(c.isalnum() or c in "-_" for c in kid)


class KeyRing:
    """All signing keys of one folder; thread-safe reads, file-locked writes."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._keys: dict[str, SigningKey] = {}
        self._mutex = threading.Lock()
        self._loaded_mtime: int | None = -1

    # --- loading

    @classmethod
    def open(cls, directory: Path | str) -> KeyRing:
        """Loads the folder, creating it and a first key when there is none."""
        ring = cls(directory)
        ring.ensure_key()
        return ring

    def reload(self) -> None:
        keys: dict[str, SigningKey] = {}
        # Taken before listing: a key added while we read shows up as a change next time.
        mtime = self._dir_mtime()
        if self.directory.is_dir():
            for path in sorted(self.directory.glob("*.pem")):
                kid = path.stem
                if not _valid_kid(kid):
                    log.warning("ignoring signing key file with an unusable name", extra={"file": path.name})
                    continue
                try:
                    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
                except (ValueError, TypeError, OSError):
                    log.error("ignoring unreadable signing key file", extra={"file": path.name})
                    continue
                if not isinstance(private, Ed25519PrivateKey):
                    log.error("ignoring signing key file that is not Ed25519", extra={"file": path.name})
                    continue
                keys[kid] = SigningKey(kid, private, _created_at(kid, path))
        with self._mutex:
            self._keys = keys
            self._loaded_mtime = mtime

    def reload_if_changed(self) -> bool:
        """Re-reads the folder if a key file was added or removed since the last read (one stat)."""
        if self._dir_mtime() == self._loaded_mtime:
            return False
        self.reload()
        return True

    def _dir_mtime(self) -> int | None:
        try:
            return self.directory.stat().st_mtime_ns
        except OSError:
            return None

    def ensure_key(self) -> None:
        """Makes sure at least one key exists (first start)."""
        self.reload()
        if self._keys:
            return
        with self._locked():
            self.reload()  # another replica may have created one while we waited for the lock
            if not self._keys:
                self._write_new_key()
                self.reload()

    def rotate(self) -> SigningKey:
        """Adds a new key that signs from now on; older keys keep verifying."""
        with self._locked():
            kid = self._write_new_key()
            self.reload()
        log.info("signing key rotated", extra={"kid": kid})
        return self._keys[kid]

    def remove(self, kid: str) -> None:
        """Retires a key: tokens it signed stop verifying. Refuses to remove the active key."""
        if kid == self.active().kid:
            raise ValueError("the active key cannot be removed; rotate first")
        with self._locked():
            (self.directory / f"{kid}.pem").unlink(missing_ok=True)
            self.reload()

    # --- reading

    def active(self) -> SigningKey:
        with self._mutex:
            if not self._keys:
                raise RuntimeError("no signing key loaded")
            return max(self._keys.values(), key=lambda k: (k.created_at, k.kid))

    def get(self, kid: str) -> SigningKey | None:
        with self._mutex:
            return self._keys.get(kid)

    def all(self) -> list[SigningKey]:
        """Every key, newest first."""
        with self._mutex:
            return sorted(self._keys.values(), key=lambda k: (k.created_at, k.kid), reverse=True)

    # --- writing

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / ".lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _write_new_key(self) -> str:
        # Strictly newer than every existing key, even if the clock stepped back.
        now = dt.datetime.now(dt.UTC)
        if self._keys:
            now = max(now, max(k.created_at for k in self._keys.values()) + dt.timedelta(microseconds=1))
        kid = new_kid(now)
        while (self.directory / f"{kid}.pem").exists():
            kid = new_kid(now)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Atomic and owner-only: a reader never sees half a key.
        write_private(self.directory / f"{kid}.pem", pem)
        return kid
