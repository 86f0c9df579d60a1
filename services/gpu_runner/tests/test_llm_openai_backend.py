"""The openai backend and the engine against a fake OpenAI-compatible server over real sockets, and
the same contract against a real one (llama.cpp's server with SmolLM2)."""

import json

import pytest

from services.common.openai_client import chat_url
from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.engine.actions import action_schema
from services.gpu_runner.llm import LLMError, make_backend
from services.gpu_runner.model_store import DEFAULT_GGUF_MODEL
from tests.fakes.openai_server import FakeOpenAIServer

SEED = "Alpha Corp wants to build the Delta Bridge. Beta Union opposes it. Dana Reyes has not decided."
GOAL = "Predict whether the Delta Bridge gets approved"
SCHEMA = {"type": "object"}
MIX = ["valid", "invalid_json", "valid", "slow", "http_429", "valid", "schema_violation", "http_500", "valid"]


def backend(server, capacity, **kw):
    return make_backend(
        "openai",
        base_url=server.base_url,
        model="fake-model",
        concurrency=capacity,
        queue_depth=0,
        backoff_s=0.005,
        max_backoff_s=0.02,
        **kw,
    )


def test_chat_url_accepts_host_or_v1_base():
    assert chat_url("http://h:8000") == "http://h:8000/v1/chat/completions"
    assert chat_url("http://h:8000/v1/") == "http://h:8000/v1/chat/completions"


async def test_429_and_500_are_retried_and_usage_is_reported():
    async with FakeOpenAIServer(concurrency=2, latency_ms=1, script=["http_429", "http_500", "valid"]) as srv:
        be = backend(srv, 2)
        result = await be.complete_json([{"role": "user", "content": "hi"}], SCHEMA, schema_name="x")
        await be.aclose()
    assert result.ok and result.data == {} and result.attempts == 3
    assert result.prompt_tokens >= 1 and result.completion_tokens >= 1
    assert srv.by_behaviour == {"http_429": 1, "http_500": 1, "valid": 1}


async def test_invalid_json_is_returned_as_a_parse_error_not_raised():
    async with FakeOpenAIServer(concurrency=1, latency_ms=1, script=["invalid_json"]) as srv:
        be = backend(srv, 1)
        result = await be.complete_json([{"role": "user", "content": "hi"}], SCHEMA)
        await be.aclose()
    assert not result.ok and result.data is None and "invalid JSON" in result.parse_error


async def test_giving_up_and_unreachable_servers_raise_llm_error():
    async with FakeOpenAIServer(concurrency=1, latency_ms=1, script=["http_500"]) as srv:
        be = backend(srv, 1, max_retries=2)
        with pytest.raises(LLMError, match="3 attempts"):
            await be.complete_json([{"role": "user", "content": "hi"}], SCHEMA)
        await be.aclose()
    dead = make_backend(
        "openai", base_url=srv.base_url, model="m", concurrency=1, max_retries=1, backoff_s=0.001
    )
    with pytest.raises(LLMError):
        await dead.complete_json([{"role": "user", "content": "hi"}], SCHEMA)
    await dead.aclose()


async def test_request_carries_the_json_schema_response_format():
    seen = []

    def responder(body, n):
        seen.append(body)
        return {"ok": True}

    async with FakeOpenAIServer(concurrency=1, latency_ms=1, responder=responder) as srv:
        be = backend(srv, 1)
        await be.complete_json(
            [{"role": "user", "content": "hi"}],
            {"type": "object"},
            schema_name="agent_turn",
            max_tokens=77,
            temperature=0.1,
        )
        await be.aclose()
    body = seen[0]
    assert body["model"] == "fake-model" and body["max_tokens"] == 77 and body["temperature"] == 0.1
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "agent_turn", "schema": {"type": "object"}, "strict": False},
    }


async def test_engine_survives_a_mixed_server_counts_invalid_output_and_fills_every_slot():
    limit = 8
    async with FakeOpenAIServer(concurrency=limit, latency_ms=20, slow_ms=120, script=MIX) as srv:
        be = backend(srv, limit)
        config = SimulationConfig(agents=40, rounds=3, seed=2, max_markets=2)
        result = await run_simulation(SimulationRequest(SEED, GOAL, config), be)
        await be.aclose()
        stats = srv.stats()
    assert stats["peak_concurrency"] == limit  # the engine kept the server's limit full ...
    assert stats["rejected"] == 0  # ... without ever exceeding it
    llm = result.summary["llm"]
    assert llm["retries"] > 0 and llm["invalid_turns"] > 0  # invalid replies retried once, then counted
    assert llm["errors"] == 0  # 429 / 500 were retried by the backend, never surfaced
    assert llm["prompt_tokens"] > 0 and llm["completion_tokens"] > 0
    summary = json.loads(result.artifacts["engagement_summary.json"])
    assert summary["backend"]["heuristic"] is False
    calls = summary["llm_calls"]  # [round, agent, attempt, prompt_tokens, completion_tokens, status]
    assert sum(1 for c in calls if c[2] == 2) == llm["retries"]  # every invalid first reply was retried once
    twice_invalid = sum(1 for c in calls if c[1] >= 0 and c[2] == 2 and c[5] == "invalid")
    assert len(summary["failed_turns"]) == twice_invalid > 0  # ... and only then counted as failed
    assert all(reason.startswith("invalid:") for _, _, reason in summary["failed_turns"])
    assert summary["totals"].get("failed_turn", 0) == len(summary["failed_turns"]) > 0
    assert len(summary["llm_calls"]) == llm["calls"]
    assert result.summary["counts"]["posts"] > 0 and result.summary["counts"]["trades"] > 0
    names = [e.name for e in result.entities]
    assert names == ["Alpha Corp", "Beta Union", "Dana Reyes"]  # entities came from the LLM


async def test_concurrency_is_bounded_by_capacity_not_agent_count():
    async with FakeOpenAIServer(concurrency=64, latency_ms=10) as srv:
        be = backend(srv, 5)
        config = SimulationConfig(agents=30, rounds=1, seed=3, max_markets=1)
        await run_simulation(SimulationRequest(SEED, GOAL, config), be)
        await be.aclose()
    assert srv.peak == 5


async def test_a_round_where_every_call_fails_raises_instead_of_recording_silence():
    async with FakeOpenAIServer(concurrency=4, latency_ms=1, script=["http_500"]) as srv:
        be = backend(srv, 4, max_retries=0)
        config = SimulationConfig(agents=6, rounds=2, seed=3, max_markets=1)
        with pytest.raises(LLMError, match="every LLM call of round 1 failed"):
            await run_simulation(SimulationRequest(SEED, GOAL, config), be)
        await be.aclose()


# --- the same contract against a real server: llama_cpp.server with SmolLM2 (tests/fixtures/llm_server.py)

REAL_MESSAGES = [
    {"role": "system", "content": f"Facts: {SEED} Answer with one JSON object."},
    {"role": "user", "content": "You are Dana Reyes. State your probability that the bridge is approved."},
]


def real_backend(url: str, **kw):
    return make_backend(
        "openai", base_url=url, model=DEFAULT_GGUF_MODEL, concurrency=1, queue_depth=1, backoff_s=0.01, **kw
    )


async def test_real_server_gets_schema_constrained_output_in_the_form_it_takes(llama_server_url):
    be = real_backend(llama_server_url)
    schema = action_schema(2, ["goal"])
    try:
        first = await be.complete_json(REAL_MESSAGES, schema, schema_name="agent_turn", max_tokens=300)
        second = await be.complete_json(REAL_MESSAGES, schema, schema_name="agent_turn", max_tokens=300)
    finally:
        await be.aclose()
    # llama.cpp's server refuses the json_schema form (HTTP 500) and takes json_object + schema.
    assert be.client.formats.style == "json_object"
    for result in (first, second):
        assert result.ok, result.text
        assert {"beliefs", "actions"} <= set(result.data)
        assert result.attempts == 1  # the refused form was not a spent attempt
        assert result.prompt_tokens > 40 and result.completion_tokens > 5  # the server's own usage


async def test_real_server_cut_off_answer_is_a_parse_error_not_an_exception(llama_server_url):
    be = real_backend(llama_server_url)
    try:
        result = await be.complete_json(REAL_MESSAGES, action_schema(2, ["goal"]), max_tokens=4)
    finally:
        await be.aclose()
    assert not result.ok and "cut off at max_tokens" in result.parse_error
    assert result.completion_tokens == 4


async def test_real_server_context_overflow_fails_at_once_with_the_servers_reason(llama_server_url):
    be = real_backend(llama_server_url, max_retries=3)
    try:
        with pytest.raises(LLMError, match="HTTP 400") as failure:
            await be.complete_json([{"role": "user", "content": "bridge " * 3000}], {"type": "object"})
    finally:
        await be.aclose()
    assert "context" in str(failure.value).lower()


async def test_engine_plays_rounds_against_the_real_server(llama_server_url):
    # llama.cpp's server leaves numeric ranges unconstrained (a confidence of 1.5 gets through):
    # such turns are retried and counted, which is what this checks, beside the valid ones.
    be = real_backend(llama_server_url, timeout_s=300, extra_body={"repeat_penalty": 1.1})
    config = SimulationConfig(agents=3, rounds=1, seed=4, max_markets=1, max_entities=6)
    try:
        result = await run_simulation(SimulationRequest(SEED, GOAL, config), be)
    finally:
        await be.aclose()
    llm = result.summary["llm"]
    assert llm["errors"] == 0 and llm["prompt_tokens"] > 0 and llm["completion_tokens"] > 0
    summary = json.loads(result.artifacts["engagement_summary.json"])
    first_tries = [c for c in summary["llm_calls"] if c[1] >= 0 and c[2] == 1]
    assert len(first_tries) == 3
    turns = [c for c in summary["llm_calls"] if c[1] >= 0]
    assert any(c[5] == "ok" for c in turns), summary["failed_turns"]
    retried = {c[1] for c in turns if c[2] == 2}
    assert retried == {c[1] for c in first_tries if c[5] == "invalid"}  # every invalid first try, once
    assert {agent for _, agent, _ in summary["failed_turns"]} <= retried
