"""/api/jobs/{id}/branches and /api/jobs/{id}/interviews: what-if branches and agent interviews.

BranchJob, InterviewAgents and ListInterviews, one route each (DESIGN §8a). The interview is a
server stream; it leaves the gateway as newline-delimited JSON (`application/x-ndjson`), one
object a line:

    {"type": "answer", "interview_id": 7, "answer": {...InterviewAnswer...}}   one per agent
    {"type": "done", "interview": {...Interview...}}                             the transcript kept
    {"type": "error", "status": 503, "code": "UNAVAILABLE", "message": "..."}   a failure mid-way

The gateway waits for the first answer before it answers, so a refused interview (bad target,
not the caller's job, not COMPLETED, too many per hour, no runner) is an ordinary JSON error with
its mapped status, like every other route.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from swarmcast.jobs.v1 import jobs_pb2

from services.gateway.convert import message_to_json, model_for
from services.gateway.deps import Caller, Clients, SignedIn, rpc
from services.gateway.errors import ERROR_RESPONSES, ApiError, from_rpc_error
from services.gateway.models import BranchBody, InterviewBody, JobId
from services.gateway.routes_jobs import JobResponse

router = APIRouter(tags=["what-if"], responses=ERROR_RESPONSES)

InterviewModel = model_for(jobs_pb2.Interview.DESCRIPTOR)
JobPath = Annotated[JobId, Path(description="the job's id")]
NDJSON = "application/x-ndjson"


class InterviewListResponse(BaseModel):
    # Newest first.
    interviews: list[InterviewModel]  # type: ignore[valid-type]


@router.post("/api/jobs/{job_id}/branches", response_model=JobResponse, status_code=201)
async def branch_job(
    job_id: JobPath, body: BranchBody, caller: SignedIn, services: Clients, request: Request
) -> Any:
    """A what-if branch of a COMPLETED job: a new job (PENDING) that resumes the job's checkpoint
    after `round` with `events` injected, on the same replicates and random streams; with no events
    it reproduces the job. Its report opens with the comparison (forecast before and after, with
    intervals). 409 when the job is not COMPLETED or has no checkpoint of that round; 422 for a
    round outside 0..rounds-1 or an event that does not fall after it."""
    message = jobs_pb2.BranchJobRequest(
        job_id=job_id, round=body.round, events=[event.model_dump() for event in body.events]
    )
    reply = await rpc(services.jobs.BranchJob, message, caller, request)
    return message_to_json(reply)


@router.get("/api/jobs/{job_id}/interviews", response_model=InterviewListResponse)
async def list_interviews(job_id: JobPath, caller: SignedIn, services: Clients, request: Request) -> Any:
    """The job's interview transcripts, newest first. `backend` "heuristic" means the answers were
    templated from the agents' state, not written by a model."""
    reply = await rpc(
        services.jobs.ListInterviews, jobs_pb2.ListInterviewsRequest(job_id=job_id), caller, request
    )
    return message_to_json(reply)


def ndjson_line(data: dict[str, Any]) -> bytes:
    # json.dumps never writes a raw newline, so each object is exactly one line.
    return (json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def answer_line(reply: jobs_pb2.InterviewAgentsResponse) -> bytes:
    return ndjson_line(
        {"type": "answer", "interview_id": reply.interview_id, "answer": message_to_json(reply.answer)}
    )


# gRPC's own wording when the service could not be reached; anything else the jobs service said
# itself ("no runner of tier small answered") and the caller should read it.
_TRANSPORT_FAILURES = ("failed to connect", "connection refused", "dns resolution", "socket closed")


def interview_error(exc: grpc.aio.AioRpcError) -> ApiError:
    error = from_rpc_error(exc)
    details = exc.details() or ""
    if (
        exc.code() is grpc.StatusCode.UNAVAILABLE
        and details
        and not any(marker in details.lower() for marker in _TRANSPORT_FAILURES)
    ):
        error.message = details
    return error


def error_line(exc: grpc.aio.AioRpcError) -> bytes:
    error = interview_error(exc)
    return ndjson_line(
        {"type": "error", "status": error.status, "code": error.code, "message": error.message}
    )


async def _kept_interview(
    services: Clients, caller: Caller, request: Request, job_id: int, interview_id: int
) -> dict[str, Any] | None:
    """The transcript as the jobs service stored it (with backend, model and target), if it can say."""
    try:
        reply = await rpc(
            services.jobs.ListInterviews, jobs_pb2.ListInterviewsRequest(job_id=job_id), caller, request
        )
    except ApiError:
        return None
    for interview in reply.interviews:
        if interview.id == interview_id:
            return message_to_json(interview)
    return None


async def _interview_lines(
    call: Any,
    first: jobs_pb2.InterviewAgentsResponse,
    body: InterviewBody,
    job_id: int,
    services: Clients,
    caller: Caller,
    request: Request,
) -> AsyncIterator[bytes]:
    answers = [first.answer]
    interview_id = first.interview_id
    try:
        yield answer_line(first)
        while True:
            try:
                reply = await call.read()
            except grpc.aio.AioRpcError as exc:
                yield error_line(exc)
                return
            if reply is grpc.aio.EOF:
                break
            answers.append(reply.answer)
            yield answer_line(reply)
    finally:
        call.cancel()
    kept = await _kept_interview(services, caller, request, job_id, interview_id)
    if kept is None:
        # The stream finished, so the service stored it; if the list cannot say so now, the
        # caller still gets the answers it streamed.
        assembled = jobs_pb2.Interview(id=interview_id, job_id=job_id, question=body.question.strip())
        assembled.answers.extend(answers)
        kept = message_to_json(assembled)
    yield ndjson_line({"type": "done", "interview": kept})


_LINE_SCHEMA = {
    "type": "object",
    "description": "one line of the stream: an answer, then done (or error)",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["answer", "done", "error"]},
        "interview_id": {"type": "integer", "description": "answer: the interview's id"},
        "answer": {"$ref": "#/components/schemas/InterviewAnswer"},
        "interview": {"$ref": "#/components/schemas/Interview"},
        "status": {"type": "integer", "description": "error: the HTTP status it maps to"},
        "code": {"type": "string", "description": "error: the canonical status name"},
        "message": {"type": "string", "description": "error: what went wrong"},
    },
}


@router.post(
    "/api/jobs/{job_id}/interviews",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "newline-delimited JSON: one `answer` line per agent as it is ready, then "
            "`done` with the kept transcript, or `error` if the interview broke off",
            "content": {NDJSON: {"schema": _LINE_SCHEMA}},
        }
    },
)
async def interview_agents(
    job_id: JobPath, body: InterviewBody, caller: SignedIn, services: Clients, request: Request
) -> StreamingResponse:
    """Asks one or more agents of a COMPLETED job a question; each answers in character from the
    run's final state (persona, stated belief and reasons, memory, posts and trades), with its
    current probability for the goal. Target exactly one of `agent_ids` (at most 12), `camp` or
    `coalition`. Answers stream as they are ready; the transcript is kept (GET lists it). On the
    heuristic backend answers are templated from the agent's state, not written by a model.
    Refusals are plain errors: 422 bad question or target, 404 not your job, 409 not COMPLETED or
    no checkpoint, 429 too many interviews of the job this hour, 503 no runner answered."""
    message = jobs_pb2.InterviewAgentsRequest(
        job_id=job_id,
        question=body.question,
        agent_ids=body.agent_ids or [],
        camp=body.camp or "",
        coalition=body.coalition or "",
    )
    call = services.jobs.InterviewAgents(message, metadata=caller.metadata)
    try:
        first = await call.read()
    except grpc.aio.AioRpcError as exc:
        raise interview_error(exc) from None
    except asyncio.CancelledError:
        call.cancel()
        raise
    if first is grpc.aio.EOF:
        raise ApiError(503, "UNAVAILABLE", "the interview ended before any agent answered; try again")
    return StreamingResponse(
        _interview_lines(call, first, body, job_id, services, caller, request),
        media_type=NDJSON,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
