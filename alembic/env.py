"""Alembic environment: one tree migrates both service schemas (`auth`, `jobs`) over asyncpg.

The database URL, first match wins:
  1. `alembic -x url=postgresql+asyncpg://...`
  2. `sqlalchemy.url` set on the Config by a caller (tests, tooling)
  3. `SWARMCAST_DATABASE_URL` through the shared settings
A caller may also hand over an open sync connection in `config.attributes["connection"]`.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from sqlalchemy import pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import context
from services.common.config import get_settings
from services.common.db import Base, import_all_models

config = context.config

# Callers embedding alembic (the test fixtures) keep their own logging untouched.
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Every services/<svc>/models.py and *_models.py (auth's and jobs' tables) registers on Base.
import_all_models()
target_metadata = Base.metadata
MANAGED_SCHEMAS = frozenset({"auth", "jobs"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # Autogenerate looks only at the schemas this tree owns (not public's alembic_version).
    if type_ == "schema":
        return name in MANAGED_SCHEMAS
    return True


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    url = url or get_settings().database_url
    parsed = make_url(url)
    # Accept a bare postgresql:// URL too; migrations always run on asyncpg.
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        include_schemas=True,
        include_name=include_name,
        compare_type=True,
        compare_server_default=True,
        literal_binds=connection is None,
        dialect_opts={"paramstyle": "named"} if connection is None else {},
    )


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: emit the SQL without a database."""
    configure(url=database_url())
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
