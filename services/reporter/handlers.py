"""The reporter's event consumer: `runner.completed.*` → `ReportService.on_runner_completed`.

One durable consumer, `reporter-runner-completed`, shared by every replica, so each completion goes
to one of them. A handler that raises (object storage or NATS down) is redelivered with backoff;
the report use case itself is `service.py`.
"""

from __future__ import annotations

from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus, Handler, Subscription

DURABLE = "reporter-runner-completed"
BACKOFF: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# JetStream redelivers a message whose handler has not acked (or said "working") for this long.
ACK_WAIT_S = 60.0
# Reports written at once by one replica.
CONCURRENCY = 4


async def consume_runner_completed(
    bus: EventBus, handler: Handler[events_pb2.RunnerCompleted], *, max_deliver: int
) -> Subscription[events_pb2.RunnerCompleted]:
    """Starts the consumer; `max_deliver` deliveries of one completion before it is given up."""
    return await bus.subscribe(
        subjects.RUNNER_COMPLETED_ALL,
        events_pb2.RunnerCompleted,
        handler,
        durable=DURABLE,
        max_deliver=max_deliver,
        backoff=BACKOFF,
        ack_wait=ACK_WAIT_S,
        concurrency=CONCURRENCY,
    )
