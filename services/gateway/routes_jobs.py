"""/api/jobs*: the job lifecycle, drafts and share links (JobsService RPCs, one route each)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from swarmcast.jobs.v1 import jobs_pb2

from services.gateway.convert import enum_number, message_to_json, model_for
from services.gateway.deps import Clients, SignedIn, rpc
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.models import (
    DraftBody,
    JobBody,
    JobId,
    JobSearch,
    JobSortName,
    JobStatusName,
    ShareResponse,
    SuggestQuestionsBody,
)

router = APIRouter(tags=["jobs"], responses=ERROR_RESPONSES)

JobModel = model_for(jobs_pb2.Job.DESCRIPTOR)
SuggestionsModel = model_for(jobs_pb2.SuggestQuestionsResponse.DESCRIPTOR)
JobPath = Annotated[JobId, Path(description="the job's id")]


class JobResponse(BaseModel):
    job: JobModel  # type: ignore[valid-type]


class JobListResponse(BaseModel):
    jobs: list[JobModel]  # type: ignore[valid-type]
    total: int
    page: int
    per_page: int


def _optional_fields(body: JobBody | DraftBody) -> dict[str, Any]:
    """Only the fields the client sent: proto3 `optional` keeps "unset" apart from a zero value."""
    return body.model_dump(exclude_none=True)


@router.post("/api/jobs", response_model=JobResponse, status_code=201)
async def create_job(body: JobBody, caller: SignedIn, services: Clients, request: Request) -> Any:
    """Submits a simulation (PENDING). Identical live submissions within 60 s are refused (409).

    The seed needs at least 30 words and the goal must be a yes/no question about an event; an
    open-ended goal is refused (422) with `fields.goal` and `suggestions`: up to three yes/no
    questions from the seed. `events` schedules news on days of the horizon (at most 10): at its
    round every agent's feed shows it; a problem with any of them is refused (422).
    """
    reply = await rpc(
        services.jobs.CreateJob, jobs_pb2.CreateJobRequest(**_optional_fields(body)), caller, request
    )
    return message_to_json(reply)


@router.post("/api/jobs/suggest-questions", response_model=SuggestionsModel)
async def suggest_questions(
    body: SuggestQuestionsBody, caller: SignedIn, services: Clients, request: Request
) -> Any:
    """Up to three yes/no questions about events in the seed, and whether `goal` already is one
    (`goal_ok`; `reason` says why not). Stores nothing."""
    message = jobs_pb2.SuggestQuestionsRequest(
        seed_text=body.seed_text, goal=body.goal, forecast_days=body.forecast_days or 0
    )
    reply = await rpc(services.jobs.SuggestQuestions, message, caller, request)
    return message_to_json(reply)


@router.get("/api/jobs", response_model=JobListResponse)
async def list_jobs(
    caller: SignedIn,
    services: Clients,
    request: Request,
    page: Annotated[int, Query(ge=1, le=2**31 - 1, description="1-based page")] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    status: Annotated[JobStatusName | None, Query(description="only jobs in this status")] = None,
    q: Annotated[
        JobSearch | None,
        Query(description='text in the goal (any case); "123" or "#123" also finds job 123'),
    ] = None,
    sort: Annotated[
        JobSortName | None,
        Query(
            description="newest (default), oldest, probability_high or probability_low (by the "
            "goal's forecast; jobs without one come last)"
        ),
    ] = None,
    branch_of: Annotated[
        JobId | None, Query(description="only the what-if branches of this job (yours)")
    ] = None,
) -> Any:
    """The caller's jobs, newest first unless `sort` says otherwise; `total` counts the jobs that
    match `status` and `q`. Large result fields are left out (see GET /api/jobs/{id}). Each job
    carries its goal's forecast (forecast_probability, forecast_low, forecast_high) once reported,
    and a PENDING job its place in the queue (queue_position, queue_estimate_seconds). A what-if
    branch carries branch_of and branch_round; every job its branch_count."""
    message = jobs_pb2.ListJobsRequest(page=page, per_page=per_page, query=q or "", branch_of=branch_of or 0)
    if sort is not None:
        message.sort = enum_number(jobs_pb2.JobSort.DESCRIPTOR, sort)  # type: ignore[assignment]
    if status is not None:
        message.status = enum_number(jobs_pb2.JobStatus.DESCRIPTOR, status)  # type: ignore[assignment]
    reply = await rpc(services.jobs.ListJobs, message, caller, request)
    return message_to_json(reply)


@router.get("/api/jobs/{job_id}", response_model=JobResponse)
async def get_job(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """One job with its results."""
    reply = await rpc(services.jobs.GetJob, jobs_pb2.GetJobRequest(job_id=job_id), caller, request)
    return message_to_json(reply)


@router.delete("/api/jobs/{job_id}", status_code=204, response_class=Response)
async def delete_job(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Response:
    """Deletes the job and its artifacts (a running job is stopped first)."""
    await rpc(services.jobs.DeleteJob, jobs_pb2.DeleteJobRequest(job_id=job_id), caller, request)
    return Response(status_code=204)


@router.post("/api/jobs/{job_id}/cancel", response_model=JobResponse)
async def cancel_job(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """Stops a live job; it ends FAILED with "cancelled by user"."""
    reply = await rpc(services.jobs.CancelJob, jobs_pb2.CancelJobRequest(job_id=job_id), caller, request)
    return message_to_json(reply)


@router.post("/api/jobs/{job_id}/retry", response_model=JobResponse, status_code=201)
async def retry_job(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """Re-runs a FAILED job as a new job whose retry_of is this one."""
    reply = await rpc(services.jobs.RetryJob, jobs_pb2.RetryJobRequest(job_id=job_id), caller, request)
    return message_to_json(reply)


# --- drafts -----------------------------------------------------------------------------------------


@router.post("/api/jobs/draft", response_model=JobResponse, status_code=201, tags=["drafts"])
async def create_draft(body: DraftBody, caller: SignedIn, services: Clients, request: Request) -> Any:
    """Saves a job without starting it; any field may still be missing."""
    reply = await rpc(
        services.jobs.CreateDraft, jobs_pb2.CreateDraftRequest(**_optional_fields(body)), caller, request
    )
    return message_to_json(reply)


@router.patch("/api/jobs/draft/{job_id}", response_model=JobResponse, tags=["drafts"])
async def update_draft(
    job_id: JobPath, body: DraftBody, caller: SignedIn, services: Clients, request: Request
) -> Any:
    """Changes the fields that are sent; an empty string clears a text field."""
    message = jobs_pb2.UpdateDraftRequest(job_id=job_id, **_optional_fields(body))
    reply = await rpc(services.jobs.UpdateDraft, message, caller, request)
    return message_to_json(reply)


@router.post("/api/jobs/draft/{job_id}/launch", response_model=JobResponse, tags=["drafts"])
async def launch_draft(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """Validates the draft fully and submits it (PENDING)."""
    reply = await rpc(services.jobs.LaunchDraft, jobs_pb2.LaunchDraftRequest(job_id=job_id), caller, request)
    return message_to_json(reply)


# --- share links ----------------------------------------------------------------------------------


def share_urls(request: Request, token: str) -> dict[str, str]:
    base = request.app.state.settings.public_url.rstrip("/")
    return {"share_url": f"{base}/share/{token}", "api_url": f"{base}/api/share/{token}"}


@router.post("/api/jobs/{job_id}/share", response_model=ShareResponse, status_code=201, tags=["sharing"])
async def create_share_link(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """A public, read-only link to a COMPLETED job, shown this once (only its hash is stored).

    Sharing an already shared job makes a new link and the previous one stops working; the job
    itself says only `shared: true` afterwards.
    """
    reply = await rpc(
        services.jobs.CreateShareLink, jobs_pb2.CreateShareLinkRequest(job_id=job_id), caller, request
    )
    return {"share_token": reply.share_token, **share_urls(request, reply.share_token)}


@router.delete("/api/jobs/{job_id}/share", status_code=204, response_class=Response, tags=["sharing"])
async def revoke_share_link(
    job_id: JobPath, caller: SignedIn, services: Clients, request: Request
) -> Response:
    """Revokes the job's share link; the old URL answers 404 from now on."""
    await rpc(services.jobs.RevokeShareLink, jobs_pb2.RevokeShareLinkRequest(job_id=job_id), caller, request)
    return Response(status_code=204)
