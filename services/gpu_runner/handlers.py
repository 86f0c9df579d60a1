"""The runner: takes jobs from the dispatch work queues, runs them, reports, obeys cancel and SIGTERM.

- One durable consumer per tier it serves (`runner-<tier>`, shared by every runner of that tier:
  JetStream gives each dispatch to one of them). All tiers share one budget of
  `SWARMCAST_RUNNER_CONCURRENCY` jobs, and a consumer only fetches while the budget has room.
- A dispatch is acked when its outcome event is published. While it runs the runner sends
  in-progress acks; a runner that dies stops sending them and, after `ack_wait`, JetStream hands
  the dispatch to another runner, which resumes from the checkpoint (a redelivery always resumes).
- Cancels arrive on a per-instance consumer of `jobs.cancel.>` (new messages only, deleted by the
  server once the instance is gone). A dispatch picked up after its cancel was published is refused
  by looking up the job's last cancel in the stream.
- Interviews (`interviews.py`): a core-NATS queue subscription per tier it serves, answered with
  the runner's backend, also while a job runs; on shutdown they are unsubscribed first.
- Shutdown (SIGTERM): stop fetching; a job expected to finish within the shutdown grace finishes,
  any other is released at once - nak'ed after its in-flight checkpoint upload - so another runner
  resumes it without waiting out `ack_wait`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import nats.js.errors
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus, EventMeta, SharedSlots, Subscription
from services.common.config import Settings
from services.common.interceptors import ErrorReporter
from services.common.storage import ObjectStore
from services.gpu_runner.backends import BackendHost, ModelKey
from services.gpu_runner.engine_thread import EngineThread
from services.gpu_runner.interviews import InterviewServer
from services.gpu_runner.outcomes import CANCELLED_BY_USER, PERMANENT, failed_event
from services.gpu_runner.service import STOP_WAIT_SECONDS, JobRun, RunnerContext
from services.gpu_runner.settings import (
    RunnerSettings,
    SearchSettings,
    get_runner_settings,
    get_search_settings,
)

log = logging.getLogger("swarmcast.gpu_runner")

ReadyHook = Callable[[bool], Awaitable[None]]

# Time on top of the shutdown grace for a finishing job's artifact uploads and outcome event.
UPLOAD_ALLOWANCE_SECONDS = 15.0
RECENT_CANCELS = 1024


def durable_token(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:200]


class Runner:
    def __init__(
        self,
        settings: Settings,
        bus: EventBus,
        *,
        runner_settings: RunnerSettings | None = None,
        search_settings: SearchSettings | None = None,
        errors: ErrorReporter | None = None,
        store: ObjectStore | None = None,
        on_ready: ReadyHook | None = None,
        gpu_name: str = "",
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.rs = runner_settings or get_runner_settings()
        self.search = search_settings or get_search_settings()
        self.errors = errors
        self.on_ready = on_ready
        self.gpu_name = gpu_name
        self.instance_id = self.rs.instance_id
        self.tiers = settings.runner_tier_list
        if not self.tiers:
            raise ValueError("SWARMCAST_RUNNER_TIERS names no tier")
        self.concurrency = self.rs.concurrency
        self.engine = EngineThread()
        self.host = BackendHost(settings, self.rs, store=store)
        self.slots = SharedSlots(self.concurrency)
        self.jobs: dict[str, JobRun] = {}
        self.jobs_completed = 0
        self.jobs_failed = 0
        self.started_at = datetime.now(UTC)
        self.llm_ready = False
        self._cancels: OrderedDict[tuple[int, str], str] = OrderedDict()
        self._subs: dict[str, Subscription[events_pb2.JobDispatch]] = {}
        self._cancel_sub: Subscription[events_pb2.JobCancel] | None = None
        self._ready_task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._ctx: RunnerContext | None = None
        self._stopped = False
        # The last route each tier was dispatched with: an interview of the tier uses its model.
        self._tier_routes: dict[str, tuple[str, str]] = {}
        self.interviews: InterviewServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        self.engine.start()
        if self.host.name == "llamacpp":
            # Loading a small GGUF takes seconds; a model that cannot load stops the start here.
            await self.engine.run(self.host.preload_on_engine())
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(120.0, connect=5.0), limits=httpx.Limits(max_connections=32)
        )
        self._ctx = RunnerContext(
            bus=self.bus,
            engine=self.engine,
            host=self.host,
            http=self._http,
            runner=self.rs,
            search=self.search,
            instance_id=self.instance_id,
            gpu_provider=self.rs.gpu_provider,
            gpu_hourly_usd=self.rs.gpu_hourly_usd,
            errors=self.errors,
        )
        # The cancel listener first: a cancel for a job taken a moment later must not slip through.
        self._cancel_sub = await self.bus.subscribe(
            subjects.CANCEL_ALL,
            events_pb2.JobCancel,
            self._on_cancel,
            durable=durable_token(f"runner-cancel-{self.instance_id}"),
            deliver_new_only=True,
            inactive_threshold=300.0,
            max_deliver=3,
        )
        self._ready_task = asyncio.create_task(self._readiness_loop(), name="runner-readiness")
        self.interviews = InterviewServer(
            self.bus,
            self.engine,
            self.host,
            self._http,
            self.tiers,
            model_key=self.interview_model,
            errors=self.errors,
        )
        await self.interviews.start()
        for tier in self.tiers:
            self._subs[tier] = await self.bus.subscribe(
                subjects.dispatch(tier),
                events_pb2.JobDispatch,
                self._on_dispatch,
                durable=f"runner-{tier}",
                ack_wait=self.rs.ack_wait_seconds,
                max_deliver=self.rs.max_deliver,
                backoff=(2.0, 5.0, 10.0, 30.0),
                concurrency=self.concurrency,
                slots=self.slots,
            )
        log.info(
            "runner %s serving tiers %s with the %s backend (%d job(s) at a time)",
            self.instance_id,
            ",".join(self.tiers),
            self.host.name,
            self.concurrency,
        )

    async def stop(self) -> None:
        """Stop taking work; finish or release running jobs (see the module docstring). Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        idle = not self.jobs
        if self.interviews is not None:
            # Before the engine and the backend go away: interviews in flight get a moment to finish.
            await self.interviews.stop(grace=STOP_WAIT_SECONDS / 2)
        tiers = asyncio.gather(*(self._stop_tier(tier, sub) for tier, sub in self._subs.items()))
        if self._cancel_sub is not None and idle:
            await asyncio.gather(tiers, self._cancel_sub.stop(grace=1.0))
        else:
            await tiers  # cancels may still arrive for the jobs finishing now
            if self._cancel_sub is not None:
                await self._cancel_sub.stop(grace=1.0)
        if self._ready_task is not None:
            self._ready_task.cancel()
            await asyncio.gather(self._ready_task, return_exceptions=True)
        if self.engine.started:
            try:
                await asyncio.wait_for(self.engine.run(self.host.aclose_on_engine()), 30.0)
            except Exception as exc:
                log.warning("closing the LLM backend failed: %s", exc)
            await self.engine.stop()
        if self._http is not None:
            await self._http.aclose()

    async def _stop_tier(self, tier: str, sub: Subscription[events_pb2.JobDispatch]) -> None:
        running = [job for job in self.jobs.values() if job.tier == tier]
        grace = self.rs.shutdown_grace_seconds
        finishable = all(job.expected_remaining_seconds() <= grace for job in running)
        for job in running:
            log.info(
                "shutdown: job %s (round %d/%d) is %s",
                job.job_id,
                job.current_round,
                job.state.max_rounds,
                "finishing" if finishable else "released",
            )
        if running and finishable:
            await sub.stop(grace=grace + UPLOAD_ALLOWANCE_SECONDS)
            return
        # Stop the engines now (not after the fetch loop winds down); a handler ending in
        # CancelledError naks its dispatch, per the bus's contract.
        for job in running:
            job.release()
        await sub.stop(grace=STOP_WAIT_SECONDS)

    # --- readiness ---------------------------------------------------------------------------------
    async def _readiness_loop(self) -> None:
        if self.host.name == "vllm":
            try:
                await self.engine.run(self.host.preload_on_engine())
            except Exception as exc:
                log.error("preloading %s failed: %s", self.rs.llm_model, exc)
        while True:
            try:
                ok, why = await self.host.probe()
            except Exception as exc:  # a probe bug must not end readiness reporting
                ok, why = False, f"probe failed: {exc}"
            await self._set_ready(ok, why)
            await asyncio.sleep(self.rs.llm_probe_interval_seconds)

    async def _set_ready(self, ready: bool, why: str) -> None:
        self.host.ready, self.host.last_error = ready, why
        if ready == self.llm_ready:
            return
        self.llm_ready = ready
        if ready:
            log.info("LLM backend %s ready (%s)", self.host.name, self.host.current_model)
        else:
            log.warning("LLM backend %s not ready: %s", self.host.name, why)
        if self.on_ready is not None:
            await self.on_ready(ready)

    # --- dispatches --------------------------------------------------------------------------------
    async def _on_dispatch(self, dispatch: events_pb2.JobDispatch, meta: EventMeta) -> None:
        assert self._ctx is not None
        if dispatch.job_id <= 0 or not dispatch.run_id:
            log.error("dropping a dispatch without job_id/run_id on %s", meta.subject)
            return
        existing = self.jobs.get(dispatch.run_id)
        if existing is not None:
            # Redelivered to us while we still run it (a missed ack_wait): the running copy answers.
            await existing.finished.wait()
            return
        reason = await self._cancel_reason(dispatch)
        if reason is not None:
            log.info(
                "job %s run %s was cancelled before pickup: %s", dispatch.job_id, dispatch.run_id, reason
            )
            failed = failed_event(
                dispatch, pod_id=self.instance_id, reason=reason, kind=PERMANENT, last_round=0
            )
            await self.bus.publish(
                subjects.runner_failed(dispatch.job_id), failed, msg_id=f"runner-failed-{dispatch.run_id}"
            )
            return
        job = JobRun(self._ctx, dispatch, meta)
        self.jobs[dispatch.run_id] = job
        self._tier_routes[job.tier] = (dispatch.route.model_id, dispatch.route.vllm_args)
        log.info(
            "job %s run %s picked up (tier %s, attempt %d, delivery %d)",
            dispatch.job_id,
            dispatch.run_id,
            job.tier,
            dispatch.attempt,
            meta.num_delivered,
        )
        try:
            await job.execute()
        finally:
            self.jobs.pop(dispatch.run_id, None)
            if isinstance(job.outcome, events_pb2.RunnerCompleted):
                self.jobs_completed += 1
            elif isinstance(job.outcome, events_pb2.RunnerFailed):
                self.jobs_failed += 1

    def interview_model(self, tier: str) -> ModelKey:
        """The model an interview of ``tier`` is answered with: the one the tier's jobs ran on here
        (their route), else the runner's configured model (what it preloads)."""
        return self.host.key_for(*self._tier_routes.get(tier, ("", "")))

    # --- cancels -----------------------------------------------------------------------------------
    async def _on_cancel(self, cancel: events_pb2.JobCancel, meta: EventMeta) -> None:
        reason = cancel.reason or CANCELLED_BY_USER
        self._cancels[(cancel.job_id, cancel.run_id)] = reason
        while len(self._cancels) > RECENT_CANCELS:
            self._cancels.popitem(last=False)
        for job in list(self.jobs.values()):
            if job.job_id == cancel.job_id and cancel.run_id in ("", job.run_id):
                log.info("cancelling job %s run %s: %s", job.job_id, job.run_id, reason)
                job.cancel(reason)

    async def _cancel_reason(self, dispatch: events_pb2.JobDispatch) -> str | None:
        for key in ((dispatch.job_id, ""), (dispatch.job_id, dispatch.run_id)):
            if key in self._cancels:
                return self._cancels[key]
        stream = self.bus.stream_name(subjects.JOBS_CONTROL.name)
        try:
            raw = await self.bus.js.get_last_msg(stream, self.bus.subject(subjects.cancel(dispatch.job_id)))
            cancel = events_pb2.JobCancel.FromString(raw.data or b"")
        except nats.js.errors.NotFoundError:
            return None
        except Exception as exc:  # cannot tell: run it; a live cancel still stops it
            log.warning("could not look up cancels of job %s: %s", dispatch.job_id, exc)
            return None
        if cancel.run_id in ("", dispatch.run_id):
            return cancel.reason or CANCELLED_BY_USER
        return None

    # --- status ------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        job = next(iter(self.jobs.values()), None)
        model = self.host.backend_status()
        return {
            "instance_id": self.instance_id,
            "backend": self.host.name,
            "model_id": job.model_key.model if job is not None else self.host.current_model,
            "gpu": self.gpu_name,
            "llm_ready": self.llm_ready,
            "current_job_id": job.job_id if job is not None else 0,
            "current_round": job.current_round if job is not None else 0,
            "rounds_per_second": job.state.rounds_per_second if job is not None else 0.0,
            "tiers": list(self.tiers),
            "jobs_completed": self.jobs_completed,
            "concurrency": self.concurrency,
            "started_at": self.started_at,
            "context_size": int(model.get("context_size", 0)),
            "tokens_per_second": float(model.get("tokens_per_second", 0.0)),
            "llm_slots": int(model.get("contexts", 0)),
        }
