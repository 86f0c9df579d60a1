"""swarmcast.jobs.v1.JobsService over gRPC: identity and request/response mapping.

The operations live in `service.JobsCore`; the domain errors they raise (`services.common.errors`,
bad input as `validation.ValidationError`) are answered with their status by the shared
interceptor, so bad input is INVALID_ARGUMENT, never INTERNAL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeAlias

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swarmcast.jobs.v1 import jobs_pb2, jobs_pb2_grpc

from services.common.errors import NotFound, Unavailable
from services.common.identity import Identity, require_identity, require_operator
from services.common.scheduled_events import ScheduledEvent
from services.jobs.convert import (
    error_event_to_proto,
    interview_to_proto,
    job_to_proto,
    outcome_to_proto,
    resolution_from_proto,
    route_from_proto,
    route_to_proto,
    shared_job_to_proto,
    sort_from_proto,
    status_from_proto,
    track_record_to_proto,
)
from services.jobs.domain.outcomes import ResolutionInput
from services.jobs.domain.state_machine import TERMINAL
from services.jobs.domain.validation import JobFields
from services.jobs.domain.visibility import job_not_found
from services.jobs.domain.whatif import check_interview
from services.jobs.repository import JobRow
from services.jobs.service import SIM_DATA_URL_TTL, JobsCore
from services.jobs.watch import WatchHub

Ctx: TypeAlias = grpc.aio.ServicerContext

# WatchJob is driven by change notifications; this slow re-read only covers a notification lost
# in a NATS outage.
WATCH_RESYNC_SECONDS = 30.0
# A PENDING job's queue position moves when other jobs are taken, which notifies their watchers,
# not this one's: re-read this often while it waits.
WATCH_QUEUE_RESYNC_SECONDS = 2.0


def _optional(message: object, name: str) -> object | None:
    return getattr(message, name) if message.HasField(name) else None  # type: ignore[attr-defined]


class JobsServicer(jobs_pb2_grpc.JobsServiceServicer):
    def __init__(
        self,
        core: JobsCore,
        hub: WatchHub,
        sessions: async_sessionmaker[AsyncSession],
        *,
        resync_seconds: float = WATCH_RESYNC_SECONDS,
    ) -> None:
        self.core = core
        self.hub = hub
        self.sessions = sessions
        self.resync_seconds = resync_seconds

    # --- jobs and drafts --------------------------------------------------------------------------

    async def CreateJob(self, request: jobs_pb2.CreateJobRequest, context: Ctx) -> jobs_pb2.CreateJobResponse:
        identity = require_identity()
        fields = JobFields(
            seed_text=request.seed_text,
            goal=request.goal,
            tier=request.tier,
            enrich_web=_optional(request, "enrich_web"),  # type: ignore[arg-type]
            forecast_days=_optional(request, "forecast_days"),  # type: ignore[arg-type]
        )
        events = [ScheduledEvent.from_proto(e) for e in request.events]
        job = await self.core.create_job(identity, fields, events)
        return jobs_pb2.CreateJobResponse(job=job_to_proto(job, events=[e.to_dict() for e in events]))

    @staticmethod
    def _draft_fields(request: jobs_pb2.CreateDraftRequest | jobs_pb2.UpdateDraftRequest) -> JobFields:
        return JobFields(
            seed_text=_optional(request, "seed_text"),  # type: ignore[arg-type]
            goal=_optional(request, "goal"),  # type: ignore[arg-type]
            tier=_optional(request, "tier"),  # type: ignore[arg-type]
            enrich_web=_optional(request, "enrich_web"),  # type: ignore[arg-type]
            forecast_days=_optional(request, "forecast_days"),  # type: ignore[arg-type]
        )

    async def CreateDraft(
        self, request: jobs_pb2.CreateDraftRequest, context: Ctx
    ) -> jobs_pb2.CreateDraftResponse:
        identity = require_identity()
        job = await self.core.create_draft(identity, self._draft_fields(request))
        return jobs_pb2.CreateDraftResponse(job=job_to_proto(job))

    async def UpdateDraft(
        self, request: jobs_pb2.UpdateDraftRequest, context: Ctx
    ) -> jobs_pb2.UpdateDraftResponse:
        identity = require_identity()
        job = await self.core.update_draft(identity, request.job_id, self._draft_fields(request))
        return jobs_pb2.UpdateDraftResponse(job=job_to_proto(job))

    async def LaunchDraft(
        self, request: jobs_pb2.LaunchDraftRequest, context: Ctx
    ) -> jobs_pb2.LaunchDraftResponse:
        identity = require_identity()
        job = await self.core.launch_draft(identity, request.job_id)
        return jobs_pb2.LaunchDraftResponse(job=job_to_proto(job))

    async def _read_one(self, identity: Identity, job_id: int, *, light: bool) -> jobs_pb2.Job | None:
        """The caller's job as a message (PENDING with its place in the queue), or None."""
        found = await self.core.read_owned(identity, job_id, light=light)
        if found is None:
            return None
        job, spot = found
        return job_to_proto(
            job,
            light=light,
            queue_position=None if spot is None else spot.position,
            queue_estimate_seconds=None if spot is None else spot.estimate_seconds,
        )

    async def _jobs_to_proto(self, jobs: list[JobRow], *, light: bool) -> list[jobs_pb2.Job]:
        """The jobs as messages, PENDING ones with their place in the queue."""
        spots = await self.core.queue_spots(jobs)
        messages = []
        for job in jobs:
            spot = spots.get(job.id)
            messages.append(
                job_to_proto(
                    job,
                    light=light,
                    queue_position=None if spot is None else spot.position,
                    queue_estimate_seconds=None if spot is None else spot.estimate_seconds,
                )
            )
        return messages

    async def GetJob(self, request: jobs_pb2.GetJobRequest, context: Ctx) -> jobs_pb2.GetJobResponse:
        identity = require_identity()
        message = await self._read_one(identity, request.job_id, light=False)
        if message is None:
            raise job_not_found(request.job_id)
        return jobs_pb2.GetJobResponse(job=message)

    async def ListJobs(self, request: jobs_pb2.ListJobsRequest, context: Ctx) -> jobs_pb2.ListJobsResponse:
        identity = require_identity()
        result = await self.core.list_jobs(
            identity,
            page=request.page,
            per_page=request.per_page,
            status=status_from_proto(request.status),
            query=request.query,
            sort=sort_from_proto(request.sort),
            branch_of=request.branch_of,
        )
        return jobs_pb2.ListJobsResponse(
            jobs=await self._jobs_to_proto(result.jobs, light=True),
            total=result.total,
            page=result.page.page,
            per_page=result.page.per_page,
        )

    async def DeleteJob(self, request: jobs_pb2.DeleteJobRequest, context: Ctx) -> jobs_pb2.DeleteJobResponse:
        identity = require_identity()
        await self.core.delete_job(identity, request.job_id)
        return jobs_pb2.DeleteJobResponse()

    async def CancelJob(self, request: jobs_pb2.CancelJobRequest, context: Ctx) -> jobs_pb2.CancelJobResponse:
        identity = require_identity()
        job = await self.core.cancel_job(identity, request.job_id)
        return jobs_pb2.CancelJobResponse(job=job_to_proto(job, light=True))

    async def RetryJob(self, request: jobs_pb2.RetryJobRequest, context: Ctx) -> jobs_pb2.RetryJobResponse:
        identity = require_identity()
        job = await self.core.retry_job(identity, request.job_id)
        return jobs_pb2.RetryJobResponse(job=job_to_proto(job))

    async def BranchJob(self, request: jobs_pb2.BranchJobRequest, context: Ctx) -> jobs_pb2.BranchJobResponse:
        identity = require_identity()
        events = [ScheduledEvent.from_proto(e) for e in request.events]
        job = await self.core.branch_job(identity, request.job_id, request.round, events)
        (message,) = await self._jobs_to_proto([job], light=False)
        return jobs_pb2.BranchJobResponse(job=message)

    # --- interviews -------------------------------------------------------------------------------

    async def InterviewAgents(
        self, request: jobs_pb2.InterviewAgentsRequest, context: Ctx
    ) -> AsyncIterator[jobs_pb2.InterviewAgentsResponse]:
        identity = require_identity()
        ask = check_interview(request.question, list(request.agent_ids), request.camp, request.coalition)
        interviews = self.core.interviews
        if interviews is None:
            raise Unavailable("interviews are not served by this jobs service")
        async for interview_id, answer in interviews.interview(identity, request.job_id, ask):
            yield jobs_pb2.InterviewAgentsResponse(interview_id=interview_id, answer=answer)

    async def ListInterviews(
        self, request: jobs_pb2.ListInterviewsRequest, context: Ctx
    ) -> jobs_pb2.ListInterviewsResponse:
        identity = require_identity()
        interviews = self.core.interviews
        if interviews is None:
            raise Unavailable("interviews are not served by this jobs service")
        rows = await interviews.list(identity, request.job_id)
        return jobs_pb2.ListInterviewsResponse(interviews=[interview_to_proto(r) for r in rows])

    # --- watch ------------------------------------------------------------------------------------

    async def _read_for_watch(self, identity: Identity, job_id: int) -> jobs_pb2.Job | None:
        return await self._read_one(identity, job_id, light=True)

    async def WatchJob(
        self, request: jobs_pb2.WatchJobRequest, context: Ctx
    ) -> AsyncIterator[jobs_pb2.WatchJobResponse]:
        identity = require_identity()
        job_id = request.job_id
        # Register before the first read: a change committed in between still wakes us.
        with self.hub.watch(job_id) as changed:
            last = await self._read_for_watch(identity, job_id)
            if last is None:
                raise job_not_found(job_id)
            yield jobs_pb2.WatchJobResponse(job=last)
            while status_from_proto(last.status) not in TERMINAL:
                timeout = self.resync_seconds
                if last.HasField("queue_position"):
                    timeout = min(timeout, WATCH_QUEUE_RESYNC_SECONDS)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=timeout)
                changed.clear()
                current = await self._read_for_watch(identity, job_id)
                if current is None:
                    raise NotFound(f"job {job_id} was deleted")
                if current != last:
                    last = current
                    yield jobs_pb2.WatchJobResponse(job=current)

    # --- sharing ----------------------------------------------------------------------------------

    async def CreateShareLink(
        self, request: jobs_pb2.CreateShareLinkRequest, context: Ctx
    ) -> jobs_pb2.CreateShareLinkResponse:
        identity = require_identity()
        token = await self.core.create_share_link(identity, request.job_id)
        return jobs_pb2.CreateShareLinkResponse(share_token=token)

    async def RevokeShareLink(
        self, request: jobs_pb2.RevokeShareLinkRequest, context: Ctx
    ) -> jobs_pb2.RevokeShareLinkResponse:
        identity = require_identity()
        await self.core.revoke_share_link(identity, request.job_id)
        return jobs_pb2.RevokeShareLinkResponse()

    async def GetSharedJob(
        self, request: jobs_pb2.GetSharedJobRequest, context: Ctx
    ) -> jobs_pb2.GetSharedJobResponse:
        # Public: the token is the only credential.
        job = await self.core.shared_job(request.share_token)
        return jobs_pb2.GetSharedJobResponse(job=shared_job_to_proto(job))

    async def SuggestQuestions(
        self, request: jobs_pb2.SuggestQuestionsRequest, context: Ctx
    ) -> jobs_pb2.SuggestQuestionsResponse:
        require_identity()
        result = await self.core.suggest_questions(request.seed_text, request.goal, request.forecast_days)
        return jobs_pb2.SuggestQuestionsResponse(
            suggestions=result.suggestions, goal_ok=result.goal_ok, reason=result.reason
        )

    # --- results ----------------------------------------------------------------------------------

    async def GetSimData(
        self, request: jobs_pb2.GetSimDataRequest, context: Ctx
    ) -> jobs_pb2.GetSimDataResponse:
        identity = require_identity()
        files = await self.core.sim_data(identity, request.job_id)
        return jobs_pb2.GetSimDataResponse(
            files=files, expires_in_seconds=int(SIM_DATA_URL_TTL.total_seconds())
        )

    async def GetSharedSimData(
        self, request: jobs_pb2.GetSharedSimDataRequest, context: Ctx
    ) -> jobs_pb2.GetSharedSimDataResponse:
        # Public: the token is the only credential.
        job_id, url = await self.core.shared_sim_data(request.share_token, request.name)
        return jobs_pb2.GetSharedSimDataResponse(
            url=url, expires_in_seconds=int(SIM_DATA_URL_TTL.total_seconds()), job_id=job_id
        )

    async def GetGraph(self, request: jobs_pb2.GetGraphRequest, context: Ctx) -> jobs_pb2.GetGraphResponse:
        identity = require_identity()
        graph = await self.core.graph(identity, request.job_id)
        return jobs_pb2.GetGraphResponse(graph=graph)

    # --- outcomes ---------------------------------------------------------------------------------

    async def ResolveJob(
        self, request: jobs_pb2.ResolveJobRequest, context: Ctx
    ) -> jobs_pb2.ResolveJobResponse:
        identity = require_identity()
        given = ResolutionInput(
            outcome=resolution_from_proto(request.outcome),
            markets={k: resolution_from_proto(v) for k, v in request.markets.items()},
            resolved_on=request.resolved_on,
            source_url=request.source_url,
        )
        view = await self.core.outcomes.resolve(identity, request.job_id, given)
        return jobs_pb2.ResolveJobResponse(outcome=outcome_to_proto(view))

    async def GetOutcome(
        self, request: jobs_pb2.GetOutcomeRequest, context: Ctx
    ) -> jobs_pb2.GetOutcomeResponse:
        identity = require_identity()
        view = await self.core.outcomes.get(identity, request.job_id)
        if view is None:
            return jobs_pb2.GetOutcomeResponse()
        return jobs_pb2.GetOutcomeResponse(outcome=outcome_to_proto(view))

    async def GetTrackRecord(
        self, request: jobs_pb2.GetTrackRecordRequest, context: Ctx
    ) -> jobs_pb2.GetTrackRecordResponse:
        if request.all_users:
            identity = require_operator()
        else:
            identity = require_identity()
        record = await self.core.outcomes.track_record(identity, all_users=request.all_users)
        return track_record_to_proto(record, all_users=request.all_users)

    # --- operator ---------------------------------------------------------------------------------

    async def ListRoutes(
        self, request: jobs_pb2.ListRoutesRequest, context: Ctx
    ) -> jobs_pb2.ListRoutesResponse:
        require_operator()
        routes = await self.core.routes()
        return jobs_pb2.ListRoutesResponse(routes=[route_to_proto(r.route, r.settings) for r in routes])

    async def UpsertRoute(
        self, request: jobs_pb2.UpsertRouteRequest, context: Ctx
    ) -> jobs_pb2.UpsertRouteResponse:
        require_operator()
        view = await self.core.upsert_route(route_from_proto(request.route))
        return jobs_pb2.UpsertRouteResponse(route=route_to_proto(view.route, view.settings))

    async def ListErrorEvents(
        self, request: jobs_pb2.ListErrorEventsRequest, context: Ctx
    ) -> jobs_pb2.ListErrorEventsResponse:
        require_operator()
        result = await self.core.error_events(
            page=request.page,
            per_page=request.per_page,
            source=request.source,
            job_id=request.job_id if request.HasField("job_id") else None,
        )
        return jobs_pb2.ListErrorEventsResponse(
            events=[error_event_to_proto(e) for e in result.events],
            total=result.total,
            page=result.page.page,
            per_page=result.page.per_page,
        )
