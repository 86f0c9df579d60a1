"""Checkpoint layout 5: written incrementally after every round, the same bytes as a one-off dump of
the state it restores, and - in LLM runs, where it is taken once the next round's requests are out -
still exactly the state at the end of its round."""

from __future__ import annotations

import pytest

from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.engine import checkpoint as checkpoint_module
from services.gpu_runner.engine.checkpoint import MAGIC, dump_world, load_world
from services.gpu_runner.llm import make_backend
from tests.fakes.openai_server import FakeOpenAIServer

SEED = (
    "The city council of Harbor Bay will vote on the Harbor Transit Levy in June. Mayor Lena Ortiz "
    "strongly supports the levy and says it will pass. The Harbor Business Association opposes it and "
    "warns that costs will rise. The Transit Riders Union backed the plan at a rally. Councillor Tom Reyes "
    "doubts the timeline and expects a delay."
)
GOAL = "Will the Harbor Transit Levy pass the council vote?"


async def test_every_heuristic_checkpoint_is_the_one_off_dump_of_the_state_it_restores() -> None:
    saved: dict[int, bytes] = {}
    config = SimulationConfig(agents=30, rounds=9, seed=4, replicates=2)
    await run_simulation(
        SimulationRequest(SEED, GOAL, config),
        make_backend("heuristic"),
        on_checkpoint=lambda r, data: saved.__setitem__(r, data),
    )
    assert sorted(saved) == list(range(10))
    for data in saved.values():
        assert data.startswith(MAGIC)
        # the incremental writer reused segments of earlier rounds: none of them went stale
        assert dump_world(*load_world(data)) == data


async def test_an_llm_runs_checkpoints_hold_the_state_at_the_end_of_their_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checkpoint_module, "CALL_CHUNK", 7)  # call rows span several chunks
    agents, rounds, replicates = 12, 4, 2
    order: list[int] = []
    saved: dict[int, bytes] = {}

    def keep(round_no: int, data: bytes) -> None:
        order.append(round_no)
        saved[round_no] = data

    async with FakeOpenAIServer(concurrency=8, latency_ms=2) as srv:
        backend = make_backend("openai", base_url=srv.base_url, model="fake-model", concurrency=8)
        config = SimulationConfig(agents=agents, rounds=rounds, seed=6, replicates=replicates, max_markets=2)
        try:
            await run_simulation(SimulationRequest(SEED, GOAL, config), backend, on_checkpoint=keep)
        finally:
            await backend.aclose()
    assert order == list(range(rounds + 1))
    for round_no, data in saved.items():
        worlds, stats, stage = load_world(data)
        assert [w.round for w in worlds] == [round_no] * replicates
        assert stage == (2 if round_no == 0 else 3)
        # the next round's calls were already running when it was taken: none of them is in it
        assert max(row[0] for row in stats.calls) == round_no
        turns = [row for row in stats.calls if row[1] >= 0 and row[2] == 1]
        assert len(turns) == agents * replicates * round_no
        assert dump_world(worlds, stats, stage) == data
