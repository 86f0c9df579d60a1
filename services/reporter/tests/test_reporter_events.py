"""Scheduled events in the report: the news a run played is named in the phase it fell in (table and
paragraph), listed in result_structured, and handed to the LLM writer; artifacts from before
scheduled events still make a report."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.reporter.artifacts import REQUIRED_ARTIFACTS, parse_artifacts
from services.reporter.facts import RunContext, compute_facts
from services.reporter.report import assemble
from services.reporter.tests.conftest import MakeReporter
from services.reporter.tests.report_llm import ReportLLM, prompt_facts
from services.reporter.tests.support import (
    WHATIF_GOAL,
    Collector,
    RunOutput,
    WhatIfRuns,
    publish_completed,
    runner_completed,
    section,
    upload,
    wait_for,
)
from services.reporter.writers.llm import ChatClient, LLMWriter
from tests.fakes.openai_server import FakeOpenAIServer

FAVOURS = {"yes": "favours YES", "no": "favours NO", "": "neutral"}


async def report_of(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    job_id: int,
    result: RunOutput,
) -> tuple[str, dict[str, Any]]:
    await make_reporter()
    manifest = await upload(object_store, job_id, result)
    await publish_completed(event_bus, runner_completed(job_id, result, manifest, goal=WHATIF_GOAL))
    await wait_for(lambda: bool(collector.for_job(job_id)[0]), what="reporter.completed")
    event = collector.for_job(job_id)[0][0]
    return event.report_markdown, json.loads(event.result_structured)


def phase_rows(markdown: str) -> dict[str, list[str]]:
    """Phase name -> the cells of its row in the Belief Dynamics table."""
    rows = {}
    for line in section(markdown, "Belief Dynamics").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if cells[0] in ("Early", "Mid", "Late"):
            rows[cells[0]] = cells
    return rows


def phase_paragraph(markdown: str, name: str) -> str:
    body = section(markdown, "Belief Dynamics")
    return next(line for line in body.splitlines() if line.startswith(f"**{name}.**"))


async def test_news_is_named_in_the_phase_it_fell_in(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    whatif: WhatIfRuns,
) -> None:
    run = whatif.parent
    markdown, structured = await report_of(make_reporter, event_bus, object_store, collector, 1901, run)

    played = json.loads(run.artifacts["market_curves.json"])["events"]
    assert [e["headline"] for e in played] == [ev.headline for ev in whatif.own_news]
    # result_structured lists the news exactly as the artifacts and the runner's summary do.
    assert structured["events"] == played == run.summary["events"]

    header = section(markdown, "Belief Dynamics").strip().splitlines()[0]
    assert header.rstrip(" |").endswith("News")
    rows = phase_rows(markdown)
    by_phase = {p["name"]: p for p in structured["phase_boundaries"]}
    for name, bounds in by_phase.items():
        news = [e for e in played if bounds["start_round"] <= e["round"] <= bounds["end_round"]]
        # Each phase's own news, in the table, its paragraph and result_structured's phases.
        phase = next(p for p in structured["phases"] if p["name"] == name)
        assert [e["headline"] for e in phase["events"]] == [e["headline"] for e in news]
        paragraph = phase_paragraph(markdown, name)
        if not news:
            assert rows[name][-1] == "—"
            assert "News broke" not in paragraph
        for e in news:
            label = FAVOURS[e["favours"]]
            assert f"day {e['day']}: “{e['headline']}” ({label})" in rows[name][-1]
            assert f"“{e['headline']}” on day {e['day']} ({label})" in paragraph
    # The two pieces of news fall in different phases (day 9 early, day 25 late).
    assert sum(1 for p in structured["phases"] if p["events"]) == 2


async def test_artifacts_from_before_scheduled_events_still_make_a_report(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    whatif: WhatIfRuns,
) -> None:
    curves = json.loads(whatif.parent.artifacts["market_curves.json"])
    del curves["events"]  # as an engine from before scheduled events wrote it
    older = dataclasses.replace(
        whatif.parent,
        artifacts={**whatif.parent.artifacts, "market_curves.json": json.dumps(curves).encode()},
    )
    markdown, structured = await report_of(make_reporter, event_bus, object_store, collector, 1902, older)
    assert structured["events"] == []
    assert all(p["events"] == [] for p in structured["phases"])
    assert "News" not in section(markdown, "Belief Dynamics").strip().splitlines()[0]
    assert "News broke" not in markdown


async def test_the_llm_writer_gets_each_phases_news(whatif: WhatIfRuns) -> None:
    artifacts = parse_artifacts({n: whatif.parent.artifacts[n] for n in REQUIRED_ARTIFACTS})
    facts = compute_facts(artifacts, RunContext(job_id=9, run_id="run-1", goal=WHATIF_GOAL, forecast_days=30))
    llm = ReportLLM("honest")
    async with FakeOpenAIServer(latency_ms=5, responder=llm) as server:
        client = ChatClient(server.base_url, "fake-report-model", timeout_s=10, attempts=2, backoff_s=0.05)
        try:
            written = await LLMWriter(client).write(facts)
        finally:
            await client.aclose()
    built = assemble(facts, written, report_key="sim-data/9/report.md", revision=1)
    assert built.writer == "llm"
    sent = prompt_facts(llm.bodies[0])
    assert [e["headline"] for e in sent["events"]] == [ev.headline for ev in whatif.own_news]
    sent_by_phase = {p["name"]: [e["headline"] for e in p["events"]] for p in sent["phases"]}
    assert sent_by_phase == {p.name: [e.headline for e in p.events] for p in facts.phases}
    assert "News" in llm.bodies[0]["messages"][0]["content"]
    # The model's paragraphs replace the writer's, but the table still names the news.
    rows = phase_rows(built.markdown)
    for ev in facts.events:
        assert f"“{ev.headline}”" in rows[ev.phase][-1]
