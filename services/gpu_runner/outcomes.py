"""The two outcome events of a run: `runner.completed` and `runner.failed`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from swarmcast.events.v1 import events_pb2

from services.gpu_runner.engine import SimulationResult
from services.gpu_runner.progress import to_list_value, to_struct

TRANSIENT = events_pb2.FAILURE_KIND_TRANSIENT
PERMANENT = events_pb2.FAILURE_KIND_PERMANENT
CANCELLED_BY_USER = "cancelled by user"


@dataclass(frozen=True, slots=True)
class Timings:
    provision_seconds: float
    pipeline_seconds: float
    hourly_usd: float

    @property
    def gpu_cost_usd(self) -> float:
        # The GPU is held from pickup to the upload of the last artifact.
        hours = (self.provision_seconds + self.pipeline_seconds) / 3600.0
        return round(hours * self.hourly_usd, 6)


def completed_event(
    dispatch: events_pb2.JobDispatch,
    result: SimulationResult,
    manifest: dict[str, str],
    *,
    pod_id: str,
    backend: str,
    model_id: str,
    gpu_provider: str,
    timings: Timings,
    enriched_seed: str,
    enrichment_citations: str,
) -> events_pb2.RunnerCompleted:
    msg = events_pb2.RunnerCompleted(
        job_id=dispatch.job_id,
        run_id=dispatch.run_id,
        pod_id=pod_id,
        artifacts=manifest,
        bucket=dispatch.upload.bucket,
        result_graph=json.dumps(result.result_graph, ensure_ascii=False, separators=(",", ":")),
        markets=to_list_value(result.markets_config),
        provision_seconds=timings.provision_seconds,
        pipeline_seconds=timings.pipeline_seconds,
        gpu_provider=gpu_provider,
        gpu_cost_usd=timings.gpu_cost_usd,
        backend=backend,
        model_id=model_id,
        summary=to_struct(result.summary),
        forecast_days=dispatch.forecast_days,
        enriched_seed=enriched_seed,
        enrichment_citations=enrichment_citations,
    )
    msg.completed_at.FromDatetime(datetime.now(UTC))
    if dispatch.HasField("branch"):
        # The reporter compares a branch with its parent; the presigned URL is no business of theirs.
        msg.branch.CopyFrom(dispatch.branch)
        msg.branch.checkpoint_get_url = ""
    # No goal and no chat text on the bus (streams keep events 7 days): the jobs service reads
    # chat_log.json from object storage, the reporter takes the goal from market_curves.json.
    return msg


def failed_event(
    dispatch: events_pb2.JobDispatch, *, pod_id: str, reason: str, kind: int, last_round: int
) -> events_pb2.RunnerFailed:
    msg = events_pb2.RunnerFailed(
        job_id=dispatch.job_id,
        run_id=dispatch.run_id,
        pod_id=pod_id,
        reason=reason[:2000],
        kind=kind,  # type: ignore[arg-type]
        last_round=last_round,
    )
    msg.failed_at.FromDatetime(datetime.now(UTC))
    return msg
