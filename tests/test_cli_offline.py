"""The `swarmcast` CLI without a stack: clear one-line errors (never a traceback), the credentials
file, and the progress/forecast rendering."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.cli import credentials, whatif
from services.cli import main as cli_main
from services.cli.render import ProgressPrinter, forecast_lines, fraction_done, interview_lines, progress_text
from services.common.config import REPO_ROOT

# Ports nothing listens on (port 1 is privileged and unused).
DEAD = {f"SWARMCAST_{name}_ADDR": "127.0.0.1:1" for name in ("AUTH", "JOBS", "RUNNER", "REPORTER")}


def swarmcast(
    args: list[str], config_dir: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SWARMCAST_")}
    environ.update(DEAD, SWARMCAST_CONFIG_DIR=str(config_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=REPO_ROOT,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("swarmcast: ") and text in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_login_when_the_stack_is_down(tmp_path: Path) -> None:
    result = swarmcast(
        ["login", "--email", "a@example.com", "--password-stdin"], tmp_path, stdin="password1\n"
    )
    assert_clean_failure(result, 3, "the swarmcast stack is not running")
    assert "swarmcast up" in result.stderr


def test_commands_when_the_stack_is_down(tmp_path: Path) -> None:
    credentials_file = tmp_path / "credentials.json"
    credentials_file.write_text(
        json.dumps(
            {
                "email": "a@example.com",
                "access_token": "a.b.c",
                "refresh_token": "r",
                "auth_addr": DEAD["SWARMCAST_AUTH_ADDR"],
            }
        )
    )
    demo = str(REPO_ROOT / "demos" / "harbor_transit.md")
    for args in (["jobs"], ["watch", "7"], ["report", "7"], ["share", "7"], ["suggest", demo]):
        assert_clean_failure(swarmcast(args, tmp_path), 3, "cannot reach the")


def test_commands_need_a_login(tmp_path: Path) -> None:
    assert_clean_failure(swarmcast(["jobs"], tmp_path), 2, "not logged in")


def test_bad_arguments(tmp_path: Path) -> None:
    missing = swarmcast(["submit", str(tmp_path / "nope.md"), "--goal", "g"], tmp_path)
    assert_clean_failure(missing, 1, "does not exist")
    assert_clean_failure(swarmcast(["suggest", str(tmp_path / "nope.md")], tmp_path), 1, "does not exist")
    huge = swarmcast(["watch", str(2**64)], tmp_path)
    assert huge.returncode == 2 and "outside" in huge.stderr and "Traceback" not in huge.stderr
    no_password = swarmcast(["login", "--email", "a@example.com"], tmp_path)
    assert_clean_failure(no_password, 1, "--password-stdin")


def test_credentials_file_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMCAST_CONFIG_DIR", str(tmp_path / "cfg"))
    path = credentials.save(
        credentials.Credentials("a@example.com", "access", "refresh", "127.0.0.1:50051", 3)
    )
    assert path == tmp_path / "cfg" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert credentials.load() == credentials.Credentials(
        "a@example.com", "access", "refresh", "127.0.0.1:50051", 3
    )
    assert credentials.clear() and credentials.load() is None


def test_config_dir_defaults_to_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SWARMCAST_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert credentials.credentials_path() == tmp_path / "swarmcast" / "credentials.json"


def _job(status: str, **live: object) -> jobs_pb2.Job:
    job = jobs_pb2.Job(id=4, goal="Will it pass?", status=f"JOB_STATUS_{status}")
    if live:
        json_format.ParseDict(live, job.live_status)
    return job


def test_progress_line() -> None:
    running = _job("RUNNING", stage=3, stage_name="simulating", round=5, max_rounds=10, prices={"m1": 0.625})
    assert progress_text(running) == "simulating · round 5/10 · m1 62.5%"
    assert 0.25 < fraction_done(running) < 0.85
    assert progress_text(_job("PENDING")) == "waiting for a runner"
    assert fraction_done(_job("COMPLETED")) == 1.0
    out = io.StringIO()
    printer = ProgressPrinter(out=out, tty=True)
    printer.update(running)
    printer.finish()
    assert out.getvalue().startswith("\r[") and "round 5/10" in out.getvalue()


def test_forecast_lines_from_the_structured_result() -> None:
    job = _job("COMPLETED")
    job.key_insight = "Close race."
    job.result_structured = json.dumps(
        {
            "verdict": {"sentence": "Likely to pass.", "label": "likely"},
            "probabilities": {"goal": 0.61, "markets": {"m1": 0.64, "m2": 0.3}},
            "markets": [{"id": "m1", "question": "Will it pass?"}, {"id": "m2", "question": "Early?"}],
            "backend": {"heuristic": True},
        }
    )
    text = "\n".join(forecast_lines(job))
    assert "Verdict:     Likely to pass." in text
    assert "  m1    64.0%  Will it pass?" in text and "  m2    30.0%  Early?" in text
    assert "agents' own belief in the goal: 61.0%" in text
    assert "Key insight: Close race." in text and "heuristic" in text


def test_forecast_lines_lead_with_the_goal_forecast_and_its_interval() -> None:
    job = jobs_pb2.Job(id=3, goal="Will it pass?", status="JOB_STATUS_COMPLETED")
    job.key_insight = "63.0% (80% interval 55.0–70.0%): likely, across 5 replicate runs."
    job.result_structured = json.dumps(
        {
            "schema_version": 2,
            "forecast": {
                "goal": {
                    "market_id": "m1",
                    "probability": 0.63,
                    "interval": [0.55, 0.7],
                    "level": 0.8,
                    "replicates": 5,
                    "market": 0.61,
                    "belief": 0.66,
                },
                "markets": {
                    "m1": {"probability": 0.63, "interval": [0.55, 0.7], "market": 0.61, "belief": 0.66},
                    "m2": {"probability": 0.3, "interval": [0.25, 0.36], "market": 0.3, "belief": 0.31},
                },
                "method": "…",
            },
            "verdict": {"sentence": "Likely to pass.", "label": "likely", "low_evidence": True},
            "probabilities": {"goal": 0.63, "goal_belief": 0.58, "markets": {"m1": 0.63, "m2": 0.3}},
            "markets": [{"id": "m1", "question": "Will it pass?"}, {"id": "m2", "question": "Early?"}],
            "backend": {"heuristic": True},
        }
    )
    text = "\n".join(forecast_lines(job))
    assert "Forecast:    63.0% (80% interval 55.0–70.0%) · likely · 5 replicate runs" in text
    assert "low evidence" in text
    assert "  m1    63.0%  55.0–70.0%  Will it pass?" in text and "  m2    30.0%  25.0–36.0%  Early?" in text
    assert "agents' own belief in the goal (first replicate run): 58.0%" in text


# --- interviews, scheduled events, what-if branches (services/cli/whatif.py) ----------------------


def test_event_options_belong_to_the_event_before_them() -> None:
    first = ["--event", "Strike called off", "--day", "3", "--favours", "yes"]
    second = ["--event", "Poll published", "--text", "A poll shows a tie.", "--favours", "neutral"]
    args = cli_main._parser().parse_args(["branch", "12", "--round", "5", *first, *second])
    events = whatif.scheduled_events(args.events, None, default_day=0)
    assert [(e.day, e.headline, e.text, e.favours) for e in events] == [
        (3, "Strike called off", "", "yes"),
        (0, "Poll published", "A poll shows a tie.", ""),  # day 0: the branch's first round
    ]
    assert args.round == 5 and args.job_id == 12 and not args.watch


def test_events_file_comes_before_the_event_options(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"events": [{"day": 4, "headline": "Court ruling", "favours": "NO"}]}))
    args = cli_main._parser().parse_args(
        ["submit", "seed.md", "--goal", "g", "--events-file", str(path), "--event", "Rally", "--day", "9"]
    )
    events = whatif.scheduled_events(args.events, args.events_file, default_day=None)
    assert [(e.day, e.headline, e.favours) for e in events] == [(4, "Court ruling", "no"), (9, "Rally", "")]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "is not valid JSON"),
        ('{"day": 1}', "must hold a JSON list"),
        ('[{"day": 1, "headline": "A", "when": 2}]', "unknown field 'when'"),
        ('[{"day": 1, "headline": "A", "favours": "maybe"}]', 'favours must be "yes", "no"'),
        ('[{"day": "soon", "headline": "A"}]', "day must be a whole number"),
        ('[{"day": 2}]', "event 1 needs a headline"),
    ],
)
def test_a_bad_events_file_is_one_clear_line(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "events.json"
    path.write_text(content)
    result = swarmcast(["branch", "7", "--round", "1", "--events-file", str(path)], tmp_path)
    assert_clean_failure(result, 1, problem)


def test_bad_what_if_and_interview_arguments(tmp_path: Path) -> None:
    def usage_error(args: list[str], text: str) -> None:
        result = swarmcast(args, tmp_path)
        assert result.returncode == 2 and text in result.stderr, result.stderr
        assert "Traceback" not in result.stderr

    usage_error(["branch", "7", "--round", "1", "--day", "3"], "--day belongs to an event")
    usage_error(["branch", "7", "--round", "1", "--event", "A", "--day", "1", "--day", "2"], "given twice")
    usage_error(["branch", "7", "--round", "1", "--event", "A", "--favours", "maybe"], "invalid choice")
    usage_error(["branch", "7", "--event", "A"], "--round")
    usage_error(["branch", "7", "--round", "-1"], "outside")
    usage_error(["submit", "s.md", "--goal", "g", "--event", "A", "--day", "0"], "outside 1..365")
    usage_error(["interview", "7", "Why?"], "one of the arguments --agent --camp --coalition is required")
    usage_error(["interview", "7", "--agent", "1", "--camp", "yes", "Why?"], "not allowed with")
    usage_error(["interview", "7", "--camp", "maybe", "Why?"], "invalid choice")
    missing_day = swarmcast(["submit", "s.md", "--goal", "g", "--event", "Rally"], tmp_path)
    assert_clean_failure(missing_day, 1, "the event 'Rally' needs a day")
    empty = swarmcast(["interview", "7", "--agent", "3", "   "], tmp_path)
    assert_clean_failure(empty, 1, "the question is empty")


def test_what_if_commands_when_the_stack_is_down(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(
        json.dumps(
            {
                "email": "a@example.com",
                "access_token": "a.b.c",
                "refresh_token": "r",
                "auth_addr": DEAD["SWARMCAST_AUTH_ADDR"],
            }
        )
    )
    for args in (
        ["interview", "7", "--agent", "3", "Why?"],
        ["interviews", "7"],
        ["branch", "7", "--round", "2", "--event", "News"],
        ["jobs", "--branches-of", "7"],
    ):
        assert_clean_failure(swarmcast(args, tmp_path), 3, "cannot reach the jobs service")


def _answer(agent_id: int, name: str, probability: float, camp: str) -> events_pb2.InterviewAnswer:
    return events_pb2.InterviewAnswer(
        agent_id=agent_id,
        agent_name=name,
        persona="Owner of the corner bakery on Main Street",
        answer="I still think the lane will cost us customers.\nBut the poll surprised me.",
        probability=probability,
        reason="parking is the shops' lifeline",
        camp=camp,
    )


def test_interview_transcript_rendering_labels_templated_answers() -> None:
    interview = jobs_pb2.Interview(
        id=9,
        job_id=4,
        question="What would change your mind?",
        target="the NO camp",
        backend="heuristic",
        left_out=2,
    )
    interview.answers.extend([_answer(3, "Tom Reyes", 0.215, "no"), _answer(5, "Ana Gil", 0.3, "no")])
    text = "\n".join(interview_lines(interview, width=60))
    assert text.splitlines()[0] == (
        "Interview 9 of job 4 · the NO camp · 2 answered · 2 more left out by the per-interview limit"
    )
    assert "Q: What would change your mind?" in text
    assert "Agent 3 · Tom Reyes — 21.5% (NO camp)" in text and "Agent 5 · Ana Gil — 30.0% (NO camp)" in text
    assert '  > "I still think the lane will cost us customers.' in text
    assert '    But the poll surprised me."' in text
    assert "its stated reason: parking is the shops' lifeline" in text
    assert text.endswith(
        "Heuristic backend: answers templated from the agent's state, not written by a model."
    )
    assert all(
        len(line) <= 60 for line in text.splitlines()[1:] if not line.startswith(("Agent", "Heuristic"))
    )
    model = jobs_pb2.Interview(id=1, job_id=4, question="q", backend="llamacpp", model_id="qwen2.5-0.5b")
    assert "\n".join(interview_lines(model)).endswith("Answered by qwen2.5-0.5b (llamacpp).")
    assert "templated" not in "\n".join(interview_lines(model))


def test_a_branch_shows_its_parent_events_and_the_move() -> None:
    job = _job("COMPLETED")
    job.branch_of, job.branch_round = 12, 5
    job.events.add(day=0, headline="Strike called off", favours="yes")
    job.result_structured = json.dumps(
        {
            "branch": {
                "parent_job_id": 12,
                "round": 5,
                "before": {"probability": 0.55, "interval": [0.5, 0.6]},
                "after": {"probability": 0.631, "interval": [0.58, 0.69]},
                "delta": 0.081,
                "markets": [{"market_id": "m2", "before": 0.3, "after": 0.25}],
            }
        }
    )
    text = "\n".join(forecast_lines(job))
    assert "What-if:     branch of job 12 after round 5" in text
    assert "news at once: Strike called off (favours YES)" in text
    assert "goal 55.0% (80% interval 50.0–60.0%) → 63.1% (80% interval 58.0–69.0%) (+8.1 points)" in text
    assert "  m2    30.0% →  25.0%  (-5.0 points)" in text
    assert "What-if" not in "\n".join(forecast_lines(_job("COMPLETED")))
