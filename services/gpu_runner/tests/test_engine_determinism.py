"""Determinism and checkpoint/resume of heuristic runs."""

import json

import pytest

from services.gpu_runner.engine import (
    ARTIFACT_NAMES,
    CheckpointError,
    SimulationConfig,
    SimulationRequest,
    resume_simulation,
    run_simulation,
)
from services.gpu_runner.engine.checkpoint import load_world
from services.gpu_runner.llm import make_backend

SEED = (
    "The city council of Harbor Bay will vote on the Harbor Transit Levy in June. Mayor Lena Ortiz "
    "strongly supports the levy and says it will pass. The Harbor Business Association opposes it and "
    "warns that costs will rise. The Transit Riders Union backed the plan at a rally. Councillor Tom Reyes "
    "doubts the timeline and expects a delay. Analysts at Bayview Bank expect growth in ridership."
)
GOAL = "Will the Harbor Transit Levy pass the council vote?"


def request(seed=11, agents=40, rounds=12, replicates=3):
    return SimulationRequest(
        SEED, GOAL, SimulationConfig(agents=agents, rounds=rounds, seed=seed, replicates=replicates)
    )


async def test_same_seed_gives_byte_identical_artifacts_and_graph():
    a = await run_simulation(request(), make_backend("heuristic"))
    b = await run_simulation(request(), make_backend("heuristic"))
    assert tuple(a.artifacts) == ARTIFACT_NAMES
    assert a.artifacts == b.artifacts
    assert a.result_graph == b.result_graph
    assert a.summary == b.summary


async def test_different_seeds_give_different_runs():
    a = await run_simulation(request(seed=1), make_backend("heuristic"))
    b = await run_simulation(request(seed=2), make_backend("heuristic"))
    assert a.artifacts["posts.json"] != b.artifacts["posts.json"]
    assert a.artifacts["market_curves.json"] != b.artifacts["market_curves.json"]


async def test_replicates_are_independent_random_streams_over_the_same_markets():
    result = await run_simulation(request(replicates=4), make_backend("heuristic"))
    curves = json.loads(result.artifacts["market_curves.json"])
    replicates = curves["replicate_curves"]
    assert [r["replicate"] for r in replicates] == [0, 1, 2, 3]
    goal_curves = [tuple(r["prices"]["m1"]) for r in replicates]
    assert len(set(goal_curves)) == 4  # each replicate trades its own way
    assert all(set(r["prices"]) == {m["id"] for m in curves["markets"]} for r in replicates)


class Crash(Exception):
    pass


@pytest.mark.parametrize("stop_after", [0, 1, 5, 11])
async def test_a_run_killed_after_a_checkpoint_resumes_to_identical_artifacts(stop_after):
    reference = await run_simulation(request(), make_backend("heuristic"))
    saved: dict[int, bytes] = {}

    def on_checkpoint(round_no: int, data: bytes) -> None:
        saved[round_no] = data
        if round_no == stop_after:
            raise Crash  # the runner dies right after uploading this checkpoint

    with pytest.raises(Crash):
        await run_simulation(request(), make_backend("heuristic"), on_checkpoint=on_checkpoint)
    assert max(saved) == stop_after
    resumed_rounds = []
    resumed = await resume_simulation(
        saved[stop_after], make_backend("heuristic"), on_checkpoint=lambda r, _: resumed_rounds.append(r)
    )
    assert resumed_rounds == list(range(stop_after + 1, 13))  # continued, not restarted
    assert resumed.artifacts == reference.artifacts
    assert resumed.result_graph == reference.result_graph


async def test_checkpoint_after_every_round_holds_the_full_state():
    rounds = []

    async def on_checkpoint(round_no: int, data: bytes) -> None:  # async callbacks are awaited
        worlds, _, _ = load_world(data)
        rounds.append((round_no, [w.round for w in worlds], len(worlds[-1].stated)))

    await run_simulation(request(rounds=6), make_backend("heuristic"), on_checkpoint=on_checkpoint)
    assert rounds == [(r, [r, r, r], r + 1) for r in range(7)]


def test_garbage_is_not_a_checkpoint():
    with pytest.raises(CheckpointError):
        load_world(b"hello")
    with pytest.raises(CheckpointError):
        load_world(b"SWCK3\n\x01\x00\x00\x00\x05\x00\x00\x00junk!")
