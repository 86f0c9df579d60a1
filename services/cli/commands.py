"""The job commands of the `swarmcast` CLI, all over gRPC: login, submit, watch, jobs, report, share."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import httpx
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.cli import credentials
from services.cli.client import CliError, Session, numbered
from services.cli.render import TERMINAL, ProgressPrinter, event_text, forecast_lines, status_name
from services.common.config import Settings


def web_url(settings: Settings, path: str) -> str:
    return f"{settings.public_url.rstrip('/')}{path}"


def read_password(password_stdin: bool, *, confirm: bool = False) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Password (again): ") != password:
            raise CliError("the passwords do not match")
    else:
        raise CliError("no terminal to ask for the password: pass it on stdin with --password-stdin")
    if not password:
        raise CliError("a password is required")
    return password


def ask_credentials(email: str | None, *, register: bool, password_stdin: bool) -> tuple[str, str]:
    """The email (prompted for on a terminal) and the password (prompted, or read from stdin)."""
    if not email:
        if not sys.stdin.isatty() or password_stdin:
            raise CliError("--email is required when not running in a terminal")
        email = input("Email: ").strip()
    return email, read_password(password_stdin, confirm=register)


async def login(settings: Settings, email: str, password: str, *, register: bool, out: TextIO) -> int:
    async with Session(settings) as session:
        creds = await session.login(email, password, register=register)
    path = credentials.save(creds)
    action = "Account created; logged in" if register else "Logged in"
    print(f"{action} as {creds.email} (tokens in {path})", file=out)
    return 0


def logout(out: TextIO) -> int:
    print("Logged out." if credentials.clear() else "Not logged in.", file=out)
    return 0


def read_seed(seed_file: str) -> str:
    if seed_file == "-":
        return sys.stdin.read()
    path = Path(seed_file)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"seed file {seed_file} does not exist") from None
    except UnicodeDecodeError:
        raise CliError(f"seed file {seed_file} is not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read {seed_file}: {exc.strerror}") from None


async def submit(
    settings: Settings,
    seed_file: str,
    *,
    goal: str,
    tier: str,
    forecast_days: int | None,
    enrich_web: bool | None,
    watch: bool,
    out: TextIO,
    events: Sequence[events_pb2.ScheduledEvent] = (),
) -> int:
    request = jobs_pb2.CreateJobRequest(
        seed_text=read_seed(seed_file), goal=goal, tier=tier, events=list(events)
    )
    if forecast_days is not None:
        request.forecast_days = forecast_days
    if enrich_web is not None:
        request.enrich_web = enrich_web
    async with Session(settings) as session:
        job = (await session.jobs_call("CreateJob", request)).job
        print(
            f"Submitted job {job.id} ({status_name(job)}): {web_url(settings, f'/jobs/{job.id}')}", file=out
        )
        for event in job.events:
            print(f"  scheduled news, {event_text(event)}", file=out)
        if not watch:
            print(f"Follow it with `swarmcast watch {job.id}`.", file=out)
            return 0
        return await follow(session, job.id, out)


async def suggest(
    settings: Settings, seed_file: str, *, goal: str, forecast_days: int | None, out: TextIO
) -> int:
    """Prints yes/no questions the seed can answer (and whether --goal already is one).

    Exit status 0 when there is something to ask: the goal is fine, or there are suggestions.
    """
    request = jobs_pb2.SuggestQuestionsRequest(
        seed_text=read_seed(seed_file), goal=goal, forecast_days=forecast_days or 0
    )
    async with Session(settings) as session:
        reply = await session.jobs_call("SuggestQuestions", request)
    if goal.strip():
        if reply.goal_ok:
            print(f"The goal is a yes/no question: {goal.strip()}", file=out)
        else:
            print(f"The goal is not a yes/no question about an event: {reply.reason}", file=out)
    if reply.suggestions:
        print("Yes/no questions this seed can answer:", file=out)
        print(numbered(list(reply.suggestions)), file=out)
        print('Submit one with `swarmcast submit SEED_FILE --goal "..."`.', file=out)
    elif not reply.goal_ok:
        print("No questions could be suggested from this seed; add more about its events.", file=out)
    return 0 if reply.goal_ok or reply.suggestions else 1


async def follow(session: Session, job_id: int, out: TextIO) -> int:
    """Shows progress until the job ends, then its forecast; exit status 0 only for COMPLETED."""
    printer = ProgressPrinter(out=out)
    last: jobs_pb2.Job | None = None
    try:
        async for job in session.watch(job_id):
            printer.update(job)
            last = job
    finally:
        printer.finish()
    if last is None or status_name(last) not in TERMINAL:
        raise CliError(
            f"the progress stream of job {job_id} ended early; run `swarmcast watch {job_id}` again"
        )
    full = (await session.jobs_call("GetJob", jobs_pb2.GetJobRequest(job_id=job_id))).job
    if status_name(full) != "COMPLETED":
        print(f"Job {job_id} {status_name(full)}: {full.error_message or 'no reason recorded'}", file=out)
        return 1
    print(f"Job {job_id} COMPLETED", file=out)
    for line in forecast_lines(full):
        print(line, file=out)
    return 0


async def watch(settings: Settings, job_id: int, out: TextIO) -> int:
    async with Session(settings) as session:
        return await follow(session, job_id, out)


async def list_jobs(
    settings: Settings, *, page: int, per_page: int, out: TextIO, branch_of: int | None = None
) -> int:
    request = jobs_pb2.ListJobsRequest(page=page, per_page=per_page, branch_of=branch_of or 0)
    async with Session(settings) as session:
        reply = await session.jobs_call("ListJobs", request)
    if not reply.jobs:
        if branch_of:
            print(
                f"Job {branch_of} has no what-if branches. Make one with "
                f"`swarmcast branch {branch_of} --round R --event HEADLINE`.",
                file=out,
            )
        else:
            print("No jobs yet. Submit one with `swarmcast submit SEED_FILE --goal ...`.", file=out)
        return 0
    print(f"{'ID':>6}  {'STATUS':<12} {'TIER':<7} {'CREATED':<17} GOAL", file=out)
    for job in reply.jobs:
        created = job.created_at.ToDatetime().strftime("%Y-%m-%d %H:%M") if job.HasField("created_at") else ""
        goal = job.goal if len(job.goal) <= 70 else job.goal[:69] + "…"
        if job.HasField("branch_of"):
            goal = f"[what-if of {job.branch_of} after round {job.branch_round}] {goal}"
        elif job.branch_count:
            goal += f" ({job.branch_count} what-if branch{'es' if job.branch_count > 1 else ''})"
        print(f"{job.id:>6}  {status_name(job):<12} {job.tier:<7} {created:<17} {goal}", file=out)
    pages = max(1, -(-reply.total // reply.per_page))
    print(f"page {reply.page} of {pages} ({reply.total} jobs)", file=out)
    return 0


async def fetch_report(session: Session, job_id: int) -> str:
    """report.md of a job: the stored report, else the object the reporter uploaded."""
    job = (await session.jobs_call("GetJob", jobs_pb2.GetJobRequest(job_id=job_id))).job
    if job.HasField("result_report") and job.result_report:
        return job.result_report
    if job.sim_data_available:
        files = (await session.jobs_call("GetSimData", jobs_pb2.GetSimDataRequest(job_id=job_id))).files
        if "report.md" in files:
            async with httpx.AsyncClient(timeout=30) as http:
                response = await http.get(files["report.md"])
            if response.status_code == 200:
                return response.text
    raise CliError(f"job {job_id} has no report yet (it is {status_name(job)})")


async def _report_text(settings: Settings, job_id: int) -> str:
    async with Session(settings) as session:
        return await fetch_report(session, job_id)


def report(settings: Settings, job_id: int, output: str | None, out: TextIO) -> int:
    text = asyncio.run(_report_text(settings, job_id))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"Report of job {job_id} written to {output}", file=out)
    else:
        out.write(text if text.endswith("\n") else text + "\n")
    return 0


async def share(settings: Settings, job_id: int, *, revoke: bool, out: TextIO) -> int:
    async with Session(settings) as session:
        if revoke:
            await session.jobs_call("RevokeShareLink", jobs_pb2.RevokeShareLinkRequest(job_id=job_id))
            print(f"Share link of job {job_id} revoked.", file=out)
            return 0
        reply = await session.jobs_call("CreateShareLink", jobs_pb2.CreateShareLinkRequest(job_id=job_id))
    print(web_url(settings, f"/share/{reply.share_token}"), file=out)
    return 0
