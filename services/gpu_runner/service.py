"""One dispatch, run to its outcome: provisioning, seeding (enrichment), the engine, uploads.

A what-if branch (`dispatch.branch`) with no checkpoint of its own starts from its parent's round
checkpoint with the dispatch's events injected; with one of its own (a redelivery) it resumes that,
the events being in it already. Every round's checkpoint goes to the latest `checkpoint` (crash
resume) and to the round's own key (what later branches start from).

`JobRun.execute()` returns once `runner.completed` or `runner.failed` is published - the bus then
acks the dispatch. It raises `CancelledError` when the runner releases the job on shutdown - the bus
then naks it, and the next runner resumes from the checkpoint of the last finished round.

Threads: everything here runs on the service loop except `_engine_side` and the two engine
callbacks, which run on the engine loop (`EngineThread`) and reach back only through
`call_soon_threadsafe` / `run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
from google.protobuf import json_format
from google.protobuf.message import Message
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus, EventMeta
from services.common.interceptors import ErrorReporter
from services.common.scheduled_events import ScheduledEvent
from services.common.storage import StorageError
from services.gpu_runner.backends import BackendHost, BackendUnavailable
from services.gpu_runner.engine import (
    CheckpointError,
    MarketSpec,
    ProgressEvent,
    SimulationConfig,
    SimulationRequest,
    SimulationResult,
    resume_simulation,
    run_simulation,
)
from services.gpu_runner.engine_thread import EngineThread
from services.gpu_runner.enrichment import Enrichment, enrich
from services.gpu_runner.llm import LLMError
from services.gpu_runner.outcomes import (
    PERMANENT,
    TRANSIENT,
    Timings,
    completed_event,
    failed_event,
)
from services.gpu_runner.progress import LiveState, ProgressPublisher, SeqClock
from services.gpu_runner.repository import JobStorage
from services.gpu_runner.settings import RunnerSettings, SearchSettings

log = logging.getLogger("swarmcast.gpu_runner.job")

# How long a released or cancelled run may take to stop its engine and finish a checkpoint upload.
STOP_WAIT_SECONDS = 10.0


@dataclass
class RunnerContext:
    """What every job of one runner shares."""

    bus: EventBus
    engine: EngineThread
    host: BackendHost
    http: httpx.AsyncClient
    runner: RunnerSettings
    search: SearchSettings
    instance_id: str
    gpu_provider: str
    gpu_hourly_usd: float
    errors: ErrorReporter | None = None


# What a job runs with when its route snapshot carries no forecast settings (0: a dispatch from
# before tier_settings existed): replicates are cheap on the heuristic backend, costly on an LLM.
DEFAULT_HEURISTIC_REPLICATES = 5
DEFAULT_LLM_REPLICATES = 1
DEFAULT_MARKET_SUBSIDY = SimulationConfig().market_subsidy


def simulation_config(
    dispatch: events_pb2.JobDispatch, heuristic: bool, prompt_tokens: int | None = None
) -> SimulationConfig:
    """Agents, rounds, replicates and market subsidy from the route snapshot (replicates per the
    backend that runs the job), randomness from the job's seed, an agent's prompt budget from the
    backend (None: the engine's default); ValueError if invalid."""
    route = dispatch.route
    if not dispatch.goal.strip():
        raise ValueError("the job has no goal")
    if route.target_agents < 1 or route.max_rounds < 1:
        raise ValueError(
            f"route {route.sim_tier!r} has target_agents={route.target_agents} and "
            f"max_rounds={route.max_rounds}; both must be >= 1"
        )
    if heuristic:
        replicates = route.heuristic_replicates or DEFAULT_HEURISTIC_REPLICATES
    else:
        replicates = route.replicates or DEFAULT_LLM_REPLICATES
    return SimulationConfig(
        agents=route.target_agents,
        rounds=route.max_rounds,
        seed=dispatch.random_seed,
        forecast_days=dispatch.forecast_days or 30,
        replicates=replicates,
        market_subsidy=route.market_subsidy or DEFAULT_MARKET_SUBSIDY,
        **({"prompt_tokens": prompt_tokens} if prompt_tokens else {}),
    )


def pinned_markets(dispatch: events_pb2.JobDispatch) -> tuple[MarketSpec, ...] | None:
    """The markets a re-dispatched job already showed its user, kept on a fresh start (every field
    of their markets_config rows: link, resolution, prior and kind included)."""
    rows: Any = json_format.MessageToDict(dispatch.markets) if dispatch.HasField("markets") else []
    if not rows:
        return None
    try:
        return tuple(MarketSpec.from_config(row) for row in rows)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"dispatch markets are malformed: {exc}") from exc


class JobRun:
    def __init__(self, ctx: RunnerContext, dispatch: events_pb2.JobDispatch, meta: EventMeta) -> None:
        self.ctx = ctx
        self.dispatch = dispatch
        self.meta = meta
        self.job_id = dispatch.job_id
        self.run_id = dispatch.run_id
        self.tier = meta.subject.rsplit(".", 1)[-1]
        # A redelivery means an earlier runner died or let go: its checkpoint is worth resuming.
        self.resume_wanted = dispatch.resume or meta.num_delivered > 1
        key = ctx.host.key_for(dispatch.route.model_id, dispatch.route.vllm_args)
        self.model_key = key
        self.state = LiveState(
            backend=ctx.host.name,
            model=key.model,
            pod_id=ctx.instance_id,
            attempt=dispatch.attempt or 1,
            log_lines=ctx.runner.log_lines,
            max_rounds=dispatch.route.max_rounds,
            agents=dispatch.route.target_agents,
        )
        self.state.extra.update(heuristic=ctx.host.name == "heuristic", delivery=meta.num_delivered)
        self.publisher = ProgressPublisher(
            ctx.bus,
            self.state,
            job_id=self.job_id,
            run_id=self.run_id,
            gpu_provider=ctx.gpu_provider,
            seq=SeqClock(),
            interval_s=ctx.runner.progress_interval_seconds,
            heartbeat_s=ctx.runner.heartbeat_seconds,
            keepalive=meta.working,
            keepalive_every_s=max(0.5, min(ctx.runner.ack_wait_seconds / 3.0, 10.0)),
        )
        self.picked_at = time.monotonic()
        self.ready_at: float | None = None
        self.checkpoint_round = -1
        self.cancel_reason: str | None = None
        self.releasing = False
        self._halt = False  # read by the engine thread: stop at the next callback
        self.finished = asyncio.Event()
        self.outcome: Message | None = None
        self._svc_loop = asyncio.get_running_loop()
        self._ckpt_lock = asyncio.Lock()
        self._body: asyncio.Task[Message] | None = None
        self._enrichment: Enrichment | None = None
        self._storage: JobStorage | None = None
        self.events = tuple(ScheduledEvent.from_proto(e) for e in dispatch.events)
        self.branch = dispatch.branch if dispatch.HasField("branch") else None
        if self.branch is not None:
            self.state.extra.update(branch_of=self.branch.parent_job_id, branch_round=self.branch.round)

    # --- control (service loop) --------------------------------------------------------------------
    def cancel(self, reason: str) -> None:
        """Stop the run (within a round) and report it failed with ``reason``."""
        if self.cancel_reason is None:
            self.cancel_reason = reason
            if self._body is not None:
                self._body.cancel()

    def release(self) -> None:
        """Shutdown: stop now and hand the dispatch back (nak) instead of reporting an outcome."""
        self.releasing = True
        if self._body is not None:
            self._body.cancel()

    def expected_remaining_seconds(self) -> float:
        eta = self.state.eta_seconds()
        return float("inf") if eta is None else eta

    @property
    def current_round(self) -> int:
        return self.state.round

    # --- the run -----------------------------------------------------------------------------------
    async def execute(self) -> None:
        self.publisher.start()
        self._body = asyncio.create_task(self._guarded_body(), name=f"job-{self.job_id}")
        if self.cancel_reason is not None or self.releasing:
            self._body.cancel()  # stopped before it started
        try:
            try:
                outcome = await self._body
            except asyncio.CancelledError:
                current = asyncio.current_task()
                shutting_down = current is not None and current.cancelling() > 0
                if self.releasing or shutting_down or self.cancel_reason is None:
                    # Raising CancelledError makes the bus nak the dispatch for prompt redelivery.
                    await self._release()
                    raise
                outcome = self._failed(PERMANENT, self.cancel_reason)
                self.publisher.note(f"stopped: {self.cancel_reason}")
            await self.publisher.close(final_flush=True)
            await self._publish(outcome)
        finally:
            await self.publisher.close(final_flush=False)
            self.finished.set()

    async def _publish(self, outcome: Message) -> None:
        self.outcome = outcome
        if isinstance(outcome, events_pb2.RunnerCompleted):
            subject, msg_id = subjects.runner_completed(self.job_id), f"runner-completed-{self.run_id}"
        else:
            subject, msg_id = subjects.runner_failed(self.job_id), f"runner-failed-{self.run_id}"
        await self.ctx.bus.publish(subject, outcome, msg_id=msg_id)
        log.info("job %s run %s: published %s", self.job_id, self.run_id, subject.split(".")[1])

    async def _release(self) -> None:
        """Shutdown: let a checkpoint upload in flight land, say so, and hand the job back."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_WAIT_SECONDS), self._ckpt_lock:
                pass  # the upload in flight, if any, has landed
        self.publisher.note(
            f"released by {self.ctx.instance_id} (shutting down); another runner resumes after "
            f"round {max(self.checkpoint_round, 0)}"
        )
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5.0):
                await self.publisher.close(final_flush=True)
        log.info("job %s run %s released at round %s", self.job_id, self.run_id, self.state.round)

    async def _guarded_body(self) -> Message:
        """The pipeline, with every failure turned into a classified `runner.failed`."""
        try:
            return await self._pipeline()
        except asyncio.CancelledError:
            raise
        except BackendUnavailable as exc:
            return self._failed(TRANSIENT, f"LLM backend unavailable: {exc}")
        except LLMError as exc:
            return self._failed(TRANSIENT, f"LLM backend failed: {exc}")
        except StorageError as exc:
            return self._failed(TRANSIENT, f"object storage failed: {exc}")
        except (OSError, MemoryError, httpx.TransportError) as exc:
            return self._failed(TRANSIENT, f"{type(exc).__name__}: {exc}")
        except ValueError as exc:
            return self._failed(PERMANENT, f"invalid job: {exc}")
        except Exception as exc:
            if self.ctx.errors is not None:
                self.ctx.errors.report(exc, job_id=self.job_id, request_path="runner.job")
            return self._failed(PERMANENT, f"internal error: {type(exc).__name__}: {exc}")

    def _failed(self, kind: int, reason: str) -> events_pb2.RunnerFailed:
        level = logging.INFO if self.cancel_reason else logging.WARNING
        log.log(level, "job %s run %s failed (%s): %s", self.job_id, self.run_id, kind, reason)
        return failed_event(
            self.dispatch,
            pod_id=self.ctx.instance_id,
            reason=reason,
            kind=kind,
            last_round=max(self.state.round if self.state.stage >= 3 else 0, self.checkpoint_round, 0),
        )

    async def _pipeline(self) -> events_pb2.RunnerCompleted:
        d = self.dispatch
        storage = self._storage = JobStorage(d.upload, self.ctx.http)
        config = simulation_config(
            d, heuristic=self.ctx.host.name == "heuristic", prompt_tokens=self.ctx.host.prompt_tokens
        )
        markets = pinned_markets(d)
        if self.ctx.host.name != "heuristic" and not self.model_key.model:
            raise ValueError("no model to run: the route has no model_id and SWARMCAST_LLM_MODEL is empty")
        checkpoint = await storage.get_checkpoint() if self.resume_wanted else None
        branch_start: bytes | None = None
        if self.branch is not None and checkpoint is None:
            branch_start = await storage.get_branch_checkpoint(self.branch)
        picked = (
            f"picked up by {self.ctx.instance_id} (attempt {self.state.attempt}, "
            f"delivery {self.meta.num_delivered})"
        )
        if checkpoint is not None:
            self.state.extra["resumed"] = True
            self.publisher.note(picked, f"resuming from the checkpoint ({len(checkpoint)} bytes)", stage=3)
        elif self.branch is not None:
            self.state.round = self.branch.round  # the live view starts where the parent was
            self.publisher.note(picked, self._branch_line(), stage=3)
        else:
            extra = ["no checkpoint found: starting over"] if self.resume_wanted else []
            self.publisher.note(picked, *extra, f"provisioning the {self.ctx.host.name} backend", force=True)
        await self.ctx.host.wait_ready(
            self.ctx.runner.llm_ready_timeout_seconds, self.ctx.runner.llm_probe_interval_seconds
        )
        engine_task = self.ctx.engine.submit(self._engine_side(config, markets, checkpoint, branch_start))
        try:
            result = await engine_task.result()
        except asyncio.CancelledError:
            self._halt = True
            engine_task.cancel()
            await engine_task.wait_stopped(STOP_WAIT_SECONDS)
            raise
        self.publisher.note(f"uploading {len(result.artifacts)} artifacts", stage=4)
        manifest = await storage.put_artifacts(result.artifacts)
        done_at = time.monotonic()
        ready_at = self.ready_at or done_at
        enrichment = self._enrichment
        return completed_event(
            d,
            result,
            manifest,
            pod_id=self.ctx.instance_id,
            backend=self.ctx.host.name,
            model_id=self.model_key.model,
            gpu_provider=self.ctx.gpu_provider,
            timings=Timings(
                provision_seconds=ready_at - self.picked_at,
                pipeline_seconds=done_at - ready_at,
                hourly_usd=self.ctx.gpu_hourly_usd,
            ),
            enriched_seed=(enrichment.enriched_seed or "") if enrichment else "",
            enrichment_citations=enrichment.citations_json() if enrichment else "",
        )

    def _branch_line(self) -> str:
        assert self.branch is not None
        injected = len(self.events)
        return (
            f"what-if branch of job {self.branch.parent_job_id}: resuming after its round "
            f"{self.branch.round} with {injected} injected event{'' if injected == 1 else 's'}"
        )

    # --- engine loop side --------------------------------------------------------------------------
    async def _engine_side(
        self,
        config: SimulationConfig,
        markets: tuple[MarketSpec, ...] | None,
        checkpoint: bytes | None,
        branch_start: bytes | None,
    ) -> SimulationResult:
        d = self.dispatch
        async with self.ctx.host.lease_on_engine(self.model_key) as backend:
            self._to_service(self._on_backend_ready)
            if checkpoint is not None:
                try:
                    return await resume_simulation(
                        checkpoint,
                        backend,
                        on_progress=self._engine_progress,
                        on_checkpoint=self._engine_checkpoint,
                    )
                except CheckpointError as exc:
                    again = "from the branch point" if self.branch is not None else "over"
                    self._to_service(self.publisher.note, f"checkpoint unusable ({exc}); starting {again}")
            if self.branch is not None:
                return await self._run_branch(backend, branch_start)
            enrichment: Enrichment | None = None
            if d.enrich_web:
                self._to_service(self.publisher.note, "enriching the seed through web search", stage=1)
                enrichment = await enrich(d.seed_text, d.goal, self.ctx.search, backend)
                self._to_service(self._on_enriched, enrichment)
            request = SimulationRequest(
                seed_text=d.seed_text,
                goal=d.goal,
                config=config,
                enriched_seed=enrichment.enriched_seed if enrichment else None,
                citations=tuple(h.url for h in enrichment.hits) if enrichment else (),
                markets=markets,
                events=self.events,
            )
            return await run_simulation(
                request, backend, on_progress=self._engine_progress, on_checkpoint=self._engine_checkpoint
            )

    async def _run_branch(self, backend: Any, start: bytes | None) -> SimulationResult:
        """Continue the parent's run from its round checkpoint with the injected events (engine loop).
        No events: the artifacts equal the parent's, byte for byte (heuristic backend)."""
        assert self.branch is not None and self._storage is not None
        if start is None:  # our own checkpoint was unusable: fetch the parent's now
            fetched = asyncio.run_coroutine_threadsafe(
                self._storage.get_branch_checkpoint(self.branch), self._svc_loop
            )
            start = await asyncio.wrap_future(fetched)
            self._to_service(self.publisher.note, self._branch_line())
        try:
            return await resume_simulation(
                start,
                backend,
                on_progress=self._engine_progress,
                on_checkpoint=self._engine_checkpoint,
                inject_events=self.events,
            )
        except CheckpointError as exc:
            # Permanent (a ValueError): the parent's checkpoint will not get any better.
            raise ValueError(
                f"the checkpoint of job {self.branch.parent_job_id} after round {self.branch.round} "
                f"is unusable: {exc}"
            ) from None

    def _to_service(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        self._svc_loop.call_soon_threadsafe(lambda: fn(*args, **kwargs))

    def _check_halt(self) -> None:
        # Besides task cancellation (which a library's wait_for may swallow), a stopped run
        # ends at its next callback, i.e. within the round.
        if self._halt:
            raise asyncio.CancelledError(f"job {self.job_id} stopped")

    def _engine_progress(self, event: ProgressEvent) -> None:
        self._check_halt()
        self._svc_loop.call_soon_threadsafe(self.publisher.engine_progress, event)

    async def _engine_checkpoint(self, round_no: int, data: bytes) -> None:
        self._check_halt()
        # The engine's checkpoint writer awaits this upload before handing over the next one (at
        # most one round behind: docs/runner.md). Shielded: a run being released still lets this
        # upload land (the next runner starts from it).
        future = asyncio.run_coroutine_threadsafe(self._save_checkpoint(round_no, data), self._svc_loop)
        await asyncio.shield(asyncio.wrap_future(future))

    # --- service loop callbacks --------------------------------------------------------------------
    def _on_backend_ready(self) -> None:
        self.ready_at = time.monotonic()
        self.state.provision_seconds = round(self.ready_at - self.picked_at, 3)
        self.publisher.note(f"{self.ctx.host.name} backend ready ({self.model_key.model})")

    def _on_enriched(self, enrichment: Enrichment) -> None:
        self._enrichment = enrichment
        self.state.extra["enrichment"] = enrichment.live()
        self.state.enriched_seed = enrichment.enriched_seed or ""
        self.state.enrichment_citations = enrichment.citations_json()
        line = f"enrichment {enrichment.status}"
        if enrichment.status == "done":
            line += f": {len(enrichment.hits)} sources, summarised by {enrichment.summarised_by}"
        elif enrichment.reason:
            line += f": {enrichment.reason}"
        self.publisher.note(line)

    async def _save_checkpoint(self, round_no: int, data: bytes) -> None:
        """The same bytes to the latest checkpoint and to the round's own key, side by side (so the
        round's copy adds no wait); each is best effort."""
        storage = self._storage
        assert storage is not None
        async with self._ckpt_lock:
            latest, kept = await asyncio.gather(
                storage.put_checkpoint(data),
                storage.put_round_checkpoint(round_no, data),
                return_exceptions=True,
            )
            if isinstance(kept, BaseException):  # costs the branches from this round, not the run
                log.warning("job %s: checkpoint of round %d not kept: %s", self.job_id, round_no, kept)
                self.publisher.note(f"checkpoint of round {round_no} not kept (no branch from it): {kept}")
            if isinstance(latest, BaseException):  # a missed checkpoint costs rounds on a crash
                log.warning("job %s: checkpoint after round %d not saved: %s", self.job_id, round_no, latest)
                self.publisher.note(f"checkpoint after round {round_no} not saved: {latest}")
                return
            self.checkpoint_round = max(self.checkpoint_round, round_no)
