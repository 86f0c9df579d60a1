"""TokenVerifier and SigningKeyCache: what counts as a valid access token, and key refresh."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from swarmcast.auth.v1 import auth_pb2
from swarmcast.events.v1 import events_pb2

from services.common.identity import (
    InvalidToken,
    KeysUnavailable,
    SigningKeyCache,
    TokenVerifier,
    UnknownKeyId,
    issued_at_ms,
)
from services.common.revocation import Cutoff, RevocationList, cutoff_event

ISSUER = "swarmcast-auth"
AUDIENCE = "swarmcast"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "42",
        "email": "ada@example.com",
        "email_verified": True,
        "roles": ["operator"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": "abc123",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Ed25519PrivateKey, kid: str = "k1", **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, algorithm="EdDSA", headers={"kid": kid})


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def verifier(key: Ed25519PrivateKey) -> TokenVerifier:
    return TokenVerifier({"k1": key.public_key()}, issuer=ISSUER, audience=AUDIENCE)


def test_valid_token_verifies(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    identity = verifier.verify(sign(key))
    assert identity.user_id == "42"
    assert identity.user_id_int == 42
    assert identity.email == "ada@example.com"
    assert identity.email_verified is True
    assert identity.roles == ("operator",)
    assert identity.is_operator
    assert identity.token_id == "abc123"


def test_ordinary_user_is_not_operator(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    identity = verifier.verify(sign(key, roles=[]))
    assert not identity.is_operator


def test_tampered_payload_is_rejected(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    header, _payload, signature = sign(key).split(".")
    forged_payload = b64(claims(sub="1", roles=["operator"]))
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{forged_payload}.{signature}")


def test_token_signed_by_another_key_is_rejected(verifier: TokenVerifier) -> None:
    other = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidToken):
        verifier.verify(sign(other, kid="k1"))


def test_unknown_kid_is_rejected(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    with pytest.raises(UnknownKeyId):
        verifier.verify(sign(key, kid="nope"))


def test_missing_kid_is_rejected(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(), key, algorithm="EdDSA")
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_alg_none_is_rejected(verifier: TokenVerifier) -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{b64(claims())}."
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_hs256_with_public_key_as_secret_is_rejected(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    # The classic key-confusion attack: HMAC keyed with the (public) verification key.
    secret = public_pem(key).encode()
    header = b64({"alg": "HS256", "typ": "JWT", "kid": "k1"})
    payload = b64(claims())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{payload}.{signature}")


def test_expired_token_is_rejected(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    now = int(time.time())
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(sign(key, iat=now - 3600, exp=now - 60))


def test_wrong_audience_is_rejected(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, aud="someone-else"))


def test_wrong_issuer_is_rejected(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, iss="evil-auth"))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub"])
def test_required_claims(key: Ed25519PrivateKey, verifier: TokenVerifier, missing: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, **{missing: None}))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 10_000])
def test_garbage_is_rejected(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(garbage)


def test_malformed_roles_are_rejected(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, roles="operator"))


# --- SigningKeyCache


class FakeAuth:
    """Stands in for AuthService/GetSigningKeys: a key set that tests rotate, or an outage."""

    def __init__(self, *keys: tuple[str, Ed25519PrivateKey]) -> None:
        self.keys = list(keys)
        self.calls = 0
        self.error: grpc.StatusCode | None = None

    async def fetch(self) -> auth_pb2.GetSigningKeysResponse:
        self.calls += 1
        if self.error is not None:
            raise grpc.aio.AioRpcError(self.error, grpc.aio.Metadata(), grpc.aio.Metadata(), "down")
        return auth_pb2.GetSigningKeysResponse(
            keys=[
                auth_pb2.SigningKey(kid=k, algorithm="EdDSA", public_key_pem=public_pem(v))
                for k, v in self.keys
            ],
            issuer=ISSUER,
            audience=AUDIENCE,
        )


def cache_for(auth: FakeAuth, **kwargs: float) -> SigningKeyCache:
    return SigningKeyCache(fetch=auth.fetch, issuer=ISSUER, audience=AUDIENCE, **kwargs)


async def test_cache_fetches_once_and_verifies(key: Ed25519PrivateKey) -> None:
    auth = FakeAuth(("k1", key))
    cache = cache_for(auth)
    for _ in range(5):
        assert (await cache.verify(sign(key))).user_id == "42"
    assert auth.calls == 1


async def test_cache_refreshes_on_unknown_kid_so_rotation_works(key: Ed25519PrivateKey) -> None:
    auth = FakeAuth(("k1", key))
    cache = cache_for(auth, min_refresh_interval=0.0)
    await cache.verify(sign(key))
    rotated = Ed25519PrivateKey.generate()
    auth.keys.append(("k2", rotated))
    assert (await cache.verify(sign(rotated, kid="k2"))).user_id == "42"
    assert auth.calls == 2
    # Tokens of the old key keep verifying after the rotation.
    await cache.verify(sign(key))


async def test_unknown_kid_refreshes_are_rate_limited(key: Ed25519PrivateKey) -> None:
    auth = FakeAuth(("k1", key))
    cache = cache_for(auth, min_refresh_interval=60.0)
    await cache.verify(sign(key))
    for i in range(20):
        with pytest.raises(UnknownKeyId):
            await cache.verify(sign(key, kid=f"random-{i}"))
    assert auth.calls == 1


async def test_periodic_refresh(key: Ed25519PrivateKey) -> None:
    auth = FakeAuth(("k1", key))
    cache = cache_for(auth, refresh_interval=0.0, min_refresh_interval=0.0)
    await cache.verify(sign(key))
    await cache.verify(sign(key))
    assert auth.calls == 2


async def test_forged_token_is_rejected_without_fetching(key: Ed25519PrivateKey) -> None:
    auth = FakeAuth(("k1", key))
    cache = cache_for(auth)
    with pytest.raises(InvalidToken):
        await cache.verify("not-a-jwt")
    assert auth.calls == 0


async def test_auth_unreachable_without_keys_is_unavailable(key: Ed25519PrivateKey) -> None:
    auth = FakeAuth(("k1", key))
    auth.error = grpc.StatusCode.UNAVAILABLE
    cache = cache_for(auth)
    with pytest.raises(KeysUnavailable):
        await cache.verify(sign(key))


async def test_auth_outage_keeps_known_keys(key: Ed25519PrivateKey) -> None:
    auth = FakeAuth(("k1", key))
    cache = cache_for(auth, refresh_interval=0.0, min_refresh_interval=0.0)
    await cache.verify(sign(key))
    auth.error = grpc.StatusCode.UNAVAILABLE
    assert (await cache.verify(sign(key))).user_id == "42"


async def test_auth_answering_an_error_means_no_keys(key: Ed25519PrivateKey) -> None:
    # Auth is up but can't offer keys: tokens are unverifiable (UNAUTHENTICATED), not "unavailable".
    auth = FakeAuth(("k1", key))
    auth.error = grpc.StatusCode.UNIMPLEMENTED
    cache = cache_for(auth)
    with pytest.raises(UnknownKeyId):
        await cache.verify(sign(key))


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"iat": 100, "iat_ms": 100_250}, 100_250),
        ({"iat": 100}, 100_000),  # minted before `iat_ms` existed: the start of its second
        ({"iat": 100, "iat_ms": 99_999}, 100_000),  # disagrees with `iat`: never trusted
        ({"iat": 100, "iat_ms": 101_000}, 100_000),
        ({"iat": 100, "iat_ms": True}, 100_000),
        ({"iat": 100, "iat_ms": "100250"}, 100_000),
    ],
)
def test_issue_time_in_milliseconds(claims: dict[str, Any], expected: int) -> None:
    assert issued_at_ms(claims) == expected


def test_a_cutoff_is_kept_in_milliseconds_and_never_moves_back() -> None:
    revocations = RevocationList()
    revocations.apply(events_pb2.TokenCutoff(user_id="7", not_before=100))  # an older auth's event
    assert revocations.cutoff("7") == Cutoff(100_000)
    revocations.apply(cutoff_event(7, 100_250))
    assert revocations.cutoff("7") == Cutoff(100_250)
    revocations.apply(cutoff_event(7, 90_000))
    assert revocations.cutoff("7") == Cutoff(100_250)
    revocations.apply(cutoff_event(7, 0, deleted=True))
    assert revocations.cutoff("7") == Cutoff(100_250, deleted=True)
