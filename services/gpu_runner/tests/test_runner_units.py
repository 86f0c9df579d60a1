"""The runner's pure pieces: seq clock, live status, job config, chat-log cap, shared slots, engine thread."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from google.protobuf import json_format, struct_pb2
from swarmcast.events.v1 import events_pb2

from services.common.bus import SharedSlots
from services.common.chatlog import capped_chat_log
from services.gpu_runner.engine import ProgressEvent
from services.gpu_runner.engine_thread import EngineThread
from services.gpu_runner.outcomes import Timings
from services.gpu_runner.progress import LiveState, SeqClock
from services.gpu_runner.service import pinned_markets, simulation_config
from services.gpu_runner.settings import RunnerSettings


def test_seq_is_strictly_increasing_and_above_the_wall_clock() -> None:
    clock = SeqClock()
    before = time.time_ns() // 1000
    seqs = [clock.next() for _ in range(1000)]
    assert seqs == sorted(set(seqs)) and seqs[0] >= before
    # A runner resuming the run later (a fresh clock) continues above the old one.
    assert SeqClock().next() > seqs[0]


def test_live_status_snapshot_and_eta() -> None:
    state = LiveState(backend="heuristic", model="m", pod_id="p", attempt=2, log_lines=3)
    for r in range(1, 6):
        state.apply(
            ProgressEvent(3, "simulating", r, 10, 20, r * 4, r, {"m1": 0.5}, (f"round {r}",), ({"id": "m1"},))
        )
    status = state.live_status()
    assert status["stage_name"] == "simulating" and status["round"] == 5 and status["max_rounds"] == 10
    assert status["log"] == ["round 3", "round 4", "round 5"]  # the last lines only
    assert status["prices"] == {"m1": 0.5} and status["updated_at"].endswith("Z")
    assert state.markets == [{"id": "m1"}] and state.rounds_per_second > 0
    assert state.eta_seconds() == pytest.approx(5 / state.rounds_per_second)


def test_job_config_comes_from_the_route_and_bad_values_are_refused() -> None:
    d = events_pb2.JobDispatch(job_id=1, goal="Will it?", random_seed=77, forecast_days=90)
    d.route.target_agents, d.route.max_rounds = 35, 200
    d.route.replicates, d.route.heuristic_replicates, d.route.market_subsidy = 2, 6, 30.0
    cfg = simulation_config(d, heuristic=True)
    assert (cfg.agents, cfg.rounds, cfg.seed, cfg.forecast_days) == (35, 200, 77, 90)
    # replicates follow the backend that runs the job; the subsidy is the tier's
    assert (cfg.replicates, cfg.market_subsidy) == (6, 30.0)
    assert simulation_config(d, heuristic=False).replicates == 2
    d.route.max_rounds = 0
    with pytest.raises(ValueError, match="max_rounds=0"):
        simulation_config(d, heuristic=True)
    assert pinned_markets(d) is None
    market_row = {"id": "m1", "question": "Q?", "initial_price_yes": 0.4, "rationale": "r"}
    d.markets.extend([json_format.ParseDict(market_row, struct_pb2.Struct())])
    (market,) = pinned_markets(d) or ()
    assert market.id == "m1" and market.initial_price_yes == 0.4
    d.markets.Clear()
    d.markets.values.append(struct_pb2.Value(string_value="not a market"))
    with pytest.raises(ValueError, match="malformed"):
        pinned_markets(d)


def test_the_chat_log_is_capped_in_its_own_shape() -> None:
    entries = [{"round": i, "kind": "post", "text": "x" * 100} for i in range(1000)]
    raw = json.dumps({"entries": entries}).encode()
    capped = capped_chat_log(raw, 10_000)
    data = json.loads(capped)
    assert len(capped.encode()) <= 10_000 and data["truncated"] and data["total_entries"] == 1000
    assert data["entries"] == entries[: len(data["entries"])]
    assert json.loads(capped_chat_log(raw, 10**7)) == {"entries": entries}


def test_gpu_cost_is_hours_times_the_rate() -> None:
    assert Timings(provision_seconds=600, pipeline_seconds=3000, hourly_usd=2.5).gpu_cost_usd == 2.5


def test_heartbeat_setting_keeps_the_ten_second_contract() -> None:
    with pytest.raises(ValueError):
        RunnerSettings(heartbeat_seconds=11)


@pytest.mark.asyncio(loop_scope="session")
async def test_shared_slots_hand_over_in_turn() -> None:
    slots = SharedSlots(1)
    assert await slots.acquire(0.1)
    assert not await slots.acquire(0.05)  # full
    waiter = asyncio.create_task(slots.acquire(5))
    await asyncio.sleep(0.01)
    slots.give()  # straight to the waiter, not to whoever asks next
    assert not await slots.acquire(0.05)
    assert await waiter and slots.used == 1
    slots.give()
    assert slots.used == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_engine_thread_runs_and_cancels_coroutines_off_the_service_loop() -> None:
    engine = EngineThread()
    engine.start()
    try:
        service_loop = asyncio.get_running_loop()

        async def where() -> bool:
            return asyncio.get_running_loop() is not service_loop

        assert await engine.run(where())
        task = engine.submit(asyncio.sleep(30))
        task.cancel()
        assert await task.wait_stopped(2.0)
        with pytest.raises(asyncio.CancelledError):
            await task.result()
    finally:
        await engine.stop()
