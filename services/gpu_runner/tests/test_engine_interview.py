"""Interviews in the engine: whom to ask (by ids, by camp, capped), refusals in plain words, and
answers grounded in the agent's final state - templated for the heuristic backend, one model
completion for an LLM backend (a fake OpenAI-compatible server over a real socket, and the real
SmolLM2 model on the CPU)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.common.camps import camp_of
from services.common.scheduled_events import ScheduledEvent
from services.gpu_runner.engine import (
    CheckpointError,
    InterviewAnswer,
    InterviewRefused,
    SimulationConfig,
    SimulationRequest,
    answer_question,
    choose_interviewees,
    interview_world,
    run_simulation,
)
from services.gpu_runner.engine.interview import FALLBACK_NOTE, MAX_ANSWER_CHARS
from services.gpu_runner.engine.world import World
from services.gpu_runner.llm import make_backend
from services.gpu_runner.model_store import DEFAULT_GGUF_MODEL, packaged_gguf
from services.gpu_runner.tests.test_llm_llamacpp import smollm
from tests.fakes.openai_server import FakeOpenAIServer, prompt_text, schema_of

REPO_ROOT = Path(__file__).resolve().parents[3]
HARBOR = (REPO_ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")
HARBOR_GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
# Evidence on both sides: its agents end up in different camps.
SPLIT = (
    "The Lakeside council votes on the new harbour bridge on 12 June. Mayor Ana Silva supports the "
    "bridge and the Chamber of Trade endorsed it. The Fishermen's Guild strongly opposes it and the "
    "Residents Association gathered 9,000 signatures against it. A May poll found 50 percent of "
    "residents in favour and 50 percent against. Councillor Tom Reyes is undecided."
)
SPLIT_GOAL = "Will the Lakeside council approve the harbour bridge on 12 June?"


async def final_checkpoint(
    seed: str, goal: str, events: tuple[ScheduledEvent, ...] = ()
) -> tuple[bytes, dict[str, Any]]:
    """The final checkpoint of a heuristic run and its profiles.json."""
    saved: dict[int, bytes] = {}
    config = SimulationConfig(agents=30, rounds=8, seed=3, replicates=2)
    result = await run_simulation(
        SimulationRequest(seed, goal, config, events=events),
        make_backend("heuristic"),
        on_checkpoint=lambda r, data: saved.__setitem__(r, data),
    )
    return saved[max(saved)], json.loads(result.artifacts["profiles.json"])


def camps(world: World) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"yes": [], "no": [], "undecided": []}
    for a in world.agents:
        out[camp_of(a.belief.probabilities[world.goal_market])].append(a.id)
    return out


async def test_the_interview_world_is_replicate_0_at_the_end_of_the_run() -> None:
    checkpoint, profiles = await final_checkpoint(SPLIT, SPLIT_GOAL)
    world = interview_world(checkpoint)
    assert world.replicate == 0 and world.round == 8
    assert [a.belief.probabilities for a in world.agents] == [
        {m: pytest.approx(p, abs=1e-4) for m, p in row["final"]["beliefs"].items()}
        for row in profiles["agents"]
    ]
    with pytest.raises(CheckpointError):
        interview_world(b"not a checkpoint")


async def test_interviewees_by_id_keep_the_order_asked_drop_repeats_and_are_capped() -> None:
    world = interview_world((await final_checkpoint(SPLIT, SPLIT_GOAL))[0])
    assert choose_interviewees(world, [5, 2, 5, 9], "", 12) == ([5, 2, 9], 0)
    assert choose_interviewees(world, [5, 2, 9], "", 2) == ([5, 2], 1)
    with pytest.raises(InterviewRefused, match="no agent 30 in this run: its agents are numbered 0 to 29"):
        choose_interviewees(world, [3, 30], "", 12)
    with pytest.raises(InterviewRefused, match="no agents -1, 99 in this run"):
        choose_interviewees(world, [-1, 99], "", 12)


async def test_a_camp_is_its_members_at_the_end_of_the_run_most_prominent_first() -> None:
    world = interview_world((await final_checkpoint(SPLIT, SPLIT_GOAL))[0])
    members = camps(world)
    camp = max(members, key=lambda c: len(members[c]))
    assert len(members[camp]) > 3
    chosen, left_out = choose_interviewees(world, [], camp, 3)
    assert len(chosen) == 3 and left_out == len(members[camp]) - 3
    assert set(chosen) <= set(members[camp])
    everyone, none_left = choose_interviewees(world, [], camp, 100)
    assert sorted(everyone) == members[camp] and none_left == 0
    reach = [world.agents[i].followers + world.agents[i].likes_received for i in everyone]
    assert reach == sorted(reach, reverse=True)
    with pytest.raises(InterviewRefused, match="camp must be one of yes, no, undecided"):
        choose_interviewees(world, [], "maybe", 3)
    with pytest.raises(InterviewRefused, match="either agents or a camp"):
        choose_interviewees(world, [], "", 3)
    with pytest.raises(InterviewRefused, match="either agents or a camp"):
        choose_interviewees(world, [1], camp, 3)


async def test_an_empty_camp_is_refused_in_plain_words() -> None:
    world = interview_world((await final_checkpoint(HARBOR, HARBOR_GOAL))[0])
    assert camps(world)["no"] == []  # the Harbor City crowd ends up backing the levy
    with pytest.raises(InterviewRefused, match="nobody is in the NO camp at the end of this run"):
        choose_interviewees(world, [], "no", 12)


async def test_a_heuristic_answer_is_templated_from_the_agents_own_state_and_repeatable() -> None:
    events = (ScheduledEvent(20, "Engineers certify the bridge design", favours="yes"),)
    checkpoint, profiles = await final_checkpoint(SPLIT, SPLIT_GOAL, events)
    world = interview_world(checkpoint)
    backend = make_backend("heuristic")
    question = "Why do you see it that way?"
    answers: list[InterviewAnswer] = []
    for agent_id in (0, 7, 21):
        answer = await answer_question(world, agent_id, question, backend)
        profile = profiles["agents"][agent_id]
        p = profile["final"]["beliefs"]["m1"]
        assert answer.agent_id == agent_id and answer.agent_name == profile["name"]
        assert answer.persona == profile["summary"]
        assert answer.probability == p and answer.camp == camp_of(p)
        assert answer.reason == profile["final"]["reasons"]["m1"] and answer.reason
        # grounded: the probability and the reason it stated, where it started, what it did
        assert f"I put it at {p:.0%}" in answer.answer
        assert answer.answer.startswith(f"My reason: {answer.reason}")
        assert f"I started at {profile['initial']['beliefs']['m1']:.0%}" in answer.answer
        posts = profile["stats"]["posts"]
        assert ("I didn't post anything." in answer.answer) == (posts == 0)
        # the same question to the same checkpoint, restored again, gives the same words
        again = await answer_question(interview_world(checkpoint), agent_id, question, backend)
        assert again == answer
        answers.append(answer)
    assert len({a.answer for a in answers}) == 3
    # a question about trading leads with the agent's trades
    trades = await answer_question(world, 0, "What did you bet on the market?", backend)
    n_trades = profiles["agents"][0]["stats"]["trades"]
    assert trades.answer.startswith(f"I made {n_trades} trade" if n_trades else "I didn't trade")
    with pytest.raises(InterviewRefused):
        await answer_question(world, 30, question, backend)


def interview_responder(answers: list[str]) -> Any:
    """A fake model: interview calls are answered with ``answers`` in turn (recording the prompt)."""
    prompts: list[str] = []

    def respond(body: dict[str, Any], n: int) -> dict[str, Any]:
        name, schema = schema_of(body)
        assert name == "interview_answer" and schema["required"] == ["answer"]
        prompts.append(prompt_text(body))
        return {"answer": answers[len(prompts) - 1]}

    respond.prompts = prompts  # type: ignore[attr-defined]
    return respond


async def test_an_llm_answer_is_one_completion_grounded_in_the_state() -> None:
    world = interview_world((await final_checkpoint(SPLIT, SPLIT_GOAL))[0])
    agent = world.agents[4]
    respond = interview_responder(["  I still think   it passes, narrowly.  ", ""])
    async with FakeOpenAIServer(concurrency=2, latency_ms=1, responder=respond) as srv:
        backend = make_backend("openai", base_url=srv.base_url, model="fake-model", concurrency=2)
        try:
            answer = await answer_question(world, 4, "Will it pass?", backend)
            fallback = await answer_question(world, 4, "Will it pass?", backend)
            stats = srv.stats()
        finally:
            await backend.aclose()
    assert stats["requests"] == 2  # one completion per answer, no retry
    assert answer.answer == "I still think it passes, narrowly."
    p = agent.belief.probabilities["m1"]
    assert answer.probability == round(p, 4) and answer.camp == camp_of(p)
    prompt = respond.prompts[0]
    assert "QUESTION: Will it pass?" in prompt and agent.name in prompt
    assert f"you now state {p:.2f}" in prompt and agent.belief.reasons["m1"] in prompt
    # an empty answer is unusable: the templated one stands in, saying so
    assert fallback.answer.startswith(FALLBACK_NOTE) and f"I put it at {p:.0%}" in fallback.answer
    assert fallback.probability == answer.probability


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = packaged_gguf(DEFAULT_GGUF_MODEL)
    assert path is not None and path.is_file(), f"the packaged model is missing ({path}): run `make setup`"
    return path


async def test_the_real_small_model_answers_in_character_with_the_states_probability(
    model_path: Path,
) -> None:
    world = interview_world((await final_checkpoint(HARBOR, HARBOR_GOAL))[0])
    backend = smollm(model_path, contexts=1)
    try:
        answer = await answer_question(world, 2, "What do you think will happen in the vote?", backend)
        status = backend.status()
    finally:
        await backend.aclose()
    assert status["calls"] == 1
    assert answer.answer.strip() and not answer.answer.startswith(FALLBACK_NOTE), answer.answer
    assert len(answer.answer) <= MAX_ANSWER_CHARS
    p = world.agents[2].belief.probabilities["m1"]
    assert answer.probability == round(p, 4) and answer.camp == camp_of(p) == "yes"
