"""Fair use in the jobs service against real PostgreSQL and NATS: held jobs, their release, and
caps under concurrency (the rules themselves: test_fair_use_domain.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.bus import EventBus
from services.common.errors import ResourceExhausted
from services.common.storage import ObjectStore
from services.jobs import repository as repo
from services.jobs.app import JobsApp
from services.jobs.dispatch import FairRelease
from services.jobs.settings import JobsSettings
from services.jobs.tests.jobs_helpers import identity, job_fields, row, seed_text
from tests.fixtures.settings import settings_for


@pytest_asyncio.fixture
async def fair_app(
    jobs_db: async_sessionmaker[AsyncSession], event_bus: EventBus, object_store: ObjectStore
) -> AsyncIterator[JobsApp]:
    settings = settings_for(
        JobsSettings,
        stale_check_interval_seconds=3600.0,
        jobs_max_live_per_user=5,
        jobs_max_drafts_per_user=0,
        jobs_create_limit=0,
        jobs_in_flight_per_user=2,
    )
    app = JobsApp(settings, sessions=jobs_db, bus=event_bus, store=object_store)
    await app.start(background=False)  # the tests sweep by hand (fair_release.release_once)
    yield app
    await app.stop()


async def create(app: JobsApp, user: int, label: str) -> int:
    return (await app.core.create_job(identity(user), job_fields(seed=seed_text(label)))).id


async def has_run(app: JobsApp, job_id: int) -> bool:
    values = await row(app.sessions, job_id)
    assert values is not None
    return values["workflow_run_id"] is not None


async def test_jobs_past_the_in_flight_cap_are_held_and_released_as_slots_free(fair_app: JobsApp) -> None:
    first = [await create(fair_app, 1, f"a{i}") for i in range(4)]
    assert [await has_run(fair_app, j) for j in first] == [True, True, False, False]
    newcomer = await create(fair_app, 2, "b")
    assert await has_run(fair_app, newcomer)
    assert await fair_app.fair_release.release_once() == []  # user 1's slots are full
    await fair_app.core.cancel_job(identity(1), first[0])
    assert await fair_app.fair_release.release_once() == [first[2]]
    assert await has_run(fair_app, first[2]) and not await has_run(fair_app, first[3])
    # A cancelled held job is simply never released.
    await fair_app.core.cancel_job(identity(1), first[3])
    await fair_app.core.cancel_job(identity(1), first[1])
    assert await fair_app.fair_release.release_once() == []


async def test_replicas_releasing_together_never_pass_the_cap(fair_app: JobsApp) -> None:
    jobs = [await create(fair_app, 1, f"a{i}") for i in range(5)]
    for job_id in jobs[:2]:
        await fair_app.core.cancel_job(identity(1), job_id)  # two free slots, three held
    other = FairRelease(
        fair_app.sessions,
        dispatcher=fair_app.dispatcher,
        relay=fair_app.relay,
        notifier=fair_app.hub,
        in_flight_per_user=2,
    )
    released = await asyncio.gather(fair_app.fair_release.release_once(), other.release_once())
    assert sorted(released[0] + released[1]) == jobs[2:4]
    async with fair_app.sessions() as session:
        counts = await repo.fair_use_counts(session, "1")
    assert (counts.in_flight, counts.held) == (2, 1)


async def test_a_burst_of_creates_stops_at_the_live_cap(fair_app: JobsApp) -> None:
    answers: list[Any] = await asyncio.gather(
        *(create(fair_app, 7, f"burst {i}") for i in range(12)), return_exceptions=True
    )
    accepted = [a for a in answers if isinstance(a, int)]
    assert len(accepted) == 5
    assert all(isinstance(a, ResourceExhausted) for a in answers if not isinstance(a, int))
    async with fair_app.sessions() as session:
        counts = await repo.fair_use_counts(session, "7")
    assert (counts.live, counts.in_flight, counts.held) == (5, 2, 3)


async def test_a_launch_past_the_live_cap_is_refused(fair_app: JobsApp) -> None:
    draft = await fair_app.core.create_draft(identity(3), job_fields(seed=seed_text("draft")))
    for i in range(5):
        await create(fair_app, 3, f"live {i}")
    with pytest.raises(ResourceExhausted, match="the limit is 5"):
        await fair_app.core.launch_draft(identity(3), draft.id)
    values = await row(fair_app.sessions, draft.id)
    assert values is not None and values["status"] == "DRAFT"
