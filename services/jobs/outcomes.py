"""Outcome use cases: ResolveJob, GetOutcome and GetTrackRecord, independent of gRPC.

The rules are in `domain.outcomes`; this module reads the job and its artifacts, checks the
resolution, and writes the outcome with its settlement and scores in one transaction (so a refused
resolution writes nothing). Another user's job is NotFound, as everywhere in this service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import FailedPrecondition
from services.common.identity import Identity
from services.common.storage import ObjectNotFound, ObjectStore
from services.jobs import repository as repo
from services.jobs.domain import outcomes as rules
from services.jobs.domain.artifacts import artifact_key
from services.jobs.domain.state_machine import JobStatus
from services.jobs.domain.visibility import job_not_found
from services.jobs.outcome_models import JobOutcomeRow, MarketOutcomeRow

# Replicate 0's agents and trades settle; market_curves gives the closing prices.
SETTLEMENT_ARTIFACTS = ("profiles.json", "trades.json", "market_curves.json")


@dataclass(frozen=True, slots=True)
class OutcomeView:
    outcome: JobOutcomeRow
    markets: list[MarketOutcomeRow]
    editable: bool


class Outcomes:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession],
        store: ObjectStore,
    ) -> None:
        self.sessions = sessions
        self.readers = readers
        self.store = store

    async def _artifacts(self, job_id: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in SETTLEMENT_ARTIFACTS:
            try:
                out[name] = json.loads(await self.store.get_bytes(artifact_key(job_id, name)))
            except ObjectNotFound:
                raise FailedPrecondition(
                    f"job {job_id}'s simulation data is gone ({name}): its markets cannot settle"
                ) from None
        return out

    async def resolve(self, identity: Identity, job_id: int, given: rules.ResolutionInput) -> OutcomeView:
        # Everything that can refuse is checked before the artifacts are read and anything written.
        async with self.readers() as session:
            job = await repo.get_job(session, job_id, user_id=identity.user_id, light=False)
            if job is None:
                raise job_not_found(job_id)
            now = await repo.database_now(session)
            existing = await repo.get_outcome(session, job_id)
        if job.status != JobStatus.COMPLETED:
            raise FailedPrecondition(
                f"job {job_id} is {job.status}: only a COMPLETED job's outcome can be recorded"
            )
        if existing is not None and now > existing[0].editable_until:
            raise FailedPrecondition(
                f"job {job_id}'s outcome was fixed on {existing[0].editable_until:%Y-%m-%d} "
                f"(outcomes can be corrected for {rules.EDIT_WINDOW.days} days)"
            )
        try:
            markets = rules.forecasts_of(job.result_structured, job.markets_config)
        except rules.UnscorableJob as exc:
            raise FailedPrecondition(f"job {job_id} cannot be scored: {exc}") from None
        checked = rules.check_resolution(given, markets, created_on=job.created_at.date(), today=now.date())
        if not job.sim_data_available:
            raise FailedPrecondition(f"job {job_id}'s simulation data is not available")
        artifacts = await self._artifacts(job_id)
        settlement = rules.settle(
            artifacts["profiles.json"],
            artifacts["trades.json"],
            rules.closing_prices(artifacts["market_curves.json"]),
            checked.outcomes,
        )
        scores = rules.score_markets(markets, checked.outcomes)
        async with self.sessions() as session, session.begin():
            # the row lock serialises two edits of the same job; the window is checked again under it
            current = await repo.get_outcome(session, job_id, for_update=True)
            now = await repo.database_now(session)
            if current is not None and now > current[0].editable_until:
                raise FailedPrecondition(f"job {job_id}'s outcome is fixed")
            await repo.save_outcome(
                session,
                {
                    "job_id": job_id,
                    "user_id": job.user_id,
                    "outcome": checked.outcomes[next(m.market_id for m in markets if m.is_goal)].value,
                    "resolved_on": checked.resolved_on,
                    "source_url": checked.source_url,
                    "settlement": settlement,
                    "editable_until": rules.editable_until(now),
                },
                [
                    {
                        "market_id": s.market_id,
                        "question": s.question,
                        "is_goal": s.is_goal,
                        "outcome": s.outcome.value,
                        "probability": s.probability,
                        "opening_price": s.opening_price,
                        "brier": s.brier,
                        "log_score": s.log_score,
                        "opening_brier": s.opening_brier,
                        "opening_log_score": s.opening_log_score,
                    }
                    for s in scores
                ],
            )
            saved = await repo.get_outcome(session, job_id)
            assert saved is not None
        return OutcomeView(saved[0], saved[1], editable=now <= saved[0].editable_until)

    async def get(self, identity: Identity, job_id: int) -> OutcomeView | None:
        """The job's outcome, or None while none is recorded."""
        async with self.readers() as session:
            job = await repo.read_job(session, job_id, user_id=identity.user_id, light=True)
            if job is None:
                raise job_not_found(job_id)
            found = await repo.get_outcome(session, job_id)
            now = await repo.database_now(session)
        if found is None:
            return None
        return OutcomeView(found[0], found[1], editable=now <= found[0].editable_until)

    async def track_record(self, identity: Identity, *, all_users: bool) -> rules.TrackRecord:
        async with self.readers() as session:
            rows = await repo.resolved_markets(session, None if all_users else identity.user_id)
        goals = []
        market_briers = []
        for market, resolved_on, goal in rows:
            if market.brier is not None:
                market_briers.append(market.brier)
            if market.is_goal:
                goals.append(
                    rules.GoalRecord(
                        job_id=market.job_id,
                        goal=goal or market.question,
                        outcome=rules.Resolution(market.outcome),
                        resolved_on=resolved_on,
                        probability=market.probability,
                        opening_price=market.opening_price,
                    )
                )
        return rules.track_record(goals, market_briers)
