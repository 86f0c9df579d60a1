"""Database plumbing shared by every service: the one declarative `Base`, engines and sessions.

Every model (auth's and jobs') hangs off `Base`, so one `Base.metadata` describes the whole seed
schema; Alembic's env.py and the schema tests compare against it.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from services.common.config import get_settings

# Deterministic constraint/index names, so a migration can name (and later drop) what the models
# declare, and autogenerate never sees a rename. Postgres scopes these names per schema.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The shared declarative base of every swarmcast model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def import_all_models() -> list[str]:
    """Import every service's model modules so `Base.metadata` holds every table; returns their names.

    Convention: a service's tables live in `services/<service>/models.py` or
    `services/<service>/<topic>_models.py`. Alembic's env.py and the schema tests rely on this, so
    a new model module is picked up without editing either.
    """
    services_dir = Path(__file__).resolve().parents[1]
    paths = sorted({*services_dir.glob("*/models.py"), *services_dir.glob("*/*_models.py")})
    names = [f"services.{path.parent.name}.{path.stem}" for path in paths]
    for name in names:
        importlib.import_module(name)
    return names


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (what `timestamptz` columns hold)."""
    return datetime.now(UTC)


def make_engine(url: str | None = None, **kw: Any) -> AsyncEngine:
    """An async engine on `url` (default: `SWARMCAST_DATABASE_URL`); `kw` overrides the defaults."""
    settings = get_settings()
    options: dict[str, Any] = {
        # A pooled connection may have been cut by a server restart; check before handing it out.
        "pool_pre_ping": True,
        "pool_size": settings.database_pool_size,
    }
    options.update(kw)
    engine = create_async_engine(url or settings.database_url, **options)
    _one_round_trip_ping(engine)
    return engine


def _one_round_trip_ping(engine: AsyncEngine) -> None:
    """pool_pre_ping on asyncpg in one round trip instead of three.

    SQLAlchemy's asyncpg adapter wraps its ping in BEGIN … ROLLBACK (for pgbouncer's transaction
    mode, which swarmcast does not use), so every checkout cost three round trips; a hot read is
    one statement. A bare ";" detects a dead connection just the same, and failures still go
    through the adapter's own error handling (a disconnect reconnects, as before).
    """
    dialect = engine.sync_engine.dialect
    if dialect.driver != "asyncpg":
        return
    ping_in_transaction = dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        level = getattr(dbapi_connection, "isolation_level", None)
        if level is None:
            return ping_in_transaction(dbapi_connection)
        # The adapter pings without a transaction when it believes it is in autocommit mode.
        dbapi_connection.isolation_level = "autocommit"
        try:
            dbapi_connection.ping()
        finally:
            dbapi_connection.isolation_level = level
        return True

    setattr(dialect, "do_ping", do_ping)  # noqa: B010  (this engine's dialect instance only)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; objects stay readable after commit (no implicit reload on access)."""
    return async_sessionmaker(engine, expire_on_commit=False)
