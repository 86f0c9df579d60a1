"""`swarmcast resolve`, `swarmcast outcome` and `swarmcast track-record` (JobsService over gRPC).

swarmcast resolve ID yes|no|annulled [--market m2=no ...] [--date YYYY-MM-DD] [--source URL]
swarmcast outcome ID
swarmcast track-record [--all]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any, TextIO

from swarmcast.jobs.v1 import jobs_pb2

from services.cli.client import CliError, Session
from services.common.config import Settings

RESOLUTIONS = {
    "yes": jobs_pb2.RESOLUTION_YES,
    "no": jobs_pb2.RESOLUTION_NO,
    "annulled": jobs_pb2.RESOLUTION_ANNULLED,
}
SETTLEMENT_ROWS = 10
BAR_WIDTH = 30


def _resolution(text: str) -> int:
    value = RESOLUTIONS.get(text.strip().lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not yes, no or annulled")
    return value


def _market(text: str) -> tuple[str, int]:
    market_id, sep, outcome = text.partition("=")
    if not sep or not market_id.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not MARKET=OUTCOME (e.g. m2=no)")
    return market_id.strip(), _resolution(outcome)


def add_parsers(sub: Any, job_id_type: Any) -> None:
    resolve = sub.add_parser(
        "resolve", help="record what happened to a completed job's goal (and markets); scores the forecast"
    )
    resolve.add_argument("job_id", type=job_id_type, metavar="ID")
    resolve.add_argument("outcome", type=_resolution, metavar="yes|no|annulled", help="the goal's outcome")
    resolve.add_argument(
        "--market",
        dest="markets",
        type=_market,
        action="append",
        default=[],
        metavar="ID=OUTCOME",
        help="another market's outcome, e.g. m2=no (repeatable; markets left out stay unresolved)",
    )
    resolve.add_argument("--date", default="", help="when it resolved, YYYY-MM-DD (default today)")
    resolve.add_argument("--source", default="", help="an http(s) URL recording the outcome")

    outcome = sub.add_parser("outcome", help="show a job's recorded outcome, scores and settlement")
    outcome.add_argument("job_id", type=job_id_type, metavar="ID")

    record = sub.add_parser("track-record", help="how good your resolved forecasts were")
    record.add_argument("--all", action="store_true", help="everyone's (operator role)")


def _name(value: int) -> str:
    return jobs_pb2.Resolution.Name(value).removeprefix("RESOLUTION_")


def _score(message: Any, field: str) -> str:
    return f"{getattr(message, field):.3f}" if message.HasField(field) else "-"


def outcome_lines(o: jobs_pb2.JobOutcome) -> list[str]:
    source = f", source {o.source_url}" if o.source_url else ""
    until = o.editable_until.ToDatetime().strftime("%Y-%m-%d")
    state = f"editable until {until}" if o.editable else f"fixed since {until}"
    lines = [f"Job {o.job_id} resolved {_name(o.outcome)} on {o.resolved_on}{source} ({state})", ""]
    lines.append(
        f"  {'MARKET':<6} {'OUTCOME':<9} {'FORECAST':>8} {'BRIER':>6} {'LOG':>6}"
        f"   {'OPENING':>7} {'BRIER':>6}"
    )
    for m in o.markets:
        label = f"{m.market_id}{'*' if m.is_goal else ''}"
        lines.append(
            f"  {label:<6} {_name(m.outcome):<9} {m.probability:>8.1%} {_score(m, 'brier'):>6} "
            f"{_score(m, 'log_score'):>6}   {m.opening_price:>7.1%} {_score(m, 'opening_brier'):>6}"
        )
    goal = next((m for m in o.markets if m.is_goal), None)
    if goal is not None and goal.HasField("brier"):
        better = goal.brier < goal.opening_brier
        same = goal.brier == goal.opening_brier
        verdict = "matched" if same else ("beat" if better else "did worse than")
        lines += [
            "",
            f"  The forecast ({goal.probability:.0%}) {verdict} the opening price "
            f"({goal.opening_price:.0%}): Brier {goal.brier:.3f} vs {goal.opening_brier:.3f}."
            "  (* the goal's market)",
        ]
    if o.agents:
        ranked = sorted(o.agents, key=lambda a: -a.settled_cash)
        lines += [
            "",
            f"  Settlement (replicate 0, top {min(SETTLEMENT_ROWS, len(ranked))} of {len(ranked)}):",
        ]
        for a in ranked[:SETTLEMENT_ROWS]:
            lines.append(
                f"    {a.name[:32]:<32} cash {a.cash:>8.2f} -> {a.settled_cash:>8.2f}  P&L {a.pnl:>+8.2f}"
            )
    return lines


def _summary_row(label: str, s: jobs_pb2.ScoreSummary) -> str:
    return (
        f"  {label:<14} {s.count:>4} {_score(s, 'brier'):>7} {_score(s, 'log_score'):>7} "
        f"{_score(s, 'ece'):>7} {_score(s, 'sharpness'):>9}"
    )


def track_record_lines(r: jobs_pb2.GetTrackRecordResponse) -> list[str]:
    whose = "Everyone's" if r.all_users else "Your"
    if r.resolved == 0 and r.annulled == 0:
        return [f"{whose} track record is empty: record outcomes with `swarmcast resolve ID yes|no`."]
    lines = [f"{whose} track record: {r.resolved} resolved goals ({r.annulled} annulled)", ""]
    lines.append(f"  {'':<14} {'n':>4} {'BRIER':>7} {'LOG':>7} {'ECE':>7} {'SHARPNESS':>9}")
    lines.append(_summary_row("forecast", r.forecast))
    lines.append(_summary_row("opening price", r.opening_price))
    if r.HasField("markets_brier"):
        lines.append(f"  all {r.markets_resolved} resolved markets: mean Brier {r.markets_brier:.3f}")
    lines += ["", "  Calibration (forecast bin: observed YES share, n)"]
    for b in r.forecast.calibration:
        if not b.count:
            continue
        bar = "#" * round(b.observed * BAR_WIDTH)
        lines.append(
            f"  {b.lower:>4.0%}-{b.upper:<4.0%} {bar:<{BAR_WIDTH}} {b.observed:>5.0%} (mean forecast "
            f"{b.mean_forecast:.0%}, n={b.count})"
        )
    lines += ["", f"  {'JOB':>6}  {'RESOLVED':<10} {'OUTCOME':<9} {'FORECAST':>8} {'BRIER':>6}  GOAL"]
    for e in r.entries:
        goal = e.goal if len(e.goal) <= 60 else e.goal[:59] + "…"
        lines.append(
            f"  {e.job_id:>6}  {e.resolved_on:<10} {_name(e.outcome):<9} {e.probability:>8.1%} "
            f"{_score(e, 'brier'):>6}  {goal}"
        )
    return lines


async def _resolve(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    request = jobs_pb2.ResolveJobRequest(
        job_id=args.job_id, outcome=args.outcome, resolved_on=args.date, source_url=args.source
    )
    for market_id, outcome in args.markets:
        if market_id in request.markets:
            raise CliError(f"market {market_id} is given twice")
        request.markets[market_id] = outcome
    async with Session(settings) as session:
        reply = await session.jobs_call("ResolveJob", request)
    print("\n".join(outcome_lines(reply.outcome)), file=out)
    return 0


async def _outcome(settings: Settings, job_id: int, out: TextIO) -> int:
    async with Session(settings) as session:
        reply = await session.jobs_call("GetOutcome", jobs_pb2.GetOutcomeRequest(job_id=job_id))
    if not reply.HasField("outcome"):
        raise CliError(
            f"job {job_id} has no recorded outcome: record it with `swarmcast resolve {job_id} yes|no`"
        )
    print("\n".join(outcome_lines(reply.outcome)), file=out)
    return 0


async def _track_record(settings: Settings, all_users: bool, out: TextIO) -> int:
    async with Session(settings) as session:
        reply = await session.jobs_call("GetTrackRecord", jobs_pb2.GetTrackRecordRequest(all_users=all_users))
    print("\n".join(track_record_lines(reply)), file=out)
    return 0


def run(args: argparse.Namespace, out: TextIO) -> int:
    settings = Settings()
    if args.command == "resolve":
        return asyncio.run(_resolve(settings, args, out))
    if args.command == "outcome":
        return asyncio.run(_outcome(settings, args.job_id, out))
    return asyncio.run(_track_record(settings, args.all, out))


COMMANDS = ("resolve", "outcome", "track-record")
