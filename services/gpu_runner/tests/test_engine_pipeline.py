"""The pipeline end to end with the heuristic backend: stages, progress, artifacts, forecast."""

import json

from services.gpu_runner.engine import ARTIFACT_NAMES, SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.engine.types import MarketSpec
from services.gpu_runner.llm import make_backend

SEED = (
    "Northwind Energy plans to open the Cobalt Ridge mine next spring. Governor Alice Moreno supports the "
    "project and says approval is likely. The Green Valley Coalition opposes the mine and warns of water "
    "risks. The Miners Guild backed the plan alongside Northwind Energy. Professor Sam Okafor doubts the "
    "permits will pass in time."
)
GOAL = "Predict whether the Cobalt Ridge mine receives its permit"


async def run(**cfg):
    events = []
    config = SimulationConfig(**{"agents": 30, "rounds": 8, "seed": 5, **cfg})
    result = await run_simulation(
        SimulationRequest(SEED, GOAL, config), make_backend("heuristic"), on_progress=events.append
    )
    return result, events


async def test_progress_walks_through_the_four_stages_and_every_round():
    result, events = await run()
    assert events[0].stage == 1 and events[-1].stage == 4
    assert sorted({e.stage for e in events}) == [1, 2, 3, 4]
    rounds = [e.round for e in events if e.stage == 3]
    assert rounds == list(range(1, 9))
    last_round = [e for e in events if e.stage == 3][-1]
    assert last_round.max_rounds == 8 and last_round.agents == 30
    assert set(last_round.prices) == {m["id"] for m in result.markets_config}
    assert all(0 < p < 1 for p in last_round.prices.values())
    assert all(e.log for e in events)


async def test_artifacts_have_the_documented_shapes():
    result, _ = await run()
    files = {name: json.loads(body) for name, body in result.artifacts.items()}
    assert tuple(files) == ARTIFACT_NAMES
    curves = files["market_curves.json"]
    for market in curves["markets"]:
        assert [p["round"] for p in market["curve"]] == list(range(9))
        assert {"price_yes", "volume_shares", "volume_cash"} <= set(market["curve"][1])
    assert sum(p["volume_cash"] for m in curves["markets"] for p in m["curve"]) > 0
    assert 0 <= curves["goal"]["belief_probability"] <= 1 and curves["goal"]["spread"] >= 0
    traj = files["agent_trajectories.json"]
    assert len(traj["agents"]) == 30
    assert all(len(a["position"]) == len(a["confidence"]) == 9 for a in traj["agents"])
    posts = files["posts.json"]["posts"]
    assert posts and {p["kind"] for p in posts} <= {"post", "reply", "repost", "market_comment"}
    assert len(files["trades.json"]["trades"]) > 0
    assert files["engagement_summary.json"]["backend"] == {
        "name": "heuristic",
        "model": "heuristic-rules-v1",
        "heuristic": True,
    }
    assert len(files["profiles.json"]["agents"]) == 30
    assert all(a["cash"] >= 0 for a in files["profiles.json"]["agents"])
    assert files["chat_log.json"]["entries"]
    assert files["social_graph.json"]["edges"]
    assert {r["origin"] for r in files["relations.json"]["relations"]} == {"seed", "simulation"}


async def test_entity_graph_and_forecast():
    result, _ = await run()
    graph = result.result_graph
    ids = {n["id"] for n in graph["nodes"]}
    assert {"stance", "sentiment", "influence"} <= set(graph["nodes"][0])
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
    assert {"follows", "likes", "mentions"} <= {e["type"] for e in graph["edges"]}
    assert abs(sum(n["influence"] for n in graph["nodes"]) - 1.0) < 1e-3
    assert result.markets_config[0]["id"] == "m1" and "Cobalt Ridge" in result.markets_config[0]["question"]
    assert set(result.summary["probabilities"]) == {m["id"] for m in result.markets_config}
    assert 0 < result.summary["goal_probability"] < 1


async def test_pinned_markets_are_used_as_given():
    markets = (MarketSpec("m1", "Will the permit be granted?", 0.3, "given"),)
    config = SimulationConfig(agents=10, rounds=2, seed=1)
    result = await run_simulation(
        SimulationRequest(SEED, GOAL, config, markets=markets), make_backend("heuristic")
    )
    assert result.markets_config == [
        {
            "id": "m1",
            "question": "Will the permit be granted?",
            "initial_price_yes": 0.3,
            "rationale": "given",
        }
    ]


async def test_a_thousand_agents_for_twenty_rounds_completes():
    result, _ = await run(agents=1000, rounds=20)
    counts = result.summary["counts"]
    assert counts["agents"] == 1000 and counts["rounds"] == 20
    assert counts["posts"] > 1000 and counts["trades"] > 100
    # agents see their cash, so orders they cannot pay for are rare
    assert counts["insufficient_funds"] <= 0.01 * counts["trades"]
    profiles = json.loads(result.artifacts["profiles.json"])["agents"]
    assert min(a["cash"] for a in profiles) >= 0
    assert min(h for a in profiles for m in a["holdings"].values() for h in m.values()) >= 0
