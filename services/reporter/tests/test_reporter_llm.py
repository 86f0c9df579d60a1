"""The LLM writer against a local fake OpenAI-compatible server (a real socket)."""

from __future__ import annotations

import pytest

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.reporter.artifacts import REQUIRED_ARTIFACTS, parse_artifacts
from services.reporter.facts import RunContext, compute_facts
from services.reporter.report import BuiltReport, assemble
from services.reporter.repository import report_key
from services.reporter.tests.conftest import MakeReporter
from services.reporter.tests.report_llm import FAKE_POST, FAKE_TRADE, ReportLLM
from services.reporter.tests.support import (
    GOAL,
    SECTIONS,
    Collector,
    RunOutput,
    artifact_ids,
    cited,
    forecast_probabilities,
    is_real_sentence,
    publish_completed,
    runner_completed,
    section,
    upload,
    verdict_probabilities,
    wait_for,
)
from services.reporter.writers.deterministic import write_prose
from services.reporter.writers.llm import ChatClient, LLMWriter
from tests.fakes.openai_server import FakeOpenAIServer


def facts_of(result: RunOutput):
    artifacts = parse_artifacts({n: result.artifacts[n] for n in REQUIRED_ARTIFACTS})
    return compute_facts(artifacts, RunContext(job_id=9, run_id="run-1", goal=GOAL, forecast_days=30))


async def write_with(
    server: FakeOpenAIServer, result: RunOutput, *, timeout_s: float = 10.0, attempts: int = 2
) -> BuiltReport:
    facts = facts_of(result)
    client = ChatClient(
        server.base_url, "fake-report-model", timeout_s=timeout_s, attempts=attempts, backoff_s=0.05
    )
    try:
        written = await LLMWriter(client).write(facts)
    finally:
        await client.aclose()
    return assemble(facts, written, report_key="sim-data/9/report.md", revision=1)


def assert_correct(built: BuiltReport, result: RunOutput) -> None:
    """The invariants any report must keep, whoever wrote the prose."""
    md = built.markdown
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == list(SECTIONS)
    posts, trades = artifact_ids(result)
    cited_posts, cited_trades = cited(md)
    assert cited_posts <= posts, cited_posts - posts
    assert cited_trades <= trades, cited_trades - trades
    prices = forecast_probabilities(result)
    shown = verdict_probabilities(md)
    assert set(shown) == set(prices)
    for market_id, price in prices.items():
        assert shown[market_id] == pytest.approx(price, abs=0.0006)
    assert is_real_sentence(built.key_insight)


async def test_llm_writes_the_prose(heuristic_result: RunOutput) -> None:
    llm = ReportLLM("honest")
    async with FakeOpenAIServer(latency_ms=5, responder=llm) as server:
        built = await write_with(server, heuristic_result)
    assert built.writer == "llm"
    assert_correct(built, heuristic_result)
    md = built.markdown
    assert "LLM summary:" in section(md, "Executive Summary")
    assert "**LLM verdict:" in section(md, "Verdict")
    assert "LLM finding:" in section(md, "Key Findings")
    assert "LLM Early:" in section(md, "Belief Dynamics")
    assert built.key_insight.startswith("LLM insight:")
    # One request, for the configured model, asking for structured output, with the facts inside.
    assert len(llm.bodies) == 1
    body = llm.bodies[0]
    assert body["model"] == "fake-report-model"
    assert body["response_format"]["type"] == "json_schema"
    assert '"findings"' in body["messages"][1]["content"]


async def test_invented_ids_are_sent_back_and_the_retry_is_used(heuristic_result: RunOutput) -> None:
    llm = ReportLLM("invents_ids_once")
    async with FakeOpenAIServer(latency_ms=5, responder=llm) as server:
        built = await write_with(server, heuristic_result)
    assert built.writer == "llm"
    assert_correct(built, heuristic_result)
    assert len(llm.bodies) == 2
    feedback = llm.bodies[1]["messages"][-1]["content"]
    assert f"post #{FAKE_POST}" in feedback and f"trade #{FAKE_TRADE}" in feedback
    assert str(FAKE_POST) not in built.markdown and str(FAKE_TRADE) not in built.markdown
    assert "LLM summary:" in built.markdown  # the corrected sections were kept


async def test_invented_ids_that_persist_are_removed(heuristic_result: RunOutput) -> None:
    llm = ReportLLM("invents_ids")
    async with FakeOpenAIServer(latency_ms=5, responder=llm) as server:
        built = await write_with(server, heuristic_result)
    assert built.writer == "llm"
    assert_correct(built, heuristic_result)
    assert len(llm.bodies) == 2
    assert str(FAKE_POST) not in built.markdown and str(FAKE_TRADE) not in built.markdown
    summary = section(built.markdown, "Executive Summary")
    assert "LLM summary:" in summary and "Insiders agree" in summary  # the prose stays, the bad ids go
    assert any("citation(s) of ids that do not exist" in n for n in built.structured["writer_notes"])


async def test_invented_numbers_fall_back_to_the_deterministic_text(
    heuristic_result: RunOutput,
) -> None:
    llm = ReportLLM("invents_numbers")
    async with FakeOpenAIServer(latency_ms=5, responder=llm) as server:
        built = await write_with(server, heuristic_result)
    assert built.writer == "llm"
    assert_correct(built, heuristic_result)
    verdict = section(built.markdown, "Verdict")
    assert "97.3%" not in built.markdown
    assert write_prose(facts_of(heuristic_result)).verdict_sentence in verdict
    assert "LLM summary:" in built.markdown  # the other sections are still the model's


@pytest.mark.parametrize(
    ("script", "timeout_s"),
    [(("http_500",), 5.0), (("slow",), 0.2), (("invalid_json",), 5.0), (("http_429", "http_500"), 5.0)],
    ids=["500s", "timeouts", "not-json", "429-then-500"],
)
async def test_a_failing_llm_falls_back_to_the_deterministic_writer(
    heuristic_result: RunOutput, script: tuple[str, ...], timeout_s: float
) -> None:
    async with FakeOpenAIServer(latency_ms=5, slow_ms=1500, script=script, responder=ReportLLM()) as server:
        built = await write_with(server, heuristic_result, timeout_s=timeout_s)
        requests = server.requests
    assert requests >= 2  # retried before giving up
    assert built.writer == "deterministic"
    assert_correct(built, heuristic_result)
    assert "LLM" not in section(built.markdown, "Executive Summary")
    assert any("LLM writer failed" in n for n in built.structured["writer_notes"])
    # The fallback is the deterministic report itself.
    facts = facts_of(heuristic_result)
    assert section(built.markdown, "Conclusion").strip().startswith(write_prose(facts).conclusion)


async def test_an_llm_that_answers_nothing_useful_falls_back(heuristic_result: RunOutput) -> None:
    async with FakeOpenAIServer(latency_ms=5, responder=ReportLLM("empty")) as server:
        built = await write_with(server, heuristic_result)
    assert built.writer == "deterministic"
    assert_correct(built, heuristic_result)


async def test_reporter_service_uses_the_configured_llm(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """SWARMCAST_REPORT_LLM_URL / _MODEL through the whole path; an inventing model, a dead one."""
    inventing = ReportLLM("invents_ids")
    async with (
        FakeOpenAIServer(latency_ms=5, responder=inventing) as good,
        FakeOpenAIServer(latency_ms=5, script=("http_500",)) as dead,
    ):
        first = await make_reporter(
            report_llm_url=good.base_url, report_model="report-model", report_llm_attempts=2
        )
        manifest = await upload(object_store, 401, heuristic_result)
        await publish_completed(event_bus, runner_completed(401, heuristic_result, manifest))
        await wait_for(lambda: bool(collector.for_job(401)[0]), what="reporter.completed (llm)")

        event = collector.for_job(401)[0][0]
        assert event.writer == "llm"
        assert inventing.bodies[0]["model"] == "report-model"
        stored = (await object_store.get_bytes(report_key(401))).decode()
        assert stored == event.report_markdown and str(FAKE_POST) not in stored
        posts, trades = artifact_ids(heuristic_result)
        cited_posts, cited_trades = cited(stored)
        assert cited_posts <= posts and cited_trades <= trades

        # A reporter pointed at a dead endpoint still reports, deterministically.
        await first.stop()
        await make_reporter(
            report_llm_url=dead.base_url, report_llm_attempts=2, report_llm_timeout_seconds=2.0
        )
        manifest = await upload(object_store, 402, heuristic_result)
        await publish_completed(event_bus, runner_completed(402, heuristic_result, manifest))
        await wait_for(lambda: bool(collector.for_job(402)[0]), what="reporter.completed (fallback)")
        fallback = collector.for_job(402)[0][0]
        assert fallback.writer == "deterministic"
        shown = verdict_probabilities(fallback.report_markdown)
        assert shown.keys() == forecast_probabilities(heuristic_result).keys()
