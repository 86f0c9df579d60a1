"""Baselines recorded in every run (docs/forecasting.md, "Baselines"): the goal market's opening
price and a single forecast without simulation - the heuristic backend's seed-evidence prior, or one
call to the LLM backend, made once and kept across a resume. LLM runs go through the ``openai``
backend to the fake OpenAI-compatible server over a real socket, with scripted answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from services.gpu_runner.engine import (
    SimulationConfig,
    SimulationRequest,
    resume_simulation,
    run_simulation,
)
from services.gpu_runner.engine.baselines import DIRECT_SCHEMA_NAME, direct_seed, parse_direct
from services.gpu_runner.engine.checkpoint import load_world
from services.gpu_runner.engine.prompts import TEMPLATE_TOKENS, direct_forecast_messages
from services.gpu_runner.engine.retrieval import estimate_tokens
from services.gpu_runner.engine.types import MarketSpec
from services.gpu_runner.llm import make_backend
from tests.fakes.openai_server import FakeOpenAIServer, schema_of, scripted_beliefs

SEED = (
    "The Harbor council votes on Measure T, a half-cent transit levy, in November. Alpha Corp wants "
    "the Delta rail line it would fund and has endorsed the measure. Beta Union opposes the levy as "
    "regressive and is campaigning against it. Dana Reyes, the council's swing vote, has not decided; "
    "a September poll found 58 percent of likely voters in favour."
)
GOAL = "Will Measure T pass in November?"
DIRECT_LINE = re.compile(r"a single forecast without simulation puts the goal at (\d+)%")


def curves(result: Any) -> dict[str, Any]:
    return json.loads(result.artifacts["market_curves.json"])


# -- heuristic backend: the seed-evidence prior ------------------------------------------------


async def heuristic(goal: str = GOAL, markets: tuple[MarketSpec, ...] | None = None) -> tuple[Any, list[str]]:
    logs: list[str] = []
    config = SimulationConfig(agents=12, rounds=4, seed=3)
    result = await run_simulation(
        SimulationRequest(SEED, goal, config, markets=markets),
        make_backend("heuristic"),
        on_progress=lambda e: logs.extend(e.log),
    )
    return result, logs


async def test_the_heuristic_baseline_is_the_evidence_prior_it_logged_and_the_opening_price():
    result, logs = await heuristic()
    c = curves(result)
    prior = c["evidence"]["prior"]
    assert 0.5 < prior < 0.97  # the seed's poll and endorsement lean YES: not a default value
    direct = c["baselines"]["direct"]
    assert direct["probability"] == prior == result.summary["evidence"]["prior"]
    assert direct["source"] == "heuristic_prior" and direct["reason"].startswith("The seed-evidence prior")
    assert set(direct) == {"probability", "source", "reason"}
    assert c["baselines"]["opening_price"] == c["markets"][0]["initial_price_yes"]
    assert c["baselines"]["opening_price"] == result.markets_config[0]["initial_price_yes"]
    assert result.summary["baselines"] == c["baselines"]
    # the progress log says it, as the evidence line does
    said = [int(m.group(1)) for line in logs if (m := DIRECT_LINE.search(line))]
    assert said == [round(prior * 100)]
    assert any(f"seed evidence puts the goal at {prior:.0%}" in line for line in logs)


async def test_the_heuristic_baseline_follows_the_goal_and_the_opening_price_follows_the_market():
    negated, _ = await heuristic("Will Measure T fail in November?")
    asked, _ = await heuristic()
    # the goal's negation flips the prior, and so the baseline
    p, q = (curves(r)["baselines"]["direct"]["probability"] for r in (asked, negated))
    assert p + q == pytest.approx(1.0, abs=2e-4)
    pinned = (MarketSpec("m1", "Will Measure T pass in November?", 0.3, "pinned", kind="goal"),)
    result, _ = await heuristic(markets=pinned)
    assert curves(result)["baselines"]["opening_price"] == 0.3


# -- LLM backend: one call to the same model ---------------------------------------------------


class Script:
    """The fake server's answers: agents state 0.6 and do nothing; the direct forecast is
    ``direct`` (a probability or a whole reply); every request body is recorded."""

    def __init__(self, direct: Any = 0.37) -> None:
        self.direct = direct
        self.agents = scripted_beliefs(lambda agent, round_no: 0.6)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any], n: int) -> dict[str, Any]:
        self.bodies.append(body)
        if schema_of(body)[0] == DIRECT_SCHEMA_NAME:
            if isinstance(self.direct, dict):
                return self.direct
            return {"reason": f"scripted direct {self.direct}", "probability": self.direct}
        return self.agents(body, n)

    def direct_calls(self) -> list[dict[str, Any]]:
        return [b for b in self.bodies if schema_of(b)[0] == DIRECT_SCHEMA_NAME]


def openai_backend(server: FakeOpenAIServer) -> Any:
    return make_backend(
        "openai",
        base_url=server.base_url,
        model="fake-model",
        concurrency=4,
        queue_depth=0,
        backoff_s=0.005,
        max_backoff_s=0.02,
    )


def llm_request(seed_text: str = SEED, rounds: int = 3, replicates: int = 2) -> SimulationRequest:
    return SimulationRequest(
        seed_text,
        GOAL,
        SimulationConfig(agents=5, rounds=rounds, seed=9, max_markets=2, replicates=replicates),
    )


async def llm_run(script: Script, request: SimulationRequest | None = None, **kw: Any) -> Any:
    async with FakeOpenAIServer(concurrency=4, latency_ms=1, responder=script) as srv:
        be = openai_backend(srv)
        try:
            return await run_simulation(request or llm_request(), be, **kw)
        finally:
            await be.aclose()


async def test_the_llm_baseline_is_what_the_model_answered_in_one_call():
    script = Script(0.37)
    logs: list[str] = []
    result = await llm_run(script, on_progress=lambda e: logs.extend(e.log))
    c = curves(result)
    direct = {"probability": 0.37, "source": "llm", "reason": "scripted direct 0.37"}
    assert c["baselines"]["direct"] == direct
    assert c["baselines"]["opening_price"] == c["markets"][0]["initial_price_yes"]
    assert result.summary["baselines"] == c["baselines"]
    assert [int(m.group(1)) for line in logs if (m := DIRECT_LINE.search(line))] == [37]
    # one call for the run (not per replicate), to the same model, with a fixed seed, the goal and the seed
    (body,) = script.direct_calls()
    assert body["model"] == "fake-model" and body["seed"] == direct_seed(9)
    user = body["messages"][-1]["content"]
    assert SEED in user and GOAL in user
    assert "Resolves YES if" in user  # the goal market's resolution criterion
    # it is a pipeline call in the run's LLM accounting
    calls = json.loads(result.artifacts["engagement_summary.json"])["llm_calls"]
    assert [0, -1, 1] in [c[:3] for c in calls] and result.summary["llm"]["invalid_turns"] == 0


async def test_a_long_seed_is_cut_to_the_prompt_budget():
    long_seed = " ".join(f"Paragraph {i}: the council debated the levy again." for i in range(2000))
    script = Script(0.8)
    result = await llm_run(script, llm_request(long_seed, rounds=1))
    assert curves(result)["baselines"]["direct"]["probability"] == 0.8
    (body,) = script.direct_calls()
    budget = SimulationConfig().prompt_tokens
    used = sum(estimate_tokens(m["content"]) for m in body["messages"]) + TEMPLATE_TOKENS
    assert budget - 40 <= used <= budget  # as much of the seed as fits, no more
    user = body["messages"][-1]["content"]
    assert "Paragraph 0: the council" in user and "Paragraph 1999" not in user and "…" in user


def test_the_direct_prompt_keeps_to_any_budget_and_keeps_the_question():
    text = "word " * 20_000
    for budget in (1024, 2048, 8192):
        messages = direct_forecast_messages(text, GOAL, GOAL, "Resolves YES if it passes.", budget)
        assert sum(estimate_tokens(m["content"]) for m in messages) + TEMPLATE_TOKENS <= budget
        assert messages[-1]["content"].rstrip().endswith("then the probability.")
        assert messages[-1]["content"].count(GOAL) == 2  # before and after the document


def test_a_direct_reply_is_checked():
    assert parse_direct({"reason": "  Polls lean yes.\n", "probability": 1}) == (1.0, "Polls lean yes.")
    assert parse_direct({"reason": "x" * 500, "probability": 0.2})[1] == "x" * 299 + "…"
    for bad in ({"reason": "r", "probability": 1.3}, {"reason": "r", "probability": True}, {"reason": "r"},
                {"reason": " ", "probability": 0.4}, {"probability": 0.4}, [0.4]):  # fmt: skip
        with pytest.raises(ValueError):
            parse_direct(bad)


async def test_a_failed_direct_call_is_recorded_without_failing_the_job():
    script = Script({"reason": "far too sure", "probability": 1.7})  # out of range: invalid twice
    result = await llm_run(script)
    direct = curves(result)["baselines"]["direct"]
    assert direct["probability"] is None and direct["source"] == "llm"
    assert direct["error"].startswith("invalid: probability")
    assert len(script.direct_calls()) == 2  # the call and its one retry
    assert result.summary["forecast"]["goal"]["probability"] > 0  # the run went on
    assert result.summary["baselines"]["direct"] == direct


class Crash(Exception):
    """The scripted backend failing for good on the direct call."""


async def test_a_resumed_llm_run_does_not_ask_again_and_gives_identical_artifacts():
    # One replicate: the replicates' calls of a round finish in any order, and llm_calls rows of
    # the same round, agent and attempt keep that order, so only a single replicate is byte-stable.
    request = llm_request(replicates=1)
    reference_script = Script(0.42)
    reference = await llm_run(reference_script, request)
    assert len(reference_script.direct_calls()) == 1

    saved: dict[int, bytes] = {}

    def on_checkpoint(round_no: int, data: bytes) -> None:
        saved[round_no] = data
        if round_no == 1:
            raise Crash  # the runner dies right after uploading the checkpoint of round 1

    crashed_script = Script(0.42)
    with pytest.raises(Crash):
        await llm_run(crashed_script, request, on_checkpoint=on_checkpoint)
    assert len(crashed_script.direct_calls()) == 1
    worlds, _, _ = load_world(saved[1])
    assert all(w.meta["direct_forecast"]["probability"] == 0.42 for w in worlds)

    # the resumed run's server would answer differently: it must not be asked at all
    resumed_script = Script(0.99)
    async with FakeOpenAIServer(concurrency=4, latency_ms=1, responder=resumed_script) as srv:
        be = openai_backend(srv)
        try:
            resumed = await resume_simulation(saved[1], be)
        finally:
            await be.aclose()
    assert resumed_script.direct_calls() == [] and resumed_script.bodies  # agents were asked, not it
    assert curves(resumed)["baselines"]["direct"]["probability"] == 0.42
    assert resumed.artifacts == reference.artifacts
    assert resumed.summary["baselines"] == reference.summary["baselines"]
