"""Fixtures for the jobs service tests: real PostgreSQL, NATS JetStream and S3.

- `jobs_settings`: JobsSettings with a short stale threshold (0.5 s), a retry budget of 2 and the
  fair-use limits off (the app gets the database, bus and bucket from the fixtures below).
- `jobs_db`: the session factory on a clean jobs schema (outbox and dedupe ids included) with the
  docs/architecture.md §6 tiers and their forecast settings (migration 0004's rows) seeded.
- `jobs_app`: a `JobsApp` (consumers running; relay/detector/pruner loops off, tests drive them).
- `test_keys`: an Ed25519 signing key standing in for auth; `test_keys.token(user_id, roles=...)`.
- `jobs_server`: the JobsService on a free loopback port with the standard interceptor chain,
  verifying tokens against `test_keys`; `jobs_server.stub`, `jobs_server.md(user)`.
- `dispatch_reader`: a test "runner" pulling `jobs.dispatch.<tier>` from the work queue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass

import grpc
import nats.errors
import pytest
import pytest_asyncio
from nats.js import JetStreamContext
from sqlalchemy import delete, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2_grpc

from services.common import subjects
from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.jobs.app import JobsApp
from services.jobs.domain.tier_settings import SEEDED_TIER_SETTINGS
from services.jobs.settings import JobsSettings
from services.jobs.tests.jobs_helpers import SigningKeys, start_jobs_server
from services.jobs.tier_models import TierSettingsRow
from tests.fixtures.settings import settings_for


@pytest.fixture
def jobs_settings() -> JobsSettings:
    # Fair use off: these tests create many jobs per user and expect each dispatched at once
    # (test_fair_use_domain.py and tests/security/test_fair_use.py cover the limits).
    return settings_for(
        JobsSettings,
        stale_after_seconds=0.5,
        stale_check_interval_seconds=3600.0,
        retry_budget=2,
        jobs_max_live_per_user=0,
        jobs_max_drafts_per_user=0,
        jobs_create_limit=0,
        jobs_in_flight_per_user=0,
    )


@pytest_asyncio.fixture
async def jobs_db(
    clean_jobs: async_sessionmaker[AsyncSession],
    db_engine: AsyncEngine,
    seeded_routing: list[dict[str, object]],
) -> async_sessionmaker[AsyncSession]:
    # clean_jobs empties the seed's tables (job_runs cascades); the outbox and dedupe ids have no
    # foreign key to them, so they are emptied here. The tiers' forecast settings go back to the
    # seeded rows (an earlier test may have changed them).
    async with db_engine.begin() as conn:
        await conn.execute(text("TRUNCATE jobs.outbox, jobs.consumed_messages RESTART IDENTITY"))
        await conn.execute(delete(TierSettingsRow))
        await conn.execute(
            insert(TierSettingsRow),
            [{"sim_tier": tier, **asdict(settings)} for tier, settings in SEEDED_TIER_SETTINGS.items()],
        )
    return clean_jobs


@pytest_asyncio.fixture
async def jobs_app(
    jobs_settings: JobsSettings,
    jobs_db: async_sessionmaker[AsyncSession],
    event_bus: EventBus,
    object_store: ObjectStore,
) -> AsyncIterator[JobsApp]:
    app = JobsApp(jobs_settings, sessions=jobs_db, bus=event_bus, store=object_store)
    await app.start(background=False)
    yield app
    await app.stop()


@pytest.fixture
def test_keys() -> SigningKeys:
    return SigningKeys()


@dataclass
class JobsServer:
    address: str
    app: JobsApp
    keys: SigningKeys
    channel: grpc.aio.Channel
    stub: jobs_pb2_grpc.JobsServiceStub

    def md(
        self, user_id: str | int, *, roles: Sequence[str] = (), email_verified: bool = True
    ) -> tuple[tuple[str, str], ...]:
        token = self.keys.token(user_id, roles=roles, email_verified=email_verified)
        return (("authorization", f"Bearer {token}"),)

    def operator(self, user_id: str | int = 9000) -> tuple[tuple[str, str], ...]:
        return self.md(user_id, roles=("operator",))


@pytest_asyncio.fixture
async def jobs_server(jobs_app: JobsApp, test_keys: SigningKeys) -> AsyncIterator[JobsServer]:
    server = await start_jobs_server(jobs_app, test_keys)
    channel = grpc.aio.insecure_channel(server.address)
    try:
        yield JobsServer(
            address=server.address,
            app=jobs_app,
            keys=test_keys,
            channel=channel,
            stub=jobs_pb2_grpc.JobsServiceStub(channel),
        )
    finally:
        await channel.close()
        await server.stop(0.5)


class DispatchReader:
    """Plays the GPU runner's side of the work queue: pull, decode, ack."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._subs: dict[str, JetStreamContext.PullSubscription] = {}

    async def _sub(self, tier: str) -> JetStreamContext.PullSubscription:
        if tier not in self._subs:
            self._subs[tier] = await self.bus.js.pull_subscribe(
                self.bus.subject(subjects.dispatch(tier)),
                durable=f"test-runner-{tier}",
                stream=self.bus.stream_name(subjects.JOBS_DISPATCH.name),
            )
        return self._subs[tier]

    async def take(
        self, tier: str = "small", *, wait: float = 15.0, ack: bool = True
    ) -> events_pb2.JobDispatch:
        msgs = await (await self._sub(tier)).fetch(1, timeout=wait)
        if ack:
            await msgs[0].ack_sync()
        return events_pb2.JobDispatch.FromString(msgs[0].data)

    async def nothing(self, tier: str = "small", *, wait: float = 0.5) -> bool:
        try:
            msgs = await (await self._sub(tier)).fetch(1, timeout=wait)
        except nats.errors.TimeoutError:
            return True
        for msg in msgs:
            await msg.nak()
        return False

    async def close(self) -> None:
        for sub in self._subs.values():
            await sub.unsubscribe()


@pytest_asyncio.fixture
async def dispatch_reader(event_bus: EventBus) -> AsyncIterator[DispatchReader]:
    reader = DispatchReader(event_bus)
    yield reader
    await reader.close()
