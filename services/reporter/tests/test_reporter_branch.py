"""What-if branches: a branch's report opens with the comparison with its parent - the injected
news, the goal forecast before and after with both intervals and the move, beliefs by camp from
the parent's artifacts, market moves - and result_structured["branch"] holds the same numbers.
Real NATS and S3; the parent and the branch are real heuristic runs of the engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from swarmcast.events.v1 import events_pb2

from services.common.bus import EventBus
from services.common.camps import CAMPS, camp_of
from services.common.storage import ObjectStore
from services.reporter.artifacts import (
    PARENT_ARTIFACTS,
    REQUIRED_ARTIFACTS,
    parse_artifacts,
    parse_parent_artifacts,
)
from services.reporter.facts import BranchOrigin, ReportFacts, RunContext, compute_facts
from services.reporter.report import BuiltReport, assemble
from services.reporter.tests.conftest import MakeReporter
from services.reporter.tests.report_llm import ReportLLM
from services.reporter.tests.support import (
    SECTIONS,
    WHATIF_BRANCH_ROUND,
    WHATIF_GOAL,
    Collector,
    RunOutput,
    WhatIfRuns,
    is_real_sentence,
    publish_completed,
    runner_completed,
    section,
    upload,
    wait_for,
)
from services.reporter.writers.llm import ChatClient, LLMWriter
from tests.fakes.openai_server import FakeOpenAIServer


def curves(result: RunOutput) -> dict[str, Any]:
    return json.loads(result.artifacts["market_curves.json"])


def final_camps(result: RunOutput) -> dict[str, tuple[int, float | None]]:
    """Camp -> (agents, mean goal probability) at the end of a run, from its trajectories."""
    probs: dict[str, list[float]] = {c: [] for c in CAMPS}
    for agent in json.loads(result.artifacts["agent_trajectories.json"])["agents"]:
        p = (agent["position"][-1] + 1) / 2
        probs[camp_of(p)].append(p)
    return {c: (len(ps), sum(ps) / len(ps) if ps else None) for c, ps in probs.items()}


def branch_source(parent_job_id: int, parent_forecast: dict[str, Any]) -> events_pb2.BranchSource:
    return events_pb2.BranchSource(
        parent_job_id=parent_job_id,
        round=WHATIF_BRANCH_ROUND,
        parent_forecast=json_format.ParseDict(parent_forecast, struct_pb2.Struct()),
    )


async def completed_report(
    event_bus: EventBus, collector: Collector, job_id: int, event: events_pb2.RunnerCompleted, n: int = 1
) -> events_pb2.ReporterCompleted:
    await publish_completed(event_bus, event, msg_id=f"runner-completed-{job_id}-{event.run_id}-{n}")
    await wait_for(lambda: len(collector.for_job(job_id)[0]) >= n, what=f"reporter.completed of {job_id}")
    return collector.for_job(job_id)[0][n - 1]


def pct(p: float) -> str:
    return f"{p * 100:.1f}%"


def estimate(p: float, interval: list[float]) -> str:
    return f"{pct(p)} (80% interval {interval[0] * 100:.1f}–{interval[1] * 100:.1f}%)"


def headings(markdown: str) -> list[str]:
    return [line[3:] for line in markdown.splitlines() if line.startswith("## ")]


async def test_a_branch_report_opens_with_the_comparison_with_its_parent(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    whatif: WhatIfRuns,
) -> None:
    reporter = await make_reporter()
    parent_id, branch_id = 1911, 1912
    # The parent is reported first; its result_structured "forecast" is what jobs hands the branch.
    parent_manifest = await upload(object_store, parent_id, whatif.parent)
    parent_report = await completed_report(
        event_bus,
        collector,
        parent_id,
        runner_completed(parent_id, whatif.parent, parent_manifest, goal=WHATIF_GOAL),
    )
    parent_forecast = json.loads(parent_report.result_structured)["forecast"]
    assert "What-if comparison" not in headings(parent_report.report_markdown)

    manifest = await upload(object_store, branch_id, whatif.branch)
    event = runner_completed(
        branch_id,
        whatif.branch,
        manifest,
        goal=WHATIF_GOAL,
        run_id="run-b",
        branch=branch_source(parent_id, parent_forecast),
    )
    report = await completed_report(event_bus, collector, branch_id, event)
    markdown = report.report_markdown
    structured = json.loads(report.result_structured)["branch"]

    # The section comes right after the title, before every usual section.
    lines = markdown.splitlines()
    assert lines[0].startswith("# Forecast report:") and lines[2] == "## What-if comparison"
    assert headings(markdown) == ["What-if comparison", *SECTIONS]
    body = section(markdown, "What-if comparison")
    assert f"job {parent_id} after round {WHATIF_BRANCH_ROUND}" in body

    # Injected news: the branch's news after the branch round, less the parent's own (day 25).
    branch_news = curves(whatif.branch)["events"]
    parent_news = curves(whatif.parent)["events"]
    injected = [e for e in branch_news if e["round"] > WHATIF_BRANCH_ROUND and e not in parent_news]
    assert [e["headline"] for e in injected] == [ev.headline for ev in whatif.injected]
    assert structured["parent_job_id"] == parent_id and structured["round"] == WHATIF_BRANCH_ROUND
    assert structured["events"] == injected
    injected_part = body.split("### Injected news", 1)[1].split("|", 1)[0]
    assert f"“{injected[0]['headline']}” (favours YES)" in injected_part
    assert parent_news[-1]["headline"] not in injected_part

    # The goal forecast before (the parent's) and after (the branch's), with intervals and the move.
    before = parent_forecast["goal"]
    after = curves(whatif.branch)["forecast"]["goal"]
    assert structured["before"] == {"probability": before["probability"], "interval": before["interval"]}
    assert structured["after"] == {"probability": after["probability"], "interval": after["interval"]}
    delta = after["probability"] - before["probability"]
    assert structured["delta"] == pytest.approx(delta, abs=1e-4)
    assert delta > 0  # the injected news favours YES
    goal_row = next(line for line in body.splitlines() if line.startswith("| m1 (goal)"))
    assert estimate(before["probability"], before["interval"]) in goal_row
    assert estimate(after["probability"], after["interval"]) in goal_row
    assert f"{delta * 100:+.1f} pts" in goal_row

    # Beliefs by camp: the parent's final camps (from its artifacts) against the branch's.
    camps_before, camps_after = final_camps(whatif.parent), final_camps(whatif.branch)
    assert [c["camp"] for c in structured["camps"]] == list(CAMPS)
    for row in structured["camps"]:
        agents_before, mean_before = camps_before[row["camp"]]
        agents_after, mean_after = camps_after[row["camp"]]
        assert (row["before_agents"], row["after_agents"]) == (agents_before, agents_after)
        assert row["before_mean"] == (pytest.approx(mean_before, abs=1e-4) if mean_before else None)
        assert row["after_mean"] == (pytest.approx(mean_after, abs=1e-4) if mean_after else None)
    yes_row = next(line for line in body.splitlines() if line.startswith("| YES camp"))
    assert yes_row.startswith(f"| YES camp | {camps_before['yes'][0]} | {camps_after['yes'][0]} |")

    # Market moves: each market's forecast before (the parent's) and after.
    after_markets = curves(whatif.branch)["forecast"]["markets"]
    assert structured["markets"] == [
        {
            "market_id": m,
            "before": parent_forecast["markets"][m]["probability"],
            "after": after_markets[m]["probability"],
        }
        for m in after_markets
    ]
    moves = body.split("### Market moves", 1)[1]
    for m in structured["markets"]:
        row = next(line for line in moves.splitlines() if line.startswith(f"| {m['market_id']} |"))
        assert f"| {pct(m['before'])} | {pct(m['after'])} |" in row

    # The key insight states the move.
    insight = report.key_insight
    assert insight.startswith("What-if:") and is_real_sentence(insight)
    assert injected[0]["headline"] in insight
    assert f"from {pct(before['probability'])} to {pct(after['probability'])}" in insight

    # A regeneration still knows the job is a branch.
    status = await reporter.regenerate(branch_id)
    assert status.revision == 2
    again = collector.for_job(branch_id)[0][-1]
    assert again.regenerated and again.report_markdown == markdown


async def test_a_branch_whose_parent_is_gone_still_compares_the_forecasts(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    whatif: WhatIfRuns,
) -> None:
    await make_reporter()
    parent_id, branch_id = 1921, 1922  # nothing of job 1921 is in object storage
    parent_forecast = curves(whatif.parent)["forecast"]
    manifest = await upload(object_store, branch_id, whatif.branch)
    event = runner_completed(
        branch_id, whatif.branch, manifest, goal=WHATIF_GOAL, branch=branch_source(parent_id, parent_forecast)
    )
    report = await completed_report(event_bus, collector, branch_id, event)
    markdown = report.report_markdown
    result = json.loads(report.result_structured)
    structured = result["branch"]
    body = section(markdown, "What-if comparison")

    assert f"artifacts of the parent job {parent_id} are no longer available" in body
    assert any(f"parent job {parent_id}" in note for note in result["notes"])
    # The forecasts are still compared, from the parent's recorded forecast.
    before = parent_forecast["goal"]
    after = curves(whatif.branch)["forecast"]["goal"]
    assert structured["before"] == {"probability": before["probability"], "interval": before["interval"]}
    assert structured["delta"] == pytest.approx(after["probability"] - before["probability"], abs=1e-4)
    goal_row = next(line for line in body.splitlines() if line.startswith("| m1 (goal)"))
    assert estimate(before["probability"], before["interval"]) in goal_row
    # Camps: only the branch's side is known.
    camps_after = final_camps(whatif.branch)
    for row in structured["camps"]:
        assert row["before_agents"] is None and row["before_mean"] is None
        assert row["after_agents"] == camps_after[row["camp"]][0]
    # Without the parent's news every event after the branch round is listed, and the report says why.
    later = [e for e in curves(whatif.branch)["events"] if e["round"] > WHATIF_BRANCH_ROUND]
    assert structured["events"] == later and len(later) == 2
    assert "cannot be told from the injected" in body
    assert report.key_insight.startswith("What-if:") and is_real_sentence(report.key_insight)


def branch_facts_of(whatif: WhatIfRuns) -> ReportFacts:
    parent_forecast = curves(whatif.parent)["forecast"]
    return compute_facts(
        parse_artifacts({n: whatif.branch.artifacts[n] for n in REQUIRED_ARTIFACTS}),
        RunContext(job_id=12, run_id="run-1", goal=WHATIF_GOAL, forecast_days=30),
        branch=BranchOrigin(parent_job_id=11, round=WHATIF_BRANCH_ROUND, parent_forecast=parent_forecast),
        parent=parse_parent_artifacts({n: whatif.parent.artifacts[n] for n in PARENT_ARTIFACTS}),
    )


async def llm_report(whatif: WhatIfRuns, llm: ReportLLM) -> BuiltReport:
    facts = branch_facts_of(whatif)
    async with FakeOpenAIServer(latency_ms=5, responder=llm) as server:
        client = ChatClient(server.base_url, "fake-report-model", timeout_s=10, attempts=2, backoff_s=0.05)
        try:
            written = await LLMWriter(client).write(facts)
        finally:
            await client.aclose()
    return assemble(facts, written, report_key="sim-data/12/report.md", revision=1)


async def test_the_llm_writes_the_comparison_paragraph_but_the_numbers_come_from_the_facts(
    whatif: WhatIfRuns,
) -> None:
    honest = ReportLLM("honest")
    built = await llm_report(whatif, honest)
    assert built.writer == "llm"
    body = section(built.markdown, "What-if comparison")
    assert "LLM what-if:" in body
    schema = honest.bodies[0]["response_format"]["json_schema"]["schema"]
    assert "what_if" in schema["required"] and "key_insight" not in schema["required"]
    # The key insight of a branch is the facts' statement of the move, not the model's.
    assert built.key_insight.startswith("What-if:")

    lying = ReportLLM("invents_move")
    wrong = await llm_report(whatif, lying)
    assert len(lying.bodies) == 2  # sent back once with the problem
    assert "99.9%" not in wrong.markdown
    wrong_body = section(wrong.markdown, "What-if comparison")
    assert "This run branches from job 11" in wrong_body  # the deterministic paragraph
    assert any(note.startswith("what_if:") for note in wrong.structured["writer_notes"])
    # The tables are the same whoever wrote the prose.
    tables = [line for line in body.splitlines() if line.startswith("|")]
    assert tables == [line for line in wrong_body.splitlines() if line.startswith("|")]
