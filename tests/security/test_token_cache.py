"""The verified-token cache of `TokenVerifier` never extends a token's life or trust."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.identity import VERIFIED_CACHE_SIZE, InvalidToken, TokenVerifier, UnknownKeyId

ISSUER, AUDIENCE, KID = "swarmcast-auth", "swarmcast", "k1"


def token(key: Ed25519PrivateKey, *, sub: str = "7", ttl: int = 60, kid: str = KID) -> str:
    now = int(time.time())
    claims = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl, "roles": []}
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


def verifier(key: Ed25519PrivateKey, leeway: float = 0.0) -> TokenVerifier:
    return TokenVerifier({KID: key.public_key()}, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=leeway)


def test_a_cached_token_still_expires() -> None:
    key = Ed25519PrivateKey.generate()
    check = verifier(key)
    value = token(key, ttl=1)
    assert check.verify(value).user_id == "7"
    assert check.verify(value).user_id == "7"  # from the cache
    time.sleep(2.1)  # past exp (whole seconds) with no leeway
    with pytest.raises(InvalidToken):
        check.verify(value)


def test_the_cache_is_per_key_set_and_bounded() -> None:
    key = Ed25519PrivateKey.generate()
    value = token(key)
    assert verifier(key).verify(value).user_id == "7"
    # A verifier without that key (after a key withdrawal) checks again and refuses.
    other = TokenVerifier({KID: Ed25519PrivateKey.generate().public_key()}, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(InvalidToken):
        other.verify(value)
    with pytest.raises(UnknownKeyId):
        TokenVerifier({}, issuer=ISSUER, audience=AUDIENCE).verify(value)
    check = verifier(key)
    for i in range(VERIFIED_CACHE_SIZE + 10):
        check.verify(token(key, sub=str(i)))
    assert len(check._verified) == VERIFIED_CACHE_SIZE


def test_a_rejected_token_is_never_cached() -> None:
    key = Ed25519PrivateKey.generate()
    check = verifier(key)
    forged = token(Ed25519PrivateKey.generate())
    for _ in range(2):
        with pytest.raises(InvalidToken):
            check.verify(forged)
    assert not check._verified
