"""/api/jobs/{id}/outcome and /api/track-record: what really happened, and how good the forecasts were.

ResolveJob, GetOutcome and GetTrackRecord, one route each (the admin route asks for everyone's).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from swarmcast.jobs.v1 import jobs_pb2

from services.gateway.convert import enum_number, message_to_json, model_for
from services.gateway.deps import Clients, SignedIn, rpc
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.models import Body, JobId, ValidUnicode

router = APIRouter(tags=["outcomes"], responses=ERROR_RESPONSES)

OutcomeModel = model_for(jobs_pb2.JobOutcome.DESCRIPTOR)
TrackRecordModel = model_for(jobs_pb2.GetTrackRecordResponse.DESCRIPTOR)
JobPath = Annotated[JobId, Path(description="the job's id")]
ResolutionName = Literal["YES", "NO", "ANNULLED"]
MarketId = Annotated[str, Field(min_length=1, max_length=64), ValidUnicode]
SourceUrl = Annotated[str, Field(max_length=2000), ValidUnicode]


class OutcomeBody(Body):
    """What happened: the goal's outcome, optionally other markets', when and where it is recorded."""

    outcome: ResolutionName = Field(description="the goal's outcome")
    markets: dict[MarketId, ResolutionName] = Field(
        default_factory=dict, max_length=5, description="other markets by id (e.g. m2); left out: unresolved"
    )
    resolved_on: str = Field(
        "",
        pattern=r"^(\d{4}-\d{2}-\d{2})?$",
        description="YYYY-MM-DD, on or after the job's creation and not in the future (default today)",
    )
    source_url: SourceUrl = Field("", description="http(s) page recording the outcome")


class OutcomeResponse(BaseModel):
    outcome: OutcomeModel  # type: ignore[valid-type]


class MaybeOutcomeResponse(BaseModel):
    # null while no outcome is recorded
    outcome: OutcomeModel | None  # type: ignore[valid-type]


def _resolution(name: str) -> jobs_pb2.Resolution:
    return cast("jobs_pb2.Resolution", enum_number(jobs_pb2.Resolution.DESCRIPTOR, name))


@router.put("/api/jobs/{job_id}/outcome", response_model=OutcomeResponse)
async def resolve_job(
    job_id: JobPath, body: OutcomeBody, caller: SignedIn, services: Clients, request: Request
) -> Any:
    """Records (or, within 7 days, corrects) what happened to a COMPLETED job's goal and markets.

    The markets settle (each agent's cash once winning shares pay 1) and every forecast is scored
    (Brier and log score, and the opening price's as the baseline). A job that is not COMPLETED or
    whose outcome is fixed: 409; a market the job does not have or a bad date: 422.
    """
    message = jobs_pb2.ResolveJobRequest(
        job_id=job_id,
        outcome=_resolution(body.outcome),
        markets={k: _resolution(v) for k, v in body.markets.items()},
        resolved_on=body.resolved_on,
        source_url=body.source_url,
    )
    reply = await rpc(services.jobs.ResolveJob, message, caller, request)
    return message_to_json(reply)


@router.get("/api/jobs/{job_id}/outcome", response_model=MaybeOutcomeResponse)
async def get_outcome(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """The job's recorded outcome with its scores and settlement; `outcome` is null until one is
    recorded (404: no such job of yours)."""
    reply = await rpc(services.jobs.GetOutcome, jobs_pb2.GetOutcomeRequest(job_id=job_id), caller, request)
    return message_to_json(reply)


@router.get("/api/track-record", response_model=TrackRecordModel)
async def track_record(caller: SignedIn, services: Clients, request: Request) -> Any:
    """The caller's resolved forecasts: Brier and log score, calibration in ten bins, sharpness,
    and the same for each goal market's opening price (the baseline)."""
    reply = await rpc(services.jobs.GetTrackRecord, jobs_pb2.GetTrackRecordRequest(), caller, request)
    return message_to_json(reply)


@router.get("/api/admin/track-record", response_model=TrackRecordModel, tags=["admin"])
async def everyones_track_record(caller: SignedIn, services: Clients, request: Request) -> Any:
    """Every user's resolved forecasts together (operator role)."""
    reply = await rpc(
        services.jobs.GetTrackRecord, jobs_pb2.GetTrackRecordRequest(all_users=True), caller, request
    )
    return message_to_json(reply)
