"""Builders shared by the jobs tests: a job's event history, artifacts, row snapshots."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swarmcast.auth.v1 import auth_pb2
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2, jobs_pb2_grpc

from services.common.bus import EventBus
from services.common.grpc_server import GrpcServer, ServiceSpec
from services.common.identity import Identity, SigningKeyCache
from services.common.interceptors import ErrorReporter, standard_interceptors
from services.common.storage import ObjectStore
from services.jobs.app import JobsApp
from services.jobs.domain.artifacts import ARTIFACT_NAMES, artifact_key
from services.jobs.domain.validation import JobFields
from services.jobs.handlers import EventHandlers, Outcome
from services.jobs.models import SimulationJob

T0 = datetime(2025, 11, 25, 12, 0, tzinfo=UTC)
MARKETS: list[Any] = [
    {"id": "m1", "question": "Will it happen?", "initial_price_yes": 0.4, "rationale": "because"}
]


def identity(user_id: str | int = 1, **kw: Any) -> Identity:
    return Identity(user_id=str(user_id), email=f"user{user_id}@example.test", **kw)


# A seed with enough evidence to forecast from (the jobs service refuses one under 30 words) and a
# yes/no question about an event in it.
SEED = (
    "The harbour workers' union has been on strike for three weeks over pay and night shifts. The port "
    "authority has offered a four percent raise; the union's leader, Mara Quist, called it an insult, "
    "while two of the three shipping firms urged the government to appoint a mediator. Members vote on "
    "the next offer on 12 May."
)
GOAL = "Will the strike end by June?"


def seed_text(variant: str = "") -> str:
    """SEED made distinct by `variant` (the duplicate guard compares seeds)."""
    return f"{SEED}\n\n{variant}" if variant else SEED


def job_fields(seed: str = SEED, **kw: Any) -> JobFields:
    values: dict[str, Any] = {"seed_text": seed, "goal": GOAL, "tier": "small"}
    values.update(kw)
    return JobFields(**values)


def _at(seconds: float) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    stamp = Timestamp()
    stamp.FromDatetime(T0 + timedelta(seconds=seconds))
    return stamp


def progress(
    job_id: int, run_id: str, seq: int, stage: int, *, round: int = 0, pod: str = "pod-a", **extra: Any
) -> events_pb2.RunnerProgress:
    event = events_pb2.RunnerProgress(
        job_id=job_id,
        run_id=run_id,
        pod_id=pod,
        stage=stage,
        stage_name=("provisioning", "seeding", "building", "simulating", "analyzing")[stage],
        round=round,
        max_rounds=15,
        seq=seq,
        sent_at=_at(seq),
        gpu_provider="local",
        **extra,
    )
    event.live_status.update({"agents": 10, "posts": seq * 3, "note": f"seq {seq}"})
    return event


def runner_completed(job_id: int, run_id: str, *, pod: str = "pod-a") -> events_pb2.RunnerCompleted:
    event = events_pb2.RunnerCompleted(
        job_id=job_id,
        run_id=run_id,
        pod_id=pod,
        artifacts={name: artifact_key(job_id, name) for name in ARTIFACT_NAMES},
        bucket="ignored",
        result_graph=json.dumps({"nodes": [{"id": "a"}], "edges": []}),
        result_chat_log=json.dumps([{"agent": "a", "text": "hello"}]),
        provision_seconds=2.4,
        pipeline_seconds=9.6,
        gpu_provider="local",
        gpu_cost_usd=0.0125,
        backend="heuristic",
        model_id="Qwen/Qwen3-14B",
        forecast_days=30,
        goal=GOAL,
        completed_at=_at(100),
        enriched_seed="the enriched seed",
        enrichment_citations=json.dumps(["https://example.test/a"]),
    )
    event.markets.extend(MARKETS)
    event.summary.update({"goal_probability": 0.62, "rounds": 15})
    return event


def reporter_completed(job_id: int, run_id: str) -> events_pb2.ReporterCompleted:
    return events_pb2.ReporterCompleted(
        job_id=job_id,
        run_id=run_id,
        report_markdown="# Report\n\n## Executive Summary\n...",
        result_structured=json.dumps({"verdict": "likely", "probabilities": {"m1": 0.62}}),
        key_insight="The strike most likely ends by June (62%). " * 8,  # longer than 200: truncated
        report_key=artifact_key(job_id, "report.md"),
        writer="deterministic",
        completed_at=_at(120),
    )


def successful_history(job_id: int, run_id: str) -> list[Message]:
    """Everything a runner and the reporter send for one successful run, in causal order."""
    events: list[Message] = [
        progress(job_id, run_id, 1, 0),
        progress(job_id, run_id, 2, 1, enriched_seed="the enriched seed"),
        progress(job_id, run_id, 3, 2),
    ]
    events[-1].markets.CopyFrom(runner_completed(job_id, run_id).markets)  # type: ignore[attr-defined]
    events += [progress(job_id, run_id, 3 + r, 3, round=r) for r in range(1, 6)]
    events += [progress(job_id, run_id, 9, 4, round=15)]
    events += [runner_completed(job_id, run_id), reporter_completed(job_id, run_id)]
    return events


async def apply(handlers: EventHandlers, event: Message) -> Outcome:
    if isinstance(event, events_pb2.RunnerProgress):
        return await handlers.apply_progress(event)
    if isinstance(event, events_pb2.RunnerCompleted):
        return await handlers.apply_runner_completed(event)
    if isinstance(event, events_pb2.RunnerFailed):
        return await handlers.apply_runner_failed(event)
    if isinstance(event, events_pb2.ReporterCompleted):
        return await handlers.apply_reporter_completed(event)
    if isinstance(event, events_pb2.ReporterFailed):
        return await handlers.apply_reporter_failed(event)
    raise TypeError(type(event))


async def upload_artifacts(store: ObjectStore, job_id: int, names: tuple[str, ...] = ARTIFACT_NAMES) -> None:
    for name in names:
        await store.put_bytes(artifact_key(job_id, name), b"{}")


async def row(sessions: async_sessionmaker[AsyncSession], job_id: int) -> dict[str, Any] | None:
    """Every column of the job row, as a dict (None when the row does not exist)."""
    async with sessions() as session:
        job = (await session.scalars(select(SimulationJob).where(SimulationJob.id == job_id))).one_or_none()
        if job is None:
            return None
        return {c.key: getattr(job, c.key) for c in SimulationJob.__table__.columns}


async def count_jobs(sessions: async_sessionmaker[AsyncSession]) -> int:
    from sqlalchemy import func

    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(SimulationJob))).scalar_one())


# --- an auth stand-in and the in-process server ----------------------------------------------

ISSUER = "swarmcast-auth"
AUDIENCE = "swarmcast"
SERVICE_NAME = jobs_pb2.DESCRIPTOR.services_by_name["JobsService"].full_name


@dataclass
class SigningKeys:
    """An auth stand-in: one Ed25519 key, served as GetSigningKeys would serve it."""

    kid: str = field(default_factory=lambda: f"test-{secrets.token_hex(4)}")
    private_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    async def fetch(self) -> auth_pb2.GetSigningKeysResponse:
        pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return auth_pb2.GetSigningKeysResponse(
            keys=[
                auth_pb2.SigningKey(kid=self.kid, algorithm="EdDSA", public_key_pem=pem.decode(), active=True)
            ],
            issuer=ISSUER,
            audience=AUDIENCE,
        )

    def token(self, user_id: str | int, *, roles: Sequence[str] = (), email_verified: bool = True) -> str:
        # The claim set of services/common/identity.py's token contract.
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "email": f"user{user_id}@example.test",
            "email_verified": email_verified,
            "roles": sorted(roles),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self.private_key, algorithm="EdDSA", headers={"kid": self.kid})


async def start_jobs_server(app: JobsApp, keys: SigningKeys, bus: Any = None) -> GrpcServer:
    cache = SigningKeyCache(fetch=keys.fetch, issuer=ISSUER, audience=AUDIENCE)
    spec = ServiceSpec(
        name="jobs",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: jobs_pb2_grpc.add_JobsServiceServicer_to_server(app.servicer, server),
        listen_addr="127.0.0.1:0",  # a free port: never the default port a dev stack may hold
        interceptors=standard_interceptors("jobs", keys=cache, errors=ErrorReporter("jobs", "api", bus)),
        grace_seconds=1.0,
    )
    server = GrpcServer(spec)
    await server.start()
    return server


async def last_cancel(bus: EventBus, job_id: int) -> events_pb2.JobCancel:
    """The newest JobCancel published for the job."""
    from services.common import subjects

    msg = await bus.js.get_last_msg(
        bus.stream_name(subjects.JOBS_CONTROL.name), bus.subject(subjects.cancel(job_id))
    )
    assert msg.data is not None
    return events_pb2.JobCancel.FromString(msg.data)
