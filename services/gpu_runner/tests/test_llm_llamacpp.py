"""The `llamacpp` backend with the real SmolLM2-135M-Instruct model on the CPU (the `local-llm` extra).

Nothing here is skipped: `make setup` installs the model and llama-cpp-python, and a missing model
fails these tests with the reason.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from pathlib import Path

import pytest

from services.common.storage import ObjectStore
from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.engine.actions import action_schema, validate_turn
from services.gpu_runner.engine.llm_calls import CallStats, call_validated
from services.gpu_runner.llm import LLMError, make_backend
from services.gpu_runner.llm.llamacpp_backend import (
    JSON_CHAR,
    MAX_GRAMMAR_STRING,
    LlamaCppBackend,
    ModelFileError,
    check_gguf,
    schema_grammar,
)
from services.gpu_runner.model_store import (
    DEFAULT_GGUF_MODEL,
    GGUF_PREFIX,
    ModelUnavailable,
    packaged_gguf,
    resolve_gguf,
)

SEED = (
    "The city council votes on the Delta Bridge on 3 March. Mayor Ana Ruiz and the Chamber of "
    "Commerce support it; the Riverside Residents Union opposes it because of noise and cost. "
    "A poll last week found 58% of voters in favour. Councillor Ben Okafor is undecided."
)
GOAL = "Will the Delta Bridge be approved by the council on 3 March?"
MARKETS = ["goal", "m2"]


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = packaged_gguf(DEFAULT_GGUF_MODEL)
    assert path is not None and path.is_file(), f"the packaged model is missing ({path}): run `make setup`"
    return path


def smollm(model_path: Path, **kw: int) -> LlamaCppBackend:
    backend = make_backend("llamacpp", model_id=DEFAULT_GGUF_MODEL, model_path=str(model_path), **kw)
    assert isinstance(backend, LlamaCppBackend)
    return backend


def turn_messages(agent: str) -> list[dict[str, str]]:
    return [
        {
            "role": "system",
            "content": f"You take part in a public debate. The facts: {SEED} The question: {GOAL} "
            "Answer with one JSON object: your probability for each market, a one-line reason, "
            "and your actions.",
        },
        {"role": "user", "content": f"You are {agent}. State your beliefs and act."},
    ]


def test_the_grammar_keeps_the_schema_order_bounds_numbers_and_parses() -> None:
    from llama_cpp import LlamaGrammar

    gbnf = schema_grammar(action_schema(3, MARKETS))
    rules = dict(line.split(" ::= ", 1) for line in gbnf.splitlines())
    belief = next(body for name, body in rules.items() if name.endswith("goal") and "kv" in body)
    assert belief.index("reason") < belief.index("probability")  # why before the number
    unit = next(body for name, body in rules.items() if name.endswith("goal-probability"))
    assert unit.startswith('("0"') and '"1"' in unit  # [0, 1], not any number
    assert any(body.startswith('"-"? ("0"') for name, body in rules.items() if name.endswith("stance"))
    amount = next(body for name, body in rules.items() if name.endswith("amount"))
    assert amount.startswith("([1-9]") and '"0." [0-9]{0,3} [1-9]' in amount  # > 0: never "0.0"
    market = next(body for name, body in rules.items() if name.endswith("market-id"))
    assert '"\\"goal\\""' in market and '"\\"m2\\""' in market  # only this run's markets
    long_text = {"type": "object", "properties": {"t": {"type": "string", "maxLength": 4000}}}
    assert rules["char"] == JSON_CHAR  # no raw control characters inside a JSON string
    assert "char*" in schema_grammar(long_text) and MAX_GRAMMAR_STRING < 4000
    for grammar in (gbnf, schema_grammar(long_text)):
        LlamaGrammar.from_string(grammar, verbose=False)  # llama.cpp parses both


async def test_agent_turns_are_schema_constrained_json_from_overlapping_contexts(model_path: Path) -> None:
    backend = smollm(model_path, contexts=2, threads=1)
    schema = action_schema(3, MARKETS)
    try:
        results = await asyncio.gather(
            *(
                backend.complete_json(turn_messages(agent), schema, max_tokens=400, seed=i)
                for i, agent in enumerate(["Ana Ruiz", "Ben Okafor", "a resident", "a shop owner"])
            )
        )
        status = backend.status()
    finally:
        await backend.aclose()
    assert all(r.ok for r in results), [r.parse_error for r in results]
    valid = [r for r in results if _valid(r.data)]
    assert len(valid) >= 3, [r.text for r in results]
    assert all(r.prompt_tokens > 50 and r.completion_tokens > 0 for r in results)
    assert status["context_size"] == 4096 and status["contexts"] == 2
    assert status["calls"] == 4 and status["tokens_per_second"] > 0
    assert status["peak_active"] == 2  # two contexts generated at the same time


def _valid(data: object) -> bool:
    try:
        validate_turn(data, 3, MARKETS)
    except ValueError:
        return False
    return True


async def test_a_truncated_answer_is_retried_once_then_counted_as_a_failed_turn(model_path: Path) -> None:
    backend = smollm(model_path, contexts=1)
    stats = CallStats()
    try:
        outcome = await call_validated(
            backend,
            turn_messages("Ana Ruiz"),
            action_schema(3, MARKETS),
            "agent_turn",
            lambda data: validate_turn(data, 3, MARKETS),
            stats,
            round_no=1,
            agent=0,
            max_tokens=6,  # far too few for a whole turn: cut off mid-object
        )
    finally:
        await backend.aclose()
    assert outcome.value is None and outcome.error is None
    assert "cut off at max_tokens=6" in (outcome.reason or "")
    assert stats.retries == 1 and stats.invalid_turns == 1
    assert [c[2] for c in stats.calls] == [1, 2] and {c[5] for c in stats.calls} == {"invalid"}


async def test_a_prompt_longer_than_the_context_is_an_llm_error(model_path: Path) -> None:
    backend = smollm(model_path, contexts=1, n_ctx=512)
    try:
        with pytest.raises(LLMError, match="context window"):
            await backend.complete_json(
                [{"role": "user", "content": "word " * 2000}], {"type": "object"}, max_tokens=8
            )
        # The context is usable again afterwards.
        ok = await backend.complete_json(turn_messages("Ben Okafor"), {"type": "object"}, max_tokens=40)
    finally:
        await backend.aclose()
    assert ok.ok


async def test_missing_and_corrupt_model_files_fail_with_one_clear_sentence(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"does not exist$"):
        check_gguf(tmp_path / "absent.gguf")
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(ModelFileError, match="is not a GGUF model"):
        check_gguf(garbage)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(b"GGUF" + os.urandom(60))  # the right magic, then nothing a loader can use
    backend = make_backend("llamacpp", model_id="truncated", model_path=str(truncated), contexts=1)
    with pytest.raises(ModelFileError, match=r"llama\.cpp cannot load the model file"):
        await backend.start()


async def test_gguf_models_are_found_in_the_package_on_disk_and_in_object_storage(
    model_path: Path, tmp_path: Path, object_store: ObjectStore
) -> None:
    cache = tmp_path / "cache"
    found = await resolve_gguf(DEFAULT_GGUF_MODEL, model_dir=None, cache_dir=cache, store=None)
    assert found == model_path
    assert await resolve_gguf("", model_dir=None, cache_dir=cache, store=None) == model_path
    models = tmp_path / "models"
    (models / "team").mkdir(parents=True)
    (models / "team" / "mine.gguf").write_bytes(b"GGUF-local")
    assert await resolve_gguf("team/mine.gguf", model_dir=models, cache_dir=cache, store=None) == (
        models / "team" / "mine.gguf"
    )
    assert await resolve_gguf(str(model_path), model_dir=None, cache_dir=cache, store=None) == model_path

    payload = b"GGUF" + os.urandom(2048)
    await asyncio.to_thread(
        object_store.client.put_object,
        object_store.bucket,
        f"{GGUF_PREFIX}org/tiny/tiny.Q4.gguf",
        io.BytesIO(payload),
        len(payload),
    )
    staged = await resolve_gguf("org/tiny", model_dir=None, cache_dir=cache, store=object_store)
    assert staged == cache / "org" / "tiny" / "tiny.Q4.gguf" and staged.read_bytes() == payload
    named = await resolve_gguf("org/tiny/tiny.Q4.gguf", model_dir=None, cache_dir=cache, store=object_store)
    assert named == staged
    with pytest.raises(ModelUnavailable, match="not a packaged model"):
        await resolve_gguf("org/absent", model_dir=models, cache_dir=cache, store=object_store)


async def test_a_runner_whose_model_cannot_load_stops_at_start_with_one_line(
    tmp_path: Path, nats_url: str, nats_prefix: str
) -> None:
    corrupt = tmp_path / "broken.gguf"
    corrupt.write_bytes(os.urandom(1024))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SWARMCAST_")},
        "SWARMCAST_NATS_URL": nats_url,
        "SWARMCAST_NATS_PREFIX": nats_prefix,
        "SWARMCAST_RUNNER_ADDR": "127.0.0.1:0",
        "SWARMCAST_LLM_BACKEND": "llamacpp",
        "SWARMCAST_LLM_MODEL": str(corrupt),
        "SWARMCAST_RUNNER_TIERS": "local",
        "SWARMCAST_LOG_FORMAT": "text",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.gpu_runner",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode(errors="replace")
    assert proc.returncode == 1, text
    assert "Traceback" not in text
    problems = [line for line in text.splitlines() if " ERROR " in line or " WARNING " in line]
    assert len(problems) == 1, text  # one line says why, nothing else complains
    assert "gpu_runner cannot start" in problems[0] and str(corrupt) in problems[0]
    assert "is not a GGUF model" in problems[0]


async def test_the_engine_runs_a_simulation_on_the_real_model(model_path: Path) -> None:
    backend = smollm(model_path)
    config = SimulationConfig(agents=3, rounds=2, seed=5, max_markets=1, max_entities=6)
    try:
        result = await run_simulation(SimulationRequest(SEED, GOAL, config), backend)
    finally:
        await backend.aclose()
    llm = result.summary["llm"]
    assert llm["errors"] == 0 and llm["completion_tokens"] > 0
    summary = json.loads(result.artifacts["engagement_summary.json"])
    assert summary["backend"]["heuristic"] is False
    first_tries = [c for c in summary["llm_calls"] if c[1] >= 0 and c[2] == 1]  # agent turns
    assert len(first_tries) == config.agents * config.rounds
    # The 90% first-try figure is checked on the whole-stack job (tests/test_local_tier.py); of
    # these six turns at most one may need its retry.
    valid = sum(1 for c in first_tries if c[5] == "ok")
    assert valid >= len(first_tries) - 1, summary["failed_turns"]
    assert 0.0 < result.summary["forecast"]["goal"]["probability"] < 1.0
