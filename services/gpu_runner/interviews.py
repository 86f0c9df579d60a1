"""Interviews: a runner answers questions to a COMPLETED job's agents from its final checkpoint.

Wire (core NATS, never stored; DESIGN §8a): the jobs service publishes an `InterviewRequest` on
`interview.request.<tier>`; the runners of that tier share the queue group
`runner-interview-<tier>`, so one of them takes it. That runner GETs the checkpoint by the request's
presigned URL, restores replicate 0, picks the agents (`choose_interviewees`: the ids asked, or a
camp, at most `max_agents`), and publishes on the request's `reply_subject` one
`InterviewReply{answer}` per agent as it is ready (in the chosen order), then
`InterviewReply{done}` (backend, model, answered, left out) - or a single `InterviewReply{error}`:
`invalid_request` true when the request itself is wrong (unknown agent ids, an empty camp, a bad
question), false when the runner failed (checkpoint missing or unreadable, model error, shutdown).

- The answers come from the backend of the runner (the tier's model, the same lease a job takes):
  heuristic answers are templated from the agent's state, the LLM backends write them in
  character. Backend objects live on the engine loop, so the answering runs there (`EngineThread`);
  the checkpoint is decoded on a worker thread. Interviews are served while a job runs (they share
  the engine loop and the model with it); at most `MAX_INTERVIEWS_AT_ONCE` at a time, the rest wait.
- The reply subject must be `interview.reply.<interview_id>`: a request cannot make the runner
  publish anywhere else.
- Questions and answers are never logged: only ids, counts, the backend and why something failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import httpx
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as CoreSubscription
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus
from services.common.interceptors import ErrorReporter
from services.common.storage import ObjectNotFound, StorageError, get_via_presigned
from services.gpu_runner.backends import BackendHost, BackendUnavailable, ModelKey
from services.gpu_runner.engine import CheckpointError
from services.gpu_runner.engine.interview import (
    InterviewAnswer,
    InterviewRefused,
    answer_question,
    choose_interviewees,
    interview_world,
)
from services.gpu_runner.engine_thread import EngineThread
from services.gpu_runner.llm import LLMError

log = logging.getLogger("swarmcast.gpu_runner.interviews")

MAX_INTERVIEWS_AT_ONCE = 4
# When a request carries no max_agents (the jobs service's default is the same).
DEFAULT_MAX_AGENTS = 12
MAX_QUESTION_CHARS = 500


class InterviewFailed(Exception):
    """The runner could not answer (not the request's fault); the message goes to the asker."""


class InterviewServer:
    """The interview subscriptions of one runner and the interviews in flight."""

    def __init__(
        self,
        bus: EventBus,
        engine: EngineThread,
        host: BackendHost,
        http: httpx.AsyncClient,
        tiers: list[str],
        *,
        model_key: Callable[[str], ModelKey],
        errors: ErrorReporter | None = None,
        max_at_once: int = MAX_INTERVIEWS_AT_ONCE,
    ) -> None:
        self.bus = bus
        self.engine = engine
        self.host = host
        self.http = http
        self.tiers = list(tiers)
        self.model_key = model_key
        self.errors = errors
        self._slots = asyncio.Semaphore(max_at_once)
        self._subs: list[CoreSubscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.answered = 0  # interviews that ended with `done`

    # --- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        for tier in self.tiers:
            sub = await self.bus.nc.subscribe(
                self.bus.subject(subjects.interview_request(tier)),
                queue=subjects.interview_queue(tier),
                cb=self._on_message,
            )
            self._subs.append(sub)
        # Subscribed at the server before the runner counts as started (a request right after is heard).
        await self.bus.nc.flush()

    async def stop(self, grace: float = 5.0) -> None:
        """Take no more requests; let the interviews in flight finish within ``grace`` seconds, then
        end the rest with an error reply. Idempotent."""
        subs, self._subs = self._subs, []
        for sub in subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5.0)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # --- requests ----------------------------------------------------------------------------------
    async def _on_message(self, msg: Msg) -> None:
        try:
            request = events_pb2.InterviewRequest.FromString(msg.data)
        except Exception:
            log.warning("dropping an undecodable interview request on %s", msg.subject)
            return
        if request.reply_subject != subjects.interview_reply(request.interview_id or 0):
            # Nowhere to answer, or somewhere we must not publish.
            log.warning(
                "dropping interview %s of job %s: reply subject is not interview.reply.<id>",
                request.interview_id,
                request.job_id,
            )
            return
        # nats-py runs one callback at a time per subscription: the work goes to its own task.
        task = asyncio.create_task(self._serve(request), name=f"interview-{request.interview_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, request: events_pb2.InterviewRequest) -> None:
        ident = f"interview {request.interview_id} of job {request.job_id}"
        try:
            async with self._slots:
                answered, left_out, key = await self._interview(request)
        except InterviewRefused as exc:
            log.info("%s refused: %s", ident, exc)
            await self._reply_error(request, str(exc), invalid_request=True)
            return
        except InterviewFailed as exc:
            log.warning("%s failed: %s", ident, exc)
            await self._reply_error(request, str(exc), invalid_request=False)
            return
        except asyncio.CancelledError:
            await self._reply_error(
                request, "the runner shut down during the interview", invalid_request=False
            )
            raise
        except Exception as exc:
            # The exception text may quote the model or the state: the asker gets the class only.
            log.exception("%s failed with %s", ident, type(exc).__name__)
            if self.errors is not None:
                self.errors.report(exc, job_id=request.job_id, request_path="runner.interview")
            await self._reply_error(
                request, f"the runner could not answer ({type(exc).__name__})", invalid_request=False
            )
            return
        reply = events_pb2.InterviewReply(
            interview_id=request.interview_id,
            done=events_pb2.InterviewDone(
                backend=self.host.name, model_id=key.model, answered=answered, left_out=left_out
            ),
        )
        await self._publish(request, reply)
        self.answered += 1
        log.info(
            "%s: %d agent(s) answered, %d left out (%s, %s)",
            ident,
            answered,
            left_out,
            self.host.name,
            key.model,
        )

    async def _interview(self, request: events_pb2.InterviewRequest) -> tuple[int, int, ModelKey]:
        """Answer ``request``, publishing each answer; (answered, left out, the model used)."""
        question = request.question.strip()
        if not 1 <= len(question) <= MAX_QUESTION_CHARS:
            raise InterviewRefused(f"the question must have 1 to {MAX_QUESTION_CHARS} characters")
        key = self.model_key(request.tier)
        if not key.model:
            raise InterviewFailed(
                f"this runner has no model for tier {request.tier!r} (set SWARMCAST_LLM_MODEL)"
            )
        data = await self._checkpoint(request)
        try:
            # Decoding is CPU work: neither the service loop nor a running job should wait on it.
            world = await asyncio.to_thread(interview_world, data)
        except CheckpointError as exc:
            raise InterviewFailed(f"the job's checkpoint is unreadable: {exc}") from None
        max_agents = request.max_agents if request.max_agents > 0 else DEFAULT_MAX_AGENTS
        ids, left_out = choose_interviewees(world, list(request.agent_ids), request.camp, max_agents)
        svc_loop = asyncio.get_running_loop()

        async def publish_answer(answer: InterviewAnswer) -> None:
            await self._publish(
                request,
                events_pb2.InterviewReply(interview_id=request.interview_id, answer=_to_proto(answer)),
            )

        async def on_engine() -> int:
            async with self.host.lease_on_engine(key) as backend:
                # Asked together (an LLM backend answers them side by side), published in order.
                asks = [asyncio.ensure_future(answer_question(world, i, question, backend)) for i in ids]
                try:
                    for ask in asks:
                        answer = await ask
                        sent = asyncio.run_coroutine_threadsafe(publish_answer(answer), svc_loop)
                        await asyncio.wrap_future(sent)
                finally:
                    for ask in asks:
                        ask.cancel()
                    await asyncio.gather(*asks, return_exceptions=True)
            return len(asks)

        task = self.engine.submit(on_engine())
        try:
            answered = await task.result()
        except asyncio.CancelledError:
            task.cancel()
            await task.wait_stopped(5.0)
            raise
        except (LLMError, BackendUnavailable) as exc:
            raise InterviewFailed(f"the {self.host.name} backend failed: {exc}") from None
        return answered, left_out, key

    async def _checkpoint(self, request: events_pb2.InterviewRequest) -> bytes:
        if not request.checkpoint_get_url:
            raise InterviewFailed("the request has no checkpoint URL")
        try:
            return await get_via_presigned(request.checkpoint_get_url, client=self.http)
        except ObjectNotFound:
            raise InterviewFailed(f"job {request.job_id} has no checkpoint") from None
        except (StorageError, httpx.HTTPError) as exc:
            raise InterviewFailed(f"could not read the job's checkpoint: {exc}") from None

    # --- replies -----------------------------------------------------------------------------------
    async def _reply_error(
        self, request: events_pb2.InterviewRequest, error: str, *, invalid_request: bool
    ) -> None:
        reply = events_pb2.InterviewReply(
            interview_id=request.interview_id, error=error[:2000], invalid_request=invalid_request
        )
        with contextlib.suppress(Exception):  # the asker times out if even this cannot go out
            await self._publish(request, reply)

    async def _publish(self, request: events_pb2.InterviewRequest, reply: events_pb2.InterviewReply) -> None:
        await self.bus.nc.publish(self.bus.subject(request.reply_subject), reply.SerializeToString())


def _to_proto(answer: InterviewAnswer) -> events_pb2.InterviewAnswer:
    return events_pb2.InterviewAnswer(
        agent_id=answer.agent_id,
        agent_name=answer.agent_name,
        persona=answer.persona,
        answer=answer.answer,
        probability=answer.probability,
        reason=answer.reason,
        camp=answer.camp,
    )
