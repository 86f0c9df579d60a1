"""The gateway's own answers: malformed requests, body limits, unknown routes, unavailable
services, unhandled errors (500 + error id + `errors.captured`), headers, the UI and the docs."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from services.gateway.app import create_app
from services.gateway.tests.support import Api, error_of
from tests.fixtures.stack import RunningStack

# --- malformed requests ---------------------------------------------------------------------------


def test_invalid_json_is_400(api: Api) -> None:
    response = api.post("/api/jobs", content=b"{not json", headers={"Content-Type": "application/json"})
    error_of(response, 400, "INVALID_ARGUMENT")


def test_wrong_json_types_are_422(api: Api) -> None:
    body = {"seed_text": 5, "goal": ["x"], "tier": None, "forecast_days": "many"}
    error = error_of(api.post("/api/jobs", json=body), 422, "INVALID_ARGUMENT")
    assert {"seed_text", "goal", "tier", "forecast_days"} <= set(error["fields"])
    error_of(api.post("/api/jobs", json=[1, 2]), 422, "INVALID_ARGUMENT")


def test_body_over_the_limit_is_413(api: Api) -> None:
    big = b'{"seed_text": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    error_of(
        api.post("/api/jobs", content=big, headers={"Content-Type": "application/json"}),
        413,
        "PAYLOAD_TOO_LARGE",
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        yield b'{"seed_text": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}'

    chunked = api.post("/api/jobs", content=chunks(), headers={"Content-Type": "application/json"})
    error_of(chunked, 413, "PAYLOAD_TOO_LARGE")


def test_unknown_routes_and_methods(anon: Api) -> None:
    error_of(anon.get("/api/nothing-here"), 404, "NOT_FOUND")
    error_of(anon.request("PATCH", "/api/jobs"), 405, "METHOD_NOT_ALLOWED")
    error_of(anon.get("/no/such/page"), 404, "NOT_FOUND")


# --- headers, UI, docs, health --------------------------------------------------------------------


def test_security_headers(anon: Api) -> None:
    for path in ("/api/health", "/", "/assets/app.js", "/api/nothing"):
        headers = anon.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    "path",
    ["/", "/login", "/signup", "/jobs", "/jobs/new", "/jobs/12", "/account", "/admin"],
)
def test_ui_pages_serve_the_app(anon: Api, path: str) -> None:
    response = anon.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/assets/app.js">' in response.text


def test_assets_are_local_modules(anon: Api) -> None:
    for name in (
        "app.js",
        "api.js",
        "markdown.js",
        "chart.js",
        "graph.js",
        "chat.js",
        "views/job.js",
        "style.css",
    ):
        response = anon.get(f"/assets/{name}")
        assert response.status_code == 200, name
        assert "https://" not in response.text.replace("http://www.w3.org/2000/svg", ""), name  # no CDN
    assert "javascript" in anon.get("/assets/app.js").headers["content-type"]
    assert anon.get("/assets/nope.js").status_code == 404


def test_health_reports_every_dependency(anon: Api, operator: Api) -> None:
    response = anon.get("/api/health")
    assert response.status_code == 200
    data = response.json()
    # Everyone: component names and ok/down only (no addresses).
    assert set(data) == {"status", "service", "components"}, data
    assert data["components"] == dict.fromkeys(
        ("auth", "jobs", "runner", "reporter", "postgres", "nats", "object_storage"), "ok"
    )
    assert data["status"] == "ok", data
    # An operator also gets each probe's address and details.
    detailed = operator.get("/api/health").json()
    assert set(detailed["dependencies"]) == {"auth", "jobs", "runner", "reporter", "nats", "s3"}
    assert all(dep["ok"] and dep["address"] for dep in detailed["dependencies"].values()), detailed


ISSUE_ROUTES = {
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/forgot-password"),
    ("post", "/api/auth/reset-password"),
    ("get", "/api/auth/verify"),
    ("put", "/api/profile/password"),
    ("delete", "/api/profile/account"),
    ("post", "/api/jobs"),
    ("get", "/api/jobs"),
    ("get", "/api/jobs/{job_id}"),
    ("delete", "/api/jobs/{job_id}"),
    ("post", "/api/jobs/{job_id}/cancel"),
    ("post", "/api/jobs/{job_id}/retry"),
    ("post", "/api/jobs/{job_id}/share"),
    ("delete", "/api/jobs/{job_id}/share"),
    ("post", "/api/jobs/draft"),
    ("patch", "/api/jobs/draft/{job_id}"),
    ("post", "/api/jobs/draft/{job_id}/launch"),
    ("get", "/api/jobs/{job_id}/progress"),
    ("get", "/api/jobs/{job_id}/sim-data"),
    ("get", "/api/jobs/{job_id}/graph"),
    ("get", "/api/jobs/{job_id}/report.md"),
    ("get", "/api/share/{token}"),
    ("get", "/api/share/{token}/graph"),
    ("post", "/api/jobs/suggest-questions"),
    ("get", "/api/admin/routes"),
    ("put", "/api/admin/routes"),
    ("get", "/api/admin/errors"),
    ("get", "/api/health"),
}


def test_openapi_documents_every_route_and_body(anon: Api) -> None:
    spec = anon.get("/api/openapi.json").json()
    documented = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert ISSUE_ROUTES <= documented, ISSUE_ROUTES - documented
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in ("post", "put", "patch") and "requestBody" in op:
                assert op["requestBody"]["content"]["application/json"]["schema"], (method, path)
            assert "422" not in op["responses"] or "ErrorResponse" in str(op["responses"]["422"]), (
                method,
                path,
            )
    job = spec["components"]["schemas"]["Job"]["properties"]
    assert {"seed_text", "goal", "tier", "enrich_web", "forecast_days", "status", "result_graph"} <= set(job)
    # The tiers' forecast settings, read and written by the admin routes.
    settings = {"replicates", "heuristic_replicates", "market_subsidy"}
    assert settings <= set(spec["components"]["schemas"]["ModelRoute"]["properties"])
    assert settings <= set(spec["components"]["schemas"]["RouteBody"]["properties"])
    # A refused goal's error carries the suggested questions.
    assert "suggestions" in spec["components"]["schemas"]["ErrorDetail"]["properties"]


# --- in-process gateways: unavailable services, unhandled errors ----------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def gateway_app(stack: RunningStack) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An in-process gateway on the stack's services and bus, with a route that crashes."""
    app = create_app(stack.settings)

    @app.get("/api/test-crash/{job_id}")
    async def crash(job_id: int) -> None:
        raise RuntimeError(f"gateway test crash {job_id}")

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield app, client


async def test_unhandled_error_is_500_with_an_error_id_and_is_captured(
    gateway_app: tuple[FastAPI, httpx.AsyncClient], operator: Api
) -> None:
    app, client = gateway_app
    deadline = time.monotonic() + 20
    while app.state.errors.bus is None:  # the gateway connects to NATS in the background
        assert time.monotonic() < deadline, "the gateway never connected to NATS"
        await asyncio.sleep(0.1)
    job_id = secrets.randbelow(10**6) + 10**6
    response = await client.get(f"/api/test-crash/{job_id}")
    error = error_of(response, 500, "INTERNAL")
    error_id = error["error_id"]
    assert error_id and error_id in str(error["message"])
    assert "gateway test crash" not in response.text  # no internals in the answer
    # Published as errors.captured (source api) and persisted by the jobs service.
    deadline = time.monotonic() + 20
    while True:
        listed = await asyncio.to_thread(
            operator.get, "/api/admin/errors", params={"source": "api", "job_id": job_id}
        )
        events = listed.json()["events"]
        if events:
            break
        assert time.monotonic() < deadline, "the error never reached /api/admin/errors"
        await asyncio.sleep(0.3)
    event = events[0]
    assert event["source"] == "api" and event["job_id"] == job_id
    assert "gateway test crash" in event["message"]
    assert event["request_path"] == "GET /api/test-crash/{job_id}"


async def test_unavailable_services_are_503(stack: RunningStack) -> None:
    settings = stack.settings.model_copy(update={"auth_addr": "127.0.0.1:1", "jobs_addr": "127.0.0.1:1"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            login = await client.post("/api/auth/login", json={"email": "a@b.co", "password": "whatever1"})
            error_of(login, 503, "UNAVAILABLE")
            assert login.headers["Retry-After"] == "1"
            jobs = await client.get("/api/jobs", headers={"Authorization": "Bearer a.b.c"})
            error_of(jobs, 503, "UNAVAILABLE")
            health = await client.get("/api/health")
            assert health.status_code == 503
            body = health.json()
            assert body["status"] == "degraded" and body["components"]["auth"] == "down"
            assert body["components"]["jobs"] == "down" and "dependencies" not in body
