"""Password policy and bcrypt hashing.

bcrypt only looks at the first 72 bytes of its input (bcrypt >= 5 refuses longer input, older
versions truncate silently). A 128-character password can be 512 UTF-8 bytes, so every password
is pre-hashed to a fixed 44-byte ASCII string before bcrypt sees it:

    bcrypt( base64( HMAC-SHA256(PREHASH_KEY, NFKC(password)) ) )

- base64 keeps NUL bytes (which bcrypt rejects) out of the bcrypt input;
- the fixed HMAC key is a domain separator: a leaked plain `sha256(password)` list from some other
  site cannot be fed straight into our bcrypt hashes ("password shucking");
- NFKC makes the same password typed on different keyboards/IMEs hash the same (NIST 800-63B).

bcrypt runs in a worker thread so the event loop keeps serving other RPCs, behind a semaphore so a
login flood cannot starve every CPU, and with admission control in front of the semaphore: when
`max_waiting` calls already wait for a slot, or a slot is not free within `max_wait_seconds`, the
call fails at once with `HasherBusy` (RESOURCE_EXHAUSTED with a retry delay) instead of queueing
for tens of seconds until every caller's deadline has passed.

New passwords are refused when they are among the most common ones: the `passwords` frequency
list shipped with the `zxcvbn` package (30,000 entries from leaked-password corpora; offline, no
network lookup), compared case-insensitively after NFKC normalisation.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import os
import time
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import bcrypt
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from services.common.errors import ResourceExhausted

MIN_LENGTH = 8
MAX_LENGTH = 128
# Never hash below this cost, whatever the configuration says.
BCRYPT_MIN_ROUNDS = 12
PREHASH_KEY = b"swarmcast.auth.password.v1"
COMMON_PASSWORD_MESSAGE = "password is one of the most commonly used passwords; choose another"
T = TypeVar("T")


class PasswordPolicyError(ValueError):
    """The password is not acceptable; the message is safe to show (it never echoes the password)."""


def _check_characters(password: str) -> None:
    for ch in password:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise PasswordPolicyError("password must be valid Unicode text")
        # Cc: NUL, newlines, escapes... never typed on purpose, and they break other tooling.
        if unicodedata.category(ch) == "Cc":
            raise PasswordPolicyError("password must not contain control characters")


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The common-password list (lower case), loaded once on first use."""
    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"] if len(p) >= MIN_LENGTH)


def is_common_password(normalized: str) -> bool:
    return normalized.lower() in common_passwords()


def check_new_password(password: str) -> str:
    """Validates a password being set (register, change, reset); returns the normalised form."""
    if not isinstance(password, str) or not password:
        raise PasswordPolicyError("password is required")
    # Cheap bound before normalising so a huge input costs nothing.
    if len(password) > MAX_LENGTH * 4:
        raise PasswordPolicyError(f"password must be at most {MAX_LENGTH} characters")
    _check_characters(password)
    normalized = normalize_password(password)
    if len(normalized) < MIN_LENGTH:
        raise PasswordPolicyError(f"password must be at least {MIN_LENGTH} characters")
    if len(normalized) > MAX_LENGTH:
        raise PasswordPolicyError(f"password must be at most {MAX_LENGTH} characters")
    if is_common_password(normalized):
        raise PasswordPolicyError(COMMON_PASSWORD_MESSAGE)
    return normalized


def check_presented_password(password: str, field: str = "password") -> str:
    """Validates a password presented for checking (login, current password).

    Only the shape is checked (no minimum length): the answer must not depend on the account.
    """
    if not isinstance(password, str) or not password:
        raise PasswordPolicyError(f"{field} is required")
    if len(password) > MAX_LENGTH * 4:
        raise PasswordPolicyError(f"{field} must be at most {MAX_LENGTH} characters")
    try:
        _check_characters(password)
    except PasswordPolicyError as exc:
        raise PasswordPolicyError(str(exc).replace("password", field, 1)) from None
    normalized = normalize_password(password)
    if len(normalized) > MAX_LENGTH:
        raise PasswordPolicyError(f"{field} must be at most {MAX_LENGTH} characters")
    return normalized


def prehash(password: str) -> bytes:
    """The 44-byte bcrypt input for a password (see the module docstring)."""
    digest = hmac.new(PREHASH_KEY, normalize_password(password).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_cost(hashed: str) -> int | None:
    """The cost factor of a `$2b$12$...` hash, or None when it is not a bcrypt hash."""
    parts = hashed.split("$")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return int(parts[2])


class HasherBusy(ResourceExhausted):
    """Too many password checks already queued: RESOURCE_EXHAUSTED with a retry delay."""


class _Admission:
    """A semaphore with a bounded, deadline-limited wait queue (see the module docstring)."""

    def __init__(self, slots: int, max_waiting: int, max_wait_seconds: float) -> None:
        self.slots = max(1, slots)
        self.max_waiting = max(0, max_waiting)
        self.max_wait_seconds = max(0.0, max_wait_seconds)
        self._semaphore = asyncio.Semaphore(self.slots)
        self.waiting = 0
        # Moving average of one hash's duration, for the retry delay we suggest.
        self._average = 0.25

    def _busy(self) -> HasherBusy:
        backlog = (self.waiting + self.slots) / self.slots * self._average
        return HasherBusy("the sign-in service is busy; try again shortly", float(max(1, math.ceil(backlog))))

    async def run(self, work: Callable[[], T]) -> T:
        if self._semaphore.locked():
            if self.waiting >= self.max_waiting:
                raise self._busy()
            self.waiting += 1
            try:
                # 0 means "no deadline": only the queue length bounds the wait.
                async with asyncio.timeout(self.max_wait_seconds or None):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise self._busy() from None
            finally:
                self.waiting -= 1
        else:
            await self._semaphore.acquire()
        try:
            started = time.monotonic()
            result = await asyncio.to_thread(work)
            self._average = 0.8 * self._average + 0.2 * (time.monotonic() - started)
            return result
        finally:
            self._semaphore.release()


class PasswordHasher:
    """bcrypt with a cost floor, a dummy hash for unknown accounts, off-loop hashing and a bounded
    queue (`max_waiting` callers, each waiting at most `max_wait_seconds`, else `HasherBusy`)."""

    def __init__(
        self,
        rounds: int = BCRYPT_MIN_ROUNDS,
        max_concurrency: int | None = None,
        *,
        max_waiting: int = 32,
        max_wait_seconds: float = 2.0,
    ) -> None:
        self.rounds = max(int(rounds), BCRYPT_MIN_ROUNDS)
        self._admission = _Admission(
            max_concurrency or max(2, (os.cpu_count() or 2)), max_waiting, max_wait_seconds
        )
        self._dummy: bytes | None = None

    def hash_sync(self, password: str) -> str:
        return bcrypt.hashpw(prehash(password), bcrypt.gensalt(self.rounds)).decode("ascii")

    @staticmethod
    def verify_sync(password: str, hashed: str) -> bool:
        try:
            return bcrypt.checkpw(prehash(password), hashed.encode("ascii"))
        except ValueError:  # not a bcrypt hash (corrupt row): a failed check, not a crash
            return False

    async def hash(self, password: str) -> str:
        return await self._admission.run(lambda: self.hash_sync(password))

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Checks `password` against `hashed`; with no hash (unknown account) it does the same bcrypt
        work against a dummy hash and returns False, so timing does not reveal whether it exists."""
        if hashed is None:
            dummy = await self._dummy_hash()
            await self._admission.run(lambda: bcrypt.checkpw(prehash(password), dummy))
            return False
        return await self._admission.run(lambda: self.verify_sync(password, hashed))

    def needs_rehash(self, hashed: str) -> bool:
        """True when a stored hash is weaker than the configured cost (upgrade it on next login)."""
        cost = hash_cost(hashed)
        return cost is None or cost < self.rounds

    async def _dummy_hash(self) -> bytes:
        # Computed once, at the configured cost, so a dummy check costs what a real one does.
        if self._dummy is None:
            dummy = await asyncio.to_thread(
                bcrypt.hashpw, prehash(base64.b64encode(os.urandom(24)).decode()), bcrypt.gensalt(self.rounds)
            )
            self._dummy = dummy
        return self._dummy

    async def warm_up(self) -> None:
        """Computes the dummy hash now (at startup) instead of on the first unknown-email login."""
        await self._dummy_hash()
