"""Scheduled events (a job's own news timeline) in the engine: they enter every agent's feed at
``event_round(day)``, move heuristic beliefs the way they favour, reach an LLM agent's prompt as a
NEWS block, and are listed in market_curves.json, chat_log.json and the summary; they are part of
the checkpoint."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from services.common.artifacts import dump_artifact, validate_artifact
from services.common.scheduled_events import ScheduledEvent, event_round
from services.gpu_runner.engine import (
    SimulationConfig,
    SimulationRequest,
    SimulationResult,
    resume_simulation,
    run_simulation,
)
from services.gpu_runner.engine.checkpoint import MAGIC, VERSION, _encode, _segments, load_world
from services.gpu_runner.llm import make_backend
from tests.fakes.openai_server import FakeOpenAIServer, agent_and_round, prompt_text, scripted_beliefs

# A seed with as much for the goal as against it: its agents start near the middle and can be moved.
SEED = (
    "The Lakeside council votes on the new harbour bridge on 12 June. Mayor Ana Silva supports the "
    "bridge and the Chamber of Trade endorsed it. The Fishermen's Guild opposes it and the Residents "
    "Association gathered signatures against it. A May poll found 50 percent of residents in favour "
    "and 50 percent against. Councillor Tom Reyes is undecided."
)
GOAL = "Will the Lakeside council approve the harbour bridge on 12 June?"
ROUNDS, DAYS = 10, 30
EVENTS = (
    ScheduledEvent(7, "Engineers certify the bridge design", "The review found no safety issue.", "yes"),
    ScheduledEvent(22, "Council meeting moved to the town hall", "Seating for 400."),
)


def config(rounds: int = ROUNDS) -> SimulationConfig:
    return SimulationConfig(agents=24, rounds=rounds, seed=5, replicates=2, forecast_days=DAYS)


async def run(events: tuple[ScheduledEvent, ...] = EVENTS, **kw: Any) -> SimulationResult:
    return await run_simulation(
        SimulationRequest(SEED, GOAL, config(), events=events), make_backend("heuristic"), **kw
    )


async def test_a_jobs_events_enter_at_their_rounds_and_are_listed_in_every_output() -> None:
    result = await run()
    rounds = [event_round(ev.day, ROUNDS, DAYS) for ev in EVENTS]
    assert rounds == [3, 8]
    expected = [
        {"round": r, "day": ev.day, "headline": ev.headline, "text": ev.text, "favours": ev.favours}
        for r, ev in zip(rounds, EVENTS, strict=True)
    ]
    curves = json.loads(result.artifacts["market_curves.json"])
    assert curves["events"] == expected
    assert result.summary["events"] == expected
    entries = json.loads(result.artifacts["chat_log.json"])["entries"]
    news = [e for e in entries if e["kind"] == "news"]
    assert news == [{"kind": "news", **row} for row in expected]
    for row in expected:
        # the news opens its round: right after the last entry of the round before
        at = entries.index({"kind": "news", **row})
        assert entries[at - 1]["round"] < row["round"] and entries[at + 1]["round"] == row["round"]
    # both files still match the artifact contract in full
    for name in ("market_curves.json", "chat_log.json"):
        assert dump_artifact(validate_artifact(name, result.artifacts[name])) == result.artifacts[name]


async def test_a_run_without_events_lists_none() -> None:
    result = await run(events=())
    assert json.loads(result.artifacts["market_curves.json"])["events"] == []
    assert result.summary["events"] == []
    assert all(e["kind"] != "news" for e in json.loads(result.artifacts["chat_log.json"])["entries"])


async def test_news_favouring_yes_moves_every_agent_at_its_round_and_is_the_reason_it_gives() -> None:
    with_news = await run()
    without = await run(events=())
    a = json.loads(with_news.artifacts["agent_trajectories.json"])["agents"]
    b = json.loads(without.artifacts["agent_trajectories.json"])["agents"]
    for x, y in zip(a, b, strict=True):
        goal_x, goal_y = x["beliefs"]["m1"], y["beliefs"]["m1"]
        assert goal_x[:3] == goal_y[:3]  # rounds 0-2: before the news
        assert goal_x[3] > goal_y[3]  # round 3: the certified design moves everyone towards YES
        news_reasons = [c for c in x["reasons"] if c["round"] == 3 and c["market_id"] == "m1"]
        assert news_reasons == [
            {
                "round": 3,
                "market_id": "m1",
                "reason": "News on day 7 (Engineers certify the bridge design) moves me towards YES.",
            }
        ]
    assert (
        with_news.summary["forecast"]["goal"]["probability"]
        > without.summary["forecast"]["goal"]["probability"]
    )


# A checkpoint after round 5 of `run()` as the engine wrote it before version 5 (layout 4).
V4_CHECKPOINT = Path(__file__).parent / "data" / "checkpoint_v4_round5.bin"


async def test_events_are_in_every_checkpoint_and_an_old_checkpoint_loads_without_them() -> None:
    checkpoints: dict[int, bytes] = {}
    await run(on_checkpoint=lambda r, data: checkpoints.__setitem__(r, data))
    for round_no in (0, 5, ROUNDS):
        worlds, _, _ = load_world(checkpoints[round_no])
        for world in worlds:  # every replicate carries the schedule, played or not
            assert world.events == [(3, EVENTS[0]), (8, EVENTS[1])]
    # The version 4 checkpoint as the engine before scheduled events wrote it (version 3: no events).
    data = V4_CHECKPOINT.read_bytes()
    version, segments = _segments(data)
    assert data.startswith(b"SWCK4\n") and version == 4
    head, shared, *rest = segments
    for seg in rest:
        seg.pop("events", None)
    body = [_encode({**head, "version": 3}), _encode(shared), *(_encode(s) for s in rest)]
    old = b"SWCK3\n" + struct.pack(f"<I{len(body)}I", len(body), *map(len, body)) + b"".join(body)
    worlds, _, _ = load_world(old)
    assert [w.round for w in worlds] == [5, 5] and worlds[0].events == []


async def test_a_version_4_checkpoint_resumes_to_the_same_run() -> None:
    reference = await run()
    checkpoints: dict[int, bytes] = {}
    await run(on_checkpoint=lambda r, data: checkpoints.__setitem__(r, data))
    assert checkpoints[5].startswith(MAGIC) and VERSION == 5
    old_worlds, old_stats, old_stage = load_world(V4_CHECKPOINT.read_bytes())
    new_worlds, new_stats, new_stage = load_world(checkpoints[5])
    assert (old_stats, old_stage) == (new_stats, new_stage)
    for old, new in zip(old_worlds, new_worlds, strict=True):
        assert old.agents == new.agents and old.posts == new.posts and old.trades == new.trades
        assert (old.stated, old.snapshots, old.events) == (new.stated, new.snapshots, new.events)
    resumed = await resume_simulation(V4_CHECKPOINT.read_bytes(), make_backend("heuristic"))
    assert resumed.artifacts == reference.artifacts
    assert resumed.result_graph == reference.result_graph


async def test_an_llm_agent_sees_the_news_in_its_prompt_from_its_round_on() -> None:
    bodies: list[dict[str, Any]] = []
    responder = scripted_beliefs(lambda agent, round_no: 0.5)

    def respond(body: dict[str, Any], n: int) -> dict[str, Any]:
        bodies.append(body)
        return responder(body, n)

    events = (
        ScheduledEvent(10, "Engineers certify the bridge design", "The review found no safety issue.", "yes"),
    )
    async with FakeOpenAIServer(concurrency=8, latency_ms=1, responder=respond) as srv:
        backend = make_backend("openai", base_url=srv.base_url, model="fake-model", concurrency=8)
        cfg = SimulationConfig(agents=4, rounds=6, seed=2, max_markets=1, forecast_days=DAYS)
        try:
            result = await run_simulation(SimulationRequest(SEED, GOAL, cfg, events=events), backend)
        finally:
            await backend.aclose()
    assert [e["round"] for e in result.summary["events"]] == [2]  # day 10 of 30 in 6 rounds
    by_round: dict[int, list[str]] = {}
    for body in bodies:
        agent, round_no = agent_and_round(body)
        if agent is not None and round_no is not None:
            by_round.setdefault(round_no, []).append(prompt_text(body, "user"))
    line = "- day 10 (this round) Engineers certify the bridge design: The review found no safety issue."
    assert all("NEWS" not in p for p in by_round[1])
    assert len(by_round[2]) == 4 and all(line in p for p in by_round[2])
    # it stays in the feed for feed.WINDOW rounds, as long as a post does, labelled with its round
    assert all("- day 10 (round 2) Engineers certify the bridge design" in p for p in by_round[4])
    assert all("NEWS" not in p for p in by_round[5] + by_round[6])
    # an LLM agent's belief is what it states: the news itself moves no LLM belief
    assert (
        json.loads(result.artifacts["agent_trajectories.json"])["agents"][0]["beliefs"]["m1"][1:] == [0.5] * 6
    )
