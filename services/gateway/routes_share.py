"""/api/share/{token}: the public, read-only view of a shared job (no sign-in, no user data)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from swarmcast.jobs.v1 import jobs_pb2

from services.common.clients import ServiceClients
from services.gateway.convert import message_to_json, model_for
from services.gateway.deps import Anonymous, Caller, Clients, rpc
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.models import GraphResponse

# One way to stream an artifact from storage, the owner's and the share page's.
from services.gateway.routes_results import _stream_object, graph_object

router = APIRouter(tags=["sharing"], responses=ERROR_RESPONSES)

SharedJobModel = model_for(jobs_pb2.SharedJob.DESCRIPTOR)
# Share tokens are 43 URL-safe characters; anything far off is answered 404 by the service.
ShareToken = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")]


class SharedJobResponse(BaseModel):
    job: SharedJobModel  # type: ignore[valid-type]


async def shared_job_of(
    token: str, caller: Caller, services: ServiceClients, request: Request
) -> jobs_pb2.SharedJob:
    """The job behind a share token (the jobs service answers NOT_FOUND for an unknown or revoked one)."""
    reply = await rpc(
        services.jobs.GetSharedJob, jobs_pb2.GetSharedJobRequest(share_token=token), caller, request
    )
    return reply.job


@router.get("/api/share/{token}", response_model=SharedJobResponse)
async def shared_job(token: ShareToken, caller: Anonymous, services: Clients, request: Request) -> Any:
    """The shared job: goal, status, report, structured results, chat log (404 once revoked)."""
    return {"job": message_to_json(await shared_job_of(token, caller, services, request))}


@router.get("/api/share/{token}/graph", response_model=GraphResponse)
async def shared_graph(token: ShareToken, caller: Anonymous, services: Clients, request: Request) -> Any:
    """The shared job's entity graph as an object."""
    job = await shared_job_of(token, caller, services, request)
    return {"graph": graph_object(job.result_graph, job.id)}


@router.get(
    "/api/share/{token}/market_curves.json",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}}},
)
async def shared_market_curves(
    token: ShareToken, caller: Anonymous, services: Clients, request: Request
) -> StreamingResponse:
    """The shared job's market curves (market_curves.json, the same file its owner reads at
    GET /api/jobs/{id}/sim-data/market_curves.json); 404 for an unknown or revoked link."""
    name = "market_curves.json"
    reply = await rpc(
        services.jobs.GetSharedSimData,
        jobs_pb2.GetSharedSimDataRequest(share_token=token, name=name),
        caller,
        request,
    )
    return await _stream_object(request, reply.url, name, reply.job_id)
