"""The pipeline end to end with the heuristic backend: stages, progress, artifacts, forecast."""

import json
import math

import pytest

from services.gpu_runner.engine import ARTIFACT_NAMES, SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.engine.types import MarketSpec
from services.gpu_runner.llm import make_backend

SEED = (
    "Northwind Energy plans to open the Cobalt Ridge mine next spring. Governor Alice Moreno supports the "
    "project and says approval is likely. The Green Valley Coalition opposes the mine and warns of water "
    "risks. The Miners Guild backed the plan alongside Northwind Energy. Professor Sam Okafor doubts the "
    "permits will pass in time."
)
GOAL = "Will the Cobalt Ridge mine receive its permit?"


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
    market_ids = [m["id"] for m in curves["markets"]]
    assert traj["markets"] == market_ids
    for agent in traj["agents"]:
        assert len(agent["position"]) == len(agent["confidence"]) == 9
        # every agent's stated probability for every market, every round, with its reasons
        assert set(agent["beliefs"]) == set(market_ids)
        assert all(len(v) == 9 and all(0 < p < 1 for p in v) for v in agent["beliefs"].values())
        assert agent["position"] == [round(2 * p - 1, 4) for p in agent["beliefs"]["m1"]]
        assert agent["reasons"] and all(r["reason"] for r in agent["reasons"])
    forecast = curves["forecast"]
    assert set(forecast) == {"goal", "markets", "method"}
    assert set(forecast["goal"]) == {
        "market_id",
        "probability",
        "interval",
        "level",
        "replicates",
        "market",
        "belief",
    }
    assert set(forecast["markets"]) == set(market_ids)
    for m in forecast["markets"].values():
        assert set(m) == {"probability", "interval", "market", "belief"}
        lo, hi = m["interval"]
        assert 0 < lo <= m["probability"] <= hi < 1
    assert curves["replicates"] == 1 and len(curves["replicate_curves"]) == 1
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
    goal = result.summary["forecast"]["goal"]
    assert 0 < goal["probability"] < 1 and goal["market_id"] == "m1" and goal["level"] == 0.8
    assert result.summary["goal_probability"] == goal["probability"]


async def test_pinned_markets_are_used_as_given_and_keep_every_field():
    markets = (
        MarketSpec("m1", "Will the permit be granted?", 0.3, "given", 1.0, "YES if granted by day 30."),
        MarketSpec(
            "m2",
            "Will the Coalition sue?",
            0.4,
            "critic",
            -0.6,
            "YES if a suit is filed.",
            0.35,
            "stakeholder",
        ),
    )
    config = SimulationConfig(agents=10, rounds=2, seed=1)
    result = await run_simulation(
        SimulationRequest(SEED, GOAL, config, markets=markets), make_backend("heuristic")
    )
    assert result.markets_config == [m.to_config() for m in markets]
    assert result.markets_config[1]["link"] == -0.6  # a re-dispatch rebuilds the same market
    assert tuple(MarketSpec.from_config(row) for row in result.markets_config) == markets


async def test_liquidity_comes_from_the_subsidy_not_the_agent_count():
    few, _ = await run(agents=5, rounds=2, market_subsidy=20.0)
    many, _ = await run(agents=300, rounds=2, market_subsidy=20.0)
    richer, _ = await run(agents=5, rounds=2, market_subsidy=40.0)

    def liquidity(result):
        return {
            m["id"]: m["liquidity_b"] for m in json.loads(result.artifacts["market_curves.json"])["markets"]
        }

    assert liquidity(few) == liquidity(many)
    assert all(
        richer_b == pytest.approx(2 * b, abs=1e-3)
        for b, richer_b in zip(liquidity(few).values(), liquidity(richer).values(), strict=True)
    )
    # b = S / ln(1 / min(p0, 1 - p0)): the market maker's worst-case loss is the subsidy
    m1 = json.loads(few.artifacts["market_curves.json"])["markets"][0]
    assert m1["liquidity_b"] * math.log(1 / min(m1["initial_price_yes"], 1 - m1["initial_price_yes"])) == (
        pytest.approx(20.0, abs=1e-3)
    )


async def test_a_long_run_keeps_most_of_the_agents_cash():
    """Fractional-Kelly sizing: at the last round of a large-tier run (35 agents x 200 rounds) at
    most 80% of the agents' cash is committed."""
    result, _ = await run(agents=35, rounds=200, replicates=1)
    profiles = json.loads(result.artifacts["profiles.json"])["agents"]
    committed = 1 - sum(a["cash"] for a in profiles) / (100.0 * len(profiles))
    assert result.summary["counts"]["trades"] > 35
    assert committed <= 0.8


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


async def test_a_seed_naming_fewer_than_three_stakeholders_is_flagged_as_low_evidence():
    thin = (
        "people in the valley keep talking about the new bridge. some say it will be finished soon and "
        "others doubt it. nobody has published a date and the weather has been mixed all month, so "
        "opinions swing from week to week without much to go on."
    )
    config = SimulationConfig(agents=8, rounds=3, seed=2, replicates=2)
    result = await run_simulation(
        SimulationRequest(thin, "Will the new bridge open this year?", config), make_backend("heuristic")
    )
    evidence = json.loads(result.artifacts["market_curves.json"])["evidence"]
    assert evidence["stakeholders"] < 3 and evidence["low_evidence"] is True
    assert result.summary["evidence"]["low_evidence"] is True
    rich, _ = await run(agents=8, rounds=3)
    assert json.loads(rich.artifacts["market_curves.json"])["evidence"]["low_evidence"] is False
