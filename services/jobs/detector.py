"""The stale-job detector (docs/architecture.md §3): a periodic task (`periodic`) in every jobs replica.

A run is *silent* when nothing was heard from it for longer than its tier's threshold, measured on
this service's clock from the newest of: dispatch, pickup, last progress. Then

- within the retry budget: re-dispatch with resume (a new run id, retry_count + 1, the old run
  told to stop);
- budget spent: FAILED with a message saying so;
- REPORTING (the runner is done, the reporter went quiet): FAILED after a longer limit.

A dispatch still waiting in the work queue is not silence — with a backlog a job may wait long
for a free runner. The detector asks JetStream whether the dispatch message is still in the
work-queue stream (it leaves when a runner acks it); once it has left, the run counts as taken and
the silence clock starts.

Safe with several replicas: a candidate is locked with `FOR UPDATE SKIP LOCKED` and re-checked
under the lock before anything is written, so exactly one replica acts on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import nats.js.errors
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common import subjects
from services.common.bus import EventBus
from services.common.outbox import Kicker
from services.common.periodic import PeriodicTask
from services.jobs import repository as repo
from services.jobs.dispatch import Dispatcher
from services.jobs.domain.events import (
    Fail,
    Redispatch,
    failed_change,
    last_sign_of_life,
    stale_limit_seconds,
    stale_outcome,
    stale_threshold_seconds,
)
from services.jobs.domain.state_machine import JobStatus
from services.jobs.runtime_models import JobRun
from services.jobs.watch import ChangeNotifier

log = logging.getLogger("swarmcast.jobs.detector")


class QueueProbe(Protocol):
    async def still_queued(self, stream_seq: int) -> bool | None:
        """True: still waiting in the queue; False: a runner took it; None: cannot tell."""
        ...


class JetStreamQueueProbe:
    """Looks the dispatch up by its sequence in the work-queue stream (acked messages are removed)."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.stream = bus.stream_name(subjects.JOBS_DISPATCH.name)

    async def still_queued(self, stream_seq: int) -> bool | None:
        try:
            await self.bus.js.get_msg(self.stream, seq=stream_seq)
        except nats.js.errors.NotFoundError:
            return False
        except Exception as exc:
            log.warning("could not look up dispatch #%s in %s: %s", stream_seq, self.stream, exc)
            return None
        return True


@dataclass
class DetectorReport:
    redispatched: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)


class StaleJobDetector:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        dispatcher: Dispatcher,
        relay: Kicker,
        notifier: ChangeNotifier,
        probe: QueueProbe | None,
        stale_after_seconds: float,
        retry_budget: int,
        interval_seconds: float,
    ) -> None:
        self.sessions = sessions
        self.dispatcher = dispatcher
        self.relay = relay
        self.notifier = notifier
        self.probe = probe
        self.stale_after_seconds = stale_after_seconds
        self.retry_budget = retry_budget
        # After a restart, progress that arrived while we were down is still queued in JetStream;
        # the consumers get one threshold to catch up before anyone is judged silent.
        self.periodic = PeriodicTask(
            "stale-job check",
            interval_seconds,
            self._check_and_log,
            initial_delay=min(stale_after_seconds, 300.0),
        )

    async def _check_and_log(self) -> None:
        report = await self.check_once()
        if report.redispatched or report.failed:
            log.info("stale jobs: re-dispatched %s, failed %s", report.redispatched, report.failed)

    async def check_once(self) -> DetectorReport:
        report = DetectorReport()
        async with self.sessions() as session:
            now = await repo.database_now(session)
            runs = await repo.live_runs(session)
        for run in runs:
            if run.status is not JobStatus.REPORTING and run.taken_at is None:
                if await self._left_queue(run):
                    async with self.sessions() as session, session.begin():
                        await repo.mark_taken(session, run.run_id)
                    report.taken.append(run.job_id)
                continue
            limit = stale_limit_seconds(run.status, run.tier, self.stale_after_seconds)
            silent = (
                now - last_sign_of_life(run.dispatched_at, run.taken_at, run.last_seen_at)
            ).total_seconds()
            if silent > limit:
                await self._act(run, report)
        if report.redispatched or report.failed:
            self.relay.kick()
        return report

    async def _left_queue(self, run: repo.LiveRun) -> bool:
        if run.stream_seq is None or self.probe is None:
            return False  # not published yet (the relay will), or no way to tell: not silence
        return await self.probe.still_queued(run.stream_seq) is False

    async def _act(self, run: repo.LiveRun, report: DetectorReport) -> None:
        async with self.sessions() as session, session.begin():
            job = await repo.lock_live_run(session, run.job_id, run.run_id)
            if job is None:
                return  # finished, re-dispatched, or another replica is handling it right now
            # Re-check under the lock: progress may have arrived since the scan.
            now = await repo.database_now(session)
            current = await session.get(JobRun, run.run_id, populate_existing=True)
            if current is None:
                return
            limit = stale_limit_seconds(job.status, job.tier, self.stale_after_seconds)
            last = last_sign_of_life(current.dispatched_at, current.taken_at, current.last_seen_at)
            if (now - last).total_seconds() <= limit:
                return
            status = job.status  # apply_change refreshes `job` in place
            decision = stale_outcome(
                status,
                retry_count=job.retry_count,
                retry_budget=self.retry_budget,
                threshold_seconds=stale_threshold_seconds(job.tier, self.stale_after_seconds),
            )
            if isinstance(decision, Redispatch):
                if await self.dispatcher.redispatch(session, job, decision.reason) is None:
                    return
                report.redispatched.append(job.id)
            else:
                assert isinstance(decision, Fail)
                if (
                    await repo.apply_change(
                        session, job.id, failed_change(decision.message), run_id=run.run_id
                    )
                    is None
                ):
                    return
                if status is not JobStatus.REPORTING:
                    # The runner may be alive but cut off from us: tell it to stop.
                    await self.dispatcher.cancel(session, job.id, reason=decision.message, run_id=run.run_id)
                report.failed.append(job.id)
        await self.notifier.notify(run.job_id)
