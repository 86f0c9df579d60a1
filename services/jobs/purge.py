"""Deleting a deleted user's work for good (docs/security.md, "Revocation and deletion").

On `auth.user.deleted` (handlers.py) the jobs service, in this order:

1. remembers the user as deleted (`RevocationList.mark_deleted`): no new, launched, retried or
   shared job, and their share links answer NOT_FOUND;
2. stops the work: every live job → FAILED ("account deleted") and `jobs.cancel.<id>` (outbox);
   a dispatch still waiting in the work queue is deleted from it, so no runner ever takes it;
3. waits until every runner has let go of the user's runs: the run's outcome
   (`runner.failed/completed.<id>` of that run) is in the stream, or its dispatch never left the
   queue, or no heartbeat came for `lease_seconds` (the runner is gone). Until then the event is
   redelivered later (`RunnersStillHolding`, a `DeferredEvent`), so nothing is deleted under a
   runner that would write its checkpoint again a moment later;
4. deletes the objects under each job's prefix (checkpoint, artifacts, report), purges the job's
   messages from the RUNNER and REPORTER streams (`runner.*.<id>`, `reporter.*.<id>`), deletes
   the dispatch rows of the outbox (they hold seed and goal) and the job rows;
5. sweeps the prefixes again at once and once more `resweep_seconds` later (an upload that was in
   flight when the runner let go), then purges again whatever job of the user appeared meanwhile.

Cancel messages (`jobs.cancel.<id>`: ids and a reason) stay: a runner consults them before it
starts a dispatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import nats.js.errors
from sqlalchemy import and_, delete, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus
from services.common.db import utcnow
from services.common.outbox import Kicker, OutboxRelay
from services.common.revocation import RevocationList
from services.common.storage import ObjectStore
from services.jobs import repository as repo
from services.jobs.dispatch import Dispatcher
from services.jobs.domain.artifacts import job_prefix
from services.jobs.domain.events import failed_change
from services.jobs.domain.state_machine import LIVE, JobStatus
from services.jobs.models import SimulationJob
from services.jobs.runtime_models import JobRun, OutboxMessage
from services.jobs.watch import ChangeNotifier

log = logging.getLogger("swarmcast.jobs.purge")

ACCOUNT_DELETED = "account deleted"
# No heartbeat for this long: the runner holding a run is gone (the detector's default threshold).
DEFAULT_LEASE_SECONDS = 120.0
DEFAULT_RESWEEP_SECONDS = 30.0


class RunnersStillHolding(Exception):
    """A runner may still write under one of the user's job prefixes: try again later."""


@dataclass(frozen=True, slots=True)
class _Run:
    job_id: int
    run_id: str
    stream_seq: int | None
    dispatched_at: datetime | None
    taken_at: datetime | None
    last_seen_at: datetime | None
    # The job's current run, and jobs had applied its runner.completed (REPORTING or COMPLETED).
    finished: bool


class UserPurge:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        store: ObjectStore,
        dispatcher: Dispatcher,
        relay: Kicker,
        notifier: ChangeNotifier,
        deleted_users: RevocationList,
        bus: EventBus | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        resweep_seconds: float = DEFAULT_RESWEEP_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.dispatcher = dispatcher
        self.relay = relay
        self.notifier = notifier
        self.deleted_users = deleted_users
        self.bus = bus
        self.lease_seconds = lease_seconds
        self.resweep_seconds = resweep_seconds
        self._later: set[asyncio.Task[None]] = set()

    async def purge(self, user_id: str) -> int:
        """Runs steps 1-5; returns how many jobs were deleted. Raises RunnersStillHolding."""
        self.deleted_users.mark_deleted(user_id)
        async with self.sessions() as session:
            jobs = await repo.job_ids_of_user(session, user_id)
        if not jobs:
            return 0
        job_ids = [job_id for job_id, _ in jobs]
        async with self.sessions() as session:
            runs = await _runs(session, job_ids)  # before _stop_work changes the statuses
        await self._stop_work(jobs)
        holding = [run.job_id for run in runs if not await self._released(run)]
        if holding:
            raise RunnersStillHolding(
                f"runners still hold job(s) {', '.join(map(str, holding))} of a deleted user; retrying"
            )
        await self._sweep(job_ids)
        await self._purge_streams(job_ids)
        async with self.sessions() as session, session.begin():
            await _delete_dispatch_rows(session, job_ids)
            await repo.delete_jobs(session, job_ids)
        for job_id in job_ids:
            await self.notifier.notify(job_id)
        await self._sweep(job_ids)  # an upload that landed while the rows were deleted
        self._sweep_later(user_id, job_ids)
        log.info("deleted %d jobs of a deleted user", len(job_ids), extra={"user_id": user_id})
        return len(job_ids)

    async def stop(self) -> None:
        for task in list(self._later):
            task.cancel()
        await asyncio.gather(*self._later, return_exceptions=True)

    # --- steps ----------------------------------------------------------------------------------
    async def _stop_work(self, jobs: Sequence[tuple[int, object]]) -> None:
        live = [job_id for job_id, status in jobs if status in LIVE]
        if live:
            async with self.sessions() as session, session.begin():
                for job_id in live:
                    # FAILED first: the relay then retires a dispatch not yet published.
                    await repo.apply_change(session, job_id, failed_change(ACCOUNT_DELETED))
                    await self.dispatcher.cancel(session, job_id, reason=ACCOUNT_DELETED)
            for job_id in live:
                await self.notifier.notify(job_id)
        # The cancels must be on the bus before we ask whether runners let go.
        if isinstance(self.relay, OutboxRelay):
            await self.relay.flush()
        else:
            self.relay.kick()

    async def _released(self, run: _Run) -> bool:
        if run.finished or await self._outcome_published(run):
            return True
        never_seen = run.taken_at is None and run.last_seen_at is None
        # A taken dispatch stays in the work queue until acked: only an untaken one may be deleted
        # as proof. (A runner taking it this instant finds the cancel before it starts.)
        if never_seen and run.stream_seq is None:
            # Never published (the sequence is recorded in the transaction that marks a dispatch
            # published), and the relay retires it now that the job is FAILED.
            return True
        if never_seen and run.stream_seq is not None and await self._unqueue(run.stream_seq):
            return True  # still queued: now deleted, no runner will take it
        seen = max(
            (t for t in (run.last_seen_at, run.taken_at, run.dispatched_at) if t is not None), default=None
        )
        return seen is None or utcnow() - seen > timedelta(seconds=self.lease_seconds)

    async def _outcome_published(self, run: _Run) -> bool:
        if self.bus is None:
            return False
        bus = self.bus
        stream = bus.stream_name(subjects.RUNNER.name)
        kinds: tuple[tuple[str, type[events_pb2.RunnerFailed] | type[events_pb2.RunnerCompleted]], ...] = (
            (subjects.runner_failed(run.job_id), events_pb2.RunnerFailed),
            (subjects.runner_completed(run.job_id), events_pb2.RunnerCompleted),
        )
        for subject, kind in kinds:
            try:
                raw = await bus.js.get_last_msg(stream, bus.subject(subject))
            except nats.js.errors.NotFoundError:
                continue
            try:
                if kind.FromString(raw.data or b"").run_id == run.run_id:
                    return True
            except Exception as exc:  # undecodable: say nothing about this run
                log.warning("could not read %s: %s", subject, exc)
        return False

    async def _unqueue(self, seq: int) -> bool:
        """Deletes a dispatch still waiting in the work queue; False if a runner took it."""
        if self.bus is None:
            return False
        try:
            return bool(await self.bus.js.delete_msg(self.bus.stream_name(subjects.JOBS_DISPATCH.name), seq))
        except nats.js.errors.APIError:
            return False  # "no message found": a runner took it (and it was acked)

    async def _sweep(self, job_ids: Sequence[int]) -> None:
        for job_id in job_ids:
            await self.store.delete_prefix(job_prefix(job_id))

    async def _purge_streams(self, job_ids: Sequence[int]) -> None:
        """Removes the jobs' events (live status, results, reports) from the 7-day streams."""
        if self.bus is None:
            return
        bus = self.bus
        for job_id in job_ids:
            for stream, pattern in (
                (subjects.RUNNER, f"runner.*.{job_id}"),
                (subjects.REPORTER, f"reporter.*.{job_id}"),
            ):
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await bus.js.purge_stream(bus.stream_name(stream.name), subject=bus.subject(pattern))

    def _sweep_later(self, user_id: str, job_ids: Sequence[int]) -> None:
        async def later() -> None:
            await asyncio.sleep(self.resweep_seconds)
            try:
                await self._sweep(job_ids)
                await self.purge(user_id)  # a job created in the instant before the deletion
            except Exception as exc:
                log.warning("second sweep for a deleted user failed: %s", exc, extra={"user_id": user_id})

        task = asyncio.get_running_loop().create_task(later(), name=f"purge-resweep-{user_id}")
        self._later.add(task)
        task.add_done_callback(self._later.discard)


async def _runs(session: AsyncSession, job_ids: Sequence[int]) -> list[_Run]:
    """Every run of the jobs (an older attempt's runner may still be winding down too)."""
    J = SimulationJob
    status_type = J.__table__.c.status.type
    done = [literal(s.value, type_=status_type) for s in (JobStatus.REPORTING, JobStatus.COMPLETED)]
    finished = and_(J.workflow_run_id == JobRun.run_id, J.status.in_(done))
    stmt = (
        select(
            JobRun.job_id,
            JobRun.run_id,
            JobRun.stream_seq,
            JobRun.dispatched_at,
            JobRun.taken_at,
            JobRun.last_seen_at,
            finished,
        )
        .join(J, J.id == JobRun.job_id)
        .where(JobRun.job_id.in_(job_ids))
    )
    rows = await session.execute(stmt)
    return [_Run(int(r[0]), str(r[1]), r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]


async def _delete_dispatch_rows(session: AsyncSession, job_ids: Sequence[int]) -> None:
    """The outbox keeps published dispatches a day for diagnosis; theirs carry seed and goal."""
    run_ids = select(JobRun.run_id).where(JobRun.job_id.in_(job_ids)).scalar_subquery()
    await session.execute(delete(OutboxMessage).where(OutboxMessage.msg_id.in_(run_ids)))
