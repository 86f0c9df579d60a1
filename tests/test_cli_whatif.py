"""`swarmcast submit --event`, `interview`, `interviews` and `branch` against the running stack, as a
user runs them (a subprocess each): scheduled news, agents answering in character (labelled as
templated on the heuristic backend), kept transcripts, a what-if branch followed to its comparison,
and refusals as one clear line."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from tests.fixtures.stack import RunningStack
from tests.test_cli_flow import SEED, cli

HEURISTIC = "Heuristic backend: answers templated from the agent's state, not written by a model."


def register(stack: RunningStack, config: Path) -> None:
    email = f"cli-whatif-{secrets.token_hex(4)}@example.com"
    login = cli(
        stack, config, "login", "--email", email, "--register", "--password-stdin", stdin="cli password\n"
    )
    assert login.returncode == 0, login.stderr


def test_cli_interviews_agents_and_branches_a_job(stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "config"
    register(stack, config)
    goal = f"Will Measure T pass? ({secrets.token_hex(3)})"
    news = "The transit authority publishes an audited cost"
    submit = cli(
        stack, config, "submit", str(SEED), "--goal", goal, "--no-enrich-web", "--forecast-days", "30",
        "--event", news, "--day", "20", "--favours", "yes", "--watch", timeout=600,
    )  # fmt: skip
    assert submit.returncode == 0, submit.stdout + submit.stderr
    job_id = int(re.search(r"Submitted job (\d+)", submit.stdout).group(1))  # type: ignore[union-attr]
    assert f"scheduled news, day 20: {news} (favours YES)" in submit.stdout
    assert f"Job {job_id} COMPLETED" in submit.stdout

    question = "What would change your mind about the levy?"
    asked = cli(
        stack, config, "interview", str(job_id), "--agent", "0", "--agent", "1", question, timeout=300
    )
    assert asked.returncode == 0, asked.stderr
    heads = re.findall(
        r"^Agent (\d+) · .+ — (\d+\.\d)% \((YES camp|NO camp|undecided)\)$", asked.stdout, re.M
    )
    assert [agent for agent, _, _ in heads] == ["0", "1"], asked.stdout
    assert re.search(r'^  > ".+', asked.stdout, re.M)  # the answer itself
    assert re.search(rf"^Interview \d+ of job {job_id} · agents 0, 1 · 2 answered$", asked.stdout, re.M)
    assert HEURISTIC in asked.stdout

    camp_word = {"YES camp": "yes", "NO camp": "no", "undecided": "undecided"}[heads[0][2]]
    by_camp = cli(stack, config, "interview", str(job_id), "--camp", camp_word, "Why?", timeout=300)
    assert by_camp.returncode == 0, by_camp.stderr
    camps = re.findall(r"^Agent \d+ · .+ \((YES camp|NO camp|undecided)\)$", by_camp.stdout, re.M)
    assert camps and set(camps) == {heads[0][2]}

    kept = cli(stack, config, "interviews", str(job_id))
    assert kept.returncode == 0
    assert f"Q: {question}" in kept.stdout and "Q: Why?" in kept.stdout
    assert kept.stdout.index("Q: Why?") < kept.stdout.index(f"Q: {question}")  # newest first
    assert kept.stdout.count(HEURISTIC) == 2

    unknown = cli(stack, config, "interview", str(job_id), "--agent", "999", "Why?")
    assert unknown.returncode == 1 and unknown.stderr.startswith("swarmcast: ") and "999" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1

    headline = "The shopkeepers drop their objection"
    branch = cli(
        stack, config, "branch", str(job_id), "--round", "1", "--event", headline, "--favours", "yes",
        "--watch", timeout=600,
    )  # fmt: skip
    assert branch.returncode == 0, branch.stdout + branch.stderr
    branch_id = int(re.search(r"after round 1: job (\d+)", branch.stdout).group(1))  # type: ignore[union-attr]
    assert f"injected news, at once: {headline} (favours YES)" in branch.stdout
    assert f"Job {branch_id} COMPLETED" in branch.stdout
    assert f"What-if:     branch of job {job_id} after round 1" in branch.stdout
    assert re.search(r"goal \d+\.\d% .*→ \d+\.\d% .*\([+-]\d+\.\d points\)", branch.stdout), branch.stdout

    branches = cli(stack, config, "jobs", "--branches-of", str(job_id))
    assert re.search(
        rf"^\s*{branch_id}\s+COMPLETED .*\[what-if of {job_id} after round 1\]", branches.stdout, re.M
    )
    assert not re.search(rf"^\s*{job_id}\s", branches.stdout, re.M)

    too_late = cli(stack, config, "branch", str(job_id), "--round", "9999")
    assert too_late.returncode == 1 and too_late.stderr.startswith("swarmcast: ")

    stranger = tmp_path / "stranger"
    register(stack, stranger)
    for args in (("interview", str(job_id), "--agent", "0", "Why?"), ("branch", str(job_id), "--round", "1")):
        refused = cli(stack, stranger, *args)
        assert refused.returncode == 1 and "not found" in refused.stderr, refused.stderr
