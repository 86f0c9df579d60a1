"""/api/admin/*: operator-only routing and error events (the services check the operator role)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from swarmcast.jobs.v1 import jobs_pb2

from services.gateway.convert import message_to_json, model_for
from services.gateway.deps import Clients, SignedIn, rpc
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.models import INT64_MAX, RouteBody

router = APIRouter(tags=["admin"], responses=ERROR_RESPONSES)

RouteModel = model_for(jobs_pb2.ModelRoute.DESCRIPTOR)
ErrorEventModel = model_for(jobs_pb2.ErrorEvent.DESCRIPTOR)


class RoutesResponse(BaseModel):
    routes: list[RouteModel]  # type: ignore[valid-type]


class RouteResponse(BaseModel):
    route: RouteModel  # type: ignore[valid-type]


class ErrorEventsResponse(BaseModel):
    events: list[ErrorEventModel]  # type: ignore[valid-type]
    total: int
    page: int
    per_page: int


@router.get("/api/admin/routes", response_model=RoutesResponse)
async def list_routes(caller: SignedIn, services: Clients, request: Request) -> Any:
    """Tier → model routing (jobs.model_routing)."""
    reply = await rpc(services.jobs.ListRoutes, jobs_pb2.ListRoutesRequest(), caller, request)
    return message_to_json(reply)


@router.put("/api/admin/routes", response_model=RouteResponse)
async def upsert_route(body: RouteBody, caller: SignedIn, services: Clients, request: Request) -> Any:
    """Creates or replaces the route of `sim_tier`."""
    route = jobs_pb2.ModelRoute(**body.model_dump(exclude_none=True))
    reply = await rpc(services.jobs.UpsertRoute, jobs_pb2.UpsertRouteRequest(route=route), caller, request)
    return message_to_json(reply)


@router.get("/api/admin/errors", response_model=ErrorEventsResponse)
async def list_errors(
    caller: SignedIn,
    services: Clients,
    request: Request,
    page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 50,
    source: Annotated[Literal["api", "worker", "gpu"] | None, Query(description="only this source")] = None,
    job_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
) -> Any:
    """Unhandled errors captured by every service (jobs.error_events), newest first."""
    message = jobs_pb2.ListErrorEventsRequest(page=page, per_page=per_page, source=source or "")
    if job_id is not None:
        message.job_id = job_id
    reply = await rpc(services.jobs.ListErrorEvents, message, caller, request)
    return message_to_json(reply)
