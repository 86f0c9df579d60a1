"""Builders for the scheduled-event, branch and interview tests: a COMPLETED job with the results,
artifacts and checkpoints a real run leaves, and counts of the rows a refusal must not write."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from swarmcast.events.v1 import events_pb2

from services.common.scheduled_events import ScheduledEvent
from services.jobs.app import JobsApp
from services.jobs.domain.artifacts import checkpoint_key, round_checkpoint_key
from services.jobs.domain.state_machine import JobStatus
from services.jobs.models import SimulationJob
from services.jobs.runtime_models import OutboxMessage
from services.jobs.tests.jobs_helpers import (
    SEED,
    apply,
    identity,
    job_fields,
    successful_history,
    upload_artifacts,
)
from services.jobs.whatif_models import JobBranchRow, JobEventsRow, JobInterviewRow

ROUNDS = 15  # the seeded small tier's max_rounds
# What the reporter's result_structured holds that branches and interviews read.
STRUCTURED: dict[str, Any] = {
    "forecast": {
        "goal": {
            "market_id": "m1",
            "probability": 0.62,
            "interval": [0.48, 0.74],
            "level": 0.8,
            "replicates": 5,
            "market": 0.6,
            "belief": 0.63,
        },
        "markets": {"m1": {"probability": 0.62, "interval": [0.48, 0.74], "market": 0.6, "belief": 0.63}},
        "method": "replicate mean",
    },
    "scale": {"rounds": ROUNDS, "agents": 10},
    "coalitions": [
        {
            "id": "c1",
            "label": "YES camp",
            "camp": "yes",
            "size": 2,
            "members": [
                {"agent_id": 2, "name": "Mara Quist", "probability": 0.71},
                {"agent_id": 5, "name": "Port Authority", "probability": 0.66},
            ],
        }
    ],
}


async def complete_job(
    app: JobsApp,
    user: int = 1,
    *,
    seed: str = SEED,
    events: Sequence[ScheduledEvent] = (),
    structured: dict[str, Any] | None = None,
    round_checkpoints: Iterable[int] = range(ROUNDS + 1),
    checkpoint: bytes | None = b"final checkpoint",
) -> SimulationJob:
    """A job taken through a whole successful run: artifacts, report, and the checkpoints the
    runner PUTs (each round's under checkpoints/, the latest under checkpoint)."""
    job = await app.core.create_job(identity(user), job_fields(seed), events)
    await complete_run(
        app, job, structured=structured, round_checkpoints=round_checkpoints, checkpoint=checkpoint
    )
    return job


async def complete_run(
    app: JobsApp,
    job: SimulationJob,
    *,
    structured: dict[str, Any] | None = None,
    round_checkpoints: Iterable[int] = range(ROUNDS + 1),
    checkpoint: bytes | None = b"final checkpoint",
) -> None:
    await upload_artifacts(app.store, job.id)
    for event in successful_history(job.id, job.workflow_run_id or ""):
        if isinstance(event, events_pb2.ReporterCompleted):
            event.result_structured = json.dumps(STRUCTURED if structured is None else structured)
        await apply(app.handlers, event)
    for r in round_checkpoints:
        await app.store.put_bytes(round_checkpoint_key(job.id, r), f"after round {r}".encode())
    if checkpoint is not None:
        await app.store.put_bytes(checkpoint_key(job.id), checkpoint)
    async with app.sessions() as session:
        status = (
            await session.execute(select(SimulationJob.status).where(SimulationJob.id == job.id))
        ).scalar_one()
    assert status is JobStatus.COMPLETED


async def counts(app: JobsApp) -> dict[str, int]:
    """Rows a refused request must leave as they were."""
    out = {}
    async with app.sessions() as session:
        for model in (SimulationJob, OutboxMessage, JobEventsRow, JobBranchRow, JobInterviewRow):
            out[model.__tablename__] = int(
                (await session.execute(select(func.count()).select_from(model))).scalar_one()
            )
    return out


def event(day: int, headline: str = "Mediator appointed", *, favours: str = "yes", text: str = "") -> Any:
    return events_pb2.ScheduledEvent(day=day, headline=headline, text=text, favours=favours)
