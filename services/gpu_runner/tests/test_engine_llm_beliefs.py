"""LLM agents state their beliefs: the engine records what they say, remembers it for them, and
forecasts from it. Through ``run_simulation`` with the ``openai`` backend against the fake
OpenAI-compatible server over a real socket; the fake's agents state scripted probabilities."""

import json

from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.llm import make_backend
from tests.fakes.openai_server import FakeOpenAIServer, agent_and_round, scripted_beliefs

SEED = (
    "The Harbor council votes on Measure T, a half-cent transit levy, in November. Alpha Corp wants "
    "the Delta rail line it would fund and has endorsed the measure. Beta Union opposes the levy as "
    "regressive and is campaigning against it. Dana Reyes, the council's swing vote, has not decided; "
    "a September poll found 58 percent of likely voters in favour."
)
GOAL = "Will Measure T pass in November?"


def backend(server):
    return make_backend(
        "openai",
        base_url=server.base_url,
        model="fake-model",
        concurrency=8,
        queue_depth=0,
        backoff_s=0.005,
        max_backoff_s=0.02,
    )


async def simulate(stated, *, agents=8, rounds=3, record=None):
    responder = scripted_beliefs(stated)

    def respond(body, n):
        if record is not None:
            record.append(body)
        return responder(body, n)

    async with FakeOpenAIServer(concurrency=8, latency_ms=1, responder=respond) as srv:
        be = backend(srv)
        config = SimulationConfig(agents=agents, rounds=rounds, seed=4, max_markets=2)
        try:
            return await run_simulation(SimulationRequest(SEED, GOAL, config), be)
        finally:
            await be.aclose()


async def test_agents_who_all_state_080_and_never_trade_give_a_forecast_of_080():
    result = await simulate(lambda agent, round_no: 0.8)
    assert result.summary["counts"]["trades"] == 0
    goal = result.summary["forecast"]["goal"]
    assert goal["market_id"] == "m1"
    assert abs(goal["probability"] - 0.8) <= 0.05
    assert goal["interval"][0] <= goal["probability"] <= goal["interval"][1]


async def test_a_split_crowd_forecasts_between_its_camps():
    result = await simulate(lambda agent, round_no: 0.9 if agent % 2 == 0 else 0.3, agents=10)
    probability = result.summary["forecast"]["goal"]["probability"]
    assert 0.5 <= probability <= 0.7


def scripted(agent: int, round_no: int) -> float:
    if agent == 0 and round_no == 3:
        return 1.7  # out of range: the turn is invalid twice and fails
    return round(0.1 + 0.07 * agent + 0.05 * round_no, 2)


async def test_the_belief_is_what_the_agent_last_stated_and_a_failed_turn_keeps_it():
    result = await simulate(scripted, agents=6, rounds=4)
    failed = json.loads(result.artifacts["engagement_summary.json"])["failed_turns"]
    assert [(r, a) for r, a, _ in failed] == [(3, 0)]
    trajectories = json.loads(result.artifacts["agent_trajectories.json"])
    for row in trajectories["agents"]:
        a = row["agent_id"]
        m1 = row["beliefs"]["m1"]
        assert len(m1) == 5  # round 0 (the prior) and rounds 1-4
        expected = [scripted(a, r) for r in range(1, 5)]
        if a == 0:
            expected[2] = scripted(0, 2)  # round 3 failed: still what it said in round 2
        assert m1[1:] == expected


async def test_the_prompt_shows_the_agents_own_last_statement():
    bodies = []
    await simulate(scripted, agents=6, rounds=4, record=bodies)
    turns = {}
    for body in bodies:
        if body["response_format"]["json_schema"]["name"] != "agent_turn":
            continue
        schema = body["response_format"]["json_schema"]["schema"]
        assert schema["properties"]["beliefs"]["required"] == ["m1", "m2"]
        agent, round_no = agent_and_round(body)
        turns.setdefault((agent, round_no), body["messages"][1]["content"])
    for agent in range(6):
        for round_no in (2, 3, 4):
            said = round_no - 1 if not (agent == 0 and round_no == 4) else 2  # round 3 failed for agent 0
            p = scripted(agent, said)
            line = f"- m1: {p:.2f} - scripted agent {agent} round {said}: {p:.2f}"
            assert line in turns[(agent, round_no)].splitlines()
    # before its first turn an agent has stated nothing: its starting view is labelled as such
    assert "YOUR STARTING VIEW (you have stated nothing yet)" in turns[(1, 1)]
    assert "scripted agent" not in turns[(1, 1)] and "YOUR LAST STATED BELIEFS" in turns[(1, 2)]


async def test_replicates_share_one_backend_without_exceeding_its_capacity():
    async with FakeOpenAIServer(concurrency=32, latency_ms=10, responder=scripted_beliefs(scripted)) as srv:
        be = make_backend("openai", base_url=srv.base_url, model="fake-model", concurrency=8, queue_depth=0)
        config = SimulationConfig(agents=4, rounds=3, seed=4, max_markets=2, replicates=3)
        result = await run_simulation(SimulationRequest(SEED, GOAL, config), be)
        await be.aclose()
    # 8 calls at once from worlds of 4 agents: the replicates' rounds ran together, and the one
    # backend's capacity bounded them all
    assert srv.peak == 8
    assert result.summary["forecast"]["goal"]["replicates"] == 3
    calls = json.loads(result.artifacts["engagement_summary.json"])["llm_calls"]
    # every agent of every replicate, every round, plus the retry of agent 0's invalid round-3 turn in each
    assert sum(1 for c in calls if c[1] >= 0) == 3 * 4 * 3 + 3
