"""Dispatch and cancel messages, written to the outbox in the caller's transaction.

The job row and its dispatch never disagree: the row change (PENDING, a new run id, FAILED …) and
the outbox row that announces it commit together, and `OutboxRelay` publishes after commit. A
crash between commit and publish leaves the outbox row unpublished; the relay's start-up and
periodic sweeps publish it then. Dispatches carry `Nats-Msg-Id` = run id, so publishing one
twice (two relays, a retry) stores it once.

Fair dispatch (`FairRelease`, docs/security.md "Fair use"): beyond its in-flight cap a user's new
job is held (PENDING without a run, nothing in the outbox) and released here later, users taken
round-robin, so one user's backlog never fills the work queue ahead of everyone else.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swarmcast.events.v1 import events_pb2

from services.common import outbox, subjects
from services.common.db import utcnow
from services.common.outbox import Kicker
from services.common.periodic import PeriodicTask
from services.common.scheduled_events import ScheduledEvent
from services.common.storage import ObjectStore
from services.jobs import repository as repo
from services.jobs.domain.artifacts import (
    ARTIFACT_NAMES,
    artifact_key,
    checkpoint_key,
    job_prefix,
    round_checkpoint_key,
)
from services.jobs.domain.dispatch import (
    BranchSource,
    DispatchJob,
    RouteSnapshot,
    UploadUrls,
    build_dispatch,
    dispatch_id,
)
from services.jobs.domain.events import failed_change
from services.jobs.domain.fair_use import Waiting, choose_releases, fair_use_lock_key
from services.jobs.domain.tier_settings import DEFAULT_TIER_SETTINGS, TierSettings, settings_of
from services.jobs.domain.validation import DEFAULT_FORECAST_DAYS
from services.jobs.models import ModelRouting, SimulationJob
from services.jobs.presign import BatchPresigner
from services.jobs.runtime_models import OutboxMessage
from services.jobs.watch import ChangeNotifier

log = logging.getLogger("swarmcast.jobs.dispatch")

# The runner may pick a dispatch up long after it was queued and uploads at the very end of a
# long run, so upload URLs live as long as S3 allows (SigV4's maximum is 7 days). They only
# travel on the internal bus.
UPLOAD_URL_TTL = timedelta(days=7)


def route_snapshot(route: ModelRouting, settings: TierSettings = DEFAULT_TIER_SETTINGS) -> RouteSnapshot:
    return RouteSnapshot(
        sim_tier=route.sim_tier,
        model_id=route.model_id,
        gpu_type=route.gpu_type,
        max_rounds=route.max_rounds,
        target_agents=route.target_agents,
        vllm_args=route.vllm_args or "",
        replicates=settings.replicates,
        heuristic_replicates=settings.heuristic_replicates,
        market_subsidy=settings.market_subsidy,
    )


def new_run_id() -> str:
    return str(uuid.uuid4())


class Dispatcher:
    """Writes dispatches (with presigned upload targets) and cancels into the outbox."""

    def __init__(self, store: ObjectStore, *, url_ttl: timedelta = UPLOAD_URL_TTL) -> None:
        self.store = store
        self.url_ttl = url_ttl

    async def upload_urls(self, job_id: int, rounds: int = 0) -> UploadUrls:
        """Where the run writes: its artifacts, its latest checkpoint, and (for rounds 0..`rounds`)
        each round's own checkpoint."""

        # About 30 URLs at one instant: local HMAC work, about 10 µs each with the signing key
        # derived once (services/jobs/presign.py), so no thread hop.
        now = utcnow()
        sign = BatchPresigner(self.store.client, self.store.bucket, self.url_ttl, now)
        return UploadUrls(
            bucket=self.store.bucket,
            prefix=job_prefix(job_id),
            put_urls={name: sign.put(artifact_key(job_id, name)) for name in ARTIFACT_NAMES},
            checkpoint_put_url=sign.put(checkpoint_key(job_id)),
            checkpoint_get_url=sign.get(checkpoint_key(job_id)),
            expires_at=now + self.url_ttl,
            round_checkpoint_put_urls=[
                sign.put(round_checkpoint_key(job_id, r)) for r in range(max(0, rounds) + 1)
            ],
        )

    async def _branch_source(
        self, session: AsyncSession, job_id: int
    ) -> tuple[BranchSource | None, int | None]:
        """A branch's source (with a fresh GET URL of its parent's round checkpoint) and random
        seed; (None, None) for a job that is not a branch."""
        link = await repo.get_branch(session, job_id)
        if link is None:
            return None, None
        key = round_checkpoint_key(link.parent_job_id, link.branch_round)

        def presign() -> str:
            return self.store.client.presigned_get_object(self.store.bucket, key, self.url_ttl)

        source = BranchSource(
            parent_job_id=link.parent_job_id,
            round=link.branch_round,
            checkpoint_get_url=await asyncio.to_thread(presign),
            parent_forecast=link.parent_forecast,
        )
        return source, link.random_seed

    async def _write_dispatch(
        self,
        session: AsyncSession,
        job: SimulationJob,
        *,
        run_id: str,
        route: RouteSnapshot,
        attempt: int,
        resume: bool,
    ) -> None:
        upload = await self.upload_urls(job.id, route.max_rounds)
        # Every attempt carries the job's events and, for a branch, where it starts from.
        events = [ScheduledEvent.from_dict(e) for e in await repo.events_of(session, job.id)]
        branch, random_seed = await self._branch_source(session, job.id)
        message = build_dispatch(
            DispatchJob(
                job_id=job.id,
                seed_text=job.seed_text,
                goal=job.goal or "",
                tier=route.sim_tier,
                enrich_web=job.enrich_web,
                forecast_days=job.forecast_days or DEFAULT_FORECAST_DAYS,
                # A resumed run keeps the markets it already derived; a branch its parent's.
                markets=job.markets_config if resume or branch is not None else None,
                events=events,
                branch=branch,
                random_seed=random_seed,
            ),
            route=route,
            run_id=run_id,
            attempt=attempt,
            resume=resume,
            upload=upload,
            now=utcnow(),
        )
        await repo.insert_run(
            session, run_id=run_id, job_id=job.id, attempt=attempt, resume=resume, route=asdict(route)
        )
        # msg_id = run id: how the relay tells a dispatch that is no longer wanted.
        await outbox.add(session, OutboxMessage, subjects.dispatch(route.sim_tier), message, msg_id=run_id)

    async def first_dispatch(self, session: AsyncSession, job: SimulationJob, route: RouteSnapshot) -> None:
        """The first attempt of a job that has just become PENDING (in this transaction)."""
        run_id = new_run_id()
        await self._write_dispatch(session, job, run_id=run_id, route=route, attempt=1, resume=False)
        job.workflow_id = dispatch_id(job.id)
        job.workflow_run_id = run_id
        await session.flush()

    async def redispatch(
        self, session: AsyncSession, job: SimulationJob, reason: str
    ) -> SimulationJob | None:
        """Runs a live job again, resuming from its checkpoint, as a new attempt (retry_count + 1).

        The caller has checked the retry budget (and normally holds the row lock). Returns the
        updated row, or None when the job moved on meanwhile; then nothing was written.
        """
        old_run_id = job.workflow_run_id or ""
        previous = await repo.get_run(session, old_run_id) if old_run_id else None
        if previous is not None:
            route = RouteSnapshot.from_stored(previous.route)
        else:
            current = await repo.route_for(session, job.tier or "")
            if current is None:
                return None
            settings = settings_of(await repo.tier_settings_for(session, current.sim_tier))
            route = route_snapshot(current, settings)
        attempt = job.retry_count + 2
        new_run = new_run_id()
        live: dict[str, Any] = dict(job.live_status or {})
        live.update(stage_name="requeued", attempt=attempt, requeue_reason=reason)
        # The guarded switch first: if the job moved on, nothing at all is written.
        updated = await repo.switch_run(
            session, job.id, old_run_id=old_run_id, new_run_id=new_run, live_status=live
        )
        if updated is None:
            return None
        await self._write_dispatch(
            session, updated, run_id=new_run, route=route, attempt=attempt, resume=True
        )
        if old_run_id:
            # If the old runner is merely slow rather than dead, tell it to stop: its events
            # would be ignored anyway (superseded run).
            await self.cancel(session, job.id, reason=f"superseded: {reason}", run_id=old_run_id)
        return updated

    async def cancel(self, session: AsyncSession, job_id: int, *, reason: str, run_id: str = "") -> None:
        message = events_pb2.JobCancel(job_id=job_id, reason=reason, run_id=run_id)
        message.requested_at.FromDatetime(utcnow())
        msg_id = f"cancel-{job_id}-{run_id or 'all'}"
        await outbox.add(session, OutboxMessage, subjects.cancel(job_id), message, msg_id=msg_id)


class FairRelease:
    """Puts held jobs onto the work queue as their owners' in-flight slots free (fair dispatch,
    `domain/fair_use.py`): a periodic task in every replica, woken early by `kick()`.

    The choice is the domain's (`choose_releases`); each release is its own transaction under the
    owner's fair-use lock, re-counting their jobs in flight and locking the held row
    (`SKIP LOCKED`), so replicas sweeping together never put more than the cap in flight nor
    release a job twice.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        dispatcher: Dispatcher,
        relay: Kicker,
        notifier: ChangeNotifier,
        in_flight_per_user: int,
        interval_seconds: float = 1.0,
        batch_size: int = 200,
    ) -> None:
        self.sessions = sessions
        self.dispatcher = dispatcher
        self.relay = relay
        self.notifier = notifier
        self.cap = in_flight_per_user
        self.batch_size = batch_size
        self.periodic = PeriodicTask("fair release", interval_seconds, self.release_once, jitter=0.1)

    def kick(self) -> None:
        """A job was held or a slot may have freed: sweep now."""
        self.periodic.wake()

    async def release_once(self) -> list[int]:
        """One sweep; the ids of the jobs released, in release (and so queue) order."""
        async with self.sessions() as session:
            waiting = await repo.held_jobs(
                session, per_user=self.cap or self.batch_size, limit=self.batch_size
            )
            if not waiting:
                return []
            users = sorted({w.user_id for w in waiting})
            in_flight = await repo.in_flight_by_user(session, users)
            last_served = await repo.last_served_by_user(session, users)
        released: list[int] = []
        for job in choose_releases(waiting, in_flight, last_served, self.cap):
            if await self._release(job):
                released.append(job.job_id)
        if released:
            self.relay.kick()
            log.info("released held jobs %s", released)
        return released

    async def _release(self, held: Waiting) -> bool:
        async with self.sessions() as session, session.begin():
            await repo.advisory_xact_lock(session, fair_use_lock_key(held.user_id))
            counts = await repo.fair_use_counts(session, held.user_id)
            if self.cap and counts.in_flight >= self.cap:
                return False
            job = await repo.lock_held_job(session, held.job_id)
            if job is None:
                return False  # cancelled, deleted or released meanwhile
            route = await repo.route_for(session, job.tier or "")
            if route is None:
                # Routes are never deleted through the API; an operator removed it by hand.
                await repo.apply_change(
                    session, job.id, failed_change(f"tier {job.tier!r} is no longer offered")
                )
            else:
                settings = settings_of(await repo.tier_settings_for(session, route.sim_tier))
                await self.dispatcher.first_dispatch(session, job, route_snapshot(route, settings))
        await self.notifier.notify(held.job_id)
        return route is not None
