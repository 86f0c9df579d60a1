"""Password policy and hashing: length bounds, the 72-byte bcrypt limit, cost floor, dummy work."""

from __future__ import annotations

import asyncio
import time

import bcrypt
import pytest

from services.auth.passwords import (
    BCRYPT_MIN_ROUNDS,
    COMMON_PASSWORD_MESSAGE,
    MAX_LENGTH,
    MIN_LENGTH,
    HasherBusy,
    PasswordHasher,
    PasswordPolicyError,
    check_new_password,
    check_presented_password,
    hash_cost,
    prehash,
)

# One hasher for the module: bcrypt at cost 12 is ~0.25 s per hash, so hashes are shared.
HASHER = PasswordHasher(rounds=12)


@pytest.fixture(scope="module")
def long_pair() -> tuple[str, str, str]:
    """Two 100-character passwords that share their first 80 characters (> 72 bytes)."""
    common = "p" * 80
    first, second = common + "A" * 20, common + "B" * 20
    return first, second, HASHER.hash_sync(first)


def test_length_bounds() -> None:
    assert check_new_password("x" * MIN_LENGTH) == "x" * MIN_LENGTH
    assert check_new_password("x" * MAX_LENGTH) == "x" * MAX_LENGTH
    with pytest.raises(PasswordPolicyError, match="at least 8"):
        check_new_password("x" * (MIN_LENGTH - 1))
    with pytest.raises(PasswordPolicyError, match="at most 128"):
        check_new_password("x" * (MAX_LENGTH + 1))
    with pytest.raises(PasswordPolicyError, match="required"):
        check_new_password("")
    with pytest.raises(PasswordPolicyError, match="at most 128"):
        check_new_password("x" * 10_000)


def test_length_counts_characters_not_bytes() -> None:
    # 128 four-byte characters: 512 UTF-8 bytes, still a legal password.
    emoji = "\U0001f512" * MAX_LENGTH
    assert check_new_password(emoji) == emoji


@pytest.mark.parametrize("bad", ["abc\x00defgh", "abcdefgh\n", "abc\x1bdefgh", "abcd\ud800efgh"])
def test_control_characters_and_lone_surrogates_are_rejected(bad: str) -> None:
    with pytest.raises(PasswordPolicyError):
        check_new_password(bad)
    with pytest.raises(PasswordPolicyError):
        check_presented_password(bad)


def test_presented_password_has_no_minimum_but_a_maximum() -> None:
    assert check_presented_password("short") == "short"
    with pytest.raises(PasswordPolicyError, match="current_password"):
        check_presented_password("", "current_password")
    with pytest.raises(PasswordPolicyError):
        check_presented_password("x" * (MAX_LENGTH + 1))


def test_policy_errors_never_echo_the_password() -> None:
    secret = "hunter2\x00hunter2"
    with pytest.raises(PasswordPolicyError) as info:
        check_new_password(secret)
    assert "hunter2" not in str(info.value)


def test_prehash_is_fixed_size_ascii_without_nul() -> None:
    for password in ("a" * 8, "\U0001f512" * 128, "x" * 500):
        digest = prehash(password)
        assert len(digest) == 44 < 72
        assert b"\x00" not in digest
        digest.decode("ascii")


def test_unicode_normalisation_makes_equivalent_spellings_equal() -> None:
    composed, decomposed = "caf\u00e9-pass", "cafe\u0301-pass"
    assert prehash(composed) == prehash(decomposed)


def test_passwords_sharing_the_first_72_bytes_do_not_match(long_pair: tuple[str, str, str]) -> None:
    first, second, hashed = long_pair
    assert first.encode()[:72] == second.encode()[:72]
    assert PasswordHasher.verify_sync(first, hashed)
    assert not PasswordHasher.verify_sync(second, hashed)
    # What a naive implementation would do: bcrypt over the truncated raw bytes would match both.
    naive = bcrypt.hashpw(first.encode()[:72], bcrypt.gensalt(4))
    assert bcrypt.checkpw(second.encode()[:72], naive)


def test_cost_floor_is_enforced() -> None:
    assert PasswordHasher(rounds=4).rounds == BCRYPT_MIN_ROUNDS
    assert PasswordHasher(rounds=13).rounds == 13
    assert hash_cost("$2b$12$" + "x" * 53) == 12
    assert hash_cost("not a hash") is None


def test_stored_hash_is_bcrypt_at_the_configured_cost(long_pair: tuple[str, str, str]) -> None:
    _, _, hashed = long_pair
    assert hashed.startswith("$2b$12$") and len(hashed) == 60
    assert not HASHER.needs_rehash(hashed)
    assert PasswordHasher(rounds=13).needs_rehash(hashed)


def test_corrupt_hash_is_a_failed_check_not_a_crash() -> None:
    assert not PasswordHasher.verify_sync("whatever-password", "garbage")


async def test_async_verify_and_dummy_work(long_pair: tuple[str, str, str]) -> None:
    first, second, hashed = long_pair
    assert await HASHER.verify(first, hashed)
    assert not await HASHER.verify(second, hashed)
    await HASHER.warm_up()
    # Unknown account: same bcrypt work against the dummy hash, always False.
    started = time.perf_counter()
    assert not await HASHER.verify(first, None)
    dummy_elapsed = time.perf_counter() - started
    started = time.perf_counter()
    await HASHER.verify(second, hashed)
    real_elapsed = time.perf_counter() - started
    assert dummy_elapsed > 0.3 * real_elapsed  # same order of magnitude: a bcrypt ran


async def test_hashing_does_not_block_the_event_loop() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await HASHER.hash("a-password-to-hash")
    finally:
        task.cancel()
    assert ticks >= 5  # the loop kept running while bcrypt worked in a thread


@pytest.mark.parametrize("common", ["password123", "PASSWORD123", "iloveyou1", "12345678", "qwertyuiop"])
def test_common_passwords_are_refused(common: str) -> None:
    with pytest.raises(PasswordPolicyError) as err:
        check_new_password(common)
    assert str(err.value) == COMMON_PASSWORD_MESSAGE and common not in str(err.value)
    # Presented passwords (login) are only shape-checked: an old common password still signs in.
    assert check_presented_password(common) == common


async def test_a_full_queue_is_refused_at_once_with_a_retry_delay() -> None:
    hasher = PasswordHasher(rounds=12, max_concurrency=1, max_waiting=1, max_wait_seconds=30)
    results = await asyncio.gather(
        *(hasher.hash("queue password 1") for _ in range(5)), return_exceptions=True
    )
    busy = [r for r in results if isinstance(r, HasherBusy)]
    # One hashing, one waiting; the other three refused without waiting for either.
    assert len(busy) == 3 and all(isinstance(r, str) for r in results if r not in busy)
    assert all(b.retry_after_seconds is not None and b.retry_after_seconds >= 1 for b in busy)
    # The queue drained: the next call is served.
    assert (await hasher.hash("queue password 1")).startswith("$2b$12$")


async def test_a_wait_past_the_deadline_is_refused() -> None:
    hasher = PasswordHasher(rounds=12, max_concurrency=1, max_waiting=10, max_wait_seconds=0.01)
    results = await asyncio.gather(
        *(hasher.hash("queue password 2") for _ in range(3)), return_exceptions=True
    )
    assert sum(isinstance(r, HasherBusy) for r in results) == 2
