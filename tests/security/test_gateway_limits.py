"""Gateway limits on request bodies (issue 17, item 6), against the session `stack`.

A body of tens of thousands of fields used to be validated field by field and answered with a
multi-megabyte error listing each one. Now the field count is capped before validation and a
validation error names at most `MAX_FIELD_ERRORS` fields.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import httpx
import pytest

from services.gateway.errors import MAX_FIELD_ERRORS
from services.gateway.settings import GatewaySettings
from services.gateway.tests.support import client_address
from tests.fixtures.stack import RunningStack

FIELD_LIMIT = GatewaySettings().gateway_max_json_fields


@pytest.fixture
def http(stack: RunningStack) -> Iterator[httpx.Client]:
    # Its own client address, believed from loopback: auth's per-address limits see a fresh client.
    headers = {"X-Forwarded-For": client_address()}
    with httpx.Client(base_url=stack.gateway_url, timeout=30, headers=headers) as client:
        yield client


def _post_json(http: httpx.Client, path: str, body: object) -> httpx.Response:
    return http.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def test_a_body_of_tens_of_thousands_of_fields_gets_a_short_refusal(http: httpx.Client) -> None:
    body: dict[str, object] = {"email": "someone@example.com", "password": "a long password 1"}
    body.update({f"f{i}": 1 for i in range(60_000)})  # just under the 1 MiB body limit
    raw = json.dumps(body)
    assert len(raw) < 1024 * 1024

    response = _post_json(http, "/api/auth/login", body)

    assert response.status_code == 422, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert f"more than {FIELD_LIMIT} fields" in error["message"]
    assert len(response.content) < 2_000  # not one entry per field


def test_array_items_count_as_fields(http: httpx.Client) -> None:
    response = _post_json(
        http, "/api/auth/login", {"email": "someone@example.com", "password": ["x"] * (FIELD_LIMIT + 1)}
    )
    assert response.status_code == 422
    assert f"more than {FIELD_LIMIT} fields" in response.json()["error"]["message"]


def test_a_validation_error_names_a_bounded_number_of_fields(http: httpx.Client) -> None:
    unknown = {f"typo_{i}": "x" for i in range(100)}
    response = _post_json(
        http, "/api/auth/login", {"email": "someone@example.com", "password": "a long password 1", **unknown}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert 0 < len(error["fields"]) <= MAX_FIELD_ERRORS
    assert set(error["fields"]) <= set(unknown)
    assert "more fields" in error["message"]


def test_bodies_under_the_limit_reach_the_services_intact(http: httpx.Client) -> None:
    email = f"limits-{secrets.token_hex(4)}@example.com"
    credentials = {"email": email, "password": "a long password 1"}
    registered = _post_json(http, "/api/auth/register", credentials)
    assert registered.status_code == 201, registered.text
    logged_in = _post_json(http, "/api/auth/login", credentials)
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["user"]["email"] == email
    not_json = http.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
