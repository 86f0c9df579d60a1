"""Rows → protobuf messages of swarmcast.jobs.v1 (pure; no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Value
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Row
from swarmcast.jobs.v1 import jobs_pb2

from services.jobs.domain.state_machine import JobStatus
from services.jobs.domain.tier_settings import SETTING_NAMES, TierSettings
from services.jobs.models import ErrorEvent, ModelRouting, SimulationJob

_STATUS_TO_PROTO: dict[JobStatus, int] = {
    s: jobs_pb2.JobStatus.Value(f"JOB_STATUS_{s.value}") for s in JobStatus
}
_PROTO_TO_STATUS: dict[int, JobStatus] = {v: k for k, v in _STATUS_TO_PROTO.items()}

# Optional scalar columns copied as they are when set.
_OPTIONAL_FIELDS = (
    "goal", "tier", "pipeline_stage", "error_message", "gpu_provider", "gpu_cost_usd", "pod_id",
    "celery_task_id", "workflow_id", "workflow_run_id", "retry_of", "provision_seconds",
    "pipeline_seconds", "key_insight", "share_token", "enriched_seed", "enrichment_citations",
    "forecast_days", "resume_task_id",
)  # fmt: skip
HEAVY_FIELDS = ("result_report", "result_chat_log", "result_graph", "result_structured")


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


def job_to_proto(job: JobLike, *, light: bool = False) -> jobs_pb2.Job:
    """The job as the API shows it to its owner; `light` leaves the large result_* fields out."""
    message = jobs_pb2.Job(
        id=job.id,
        user_id=job.user_id,
        seed_text=job.seed_text,
        credits_charged=job.credits_charged or 0,
        status=status_to_proto(job.status),  # type: ignore[arg-type]
        retry_count=job.retry_count or 0,
        enrich_web=bool(job.enrich_web),
        sim_data_available=bool(job.sim_data_available),
    )
    for name in _OPTIONAL_FIELDS:
        value = getattr(job, name)
        if value is not None:
            setattr(message, name, value)
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
