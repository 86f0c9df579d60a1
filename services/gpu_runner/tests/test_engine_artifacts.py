"""Every artifact the engine writes matches the typed contract of `services.common.artifacts` in
full: each field present with its type, none the contract does not name. A heuristic run, and an
LLM run (through the fake OpenAI-compatible server over a real socket) that adds thoughts, a failed
turn and a failed single forecast without simulation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.common.artifacts import ARTIFACT_NAMES, ArtifactError, dump_artifact, validate_artifact
from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.llm import make_backend
from tests.fakes.openai_server import FakeOpenAIServer, agent_and_round, default_responder, schema_of

SEED = (
    "The regional assembly decides on the Riverside Bridge toll in March. Governor Ana Silva backs the "
    "toll and says it will pass. The Commuters League opposes it and has gathered 40,000 signatures "
    "against it. The Chamber of Trade endorsed the plan last week. A February poll found 55 percent "
    "of residents in favour."
)
GOAL = "Will the Riverside Bridge toll be approved in March?"


async def heuristic_run() -> dict[str, bytes]:
    config = SimulationConfig(agents=20, rounds=4, seed=7, replicates=2)
    result = await run_simulation(SimulationRequest(SEED, GOAL, config), make_backend("heuristic"))
    return result.artifacts


def responder(body: dict[str, Any], n: int) -> dict[str, Any]:
    """The fake's default answers, but the single forecast is out of range (it fails) and agent 0's
    round-2 turn too (a failed turn)."""
    name, _ = schema_of(body)
    if name == "direct_forecast":
        return {"reason": "out of range", "probability": 1.7}
    answer = default_responder(body, n)
    if name == "agent_turn" and agent_and_round(body) == (0, 2):
        answer["confidence"] = 7.0
    return answer


async def llm_run() -> dict[str, bytes]:
    async with FakeOpenAIServer(concurrency=8, latency_ms=1, responder=responder) as srv:
        backend = make_backend("openai", base_url=srv.base_url, model="fake-model", concurrency=8)
        config = SimulationConfig(agents=6, rounds=3, seed=4, max_markets=2)
        try:
            result = await run_simulation(SimulationRequest(SEED, GOAL, config), backend)
        finally:
            await backend.aclose()
    return result.artifacts


async def test_every_artifact_of_a_heuristic_run_matches_the_contract():
    artifacts = await heuristic_run()
    assert tuple(artifacts) == ARTIFACT_NAMES
    for name, raw in artifacts.items():
        body = validate_artifact(name, raw)
        assert dump_artifact(body) == raw  # the writer's bytes are the contract's canonical JSON


async def test_every_artifact_of_an_llm_run_matches_the_contract():
    artifacts = await llm_run()
    for name, raw in artifacts.items():
        validate_artifact(name, raw)
    # the optional parts the heuristic run leaves out were exercised
    entries = json.loads(artifacts["chat_log.json"])["entries"]
    assert {"thought", "post", "trade"} <= {e["kind"] for e in entries}
    assert json.loads(artifacts["engagement_summary.json"])["failed_turns"]
    direct = json.loads(artifacts["market_curves.json"])["baselines"]["direct"]
    assert direct["probability"] is None and direct["error"].startswith("invalid")


async def test_the_contract_rejects_what_it_does_not_describe():
    raw = (await heuristic_run())["posts.json"]
    posts = json.loads(raw)

    def changed(edit: Any) -> bytes:
        body = json.loads(raw)
        edit(body["posts"][0])
        return json.dumps(body).encode()

    assert validate_artifact("posts.json", raw) == posts
    with pytest.raises(ArtifactError, match=r"posts\.json holds fields the contract does not name"):
        validate_artifact("posts.json", changed(lambda p: p.update(mood="sunny")))
    with pytest.raises(ArtifactError, match=r"(?s)posts\.json does not match the contract.*likes"):
        validate_artifact("posts.json", changed(lambda p: p.update(likes="3")))
    with pytest.raises(ArtifactError, match=r"(?s)posts\.json does not match the contract.*stance"):
        validate_artifact("posts.json", changed(lambda p: p.pop("stance")))
    with pytest.raises(ArtifactError, match=r"posts\.json is not valid JSON"):
        validate_artifact("posts.json", raw[:-2])
    with pytest.raises(ArtifactError, match=r"report\.md is not an artifact"):
        validate_artifact("report.md", b"{}")


async def test_chat_trades_carry_the_trade_and_every_entry_its_entity():
    artifacts = await heuristic_run()
    entries = json.loads(artifacts["chat_log.json"])["entries"]
    trades = {t["id"]: t for t in json.loads(artifacts["trades.json"])["trades"]}
    entity_of = {a["agent_id"]: a["entity_id"] for a in json.loads(artifacts["profiles.json"])["agents"]}
    chat_trades = [e for e in entries if e["kind"] == "trade"]
    assert chat_trades and len(chat_trades) == len(trades)
    for entry in chat_trades:
        trade = trades[entry["trade_id"]]
        # the same order as trades.json, field for field, and the one-line text kept for older readers
        for key in ("side", "outcome", "shares", "cash", "price_before", "price_after", "market_id"):
            assert entry[key] == trade[key], (key, entry, trade)
        assert entry["text"].startswith("bought " if trade["side"] == "buy" else "sold ")
    assert all(e["entity_id"] == entity_of[e["author_id"]] for e in entries)


def test_a_chat_log_from_an_older_engine_still_matches_the_contract():
    old = {
        "entries": [
            {
                "round": 1,
                "kind": "post",
                "post_id": 0,
                "author_id": 0,
                "author": "A",
                "text": "hi",
                "parent_id": None,
                "market_id": None,
            },
            {
                "round": 1,
                "kind": "trade",
                "trade_id": 0,
                "author_id": 0,
                "author": "A",
                "text": "bought 1.00 YES on m1 for 0.50 (YES 0.500 -> 0.510)",
                "market_id": "m1",
            },
        ]
    }
    assert validate_artifact("chat_log.json", dump_artifact(old)) == old
    # a mistyped trade field matches no entry shape in full (pydantic then keeps the thought's
    # fields, so the error names the fields left over)
    with pytest.raises(ArtifactError, match=r"chat_log\.json"):
        broken = {"entries": [{**old["entries"][1], "shares": "1.0"}]}
        validate_artifact("chat_log.json", dump_artifact(broken))


async def test_the_largest_artifacts_are_encoded_row_by_row_to_the_same_bytes() -> None:
    from services.gpu_runner.engine import artifacts
    from services.gpu_runner.engine.checkpoint import load_world

    saved: dict[int, bytes] = {}
    config = SimulationConfig(agents=20, rounds=4, seed=7)
    await run_simulation(
        SimulationRequest(SEED, GOAL, config),
        make_backend("heuristic"),
        on_checkpoint=lambda r, data: saved.__setitem__(r, data),
    )
    world = load_world(saved[4])[0][0]
    streamed = {
        "chat_log.json": artifacts._dump_streamed({}, "entries", artifacts._chat_rows(world)),
        "profiles.json": artifacts._dump_streamed({}, "agents", artifacts._profile_rows(world)),
        "agent_trajectories.json": artifacts._dump_streamed(
            {"rounds": list(range(5)), "markets": world.market_ids},
            "agents",
            artifacts._trajectory_rows(world),
        ),
    }
    assert streamed == {
        "chat_log.json": dump_artifact(artifacts.chat_log(world)),
        "profiles.json": dump_artifact(artifacts.profiles(world)),
        "agent_trajectories.json": dump_artifact(artifacts.agent_trajectories(world)),
    }
    entries = json.loads(streamed["chat_log.json"])["entries"]
    order = {"news": -1, "thought": 0, "trade": 2}
    keys = [(e["round"], order.get(e["kind"], 1), e.get("post_id", e.get("trade_id", 0))) for e in entries]
    assert keys == sorted(keys) and len(keys) == len(world.posts) + len(world.trades)
