"""`GET /api/jobs/{id}/progress`: the WatchJob stream as Server-Sent Events.

Events:
- `job`  — `data` is the job as JSON (the large text fields left out), sent at once and at every
           change: status, pipeline_stage, live_status (stage, round, prices, …).
- `end`  — `data` is `{"status": …}`; sent after the job reached a terminal status, then the
           stream closes.
- `error`— `data` is the error body; the watch broke (e.g. the job was deleted), stream closes.
Idle streams get a comment line every few seconds so proxies keep them open.

Errors known before the first event are plain HTTP errors: unknown job 404, bad token 401, and
409 for a draft (it makes no progress until launched).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from swarmcast.jobs.v1 import jobs_pb2

from services.gateway.convert import message_to_json
from services.gateway.deps import Clients, SignedIn, gateway_settings
from services.gateway.errors import ERROR_RESPONSES, ApiError, from_rpc_error
from services.gateway.models import JobId

router = APIRouter(tags=["jobs"], responses=ERROR_RESPONSES)

TERMINAL = frozenset({"COMPLETED", "FAILED", "REFUNDED"})
# Not needed to follow progress, and the seed alone can be 50,000 characters per event.
_LEFT_OUT = ("seed_text", "enriched_seed", "enrichment_citations")
RECONNECT_MS = 3000


def progress_json(job: jobs_pb2.Job) -> dict[str, Any]:
    data = message_to_json(job)
    for name in _LEFT_OUT:
        data.pop(name, None)
    return data


def sse_event(event: str, data: Any) -> str:
    # json.dumps never emits a raw newline, so one `data:` line always suffices.
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _pump(call: Any, queue: asyncio.Queue[Any]) -> None:
    """Moves stream messages into `queue`; None marks the end, an exception a broken stream."""
    try:
        while True:
            message = await call.read()
            if message is grpc.aio.EOF:
                break
            await queue.put(message)
        await queue.put(None)
    except grpc.aio.AioRpcError as exc:
        await queue.put(exc)


async def _events(call: Any, first: jobs_pb2.WatchJobResponse, keepalive: float) -> AsyncIterator[str]:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    pump = asyncio.create_task(_pump(call, queue))
    try:
        yield f"retry: {RECONNECT_MS}\n\n"
        item: Any = first
        while True:
            if item is None:
                return  # the service closed the stream without a terminal status (shutting down)
            if isinstance(item, grpc.aio.AioRpcError):
                yield sse_event("error", from_rpc_error(item).body())
                return
            data = progress_json(item.job)
            yield sse_event("job", data)
            if data["status"] in TERMINAL:
                yield sse_event("end", {"status": data["status"]})
                return
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), keepalive)
                    break
                except TimeoutError:
                    yield ": keep-alive\n\n"
    finally:
        pump.cancel()
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump


@router.get(
    "/api/jobs/{job_id}/progress",
    response_class=StreamingResponse,
    responses={
        200: {"description": "Server-Sent Events (job, end, error)", "content": {"text/event-stream": {}}}
    },
)
async def progress(
    job_id: Annotated[JobId, Path(description="the job's id")],
    caller: SignedIn,
    services: Clients,
    request: Request,
) -> StreamingResponse:
    """Live progress until the job is COMPLETED or FAILED (Server-Sent Events)."""
    call = services.jobs.WatchJob(jobs_pb2.WatchJobRequest(job_id=job_id), metadata=caller.metadata)
    try:
        first = await call.read()
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from None
    if first is grpc.aio.EOF:
        raise ApiError(503, "UNAVAILABLE", "the progress stream ended before it started; try again")
    if first.job.status == jobs_pb2.JOB_STATUS_DRAFT:
        # A draft makes no progress until it is launched: a stream would hang open with nothing to say.
        call.cancel()
        raise ApiError(
            409, "FAILED_PRECONDITION", f"job {job_id} is a draft; launch it to follow its progress"
        )
    keepalive = gateway_settings(request).gateway_sse_keepalive_seconds
    return StreamingResponse(
        _events(call, first, keepalive),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
