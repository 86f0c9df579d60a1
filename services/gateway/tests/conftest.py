"""Fixtures for the gateway's HTTP tests, all against the session `stack` (real services).

- `gateway_url`: the stack's gateway.
- `api`: a freshly registered user (own client address, see support.py).
- `anon`: a client without a token.
- `operator` (module): the stack's operator account, signed in.
- `completed_job` (module): a finished small-tier job of its own user, with that user's client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.gateway.tests.support import PASSWORD, Api, mail_token
from tests.fixtures.stack import STACK_OPERATOR_EMAIL, RunningStack


@pytest.fixture
def gateway_url(stack: RunningStack) -> str:
    return stack.gateway_url


@pytest.fixture
def anon(gateway_url: str) -> Iterator[Api]:
    client = Api(gateway_url)
    yield client
    client.close()


@pytest.fixture
def api(gateway_url: str) -> Iterator[Api]:
    client = Api(gateway_url)
    client.register()
    yield client
    client.close()


def sign_in_operator(stack: RunningStack) -> Api:
    """The operator account: registered on first use; if another suite registered it with another
    password, taken over through the password-reset mail (the stack's outbox)."""
    client = Api(stack.gateway_url)
    response = client.http.post(
        "/api/auth/register", json={"email": STACK_OPERATOR_EMAIL, "password": PASSWORD}
    )
    if response.status_code == 201:
        client._signed_in(response)
        return client
    login = client.http.post("/api/auth/login", json={"email": STACK_OPERATOR_EMAIL, "password": PASSWORD})
    if login.status_code != 200:
        client.http.post("/api/auth/forgot-password", json={"email": STACK_OPERATOR_EMAIL})
        token = mail_token(stack.outbox_dir, STACK_OPERATOR_EMAIL, "password_reset")
        reset = client.http.post("/api/auth/reset-password", json={"token": token, "new_password": PASSWORD})
        assert reset.status_code == 200, reset.text
    client.login(STACK_OPERATOR_EMAIL)
    assert "operator" in client.user["roles"], client.user
    return client


@pytest.fixture(scope="module")
def operator(stack: RunningStack) -> Iterator[Api]:
    client = sign_in_operator(stack)
    yield client
    client.close()


@pytest.fixture(scope="module")
def completed_job(stack: RunningStack) -> Iterator[tuple[Api, dict[str, Any]]]:
    client = Api(stack.gateway_url)
    client.register()
    job = client.submit()
    finished = client.wait_for(job["id"])
    assert finished["status"] == "COMPLETED", finished["error_message"]
    yield client, finished
    client.close()
