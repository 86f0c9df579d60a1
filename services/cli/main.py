"""`swarmcast`: the command-line interface (console script of the project).

    swarmcast up | down | status           the local stack (like make up / down / status)
    swarmcast demo [--tier local]          the whole main job on this machine (make demo [TIER=local])
    swarmcast login [--email E] [--register] [--password-stdin]
    swarmcast logout
    swarmcast submit SEED_FILE --goal "..." [--tier small] [--forecast-days N] [--no-enrich-web] [--watch]
                   [--event HEADLINE --day D [--favours yes|no] [--text TEXT]]...   scheduled news
    swarmcast suggest SEED_FILE [--goal "..."] [--forecast-days N]   yes/no questions the seed can answer
    swarmcast watch ID                     a live progress bar until the job ends, then its forecast
    swarmcast jobs [--page N] [--per-page N] [--branches-of ID]
    swarmcast report ID [-o FILE]          report.md
    swarmcast share ID [--revoke]          a public read-only link
    swarmcast resolve ID yes|no|annulled [--market m2=no] [--date YYYY-MM-DD] [--source URL]
                                           record what happened; the forecast is scored
    swarmcast outcome ID                   the recorded outcome, scores and settlement
    swarmcast track-record [--all]         how good your resolved forecasts were
    swarmcast interview ID (--agent N ... | --camp yes|no|undecided | --coalition C) "QUESTION"
                                           agents answer in character from the run's final state
    swarmcast interviews ID                the job's interview transcripts
    swarmcast branch ID --round R [--event HEADLINE [--day D] [--favours yes|no] [--text TEXT]]...
                     [--events-file F.json] [--watch]   what if: rerun from round R with news
    swarmcast eval QUESTIONS.jsonl [--tier T] [--limit N] [--parallel N] [--out DIR] [--name NAME]
                   [--no-resume] [--partial]  resolved questions through the stack, scored (make eval)
    swarmcast eval --forecastbench QUESTION_SET.json RESOLUTION_SET.json [--tier T] ...

Everything but up/down/status talks gRPC to the services named by SWARMCAST_*_ADDR. Failures are
one line on stderr, never a traceback; exit status 2 means "log in first", 3 "the stack is not
running".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from services.cli import commands, demo, whatif
from services.cli import eval as eval_command
from services.cli import outcomes as outcome_commands
from services.cli.client import CliError, bounded_int
from services.cli.stack import DEFAULT_STOP_GRACE, Stack, StackError
from services.common.config import Settings
from services.common.tls import InsecureTransportError, TlsConfigError

JOB_ID = bounded_int(1, 2**63 - 1)
INT32 = bounded_int(1, 2**31 - 1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swarmcast", description="swarmcast: multi-agent social simulation forecasts"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("up", help="start the local stack in the background")
    sub.add_parser("down", help="stop the local stack")
    sub.add_parser("status", help="show the local stack's processes")
    demo_cmd = sub.add_parser("demo", help="start the stack and run the demo forecast")
    demo_cmd.add_argument(
        "--tier",
        default=demo.DEMO_TIER,
        help="the tier to run on (local: a real language model on the CPU)",
    )

    login = sub.add_parser("login", help="log in (tokens are kept in the config folder, mode 0600)")
    login.add_argument("--email")
    login.add_argument("--register", action="store_true", help="create the account first")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sub.add_parser("logout", help="forget the stored tokens")

    submit = sub.add_parser("submit", help="submit a simulation")
    submit.add_argument("seed_file", metavar="SEED_FILE", help="the seed document (UTF-8 text; - for stdin)")
    submit.add_argument(
        "--goal", required=True, help="the prediction: one yes/no question about an event (see `suggest`)"
    )
    submit.add_argument("--tier", default="small", help="small, medium or large (default small)")
    submit.add_argument("--forecast-days", type=INT32, help="forecast horizon in days (1-365, default 30)")
    submit.add_argument(
        "--enrich-web",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="web enrichment (default on)",
    )
    submit.add_argument("--watch", action="store_true", help="follow the progress until it ends")
    whatif.add_event_options(submit, first_day=1)
    submit.add_argument("--events-file", metavar="EVENTS.json", help="events as a JSON list of objects")

    suggest = sub.add_parser("suggest", help="yes/no questions a seed document can answer")
    suggest.add_argument("seed_file", metavar="SEED_FILE", help="the seed document (UTF-8 text; - for stdin)")
    suggest.add_argument("--goal", default="", help="a goal to check (is it a yes/no question?)")
    suggest.add_argument("--forecast-days", type=INT32, help="forecast horizon in days (1-365, default 30)")

    watch = sub.add_parser("watch", help="follow a job's progress")
    watch.add_argument("job_id", type=JOB_ID, metavar="ID")

    jobs = sub.add_parser("jobs", help="list your jobs")
    jobs.add_argument("--page", type=INT32, default=1)
    jobs.add_argument("--per-page", type=bounded_int(1, 100), default=20)
    jobs.add_argument(
        "--branches-of", type=JOB_ID, metavar="ID", help="only the what-if branches of this job"
    )

    report = sub.add_parser("report", help="print or save a job's report.md")
    report.add_argument("job_id", type=JOB_ID, metavar="ID")
    report.add_argument("-o", "--output", help="write to this file instead of stdout")

    share = sub.add_parser("share", help="create (or revoke) a public link to a completed job")
    share.add_argument("job_id", type=JOB_ID, metavar="ID")
    share.add_argument("--revoke", action="store_true")

    # `swarmcast resolve`, `outcome`, `track-record` (services/cli/outcomes.py).
    outcome_commands.add_parsers(sub, JOB_ID)
    # `swarmcast eval`: resolved questions through the stack, scored (services/cli/eval.py).
    eval_command.add_parser(sub)
    # `swarmcast interview`, `interviews`, `branch` (services/cli/whatif.py).
    whatif.add_parsers(sub, JOB_ID)
    return parser


def _stack_command(command: str) -> int:
    stack = Stack()
    if command == "up":
        try:
            stack.up()
        except StackError as exc:
            raise CliError(f"the stack did not come up: {exc}") from None
        return 0
    if command == "down":
        stack.down(grace=DEFAULT_STOP_GRACE)
        return 0
    for row in stack.status():
        print(row.line())
    return 0


def _run(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.command in ("up", "down", "status"):
        return _stack_command(args.command)
    if args.command == "logout":
        return commands.logout(out)
    if args.command == "demo":
        return demo.main(None, out, args.tier)
    if args.command in outcome_commands.COMMANDS:
        return outcome_commands.run(args, out)
    if args.command == "eval":  # `swarmcast eval` (services/cli/eval.py)
        return eval_command.run(args, out)
    if args.command in whatif.COMMANDS:
        return whatif.run(args, out)
    settings = Settings()
    if args.command == "login":
        email, password = commands.ask_credentials(
            args.email, register=args.register, password_stdin=args.password_stdin
        )
        return asyncio.run(commands.login(settings, email, password, register=args.register, out=out))
    if args.command == "submit":
        events = whatif.scheduled_events(args.events, args.events_file, default_day=None)
        return asyncio.run(
            commands.submit(
                settings,
                args.seed_file,
                goal=args.goal,
                tier=args.tier,
                forecast_days=args.forecast_days,
                enrich_web=args.enrich_web,
                watch=args.watch,
                out=out,
                events=events,
            )
        )
    if args.command == "suggest":
        return asyncio.run(
            commands.suggest(
                settings, args.seed_file, goal=args.goal, forecast_days=args.forecast_days, out=out
            )
        )
    if args.command == "watch":
        return asyncio.run(commands.watch(settings, args.job_id, out))
    if args.command == "jobs":
        return asyncio.run(
            commands.list_jobs(
                settings, page=args.page, per_page=args.per_page, out=out, branch_of=args.branches_of
            )
        )
    if args.command == "report":
        return commands.report(settings, args.job_id, args.output, out)
    if args.command == "share":
        return asyncio.run(commands.share(settings, args.job_id, revoke=args.revoke, out=out))
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except CliError as exc:
        print(f"swarmcast: {exc.message}", file=sys.stderr)
        return exc.code
    except (InsecureTransportError, TlsConfigError, ValidationError) as exc:
        # Configuration problems (SWARMCAST_* variables): say what, not where in our code.
        print(f"swarmcast: configuration error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
