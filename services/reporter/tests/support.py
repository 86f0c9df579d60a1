"""Helpers for the reporter tests: a real heuristic run, uploads, event collection, tokens, checks."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf import json_format, struct_pb2
from swarmcast.auth.v1 import auth_pb2
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus, EventMeta
from services.common.scheduled_events import ScheduledEvent
from services.common.storage import ObjectStore
from services.reporter.repository import artifact_key

if TYPE_CHECKING:
    from services.gpu_runner.engine import SimulationResult


class RunOutput(Protocol):
    """What a run hands the runner: the engine's SimulationResult, or a hand-built run (synthetic.py)."""

    # Read-only members, so frozen dataclasses match.
    @property
    def artifacts(self) -> dict[str, bytes]: ...
    @property
    def result_graph(self) -> dict[str, Any]: ...
    @property
    def markets_config(self) -> list[dict[str, Any]]: ...
    @property
    def summary(self) -> dict[str, Any]: ...


SEED = (
    "The harbour workers' union has called a strike against the Port Authority. Mayor Jane Smith "
    "supports negotiation and wants the port reopened. The shipping companies oppose any wage "
    "increase. Local businesses worry about losses. The Green Party backs the workers."
)
GOAL = "Will the strike end by June?"
ISSUER = "swarmcast-auth"
AUDIENCE = "swarmcast"
SECTIONS = (
    "Executive Summary",
    "Verdict",
    "Key Findings",
    "Agent Coalitions",
    "Market Analysis",
    "Belief Dynamics",
    "Conclusion",
)


async def heuristic_run(
    agents: int = 30, rounds: int = 12, seed: int = 7, days: int = 30
) -> SimulationResult:
    # Imported here so the tests that use hand-built artifacts do not depend on the engine.
    from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
    from services.gpu_runner.llm import make_backend

    request = SimulationRequest(
        SEED, GOAL, SimulationConfig(agents=agents, rounds=rounds, seed=seed, forecast_days=days)
    )
    return await run_simulation(request, make_backend("heuristic"))


# A what-if pair on the Harbor City demo seed, whose heuristic agents news can move (the engine's
# own branch tests use it): the parent plays its own news, the branch resumes from the parent's
# round-4 checkpoint with one more piece of news favouring YES.
WHATIF_GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
WHATIF_ROUNDS = 10
WHATIF_BRANCH_ROUND = 4
WHATIF_SEED = Path(__file__).resolve().parents[3] / "demos" / "harbor_transit.md"


@dataclass(frozen=True)
class WhatIfRuns:
    parent: SimulationResult
    branch: SimulationResult
    # The parent's own news (day 9 -> round 3, Early; day 25 -> round 9, Late) and the injected one.
    own_news: tuple[ScheduledEvent, ...]
    injected: tuple[ScheduledEvent, ...]


async def whatif_runs() -> WhatIfRuns:
    from services.gpu_runner.engine import (
        SimulationConfig,
        SimulationRequest,
        resume_simulation,
        run_simulation,
    )
    from services.gpu_runner.llm import make_backend

    seed = WHATIF_SEED.read_text(encoding="utf-8")
    own = (
        ScheduledEvent(
            9, "Transit union endorses Measure T", "The union's 4,000 members are urged to vote yes.", "yes"
        ),
        ScheduledEvent(25, "Court delays the levy's audit", "", "no"),
    )
    injected = (ScheduledEvent(0, "Poll: the levy gains ground", "A new poll moves the race.", "yes"),)
    config = SimulationConfig(agents=30, rounds=WHATIF_ROUNDS, seed=3, replicates=2, forecast_days=30)
    checkpoints: dict[int, bytes] = {}

    def keep(round_no: int, data: bytes) -> None:
        checkpoints[round_no] = data

    parent = await run_simulation(
        SimulationRequest(seed, WHATIF_GOAL, config, events=own),
        make_backend("heuristic"),
        on_checkpoint=keep,
    )
    branch = await resume_simulation(
        checkpoints[WHATIF_BRANCH_ROUND], make_backend("heuristic"), inject_events=injected
    )
    return WhatIfRuns(parent=parent, branch=branch, own_news=own, injected=injected)


async def upload(
    store: ObjectStore, job_id: int, result: RunOutput, *, skip: Sequence[str] = ()
) -> dict[str, str]:
    """Uploads the run's artifacts like a runner would; returns the manifest (name -> key)."""
    manifest = {}
    for name, data in result.artifacts.items():
        key = artifact_key(job_id, name)
        manifest[name] = key
        if name not in skip:
            await store.put_bytes(key, data)
    return manifest


def runner_completed(
    job_id: int,
    result: RunOutput,
    manifest: dict[str, str],
    *,
    run_id: str = "run-1",
    bucket: str = "",
    forecast_days: int = 30,
    completed_at: float = 1_700_000_000.0,
    goal: str = GOAL,
    branch: events_pb2.BranchSource | None = None,
) -> events_pb2.RunnerCompleted:
    event = events_pb2.RunnerCompleted(
        job_id=job_id,
        run_id=run_id,
        pod_id="runner-test",
        artifacts=manifest,
        bucket=bucket,
        result_graph=json.dumps(result.result_graph),
        backend="heuristic",
        model_id="Qwen/Qwen3-14B",
        forecast_days=forecast_days,
        goal=goal,
    )
    if branch is not None:
        event.branch.CopyFrom(branch)
    event.markets.extend(json_format.ParseDict(m, struct_pb2.Struct()) for m in result.markets_config)
    event.summary.update(json.loads(json.dumps(result.summary)))
    event.completed_at.FromSeconds(int(completed_at))
    return event


async def publish_completed(
    bus: EventBus, event: events_pb2.RunnerCompleted, msg_id: str | None = None
) -> None:
    await bus.publish(
        subjects.runner_completed(event.job_id),
        event,
        msg_id=msg_id or f"runner-completed-{event.job_id}-{event.run_id}",
    )


@dataclass
class Collector:
    """What the reporter published, by kind, as the jobs service would receive it."""

    completed: list[events_pb2.ReporterCompleted] = field(default_factory=list)
    failed: list[events_pb2.ReporterFailed] = field(default_factory=list)

    def for_job(
        self, job_id: int
    ) -> tuple[list[events_pb2.ReporterCompleted], list[events_pb2.ReporterFailed]]:
        return [e for e in self.completed if e.job_id == job_id], [
            e for e in self.failed if e.job_id == job_id
        ]


async def collect(bus: EventBus) -> Collector:
    collector = Collector()

    async def on_completed(event: events_pb2.ReporterCompleted, _meta: EventMeta) -> None:
        collector.completed.append(event)

    async def on_failed(event: events_pb2.ReporterFailed, _meta: EventMeta) -> None:
        collector.failed.append(event)

    await bus.subscribe(
        subjects.REPORTER_COMPLETED_ALL, events_pb2.ReporterCompleted, on_completed, durable="test-completed"
    )
    await bus.subscribe(
        subjects.REPORTER_FAILED_ALL, events_pb2.ReporterFailed, on_failed, durable="test-failed"
    )
    return collector


async def wait_for(
    predicate: Callable[[], bool | Awaitable[bool]], within: float = 15.0, what: str = ""
) -> None:
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.05)


async def stream_messages(bus: EventBus, subject: str) -> list[bytes]:
    """Every message stored on `subject` (logical) in its stream, oldest first."""
    stream = bus.stream_name(subjects.stream_for(subject).name)
    psub = await bus.js.pull_subscribe(bus.subject(subject), stream=stream)
    out: list[bytes] = []
    try:
        while True:
            try:
                msgs = await psub.fetch(50, timeout=0.5)
            except Exception:
                break
            for msg in msgs:
                out.append(msg.data)
                await msg.ack()
    finally:
        await psub.unsubscribe()
    return out


# --- report checks -------------------------------------------------------------------------------

_HASH_ID = re.compile(r"#(\d+)")
_CITATION = re.compile(r"\b(post|trade) #(\d+)\b")


def cited(markdown: str) -> tuple[set[int], set[int]]:
    """Post and trade ids cited in a report; fails on a `#<id>` that is not a post/trade citation."""
    posts: set[int] = set()
    trades: set[int] = set()
    canonical = {m.start(2) - 1 for m in _CITATION.finditer(markdown)}
    for match in _HASH_ID.finditer(markdown):
        assert match.start() in canonical, f"'#{match.group(1)}' is not written as a post or trade citation"
    for kind, ident in _CITATION.findall(markdown):
        (posts if kind == "post" else trades).add(int(ident))
    return posts, trades


def artifact_ids(result: RunOutput) -> tuple[set[int], set[int]]:
    posts = {p["id"] for p in json.loads(result.artifacts["posts.json"])["posts"]}
    trades = {t["id"] for t in json.loads(result.artifacts["trades.json"])["trades"]}
    return posts, trades


def section(markdown: str, title: str) -> str:
    """The body of a level-2 section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    assert match is not None, f"section {title!r} missing"
    return match.group(1)


_VERDICT_ROW = re.compile(r"^\| (m\d+)(?: \(goal\))? \| .*? \| (\d+\.\d)% \| (\d+\.\d)–(\d+\.\d)% \|")


def verdict_forecasts(markdown: str) -> dict[str, tuple[float, list[float]]]:
    """Market id -> (forecast, [interval low, high]) as fractions, from the Verdict table."""
    out = {}
    for line in section(markdown, "Verdict").splitlines():
        match = _VERDICT_ROW.match(line)
        if match:
            p, low, high = (float(match.group(k)) / 100 for k in (2, 3, 4))
            out[match.group(1)] = (p, [low, high])
    return out


def verdict_probabilities(markdown: str) -> dict[str, float]:
    """Market id -> forecast probability (fraction) from the Verdict table."""
    return {market_id: p for market_id, (p, _) in verdict_forecasts(markdown).items()}


def artifact_forecast(result: RunOutput) -> dict[str, Any]:
    """market_curves.json → forecast: what the engine computed over its replicates."""
    return json.loads(result.artifacts["market_curves.json"])["forecast"]


def forecast_probabilities(result: RunOutput) -> dict[str, float]:
    return {m: f["probability"] for m, f in artifact_forecast(result)["markets"].items()}


def final_prices(result: RunOutput) -> dict[str, float]:
    curves = json.loads(result.artifacts["market_curves.json"])
    return {m["id"]: m["final_price_yes"] for m in curves["markets"]}


def is_real_sentence(text: str) -> bool:
    return (
        0 < len(text) <= 200
        and "\n" not in text
        and (text[0].isupper() or text[0].isdigit())  # "63.0% (80% interval …): likely." leads with a number
        and text[-1] in ".!?"
        and not re.search(r"[*_`#\[\]|]", text)
        and len(text.split()) >= 5
    )


# --- tokens --------------------------------------------------------------------------------------


@dataclass
class SigningKeys:
    """An auth stand-in: one Ed25519 key, served the way GetSigningKeys serves it."""

    kid: str = field(default_factory=lambda: f"test-{secrets.token_hex(4)}")
    private_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    async def fetch(self) -> auth_pb2.GetSigningKeysResponse:
        pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key = auth_pb2.SigningKey(kid=self.kid, algorithm="EdDSA", public_key_pem=pem.decode(), active=True)
        return auth_pb2.GetSigningKeysResponse(keys=[key], issuer=ISSUER, audience=AUDIENCE)

    def token(self, user_id: str | int, *, roles: Sequence[str] = ()) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "email": f"user{user_id}@example.test",
            "email_verified": True,
            "roles": sorted(roles),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self.private_key, algorithm="EdDSA", headers={"kid": self.kid})

    def metadata(self, user_id: str | int, *, roles: Sequence[str] = ()) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(user_id, roles=roles)}"),)
