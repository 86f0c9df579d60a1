"""Access-token claims, verification failures, the key ring and rotation; opaque tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.auth.keys import KeyRing
from services.auth.keytool import main as keys_main
from services.auth.settings import AuthSettings
from services.auth.tokens import (
    MAX_ACCESS_TTL_SECONDS,
    AccessTokenCodec,
    TokenError,
    hash_opaque_token,
    looks_like_opaque_token,
    new_opaque_token,
)
from services.common.identity import TokenVerifier, load_public_key
from tests.fixtures.settings import settings_for

ISS, AUD = "swarmcast-auth", "swarmcast"


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing.open(tmp_path / "keys")


@pytest.fixture
def codec(ring: KeyRing) -> AccessTokenCodec:
    return AccessTokenCodec(ring, issuer=ISS, audience=AUD, ttl_seconds=900)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _issue(codec: AccessTokenCodec, **kw: object) -> str:
    args: dict[str, object] = {"user_id": 42, "email": "a@example.com", "email_verified": True, "roles": ()}
    args.update(kw)
    return codec.issue(**args).token  # type: ignore[arg-type]


def test_claims_and_header(codec: AccessTokenCodec, ring: KeyRing) -> None:
    issued = codec.issue(user_id=42, email="a@example.com", email_verified=False, roles=["operator"])
    header = jwt.get_unverified_header(issued.token)
    assert header == {"alg": "EdDSA", "kid": ring.active().kid, "typ": "JWT"}
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert set(claims) == {
        "sub",
        "email",
        "email_verified",
        "roles",
        "iat",
        "iat_ms",
        "exp",
        "iss",
        "aud",
        "jti",
    }
    assert claims["iat_ms"] // 1000 == claims["iat"]
    assert claims["sub"] == "42" and isinstance(claims["sub"], str)
    assert claims["email"] == "a@example.com"
    assert claims["email_verified"] is False
    assert claims["roles"] == ["operator"]
    assert claims["iss"] == ISS and claims["aud"] == AUD
    assert claims["exp"] - claims["iat"] == 900 == issued.expires_in
    assert len(claims["jti"]) == 32
    parsed = codec.verify(issued.token)
    assert (parsed.user_id, parsed.email, parsed.roles) == (42, "a@example.com", ("operator",))
    assert parsed.kid == header["kid"] and parsed.email_verified is False


def test_each_token_has_a_fresh_jti(codec: AccessTokenCodec) -> None:
    assert codec.verify(_issue(codec)).jti != codec.verify(_issue(codec)).jti


def test_ttl_is_capped_at_one_hour(ring: KeyRing) -> None:
    long = AccessTokenCodec(ring, issuer=ISS, audience=AUD, ttl_seconds=86_400)
    assert long.ttl_seconds == MAX_ACCESS_TTL_SECONDS
    with pytest.raises(ValueError):
        AccessTokenCodec(ring, issuer=ISS, audience=AUD, ttl_seconds=0)


def test_shared_verifier_accepts_our_tokens(codec: AccessTokenCodec, ring: KeyRing) -> None:
    """Every other service checks tokens with services.common.identity.TokenVerifier."""
    keys = {k.kid: load_public_key(k.public_pem()) for k in ring.all()}
    identity = TokenVerifier(keys, issuer=ISS, audience=AUD).verify(_issue(codec, roles=["operator"]))
    assert identity.user_id == "42" and identity.is_operator and identity.email_verified


def test_tampered_payload_is_rejected(codec: AccessTokenCodec) -> None:
    header, payload, signature = _issue(codec).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "1"
    with pytest.raises(TokenError, match="invalid"):
        codec.verify(f"{header}.{_b64(claims)}.{signature}")


def test_tampered_signature_is_rejected(codec: AccessTokenCodec) -> None:
    token = _issue(codec)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(TokenError):
        codec.verify(flipped)


def test_token_signed_by_another_key_is_rejected(codec: AccessTokenCodec, ring: KeyRing) -> None:
    foreign = Ed25519PrivateKey.generate()
    payload = jwt.decode(_issue(codec), options={"verify_signature": False})
    # Same kid as ours, different key: the signature does not match.
    forged = jwt.encode(payload, foreign, algorithm="EdDSA", headers={"kid": ring.active().kid})
    with pytest.raises(TokenError):
        codec.verify(forged)
    # An unknown kid is rejected too (after one re-read of the key folder).
    with pytest.raises(TokenError):
        codec.verify(jwt.encode(payload, foreign, algorithm="EdDSA", headers={"kid": "not-ours"}))


def test_alg_none_is_rejected(codec: AccessTokenCodec, ring: KeyRing) -> None:
    payload = jwt.decode(_issue(codec), options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': ring.active().kid})}.{_b64(payload)}."
    with pytest.raises(TokenError):
        codec.verify(unsigned)


def test_hs256_with_the_public_key_is_rejected(codec: AccessTokenCodec, ring: KeyRing) -> None:
    payload = jwt.decode(_issue(codec), options={"verify_signature": False})
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": ring.active().kid})
    signing_input = f"{header}.{_b64(payload)}"
    mac = hmac.new(ring.active().public_pem().encode(), signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(TokenError):
        codec.verify(confused)


def test_expired_token_is_rejected(ring: KeyRing) -> None:
    past = AccessTokenCodec(ring, issuer=ISS, audience=AUD, ttl_seconds=60, clock=lambda: 1_000_000.0)
    token = _issue(past)
    now = AccessTokenCodec(ring, issuer=ISS, audience=AUD, ttl_seconds=60)
    with pytest.raises(TokenError, match="expired"):
        now.verify(token)


@pytest.mark.parametrize("field", ["iss", "aud"])
def test_wrong_issuer_or_audience_is_rejected(ring: KeyRing, codec: AccessTokenCodec, field: str) -> None:
    other = AccessTokenCodec(
        ring,
        issuer="someone-else" if field == "iss" else ISS,
        audience="someone-else" if field == "aud" else AUD,
        ttl_seconds=60,
    )
    with pytest.raises(TokenError):
        codec.verify(_issue(other))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 10_000, "eyJhbGciOiJFZERTQSJ9.e30.", "\x00"])
def test_garbage_is_rejected_without_crashing(codec: AccessTokenCodec, garbage: str) -> None:
    with pytest.raises(TokenError):
        codec.verify(garbage)


def test_rotation_keeps_old_tokens_valid(ring: KeyRing, codec: AccessTokenCodec) -> None:
    old_kid = ring.active().kid
    old_token = _issue(codec)
    new_key = ring.rotate()
    assert new_key.kid != old_kid and ring.active().kid == new_key.kid
    assert codec.verify(old_token).kid == old_kid
    new_token = _issue(codec)
    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
    assert [k.kid for k in ring.all()] == [new_key.kid, old_kid]  # newest first


def test_rotation_in_another_replica_is_picked_up(tmp_path: Path) -> None:
    """Two replicas share the key folder: a token signed after replica A rotated verifies in B."""
    a = KeyRing.open(tmp_path / "shared")
    b = KeyRing.open(tmp_path / "shared")
    assert a.active().kid == b.active().kid  # the first start created exactly one key
    a.rotate()
    token = _issue(AccessTokenCodec(a, issuer=ISS, audience=AUD, ttl_seconds=60))
    verifier_b = AccessTokenCodec(b, issuer=ISS, audience=AUD, ttl_seconds=60)
    assert verifier_b.verify(token).kid == a.active().kid


def test_removing_a_retired_key_invalidates_its_tokens(ring: KeyRing, codec: AccessTokenCodec) -> None:
    old_kid = ring.active().kid
    old_token = _issue(codec)
    with pytest.raises(ValueError):
        ring.remove(old_kid)  # the active key cannot go
    ring.rotate()
    ring.remove(old_kid)
    with pytest.raises(TokenError):
        codec.verify(old_token)


def test_key_files_are_private_and_reloadable(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path / "keys")
    kid = ring.active().kid
    path = tmp_path / "keys" / f"{kid}.pem"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert KeyRing.open(tmp_path / "keys").active().kid == kid  # reopening does not add a key
    (tmp_path / "keys" / "junk.pem").write_text("not a key")
    assert [k.kid for k in KeyRing.open(tmp_path / "keys").all()] == [kid]


def test_opaque_tokens() -> None:
    token = new_opaque_token()
    assert len(token) == 43 and looks_like_opaque_token(token)  # 256 bits, URL-safe base64
    assert new_opaque_token() != token
    digest = hash_opaque_token(token)
    assert len(digest) == 64 and token not in digest
    assert hash_opaque_token(token) == digest
    for bad in ("", "short", "x" * 500, "a" * 40 + "!", "a" * 40 + "\x00", "\ud800" * 40):
        assert not looks_like_opaque_token(bad)


def test_operator_key_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_for(AuthSettings, signing_key_dir=tmp_path / "ops-keys")
    assert keys_main(["list"], settings) == 0
    first = KeyRing.open(tmp_path / "ops-keys").active().kid
    assert keys_main(["rotate"], settings) == 0
    second = KeyRing.open(tmp_path / "ops-keys").active().kid
    assert second != first
    assert keys_main(["remove", second], settings) == 1  # never the active key
    assert keys_main(["remove", "no-such-key"], settings) == 1
    assert keys_main(["remove", first], settings) == 0
    assert [k.kid for k in KeyRing.open(tmp_path / "ops-keys").all()] == [second]
    out = capsys.readouterr()
    assert "new active key" in out.out and "cannot be removed" in out.err
    assert "PRIVATE" not in out.out + out.err
