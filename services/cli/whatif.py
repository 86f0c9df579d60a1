"""`swarmcast interview`, `swarmcast interviews` and `swarmcast branch`, and the scheduled-event
options they share with `swarmcast submit` (JobsService over gRPC; DESIGN §8a).

swarmcast interview ID (--agent N [--agent N ...] | --camp yes|no|undecided | --coalition C) "QUESTION"
swarmcast interviews ID
swarmcast branch ID --round R [--event HEADLINE [--day D] [--favours yes|no] [--text TEXT]]...
                 [--events-file EVENTS.json] [--watch]
swarmcast submit SEED_FILE --goal "..." [--event HEADLINE --day D [--favours yes|no] [--text TEXT]]...

An event's --day, --favours and --text belong to the --event before them. An events file is a
JSON list of {"day", "headline", "text", "favours"} objects (or {"events": [...]}); its events
come before those of --event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.cli.client import CliError, Session, bounded_int
from services.cli.commands import follow, web_url
from services.cli.render import (
    answer_lines,
    backend_line,
    event_text,
    interview_lines,
    interview_summary,
    status_name,
    text_width,
)
from services.common.config import Settings

EVENT_KEYS = ("day", "headline", "text", "favours")
FAVOURS = {"yes": "yes", "no": "no", "neutral": ""}
CAMPS = ("yes", "no", "undecided")
COMMANDS = ("interview", "interviews", "branch")


# --- scheduled-event options ------------------------------------------------------------------------


class _NewEvent(argparse.Action):
    """--event HEADLINE: starts an event; the options after it fill it in."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, *_: Any
    ) -> None:
        events = list(getattr(namespace, "events", None) or [])
        events.append({"headline": str(values)})
        namespace.events = events


class _EventField(argparse.Action):
    """--day / --favours / --text: a field of the --event given last."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        events = getattr(namespace, "events", None)
        if not events:
            parser.error(f"{option_string} belongs to an event: put it after --event HEADLINE")
        field = self.dest.removeprefix("event_")
        current = events[-1]
        if field in current:
            parser.error(f"{option_string} given twice for the event {current['headline']!r}")
        current[field] = FAVOURS[values] if field == "favours" else values


def add_event_options(parser: argparse.ArgumentParser, *, first_day: int) -> None:
    """The repeatable --event HEADLINE [--day D] [--favours yes|no] [--text TEXT] options."""
    group = parser.add_argument_group(
        "scheduled events", "news every agent's feed shows at the round its day falls in (at most 10)"
    )
    group.add_argument(
        "--event",
        dest="events",
        action=_NewEvent,
        metavar="HEADLINE",
        help="a piece of news (repeatable); the --day, --favours and --text after it are its own",
    )
    day_help = (
        "its day of the forecast horizon (1..forecast days)"
        if first_day
        else "its day of the horizon; 0 (default) = the first round the branch simulates"
    )
    group.add_argument(
        "--day",
        dest="event_day",
        action=_EventField,
        type=bounded_int(first_day, 365),
        default=argparse.SUPPRESS,
        metavar="DAY",
        help=day_help,
    )
    group.add_argument(
        "--favours",
        dest="event_favours",
        action=_EventField,
        choices=tuple(FAVOURS),
        default=argparse.SUPPRESS,
        metavar="yes|no",
        help="the side of the goal it favours: yes or no (default neutral)",
    )
    group.add_argument(
        "--text",
        dest="event_text",
        action=_EventField,
        default=argparse.SUPPRESS,
        metavar="TEXT",
        help="its full text (at most 2,000 characters)",
    )
    parser.set_defaults(events=None)


def read_events_file(path: str) -> list[dict[str, Any]]:
    """The events of a JSON file, checked for shape (the jobs service checks days and lengths)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"events file {path} does not exist") from None
    except UnicodeDecodeError:
        raise CliError(f"events file {path} is not UTF-8 text") from None
    except ValueError as exc:
        raise CliError(f"events file {path} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    if isinstance(raw, dict) and set(raw) == {"events"}:
        raw = raw["events"]
    if not isinstance(raw, list):
        raise CliError(
            f'events file {path} must hold a JSON list of {{"day", "headline", "text", "favours"}}'
        )
    events: list[dict[str, Any]] = []
    for number, item in enumerate(raw, 1):
        where = f"events file {path}, event {number}"
        if not isinstance(item, dict):
            raise CliError(f'{where} is not an object {{"day", "headline", "text", "favours"}}')
        unknown = sorted(set(item) - set(EVENT_KEYS))
        if unknown:
            raise CliError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(EVENT_KEYS)})")
        day = item.get("day")
        if day is not None and (isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 365):
            raise CliError(f"{where}: day must be a whole number of the horizon (0..365)")
        if not isinstance(item.get("headline"), str):
            raise CliError(f"{where} needs a headline (text)")
        if not isinstance(item.get("text", ""), str):
            raise CliError(f"{where}: text must be text")
        favours = item.get("favours") or ""
        if not isinstance(favours, str) or favours.strip().lower() not in ("yes", "no", ""):
            raise CliError(f'{where}: favours must be "yes", "no" or "" (neutral)')
        event = {**item, "favours": favours.strip().lower()}
        if day is None:
            event.pop("day", None)
        events.append(event)
    return events


def scheduled_events(
    options: Sequence[dict[str, Any]] | None, events_file: str | None, *, default_day: int | None
) -> list[events_pb2.ScheduledEvent]:
    """The file's events then the --event ones, as messages. Without `default_day` every event
    needs its day (a job's events have no "now" to fall back on)."""
    found = (read_events_file(events_file) if events_file else []) + list(options or [])
    messages = []
    for event in found:
        day = event.get("day", default_day)
        if day is None:
            raise CliError(
                f"the event {event['headline']!r} needs a day: add --day D after it (1..forecast days)"
            )
        messages.append(
            events_pb2.ScheduledEvent(
                day=day,
                headline=event["headline"],
                text=event.get("text", ""),
                favours=event.get("favours", ""),
            )
        )
    return messages


# --- the commands -------------------------------------------------------------------------------


def add_parsers(sub: Any, job_id_type: Any) -> None:
    interview = sub.add_parser(
        "interview",
        help="ask agents of a completed job a question; each answers in character from its final state",
    )
    interview.add_argument("job_id", type=job_id_type, metavar="ID")
    target = interview.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--agent",
        dest="agent_ids",
        type=bounded_int(0, 2**31 - 1),
        action="append",
        metavar="AGENT_ID",
        help="an agent's id, as in the chat replay (repeatable, at most 12)",
    )
    target.add_argument("--camp", choices=CAMPS, help="every agent whose final belief is in this camp")
    target.add_argument(
        "--coalition", metavar="COALITION_ID", help="the members of a coalition of the report"
    )
    interview.add_argument("question", metavar="QUESTION", help="the question (1-500 characters)")

    interviews = sub.add_parser("interviews", help="the interview transcripts of a job")
    interviews.add_argument("job_id", type=job_id_type, metavar="ID")

    branch = sub.add_parser(
        "branch", help="what if: rerun a completed job from a round with injected events, and compare"
    )
    branch.add_argument("job_id", type=job_id_type, metavar="ID")
    branch.add_argument(
        "--round",
        required=True,
        type=bounded_int(0, 2**31 - 1),
        help="resume after this many rounds of the job (0..rounds-1)",
    )
    add_event_options(branch, first_day=0)
    branch.add_argument("--events-file", metavar="EVENTS.json", help="events as a JSON list of objects")
    branch.add_argument("--watch", action="store_true", help="follow the branch until it ends")


def _target(agent_ids: Sequence[int] | None, camp: str | None, coalition: str | None) -> str:
    if agent_ids:
        return f"agent {agent_ids[0]}" if len(agent_ids) == 1 else "agents " + ", ".join(map(str, agent_ids))
    return f"the {camp.upper()} camp" if camp else f"coalition {coalition}"


async def interview(
    settings: Settings,
    job_id: int,
    *,
    question: str,
    agent_ids: Sequence[int] | None,
    camp: str | None,
    coalition: str | None,
    out: TextIO,
) -> int:
    """Streams each agent's answer as it is ready, then what was kept and how it was answered."""
    if not question.strip():
        raise CliError("the question is empty: ask something (1-500 characters)")
    request = jobs_pb2.InterviewAgentsRequest(
        job_id=job_id,
        question=question,
        agent_ids=list(agent_ids or []),
        camp=camp or "",
        coalition=coalition or "",
    )
    width = text_width() if out.isatty() else 99
    interview_id, answered = 0, 0
    async with Session(settings) as session:
        async for reply in session.jobs_stream("InterviewAgents", request):
            if answered:
                print("", file=out)
            print("\n".join(answer_lines(reply.answer, width)), file=out, flush=True)
            interview_id, answered = reply.interview_id, answered + 1
        if not answered:
            raise CliError("the interview ended before any agent answered; try again")
        listed = await session.jobs_call("ListInterviews", jobs_pb2.ListInterviewsRequest(job_id=job_id))
    kept = next((i for i in listed.interviews if i.id == interview_id), None)
    print("", file=out)
    if kept is None:
        target = _target(agent_ids, camp, coalition)
        print(f"Interview {interview_id} of job {job_id} · {target} · {answered} answered", file=out)
        return 0
    print(interview_summary(kept), file=out)
    label = backend_line(kept.backend, kept.model_id)
    if label:
        print(label, file=out)
    print(f"Transcripts: `swarmcast interviews {job_id}` or {web_url(settings, f'/jobs/{job_id}')}", file=out)
    return 0


async def interviews(settings: Settings, job_id: int, out: TextIO) -> int:
    async with Session(settings) as session:
        reply = await session.jobs_call("ListInterviews", jobs_pb2.ListInterviewsRequest(job_id=job_id))
    if not reply.interviews:
        print(
            f"No interviews of job {job_id} yet. Ask with "
            f'`swarmcast interview {job_id} --agent ID "QUESTION"`.',
            file=out,
        )
        return 0
    width = text_width() if out.isatty() else 99
    for number, kept in enumerate(reply.interviews):
        if number:
            print("\n" + "-" * min(width, 60) + "\n", file=out)
        print("\n".join(interview_lines(kept, width)), file=out)
    return 0


async def branch(
    settings: Settings,
    job_id: int,
    *,
    round_no: int,
    events: Sequence[events_pb2.ScheduledEvent],
    watch: bool,
    out: TextIO,
) -> int:
    request = jobs_pb2.BranchJobRequest(job_id=job_id, round=round_no, events=list(events))
    async with Session(settings) as session:
        job = (await session.jobs_call("BranchJob", request)).job
        print(
            f"Branched job {job_id} after round {round_no}: job {job.id} ({status_name(job)}) "
            f"{web_url(settings, f'/jobs/{job.id}')}",
            file=out,
        )
        if job.events:
            for event in job.events:
                print(f"  injected news, {event_text(event)}", file=out)
        else:
            print("  no events injected: it reruns the job from that round", file=out)
        if not watch:
            print(f"Follow it with `swarmcast watch {job.id}`.", file=out)
            return 0
        return await follow(session, job.id, out)


def run(args: argparse.Namespace, out: TextIO) -> int:
    settings = Settings()
    if args.command == "interview":
        return asyncio.run(
            interview(
                settings,
                args.job_id,
                question=args.question,
                agent_ids=args.agent_ids,
                camp=args.camp,
                coalition=args.coalition,
                out=out,
            )
        )
    if args.command == "interviews":
        return asyncio.run(interviews(settings, args.job_id, out))
    events = scheduled_events(args.events, args.events_file, default_day=0)
    return asyncio.run(
        branch(settings, args.job_id, round_no=args.round, events=events, watch=args.watch, out=out)
    )
