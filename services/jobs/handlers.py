"""Event consumers of the jobs service (docs/architecture.md §3).

Each consumer is durable and idempotent and acks only after its transaction committed (the bus
acks when the handler returns). Every job-row write is the guarded compare-and-set of
`repository.apply_change`, so duplicates, late events, events of a superseded run (another
`run_id`) and events for a terminal job change nothing. After a commit the handler wakes the
job's watchers (`ChangeNotifier`) and kicks the outbox relay when it wrote a message.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import DEFAULT_MAX_DELIVER, EventBus, EventMeta, Subscription
from services.common.chatlog import capped_chat_log
from services.common.db import utcnow
from services.common.outbox import Kicker
from services.common.revocation import RevocationList
from services.common.storage import ObjectStore
from services.jobs import repository as repo
from services.jobs.dispatch import Dispatcher
from services.jobs.domain.artifacts import ARTIFACT_NAMES, artifact_key, job_prefix
from services.jobs.domain.events import (
    PROGRESS_STATUSES,
    Fail,
    Redispatch,
    RowChange,
    clean,
    failed_change,
    progress_change,
    report_values,
    reporter_completed_change,
    reporter_failure_message,
    runner_completed_change,
    runner_failure_outcome,
    truncate,
    ts,
)
from services.jobs.domain.state_machine import JobStatus, allowed_sources
from services.jobs.purge import RunnersStillHolding, UserPurge
from services.jobs.watch import ChangeNotifier

log = logging.getLogger("swarmcast.jobs.events")

_INT4_MAX = 2**31 - 1


class Outcome(StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"


# Redelivery delays for deferred reporter outcomes (seconds; the last repeats).
DEFERRAL_BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class DeferredEvent(Exception):
    """The event arrived ahead of the one it follows; raising makes the bus redeliver it later."""


class _JobEvent(Protocol):
    @property
    def job_id(self) -> int: ...


E = TypeVar("E", bound=_JobEvent)


class _NotNewer(Exception):
    """Rolls back a progress update whose seq turned out not to be newer."""


class EventHandlers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        store: ObjectStore,
        dispatcher: Dispatcher,
        relay: Kicker,
        notifier: ChangeNotifier,
        retry_budget: int,
        purge: UserPurge | None = None,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.dispatcher = dispatcher
        self.relay = relay
        self.notifier = notifier
        self.retry_budget = retry_budget
        self.purge = purge or UserPurge(
            sessions,
            store=store,
            dispatcher=dispatcher,
            relay=relay,
            notifier=notifier,
            deleted_users=RevocationList(),
        )

    # --- runner.progress.<job_id> ---------------------------------------------------------------

    async def apply_progress(self, event: events_pb2.RunnerProgress) -> Outcome:
        change = progress_change(event, utcnow())
        try:
            async with self.sessions() as session, session.begin():
                job = await repo.apply_change(session, event.job_id, change, run_id=event.run_id or None)
                if job is None:
                    return Outcome.IGNORED  # terminal, past RUNNING, unknown, or another run's event
                # The row lock taken above serialises concurrent progress of this job, so the
                # seq check and the field update are one atomic "only if newer".
                if not await repo.advance_progress_seq(session, job.id, job.workflow_run_id or "", event.seq):
                    raise _NotNewer
        except _NotNewer:
            return Outcome.IGNORED
        await self.notifier.notify(event.job_id)
        return Outcome.APPLIED

    # --- runner.completed.<job_id> --------------------------------------------------------------

    async def apply_runner_completed(self, event: events_pb2.RunnerCompleted) -> Outcome:
        async with self.sessions() as session:
            current = await repo.get_job(session, event.job_id, light=True)
        if current is None or current.status not in allowed_sources(JobStatus.REPORTING):
            return Outcome.IGNORED  # a duplicate or late completion: skip the storage checks
        if event.run_id and current.workflow_run_id != event.run_id:
            return Outcome.IGNORED
        available = await self.artifacts_present(event.job_id)
        if available and not event.result_chat_log:
            event = await self._with_chat_log(event)
        change = runner_completed_change(event, sim_data_available=available, received_at=utcnow())
        async with self.sessions() as session, session.begin():
            job = await repo.apply_change(session, event.job_id, change, run_id=event.run_id or None)
            if job is None:
                return Outcome.IGNORED
            await repo.mark_seen(session, job.workflow_run_id or "")
        await self.notifier.notify(event.job_id)
        return Outcome.APPLIED

    async def _with_chat_log(self, event: events_pb2.RunnerCompleted) -> events_pb2.RunnerCompleted:
        """The event plus the capped chat log from object storage (chat text stays off the bus)."""
        try:
            raw = await self.store.get_bytes(artifact_key(event.job_id, "chat_log.json"))
            chat_log = capped_chat_log(raw)
        except ValueError as exc:  # not the contract's JSON: the job keeps no excerpt
            log.warning("chat log of job %s unreadable: %s", event.job_id, exc)
            return event
        completed = events_pb2.RunnerCompleted()
        completed.CopyFrom(event)
        completed.result_chat_log = chat_log
        return completed

    async def artifacts_present(self, job_id: int) -> bool:
        """sim_data_available: every one of the ten artifacts is in the bucket."""
        keys = set(await self.store.list_keys(job_prefix(job_id)))
        return all(artifact_key(job_id, name) in keys for name in ARTIFACT_NAMES)

    # --- runner.failed.<job_id> -----------------------------------------------------------------

    async def apply_runner_failed(self, event: events_pb2.RunnerFailed) -> Outcome:
        wrote_outbox = False
        async with self.sessions() as session, session.begin():
            job = await repo.get_job(session, event.job_id, light=True, for_update=True)
            if job is None or job.status not in PROGRESS_STATUSES:
                return Outcome.IGNORED
            if event.run_id and job.workflow_run_id != event.run_id:
                return Outcome.IGNORED  # a superseded attempt failing says nothing about this one
            decision = runner_failure_outcome(
                event.kind, event.reason, retry_count=job.retry_count, retry_budget=self.retry_budget
            )
            if isinstance(decision, Redispatch):
                if await self.dispatcher.redispatch(session, job, decision.reason) is None:
                    return Outcome.IGNORED
                wrote_outbox = True
            else:
                assert isinstance(decision, Fail)
                failed = await repo.apply_change(
                    session, job.id, failed_change(decision.message), run_id=job.workflow_run_id
                )
                if failed is None:
                    return Outcome.IGNORED
        if wrote_outbox:
            self.relay.kick()
        await self.notifier.notify(event.job_id)
        return Outcome.APPLIED

    # --- reporter.completed / reporter.failed ---------------------------------------------------

    async def apply_reporter_completed(self, event: events_pb2.ReporterCompleted) -> Outcome:
        if event.regenerated:
            # An operator's RegenerateReport: the only event that may change a COMPLETED job, and
            # only its report fields (the status and completed_at stay as they are).
            async with self.sessions() as session, session.begin():
                job = await repo.update_fields(
                    session, event.job_id, report_values(event), statuses=[JobStatus.COMPLETED]
                )
                if job is not None:
                    await repo.save_completed_extras(session, job)
            if job is not None:
                await self.notifier.notify(event.job_id)
                return Outcome.APPLIED
        change = reporter_completed_change(event, received_at=utcnow())
        return await self._apply_after_runner(event.job_id, event.run_id, change, "reporter.completed")

    async def apply_reporter_failed(self, event: events_pb2.ReporterFailed) -> Outcome:
        change = RowChange(
            target=JobStatus.FAILED,
            guard=frozenset({JobStatus.REPORTING}),
            values=failed_change(reporter_failure_message(event.reason)).values,
        )
        return await self._apply_after_runner(event.job_id, event.run_id, change, "reporter.failed")

    async def _apply_after_runner(self, job_id: int, run_id: str, change: RowChange, what: str) -> Outcome:
        """Applies a reporter outcome from REPORTING; defers it if runner.completed is still ahead."""
        for _ in range(3):
            async with self.sessions() as session, session.begin():
                job = await repo.apply_change(session, job_id, change, run_id=run_id or None)
                if job is None:
                    current = await repo.get_job(session, job_id, light=True)
                elif job.status is JobStatus.COMPLETED:
                    # The list's forecast and the tier's run time, with the results they come from.
                    await repo.save_completed_extras(session, job)
            if job is not None:
                await self.notifier.notify(job_id)
                return Outcome.APPLIED
            if current is None or (run_id and current.workflow_run_id != run_id):
                return Outcome.IGNORED
            if current.status in PROGRESS_STATUSES:
                # The reporter answered before this service processed runner.completed (they consume
                # it independently): let JetStream bring the event back once we have caught up.
                raise DeferredEvent(f"{what} for job {job_id} arrived before runner.completed; redelivering")
            if current.status not in change.guard:
                return Outcome.IGNORED
            # runner.completed committed between the refused update and the re-read (the re-read
            # sees it, READ COMMITTED): the guard holds now, so apply again rather than drop it.
        raise DeferredEvent(f"{what} for job {job_id} raced runner.completed; redelivering")

    # --- errors.captured ------------------------------------------------------------------------

    async def apply_error_captured(self, event: events_pb2.ErrorCaptured, msg_id: str | None) -> Outcome:
        key = event.error_id or msg_id or hashlib.sha256(event.SerializeToString()).hexdigest()
        message = clean(event.message).strip() or "(no message)"
        if event.service:
            message = f"[{clean(event.service)}] {message}"
        job_id = event.job_id if event.HasField("job_id") and 0 < event.job_id <= _INT4_MAX else None
        values = {
            "timestamp": ts(event.timestamp, event.HasField("timestamp")) or utcnow(),
            "level": truncate((event.level or "ERROR").upper(), 20),
            "source": truncate(event.source or "api", 20),
            "message": message,
            "traceback": clean(event.traceback) or None,
            "user_id": truncate(event.user_id, 255) or None,
            "job_id": job_id,
            "request_path": truncate(event.request_path, 500) or None,
        }
        async with self.sessions() as session, session.begin():
            inserted = await repo.insert_error_event(session, truncate(key, 255), values)
        return Outcome.APPLIED if inserted else Outcome.IGNORED

    # --- auth.user.deleted ----------------------------------------------------------------------

    async def apply_user_deleted(self, event: events_pb2.UserDeleted) -> Outcome:
        """Cancels the user's work, waits for the runners to let go, then deletes (purge.py)."""
        user_id = clean(event.user_id).strip()
        if not user_id or len(user_id) > 255:
            return Outcome.IGNORED
        try:
            purged = await self.purge.purge(user_id)
        except RunnersStillHolding as exc:
            raise DeferredEvent(str(exc)) from None
        return Outcome.APPLIED if purged else Outcome.IGNORED

    # --- wiring ---------------------------------------------------------------------------------

    async def subscribe(self, bus: EventBus) -> list[Subscription[Any]]:
        """Starts every consumer; processes with the same durable names share the work."""

        def checked(apply: Callable[[E], Awaitable[Outcome]]) -> Callable[[E, EventMeta], Awaitable[None]]:
            async def handler(event: E, meta: EventMeta) -> None:
                if not _subject_names_job(meta.subject, event.job_id):
                    log.warning(
                        "ignoring %s: its job_id %s does not match the subject", meta.subject, event.job_id
                    )
                    return
                await apply(event)

            return handler

        async def on_error(event: events_pb2.ErrorCaptured, meta: EventMeta) -> None:
            await self.apply_error_captured(event, meta.msg_id)

        async def on_user_deleted(event: events_pb2.UserDeleted, meta: EventMeta) -> None:
            await self.apply_user_deleted(event)

        specs: list[tuple[str, type, Callable[..., Awaitable[None]], str, int]] = [
            (subjects.RUNNER_PROGRESS_ALL, events_pb2.RunnerProgress, checked(self.apply_progress),
             "jobs-runner-progress", 32),
            (subjects.RUNNER_COMPLETED_ALL, events_pb2.RunnerCompleted, checked(self.apply_runner_completed),
             "jobs-runner-completed", 8),
            (subjects.RUNNER_FAILED_ALL, events_pb2.RunnerFailed, checked(self.apply_runner_failed),
             "jobs-runner-failed", 8),
            (subjects.REPORTER_COMPLETED_ALL, events_pb2.ReporterCompleted,
             checked(self.apply_reporter_completed), "jobs-reporter-completed", 8),
            (subjects.REPORTER_FAILED_ALL, events_pb2.ReporterFailed, checked(self.apply_reporter_failed),
             "jobs-reporter-failed", 8),
            (subjects.ERRORS_CAPTURED, events_pb2.ErrorCaptured, on_error, "jobs-errors-captured", 4),
            (subjects.USER_DELETED, events_pb2.UserDeleted, on_user_deleted, "jobs-user-deleted", 2),
        ]  # fmt: skip
        # A reporter outcome that overtook runner.completed is deferred, not failed: bring it back
        # within a second, and allow enough deliveries that a slow runner.completed cannot exhaust it.
        # A deletion waits for runners to let go (up to their lease): the same patient redelivery.
        deferrable = {"jobs-reporter-completed", "jobs-reporter-failed", "jobs-user-deleted"}
        subscriptions = await asyncio.gather(
            *(
                # ack_wait: a deleted user's many artifacts can take a while to remove.
                bus.subscribe(
                    subject,
                    message_type,
                    handler,
                    durable=durable,
                    concurrency=concurrency,
                    ack_wait=120,
                    backoff=DEFERRAL_BACKOFF if durable in deferrable else None,
                    max_deliver=30 if durable in deferrable else DEFAULT_MAX_DELIVER,
                )
                for subject, message_type, handler, durable, concurrency in specs
            )
        )
        return list(subscriptions)


def _subject_names_job(subject: str, job_id: int) -> bool:
    return subject.rsplit(".", 1)[-1] == str(job_id)
