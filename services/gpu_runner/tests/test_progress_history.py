"""live_status["price_history"]: the market chart so far, so a reloaded live page redraws every round.

- One snapshot per round in round order (round 0 = the opening prices once the markets are built),
  a round reported again replaces its snapshot, and goal_belief is left out where unknown.
- Bounded: a long run keeps round 0, the newest round and evenly spread rounds between.
- A real runner (heuristic backend, real NATS and S3) publishes the whole history in its progress.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from google.protobuf import json_format

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.gpu_runner.engine import ProgressEvent
from services.gpu_runner.progress import PRICE_HISTORY_MAX, LiveState
from services.gpu_runner.tests.conftest import RunnerFactory
from services.gpu_runner.tests.runner_helpers import EventRecorder, live, make_dispatch, publish_dispatch


def _event(stage: int, round_no: int, price: float, belief: float | None = None) -> ProgressEvent:
    prices = {"m1": price, "m2": round(1 - price, 4)} if stage >= 2 else {}
    return ProgressEvent(
        stage, "x", round_no, 500, 10, 0, 0, prices, (), ({"id": "m1"}, {"id": "m2"}), 1, belief
    )


def _state() -> LiveState:
    return LiveState(backend="heuristic", model="m", pod_id="p", attempt=1)


def test_history_has_one_snapshot_per_round_in_order_starting_with_the_opening_prices() -> None:
    state = _state()
    state.apply(_event(1, 0, 0.0))  # seeding: no markets yet, nothing to chart
    state.apply(_event(2, 0, 0.4))  # built: the opening prices
    state.apply(_event(3, 1, 0.45, 0.5))
    state.apply(_event(3, 2, 0.47, 0.52))
    state.apply(_event(3, 2, 0.49, 0.53))  # round 2 again: the later figures win
    state.apply(_event(3, 3, 0.5, 0.55))
    state.apply(_event(4, 3, 0.5, 0.55))  # analyzing: no new round
    history = state.live_status()["price_history"]
    assert history == [
        {"round": 0, "prices": {"m1": 0.4, "m2": 0.6}},
        {"round": 1, "prices": {"m1": 0.45, "m2": 0.55}, "goal_belief": 0.5},
        {"round": 2, "prices": {"m1": 0.49, "m2": 0.51}, "goal_belief": 0.53},
        {"round": 3, "prices": {"m1": 0.5, "m2": 0.5}, "goal_belief": 0.55},
    ]
    # A snapshot handed out is a copy: changing it changes nothing in the run's state.
    history[0]["prices"]["m1"] = 0.99
    assert state.live_status()["price_history"][0]["prices"]["m1"] == 0.4


def test_a_run_resumed_from_an_earlier_round_rewrites_the_history_from_there() -> None:
    state = _state()
    state.apply(_event(2, 0, 0.4))
    for r in range(1, 6):
        state.apply(_event(3, r, 0.4 + r / 100, 0.5))
    state.apply(_event(3, 4, 0.3, 0.45))  # back to round 4 (a checkpoint), different figures
    history = state.live_status()["price_history"]
    assert [s["round"] for s in history] == [0, 1, 2, 3, 4]
    assert history[-1]["prices"]["m1"] == 0.3


def test_a_long_run_keeps_round_zero_the_newest_round_and_evenly_spread_rounds_between() -> None:
    state = _state()
    state.apply(_event(2, 0, 0.4))
    for r in range(1, 1001):
        state.apply(_event(3, r, 0.5, 0.5))
        rounds = [s["round"] for s in state.live_status()["price_history"]]
        assert len(rounds) <= PRICE_HISTORY_MAX
        assert rounds[0] == 0 and rounds[-1] == r and rounds == sorted(set(rounds))
    # Every kept round but the newest lies on one stride.
    gaps = {b - a for a, b in pairwise(rounds[:-1])}
    assert len(gaps) == 1, f"the kept rounds are not evenly spread: gaps {sorted(gaps)}"
    assert len(rounds) > PRICE_HISTORY_MAX // 3  # thinned, not emptied


@pytest.mark.asyncio(loop_scope="session")
async def test_the_runners_progress_carries_every_round_of_the_chart(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    dispatch = await make_dispatch(object_store, agents=10, rounds=15)
    await publish_dispatch(event_bus, dispatch)
    await recorder.outcome(dispatch.job_id, within=30)

    # The analyzing stage (4) is reported after the last round; its event carries the full chart.
    analyzing = await recorder.wait_for(
        lambda: [p for p in recorder.of(dispatch.job_id) if p.stage == 4], within=10, what="stage 4"
    )
    event = max(analyzing, key=lambda p: p.seq)
    status: dict[str, Any] = live(event)
    history = status["price_history"]
    assert [s["round"] for s in history] == list(range(16))
    rows: list[dict[str, Any]] = json_format.MessageToDict(event.markets)  # type: ignore[assignment]
    markets = {m["id"] for m in rows}
    assert markets and all(set(s["prices"]) == markets for s in history)
    assert all(0 < p < 1 for s in history for p in s["prices"].values())
    assert "goal_belief" not in history[0] and all(0 <= s["goal_belief"] <= 1 for s in history[1:])
    # The newest snapshot is the price the page shows now.
    assert history[-1]["prices"] == status["prices"]
