"""Rows → protobuf messages of swarmcast.jobs.v1 (pure; no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Value
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Row
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.common import scoring
from services.common.scheduled_events import ScheduledEvent
from services.jobs.domain.listing import JobSort
from services.jobs.domain.outcomes import Resolution, TrackRecord
from services.jobs.domain.state_machine import JobStatus
from services.jobs.domain.tier_settings import SETTING_NAMES, TierSettings
from services.jobs.domain.validation import ValidationError
from services.jobs.interviews import answer_from_dict
from services.jobs.models import ErrorEvent, ModelRouting, SimulationJob
from services.jobs.outcomes import OutcomeView
from services.jobs.whatif_models import JobInterviewRow

_STATUS_TO_PROTO: dict[JobStatus, int] = {
    s: jobs_pb2.JobStatus.Value(f"JOB_STATUS_{s.value}") for s in JobStatus
}
_PROTO_TO_STATUS: dict[int, JobStatus] = {v: k for k, v in _STATUS_TO_PROTO.items()}

# Optional scalar columns copied as they are when set.
_OPTIONAL_FIELDS = (
    "goal", "tier", "pipeline_stage", "error_message", "gpu_provider", "gpu_cost_usd", "pod_id",
    "celery_task_id", "workflow_id", "workflow_run_id", "retry_of", "provision_seconds",
    "pipeline_seconds", "key_insight", "enriched_seed", "enrichment_citations",
    "forecast_days", "resume_task_id",
)  # fmt: skip
HEAVY_FIELDS = ("result_report", "result_chat_log", "result_graph", "result_structured")


_SORT_FROM_PROTO: dict[int, JobSort | None] = {
    jobs_pb2.JOB_SORT_UNSPECIFIED: None,
    jobs_pb2.JOB_SORT_NEWEST: JobSort.NEWEST,
    jobs_pb2.JOB_SORT_OLDEST: JobSort.OLDEST,
    jobs_pb2.JOB_SORT_PROBABILITY_HIGH: JobSort.PROBABILITY_HIGH,
    jobs_pb2.JOB_SORT_PROBABILITY_LOW: JobSort.PROBABILITY_LOW,
}


def sort_from_proto(value: int) -> JobSort | None:
    """None for JOB_SORT_UNSPECIFIED (newest first); an unknown number is refused."""
    if value not in _SORT_FROM_PROTO:
        raise ValidationError("sort", "sort must be newest, oldest, probability_high or probability_low")
    return _SORT_FROM_PROTO[value]


def status_to_proto(status: JobStatus) -> int:
    return _STATUS_TO_PROTO[JobStatus(status)]


def status_from_proto(value: int) -> JobStatus | None:
    """None for JOB_STATUS_UNSPECIFIED (and unknown numbers): 'no filter'."""
    return _PROTO_TO_STATUS.get(value)


def _set_ts(target: Timestamp, value: datetime | None) -> None:
    if value is not None:
        target.FromDatetime(value)


def _to_value(data: Any) -> Value:
    return json_format.ParseDict(data, Value())


# A model instance or a plain row of simulation_jobs (both read like `job.status`).
JobLike = SimulationJob | Row[Any]


# The goal's headline forecast: read beside the row (repository's outer join on job_forecasts);
# a model instance has none of these attributes and shows no forecast.
_FORECAST_FIELDS = ("forecast_probability", "forecast_low", "forecast_high")
# Scheduled events and what-if links, read beside the row too (job_events, job_branches).
_WHATIF_FIELDS = ("branch_of", "branch_round", "branch_count")


def events_to_proto(events: Sequence[Mapping[str, Any]] | None) -> list[events_pb2.ScheduledEvent]:
    """Stored events (`ScheduledEvent.to_dict()`), in day order."""
    checked = sorted((ScheduledEvent.from_dict(e) for e in events or ()), key=lambda e: e.day)
    return [e.to_proto(events_pb2.ScheduledEvent) for e in checked]


def job_to_proto(
    job: JobLike,
    *,
    light: bool = False,
    queue_position: int | None = None,
    queue_estimate_seconds: int | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
) -> jobs_pb2.Job:
    """The job as the API shows it to its owner; `light` leaves the large result_* fields out.
    The queue fields are given for a PENDING job only (`JobsCore.queue_spots`). Events and what-if
    links come with a row the repository read; `events` gives them for a model instance."""
    message = jobs_pb2.Job(
        id=job.id,
        user_id=job.user_id,
        seed_text=job.seed_text,
        credits_charged=job.credits_charged or 0,
        status=status_to_proto(job.status),  # type: ignore[arg-type]
        retry_count=job.retry_count or 0,
        enrich_web=bool(job.enrich_web),
        sim_data_available=bool(job.sim_data_available),
        # The column holds the token's digest: say only whether a link is live.
        shared=job.share_token is not None,
    )
    for name in _OPTIONAL_FIELDS:
        value = getattr(job, name)
        if value is not None:
            setattr(message, name, value)
    for name in (*_FORECAST_FIELDS, *_WHATIF_FIELDS):
        value = getattr(job, name, None)
        if value is not None:
            setattr(message, name, value)
    message.events.extend(events_to_proto(getattr(job, "events", None) if events is None else events))
    if queue_position is not None:
        message.queue_position = queue_position
    if queue_estimate_seconds is not None:
        message.queue_estimate_seconds = queue_estimate_seconds
    if not light:
        for name in HEAVY_FIELDS:
            value = getattr(job, name)
            if value is not None:
                setattr(message, name, value)
    _set_ts(message.created_at, job.created_at)
    _set_ts(message.completed_at, job.completed_at)
    _set_ts(message.last_heartbeat, job.last_heartbeat)
    if job.live_status is not None:
        message.live_status.update(job.live_status)
    if job.markets_config is not None:
        message.markets_config.CopyFrom(_to_value(job.markets_config))
    return message


def shared_job_to_proto(job: JobLike) -> jobs_pb2.SharedJob:
    """The public, read-only view: no user id, email, share token or run identifiers."""
    message = jobs_pb2.SharedJob(id=job.id, status=status_to_proto(job.status))  # type: ignore[arg-type]
    for name in (
        "goal", "tier", "forecast_days", "result_report", "result_graph", "result_structured",
        "result_chat_log", "key_insight",
    ):  # fmt: skip
        value = getattr(job, name)
        if value is not None:
            setattr(message, name, value)
    _set_ts(message.created_at, job.created_at)
    _set_ts(message.completed_at, job.completed_at)
    if job.markets_config is not None:
        message.markets_config.CopyFrom(_to_value(job.markets_config))
    return message


def interview_to_proto(row: JobInterviewRow) -> jobs_pb2.Interview:
    message = jobs_pb2.Interview(
        id=row.id,
        job_id=row.job_id,
        question=row.question,
        target=row.target,
        answers=[answer_from_dict(a) for a in row.answers or []],
        backend=row.backend,
        model_id=row.model_id,
        left_out=row.left_out,
    )
    _set_ts(message.created_at, row.created_at)
    return message


def route_to_proto(route: ModelRouting, settings: TierSettings) -> jobs_pb2.ModelRoute:
    """The route with the tier's forecast settings in effect (always set)."""
    message = jobs_pb2.ModelRoute(
        id=route.id,
        sim_tier=route.sim_tier,
        model_id=route.model_id,
        gpu_type=route.gpu_type,
        max_rounds=route.max_rounds,
        target_agents=route.target_agents,
        replicates=settings.replicates,
        heuristic_replicates=settings.heuristic_replicates,
        market_subsidy=settings.market_subsidy,
    )
    if route.vllm_args is not None:
        message.vllm_args = route.vllm_args
    return message


def route_from_proto(route: jobs_pb2.ModelRoute) -> dict[str, Any]:
    return {
        "sim_tier": route.sim_tier,
        "model_id": route.model_id,
        "gpu_type": route.gpu_type,
        "max_rounds": route.max_rounds,
        "target_agents": route.target_agents,
        "vllm_args": route.vllm_args if route.HasField("vllm_args") else None,
        # Unset forecast settings keep their current value (None).
        **{name: getattr(route, name) if route.HasField(name) else None for name in SETTING_NAMES},
    }


def error_event_to_proto(event: ErrorEvent) -> jobs_pb2.ErrorEvent:
    message = jobs_pb2.ErrorEvent(id=event.id, level=event.level, source=event.source, message=event.message)
    _set_ts(message.timestamp, event.timestamp)
    for name in ("traceback", "user_id", "job_id", "request_path"):
        value = getattr(event, name)
        if value is not None:
            setattr(message, name, value)
    return message


# --- outcomes ----------------------------------------------------------------------------------

_RESOLUTION_TO_PROTO: dict[Resolution, jobs_pb2.Resolution] = {
    r: cast("jobs_pb2.Resolution", jobs_pb2.Resolution.Value(f"RESOLUTION_{r.value}")) for r in Resolution
}
_PROTO_TO_RESOLUTION: dict[int, Resolution] = {v: k for k, v in _RESOLUTION_TO_PROTO.items()}


def resolution_from_proto(value: int) -> Resolution | None:
    """None for RESOLUTION_UNSPECIFIED and unknown numbers."""
    return _PROTO_TO_RESOLUTION.get(value)


def resolution_to_proto(value: str) -> jobs_pb2.Resolution:
    return _RESOLUTION_TO_PROTO[Resolution(value)]


def _timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def outcome_to_proto(view: OutcomeView) -> jobs_pb2.JobOutcome:
    o = view.outcome
    return jobs_pb2.JobOutcome(
        job_id=o.job_id,
        outcome=resolution_to_proto(o.outcome),
        resolved_on=o.resolved_on.isoformat(),
        source_url=o.source_url or "",
        recorded_at=_timestamp(o.recorded_at),
        updated_at=_timestamp(o.updated_at),
        editable_until=_timestamp(o.editable_until),
        editable=view.editable,
        markets=[
            jobs_pb2.MarketScore(
                market_id=m.market_id,
                question=m.question,
                outcome=resolution_to_proto(m.outcome),
                is_goal=m.is_goal,
                probability=m.probability,
                opening_price=m.opening_price,
                brier=m.brier,
                log_score=m.log_score,
                opening_brier=m.opening_brier,
                opening_log_score=m.opening_log_score,
            )
            for m in view.markets
        ],
        agents=[
            jobs_pb2.AgentSettlement(
                agent_id=a["agent_id"],
                name=a["name"],
                cash=a["cash"],
                settled_cash=a["settled_cash"],
                pnl=a["pnl"],
            )
            for a in o.settlement.get("agents", [])
        ],
    )


def score_summary_to_proto(summary: scoring.ScoreSummary) -> jobs_pb2.ScoreSummary:
    return jobs_pb2.ScoreSummary(
        count=summary.count,
        brier=summary.brier,
        log_score=summary.log_score,
        sharpness=summary.sharpness,
        ece=summary.ece,
        calibration=[
            jobs_pb2.CalibrationBin(
                lower=b.lower,
                upper=b.upper,
                count=b.count,
                mean_forecast=b.mean_forecast,
                observed=b.observed,
            )
            for b in summary.calibration
        ],
    )


def track_record_to_proto(record: TrackRecord, *, all_users: bool) -> jobs_pb2.GetTrackRecordResponse:
    return jobs_pb2.GetTrackRecordResponse(
        resolved=record.resolved,
        annulled=record.annulled,
        forecast=score_summary_to_proto(record.forecast),
        opening_price=score_summary_to_proto(record.opening_price),
        entries=[
            jobs_pb2.TrackRecordEntry(
                job_id=g.job_id,
                goal=g.goal,
                outcome=resolution_to_proto(g.outcome),
                resolved_on=g.resolved_on.isoformat(),
                probability=g.probability,
                opening_price=g.opening_price,
                brier=scoring.brier(g.probability, g.outcome.happened) if g.outcome.scored else None,
                log_score=scoring.log_score(g.probability, g.outcome.happened) if g.outcome.scored else None,
                opening_brier=scoring.brier(g.opening_price, g.outcome.happened)
                if g.outcome.scored
                else None,
            )
            for g in record.entries
        ],
        markets_resolved=record.markets_resolved,
        markets_brier=record.markets_brier,
        all_users=all_users,
    )
