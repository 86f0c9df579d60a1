"""Forged and stale access tokens over gRPC; key rotation; other services' local verification."""

from __future__ import annotations

import base64
import json
import time

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from swarmcast.auth.v1 import auth_pb2

from services.auth.keys import KeyRing
from services.auth.tests.support import AuthNode, Client, rpc_error, unique_email
from services.common.identity import SigningKeyCache

UNAUTH = grpc.StatusCode.UNAUTHENTICATED


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


async def _valid_token(client: Client) -> str:
    return (await client.register(unique_email("tok"), "token password")).access_token


def _forgeries(token: str, active_kid: str) -> dict[str, str]:
    header, payload, signature = token.split(".")
    claims = _claims(token)
    foreign = Ed25519PrivateKey.generate()
    escalated = dict(claims, roles=["operator"])
    expired = dict(claims, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    flipped = "AAAA" if signature[-4:] != "AAAA" else "BBBB"
    return {
        "tampered payload": f"{header}.{_b64(escalated)}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[:-4]}{flipped}",
        "another key, our kid": jwt.encode(claims, foreign, algorithm="EdDSA", headers={"kid": active_kid}),
        "another key, its own kid": jwt.encode(
            claims, foreign, algorithm="EdDSA", headers={"kid": "attacker"}
        ),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': active_kid})}.{_b64(escalated)}.",
        "alg none, no signature part": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(escalated)}",
        "HS256": jwt.encode(
            claims, "a-shared-secret-that-is-32-bytes-long!", algorithm="HS256", headers={"kid": active_kid}
        ),
        "expired (properly signed)": jwt.encode(
            expired, foreign, algorithm="EdDSA", headers={"kid": active_kid}
        ),
        "garbage": "not.a.token",
    }


async def test_forged_tokens_are_unauthenticated(auth_node: AuthNode, auth_client: Client) -> None:
    token = await _valid_token(auth_client)
    assert (await auth_client.call("GetUser", auth_pb2.GetUserRequest(), token=token)).user.id
    active = auth_node.service.keys.active()
    forgeries = _forgeries(token, active.kid)
    # A genuinely expired token signed by the real key.
    claims = _claims(token)
    forgeries["expired (real key)"] = jwt.encode(
        dict(claims, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        active.private_key,
        algorithm="EdDSA",
        headers={"kid": active.kid},
    )
    for name, forged in forgeries.items():
        via_authenticate = await rpc_error(
            auth_client.call("Authenticate", auth_pb2.AuthenticateRequest(access_token=forged))
        )
        assert via_authenticate.code() is UNAUTH, name
        via_rpc = await rpc_error(auth_client.call("GetUser", auth_pb2.GetUserRequest(), token=forged))
        assert via_rpc.code() is UNAUTH, name
        assert forged not in (via_authenticate.details() or "") + (via_rpc.details() or "")
    expired = await rpc_error(
        auth_client.call(
            "Authenticate", auth_pb2.AuthenticateRequest(access_token=forgeries["expired (real key)"])
        )
    )
    assert "expired" in (expired.details() or "")


async def test_malformed_authorization_metadata_is_unauthenticated(auth_client: Client) -> None:
    token = await _valid_token(auth_client)
    for value in (token, f"Basic {token}", "Bearer", "Bearer " + "x" * 9000):
        err = await rpc_error(
            auth_client.stub.GetUser(
                auth_pb2.GetUserRequest(), metadata=(("authorization", value),), timeout=10
            )
        )
        assert err.code() is UNAUTH, value[:20]


async def test_key_rotation_keeps_everyone_logged_in(auth_node: AuthNode, auth_client: Client) -> None:
    c = auth_client
    email = unique_email("rotate")
    before = await c.register(email, "rotation password")
    old_kid = jwt.get_unverified_header(before.access_token)["kid"]

    # Rotate as an operator would: a new key file in the shared folder (another process).
    new_key = KeyRing(auth_node.auth_settings.signing_key_dir)
    new_key.reload()
    new_kid = new_key.rotate().kid
    assert new_kid != old_kid

    # GetSigningKeys lists both (it re-reads the folder), the new one active.
    keys = await c.call("GetSigningKeys", auth_pb2.GetSigningKeysRequest())
    listed = {k.kid: k for k in keys.keys}
    assert {old_kid, new_kid} <= set(listed)
    assert listed[new_kid].active and not listed[old_kid].active
    assert all(k.algorithm == "EdDSA" and "BEGIN PUBLIC KEY" in k.public_key_pem for k in keys.keys)
    assert "PRIVATE" not in str(keys)
    assert (
        keys.issuer == auth_node.settings.token_issuer and keys.audience == auth_node.settings.token_audience
    )

    # New tokens carry the new kid; the old token still verifies everywhere.
    after = await c.login(email, "rotation password")
    assert jwt.get_unverified_header(after.access_token)["kid"] == new_kid
    for token in (before.access_token, after.access_token):
        await c.call("Authenticate", auth_pb2.AuthenticateRequest(access_token=token))
        await c.call("GetUser", auth_pb2.GetUserRequest(), token=token)

    # Other services verify locally from GetSigningKeys (the shared SigningKeyCache).
    cache = SigningKeyCache.from_channel(
        auth_node.channel, issuer=auth_node.settings.token_issuer, audience=auth_node.settings.token_audience
    )
    for token in (before.access_token, after.access_token):
        identity = await cache.verify(token)
        assert identity.email == email and identity.user_id == str(after.user.id)
        assert identity.email_verified is False


async def test_require_verified_email_claim_is_in_the_token(auth_node: AuthNode, auth_client: Client) -> None:
    reg = await auth_client.register(unique_email("claims"), "claims password")
    claims = _claims(reg.access_token)
    assert claims["email_verified"] is False and claims["sub"] == str(reg.user.id)
    assert claims["exp"] - claims["iat"] == auth_node.auth_settings.access_token_ttl_seconds <= 3600  # type: ignore[operator]
