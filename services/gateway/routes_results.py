"""A job's results: sim-data links (and the files through the gateway), the entity graph, report.md."""

from __future__ import annotations

import re
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from swarmcast.jobs.v1 import jobs_pb2

from services.common.clients import ServiceClients
from services.gateway.convert import parse_json_text
from services.gateway.deps import Caller, Clients, SignedIn, rpc
from services.gateway.errors import ERROR_RESPONSES, ApiError
from services.gateway.models import GraphResponse, JobId, SimDataResponse

router = APIRouter(tags=["results"], responses=ERROR_RESPONSES)

JobPath = Annotated[JobId, Path(description="the job's id")]
ArtifactName = Annotated[
    str, Path(pattern=r"^[a-z_]{1,64}\.(json|md)$", description="e.g. market_curves.json")
]
REPORT_NAME = "report.md"
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


def _downloads(job_id: int, names: Any) -> dict[str, str]:
    return {name: f"/api/jobs/{job_id}/sim-data/{name}" for name in sorted(names)}


@router.get("/api/jobs/{job_id}/sim-data", response_model=SimDataResponse)
async def sim_data(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """Presigned URLs of the simulation artifacts (409 until the run has uploaded them all)."""
    reply = await rpc(services.jobs.GetSimData, jobs_pb2.GetSimDataRequest(job_id=job_id), caller, request)
    files = dict(reply.files)
    return {
        "files": files,
        "expires_in_seconds": reply.expires_in_seconds,
        "downloads": _downloads(job_id, files),
    }


async def _presigned_url(
    job_id: int, name: str, caller: Caller, services: ServiceClients, request: Request
) -> str:
    reply = await rpc(services.jobs.GetSimData, jobs_pb2.GetSimDataRequest(job_id=job_id), caller, request)
    url = reply.files.get(name)
    if url is None:
        raise ApiError(404, "NOT_FOUND", f"job {job_id} has no artifact {name!r}")
    return url


async def _stream_object(request: Request, url: str, name: str, job_id: int) -> StreamingResponse:
    """Streams an object from storage: the browser never talks to the S3 endpoint (no CORS)."""
    http: httpx.AsyncClient = request.app.state.http
    try:
        upstream = await http.send(http.build_request("GET", url), stream=True)
    except httpx.HTTPError as exc:
        raise ApiError(503, "UNAVAILABLE", f"object storage is unreachable ({type(exc).__name__})") from None
    if upstream.status_code != 200:
        await upstream.aclose()
        status = 404 if upstream.status_code == 404 else 503
        raise ApiError(status, "NOT_FOUND" if status == 404 else "UNAVAILABLE", f"{name} could not be read")
    media = "text/markdown; charset=utf-8" if name.endswith(".md") else "application/json"
    filename = _SAFE_FILENAME.sub("_", f"job-{job_id}-{name}")
    headers = {
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, max-age=60",
    }
    # aiter_bytes (decoded), so a compressed upstream can't reach the client mislabelled.
    return StreamingResponse(
        upstream.aiter_bytes(), media_type=media, headers=headers, background=BackgroundTask(upstream.aclose)
    )


@router.get(
    "/api/jobs/{job_id}/sim-data/{name}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}, "text/markdown": {}}}},
)
async def sim_data_file(
    job_id: JobPath, name: ArtifactName, caller: SignedIn, services: Clients, request: Request
) -> StreamingResponse:
    """One artifact (e.g. market_curves.json) through the gateway, same-origin for the web UI."""
    url = await _presigned_url(job_id, name, caller, services, request)
    return await _stream_object(request, url, name, job_id)


@router.get("/api/jobs/{job_id}/graph", response_model=GraphResponse)
async def graph(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """The entity graph (result_graph) as an object: nodes with stance and influence, typed edges."""
    reply = await rpc(services.jobs.GetGraph, jobs_pb2.GetGraphRequest(job_id=job_id), caller, request)
    return {"graph": graph_object(reply.graph, job_id)}


def graph_object(text: str, job_id: int) -> dict[str, Any]:
    parsed = parse_json_text(text)
    if not isinstance(parsed, dict):
        raise ApiError(409, "FAILED_PRECONDITION", f"the entity graph of job {job_id} is not available")
    return parsed


@router.get(
    "/api/jobs/{job_id}/report.md",
    response_class=Response,
    responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}},
)
async def report_markdown(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Response:
    """The report as Markdown (409 until the reporter has written it)."""
    reply = await rpc(services.jobs.GetJob, jobs_pb2.GetJobRequest(job_id=job_id), caller, request)
    job = reply.job
    if job.HasField("result_report") and job.result_report:
        return Response(
            job.result_report,
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="job-{job_id}-report.md"'},
        )
    if job.sim_data_available:
        # The column is filled from reporter.completed; the object may already be there.
        try:
            url = await _presigned_url(job_id, REPORT_NAME, caller, services, request)
        except ApiError:
            url = None
        if url is not None:
            return await _stream_object(request, url, REPORT_NAME, job_id)
    status = jobs_pb2.JobStatus.Name(job.status).removeprefix("JOB_STATUS_")
    raise ApiError(
        409, "FAILED_PRECONDITION", f"the report of job {job_id} is not available yet (job is {status})"
    )
