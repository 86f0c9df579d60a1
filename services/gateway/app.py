"""The gateway's FastAPI application: REST/JSON under /api over the gRPC services, and the web UI.

This module holds the app factory and what every route shares (the gRPC clients, request
logging, error handling, OpenAPI at /api/openapi.json) plus `GET /api/health` (each service
and, through each service's own probes, PostgreSQL, NATS and object storage; 503 when any is down;
addresses and details for operators only) and `GET /api/health/live`. The routes live in
`routes_auth` (/api/auth, /api/profile), `routes_jobs` (/api/jobs), `sse` (progress),
`routes_results` (sim-data, graph, report.md), `routes_outcomes` (outcomes, track record),
`routes_whatif` (what-if branches, interviews),
`routes_share` (/api/share), `routes_meta` (/api/config, /api/samples, shared forecasts' link
previews) and `routes_admin` (/api/admin); `web` serves the UI. gRPC status
codes map to HTTP statuses in `errors`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Annotated, Literal
from urllib.parse import urlparse

import grpc
import httpx
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swarmcast.auth.v1 import auth_pb2

from services.common.bus import EventBus
from services.common.clients import ServiceClients, check_health
from services.common.clients import channel as grpc_channel
from services.common.config import Settings, get_settings
from services.common.dependencies import DEPENDENCIES, NATS, OBJECT_STORAGE, health_name
from services.common.identity import OPERATOR_ROLE
from services.common.interceptors import ErrorReporter
from services.common.tls import InsecureTransportError, TlsConfigError
from services.gateway import (
    routes_admin,
    routes_auth,
    routes_jobs,
    routes_meta,
    routes_outcomes,
    routes_results,
    routes_share,
    routes_whatif,
    sse,
    web,
)
from services.gateway.errors import (
    ApiError,
    api_error_handler,
    validation_error_handler,
)
from services.gateway.forwarding import ForwardingClients
from services.gateway.middleware import (
    BodyLimitMiddleware,
    ErrorCaptureMiddleware,
    JsonFieldLimitMiddleware,
    SecurityHeadersMiddleware,
)
from services.gateway.settings import GatewaySettings, get_gateway_settings
from services.gpu_runner.settings import SearchSettings, get_search_settings

log = logging.getLogger("swarmcast.gateway")

PROBE_TIMEOUT_SECONDS = 2.0


# The components /api/health names to everyone: the four services, then what they stand on.
GRPC_COMPONENTS = ("auth", "jobs", "runner", "reporter")
ComponentState = Literal["ok", "down", "unknown"]

_optional_bearer = HTTPBearer(auto_error=False, description="optional: an operator's token adds details")


class DependencyHealth(BaseModel):
    """Operator-only detail of one probe."""

    ok: bool
    # gRPC services: the grpc.health.v1 status (SERVING, NOT_SERVING, UNREACHABLE, ...);
    # nats / s3: "reachable" or "unreachable".
    status: str
    address: str
    latency_ms: float
    detail: str = ""
    # gRPC services: each dependency the service reports on (postgres, nats, object_storage) →
    # its grpc.health.v1 status as that service sees it; a dependency it does not use is absent.
    checks: dict[str, str] = Field(default_factory=dict)


class HealthResponse(BaseModel):
    # "ok" when every component is; "degraded" (HTTP 503) otherwise.
    status: Literal["ok", "degraded"]
    service: str = "gateway"
    # Component → ok / down / unknown (nothing that uses it answered): auth, jobs, runner,
    # reporter, postgres, nats, object_storage. No addresses: this part is public.
    components: dict[str, ComponentState] = Field(default_factory=dict)
    # Operators only (a bearer token with the operator role): addresses, statuses, latencies.
    dependencies: dict[str, DependencyHealth] | None = None


class LiveResponse(BaseModel):
    status: Literal["ok"] = "ok"


async def _timed(probe: Awaitable[tuple[bool, str, str]], address: str) -> DependencyHealth:
    started = time.perf_counter()
    try:
        ok, status, detail = await asyncio.wait_for(probe, PROBE_TIMEOUT_SECONDS + 0.5)
    except (TimeoutError, OSError) as exc:
        ok, status, detail = False, "UNREACHABLE", f"{type(exc).__name__}: {exc}".rstrip(": ")
    latency = round((time.perf_counter() - started) * 1000.0, 2)
    return DependencyHealth(ok=ok, status=status, address=address, latency_ms=latency, detail=detail)


async def _service_probe(addr: str, settings: Settings) -> DependencyHealth:
    """The service's overall status and, from its own probes, each dependency it uses."""
    started = time.perf_counter()
    # A fresh channel per probe: a long-lived one may still sit in reconnect backoff from an
    # earlier failure and report a service that is back as unreachable. Secured like the
    # gateway's other channels (mutual TLS when configured).
    checks: dict[str, str] = {}
    detail = ""
    try:
        probe_channel = grpc_channel(addr, settings)
    except (InsecureTransportError, TlsConfigError) as exc:
        status, detail = "UNREACHABLE", str(exc)
    else:
        async with probe_channel:
            answers = await asyncio.gather(
                *(
                    check_health(probe_channel, name, rpc_timeout=PROBE_TIMEOUT_SECONDS)
                    for name in ("", *(health_name(d) for d in DEPENDENCIES))
                )
            )
        status = answers[0]
        # SERVICE_UNKNOWN: the service does not use that dependency.
        checks = {
            dep: answer
            for dep, answer in zip(DEPENDENCIES, answers[1:], strict=True)
            if answer not in ("SERVICE_UNKNOWN", "UNREACHABLE")
        }
    latency = round((time.perf_counter() - started) * 1000.0, 2)
    return DependencyHealth(
        ok=status == "SERVING", status=status, address=addr, latency_ms=latency, detail=detail, checks=checks
    )


def _components(deps: dict[str, DependencyHealth]) -> dict[str, ComponentState]:
    """The public summary: each service, and each dependency as every service using it sees it
    (plus the gateway's own NATS and object-storage probes)."""
    components: dict[str, ComponentState] = {
        name: "ok" if deps[name].ok else "down" for name in GRPC_COMPONENTS
    }
    own = {NATS: deps["nats"].ok, OBJECT_STORAGE: deps["s3"].ok}
    for dep in DEPENDENCIES:
        verdicts = [
            deps[name].checks[dep] == "SERVING" for name in GRPC_COMPONENTS if dep in deps[name].checks
        ]
        if dep in own:
            verdicts.append(own[dep])
        components[dep] = "unknown" if not verdicts else "ok" if all(verdicts) else "down"
    return components


async def _is_operator(request: Request, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """True only for a valid token with the operator role (auth decides); anything else: public."""
    if credentials is None or not credentials.credentials or len(credentials.credentials) > 8192:
        return False
    clients: ServiceClients = request.app.state.clients
    try:
        reply = await clients.auth.Authenticate(
            auth_pb2.AuthenticateRequest(access_token=credentials.credentials.strip()),
            timeout=PROBE_TIMEOUT_SECONDS,
        )
    except grpc.aio.AioRpcError:
        return False
    return OPERATOR_ROLE in reply.user.roles


async def _nats_probe(url: str) -> tuple[bool, str, str]:
    """Connects and reads the server's INFO line: proves it is NATS, and whether JetStream is on."""
    parsed = urlparse(url)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parsed.hostname or "127.0.0.1", parsed.port or 4222), PROBE_TIMEOUT_SECONDS
    )
    try:
        line = await asyncio.wait_for(reader.readline(), PROBE_TIMEOUT_SECONDS)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    if not line.startswith(b"INFO "):
        return False, "unreachable", "the server did not greet like NATS"
    info = json.loads(line[5:])
    if not info.get("jetstream"):
        return False, "reachable", "JetStream is not enabled"
    return True, "reachable", f"nats-server {info.get('version', '?')}, JetStream on"


async def _s3_probe(http: httpx.AsyncClient, endpoint: str) -> tuple[bool, str, str]:
    """Any HTTP answer below 500 means the S3 server is up (it may well refuse anonymous calls)."""
    try:
        response = await http.get(endpoint, timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return False, "unreachable", type(exc).__name__
    return response.status_code < 500, "reachable", f"HTTP {response.status_code}"


def _redacted_endpoint(url: str) -> str:
    parsed = urlparse(url)
    return (
        f"{parsed.scheme}://{parsed.hostname}:{parsed.port}"
        if parsed.port
        else f"{parsed.scheme}://{parsed.hostname}"
    )


class RequestLogMiddleware:
    """One log line per HTTP request: method, route template, status, duration.

    Plain ASGI (not BaseHTTPMiddleware) so streamed responses such as SSE pass through
    untouched. Logs the route template, never the raw path: paths can carry share tokens.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            duration_ms = (time.perf_counter() - started) * 1000.0
            level = logging.DEBUG if route.startswith("/api/health") else logging.INFO
            method = scope.get("method", "")
            log.log(
                level,
                "http %s %s %d %.1fms",
                method,
                route,
                status,
                duration_ms,
                extra={
                    "http_method": method,
                    "http_route": route,
                    "http_status": status,
                    "duration_ms": round(duration_ms, 2),
                },
            )


async def _connect_bus(settings: Settings, errors: ErrorReporter) -> EventBus:
    """Connects (retrying forever) and attaches the bus to error capture.

    In the background: the gateway serves requests while NATS is still coming up; errors
    captured until then are logged only.
    """
    bus = await EventBus.connect(settings, name="swarmcast-gateway", connect_attempts=None)
    errors.attach(bus)
    return bus


def create_app(
    settings: Settings | None = None,
    gateway_settings: GatewaySettings | None = None,
    search_settings: SearchSettings | None = None,
) -> FastAPI:
    """The gateway app for `settings` (default: from the environment)."""
    settings = settings or get_settings()
    gateway_settings = gateway_settings or get_gateway_settings()
    errors = ErrorReporter("gateway", "api", logger=log)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clients = ForwardingClients(settings, gateway_settings.gateway_forward_secret)
        http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
        app.state.clients = clients
        app.state.http = http
        bus_task = asyncio.create_task(_connect_bus(settings, errors))
        try:
            yield
        finally:
            await errors.drain()
            errors.attach(None)
            if bus_task.done() and not bus_task.cancelled() and bus_task.exception() is None:
                await bus_task.result().close()
            else:
                bus_task.cancel()
            await http.aclose()
            await clients.close()

    app = FastAPI(
        title="swarmcast",
        description="Multi-agent social simulation forecasting: REST/JSON gateway.",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.gateway_settings = gateway_settings
    # The runners' web-enrichment provider (SWARMCAST_SEARCH_URL): /api/config tells the UI
    # whether "enrich from the web" can do anything.
    app.state.search_settings = search_settings or get_search_settings()
    app.state.errors = errors

    # Added innermost first: security headers → request log → body limit → JSON field limit →
    # error capture → routes.
    app.add_middleware(ErrorCaptureMiddleware, reporter=lambda: app.state.errors)
    app.add_middleware(JsonFieldLimitMiddleware, max_fields=gateway_settings.gateway_max_json_fields)
    app.add_middleware(BodyLimitMiddleware, max_bytes=gateway_settings.gateway_max_body_bytes)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    # Unknown paths: JSON, or the app's own page for a browser (web.not_found_handler).
    app.add_exception_handler(StarletteHTTPException, web.not_found_handler)

    @app.get(
        "/api/health",
        response_model=HealthResponse,
        response_model_exclude_none=True,
        tags=["health"],
        responses={503: {"model": HealthResponse, "description": "a component is down"}},
    )
    async def health(
        request: Request,
        response: Response,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
    ) -> HealthResponse:
        """Each service and, through their own probes, PostgreSQL, NATS and object storage:
        200 when all are ok, 503 when any is down. Addresses and details only for operators."""
        http: httpx.AsyncClient = request.app.state.http
        grpc_deps = {
            "auth": settings.auth_addr,
            "jobs": settings.jobs_addr,
            "runner": settings.runner_addr,
            "reporter": settings.reporter_addr,
        }
        names = [*grpc_deps, "nats", "s3"]
        results, operator = await asyncio.gather(
            asyncio.gather(
                *(_service_probe(addr, settings) for addr in grpc_deps.values()),
                _timed(_nats_probe(settings.nats_url), _redacted_endpoint(settings.nats_url)),
                _timed(_s3_probe(http, settings.s3_endpoint), _redacted_endpoint(settings.s3_endpoint)),
            ),
            _is_operator(request, credentials),
        )
        deps = dict(zip(names, results, strict=True))
        components = _components(deps)
        overall: Literal["ok", "degraded"] = (
            "ok" if all(state == "ok" for state in components.values()) else "degraded"
        )
        if overall != "ok":
            response.status_code = 503
        return HealthResponse(status=overall, components=components, dependencies=deps if operator else None)

    @app.get("/api/health/live", response_model=LiveResponse, tags=["health"])
    async def live() -> LiveResponse:
        """200 whenever the gateway process serves HTTP: for liveness probes (a dependency being
        down must not restart the gateway; /api/health says what is down)."""
        return LiveResponse()

    for module in (
        routes_auth,
        routes_jobs,
        sse,
        routes_results,
        routes_outcomes,
        routes_share,
        routes_whatif,
        routes_meta,
        routes_admin,
    ):
        app.include_router(module.router)
    web.mount(app)
    return app
