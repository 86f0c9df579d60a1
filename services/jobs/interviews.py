"""Interviews (DESIGN §8a): the owner of a COMPLETED job asks agents a question, a runner of the
job's tier answers from the job's final checkpoint, and the transcript is kept.

The jobs service holds no model: it checks the request (`domain/whatif.py`), the job and the
per-job hourly limit, allocates the interview's id from `jobs.job_interviews`' sequence,
subscribes to `interview.reply.<id>` and publishes an `InterviewRequest` on core NATS to
`interview.request.<tier>` (the tier's runners share one queue group, so one answers). Each
`InterviewReply.answer` is passed on as it arrives; `done` writes the transcript row. A refusal
from the runner (`error` with `invalid_request`) is INVALID_ARGUMENT, any other failure, silence
for `reply_timeout` seconds, or no runner listening at all is UNAVAILABLE; none of them writes
anything. Questions and answers are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import nats.errors
from google.protobuf.message import DecodeError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus
from services.common.db import utcnow
from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from services.common.identity import Identity
from services.common.storage import ObjectStore
from services.jobs import repository as repo
from services.jobs.domain.artifacts import checkpoint_key
from services.jobs.domain.state_machine import JobStatus
from services.jobs.domain.visibility import job_not_found
from services.jobs.domain.whatif import InterviewAsk, coalition_members, interview_target, structured_of
from services.jobs.whatif_models import JobInterviewRow

log = logging.getLogger("swarmcast.jobs.interviews")

RATE_WINDOW = timedelta(hours=1)
# The runner GETs the checkpoint at once; the URL need not outlive the interview by much.
CHECKPOINT_URL_TTL = timedelta(minutes=30)
# A runner's own failure text is shown shortened (it is the runner's words, not the user's).
MAX_RUNNER_ERROR_CHARS = 300
# NATS answers a request with a reply subject but no subscriber with this status.
_NO_RESPONDERS = "503"

ANSWER_FIELDS = ("agent_id", "agent_name", "persona", "answer", "probability", "reason", "camp")


def answer_to_dict(answer: events_pb2.InterviewAnswer) -> dict[str, Any]:
    return {name: getattr(answer, name) for name in ANSWER_FIELDS}


def answer_from_dict(raw: dict[str, Any]) -> events_pb2.InterviewAnswer:
    return events_pb2.InterviewAnswer(**{name: raw[name] for name in ANSWER_FIELDS if name in raw})


class Interviews:
    """InterviewAgents and ListInterviews, independent of gRPC."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession],
        *,
        store: ObjectStore,
        bus: EventBus,
        per_hour: int,
        max_agents: int,
        reply_timeout: float,
    ) -> None:
        self.sessions = sessions
        self.readers = readers
        self.store = store
        self.bus = bus
        self.per_hour = per_hour
        self.max_agents = max_agents
        self.reply_timeout = reply_timeout
        # Interviews of each job running in this process: counted against the hourly limit before
        # their rows exist, so a burst of parallel calls cannot pass it.
        self._running: dict[int, int] = {}

    # --- InterviewAgents --------------------------------------------------------------------------

    async def interview(
        self, identity: Identity, job_id: int, ask: InterviewAsk
    ) -> AsyncIterator[tuple[int, events_pb2.InterviewAnswer]]:
        """(interview id, answer) for each agent as the runner answers; the row is written when the
        runner says it is done. Every refusal is raised before the first answer."""
        async with self.readers() as session:
            job = await repo.get_job(session, job_id, user_id=identity.user_id, light=not ask.coalition)
        if job is None:
            raise job_not_found(job_id)
        if job.status is not JobStatus.COMPLETED:
            raise FailedPrecondition(
                f"job {job_id} is {job.status}: agents can be interviewed once the job is COMPLETED"
            )
        agent_ids = list(ask.agent_ids)
        if ask.coalition:
            agent_ids = coalition_members(structured_of(job.result_structured), ask.coalition)
        key = checkpoint_key(job_id)
        if not await self.store.exists(key):
            raise FailedPrecondition(
                f"job {job_id} has no checkpoint left (its simulation data was deleted): its agents "
                "cannot be interviewed"
            )
        tier = job.tier or ""
        self._running[job_id] = self._running.get(job_id, 0) + 1
        try:
            await self._check_rate(job_id)
            async with self.readers() as session:
                interview_id = await repo.next_interview_id(session)
            url = await asyncio.to_thread(
                self.store.client.presigned_get_object, self.store.bucket, key, CHECKPOINT_URL_TTL
            )
            request = events_pb2.InterviewRequest(
                interview_id=interview_id,
                job_id=job_id,
                tier=tier,
                question=ask.question,
                agent_ids=agent_ids,
                camp=ask.camp,
                max_agents=self.max_agents,
                checkpoint_get_url=url,
                reply_subject=subjects.interview_reply(interview_id),
            )
            request.requested_at.FromDatetime(utcnow())
            row = {
                "id": interview_id,
                "job_id": job_id,
                "user_id": identity.user_id,
                "question": ask.question,
                "target": interview_target(ask),
            }
            async for answer in self._ask(request, row):
                yield interview_id, answer
        finally:
            left = self._running.get(job_id, 1) - 1
            if left > 0:
                self._running[job_id] = left
            else:
                self._running.pop(job_id, None)

    async def _check_rate(self, job_id: int) -> None:
        if not self.per_hour:
            return
        async with self.readers() as session:
            now, finished, oldest = await repo.recent_interviews(session, job_id, RATE_WINDOW)
        # Ours is among the running ones.
        if finished + self._running.get(job_id, 0) > self.per_hour:
            retry_after = (oldest + RATE_WINDOW - now).total_seconds() if oldest is not None else 60.0
            raise ResourceExhausted(
                f"job {job_id} was interviewed {self.per_hour} times in the last hour (the limit); "
                f"try again in {max(1, round(retry_after / 60))} min",
                retry_after_seconds=max(1.0, retry_after),
            )

    async def _ask(
        self, request: events_pb2.InterviewRequest, row: dict[str, Any]
    ) -> AsyncIterator[events_pb2.InterviewAnswer]:
        tier = request.tier
        reply_subject = self.bus.subject(request.reply_subject)
        # Subscribed before publishing: no reply can arrive before we listen.
        subscription = await self.bus.nc.subscribe(reply_subject)
        answers: list[dict[str, Any]] = []
        try:
            await self.bus.nc.publish(
                self.bus.subject(subjects.interview_request(tier)),
                request.SerializeToString(),
                reply=reply_subject,
            )
            while True:
                try:
                    msg = await subscription.next_msg(timeout=self.reply_timeout)
                except nats.errors.TimeoutError:
                    raise Unavailable(
                        f"no runner of tier {tier} answered within {self.reply_timeout:g} s; try again later"
                    ) from None
                if msg.headers and msg.headers.get("Status") == _NO_RESPONDERS:
                    raise Unavailable(f"no runner of tier {tier} is serving interviews now; try again later")
                try:
                    reply = events_pb2.InterviewReply.FromString(msg.data)
                except DecodeError:
                    log.warning(
                        "interview %s: a reply that is not an InterviewReply was ignored",
                        request.interview_id,
                    )
                    continue
                if reply.interview_id != request.interview_id:
                    continue
                kind = reply.WhichOneof("reply")
                if kind == "answer":
                    answers.append(answer_to_dict(reply.answer))
                    yield reply.answer
                elif kind == "done":
                    await self._save(row, answers, reply.done)
                    log.info(
                        "interview %s of job %s: %d answers (%s)",
                        request.interview_id, request.job_id, len(answers), reply.done.backend,
                    )  # fmt: skip
                    return
                elif kind == "error":
                    message = reply.error[:MAX_RUNNER_ERROR_CHARS] or "the runner refused the request"
                    if reply.invalid_request:
                        raise InvalidArgument(message)
                    raise Unavailable(f"the runner could not answer the interview: {message}")
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def _save(
        self, row: dict[str, Any], answers: list[dict[str, Any]], done: events_pb2.InterviewDone
    ) -> None:
        values = {
            **row,
            "answers": answers,
            "backend": done.backend,
            "model_id": done.model_id,
            "left_out": max(0, done.left_out),
        }
        try:
            async with self.sessions() as session, session.begin():
                await repo.insert_interview(session, values)
        except IntegrityError:
            # The job was deleted while its agents answered.
            raise NotFound(f"job {row['job_id']} was deleted during the interview") from None

    # --- ListInterviews ---------------------------------------------------------------------------

    async def list(self, identity: Identity, job_id: int) -> list[JobInterviewRow]:
        async with self.readers() as session:
            job = await repo.get_job(session, job_id, user_id=identity.user_id, light=True)
            if job is None:
                raise job_not_found(job_id)
            return await repo.interviews_of(session, job_id)
