"""SQL of the jobs service. Every function takes the caller's session; the caller owns the transaction.

Status writes go through `apply_change`, a compare-and-set:
`UPDATE … WHERE id = :id AND status IN (<allowed sources>) [AND workflow_run_id = :run]`, so a late,
duplicated or out-of-order event can neither revive a terminal job nor move one backwards, and
an event of a superseded attempt changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import Sequence as SqlSequence
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased, defer

from services.common import subjects
from services.jobs.domain.events import RowChange
from services.jobs.domain.fair_use import ON_RUNNER, UserCounts, Waiting
from services.jobs.domain.listing import RUN_TIME_SAMPLE, JobSort, ListQuery, headline_of, like_pattern
from services.jobs.domain.pagination import Page
from services.jobs.domain.sharing import share_token_digest
from services.jobs.domain.state_machine import LIVE, JobStatus, allowed_sources
from services.jobs.domain.validation import JobSpec, is_valid_job_id
from services.jobs.listing_models import JobForecastRow, JobRunTimeRow
from services.jobs.models import ErrorEvent, ModelRouting, SimulationJob
from services.jobs.outcome_models import JobOutcomeRow, MarketOutcomeRow
from services.jobs.runtime_models import ConsumedMessage, JobRun, OutboxMessage
from services.jobs.tier_models import TierSettingsRow
from services.jobs.whatif_models import JobBranchRow, JobEventsRow, JobInterviewRow

J = SimulationJob
_STATUS_TYPE = J.__table__.c.status.type
# Large text columns left out of lists and watch updates (proto: "List and watch responses leave
# the large result_* fields empty").
HEAVY_COLUMNS = (J.result_report, J.result_chat_log, J.result_graph, J.result_structured)


# Hot read paths (GetJob, WatchJob, ListJobs) select plain rows: no ORM identity map or instance
# construction, which costs more than the query itself. A Row reads like the model (row.status).
JobRow = Row[Any]
_ALL_COLUMNS = tuple(J.__table__.c)
_LIGHT_COLUMNS = tuple(c for c in J.__table__.c if c.key not in {h.key for h in HEAVY_COLUMNS})
F = JobForecastRow
# The goal's headline forecast (jobs.job_forecasts), read beside the row under the proto's names.
_FORECAST_COLUMNS: tuple[Any, ...] = (
    F.probability.label("forecast_probability"),
    F.interval_low.label("forecast_low"),
    F.interval_high.label("forecast_high"),
)
B = JobBranchRow
_CHILD = aliased(JobBranchRow, name="child_branches")
# For filters in WHERE (the row's own link B is outer-joined in the same statement).
_LINK = aliased(JobBranchRow, name="branch_link")
# Scheduled events and what-if links (jobs.job_events, jobs.job_branches), under the proto's names.
# branch_count is a correlated count over ix_job_branches_parent_job_id.
_WHATIF_COLUMNS: tuple[Any, ...] = (
    JobEventsRow.events.label("events"),
    B.parent_job_id.label("branch_of"),
    B.branch_round.label("branch_round"),
    select(func.count())
    .select_from(_CHILD)
    .where(_CHILD.parent_job_id == J.id)
    .correlate(J)
    .scalar_subquery()
    .label("branch_count"),
)
_ALL_WITH_FORECAST: tuple[Any, ...] = (*_ALL_COLUMNS, *_FORECAST_COLUMNS, *_WHATIF_COLUMNS)
_LIGHT_WITH_FORECAST: tuple[Any, ...] = (*_LIGHT_COLUMNS, *_FORECAST_COLUMNS, *_WHATIF_COLUMNS)


def _with_extras(stmt: Any) -> Any:
    """The outer joins the extra columns above read from."""
    return (
        stmt.outerjoin(F, F.job_id == J.id)
        .outerjoin(JobEventsRow, JobEventsRow.job_id == J.id)
        .outerjoin(B, B.job_id == J.id)
    )


def _status(value: JobStatus) -> Any:
    return literal(value.value, type_=_STATUS_TYPE)


# --- reading jobs ------------------------------------------------------------------------------


async def get_job(
    session: AsyncSession,
    job_id: int,
    *,
    user_id: str | None = None,
    light: bool = False,
    for_update: bool = False,
) -> SimulationJob | None:
    """The job, or None when it does not exist or (with `user_id`) belongs to someone else."""
    if not is_valid_job_id(job_id):
        return None
    stmt = select(J).where(J.id == job_id).execution_options(populate_existing=True)
    if user_id is not None:
        stmt = stmt.where(J.user_id == user_id)
    if light:
        stmt = stmt.options(*(defer(c) for c in HEAVY_COLUMNS))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def read_job(
    session: AsyncSession, job_id: int, *, user_id: str | None = None, light: bool = False
) -> JobRow | None:
    """A read-only snapshot of the job (see get_job), as a plain row."""
    if not is_valid_job_id(job_id):
        return None
    stmt = _with_extras(select(*(_LIGHT_WITH_FORECAST if light else _ALL_WITH_FORECAST))).where(
        J.id == job_id
    )
    if user_id is not None:
        stmt = stmt.where(J.user_id == user_id)
    return (await session.execute(stmt)).one_or_none()


# --- the single-job read (GetJob, WatchJob) ----------------------------------------------------
# One prebuilt Core statement on a plain connection: the job's row and its extras. No Session, no
# ORM compile, one round trip; the statement's compiled form is cached once (bound parameters only).
# A PENDING job's place in the queue comes from the service's queue board (one query per tier).
_JT = J.__table__
_FT = JobForecastRow.__table__
_ET = JobEventsRow.__table__
_BT = B.__table__
_CHILD_BRANCH = _BT.alias("child_branches")


def _single_job_statement(columns: Sequence[Any]) -> Any:
    return (
        select(
            *columns,
            _FT.c.probability.label("forecast_probability"),
            _FT.c.interval_low.label("forecast_low"),
            _FT.c.interval_high.label("forecast_high"),
            _ET.c.events.label("events"),
            _BT.c.parent_job_id.label("branch_of"),
            _BT.c.branch_round.label("branch_round"),
            select(func.count())
            .select_from(_CHILD_BRANCH)
            .where(_CHILD_BRANCH.c.parent_job_id == _JT.c.id)
            .correlate(_JT)
            .scalar_subquery()
            .label("branch_count"),
        )
        .select_from(
            _JT.outerjoin(_FT, _FT.c.job_id == _JT.c.id)
            .outerjoin(_ET, _ET.c.job_id == _JT.c.id)
            .outerjoin(_BT, _BT.c.job_id == _JT.c.id)
        )
        .where(_JT.c.id == bindparam("job_id"), _JT.c.user_id == bindparam("user_id"))
    )


_READ_FULL = _single_job_statement(_ALL_COLUMNS)
_READ_LIGHT = _single_job_statement(_LIGHT_COLUMNS)


async def read_owned_job(conn: AsyncConnection, job_id: int, user_id: str, *, light: bool) -> JobRow | None:
    """The user's job as `read_job` reads it (None when it is not theirs)."""
    if not is_valid_job_id(job_id):
        return None
    stmt = _READ_LIGHT if light else _READ_FULL
    return (await conn.execute(stmt, {"job_id": job_id, "user_id": user_id})).one_or_none()


async def get_by_share_token(session: AsyncSession, token: str) -> JobRow | None:
    """The COMPLETED job shared with `token` (the column holds its digest, never the token)."""
    digest = share_token_digest(token)
    stmt = select(*_ALL_COLUMNS).where(J.share_token == digest, J.status == _status(JobStatus.COMPLETED))
    return (await session.execute(stmt)).one_or_none()


def _list_order(sort: JobSort) -> tuple[ColumnElement[Any], ...]:
    if sort is JobSort.OLDEST:
        return (J.created_at.asc(), J.id.asc())
    if sort is JobSort.PROBABILITY_HIGH:
        return (F.probability.desc().nulls_last(), J.id.desc())
    if sort is JobSort.PROBABILITY_LOW:
        return (F.probability.asc().nulls_last(), J.id.desc())
    return (J.created_at.desc(), J.id.desc())


async def list_jobs(
    session: AsyncSession,
    user_id: str,
    page: Page,
    status: JobStatus | None,
    query: ListQuery | None = None,
    *,
    branch_of: int | None = None,
) -> tuple[list[JobRow], int]:
    """A user's jobs in `query`'s order (newest first by default), without originals that were
    superseded by a retry; `query.text` filters by goal (or names a job id). The total counts
    the filtered jobs. The user's rows come from ix_simulation_jobs_user_id; the search and the
    forecast order are applied to those rows only. `branch_of` keeps only the what-if branches of
    that job."""
    query = query or ListQuery()
    retry = aliased(J)
    superseded = exists().where(retry.retry_of == J.id, retry.user_id == J.user_id)
    conditions: list[ColumnElement[bool]] = [J.user_id == user_id, ~superseded]
    if status is not None:
        conditions.append(J.status == _status(status))
    if query.text is not None:
        found = J.goal.ilike(like_pattern(query.text), escape="\\")
        conditions.append(or_(found, J.id == query.job_id) if query.job_id is not None else found)
    if branch_of is not None:
        conditions.append(exists().where(_LINK.job_id == J.id, _LINK.parent_job_id == branch_of))
    total = (await session.execute(select(func.count()).select_from(J).where(*conditions))).scalar_one()
    stmt = (
        _with_extras(select(*_LIGHT_WITH_FORECAST))
        .where(*conditions)
        .order_by(*_list_order(query.sort))
        .limit(page.per_page)
        .offset(page.offset)
    )
    return list((await session.execute(stmt)).all()), int(total)


async def find_live_duplicate(
    session: AsyncSession, user_id: str, spec: JobSpec, window: timedelta
) -> int | None:
    stmt = (
        select(J.id)
        .where(
            J.user_id == user_id,
            J.status.in_([_status(s) for s in LIVE]),
            J.created_at > func.now() - window,
            J.tier == spec.tier,
            J.goal == spec.goal,
            J.seed_text == spec.seed_text,
            # What-if branches share their parent's seed, goal and tier by design.
            ~exists().where(_LINK.job_id == J.id),
        )
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def advisory_xact_lock(session: AsyncSession, key: int) -> None:
    """Serialises transactions that take the same key until they commit (see duplicate_lock_key)."""
    await session.execute(select(func.pg_advisory_xact_lock(key)))


async def retry_of(session: AsyncSession, job_id: int) -> int | None:
    """The id of the job that retried `job_id`, if any."""
    stmt = select(J.id).where(J.retry_of == job_id).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- writing jobs ------------------------------------------------------------------------------


async def insert_job(
    session: AsyncSession,
    *,
    user_id: str,
    status: JobStatus,
    seed_text: str,
    goal: str | None,
    tier: str | None,
    enrich_web: bool,
    forecast_days: int | None,
    retry_of: int | None = None,
    enriched_seed: str | None = None,
    markets_config: list[dict[str, Any]] | None = None,
) -> SimulationJob:
    # One round trip: INSERT … RETURNING brings back the server defaults (id, created_at, …).
    stmt = (
        insert(J)
        .values(
            user_id=user_id,
            status=status,
            seed_text=seed_text,
            goal=goal,
            tier=tier,
            enrich_web=enrich_web,
            forecast_days=forecast_days,
            credits_charged=0,  # the dead billing column stays 0 always (docs/architecture.md §6)
            retry_count=0,
            retry_of=retry_of,
            sim_data_available=False,
            enriched_seed=enriched_seed,
            markets_config=markets_config,
        )
        .returning(J)
    )
    return (await session.scalars(stmt)).one()


async def apply_change(
    session: AsyncSession, job_id: int, change: RowChange, *, run_id: str | None = None
) -> SimulationJob | None:
    """The guarded compare-and-set; returns the updated row, or None when the guard refused."""
    if not is_valid_job_id(job_id):
        return None
    values: dict[str, Any] = dict(change.values)
    if change.move_if_legal:
        sources = [_status(s) for s in allowed_sources(change.target)]
        values["status"] = case((J.status.in_(sources), _status(change.target)), else_=J.status)
    else:
        values["status"] = _status(change.target)
    stmt = (
        update(J)
        .where(J.id == job_id, J.status.in_([_status(s) for s in change.guard]))
        .values(**values)
        .returning(J)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    if run_id:
        stmt = stmt.where(J.workflow_run_id == run_id)
    return (await session.scalars(stmt)).one_or_none()


async def update_fields(
    session: AsyncSession, job_id: int, values: dict[str, Any], *, statuses: Sequence[JobStatus]
) -> SimulationJob | None:
    """Changes fields (not the status) while the job is in one of `statuses`."""
    stmt = (
        update(J)
        .where(J.id == job_id, J.status.in_([_status(s) for s in statuses]))
        .values(**values)
        .returning(J)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(stmt)).one_or_none()


async def switch_run(
    session: AsyncSession, job_id: int, *, old_run_id: str, new_run_id: str, live_status: dict[str, Any]
) -> SimulationJob | None:
    """Makes `new_run_id` the job's current run (a re-dispatch), if `old_run_id` still is and it is live."""
    stmt = (
        update(J)
        .where(
            J.id == job_id,
            J.workflow_run_id == old_run_id,
            J.status.in_([_status(s) for s in LIVE]),
        )
        # resume_task_id: the attempt this one resumes from.
        .values(
            workflow_run_id=new_run_id,
            retry_count=J.retry_count + 1,
            live_status=live_status,
            resume_task_id=old_run_id,
        )
        .returning(J)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(stmt)).one_or_none()


async def set_share_token(session: AsyncSession, job_id: int, token: str | None) -> SimulationJob | None:
    """Sets (or with None clears) the share token; a new token only for a COMPLETED job.

    Stores the token's digest (`domain.sharing.share_token_digest`), never the token itself.
    """
    stmt = update(J).where(J.id == job_id)
    if token is not None:
        stmt = stmt.where(J.status == _status(JobStatus.COMPLETED))
    stmt = (
        stmt.values(share_token=None if token is None else share_token_digest(token))
        .returning(J)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(stmt)).one_or_none()


async def delete_jobs(session: AsyncSession, job_ids: Sequence[int]) -> int:
    if not job_ids:
        return 0
    result = await session.execute(delete(J).where(J.id.in_(job_ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def job_ids_of_user(session: AsyncSession, user_id: str) -> list[tuple[int, JobStatus]]:
    rows = await session.execute(select(J.id, J.status).where(J.user_id == user_id).order_by(J.id))
    return [(int(r[0]), JobStatus(r[1])) for r in rows]


# --- scheduled events and what-if branches (whatif_models.py) ----------------------------------


async def save_events(session: AsyncSession, job_id: int, events: Sequence[Mapping[str, Any]]) -> None:
    """Stores the job's scheduled events (nothing for none)."""
    if events:
        await session.execute(insert(JobEventsRow).values(job_id=job_id, events=[dict(e) for e in events]))


async def events_of(session: AsyncSession, job_id: int) -> list[dict[str, Any]]:
    stmt = select(JobEventsRow.events).where(JobEventsRow.job_id == job_id)
    return list((await session.execute(stmt)).scalar_one_or_none() or [])


async def insert_branch(
    session: AsyncSession,
    *,
    job_id: int,
    parent_job_id: int,
    branch_round: int,
    random_seed: int,
    parent_forecast: dict[str, Any] | None,
) -> None:
    await session.execute(
        insert(B).values(
            job_id=job_id,
            parent_job_id=parent_job_id,
            branch_round=branch_round,
            random_seed=random_seed,
            parent_forecast=parent_forecast,
        )
    )


async def get_branch(session: AsyncSession, job_id: int) -> JobBranchRow | None:
    """The job's what-if link, or None when it is not a branch."""
    stmt = select(B).where(B.job_id == job_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


# --- interviews ----------------------------------------------------------------------------------

# The BIGSERIAL's own sequence.
_INTERVIEW_IDS = SqlSequence("job_interviews_id_seq", schema="jobs")


async def next_interview_id(session: AsyncSession) -> int:
    """An id for an interview whose row is written when it finishes."""
    return int((await session.execute(select(_INTERVIEW_IDS.next_value()))).scalar_one())


async def recent_interviews(
    session: AsyncSession, job_id: int, window: timedelta
) -> tuple[datetime, int, datetime | None]:
    """The database's now, how many interviews of the job finished within `window` before it, and
    when the oldest of those did."""
    now = await database_now(session)
    stmt = select(func.count(), func.min(JobInterviewRow.created_at)).where(
        JobInterviewRow.job_id == job_id, JobInterviewRow.created_at > now - window
    )
    count, oldest = (await session.execute(stmt)).one()
    return now, int(count), oldest


async def insert_interview(session: AsyncSession, values: Mapping[str, Any]) -> JobInterviewRow:
    stmt = insert(JobInterviewRow).values(**values).returning(JobInterviewRow)
    return (await session.scalars(stmt)).one()


async def interviews_of(session: AsyncSession, job_id: int) -> list[JobInterviewRow]:
    """The job's interviews, newest first."""
    stmt = (
        select(JobInterviewRow)
        .where(JobInterviewRow.job_id == job_id)
        .order_by(JobInterviewRow.created_at.desc(), JobInterviewRow.id.desc())
    )
    return list((await session.scalars(stmt)).all())


# --- the list's extras (domain/listing.py) -----------------------------------------------------


async def save_completed_extras(session: AsyncSession, job: SimulationJob) -> None:
    """With a job's report: its headline forecast (replaced, or removed when the results carry
    none) and, once, how long it held a runner."""
    headline = headline_of(job.result_structured)
    if headline is None:
        await session.execute(delete(F).where(F.job_id == job.id))
    else:
        values = {
            "probability": headline.probability,
            "interval_low": headline.low,
            "interval_high": headline.high,
        }
        stmt = pg_insert(F).values(job_id=job.id, **values)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=[F.job_id], set_={**values, "updated_at": func.now()})
        )
    if job.tier and job.pipeline_seconds is not None and job.completed_at is not None:
        await session.execute(
            pg_insert(JobRunTimeRow)
            .values(
                job_id=job.id,
                tier=job.tier,
                run_seconds=(job.provision_seconds or 0) + job.pipeline_seconds,
                completed_at=job.completed_at,
            )
            .on_conflict_do_nothing(index_elements=[JobRunTimeRow.job_id])
        )


async def tier_queue(session: AsyncSession, tier: str | None) -> dict[int, int]:
    """Every PENDING job of `tier` and its place in the tier's queue (1 = taken next).

    Runners take a tier's dispatches in publish order: the JetStream sequence, then (not yet
    published) the dispatch time. Jobs held back by fair use have no dispatch yet and follow.
    """
    place = func.row_number().over(
        order_by=(
            J.workflow_run_id.is_(None),
            JobRun.stream_seq.asc().nulls_last(),
            JobRun.dispatched_at.asc().nulls_last(),
            J.id,
        )
    )
    stmt = (
        select(J.id, place)
        .outerjoin(JobRun, JobRun.run_id == J.workflow_run_id)
        .where(J.status == _status(JobStatus.PENDING), J.tier.is_not_distinct_from(tier))
    )
    return {int(r[0]): int(r[1]) for r in await session.execute(stmt)}


async def running_in_tier(session: AsyncSession, tier: str | None) -> int:
    """How many jobs of `tier` hold a runner now (PROVISIONING or RUNNING)."""
    on_runner = [_status(JobStatus.PROVISIONING), _status(JobStatus.RUNNING)]
    stmt = select(func.count()).where(J.status.in_(on_runner), J.tier == tier)
    return int((await session.execute(stmt)).scalar_one())


async def recent_run_seconds(session: AsyncSession, tier: str, limit: int = RUN_TIME_SAMPLE) -> list[int]:
    """Run times of the tier's most recently completed jobs (newest first)."""
    stmt = (
        select(JobRunTimeRow.run_seconds)
        .where(JobRunTimeRow.tier == tier)
        .order_by(JobRunTimeRow.completed_at.desc())
        .limit(limit)
    )
    return [int(v) for v in (await session.scalars(stmt)).all()]


# --- fair use (domain/fair_use.py) ----------------------------------------------------------

_HELD = and_(J.status == _status(JobStatus.PENDING), J.workflow_run_id.is_(None))
_IN_FLIGHT = and_(J.status.in_([_status(s) for s in ON_RUNNER]), J.workflow_run_id.is_not(None))


async def fair_use_counts(session: AsyncSession, user_id: str) -> UserCounts:
    """The user's live jobs, drafts, jobs in flight and held jobs, in one query."""
    stmt = select(
        func.count().filter(J.status.in_([_status(s) for s in LIVE])),
        func.count().filter(J.status == _status(JobStatus.DRAFT)),
        func.count().filter(_IN_FLIGHT),
        func.count().filter(_HELD),
    ).where(J.user_id == user_id)
    live, drafts, in_flight, held = (await session.execute(stmt)).one()
    return UserCounts(live=int(live), drafts=int(drafts), in_flight=int(in_flight), held=int(held))


async def recent_creations(
    session: AsyncSession, user_id: str, window: timedelta, limit: int
) -> tuple[datetime, list[datetime]]:
    """The database's now and the user's newest `limit` creation times within `window` before it."""
    now = await database_now(session)
    stmt = (
        select(J.created_at)
        .where(J.user_id == user_id, J.created_at > now - window)
        .order_by(J.created_at.desc())
        .limit(limit)
    )
    return now, list((await session.scalars(stmt)).all())


async def held_jobs(session: AsyncSession, *, per_user: int, limit: int) -> list[Waiting]:
    """Held jobs (PENDING, no run yet): each user's oldest `per_user`, at most `limit` in all."""
    ranked = (
        select(
            J.id.label("job_id"),
            J.user_id.label("user_id"),
            func.row_number().over(partition_by=J.user_id, order_by=J.id).label("rank"),
        )
        .where(_HELD)
        .subquery()
    )
    stmt = (
        select(ranked.c.job_id, ranked.c.user_id)
        .where(ranked.c.rank <= per_user)
        .order_by(ranked.c.job_id)
        .limit(limit)
    )
    return [Waiting(job_id=int(r[0]), user_id=str(r[1])) for r in await session.execute(stmt)]


async def in_flight_by_user(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, int]:
    stmt = (
        select(J.user_id, func.count()).where(J.user_id.in_(list(user_ids)), _IN_FLIGHT).group_by(J.user_id)
    )
    return {str(r[0]): int(r[1]) for r in await session.execute(stmt)}


async def last_served_by_user(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, datetime]:
    """When each user last had a run dispatched (users never served are absent)."""
    stmt = (
        select(J.user_id, func.max(JobRun.dispatched_at))
        .join(JobRun, JobRun.job_id == J.id)
        .where(J.user_id.in_(list(user_ids)))
        .group_by(J.user_id)
    )
    return {str(r[0]): r[1] for r in await session.execute(stmt) if r[1] is not None}


async def lock_held_job(session: AsyncSession, job_id: int) -> SimulationJob | None:
    """Locks the job if it is still held; None if it was released, cancelled, or is locked."""
    stmt = (
        select(J)
        .where(J.id == job_id, _HELD)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


# --- runs --------------------------------------------------------------------------------------


async def insert_run(
    session: AsyncSession, *, run_id: str, job_id: int, attempt: int, resume: bool, route: dict[str, Any]
) -> None:
    session.add(JobRun(run_id=run_id, job_id=job_id, attempt=attempt, resume=resume, route=route))
    await session.flush()


async def get_run(session: AsyncSession, run_id: str) -> JobRun | None:
    return await session.get(JobRun, run_id)


async def advance_progress_seq(session: AsyncSession, job_id: int, run_id: str, seq: int) -> bool:
    """Records `seq` as the run's newest applied progress; False when it is not newer."""
    stmt = (
        update(JobRun)
        .where(JobRun.run_id == run_id, JobRun.job_id == job_id, JobRun.last_seq < seq)
        .values(last_seq=seq, taken_at=func.coalesce(JobRun.taken_at, func.now()), last_seen_at=func.now())
        .returning(JobRun.run_id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def mark_taken(session: AsyncSession, run_id: str) -> None:
    await session.execute(
        update(JobRun).where(JobRun.run_id == run_id, JobRun.taken_at.is_(None)).values(taken_at=func.now())
    )


async def mark_seen(session: AsyncSession, run_id: str) -> None:
    await session.execute(
        update(JobRun)
        .where(JobRun.run_id == run_id)
        .values(taken_at=func.coalesce(JobRun.taken_at, func.now()), last_seen_at=func.now())
    )


@dataclass(frozen=True, slots=True)
class LiveRun:
    """What the stale-job detector needs to know about one live job."""

    job_id: int
    status: JobStatus
    tier: str | None
    retry_count: int
    run_id: str
    dispatched_at: datetime
    taken_at: datetime | None
    last_seen_at: datetime | None
    stream_seq: int | None


async def live_runs(session: AsyncSession) -> list[LiveRun]:
    stmt = (
        select(
            J.id, J.status, J.tier, J.retry_count, JobRun.run_id,
            JobRun.dispatched_at, JobRun.taken_at, JobRun.last_seen_at, JobRun.stream_seq,
        )
        .join(JobRun, JobRun.run_id == J.workflow_run_id)
        .where(J.status.in_([_status(s) for s in LIVE]))
        .order_by(J.id)
    )  # fmt: skip
    return [
        LiveRun(
            job_id=r[0], status=JobStatus(r[1]), tier=r[2], retry_count=r[3], run_id=r[4],
            dispatched_at=r[5], taken_at=r[6], last_seen_at=r[7], stream_seq=r[8],
        )
        for r in await session.execute(stmt)
    ]  # fmt: skip


async def lock_live_run(session: AsyncSession, job_id: int, run_id: str) -> SimulationJob | None:
    """Locks the job if it is still live on `run_id`; None if it moved on or another replica holds it."""
    stmt = (
        select(J)
        .where(J.id == job_id, J.workflow_run_id == run_id, J.status.in_([_status(s) for s in LIVE]))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


# --- outbox ------------------------------------------------------------------------------------

_DISPATCH_PREFIX = subjects.DISPATCH_ALL.removesuffix("*")


def is_dispatch(subject: str) -> bool:
    return subject.startswith(_DISPATCH_PREFIX)


def outbox_still_wanted() -> ColumnElement[bool]:
    """The relay's condition for publishing a row: a dispatch (whose msg_id is its run id) only
    while that run is still its job's current live run; anything else always."""
    current_live_run = (
        select(JobRun.run_id)
        .join(J, J.id == JobRun.job_id)
        .where(
            JobRun.run_id == OutboxMessage.msg_id,
            J.workflow_run_id == JobRun.run_id,
            J.status.in_([_status(s) for s in LIVE]),
        )
        .exists()
    )
    return or_(~OutboxMessage.subject.startswith(_DISPATCH_PREFIX), current_live_run)


async def record_stream_seqs(session: AsyncSession, seqs: Mapping[str, int]) -> None:
    """Stores each published dispatch's JetStream sequence on its run (one batched statement)."""
    if seqs:
        # ORM bulk UPDATE by primary key: one executemany.
        await session.execute(
            update(JobRun), [{"run_id": run_id, "stream_seq": seq} for run_id, seq in seqs.items()]
        )


# --- routing -----------------------------------------------------------------------------------


async def routes(session: AsyncSession) -> list[ModelRouting]:
    return list((await session.scalars(select(ModelRouting).order_by(ModelRouting.id))).all())


async def routes_with_settings(session: AsyncSession) -> list[tuple[ModelRouting, TierSettingsRow | None]]:
    """Every route with its tier_settings row (None when the tier has none), in one query."""
    stmt = (
        select(ModelRouting, TierSettingsRow)
        .outerjoin(TierSettingsRow, TierSettingsRow.sim_tier == ModelRouting.sim_tier)
        .order_by(ModelRouting.id)
    )
    return [(route, settings) for route, settings in (await session.execute(stmt)).all()]


async def tier_settings_for(session: AsyncSession, tier: str) -> TierSettingsRow | None:
    stmt = (
        select(TierSettingsRow)
        .where(TierSettingsRow.sim_tier == tier)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def upsert_tier_settings(
    session: AsyncSession, tier: str, values: Mapping[str, Any]
) -> TierSettingsRow | None:
    """Sets the given settings of `tier` (others keep their value, or the column default on a new
    row); with nothing given, writes nothing. Returns the row as it now is."""
    if values:
        insert_stmt = pg_insert(TierSettingsRow).values(sim_tier=tier, **values)
        await session.execute(
            insert_stmt.on_conflict_do_update(
                index_elements=[TierSettingsRow.sim_tier],
                set_={**{k: insert_stmt.excluded[k] for k in values}, "updated_at": func.now()},
            )
        )
    return await tier_settings_for(session, tier)


async def route_for(session: AsyncSession, tier: str) -> ModelRouting | None:
    stmt = select(ModelRouting).where(ModelRouting.sim_tier == tier)
    return (await session.scalars(stmt)).one_or_none()


async def upsert_route(session: AsyncSession, values: dict[str, Any]) -> ModelRouting:
    insert_stmt = pg_insert(ModelRouting).values(**values)
    stmt = insert_stmt.on_conflict_do_update(
        index_elements=[ModelRouting.sim_tier],
        set_={k: insert_stmt.excluded[k] for k in values if k != "sim_tier"},
    ).returning(ModelRouting)
    result = await session.scalars(stmt.execution_options(populate_existing=True))
    return result.one()


# --- error events ------------------------------------------------------------------------------


async def insert_error_event(session: AsyncSession, msg_id: str, values: dict[str, Any]) -> bool:
    """Inserts the event once per `msg_id`; False when it was already recorded (a redelivery)."""
    claimed = await session.execute(
        pg_insert(ConsumedMessage)
        .values(msg_id=msg_id)
        .on_conflict_do_nothing(index_elements=[ConsumedMessage.msg_id])
        .returning(ConsumedMessage.msg_id)
    )
    if claimed.scalar_one_or_none() is None:
        return False
    session.add(ErrorEvent(**values))
    await session.flush()
    return True


async def list_error_events(
    session: AsyncSession, page: Page, *, source: str | None, job_id: int | None
) -> tuple[list[ErrorEvent], int]:
    conditions = []
    if source:
        conditions.append(ErrorEvent.source == source)
    if job_id is not None:
        if not is_valid_job_id(job_id):
            return [], 0
        conditions.append(ErrorEvent.job_id == job_id)
    total = (
        await session.execute(select(func.count()).select_from(ErrorEvent).where(*conditions))
    ).scalar_one()
    stmt = (
        select(ErrorEvent)
        .where(*conditions)
        .order_by(ErrorEvent.timestamp.desc(), ErrorEvent.id.desc())
        .limit(page.per_page)
        .offset(page.offset)
    )
    return list((await session.scalars(stmt)).all()), int(total)


async def prune_error_events(session: AsyncSession, older_than: timedelta) -> int:
    result = await session.execute(delete(ErrorEvent).where(ErrorEvent.timestamp < func.now() - older_than))
    await session.execute(
        delete(ConsumedMessage).where(ConsumedMessage.consumed_at < func.now() - older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- outcomes -----------------------------------------------------------------------------------


async def get_outcome(
    session: AsyncSession, job_id: int, *, for_update: bool = False
) -> tuple[JobOutcomeRow, list[MarketOutcomeRow]] | None:
    stmt = (
        select(JobOutcomeRow).where(JobOutcomeRow.job_id == job_id).execution_options(populate_existing=True)
    )
    if for_update:
        stmt = stmt.with_for_update()
    outcome = (await session.scalars(stmt)).one_or_none()
    if outcome is None:
        return None
    markets = await session.scalars(
        select(MarketOutcomeRow)
        .where(MarketOutcomeRow.job_id == job_id)
        .order_by(MarketOutcomeRow.is_goal.desc(), MarketOutcomeRow.market_id)
    )
    return outcome, list(markets)


async def save_outcome(
    session: AsyncSession, values: dict[str, Any], markets: Sequence[dict[str, Any]]
) -> None:
    """Insert or replace the job's outcome and its market rows (an edit rewrites them all)."""
    job_id = values["job_id"]
    stmt = pg_insert(JobOutcomeRow).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[JobOutcomeRow.job_id],
            set_={k: stmt.excluded[k] for k in values if k not in ("job_id", "editable_until")}
            | {"updated_at": func.now()},
        )
    )
    await session.execute(delete(MarketOutcomeRow).where(MarketOutcomeRow.job_id == job_id))
    if markets:
        await session.execute(insert(MarketOutcomeRow), [{"job_id": job_id, **m} for m in markets])


async def resolved_markets(session: AsyncSession, user_id: str | None) -> list[tuple[Any, ...]]:
    """Every resolved market of ``user_id`` (None: everyone's) with its job's goal and resolution
    date, goals first within a job."""
    stmt = (
        select(MarketOutcomeRow, JobOutcomeRow.resolved_on, J.goal)
        .join(JobOutcomeRow, JobOutcomeRow.job_id == MarketOutcomeRow.job_id)
        .join(J, J.id == JobOutcomeRow.job_id)
        .order_by(JobOutcomeRow.job_id, MarketOutcomeRow.is_goal.desc(), MarketOutcomeRow.market_id)
    )
    if user_id is not None:
        stmt = stmt.where(JobOutcomeRow.user_id == user_id)
    return [tuple(row) for row in (await session.execute(stmt)).all()]


async def database_now(session: AsyncSession) -> datetime:
    """The database's clock: every replica compares heartbeats against the same time."""
    return (await session.execute(text("SELECT now()"))).scalar_one()
