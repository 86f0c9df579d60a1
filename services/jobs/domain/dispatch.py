"""Building a JobDispatch (pure: the caller supplies ids, URLs and the clock)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from swarmcast.events.v1 import events_pb2

from services.common.scheduled_events import ScheduledEvent
from services.jobs.domain.tier_settings import DEFAULT_TIER_SETTINGS


def dispatch_id(job_id: int) -> str:
    """The job's workflow_id: one per job, shared by all its attempts."""
    return f"sim-{job_id}"


def random_seed_for(job_id: int) -> int:
    """The simulation's random seed: fixed per job, so a resumed or repeated run is identical."""
    digest = hashlib.sha256(f"swarmcast-sim-{job_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


@dataclass(frozen=True, slots=True)
class RouteSnapshot:
    """A model_routing row and its tier's forecast settings as they were when the job was created
    (or launched); stored with each run (jobs.job_runs.route), so a re-dispatch runs the same.

    The settings' defaults are what a snapshot stored before they existed runs with.
    """

    sim_tier: str
    model_id: str
    gpu_type: str
    max_rounds: int
    target_agents: int
    vllm_args: str
    replicates: int = DEFAULT_TIER_SETTINGS.replicates
    heuristic_replicates: int = DEFAULT_TIER_SETTINGS.heuristic_replicates
    market_subsidy: float = DEFAULT_TIER_SETTINGS.market_subsidy

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> RouteSnapshot:
        """The snapshot of a job_runs.route JSON (keys it does not know are ignored)."""
        known = {f: stored[f] for f in cls.__dataclass_fields__ if f in stored}
        return cls(**known)

    def to_proto(self) -> events_pb2.RouteSnapshot:
        return events_pb2.RouteSnapshot(
            sim_tier=self.sim_tier,
            model_id=self.model_id,
            gpu_type=self.gpu_type,
            max_rounds=self.max_rounds,
            target_agents=self.target_agents,
            vllm_args=self.vllm_args,
            replicates=self.replicates,
            heuristic_replicates=self.heuristic_replicates,
            market_subsidy=self.market_subsidy,
        )

    @classmethod
    def from_proto(cls, route: events_pb2.RouteSnapshot) -> RouteSnapshot:
        return cls(
            sim_tier=route.sim_tier,
            model_id=route.model_id,
            gpu_type=route.gpu_type,
            max_rounds=route.max_rounds,
            target_agents=route.target_agents,
            vllm_args=route.vllm_args,
            replicates=route.replicates or DEFAULT_TIER_SETTINGS.replicates,
            heuristic_replicates=route.heuristic_replicates or DEFAULT_TIER_SETTINGS.heuristic_replicates,
            market_subsidy=route.market_subsidy or DEFAULT_TIER_SETTINGS.market_subsidy,
        )


@dataclass(frozen=True, slots=True)
class UploadUrls:
    bucket: str
    prefix: str
    put_urls: Mapping[str, str]
    checkpoint_put_url: str
    checkpoint_get_url: str
    expires_at: datetime
    # Index = round (0 = built): each round's checkpoint, kept for what-if branches.
    round_checkpoint_put_urls: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class BranchSource:
    """Where a what-if branch starts: its parent's checkpoint after `round`."""

    parent_job_id: int
    round: int
    checkpoint_get_url: str
    # The parent's result_structured "forecast" (None when its results carried none).
    parent_forecast: Mapping[str, Any] | None

    def to_proto(self) -> events_pb2.BranchSource:
        message = events_pb2.BranchSource(
            parent_job_id=self.parent_job_id, round=self.round, checkpoint_get_url=self.checkpoint_get_url
        )
        if self.parent_forecast:
            message.parent_forecast.update(dict(self.parent_forecast))
        return message


@dataclass(frozen=True, slots=True)
class DispatchJob:
    """The job fields a runner needs."""

    job_id: int
    seed_text: str
    goal: str
    tier: str
    enrich_web: bool
    forecast_days: int
    markets: list[Any] | None
    # The job's scheduled events (a branch's: the injected ones).
    events: Sequence[ScheduledEvent] = ()
    branch: BranchSource | None = None
    # A branch runs with its parent's seed; None: the job's own (`random_seed_for`).
    random_seed: int | None = None


def build_dispatch(
    job: DispatchJob,
    *,
    route: RouteSnapshot,
    run_id: str,
    attempt: int,
    resume: bool,
    upload: UploadUrls,
    now: datetime,
) -> events_pb2.JobDispatch:
    message = events_pb2.JobDispatch(
        dispatch_id=dispatch_id(job.job_id),
        run_id=run_id,
        job_id=job.job_id,
        seed_text=job.seed_text,
        goal=job.goal,
        tier=job.tier,
        enrich_web=job.enrich_web,
        forecast_days=job.forecast_days,
        route=route.to_proto(),
        upload=events_pb2.UploadTargets(
            bucket=upload.bucket,
            prefix=upload.prefix,
            put_urls=dict(upload.put_urls),
            checkpoint_put_url=upload.checkpoint_put_url,
            checkpoint_get_url=upload.checkpoint_get_url,
            round_checkpoint_put_urls=list(upload.round_checkpoint_put_urls),
        ),
        resume=resume,
        attempt=attempt,
        random_seed=random_seed_for(job.job_id) if job.random_seed is None else job.random_seed,
        events=[event.to_proto(events_pb2.ScheduledEvent) for event in job.events],
    )
    if job.branch is not None:
        message.branch.CopyFrom(job.branch.to_proto())
    message.upload.expires_at.FromDatetime(upload.expires_at)
    message.dispatched_at.FromDatetime(now)
    if job.markets:
        message.markets.extend(job.markets)
    return message
