"""The `local` tier on this machine's CPU: SmolLM2-135M-Instruct through llama.cpp (docs/performance.md).

    python -m bench.local_llm        # prints the figures as JSON (bench.run merges them)

- tokens/s, serial and overlapped: the same 8 agent turns (the demo seed, the turn's JSON schema as
  a grammar) through the `llamacpp` backend with one context using every core, then with one
  context per core sharing them; completion tokens over the time the model was generating.
- the engine's overhead: a 4-agent x 3-round simulation (the local route) in-process; the model's
  busy share of the run's wall time (1.0: the model never waited for the engine).
- submit -> COMPLETED: a private stack (auth, jobs, reporter, a `llamacpp` runner serving tier
  `local`, and `llama_cpp.server` for the reporter's LLM writer, as `SWARMCAST_LOCAL_LLM=1 make up`
  wires them); the demo seed on the `local` tier, GetJob polled every 0.5 s until COMPLETED.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import Infra, PrivateStack, print_figures
from services.cli.processes import ManagedProcess, free_port
from services.cli.stack import llama_server_command
from services.common.clients import insecure_channel, jobs_stub
from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.engine.actions import action_schema
from services.gpu_runner.llm import make_backend
from services.gpu_runner.llm.llamacpp_backend import LlamaCppBackend
from services.gpu_runner.model_store import DEFAULT_GGUF_MODEL, packaged_gguf

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")
GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
TURNS = 8
AGENTS = ("a councillor", "a union steward", "a commuter", "a landlord", "a student", "a shop owner")


def _backend(contexts: int) -> LlamaCppBackend:
    path = packaged_gguf(DEFAULT_GGUF_MODEL)
    assert path is not None
    backend = make_backend("llamacpp", model_id=DEFAULT_GGUF_MODEL, model_path=str(path), contexts=contexts)
    assert isinstance(backend, LlamaCppBackend)
    return backend


async def bench_throughput() -> dict[str, Any]:
    schema = action_schema(4, ["m1", "m2"])
    figures: dict[str, Any] = {}
    for label, contexts in (("serial", 1), ("overlapped", os.cpu_count() or 1)):
        backend = _backend(contexts)
        await backend.start()
        try:
            calls = [
                backend.complete_json(
                    [
                        {"role": "system", "content": f"Seed:\n{SEED[:2500]}\nQuestion: {GOAL}"},
                        {
                            "role": "user",
                            "content": f"You are {AGENTS[i % len(AGENTS)]}. State beliefs, act.",
                        },
                    ],
                    schema,
                    max_tokens=400,
                    seed=i,
                )
                for i in range(TURNS)
            ]
            await asyncio.gather(*calls)
            status = backend.status()
        finally:
            await backend.aclose()
        figures[f"local_llm_tokens_per_s_{label}"] = round(status["tokens_per_second"], 1)
    return figures


async def bench_engine_overhead() -> dict[str, Any]:
    backend = _backend(os.cpu_count() or 1)
    config = SimulationConfig(agents=4, rounds=3, seed=11, prompt_tokens=1024)
    start = time.perf_counter()
    try:
        result = await run_simulation(SimulationRequest(SEED, GOAL, config), backend)
        wall = time.perf_counter() - start
        busy = backend.status()["busy_seconds"]
    finally:
        await backend.aclose()
    llm = result.summary["llm"]
    return {
        "local_llm_engine_run_s": round(wall, 1),
        "local_llm_model_busy_share": round(busy / wall, 3),
        "local_llm_engine_calls": llm["calls"],
        "local_llm_engine_invalid_turns": llm["invalid_turns"],
    }


def start_llama_server(work: Path, port: int) -> ManagedProcess:
    path = packaged_gguf(DEFAULT_GGUF_MODEL)
    assert path is not None
    command = llama_server_command(DEFAULT_GGUF_MODEL, path, "127.0.0.1", port)
    return ManagedProcess("llm_server", command, work / "llm_server.log").start()


async def bench_whole_job(infra: Infra, work: Path) -> dict[str, Any]:
    port = free_port()
    server = await asyncio.to_thread(start_llama_server, work, port)
    stack = PrivateStack(infra.env(work / "run"), work / "logs")
    try:
        await stack.launch(
            "auth",
            "jobs",
            "reporter",
            SWARMCAST_REPORT_LLM_URL=f"http://127.0.0.1:{port}/v1",
            SWARMCAST_REPORT_LLM_BACKENDS="llamacpp",
            SWARMCAST_REPORT_LLM_MAX_TOKENS="600",
        )
        await stack.launch(
            "gpu_runner",
            SWARMCAST_LLM_BACKEND="llamacpp",
            SWARMCAST_LLM_MODEL=DEFAULT_GGUF_MODEL,
            SWARMCAST_RUNNER_TIERS="local",
            SWARMCAST_RUNNER_INSTANCE_ID="bench-local",
        )
        md = await stack.register()
        async with insecure_channel(stack.addr("jobs")) as ch:
            stub = jobs_stub(ch)
            start = time.perf_counter()
            request = jobs_pb2.CreateJobRequest(seed_text=SEED, goal=GOAL, tier="local", enrich_web=False)
            job = (await stub.CreateJob(request, metadata=md, timeout=30)).job
            while True:
                job = (await stub.GetJob(jobs_pb2.GetJobRequest(job_id=job.id), metadata=md, timeout=30)).job
                name = jobs_pb2.JobStatus.Name(job.status)
                if name.endswith(("COMPLETED", "FAILED")) or time.perf_counter() - start > 900:
                    break
                await asyncio.sleep(0.5)
            wall = time.perf_counter() - start
        if not name.endswith("COMPLETED"):
            raise RuntimeError(f"the local job ended {name}: {job.error_message}\n{stack.tails()}")
        return {"whole_job_local_submit_to_completed_s": round(wall, 1)}
    finally:
        await asyncio.to_thread(stack.stop_all)
        await asyncio.to_thread(server.stop)


async def run_all(infra: Infra, work: Path) -> dict[str, Any]:
    figures = await bench_throughput()
    figures.update(await bench_engine_overhead())
    figures.update(await bench_whole_job(infra, work))
    return figures


def main() -> None:
    print_figures(run_all, "swarmcast-bench-local-")


if __name__ == "__main__":
    main()
