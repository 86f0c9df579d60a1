"""The `local` tier through the whole stack with a real language model: SmolLM2-135M-Instruct on the
CPU, run by the llama.cpp runner, written up by the reporter's LLM writer through llama.cpp's
OpenAI-compatible server (both started by the `stack` fixture, as `SWARMCAST_LOCAL_LLM=1 make up`).
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from grpc.aio import insecure_channel
from swarmcast.jobs.v1 import jobs_pb2
from swarmcast.runner.v1 import runner_pb2

from services.common.clients import jobs_stub, runner_stub
from services.common.config import REPO_ROOT
from services.gpu_runner.model_store import DEFAULT_GGUF_MODEL
from tests.fixtures.stack import RunningStack
from tests.forecast.coherence import register

SEED = (REPO_ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")
GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
TERMINAL = {jobs_pb2.JOB_STATUS_COMPLETED, jobs_pb2.JOB_STATUS_FAILED}


@pytest.mark.timeout(900)
async def test_a_local_tier_job_runs_on_the_real_model_end_to_end(stack: RunningStack) -> None:
    md = await register(stack.auth_addr)
    async with insecure_channel(stack.jobs_addr) as channel:
        jobs = jobs_stub(channel)
        created = await jobs.CreateJob(
            jobs_pb2.CreateJobRequest(
                seed_text=SEED, goal=GOAL, tier="local", enrich_web=False, forecast_days=30
            ),
            metadata=md,
            timeout=30,
        )
        job_id = created.job.id
        deadline = time.monotonic() + 840
        while True:
            job = (await jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), metadata=md, timeout=30)).job
            if job.status in TERMINAL or time.monotonic() > deadline:
                break
            await asyncio.sleep(2)
        sim = await jobs.GetSimData(jobs_pb2.GetSimDataRequest(job_id=job_id), metadata=md, timeout=30)
    assert job.status == jobs_pb2.JOB_STATUS_COMPLETED, job.error_message or jobs_pb2.JobStatus.Name(
        job.status
    )
    assert job.result_report.lstrip().startswith("#")

    structured = json.loads(job.result_structured)
    # The results name the backend and the model that ran the agents.
    assert structured["backend"] == {"name": "llamacpp", "model": DEFAULT_GGUF_MODEL, "heuristic": False}
    goal = structured["forecast"]["goal"]
    assert 0.0 < goal["probability"] < 1.0
    assert structured["writer"] in ("llm", "deterministic")

    async with httpx.AsyncClient(timeout=30) as http:
        summary = (await http.get(sim.files["engagement_summary.json"])).json()
    turns = [c for c in summary["llm_calls"] if c[1] >= 0 and c[2] == 1]  # agents' first tries
    assert len(turns) == 4 * 3  # the local route: 4 agents x 3 rounds, one replicate
    valid = sum(1 for c in turns if c[5] == "ok")
    assert valid / len(turns) >= 0.9, summary["failed_turns"]

    async with insecure_channel(stack.env["SWARMCAST_LOCAL_RUNNER_ADDR"]) as channel:
        status = await runner_stub(channel).GetRunnerStatus(
            runner_pb2.GetRunnerStatusRequest(), metadata=md, timeout=10
        )
    assert (status.backend, status.model_id, list(status.tiers)) == (
        "llamacpp",
        DEFAULT_GGUF_MODEL,
        ["local"],
    )
    assert status.llm_ready and status.context_size == 4096 and status.llm_slots >= 1
    assert status.tokens_per_second > 0 and status.jobs_completed >= 1

    # An interview of that job is answered by the same real model, from the job's final state
    # (docs/whatif.md).
    async with insecure_channel(stack.jobs_addr) as channel:
        jobs = jobs_stub(channel)
        question = "In one sentence: will the levy pass, and why?"
        ask = jobs_pb2.InterviewAgentsRequest(job_id=job_id, question=question, agent_ids=[0])
        replies = [reply async for reply in jobs.InterviewAgents(ask, metadata=md, timeout=300)]
        kept = await jobs.ListInterviews(
            jobs_pb2.ListInterviewsRequest(job_id=job_id), metadata=md, timeout=30
        )
    assert [r.answer.agent_id for r in replies] == [0]
    answer = replies[0].answer
    assert answer.answer.strip() and 0.0 < answer.probability < 1.0
    assert answer.camp in ("yes", "no", "undecided")
    assert (kept.interviews[0].backend, kept.interviews[0].model_id) == ("llamacpp", DEFAULT_GGUF_MODEL)
    assert [a.answer for a in kept.interviews[0].answers] == [answer.answer]
