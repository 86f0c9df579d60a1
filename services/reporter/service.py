"""The reporter's work: runner.completed -> artifacts -> report.md -> reporter.completed.

Flow for one `runner.completed.<job_id>` (durable consumer `reporter-runner-completed`, shared by
every replica, so each event goes to one of them):

1. Idempotency: report_status.json says whether this run was already answered. A duplicate (same
   run_id, report DONE or permanently FAILED), a duplicate another replica is writing right now
   (a fresh WRITING claim by another delivery) or an older run's late completion changes nothing.
2. Status WRITING; the eight artifacts are read from object storage. A missing or corrupt artifact
   is permanent: `reporter.failed` (kind PERMANENT) is published and the message acked.
3. Facts -> writer (LLM when SWARMCAST_REPORT_LLM_URL is set, else deterministic) -> report.md,
   result_structured, key insight.
4. report.md is written to `sim-data/<job_id>/report.md`, `reporter.completed` is published with
   `Nats-Msg-Id reporter-completed-<job_id>-<run_id>-r<revision>` (a repeat is deduplicated by
   JetStream), then the status becomes DONE. Publishing comes before DONE, so a crash in between
   redoes the work instead of losing the event.

Transient failures (object storage or NATS unavailable) raise, so the bus redelivers with backoff;
on the last allowed delivery they become `reporter.failed` (kind TRANSIENT) so the job never
hangs in REPORTING. Within a process, work on one job is serialised by a per-job lock;
across replicas the status file and the message-id dedupe keep the outcome single.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus, EventMeta, Subscription
from services.common.errors import FailedPrecondition
from services.common.interceptors import ErrorReporter
from services.common.periodic import PeriodicTask
from services.common.storage import ObjectNotFound, ObjectStore
from services.reporter.artifacts import (
    PARENT_ARTIFACTS,
    REQUIRED_ARTIFACTS,
    ArtifactError,
    ParentArtifacts,
    parse_artifacts,
    parse_parent_artifacts,
)
from services.reporter.facts import BranchOrigin, RunContext, compute_facts
from services.reporter.handlers import consume_runner_completed
from services.reporter.report import BuiltReport, assemble
from services.reporter.repository import (
    ReportState,
    ReportStatus,
    RunSource,
    StatusStore,
    artifact_key,
    report_key,
)
from services.reporter.settings import ReporterSettings
from services.reporter.writers.base import Writer
from services.reporter.writers.deterministic import DeterministicWriter
from services.reporter.writers.llm import ChatClient, LLMWriter

log = logging.getLogger("swarmcast.reporter")

HEARTBEAT_S = 15.0
# A WRITING status refreshed this recently belongs to a live writer (heartbeats refresh it).
CLAIM_FRESH_S = 4 * HEARTBEAT_S
# Failures of the pure report computation are deterministic: retrying the same bytes cannot help.
_COMPUTATION_ERRORS = (ArtifactError, KeyError, IndexError, TypeError, ValueError, ZeroDivisionError)


class PermanentReportError(Exception):
    """The report cannot be written from these artifacts (missing, corrupt): retrying won't help."""


class NothingToRegenerate(FailedPrecondition):
    """No runner.completed was ever seen for the job, so there is nothing to rewrite from."""


@dataclass
class ReporterStats:
    """Counters for tests and logs."""

    handled: int = 0
    duplicates: int = 0
    written: int = 0
    failed: int = 0
    regenerated: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


class ReportService:
    """Consumes runner.completed and writes reports; also serves regeneration and status."""

    def __init__(
        self,
        settings: ReporterSettings,
        *,
        bus: EventBus,
        store: ObjectStore,
        errors: ErrorReporter | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = store
        self.statuses = StatusStore(store)
        self.errors = errors
        self.clock = clock
        self.stats = ReporterStats()
        self.max_deliver = max(1, settings.report_max_deliver)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._tasks: set[asyncio.Task[ReportStatus]] = set()
        self._subscription: Subscription[events_pb2.RunnerCompleted] | None = None

    # --- lifecycle
    async def start(self) -> None:
        self._subscription = await consume_runner_completed(
            self.bus, self.on_runner_completed, max_deliver=self.max_deliver
        )
        log.info(
            "reporter consuming %s (writer: %s)",
            subjects.RUNNER_COMPLETED_ALL,
            "llm" if self.settings.report_llm_url else "deterministic",
        )

    async def stop(self, grace: float = 10.0) -> None:
        if self._subscription is not None:
            sub, self._subscription = self._subscription, None
            await sub.stop(grace)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)

    # --- writers
    def writer(self, source: RunSource, *, deterministic: bool = False) -> tuple[Writer, ChatClient | None]:
        """The LLM writer when an endpoint is configured for runs of this backend (and not refused),
        else the deterministic one."""
        s = self.settings
        if deterministic or not s.report_llm_url or not s.llm_writes_for(source.backend):
            return DeterministicWriter(), None
        client = ChatClient(
            s.report_llm_url,
            # The runner's vLLM serves the job's routed model: use it when no report model is set.
            s.report_model or source.model_id or "default",
            api_key=s.report_llm_api_key.get_secret_value() if s.report_llm_api_key else None,
            timeout_s=s.report_llm_timeout_seconds,
            attempts=s.report_llm_attempts,
            max_tokens=s.report_llm_max_tokens,
            temperature=s.report_llm_temperature,
        )
        return LLMWriter(client), client

    # --- runner.completed
    async def on_runner_completed(self, event: events_pb2.RunnerCompleted, meta: EventMeta) -> None:
        self.stats.handled += 1
        if event.job_id <= 0 or not event.run_id:
            log.error("ignoring runner.completed without job_id/run_id on %s", meta.subject)
            return
        source = RunSource.from_event(event)
        async with self._job_lock(event.job_id):
            previous = await self.statuses.load(event.job_id)
            reason = _already_answered(previous, source) or _claimed_elsewhere(
                previous, source, meta.stream_seq, self.clock()
            )
            if reason:
                self.stats.duplicates += 1
                log.info("job %s run %s: %s; nothing to do", event.job_id, event.run_id, reason)
                return
            await self._write(
                source,
                previous,
                regenerated=False,
                deterministic=False,
                meta=meta,
                final_attempt=meta.num_delivered >= self.max_deliver,
            )

    # --- RegenerateReport / GetReportStatus
    async def regenerate(self, job_id: int, *, deterministic: bool = False) -> ReportStatus:
        """Rewrites the job's report from its last run on purpose; returns the resulting status.

        Runs as its own task so that a caller who gives up (a cancelled RPC) does not leave a half
        written report: the rewrite finishes and the status tells the outcome.
        """
        task = asyncio.create_task(self._regenerate(job_id, deterministic))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(task)

    async def _regenerate(self, job_id: int, deterministic: bool) -> ReportStatus:
        async with self._job_lock(job_id):
            previous = await self.statuses.load(job_id)
            if previous is None or previous.source is None:
                raise NothingToRegenerate(f"job {job_id} has no finished run to write a report from")
            status = await self._write(
                previous.source,
                previous,
                regenerated=True,
                deterministic=deterministic,
                meta=None,
                final_attempt=True,
            )
            if status.state is ReportState.DONE:
                self.stats.regenerated += 1
            return status

    async def status(self, job_id: int) -> ReportStatus:
        return await self.statuses.load(job_id) or ReportStatus(job_id=job_id)

    # --- the work
    async def _write(
        self,
        source: RunSource,
        previous: ReportStatus | None,
        *,
        regenerated: bool,
        deterministic: bool,
        meta: EventMeta | None,
        final_attempt: bool,
    ) -> ReportStatus:
        job_id = source.job_id
        same_run = previous is not None and previous.run_id == source.run_id
        revision = (previous.revision + 1) if (regenerated and previous is not None) else 1
        status = ReportStatus(
            job_id=job_id,
            state=ReportState.WRITING,
            run_id=source.run_id,
            # A failed regeneration must still point at the report that exists.
            writer=previous.writer if (previous and same_run) else "",
            report_key=previous.report_key if (previous and same_run) else "",
            attempts=(previous.attempts if (previous and same_run) else 0) + 1,
            revision=revision,
            claim=meta.stream_seq if meta is not None else 0,
            source=source,
            updated_at=self.clock().isoformat(),
        )
        await self.statuses.save(status)

        async def still_writing() -> None:
            status.updated_at = self.clock().isoformat()
            await self.statuses.save(status)

        try:
            async with _heartbeat(meta, still_writing):
                built = await self._build(source, revision=revision, deterministic=deterministic)
                key = report_key(job_id)
                await self.store.put_bytes(key, built.markdown.encode(), "text/markdown; charset=utf-8")
                self.stats.written += 1
                await self._publish_completed(source, built, key, revision=revision, regenerated=regenerated)
        except PermanentReportError as exc:
            return await self._fail(status, str(exc), permanent=True, publish=not regenerated)
        except Exception as exc:
            if regenerated:
                # The operator sees UNAVAILABLE; the job's state goes back to what it was.
                with contextlib.suppress(Exception):
                    await self.statuses.save(previous or ReportStatus(job_id=job_id))
                raise
            if final_attempt:
                log.error("job %s: report failed on the last delivery: %s", job_id, exc)
                return await self._fail(status, f"report could not be written: {exc}", permanent=False)
            status.error_message = f"{type(exc).__name__}: {exc}"[:500]
            with contextlib.suppress(Exception):
                await self.statuses.save(status)
            raise
        status.state = ReportState.DONE
        status.writer = built.writer
        status.report_key = key
        status.key_insight = built.key_insight
        status.error_message = ""
        status.notes = [*built.structured["notes"], *built.structured["writer_notes"]]
        status.updated_at = self.clock().isoformat()
        await self.statuses.save(status)
        log.info(
            "job %s run %s: report r%d written by the %s writer",
            job_id,
            source.run_id,
            revision,
            built.writer,
            extra={"job_id": job_id},
        )
        return status

    async def _build(self, source: RunSource, *, revision: int, deterministic: bool) -> BuiltReport:
        raw = await self._read_artifacts(source)
        context = RunContext(
            job_id=source.job_id, run_id=source.run_id, goal=source.goal, forecast_days=source.forecast_days
        )
        origin = _branch_origin(source)
        parent = await self._read_parent(source, origin.parent_job_id) if origin is not None else None
        try:
            facts = compute_facts(parse_artifacts(raw), context, branch=origin, parent=parent)
        except _COMPUTATION_ERRORS as exc:
            if not isinstance(exc, ArtifactError) and self.errors is not None:
                self.errors.report(exc, request_path="reporter.facts", job_id=source.job_id)
            raise PermanentReportError(f"the artifacts cannot be turned into a report: {exc}") from exc
        writer, client = self.writer(source, deterministic=deterministic)
        try:
            written = await writer.write(facts)
        finally:
            if client is not None:
                await client.aclose()
        return assemble(facts, written, report_key=report_key(source.job_id), revision=revision)

    def _run_store(self, source: RunSource) -> ObjectStore:
        store = self.store
        if source.bucket and source.bucket != store.bucket:
            # The manifest names the bucket the runner wrote to; read from there.
            store = ObjectStore(store.client, source.bucket, region=store.region)
        return store

    async def _read_parent(self, source: RunSource, parent_job_id: int) -> ParentArtifacts | None:
        """The parent's artifacts a branch is compared with (the default layout, in the bucket the
        branch was written to); None when they are gone or unreadable - the report says so and
        compares what is known. Storage being unavailable raises (a retry can help)."""
        store = self._run_store(source)
        raw: dict[str, bytes] = {}
        for name in PARENT_ARTIFACTS:
            try:
                raw[name] = await store.get_bytes(artifact_key(parent_job_id, name))
            except ObjectNotFound:
                log.info("job %s: parent job %s has no %s", source.job_id, parent_job_id, name)
                return None
        try:
            return parse_parent_artifacts(raw)
        except ArtifactError as exc:
            log.warning(
                "job %s: parent job %s's artifacts are unreadable: %s", source.job_id, parent_job_id, exc
            )
            return None

    async def _read_artifacts(self, source: RunSource) -> dict[str, bytes]:
        store = self._run_store(source)
        keys = {
            name: source.artifacts.get(name) or artifact_key(source.job_id, name)
            for name in REQUIRED_ARTIFACTS
        }

        async def get(name: str) -> tuple[str, bytes | None]:
            try:
                return name, await store.get_bytes(keys[name])
            except ObjectNotFound:
                return name, None

        results = await asyncio.gather(*(get(name) for name in REQUIRED_ARTIFACTS))
        missing = [f"{name} ({keys[name]})" for name, data in results if data is None]
        if missing:
            raise PermanentReportError(f"artifacts missing from object storage: {', '.join(missing)}")
        return {name: data for name, data in results if data is not None}

    async def _publish_completed(
        self, source: RunSource, built: BuiltReport, key: str, *, revision: int, regenerated: bool
    ) -> None:
        event = events_pb2.ReporterCompleted(
            job_id=source.job_id,
            run_id=source.run_id,
            report_markdown=built.markdown,
            result_structured=built.structured_json,
            key_insight=built.key_insight,
            report_key=key,
            writer=built.writer,
            regenerated=regenerated,
            revision=revision,
        )
        event.completed_at.FromDatetime(self.clock())
        await self.bus.publish(
            subjects.reporter_completed(source.job_id),
            event,
            msg_id=f"reporter-completed-{source.job_id}-{source.run_id}-r{revision}",
        )

    async def _fail(
        self, status: ReportStatus, reason: str, *, permanent: bool, publish: bool = True
    ) -> ReportStatus:
        kind = events_pb2.FAILURE_KIND_PERMANENT if permanent else events_pb2.FAILURE_KIND_TRANSIENT
        log.warning("job %s run %s: report failed (%s): %s", status.job_id, status.run_id,
                    "permanent" if permanent else "transient", reason)  # fmt: skip
        if publish:
            event = events_pb2.ReporterFailed(
                job_id=status.job_id, run_id=status.run_id, reason=reason[:1000], kind=kind
            )
            event.failed_at.FromDatetime(self.clock())
            # Published before the status says FAILED: a crash in between retries and republishes.
            await self.bus.publish(
                subjects.reporter_failed(status.job_id),
                event,
                msg_id=f"reporter-failed-{status.job_id}-{status.run_id}-r{status.revision}",
            )
        status.state = ReportState.FAILED
        status.failure_kind = "permanent" if permanent else "transient"
        status.error_message = reason[:1000]
        status.updated_at = self.clock().isoformat()
        await self.statuses.save(status)
        self.stats.failed += 1
        return status

    @contextlib.asynccontextmanager
    async def _job_lock(self, job_id: int) -> AsyncIterator[None]:
        lock = self._locks.get(job_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[job_id] = lock
        async with lock:
            yield


def _branch_origin(source: RunSource) -> BranchOrigin | None:
    """The branch's origin from runner.completed (kept in the status for regeneration)."""
    if not source.branch:
        return None
    forecast = source.branch.get("parent_forecast")
    return BranchOrigin(
        parent_job_id=int(source.branch.get("parent_job_id", 0)),
        round=int(source.branch.get("round", 0)),
        parent_forecast=forecast if isinstance(forecast, dict) else {},
    )


def _already_answered(previous: ReportStatus | None, source: RunSource) -> str:
    """Why this runner.completed needs no report ("" when it does)."""
    if previous is None or previous.source is None:
        return ""
    if previous.run_id == source.run_id:
        if previous.state is ReportState.DONE:
            return "a duplicate: the report for this run is already written"
        if previous.state is ReportState.FAILED and previous.failure_kind == "permanent":
            return "a duplicate: this run's report already failed for good"
        return ""
    if previous.state is ReportState.DONE and _older(source.completed_at, previous.source.completed_at):
        return f"a late completion of run {source.run_id}, older than the reported run {previous.run_id}"
    return ""


def _older(candidate: str, reference: str) -> bool:
    if not candidate or not reference:
        return False
    try:
        return datetime.fromisoformat(candidate) < datetime.fromisoformat(reference)
    except ValueError:
        return False


def _claimed_elsewhere(
    previous: ReportStatus | None, source: RunSource, stream_seq: int, now: datetime
) -> str:
    """Why to drop this delivery because another one of the same run is being written right now.

    Safe to drop: the delivery being written stays in the stream until its handler finishes, and is
    redelivered if that writer dies. A stale claim (no heartbeat) is taken over.
    """
    if previous is None or previous.state is not ReportState.WRITING or previous.run_id != source.run_id:
        return ""
    if not previous.claim or previous.claim == stream_seq:
        return ""  # a regeneration's leftover, or this very delivery coming back after a failure
    updated = previous.updated_at_datetime
    if updated is None or (now - updated).total_seconds() > CLAIM_FRESH_S:
        return ""
    return f"a duplicate: delivery {previous.claim} of this run is being written"


@contextlib.asynccontextmanager
async def _heartbeat(meta: EventMeta | None, refresh: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    """While a (possibly slow, LLM) report is written: tells JetStream the handler is alive and
    refreshes the status, so other replicas see the claim is live."""
    if meta is None:
        yield
        return

    async def beat() -> None:
        await meta.working()
        try:
            await refresh()
        except Exception as exc:  # a heartbeat must never break the write itself
            log.warning("could not refresh the report status: %s", exc)

    heartbeat = PeriodicTask("report-heartbeat", HEARTBEAT_S, beat, initial_delay=HEARTBEAT_S)
    heartbeat.start()
    try:
        yield
    finally:
        await heartbeat.stop()
