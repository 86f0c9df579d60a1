"""/api/auth/* and /api/profile/* against the real auth service, and the client address that auth's
rate limits see (the trusted-proxy setting, not any X-Forwarded-For)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from services.auth.tests.support import FORWARD_SECRET, AuthNode, start_auth_node
from services.common.bus import EventBus
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.tests.support import PASSWORD, Api, client_address, error_of, mail_token, unique_email
from tests.fixtures.stack import RunningStack

# --- register / login / refresh / logout ---------------------------------------------------------


def test_register_signs_in(anon: Api) -> None:
    email = unique_email()
    response = anon.http.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["token_type"] == "Bearer"
    assert data["access_token"] and data["refresh_token"]
    assert data["access_token_expires_in"] > 0
    user = data["user"]
    assert isinstance(user["id"], int)
    assert user["email"] == email and user["email_verified"] is False and user["roles"] == []


def test_register_twice_is_a_conflict(api: Api, anon: Api) -> None:
    response = anon.http.post("/api/auth/register", json={"email": api.email, "password": PASSWORD})
    error_of(response, 409, "ALREADY_EXISTS")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "ok@example.com", "password": "short"},
    ],
)
def test_register_bad_input_is_422_with_fields(anon: Api, body: dict[str, str]) -> None:
    error = error_of(anon.http.post("/api/auth/register", json=body), 422, "INVALID_ARGUMENT")
    assert error["fields"]


def test_register_body_schema_errors(anon: Api) -> None:
    error = error_of(anon.http.post("/api/auth/register", json={"email": "a@b.co"}), 422, "INVALID_ARGUMENT")
    assert "password" in error["fields"]
    extra = {"email": "a@b.co", "password": PASSWORD, "admin": True}
    error_of(anon.http.post("/api/auth/register", json=extra), 422, "INVALID_ARGUMENT")


def test_login_and_wrong_password(api: Api, anon: Api) -> None:
    ok = anon.http.post("/api/auth/login", json={"email": api.email, "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["user"]["email"] == api.email
    wrong = anon.http.post("/api/auth/login", json={"email": api.email, "password": "wrong password"})
    error_of(wrong, 401, "UNAUTHENTICATED")
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_refresh_rotates_and_logout_revokes(api: Api) -> None:
    first = api.http.post("/api/auth/refresh", json={"refresh_token": api.refresh_token})
    assert first.status_code == 200, first.text
    new_refresh = first.json()["refresh_token"]
    assert new_refresh != api.refresh_token
    # The used refresh token is spent.
    error_of(
        api.http.post("/api/auth/refresh", json={"refresh_token": api.refresh_token}), 401, "UNAUTHENTICATED"
    )
    assert api.http.post("/api/auth/logout", json={"refresh_token": new_refresh}).status_code == 204
    error_of(api.http.post("/api/auth/refresh", json={"refresh_token": new_refresh}), 401, "UNAUTHENTICATED")


# --- email verification and password reset -------------------------------------------------------


def test_verify_email_with_the_mailed_token(api: Api, stack: RunningStack) -> None:
    token = mail_token(stack.outbox_dir, api.email, "verification")
    response = api.http.get("/api/auth/verify", params={"token": token})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email_verified"] is True
    error_of(api.http.get("/api/auth/verify", params={"token": "x" * 40}), 422, "INVALID_ARGUMENT")
    error_of(api.http.get("/api/auth/verify"), 422, "INVALID_ARGUMENT")


def test_forgot_and_reset_password(api: Api, stack: RunningStack) -> None:
    unknown = api.http.post("/api/auth/forgot-password", json={"email": unique_email("nobody")})
    assert unknown.status_code == 202  # never reveals whether the address has an account
    response = api.http.post("/api/auth/forgot-password", json={"email": api.email})
    assert response.status_code == 202 and response.json()["status"] == "ok"
    token = mail_token(stack.outbox_dir, api.email, "password_reset")
    new_password = "a brand new password"
    bad = api.http.post("/api/auth/reset-password", json={"token": "nope" * 10, "new_password": new_password})
    assert bad.status_code in (401, 404, 422), bad.text
    reset = api.http.post("/api/auth/reset-password", json={"token": token, "new_password": new_password})
    assert reset.status_code == 200, reset.text
    api.login(api.email, new_password)
    error_of(
        api.http.post("/api/auth/login", json={"email": api.email, "password": PASSWORD}),
        401,
        "UNAUTHENTICATED",
    )


# --- profile --------------------------------------------------------------------------------------


def test_profile_needs_a_token(api: Api, anon: Api) -> None:
    me = api.get("/api/profile")
    assert me.status_code == 200 and me.json()["user"]["id"] == api.user["id"]
    error_of(anon.get("/api/profile"), 401, "UNAUTHENTICATED")
    error_of(anon.get("/api/profile", headers={"Authorization": "Bearer not.a.jwt"}), 401, "UNAUTHENTICATED")
    error_of(
        anon.get("/api/profile", headers={"Authorization": "Bearer ünïcode".encode("latin-1")}),
        401,
        "UNAUTHENTICATED",
    )
    error_of(
        anon.get("/api/profile", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "UNAUTHENTICATED"
    )


def test_resend_verification(api: Api) -> None:
    response = api.post("/api/profile/resend-verification")
    assert response.status_code == 202, response.text


def test_change_password(api: Api) -> None:
    wrong = api.request(
        "PUT", "/api/profile/password", json={"current_password": "not it at all", "new_password": "x" * 12}
    )
    assert wrong.status_code in (401, 403), wrong.text
    short = api.request(
        "PUT", "/api/profile/password", json={"current_password": PASSWORD, "new_password": "x"}
    )
    error_of(short, 422, "INVALID_ARGUMENT")
    ok = api.request(
        "PUT",
        "/api/profile/password",
        json={"current_password": PASSWORD, "new_password": "changed password"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["access_token"] and ok.json()["refresh_token"]
    api.login(api.email, "changed password")


def test_delete_account(api: Api) -> None:
    wrong = api.request("DELETE", "/api/profile/account", json={"password": "definitely wrong"})
    assert wrong.status_code in (401, 403), wrong.text
    assert api.request("DELETE", "/api/profile/account", json={"password": PASSWORD}).status_code == 204
    gone = api.http.post("/api/auth/login", json={"email": api.email, "password": PASSWORD})
    error_of(gone, 401, "UNAUTHENTICATED")


# --- rate limits and the client address -----------------------------------------------------------
# The session stack runs auth with the sign-up/login limits off (every test client is 127.0.0.1);
# the per-email mail limits stay on. The client-address tests run their own auth server with the
# default limits, behind in-process gateways that see a chosen peer address.


def test_mail_rate_limit_is_429_with_retry_after(api: Api) -> None:
    statuses = [api.post("/api/profile/resend-verification").status_code for _ in range(7)]
    assert statuses[0] == 202 and statuses[-1] == 429, statuses
    limited = api.post("/api/profile/resend-verification")
    error_of(limited, 429, "RESOURCE_EXHAUSTED")
    assert int(limited.headers["Retry-After"]) >= 1


def test_resend_after_verification_is_a_conflict(api: Api, stack: RunningStack) -> None:
    token = mail_token(stack.outbox_dir, api.email, "verification")
    assert api.http.get("/api/auth/verify", params={"token": token}).status_code == 200
    error_of(api.post("/api/profile/resend-verification"), 409, "FAILED_PRECONDITION")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def limited_auth(
    database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AuthNode]:
    """An auth server with the default rate limits (10 logins per address per minute)."""
    prefix = f"gwauth{secrets.token_hex(4)}"
    node = await start_auth_node(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=prefix,
        workdir=tmp_path_factory.mktemp("auth"),
    )
    yield node
    await node.stop()
    bus = await EventBus.connect(node.settings, name="gw-test-cleanup")
    try:
        await bus.delete_streams()
    finally:
        await bus.close()


Gateway = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest_asyncio.fixture(loop_scope="session")
async def in_process(limited_auth: AuthNode) -> AsyncIterator[Gateway]:
    """Builds in-process gateways in front of `limited_auth`, seen from a chosen peer address."""
    opened: list[tuple[Any, httpx.AsyncClient]] = []
    settings = limited_auth.settings.model_copy(update={"auth_addr": limited_auth.address})

    async def make(*, trusted_proxies: str, peer: str) -> httpx.AsyncClient:
        # With auth's forward secret, as a deployed gateway: auth believes the address it forwards.
        gateway = GatewaySettings(
            trusted_proxies=trusted_proxies, gateway_forward_secret=SecretStr(FORWARD_SECRET)
        )
        app = create_app(settings, gateway)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
        opened.append((lifespan, client))
        return client

    yield make
    for lifespan, client in opened:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


async def _failed_logins(client: httpx.AsyncClient, count: int) -> list[httpx.Response]:
    """`count` failed logins, each for a new email and each claiming a new X-Forwarded-For."""
    responses = []
    for _ in range(count):
        responses.append(
            await client.post(
                "/api/auth/login",
                json={"email": unique_email("xff"), "password": "wrong password"},
                headers={"X-Forwarded-For": client_address()},
            )
        )
    return responses


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(in_process: Gateway) -> None:
    # The peer is no proxy of ours: its X-Forwarded-For is ignored and every login counts against
    # the peer, so the 11th is refused (429 with Retry-After).
    client = await in_process(trusted_proxies="", peer=client_address())
    responses = await _failed_logins(client, 12)
    statuses = [r.status_code for r in responses]
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429, statuses
    error_of(responses[-1], 429, "RESOURCE_EXHAUSTED")
    assert int(responses[-1].headers["Retry-After"]) >= 1


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(in_process: Gateway) -> None:
    # The peer is a trusted proxy: each login counts against the client it names.
    peer = client_address()
    client = await in_process(trusted_proxies=f"{peer}/32", peer=peer)
    statuses = [r.status_code for r in await _failed_logins(client, 12)]
    assert set(statuses) == {401}, statuses
