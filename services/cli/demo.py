"""`swarmcast demo` (behind `make demo`): the whole main job, end to end, on this machine.

1. brings the local stack up (`Stack.up`: PostgreSQL, the stack's own authenticated NATS, S3,
   migrations, the five services);
2. logs in as the demo user, registering it on the first run;
3. submits `demos/harbor_transit.md` on the small tier (the stack's runner uses the heuristic
   backend unless SWARMCAST_LLM_BACKEND says otherwise) — or follows the demo job already running.
   `--tier local` runs it with a real language model on the CPU instead (the stack starts its
   llama.cpp runner and model server: SWARMCAST_LOCAL_LLM=1 is implied);
4. shows progress, then prints the forecast (the goal's probability with its 80% interval), the
   verdict, each market's forecast, the key insight, where report.md was saved, the job's web page
   and a public share link.

A second run reuses everything: the running stack, the demo account, the CLI login. The stack is
left running; `make down` stops it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from swarmcast.jobs.v1 import jobs_pb2

from services.cli import credentials
from services.cli.client import CliError, Session
from services.cli.commands import fetch_report, follow, web_url
from services.cli.render import TERMINAL, status_name
from services.cli.stack import LOCAL_TIER, Stack, StackError
from services.common.config import REPO_ROOT, Settings

DEMO_EMAIL = "demo@swarmcast.example"
# A local demo account on a loopback stack, printed so the web page can be opened with it;
# SWARMCAST_DEMO_PASSWORD overrides it (e.g. after changing it in the web UI).
DEFAULT_DEMO_PASSWORD = "swarmcast-demo"


def demo_password() -> str:
    return os.environ.get("SWARMCAST_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


DEMO_SEED = REPO_ROOT / "demos" / "harbor_transit.md"
DEMO_GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
DEMO_TIER = "small"
DEMO_FORECAST_DAYS = 30


async def _sign_in(session: Session, password: str, out: TextIO) -> None:
    """Logs in as the demo user, registering it the first time."""
    if await session.login_or_register(DEMO_EMAIL, password, password_variable="SWARMCAST_DEMO_PASSWORD"):
        print(f"demo        registered {DEMO_EMAIL}", file=out)
    else:
        print(f"demo        logged in as {DEMO_EMAIL}", file=out)
    # Leave the CLI signed in as the demo user, unless someone else is signed in.
    existing = credentials.load()
    if existing is None or existing.email == DEMO_EMAIL:
        assert session.creds is not None
        credentials.save(session.creds)


async def _live_demo_job(session: Session, tier: str) -> jobs_pb2.Job | None:
    """A demo job that is still running (an interrupted earlier run): follow it, don't resubmit."""
    reply = await session.jobs_call("ListJobs", jobs_pb2.ListJobsRequest(page=1, per_page=20))
    for job in reply.jobs:
        if job.goal == DEMO_GOAL and job.tier == tier and status_name(job) not in TERMINAL | {"DRAFT"}:
            return job
    return None


@dataclass
class DemoResult:
    status: int
    job_id: int = 0
    report: str = ""
    share_token: str = ""


async def run_demo(
    settings: Settings, seed: str, password: str, out: TextIO, tier: str = DEMO_TIER
) -> DemoResult:
    """Signs in, submits (or follows) the demo job, and collects its report and a share link."""
    async with Session(settings) as session:
        await _sign_in(session, password, out)
        job = await _live_demo_job(session, tier)
        if job is not None:
            print(f"demo        following job {job.id}, still running from an earlier demo", file=out)
        else:
            request = jobs_pb2.CreateJobRequest(
                seed_text=seed,
                goal=DEMO_GOAL,
                tier=tier,
                enrich_web=False,
                forecast_days=DEMO_FORECAST_DAYS,
            )
            job = (await session.jobs_call("CreateJob", request)).job
            print(
                f"demo        submitted job {job.id} on the {tier} tier: {DEMO_SEED.relative_to(REPO_ROOT)}",
                file=out,
            )
        print(f"\nForecasting: {DEMO_GOAL}", file=out)
        status = await follow(session, job.id, out)
        if status != 0:
            return DemoResult(status, job.id)
        text = await fetch_report(session, job.id)
        share = await session.jobs_call("CreateShareLink", jobs_pb2.CreateShareLinkRequest(job_id=job.id))
    return DemoResult(0, job.id, text, share.share_token)


def main(env: Mapping[str, str] | None, out: TextIO, tier: str = DEMO_TIER) -> int:
    """Stack up, demo job, then where to find everything."""
    env = dict(os.environ if env is None else env)
    if tier == LOCAL_TIER:
        env["SWARMCAST_LOCAL_LLM"] = "1"
    stack = Stack(env, out=lambda line: print(line, file=out, flush=True))
    try:
        stack.up()
    except StackError as exc:
        raise CliError(f"the stack did not come up: {exc}") from None
    settings = stack.settings
    password = demo_password()
    result = asyncio.run(run_demo(settings, DEMO_SEED.read_text(encoding="utf-8"), password, out, tier))
    if result.status != 0:
        return result.status
    report_path = Path(settings.run_dir).resolve() / "demo" / "report.md"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(result.report, encoding="utf-8")
    job_url = web_url(settings, f"/jobs/{result.job_id}")
    print(f"\nReport:      {report_path}", file=out)
    print(f"Web page:    {job_url}  (log in as {DEMO_EMAIL} / {password})", file=out)
    print(f"Public link: {web_url(settings, f'/share/{result.share_token}')}", file=out)
    print("\nThe stack keeps running; stop it with `make down` (or `swarmcast down`).", file=out, flush=True)
    return 0
