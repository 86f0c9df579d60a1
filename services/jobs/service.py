"""The jobs service's operations, independent of gRPC: the servicer maps requests and responses,
the shared interceptor maps the domain errors raised here (`services.common.errors`) to statuses.

Every operation that reads or changes a job takes the caller's identity and treats another user's
job exactly like a missing one (NotFound). Writes that cause messages (dispatch, cancel) put them
in the outbox inside the same transaction; after commit the relay is kicked and the job's
watchers are notified.

Creates, drafts, launches and retries pass the fair-use checks first (`domain/fair_use.py`: caps
and creation rate under a per-user advisory lock); a new live job past its owner's in-flight cap
is held, not dispatched, until `dispatch.FairRelease` releases it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.errors import AlreadyExists, FailedPrecondition, NotFound, Unauthenticated
from services.common.identity import Identity
from services.common.outbox import Kicker
from services.common.questions import analyze_goal
from services.common.revocation import RevocationList
from services.common.scheduled_events import ScheduledEvent
from services.common.storage import ObjectStore
from services.jobs import repository as repo
from services.jobs.dispatch import Dispatcher, route_snapshot
from services.jobs.domain.artifacts import (
    ARTIFACT_NAMES,
    REPORT_NAME,
    artifact_key,
    job_prefix,
    round_checkpoint_key,
)
from services.jobs.domain.dispatch import RouteSnapshot, random_seed_for
from services.jobs.domain.events import CANCELLED_BY_USER, RowChange, failed_change
from services.jobs.domain.fair_use import (
    NO_LIMITS,
    FairUseLimits,
    UserCounts,
    check_draft_cap,
    check_live_cap,
    check_rate,
    fair_use_lock_key,
    release_now,
)
from services.jobs.domain.listing import (
    JobSort,
    check_list_query,
)
from services.jobs.domain.pagination import Page, resolve_page
from services.jobs.domain.sharing import is_well_formed_share_token, new_share_token
from services.jobs.domain.state_machine import LIVE, TERMINAL, JobStatus
from services.jobs.domain.tier_settings import TierSettings, check_settings_update, settings_of
from services.jobs.domain.validation import (
    DEFAULT_FORECAST_DAYS,
    SUGGESTION_LIMIT,
    JobFields,
    JobSpec,
    OpenEndedGoal,
    ValidationError,
    check_error_source,
    duplicate_lock_key,
    is_valid_job_id,
    safe_suggestions,
    validate_draft,
    validate_job,
    validate_suggestion_request,
)
from services.jobs.domain.visibility import job_not_found
from services.jobs.domain.whatif import (
    check_branch_round,
    events_problem,
    forecast_of,
    rounds_run,
    structured_of,
)
from services.jobs.interviews import Interviews
from services.jobs.models import ErrorEvent, ModelRouting, SimulationJob
from services.jobs.outcomes import Outcomes
from services.jobs.queue_board import QueueBoard, QueueSpot, TierQueue
from services.jobs.repository import JobRow
from services.jobs.watch import ChangeNotifier

# docs/architecture.md §6: the same user + seed + goal + tier while one is live within 60 s is a duplicate.
DUPLICATE_WINDOW = timedelta(seconds=60)
SIM_DATA_URL_TTL = timedelta(hours=1)
# What a share link's public page may read of the simulation data (the market chart).
SHARED_ARTIFACTS = frozenset({"market_curves.json"})
DELETED_BY_USER = "deleted by user"
RETRYABLE: frozenset[JobStatus] = frozenset({JobStatus.FAILED, JobStatus.REFUNDED})

# A tier name becomes a NATS subject token (jobs.dispatch.<tier>) and fits varchar(20).
_TIER_NAME = re.compile(r"[A-Za-z0-9_-]{1,20}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class JobPage:
    jobs: list[JobRow]
    total: int
    page: Page


@dataclass(frozen=True, slots=True)
class RouteView:
    """A routing row with its tier's forecast settings in effect."""

    route: ModelRouting
    settings: TierSettings


@dataclass(frozen=True, slots=True)
class BranchLink:
    """What makes a new job a what-if branch (jobs.job_branches)."""

    parent_job_id: int
    branch_round: int
    random_seed: int
    parent_forecast: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Suggestions:
    suggestions: list[str]
    goal_ok: bool
    reason: str


@contextlib.asynccontextmanager
async def offering_questions() -> AsyncIterator[None]:
    """Turns a refused open-ended goal into the error the user sees, with suggested questions
    (read from the seed off the event loop, after the caller's transaction has ended)."""
    try:
        yield
    except OpenEndedGoal as refused:
        raise (await asyncio.to_thread(refused.with_suggestions)) from None


@dataclass(frozen=True, slots=True)
class ErrorPage:
    events: list[ErrorEvent]
    total: int
    page: Page


def _spec_values(spec: JobSpec) -> dict[str, Any]:
    return {
        "seed_text": spec.seed_text,
        "goal": spec.goal,
        "tier": spec.tier,
        "enrich_web": spec.enrich_web,
        "forecast_days": spec.forecast_days,
    }


def _fields_of(job: SimulationJob) -> JobFields:
    return JobFields(
        seed_text=job.seed_text,
        goal=job.goal,
        tier=job.tier,
        enrich_web=job.enrich_web,
        forecast_days=job.forecast_days,
    )


def _bound_engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine | None:
    """The engine the sessions are bound to; None when they are not bound to one."""
    engine = sessions.kw.get("bind")
    return engine if isinstance(engine, AsyncEngine) else None


def _autocommit_engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine | None:
    """The sessions' engine in autocommit mode; None when they are not bound to an engine."""
    engine = _bound_engine(sessions)
    return None if engine is None else engine.execution_options(isolation_level="AUTOCOMMIT")


def autocommit_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions for single-statement reads: no BEGIN/ROLLBACK round trips around the query."""
    engine = _autocommit_engine(sessions)
    if engine is None:
        return sessions
    return async_sessionmaker(engine, expire_on_commit=False)


async def _refuse_duplicate(session: AsyncSession, identity: Identity, spec: JobSpec) -> None:
    """ALREADY_EXISTS when the same user submitted the same job within DUPLICATE_WINDOW and it is
    still live. Identical submissions serialise on an advisory lock, so check-then-insert cannot
    interleave across connections or replicas."""
    await repo.advisory_xact_lock(session, duplicate_lock_key(identity.user_id, spec))
    duplicate = await repo.find_live_duplicate(session, identity.user_id, spec, DUPLICATE_WINDOW)
    if duplicate is not None:
        raise AlreadyExists(
            f"an identical simulation (job {duplicate}) was submitted less than "
            f"{int(DUPLICATE_WINDOW.total_seconds())} s ago and is still running"
        )


class JobsCore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        store: ObjectStore,
        dispatcher: Dispatcher,
        relay: Kicker,
        notifier: ChangeNotifier,
        require_verified_email: bool = False,
        limits: FairUseLimits = NO_LIMITS,
        release: Kicker | None = None,
        queue_max_age_s: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.readers = autocommit_sessions(sessions)
        # The single-job read runs on a bare connection of this engine (no Session at all).
        self._read_engine = _autocommit_engine(sessions)
        # PENDING jobs' places, one reading per tier; whatever this process commits ends them.
        self.queue_board = QueueBoard(self._read_tier_queue, max_age_s=queue_max_age_s)
        engine = _bound_engine(sessions)
        if engine is not None:  # the base engine: its events reach every connection
            sa_event.listen(engine.sync_engine, "commit", lambda _conn: self.queue_board.changed())
        self.store = store
        self.dispatcher = dispatcher
        self.relay = relay
        self.notifier = notifier
        self.require_verified_email = require_verified_email
        # Fair use: caps and creation rate checked here, held jobs released by `release`.
        self.limits = limits
        self.release = release
        # ResolveJob, GetOutcome, GetTrackRecord
        self.outcomes = Outcomes(sessions, self.readers, store)

    # --- helpers ----------------------------------------------------------------------------------

    # Deleted users known to this process (token cutoffs and `auth.user.deleted`); set by JobsApp.
    deleted_users: RevocationList | None = None
    # InterviewAgents and ListInterviews (they need the bus); set by JobsApp.
    interviews: Interviews | None = None

    def _refuse_deleted(self, identity: Identity) -> None:
        """No new or shared work for a deleted account, even if a token check was missed."""
        if self.deleted_users is not None and self.deleted_users.is_deleted(identity.user_id):
            raise Unauthenticated("access token is no longer valid: the account was deleted")

    def _check_may_submit(self, identity: Identity) -> None:
        self._refuse_deleted(identity)
        if not self.require_verified_email:
            return
        if not identity.email_verified:
            raise FailedPrecondition("verify your email address before starting simulations")

    @staticmethod
    async def _routes(session: AsyncSession) -> dict[str, RouteSnapshot]:
        """Tier → what a job of that tier is dispatched with (its route and forecast settings)."""
        return {
            route.sim_tier: route_snapshot(route, settings_of(settings))
            for route, settings in await repo.routes_with_settings(session)
        }

    @staticmethod
    async def _owned(
        session: AsyncSession,
        identity: Identity,
        job_id: int,
        *,
        for_update: bool = False,
        light: bool = False,
    ) -> SimulationJob:
        job = await repo.get_job(
            session, job_id, user_id=identity.user_id, for_update=for_update, light=light
        )
        if job is None:
            raise job_not_found(job_id)
        return job

    async def _after_commit(self, job_id: int, *, kicked: bool) -> None:
        if kicked:
            self.relay.kick()
            # A job was held, or a slot freed (cancel): let the fair release look now.
            self._kick_release()
        await self.notifier.notify(job_id)

    def _kick_release(self) -> None:
        if self.release is not None:
            self.release.kick()

    async def _fair_use(
        self,
        session: AsyncSession,
        identity: Identity,
        *,
        live: bool = False,
        draft: bool = False,
        creating: bool = True,
    ) -> UserCounts:
        """Takes the user's fair-use lock (until commit) and refuses what would pass a cap
        (`live`: one more live job, `draft`: one more draft) or the creation rate (`creating`).

        Every admission of the user's jobs serialises on the lock, so concurrent creates count each
        other's rows and a burst cannot pass a cap; a refusal leaves nothing written.
        """
        if not self.limits.enabled:
            return UserCounts()
        await repo.advisory_xact_lock(session, fair_use_lock_key(identity.user_id))
        counts = await repo.fair_use_counts(session, identity.user_id)
        if live:
            check_live_cap(counts, self.limits)
        if draft:
            check_draft_cap(counts, self.limits)
        if creating and self.limits.creations_per_window:
            now, recent = await repo.recent_creations(
                session,
                identity.user_id,
                timedelta(seconds=self.limits.window_seconds),
                self.limits.creations_per_window,
            )
            check_rate(recent, now, self.limits)
        return counts

    async def _first_dispatch_or_hold(
        self, session: AsyncSession, job: SimulationJob, route: RouteSnapshot, counts: UserCounts
    ) -> None:
        """Dispatches a job that has just become PENDING, unless its owner's in-flight slots are
        full: then it stays held (PENDING, no run) until `FairRelease` puts it on the queue."""
        if release_now(counts, self.limits):
            await self.dispatcher.first_dispatch(session, job, route)

    async def _submit(
        self,
        session: AsyncSession,
        identity: Identity,
        spec: JobSpec,
        route: RouteSnapshot,
        *,
        retry_of: int | None = None,
        events: Sequence[ScheduledEvent] = (),
        branch: BranchLink | None = None,
        derived: Mapping[str, Any] | None = None,
    ) -> SimulationJob:
        """Inserts a PENDING job (with its scheduled events and, for a what-if branch, its link to
        the parent) and its first dispatch, unless an identical one is live (race-safe).

        Branches are never duplicates: two branches of one parent share its seed, goal and tier.
        `derived`: columns a branch copies from its parent (enriched_seed, markets_config).
        """
        counts = await self._fair_use(session, identity, live=True)
        if branch is None:
            await _refuse_duplicate(session, identity, spec)
        job = await repo.insert_job(
            session,
            user_id=identity.user_id,
            status=JobStatus.PENDING,
            retry_of=retry_of,
            **_spec_values(spec),
            **dict(derived or {}),
        )
        # Before the dispatch: it reads them back (as every later attempt does).
        await repo.save_events(session, job.id, [event.to_dict() for event in events])
        if branch is not None:
            await repo.insert_branch(
                session,
                job_id=job.id,
                parent_job_id=branch.parent_job_id,
                branch_round=branch.branch_round,
                random_seed=branch.random_seed,
                parent_forecast=branch.parent_forecast,
            )
        await self._first_dispatch_or_hold(session, job, route, counts)
        return job

    # --- jobs and drafts --------------------------------------------------------------------------

    async def create_job(
        self, identity: Identity, fields: JobFields, events: Sequence[ScheduledEvent] = ()
    ) -> SimulationJob:
        self._check_may_submit(identity)
        async with offering_questions(), self.sessions() as session, session.begin():
            routes = await self._routes(session)
            spec = validate_job(fields, routes.keys())
            events_problem(events, spec.forecast_days)
            job = await self._submit(session, identity, spec, routes[spec.tier], events=events)
        await self._after_commit(job.id, kicked=True)
        return job

    async def create_draft(self, identity: Identity, fields: JobFields) -> SimulationJob:
        self._refuse_deleted(identity)
        async with self.sessions() as session, session.begin():
            draft = validate_draft(fields, (await self._routes(session)).keys())
            await self._fair_use(session, identity, draft=True)
            job = await repo.insert_job(
                session,
                user_id=identity.user_id,
                status=JobStatus.DRAFT,
                seed_text=draft.seed_text or "",
                goal=draft.goal or None,
                tier=draft.tier or None,
                enrich_web=True if draft.enrich_web is None else draft.enrich_web,
                forecast_days=draft.forecast_days,
            )
        return job

    async def update_draft(self, identity: Identity, job_id: int, fields: JobFields) -> SimulationJob:
        async with self.sessions() as session, session.begin():
            job = await self._owned(session, identity, job_id, for_update=True)
            if job.status is not JobStatus.DRAFT:
                raise FailedPrecondition(f"job {job_id} is {job.status}; only drafts can be edited")
            draft = validate_draft(fields, (await self._routes(session)).keys())
            values: dict[str, Any] = {}
            if draft.seed_text is not None:
                values["seed_text"] = draft.seed_text
            if draft.goal is not None:
                values["goal"] = draft.goal or None
            if draft.tier is not None:
                values["tier"] = draft.tier or None
            if draft.enrich_web is not None:
                values["enrich_web"] = draft.enrich_web
            if draft.forecast_days is not None:
                values["forecast_days"] = draft.forecast_days
            if values:
                updated = await repo.update_fields(session, job_id, values, statuses=[JobStatus.DRAFT])
                assert updated is not None  # the row is locked and was a draft
                job = updated
        await self._after_commit(job_id, kicked=False)
        return job

    async def launch_draft(self, identity: Identity, job_id: int) -> SimulationJob:
        self._check_may_submit(identity)
        async with offering_questions(), self.sessions() as session, session.begin():
            draft = await self._owned(session, identity, job_id, for_update=True)
            if draft.status is not JobStatus.DRAFT:
                raise FailedPrecondition(f"job {job_id} is {draft.status}; only drafts can be launched")
            routes = await self._routes(session)
            spec = validate_job(_fields_of(draft), routes.keys())
            counts = await self._fair_use(session, identity, live=True, creating=False)
            await _refuse_duplicate(session, identity, spec)
            launch = RowChange(
                target=JobStatus.PENDING, guard=frozenset({JobStatus.DRAFT}), values=_spec_values(spec)
            )
            job = await repo.apply_change(session, job_id, launch)
            assert job is not None  # locked above and a draft
            await self._first_dispatch_or_hold(session, job, routes[spec.tier], counts)
        await self._after_commit(job_id, kicked=True)
        return job

    async def read_owned(
        self, identity: Identity, job_id: int, *, light: bool = False
    ) -> tuple[JobRow, QueueSpot | None] | None:
        """The caller's job and, when PENDING, its queue spot (GetJob, WatchJob); None when it is not
        theirs. The job in one statement; its spot from the queue board (`services/jobs/queue_board.py`)."""
        engine = self._read_engine
        if engine is not None:
            async with engine.connect() as conn:
                row = await repo.read_owned_job(conn, job_id, identity.user_id, light=light)
        else:
            async with self.readers() as session:
                row = await repo.read_owned_job(
                    await session.connection(), job_id, identity.user_id, light=light
                )
        if row is None:
            return None
        pending = JobStatus(row.status) is JobStatus.PENDING
        return row, await self.queue_board.spot(row.id, row.tier) if pending else None

    async def _read_tier_queue(self, tier: str | None) -> TierQueue:
        async with self.readers() as session:
            positions = await repo.tier_queue(session, tier)
            running = await repo.running_in_tier(session, tier)
            recent = await repo.recent_run_seconds(session, tier or "")
        return TierQueue(positions, running, recent)

    async def get_job(self, identity: Identity, job_id: int, *, light: bool = False) -> JobRow:
        async with self.readers() as session:
            job = await repo.read_job(session, job_id, user_id=identity.user_id, light=light)
        if job is None:
            raise job_not_found(job_id)
        return job

    async def find_job(self, identity: Identity, job_id: int) -> JobRow | None:
        """The job's light snapshot (no result_* fields), or None; WatchJob's re-read."""
        async with self.readers() as session:
            return await repo.read_job(session, job_id, user_id=identity.user_id, light=True)

    async def list_jobs(
        self,
        identity: Identity,
        *,
        page: int,
        per_page: int,
        status: JobStatus | None,
        query: str = "",
        sort: JobSort | None = None,
        branch_of: int = 0,
    ) -> JobPage:
        """The caller's jobs; `branch_of` (0: no filter) lists only the what-if branches of that job."""
        resolved = resolve_page(page, per_page)
        search = check_list_query(query, sort)
        if branch_of < 0:
            raise ValidationError("branch_of", "branch_of must be a job id (or 0 for every job)")
        if branch_of and not is_valid_job_id(branch_of):
            return JobPage(jobs=[], total=0, page=resolved)  # no job has that id, so no branches
        async with self.readers() as session:
            jobs, total = await repo.list_jobs(
                session, identity.user_id, resolved, status, search, branch_of=branch_of or None
            )
        return JobPage(jobs=jobs, total=total, page=resolved)

    async def queue_spots(self, jobs: Sequence[JobRow]) -> dict[int, QueueSpot]:
        """Where each PENDING job among `jobs` waits, and for about how long (others are absent)."""
        spots = {}
        for job in jobs:
            if JobStatus(job.status) is JobStatus.PENDING:
                spot = await self.queue_board.spot(job.id, job.tier)
                if spot is not None:
                    spots[job.id] = spot
        return spots

    async def cancel_job(self, identity: Identity, job_id: int) -> SimulationJob:
        async with self.sessions() as session, session.begin():
            job = await self._owned(session, identity, job_id, for_update=True, light=True)
            if job.status in TERMINAL:
                raise FailedPrecondition(f"job {job_id} has already finished ({job.status})")
            if job.status is JobStatus.DRAFT:
                raise FailedPrecondition(f"job {job_id} is a draft and is not running; delete it instead")
            cancelled = await repo.apply_change(session, job_id, failed_change(CANCELLED_BY_USER))
            assert cancelled is not None  # locked and live
            await self.dispatcher.cancel(session, job_id, reason=CANCELLED_BY_USER)
        await self._after_commit(job_id, kicked=True)
        return cancelled

    async def retry_job(self, identity: Identity, job_id: int) -> SimulationJob:
        self._check_may_submit(identity)
        async with offering_questions(), self.sessions() as session, session.begin():
            # The row lock serialises concurrent retries of the same job.
            original = await self._owned(session, identity, job_id, for_update=True, light=True)
            if original.status not in RETRYABLE:
                raise FailedPrecondition(
                    f"job {job_id} is {original.status}; only FAILED or REFUNDED jobs can be retried"
                )
            existing = await repo.retry_of(session, job_id)
            if existing is not None:
                raise AlreadyExists(f"job {job_id} was already retried as job {existing}")
            routes = await self._routes(session)
            spec = validate_job(_fields_of(original), routes.keys())
            # A retry is the same simulation again: its events, and for a branch the same start.
            events = [ScheduledEvent.from_dict(e) for e in await repo.events_of(session, job_id)]
            link = await repo.get_branch(session, job_id)
            branch = None
            derived: dict[str, Any] = {}
            if link is not None:
                branch = BranchLink(
                    parent_job_id=link.parent_job_id,
                    branch_round=link.branch_round,
                    random_seed=link.random_seed,
                    parent_forecast=link.parent_forecast,
                )
                derived = {"enriched_seed": original.enriched_seed, "markets_config": original.markets_config}
            job = await self._submit(
                session,
                identity,
                spec,
                routes[spec.tier],
                retry_of=job_id,
                events=events,
                branch=branch,
                derived=derived,
            )
        await self._after_commit(job.id, kicked=True)
        return job

    async def branch_job(
        self, identity: Identity, job_id: int, round_no: int, events: Sequence[ScheduledEvent]
    ) -> JobRow:
        """A what-if branch of the caller's COMPLETED job: a new PENDING job that resumes from the
        parent's checkpoint after `round_no` with `events` injected (DESIGN §8a).

        It copies the parent's seed, goal, tier, horizon, enrichment and markets, runs with the
        parent's random seed and the route the parent ran with, and passes the fair-use checks;
        a refusal writes nothing.
        """
        self._check_may_submit(identity)
        async with self.readers() as session:
            parent = await self._owned(session, identity, job_id)
            if parent.status is not JobStatus.COMPLETED:
                raise FailedPrecondition(
                    f"job {job_id} is {parent.status}: only a COMPLETED job can be branched"
                )
            run = await repo.get_run(session, parent.workflow_run_id) if parent.workflow_run_id else None
            if run is not None:
                route: RouteSnapshot | None = RouteSnapshot.from_stored(run.route)
            else:
                route = (await self._routes(session)).get(parent.tier or "")
            parent_link = await repo.get_branch(session, job_id)
        if route is None:
            raise FailedPrecondition(f"job {job_id}'s tier {parent.tier!r} is no longer offered")
        structured = structured_of(parent.result_structured)
        rounds = rounds_run(structured, route.max_rounds)
        check_branch_round(round_no, rounds)
        forecast_days = parent.forecast_days or DEFAULT_FORECAST_DAYS
        events_problem(events, forecast_days, after_round=round_no, rounds=rounds)
        if parent_link is not None and round_no <= parent_link.branch_round:
            # A branch keeps checkpoints from the round after its own branch point on.
            raise FailedPrecondition(
                f"job {job_id} is a what-if branch of job {parent_link.parent_job_id} after round "
                f"{parent_link.branch_round}: up to that round it is job {parent_link.parent_job_id}, "
                "so branch that job instead"
            )
        if not await self.store.exists(round_checkpoint_key(job_id, round_no)):
            raise FailedPrecondition(
                f"job {job_id} kept no checkpoint of round {round_no} (it ran before what-if branches "
                "existed, or its simulation data was deleted): it cannot be branched there"
            )
        spec = JobSpec(
            seed_text=parent.seed_text,
            goal=parent.goal or "",
            tier=route.sim_tier,
            enrich_web=parent.enrich_web,
            forecast_days=forecast_days,
        )
        branch = BranchLink(
            parent_job_id=job_id,
            branch_round=round_no,
            # A branch of a branch runs with the seed its parent ran with.
            random_seed=parent_link.random_seed if parent_link is not None else random_seed_for(job_id),
            parent_forecast=forecast_of(structured),
        )
        derived = {"enriched_seed": parent.enriched_seed, "markets_config": parent.markets_config}
        async with self.sessions() as session, session.begin():
            job = await self._submit(
                session, identity, spec, route, events=events, branch=branch, derived=derived
            )
        await self._after_commit(job.id, kicked=True)
        return await self.get_job(identity, job.id)

    async def delete_job(self, identity: Identity, job_id: int) -> None:
        # 1. Stop a live run first, so the runner stops uploading into the prefix we delete next.
        async with self.sessions() as session, session.begin():
            job = await self._owned(session, identity, job_id, for_update=True, light=True)
            was_live = job.status in LIVE
            if was_live:
                await repo.apply_change(session, job_id, failed_change(DELETED_BY_USER))
                await self.dispatcher.cancel(session, job_id, reason=DELETED_BY_USER)
        if was_live:
            self.relay.kick()
        # 2. Artifacts, then 3. the row: if 2 fails the row remains and a repeated delete finishes.
        await self.store.delete_prefix(job_prefix(job_id))
        async with self.sessions() as session, session.begin():
            await repo.delete_jobs(session, [job_id])
        if was_live:
            self._kick_release()
        await self.notifier.notify(job_id)

    async def suggest_questions(self, seed_text: str, goal: str, forecast_days: int) -> Suggestions:
        """Yes/no questions the seed can answer, and whether `goal` already is one; stores nothing."""
        request = validate_suggestion_request(seed_text, goal, forecast_days)

        def suggest() -> Suggestions:
            if request.goal:
                analysis = analyze_goal(request.goal)
                goal_ok, reason = analysis.is_yes_no, "" if analysis.is_yes_no else analysis.reason
            else:
                goal_ok, reason = False, "no goal given"
            suggestions = safe_suggestions(request.seed_text, request.goal, request.forecast_days)
            return Suggestions(suggestions=suggestions[:SUGGESTION_LIMIT], goal_ok=goal_ok, reason=reason)

        # Reading a long seed takes a while: off the event loop.
        return await asyncio.to_thread(suggest)

    # --- results ----------------------------------------------------------------------------------

    async def sim_data(self, identity: Identity, job_id: int) -> dict[str, str]:
        async with self.sessions() as session:
            job = await self._owned(session, identity, job_id, light=True)
        if not job.sim_data_available:
            raise FailedPrecondition(
                f"simulation data of job {job_id} is not available (job is {job.status})"
            )
        names = list(ARTIFACT_NAMES)
        if await self.store.exists(artifact_key(job_id, REPORT_NAME)):
            names.append(REPORT_NAME)

        def presign() -> dict[str, str]:
            client, bucket = self.store.client, self.store.bucket
            return {
                name: client.presigned_get_object(bucket, artifact_key(job_id, name), SIM_DATA_URL_TTL)
                for name in names
            }

        return await asyncio.to_thread(presign)

    async def graph(self, identity: Identity, job_id: int) -> str:
        job = await self.get_job(identity, job_id)
        if not job.result_graph:
            raise FailedPrecondition(
                f"the entity graph of job {job_id} is not available yet (job is {job.status})"
            )
        return job.result_graph

    # --- sharing ----------------------------------------------------------------------------------

    async def create_share_link(self, identity: Identity, job_id: int) -> str:
        self._refuse_deleted(identity)
        async with self.sessions() as session, session.begin():
            job = await self._owned(session, identity, job_id, for_update=True, light=True)
            if job.status is not JobStatus.COMPLETED:
                raise FailedPrecondition(f"only COMPLETED jobs can be shared; job {job_id} is {job.status}")
            # Only the token's digest is stored, so a live link cannot be shown again: sharing
            # again makes a new link and the previous one stops working (one live link per job).
            token = new_share_token()
            await repo.set_share_token(session, job_id, token)
        return token

    async def revoke_share_link(self, identity: Identity, job_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await self._owned(session, identity, job_id, for_update=True, light=True)
            await repo.set_share_token(session, job_id, None)

    async def shared_job(self, token: str) -> JobRow:
        if not is_well_formed_share_token(token):
            raise NotFound("share link not found or revoked")
        async with self.readers() as session:
            job = await repo.get_by_share_token(session, token)
        if job is None:
            raise NotFound("share link not found or revoked")
        if self.deleted_users is not None and self.deleted_users.is_deleted(job.user_id):
            raise NotFound("share link not found or revoked")  # its owner's data is being deleted
        return job

    async def shared_sim_data(self, token: str, name: str) -> tuple[int, str]:
        """The shared job's id and a presigned URL of one of its artifacts (SHARED_ARTIFACTS only)."""
        if name not in SHARED_ARTIFACTS:
            raise ValidationError(
                "name", f"only {', '.join(sorted(SHARED_ARTIFACTS))} of a shared job can be read"
            )
        job = await self.shared_job(token)
        if not job.sim_data_available:
            raise NotFound(f"the shared simulation has no {name}")
        key = artifact_key(job.id, name)

        def presign() -> str:
            return self.store.client.presigned_get_object(self.store.bucket, key, SIM_DATA_URL_TTL)

        return job.id, await asyncio.to_thread(presign)

    # --- operator ---------------------------------------------------------------------------------

    async def routes(self) -> list[RouteView]:
        async with self.sessions() as session:
            rows = await repo.routes_with_settings(session)
        return [RouteView(route, settings_of(settings)) for route, settings in rows]

    async def upsert_route(self, values: Mapping[str, Any]) -> RouteView:
        """Creates or replaces the tier's route; its forecast settings change only where given."""
        clean = validate_route(values)
        settings = check_settings_update(values)
        async with self.sessions() as session, session.begin():
            route = await repo.upsert_route(session, clean)
            row = await repo.upsert_tier_settings(session, route.sim_tier, settings)
            return RouteView(route, settings_of(row))

    async def error_events(self, *, page: int, per_page: int, source: str, job_id: int | None) -> ErrorPage:
        resolved = resolve_page(page, per_page)
        async with self.sessions() as session:
            events, total = await repo.list_error_events(
                session, resolved, source=check_error_source(source), job_id=job_id
            )
        return ErrorPage(events=events, total=total, page=resolved)


def validate_route(values: Mapping[str, Any]) -> dict[str, Any]:
    """Checks an operator's routing row; the tier name must be usable as a subject token."""
    tier = str(values.get("sim_tier", "")).strip()
    if not _TIER_NAME.fullmatch(tier):
        raise ValidationError(
            "sim_tier", "sim_tier must be 1-20 letters, digits, '-' or '_' (it names a dispatch subject)"
        )

    def text(field: str, limit: int, *, required: bool) -> str | None:
        value = str(values.get(field) or "").strip()
        if _CONTROL.search(value):
            raise ValidationError(field, f"{field} contains control characters")
        if len(value) > limit:
            raise ValidationError(field, f"{field} is too long (at most {limit} characters)")
        if required and not value:
            raise ValidationError(field, f"{field} is required")
        return value or None

    def number(field: str, low: int, high: int) -> int:
        value = int(values.get(field) or 0)
        if not low <= value <= high:
            raise ValidationError(field, f"{field} must be between {low} and {high} (got {value})")
        return value

    return {
        "sim_tier": tier,
        "model_id": text("model_id", 255, required=True),
        "gpu_type": text("gpu_type", 50, required=True),
        "max_rounds": number("max_rounds", 1, 10_000),
        "target_agents": number("target_agents", 1, 100_000),
        "vllm_args": text("vllm_args", 4_000, required=False),
    }
