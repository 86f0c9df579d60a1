"""Helpers for tests that talk to a running gateway over HTTP (the `stack` fixture's, usually).

Auth rate-limits sign-ups and logins per client address. Every `Api` therefore presents its own
made-up client address in X-Forwarded-For, which the gateway believes because the test client
connects from loopback, a trusted proxy by default. Tests then never use up each other's budget,
nor the budget of 127.0.0.1 that other suites share.
"""

from __future__ import annotations

import ipaddress
import itertools
import secrets
import time
from pathlib import Path
from typing import Any

import httpx

from services.auth.handlers import read_outbox

PASSWORD = "correct horse battery"
# 198.18.0.0/15 is reserved for benchmarking: never a real client.
_ADDRESSES = (str(ipaddress.IPv4Address("198.18.0.0") + n) for n in itertools.count(secrets.randbelow(60000)))
TERMINAL = frozenset({"COMPLETED", "FAILED", "REFUNDED"})
SEED = (
    "The town council of Millbrook debates a new cycle lane on Main Street. Mayor Ada Lin supports it; "
    "the Shopkeepers' Association, led by Tom Reyes, fears losing parking. The Cycling Club backs the "
    "mayor, and the local newspaper, the Millbrook Herald, is undecided."
)


def client_address() -> str:
    return next(_ADDRESSES)


def unique_email(prefix: str = "gw") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


class Api:
    """A signed-in (or anonymous) HTTP client of the gateway with its own client address."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.address = client_address()
        self.http = httpx.Client(
            base_url=base_url, timeout=timeout, headers={"X-Forwarded-For": self.address}
        )
        self.token: str | None = None
        self.refresh_token: str | None = None
        self.user: dict[str, Any] = {}
        self.email = ""
        self.password = PASSWORD

    def close(self) -> None:
        self.http.close()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def _signed_in(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.text
        data = response.json()
        self.token, self.refresh_token, self.user = data["access_token"], data["refresh_token"], data["user"]
        return data

    def register(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        self.email, self.password = email or unique_email(), password
        return self._signed_in(
            self.http.post("/api/auth/register", json={"email": self.email, "password": password})
        )

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        self.email, self.password = email, password
        return self._signed_in(self.http.post("/api/auth/login", json={"email": email, "password": password}))

    def submit(self, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "seed_text": SEED,
            "goal": f"Will the cycle lane be built? ({secrets.token_hex(3)})",
            "tier": "small",
        }
        body.update(enrich_web=False, **fields)
        response = self.post("/api/jobs", json=body)
        assert response.status_code == 201, response.text
        return response.json()["job"]

    def wait_for(
        self, job_id: int, statuses: frozenset[str] = TERMINAL, timeout: float = 90.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(f"/api/jobs/{job_id}").json()["job"]
            if job["status"] in statuses:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")
            time.sleep(0.3)


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Asserts the gateway's error body (`{"error": {status, code, message, …}}`) and returns it."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert error["message"]
    return error


def mail_token(outbox: Path, to: str, kind: str, timeout: float = 15.0) -> str:
    """The token in the newest `kind` mail to `to` in the outbox (mail is sent asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        mails = [m for m in read_outbox(outbox) if m.get("to") == to and m.get("kind") == kind]
        if mails:
            link = httpx.URL(mails[-1]["link"])
            return link.params["token"]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {kind} mail to {to} in {outbox}")
        time.sleep(0.2)
