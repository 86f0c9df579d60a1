"""`swarmcast eval` against the running stack (real jobs on the heuristic `small` tier), as a user
runs it in a subprocess: the scores it writes, resume after a partial run, refusals, and a
ForecastBench question set. The report's wording and arithmetic are also checked without the stack."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.cli.eval import EvalProgress, Refused, Runner, open_state
from services.cli.eval_report import (
    ALWAYS_HALF,
    DIRECT,
    OPENING,
    SWARM,
    build_report,
    markdown,
    skill_statement,
)
from services.cli.eval_sets import EvalQuestion
from services.common.config import REPO_ROOT
from tests.fixtures.stack import RunningStack
from tests.test_cli_flow import cli as run_cli

FORECASTBENCH = REPO_ROOT / "tests" / "fixtures" / "forecastbench"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FORECASTERS = (SWARM, ALWAYS_HALF, OPENING, DIRECT)

QUESTIONS = [
    {
        "id": "harbor-levy",
        "question": "Will Measure T (the Eastline light-rail levy) pass on 14 March?",
        "seed": (
            "Harbor City votes on Measure T, a half-cent sales tax for the Eastline light rail, on 14 "
            "March. The mayor, the chamber of commerce and three unions endorse it; a poll in February "
            "showed 58 percent support. The taxpayers' association opposes it and spent 200,000 dollars "
            "on advertising. Similar levies passed in two neighbouring counties last year."
        ),
        "as_of": "2024-02-13",
        "outcome": "YES",
        "resolution_date": "2024-03-14",
        "source": "https://example.org/harbor-city/measure-t",
        "forecast_days": 30,
        "category": "referendum",
    },
    {
        "id": "riverton-mayor",
        "question": "Will Dana Ortiz win the Riverton mayoral election on 5 November?",
        "seed": (
            "Riverton elects a mayor on 5 November. Councillor Dana Ortiz leads the incumbent, Mayor Paul "
            "Hale, by 11 points in the latest university poll. Ortiz is endorsed by the teachers' union, "
            "the local newspaper and the firefighters; Hale has the business council. Turnout in the "
            "primary favoured Ortiz's districts."
        ),
        "as_of": "2024-10-06",
        "outcome": "YES",
        "resolution_date": "2024-11-05",
        "source": "https://example.org/riverton/election",
        "forecast_days": 30,
        "category": "election",
    },
    {
        "id": "stadium-bond",
        "question": "Will the Millbrook stadium bond pass on 2 April?",
        "seed": (
            "Millbrook votes on 2 April on a 400 million dollar bond to build a new stadium. A poll in "
            "March found 34 percent support and 61 percent opposition. The city council split 4 to 5 on "
            "placing it on the ballot, the mayor opposes it, and the two previous stadium bonds failed by "
            "wide margins. Only the team owner and a construction union campaign for it."
        ),
        "as_of": "2024-03-03",
        "outcome": "NO",
        "resolution_date": "2024-04-02",
        "source": "https://example.org/millbrook/bond",
        "forecast_days": 30,
        "category": "referendum",
    },
    {
        "id": "ferry-merger",
        "question": "Will the regulator approve the Bayline and Northstar ferry merger by 30 June?",
        "seed": (
            "The transport regulator rules on the merger of Bayline and Northstar, the two ferry operators "
            "on the strait, by 30 June. Its staff report warns the merged company would control 92 percent "
            "of crossings and recommends blocking it. Consumer groups, the island councils and the "
            "competition authority all oppose it; a similar merger was blocked in 2019."
        ),
        "as_of": "2024-05-31",
        "outcome": "NO",
        "resolution_date": "2024-06-30",
        "source": "https://example.org/ferry-merger",
        "forecast_days": 30,
        "category": "regulatory",
    },
]


def cli(
    stack: RunningStack, config_dir: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return run_cli(stack, config_dir, *args, stdin=stdin, timeout=600)


def login(stack: RunningStack, config_dir: Path) -> None:
    email = f"eval-{secrets.token_hex(4)}@example.com"
    done = cli(
        stack,
        config_dir,
        "login",
        "--email",
        email,
        "--register",
        "--password-stdin",
        stdin="eval password\n",
    )
    assert done.returncode == 0, done.stderr


def write_questions(path: Path, questions: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    return path


def events(state: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in state.read_text().splitlines() if line.strip()]


def job_count(stack: RunningStack, config: Path) -> int:
    listed = cli(stack, config, "jobs", "--per-page", "100")
    assert listed.returncode == 0, listed.stderr
    if "No jobs yet" in listed.stdout:
        return 0
    found = re.search(r"\((\d+) jobs\)", listed.stdout)
    assert found, listed.stdout
    return int(found.group(1))


def check_scores(report: dict[str, Any], ids: list[str]) -> None:
    """Every question is there with probabilities in [0, 1] and Brier = (p - o)^2 recomputed from
    its own numbers; always-0.5 scores exactly 0.25."""
    rows = report["questions"]
    assert [r["id"] for r in rows] == ids
    for row in rows:
        o = 1.0 if row["outcome"] == "YES" else 0.0
        assert row["status"] == "completed", row
        assert isinstance(row["job_id"], int) and row["seconds"] is not None
        for name in FORECASTERS:
            p = row[name]["probability"]
            if p is None:
                assert name == DIRECT and row[name]["brier"] is None
                continue
            assert 0.0 <= p <= 1.0
            assert row[name]["brier"] == (p - o) ** 2
        low, high = row[SWARM]["interval"]
        assert 0.0 <= low <= high <= 1.0
        assert row[ALWAYS_HALF]["brier"] == 0.25
    summary = report["summary"]
    assert summary[ALWAYS_HALF]["brier"] == 0.25 and summary[ALWAYS_HALF]["sharpness"] == 0.0
    assert summary[SWARM]["count"] == len(ids)
    swarm_mean = sum(r[SWARM]["brier"] for r in rows) / len(rows)
    assert summary[SWARM]["brier"] == pytest.approx(swarm_mean, abs=1e-12)
    assert sum(b["count"] for b in summary[SWARM]["calibration"]) == len(ids)
    for baseline in (ALWAYS_HALF, OPENING):
        skill = report["skill"][baseline]
        assert skill["count"] == len(ids) and skill["level"] == 0.9
    backend = report["backend"]
    assert isinstance(backend, dict) and backend.get("heuristic") is True, backend
    assert report["tier"] == "small" and report["versions"]["swarmcast"]


def test_eval_scores_resumes_and_refuses_another_tier(stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "config"
    login(stack, config)
    questions = write_questions(tmp_path / "questions.jsonl", QUESTIONS)
    out = tmp_path / "results"
    ids = [q["id"] for q in QUESTIONS]
    common = [str(questions), "--tier", "small", "--out", str(out), "--name", "run"]

    first = cli(stack, config, "eval", *common, "--limit", "2")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "eval [" in first.stderr and "2/2" in first.stderr  # the progress bar, on stderr
    state = out / "run.state.jsonl"
    first_events = events(state)
    submitted = {e["id"]: e["job_id"] for e in first_events if e["event"] == "submitted"}
    assert sorted(submitted) == ids[:2]
    assert job_count(stack, config) == 2
    assert [r["id"] for r in json.loads((out / "run.json").read_text())["questions"]] == ids[:2]

    full = cli(stack, config, "eval", *common)
    assert full.returncode == 0, full.stdout + full.stderr
    assert "2 finished earlier" in full.stdout
    all_events = events(state)
    submissions = [e for e in all_events if e["event"] == "submitted"]
    # The first two were not submitted again; the others were, once each.
    assert sorted(e["id"] for e in submissions) == sorted(ids)
    assert {e["id"]: e["job_id"] for e in submissions if e["id"] in ids[:2]} == submitted
    assert job_count(stack, config) == 4
    header = all_events[0]
    assert header["event"] == "eval" and header["tier"] == "small"
    assert header["files"][0]["path"] == str(questions) and len(header["files"][0]["sha256"]) == 64

    report = json.loads((out / "run.json").read_text())
    check_scores(report, ids)
    assert report["complete"] and report["counts"]["failed"] == 0
    assert report["started_at"] <= report["finished_at"]
    assert [r["started_at"] for r in report["runs"]] and len(report["runs"]) == 2
    text = (out / "run.md").read_text()
    assert "| forecaster | n | Brier | log loss | ECE | sharpness |" in text
    assert "| always 0.5 | 4 | 0.250 |" in text
    assert "The swarm's Brier skill against the opening price is" in text
    for qid in ids:
        assert f"| {qid} |" in text
    assert (out / "run.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "Results:" in full.stdout and "always 0.5" in full.stdout

    # Resuming the same name on another tier is refused, and nothing is submitted.
    other = cli(stack, config, "eval", str(questions), "--tier", "medium", "--out", str(out), "--name", "run")
    assert other.returncode == 1, other.stdout + other.stderr
    assert "cannot resume" in other.stderr and "'small'" in other.stderr and "'medium'" in other.stderr
    assert "--no-resume" in other.stderr
    assert events(state) == all_events and job_count(stack, config) == 4


def test_eval_refuses_a_bad_questions_file_before_submitting(stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "config"
    login(stack, config)
    out = tmp_path / "results"
    bad = dict(QUESTIONS[0], outcome="MAYBE")
    broken = write_questions(tmp_path / "bad.jsonl", [QUESTIONS[1], bad])
    result = cli(stack, config, "eval", str(broken), "--tier", "small", "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("swarmcast: bad question set:"), result.stderr
    assert "line 2" in result.stderr and "outcome" in result.stderr
    not_json = tmp_path / "not.jsonl"
    not_json.write_text("{not json\n")
    result = cli(stack, config, "eval", str(not_json), "--out", str(out))
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    missing = cli(stack, config, "eval", str(tmp_path / "nowhere.jsonl"), "--out", str(out))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    neither = cli(stack, config, "eval", "--out", str(out))
    assert neither.returncode == 2 and "QUESTIONS.jsonl" in neither.stderr
    assert not out.exists()
    assert job_count(stack, config) == 0


def test_eval_records_a_question_the_stack_refuses(stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "config"
    login(stack, config)
    open_ended = dict(QUESTIONS[2], id="open-ended", question="Predict sentiment about the stadium bond")
    questions = write_questions(tmp_path / "questions.jsonl", [open_ended, QUESTIONS[2]])
    out = tmp_path / "results"
    result = cli(stack, config, "eval", str(questions), "--out", str(out), "--name", "refusal")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((out / "refusal.json").read_text())
    assert report["counts"]["refused"] == 1 and report["counts"]["scored"] == 1
    refused = report["questions"][0]
    assert refused["status"] == "refused" and refused["job_id"] is None
    assert refused[SWARM]["probability"] is None and refused[ALWAYS_HALF]["probability"] is None
    assert "yes/no" in refused["error"]
    assert "## Refused by the stack" in (out / "refusal.md").read_text()
    assert job_count(stack, config) == 1


def test_eval_needs_a_login(stack: RunningStack, tmp_path: Path) -> None:
    questions = write_questions(tmp_path / "questions.jsonl", QUESTIONS[:1])
    out = tmp_path / "results"
    result = cli(stack, tmp_path / "config", "eval", str(questions), "--out", str(out))
    assert result.returncode == 2 and "swarmcast login" in result.stderr, result.stderr
    assert not out.exists()


def test_eval_on_a_forecastbench_set(stack: RunningStack, tmp_path: Path) -> None:
    question_set = FORECASTBENCH / "question_set.json"
    resolution_set = FORECASTBENCH / "resolution_set.json"
    assert question_set.is_file() and resolution_set.is_file()
    config = tmp_path / "config"
    login(stack, config)
    out = tmp_path / "results"
    args = ["--forecastbench", str(question_set), str(resolution_set), "--tier", "small", "--out", str(out)]
    result = cli(stack, config, "eval", *args, "--limit", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    name = f"{dt.date.today().isoformat()}-small-forecastbench"
    report = json.loads((out / f"{name}.json").read_text())
    qset = report["question_set"]
    assert qset["source"] == "forecastbench" and len(qset["files"]) == 2
    assert qset["skipped"], "the fixture holds questions the loader skips"
    assert all(
        r["id"].split(":")[0] in {"manifold", "metaculus", "polymarket", "infer"} for r in report["questions"]
    )
    for row in report["questions"]:
        if row["status"] == "completed":
            o = 1.0 if row["outcome"] == "YES" else 0.0
            assert row[SWARM]["brier"] == (row[SWARM]["probability"] - o) ** 2
    assert report["forecastbench_reference"]["brier"]["superforecaster median"] == 0.10
    text = (out / f"{name}.md").read_text()
    assert "## ForecastBench reference" in text
    assert "superforecaster median (ForecastBench) | about 0.10" in text
    assert "best LLM without tools (ForecastBench) | about 0.14" in text
    assert (out / f"{name}.png").read_bytes().startswith(PNG_SIGNATURE)


# --- the report without the stack -------------------------------------------------------------------


def _record(p: float, opening: float, direct: float | None, job_id: int) -> dict[str, Any]:
    return {
        "status": "completed",
        "job_id": job_id,
        "seconds": 3.0,
        "swarm": {"probability": p, "interval": [max(0.0, p - 0.1), min(1.0, p + 0.1)], "level": 0.8},
        "opening_price": opening,
        "direct": {"probability": direct, "source": "heuristic_prior" if direct is not None else None},
        "backend": {"name": "heuristic", "model": "", "heuristic": True},
    }


def test_report_scores_direct_where_it_exists_and_counts_failures() -> None:
    questions = [
        {"id": f"q{i}", "question": f"Will thing {i} happen?", "outcome": i % 2 == 0} for i in range(6)
    ]
    records = {
        "q0": _record(0.8, 0.6, 0.7, 1),
        "q1": _record(0.3, 0.5, None, 2),
        "q2": _record(0.9, 0.55, 0.6, 3),
        "q3": _record(0.2, 0.45, 0.4, 4),
        "q4": {"status": "failed", "job_id": 5, "error": "runner crashed"},
        "q5": {"status": "refused", "job_id": None, "error": "goal is not a yes/no question"},
    }
    meta = {
        "name": "unit",
        "tier": "small",
        "question_set": {
            "source": "jsonl",
            "files": [{"path": "q.jsonl", "sha256": "0" * 64}],
            "skipped": [],
        },
    }
    report = build_report(meta, questions, records)
    assert report["counts"] == {
        "questions": 6,
        "completed": 4,
        "failed": 1,
        "refused": 1,
        "unfinished": 0,
        "scored": 4,
        "scored_direct": 3,
    }
    assert report["summary"][DIRECT]["count"] == 3 and "3 of 4" in report["summary"][DIRECT]["note"]
    assert report["skill"][DIRECT]["count"] == 3 and report["skill"][OPENING]["count"] == 4
    assert report["summary"][SWARM]["brier"] == pytest.approx((0.04 + 0.09 + 0.01 + 0.04) / 4)
    assert report["failures"] == [{"id": "q4", "job_id": 5, "error": "runner crashed"}]
    assert "forecastbench_reference" not in report
    text = markdown(report)
    assert "single forecast, no simulation: over the 3 of 4 questions" in text
    assert "## Failures" in text and "runner crashed" in text and "## Refused by the stack" in text
    assert "| q1 | NO | 30.0% (20–40%) | 50.0% | n/a |" in text


@pytest.mark.parametrize(
    ("value", "interval", "expected"),
    [
        (
            -0.04,
            [-0.12, 0.03],
            "is −0.040 (90% interval −0.120 to 0.030, 20 questions): no better than the opening price.",
        ),
        (0.2, [0.05, 0.31], ": better than the opening price."),
        (-0.3, [-0.5, -0.1], ": worse than the opening price."),
        (0.05, [-0.02, 0.12], "but the interval includes 0: not reliably better."),
        # judged as printed, to 3 decimals: an interval above 0 says so, one that shows 0.000 does not
        (0.5, [0.001, 0.99], "(90% interval 0.001 to 0.990, 20 questions): better than the opening price"),
        (0.5, [0.0004, 0.99], "(90% interval 0.000 to 0.990, 20 questions): ahead of the opening price"),
        (0.0002, [-0.2, 0.004], "is 0.000 (90% interval −0.200 to 0.004, 20 questions): no better than"),
    ],
)
def test_skill_statement_is_worded_from_the_numbers(
    value: float, interval: list[float], expected: str
) -> None:
    entry = {"value": value, "interval": interval, "level": 0.9, "count": 20}
    assert expected in skill_statement(OPENING, entry)


# --- the runner against a scripted stack: retry, refusal, an older result ----------------------------


class ScriptedJobs:
    """Stands in for EvalSession: each goal's jobs end as scripted (COMPLETED or FAILED, in turn)."""

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = {goal: list(ends) for goal, ends in script.items()}
        self.jobs: dict[int, Any] = {}
        self.created: list[str] = []
        self.retried: list[int] = []

    def _job(self, goal: str, retry_of: int | None = None) -> Any:
        job_id = len(self.jobs) + 1
        end = self.script[goal].pop(0)
        job = jobs_pb2.Job(id=job_id, goal=goal, status=jobs_pb2.JobStatus.Value(f"JOB_STATUS_{end}"))
        if retry_of is not None:
            job.retry_of = retry_of
        if end == "FAILED":
            job.error_message = f"runner lost ({job_id})"
        else:  # a result from before forecast.baselines: the opening price is in markets_config
            job.result_structured = json.dumps(
                {
                    "forecast": {"goal": {"market_id": "m1", "probability": 0.7, "interval": [0.6, 0.8]}},
                    "backend": {"name": "heuristic", "model": "heuristic-rules-v1", "heuristic": True},
                }
            )
            config = [{"id": "m1", "question": goal, "initial_price_yes": 0.42, "rationale": "r"}]
            job.markets_config.CopyFrom(json_format.ParseDict(config, struct_pb2.Value()))
        self.jobs[job_id] = job
        return job

    async def create_job(self, request: Any) -> Any:
        if request.goal.startswith("Predict"):
            return Refused("This asks for a description, not a yes/no question about an event")
        self.created.append(request.goal)
        return self._job(request.goal)

    async def watch(self, job_id: int) -> Any:
        yield self.jobs[job_id]

    async def get_job(self, job_id: int) -> Any:
        return self.jobs[job_id]

    async def jobs_call(self, method: str, request: Any) -> Any:
        assert method == "RetryJob"
        self.retried.append(request.job_id)
        return jobs_pb2.RetryJobResponse(job=self._job(self.jobs[request.job_id].goal, request.job_id))


async def test_runner_retries_a_failed_job_once_and_records_refusals(tmp_path: Path) -> None:
    def question(qid: str, goal: str) -> EvalQuestion:
        return EvalQuestion(qid, goal, "seed " * 40, True, None, "", 30, "", "swarmcast")

    jobs = ScriptedJobs({"Will A pass?": ["FAILED", "COMPLETED"], "Will B pass?": ["FAILED", "FAILED"]})
    header = {"event": "eval", "tier": "small", "question_set": {"sha256": ["x"]}, "files": []}
    state = open_state(tmp_path / "s.state.jsonl", header, resume=True, err=sys.stderr)
    err = tmp_path / "progress.txt"
    with err.open("w") as stream:
        progress = EvalProgress(total=3, out=stream, tty=False)
        runner = Runner(jobs, state, "small", progress)  # type: ignore[arg-type]
        for q in (question("a", "Will A pass?"), question("b", "Will B pass?"), question("c", "Predict it")):
            await runner.run_question(q)
    state.close()
    assert jobs.created == ["Will A pass?", "Will B pass?"] and jobs.retried == [1, 3]
    a, b, c = (state.finished[k] for k in "abc")
    assert a["status"] == "completed" and a["job_id"] == 2 and a["retry_of"] == 1
    assert a["opening_price"] == 0.42 and a["baseline_source"] == "markets_config"
    assert a["direct"]["probability"] is None and "no forecast.baselines" in a["direct"]["reason"]
    assert b["status"] == "failed" and b["job_id"] == 4 and b["error"] == "runner lost (4)"
    assert c["status"] == "refused" and c["job_id"] is None and "yes/no" in c["error"]
    lines = err.read_text().splitlines()
    assert lines[-1].startswith(
        "eval [########################] 3/3 · 1 failed · 1 refused · mean Brier 0.090"
    )
    # Read back, the state says the same (what a resume sees).
    again = open_state(tmp_path / "s.state.jsonl", header, resume=True, err=sys.stderr)
    again.close()
    assert again.finished.keys() == {"a", "b", "c"} and again.retried == {"a", "b"}
