"""EventBus against the real NATS JetStream server: dedupe, redelivery, work queue, isolation, poison."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable

import nats.js.errors
import pytest
from swarmcast.events.v1 import events_pb2

from bench.harness import PrivateNats
from services.cli.stack import NATS_SERVER
from services.common import subjects
from services.common.bus import EventBus, EventMeta
from tests.fixtures.nats import EventBusFactory
from tests.fixtures.settings import settings_for


async def wait_for(cond: Callable[[], bool], within: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


def progress(job_id: int, seq: int) -> events_pb2.RunnerProgress:
    return events_pb2.RunnerProgress(job_id=job_id, run_id=f"run-{job_id}", seq=seq, stage=3, round=seq)


# --- subjects


def test_subject_names_follow_the_design() -> None:
    assert subjects.dispatch("small") == "jobs.dispatch.small"
    assert subjects.cancel(42) == "jobs.cancel.42"
    assert subjects.runner_progress(42) == "runner.progress.42"
    assert subjects.runner_completed(42) == "runner.completed.42"
    assert subjects.runner_failed(42) == "runner.failed.42"
    assert subjects.reporter_completed(42) == "reporter.completed.42"
    assert subjects.reporter_failed(42) == "reporter.failed.42"
    assert subjects.EMAIL_REQUESTED == "auth.email.requested"
    assert subjects.USER_DELETED == "auth.user.deleted"
    assert subjects.ERRORS_CAPTURED == "errors.captured"
    for bad in ("a.b", "*", ">", "", "x y"):
        with pytest.raises(ValueError):
            subjects.dispatch(bad)


def test_every_subject_has_exactly_one_stream() -> None:
    cases = {
        subjects.dispatch("large"): subjects.JOBS_DISPATCH,
        subjects.DISPATCH_ALL: subjects.JOBS_DISPATCH,
        subjects.cancel(1): subjects.JOBS_CONTROL,
        subjects.RUNNER_PROGRESS_ALL: subjects.RUNNER,
        "runner.>": subjects.RUNNER,
        subjects.reporter_failed(1): subjects.REPORTER,
        subjects.EMAIL_REQUESTED: subjects.AUTH,
        subjects.USER_DELETED: subjects.AUTH,
        subjects.ERRORS_CAPTURED: subjects.ERRORS,
    }
    for subject, stream in cases.items():
        assert subjects.stream_for(subject) is stream, subject
    with pytest.raises(ValueError):
        subjects.stream_for("jobs.>")  # spans two streams
    with pytest.raises(ValueError):
        subjects.stream_for("nothing.here")
    assert subjects.JOBS_DISPATCH.retention is subjects.Retention.WORK_QUEUE
    assert all(
        s.retention is subjects.Retention.LIMITS for s in subjects.STREAMS if s is not subjects.JOBS_DISPATCH
    )


# --- streams


async def test_streams_are_prefixed_and_ensure_is_idempotent(event_bus: EventBus, nats_prefix: str) -> None:
    await event_bus.ensure_streams()  # second time: no error, same config
    info = await event_bus.js.stream_info(f"{nats_prefix}_JOBS_DISPATCH")
    assert info.config.subjects == [f"{nats_prefix}.jobs.dispatch.>"]
    assert info.config.retention == "workqueue"
    assert info.config.storage == "file"
    assert info.config.duplicate_window == 600
    runner = await event_bus.js.stream_info(f"{nats_prefix}_RUNNER")
    assert runner.config.retention == "limits"
    assert runner.config.max_age == 7 * 24 * 3600


# --- must-show: dedupe and redelivery


async def test_same_msg_id_published_twice_is_handled_once(event_bus: EventBus, nats_prefix: str) -> None:
    seen: list[tuple[int, str | None]] = []

    async def handler(msg: events_pb2.RunnerProgress, meta: EventMeta) -> None:
        seen.append((msg.seq, meta.msg_id))

    await event_bus.subscribe(
        subjects.RUNNER_PROGRESS_ALL, events_pb2.RunnerProgress, handler, durable="jobs-progress"
    )
    await event_bus.publish(subjects.runner_progress(7), progress(7, 1), msg_id="progress-7-1")
    await event_bus.publish(subjects.runner_progress(7), progress(7, 1), msg_id="progress-7-1")
    # A later, distinct event: once it is handled, the duplicate would have been too.
    await event_bus.publish(subjects.runner_progress(7), progress(7, 2), msg_id="progress-7-2")
    await wait_for(lambda: len(seen) >= 2, what="both distinct events")
    await asyncio.sleep(0.3)
    assert seen == [(1, "progress-7-1"), (2, "progress-7-2")]
    info = await event_bus.js.stream_info(f"{nats_prefix}_RUNNER")
    assert info.state.messages == 2


async def test_failing_handler_is_redelivered_and_acked_only_after_success(event_bus: EventBus) -> None:
    attempts: list[int] = []

    async def flaky(msg: events_pb2.RunnerProgress, meta: EventMeta) -> None:
        attempts.append(meta.num_delivered)
        if meta.num_delivered < 3:
            raise RuntimeError("database briefly unavailable")

    sub = await event_bus.subscribe(
        subjects.runner_progress(8), events_pb2.RunnerProgress, flaky, durable="flaky", backoff=[0.1]
    )
    await event_bus.publish(subjects.runner_progress(8), progress(8, 1), msg_id="progress-8-1")
    await wait_for(lambda: len(attempts) >= 3, what="third attempt")
    await asyncio.sleep(0.3)
    assert attempts == [1, 2, 3]

    async def acked() -> bool:
        info = await sub.info()
        return info.num_ack_pending == 0 and info.ack_floor.stream_seq == 1

    deadline = time.monotonic() + 5
    while not await acked():
        assert time.monotonic() < deadline, "message was not acked after the successful attempt"
        await asyncio.sleep(0.05)

    # Nothing is left for the durable: a restarted consumer does not see it again.
    await sub.stop()
    again: list[int] = []

    async def record(msg: events_pb2.RunnerProgress, meta: EventMeta) -> None:
        again.append(msg.seq)

    await event_bus.subscribe(subjects.runner_progress(8), events_pb2.RunnerProgress, record, durable="flaky")
    await asyncio.sleep(0.5)
    assert again == []


async def test_unacked_while_failing_then_terminated_after_max_deliver(event_bus: EventBus) -> None:
    attempts: Counter[int] = Counter()

    async def handler(msg: events_pb2.RunnerProgress, meta: EventMeta) -> None:
        attempts[msg.seq] += 1
        if msg.seq == 1:
            raise ValueError("permanently broken event")

    sub = await event_bus.subscribe(
        subjects.RUNNER_PROGRESS_ALL,
        events_pb2.RunnerProgress,
        handler,
        durable="give-up",
        max_deliver=3,
        backoff=[0.05],
    )
    await event_bus.publish(subjects.runner_progress(9), progress(9, 1), msg_id="p-9-1")
    await event_bus.publish(subjects.runner_progress(9), progress(9, 2), msg_id="p-9-2")
    await wait_for(lambda: attempts[1] >= 3 and attempts[2] >= 1, what="max_deliver attempts")
    await asyncio.sleep(0.5)
    assert attempts == Counter({1: 3, 2: 1})
    info = await sub.info()
    assert info.num_ack_pending == 0
    assert info.num_pending == 0


# --- work queue, isolation, poison


async def test_work_queue_each_dispatch_goes_to_exactly_one_runner(
    event_bus_factory: EventBusFactory, nats_prefix: str
) -> None:
    runner_a = await event_bus_factory(name="runner-a")
    runner_b = await event_bus_factory(name="runner-b")
    taken: dict[str, list[int]] = {"a": [], "b": []}

    def make_handler(who: str):
        async def handle(msg: events_pb2.JobDispatch, meta: EventMeta) -> None:
            assert meta.subject == "jobs.dispatch.small"
            await asyncio.sleep(0.03)  # a runner is busy while it holds a job
            taken[who].append(msg.job_id)

        return handle

    await runner_a.subscribe(
        subjects.dispatch("small"), events_pb2.JobDispatch, make_handler("a"), durable="runner-small"
    )
    await runner_b.subscribe(
        subjects.dispatch("small"), events_pb2.JobDispatch, make_handler("b"), durable="runner-small"
    )
    jobs = list(range(1, 21))
    for job_id in jobs:
        msg = events_pb2.JobDispatch(dispatch_id=f"sim-{job_id}", job_id=job_id, tier="small")
        await runner_a.publish(subjects.dispatch("small"), msg, msg_id=f"sim-{job_id}-1")
    await wait_for(lambda: len(taken["a"]) + len(taken["b"]) >= len(jobs), what="all dispatches")
    await asyncio.sleep(0.3)
    all_taken = taken["a"] + taken["b"]
    assert sorted(all_taken) == jobs  # each exactly once
    assert taken["a"] and taken["b"], "both runners should have taken work"
    # Work queue: an acked message is removed from the stream.
    deadline = time.monotonic() + 5
    while (await runner_a.js.stream_info(f"{nats_prefix}_JOBS_DISPATCH")).state.messages:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_deliver_new_only_is_refused_on_the_work_queue(event_bus: EventBus) -> None:
    async def handle(msg: events_pb2.JobDispatch, meta: EventMeta) -> None:
        return None

    with pytest.raises(ValueError):
        await event_bus.subscribe(
            subjects.dispatch("small"), events_pb2.JobDispatch, handle, durable="x", deliver_new_only=True
        )


async def test_prefixes_isolate_buses(event_bus_factory: EventBusFactory, nats_prefix: str) -> None:
    bus_one = await event_bus_factory(name="one")
    bus_two = await event_bus_factory(prefix=nats_prefix + "x", name="two")
    got: dict[str, list[str]] = {"one": [], "two": []}

    def make_handler(who: str):
        async def handle(msg: events_pb2.UserDeleted, meta: EventMeta) -> None:
            got[who].append(f"{meta.subject}:{msg.user_id}")

        return handle

    await bus_one.subscribe(
        subjects.USER_DELETED, events_pb2.UserDeleted, make_handler("one"), durable="jobs"
    )
    await bus_two.subscribe(
        subjects.USER_DELETED, events_pb2.UserDeleted, make_handler("two"), durable="jobs"
    )
    await bus_one.publish(subjects.USER_DELETED, events_pb2.UserDeleted(user_id="u1"), msg_id="del-u1")
    await wait_for(lambda: bool(got["one"]), what="delivery on the publishing prefix")
    await asyncio.sleep(0.5)
    assert got == {"one": ["auth.user.deleted:u1"], "two": []}
    assert bus_one.subject(subjects.USER_DELETED) == f"{nats_prefix}.auth.user.deleted"
    assert bus_one.stream_name("AUTH") == f"{nats_prefix}_AUTH"


async def test_poison_message_is_terminated_and_does_not_block(event_bus: EventBus) -> None:
    seen: list[int] = []

    async def handle(msg: events_pb2.RunnerProgress, meta: EventMeta) -> None:
        seen.append(msg.seq)

    sub = await event_bus.subscribe(
        subjects.RUNNER_PROGRESS_ALL, events_pb2.RunnerProgress, handle, durable="poison"
    )
    # Raw bytes that are not a RunnerProgress, straight to the wire subject.
    await event_bus.js.publish(
        event_bus.subject(subjects.runner_progress(5)), b"\xff\xff\xff\xff", headers={"Nats-Msg-Id": "junk"}
    )
    await event_bus.publish(subjects.runner_progress(5), progress(5, 1), msg_id="p-5-1")
    await wait_for(lambda: seen == [1], what="the valid message after the poison one")
    deadline = time.monotonic() + 5
    while True:
        info = await sub.info()
        if info.num_ack_pending == 0 and info.num_redelivered == 0 and info.ack_floor.stream_seq == 2:
            break
        assert time.monotonic() < deadline, f"poison message not settled: {info}"
        await asyncio.sleep(0.05)


async def test_per_instance_listener_sees_only_new_events_and_expires(event_bus: EventBus) -> None:
    await event_bus.publish(
        subjects.cancel(3), events_pb2.JobCancel(job_id=3, reason="old"), msg_id="c-3-old"
    )
    seen: list[str] = []

    async def on_cancel(msg: events_pb2.JobCancel, meta: EventMeta) -> None:
        seen.append(msg.reason)

    sub = await event_bus.subscribe(
        subjects.CANCEL_ALL,
        events_pb2.JobCancel,
        on_cancel,
        durable="runner-cancel-instance1",
        deliver_new_only=True,
        inactive_threshold=1.0,
    )
    await event_bus.publish(
        subjects.cancel(3), events_pb2.JobCancel(job_id=3, reason="new"), msg_id="c-3-new"
    )
    await wait_for(lambda: seen == ["new"], what="the new cancel only")
    await sub.stop()
    stream = event_bus.stream_name("JOBS_CONTROL")
    deadline = time.monotonic() + 15
    while True:
        try:
            await event_bus.js.consumer_info(stream, "runner-cancel-instance1")
        except nats.js.errors.NotFoundError:
            break
        assert time.monotonic() < deadline, "inactive consumer was not removed by the server"
        await asyncio.sleep(0.25)


# --- concurrency, heartbeats, stop


async def test_concurrency_and_stop_waits_for_in_flight_handlers(event_bus: EventBus) -> None:
    running = 0
    peak = 0
    done: list[int] = []

    async def slow(msg: events_pb2.RunnerProgress, meta: EventMeta) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.4)
        running -= 1
        done.append(msg.seq)

    sub = await event_bus.subscribe(
        subjects.RUNNER_PROGRESS_ALL, events_pb2.RunnerProgress, slow, durable="conc", concurrency=3
    )
    for seq in range(1, 4):
        await event_bus.publish(subjects.runner_progress(6), progress(6, seq), msg_id=f"p-6-{seq}")
    await wait_for(lambda: running == 3, what="three handlers in flight")
    await sub.stop()
    assert sorted(done) == [1, 2, 3]  # stop waited for them
    assert peak == 3
    info = await sub.info()
    assert info.num_ack_pending == 0


async def test_working_heartbeat_prevents_redelivery_of_a_long_handler(event_bus: EventBus) -> None:
    deliveries: list[int] = []

    async def long_job(msg: events_pb2.JobDispatch, meta: EventMeta) -> None:
        deliveries.append(meta.num_delivered)
        for _ in range(12):  # 2.4 s, more than twice ack_wait
            await asyncio.sleep(0.2)
            await meta.working()

    await event_bus.subscribe(
        subjects.dispatch("medium"), events_pb2.JobDispatch, long_job, durable="runner-medium", ack_wait=1
    )
    await event_bus.publish(subjects.dispatch("medium"), events_pb2.JobDispatch(job_id=1), msg_id="sim-1")
    await wait_for(lambda: bool(deliveries), what="delivery")
    await asyncio.sleep(3.0)
    assert deliveries == [1]


# --- surviving a NATS restart (a private server, so the shared one is never disturbed)


@pytest.mark.skipif(not os.path.exists(NATS_SERVER), reason="needs the nats-server binary")
async def test_bus_survives_a_nats_restart(tmp_path, nats_prefix: str) -> None:
    server = PrivateNats(log=tmp_path / "nats.log", store_dir=tmp_path / "js")
    await asyncio.to_thread(server.start)
    bus: EventBus | None = None
    try:
        bus = await EventBus.connect(
            settings_for(nats_url=server.url, nats_prefix=nats_prefix), name="restart"
        )
        await bus.ensure_streams()
        seen: list[int] = []

        async def handle(msg: events_pb2.RunnerProgress, meta: EventMeta) -> None:
            seen.append(msg.seq)

        await bus.subscribe(subjects.RUNNER_PROGRESS_ALL, events_pb2.RunnerProgress, handle, durable="jobs")
        await bus.publish(subjects.runner_progress(1), progress(1, 1), msg_id="r-1")
        await wait_for(lambda: seen == [1], what="delivery before the restart")

        await asyncio.to_thread(server.stop)

        async def restart_later() -> None:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(server.start)  # the same port and store

        restarter = asyncio.create_task(restart_later())
        # Published while the server is down: publish keeps retrying until it is back.
        await bus.publish(subjects.runner_progress(1), progress(1, 2), msg_id="r-2")
        await restarter
        await wait_for(lambda: seen == [1, 2], within=30, what="delivery after the restart")
    finally:
        if bus is not None:
            await bus.close(grace=2)
        await asyncio.to_thread(server.stop)
