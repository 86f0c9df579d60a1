"""The headline: forecast.goal with its interval drives the verdict, the key insight, the report and
result_structured (docs/forecasting.md §4–5). Artifacts are hand-built in the documented shape
(synthetic.py), so these tests do not depend on the engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.reporter import fmt
from services.reporter.artifacts import REQUIRED_ARTIFACTS, ArtifactError, parse_artifacts
from services.reporter.facts import ReportFacts, RunContext, compute_facts
from services.reporter.key_insight import MAX_CHARS, deterministic_key_insight
from services.reporter.report import BuiltReport, assemble
from services.reporter.repository import report_key
from services.reporter.structured import SCHEMA_VERSION
from services.reporter.tests.conftest import MakeReporter
from services.reporter.tests.report_llm import ReportLLM
from services.reporter.tests.support import (
    GOAL,
    SECTIONS,
    Collector,
    artifact_forecast,
    artifact_ids,
    cited,
    is_real_sentence,
    publish_completed,
    runner_completed,
    section,
    upload,
    verdict_forecasts,
    wait_for,
)
from services.reporter.tests.synthetic import SyntheticRun, synthetic_run
from services.reporter.writers.deterministic import DeterministicWriter, write_prose
from services.reporter.writers.llm import ChatClient, LLMWriter, allowed_figures, check_section
from tests.fakes.openai_server import FakeOpenAIServer

GOAL_KEYS = {"market_id", "probability", "interval", "level", "replicates", "market", "belief"}
MARKET_KEYS = {"probability", "interval", "market", "belief"}


def facts_of(run: SyntheticRun) -> ReportFacts:
    artifacts = parse_artifacts({n: run.artifacts[n] for n in REQUIRED_ARTIFACTS})
    return compute_facts(artifacts, RunContext(job_id=11, run_id="run-1", goal=GOAL, forecast_days=30))


async def report_of(run: SyntheticRun) -> BuiltReport:
    facts = facts_of(run)
    return assemble(
        facts, await DeterministicWriter().write(facts), report_key="sim-data/11/report.md", revision=1
    )


def with_goal_forecast(run: SyntheticRun, probability: float, interval: list[float]) -> SyntheticRun:
    """The run with another headline for the goal (the goal market's own price left as it was)."""
    curves = run.json("market_curves.json")
    for where in (curves["forecast"]["goal"], curves["forecast"]["markets"]["m1"]):
        where.update(probability=probability, interval=interval)
    return run.with_json("market_curves.json", curves)


def headline(forecast: dict[str, Any]) -> str:
    goal = forecast["goal"]
    return fmt.estimate(goal["probability"], goal["interval"], goal["level"])


@pytest.fixture(scope="module")
def run() -> SyntheticRun:
    return synthetic_run(agents=24, rounds=12, seed=1, replicates=5, stakeholders=4)


async def test_structured_forecast_is_the_engines_forecast(run: SyntheticRun) -> None:
    built = await report_of(run)
    s = json.loads(built.structured_json)
    forecast = artifact_forecast(run)
    assert s["schema_version"] == SCHEMA_VERSION == 2
    # Exactly docs/forecasting.md §4's object: the same keys and the same numbers.
    assert set(s["forecast"]) == {"goal", "markets", "method"}
    assert set(s["forecast"]["goal"]) == GOAL_KEYS
    assert all(set(m) == MARKET_KEYS for m in s["forecast"]["markets"].values())
    assert s["forecast"] == forecast
    # The flat view older clients read agrees with it.
    assert s["probabilities"]["goal"] == forecast["goal"]["probability"]
    assert s["probabilities"]["goal_interval"] == forecast["goal"]["interval"]
    assert s["probabilities"]["markets"] == {m: f["probability"] for m, f in forecast["markets"].items()}
    assert s["probabilities"]["intervals"] == {m: f["interval"] for m, f in forecast["markets"].items()}
    verdict = s["verdict"]
    assert verdict["probability"] == forecast["goal"]["probability"]
    assert verdict["interval"] == forecast["goal"]["interval"]
    assert verdict["replicates"] == 5 and verdict["level"] == 0.8 and verdict["low_evidence"] is False
    assert "basis" not in verdict
    assert s["scale"]["replicates"] == 5
    assert {m["id"]: m["probability"] for m in s["markets"]} == s["probabilities"]["markets"]
    assert all(m["resolution"] for m in s["markets"])


@pytest.mark.parametrize(
    ("probability", "interval", "label", "leaning"),
    [
        (0.83, [0.74, 0.9], "very likely", "yes"),
        (0.64, [0.58, 0.71], "likely", "yes"),
        (0.52, [0.41, 0.6], "too close to call", "yes"),
        (0.31, [0.2, 0.4], "unlikely", "no"),
        (0.12, [0.06, 0.2], "very unlikely", "no"),
    ],
)
async def test_the_verdict_follows_the_forecast_not_the_goal_market(
    run: SyntheticRun, probability: float, interval: list[float], label: str, leaning: str
) -> None:
    shaped = with_goal_forecast(run, probability, interval)
    m1_price = shaped.json("market_curves.json")["markets"][0]["final_price_yes"]
    built = await report_of(shaped)
    s = built.structured
    assert s["verdict"]["label"] == label and s["verdict"]["leaning"] == leaning
    assert s["verdict"]["probability"] == probability
    stated = fmt.estimate(probability, interval)
    verdict = section(built.markdown, "Verdict")
    assert stated in s["verdict"]["sentence"] and stated in verdict
    assert f"rated {label}" in verdict
    assert verdict_forecasts(built.markdown)["m1"] == (pytest.approx(probability), pytest.approx(interval))
    # The key insight leads with the headline; the goal market's own close is not the headline.
    assert built.key_insight.startswith(stated)
    assert not built.key_insight.startswith(fmt.pct(m1_price))
    assert stated in section(built.markdown, "Executive Summary")
    assert stated in section(built.markdown, "Conclusion")


async def test_the_verdict_gives_every_market_its_interval(run: SyntheticRun) -> None:
    built = await report_of(run)
    md = built.markdown
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == list(SECTIONS)
    forecast = artifact_forecast(run)
    shown = verdict_forecasts(md)
    assert shown.keys() == forecast["markets"].keys() == {"m1", "m2", "m3"}
    for market_id, estimate in forecast["markets"].items():
        p, interval = shown[market_id]
        assert p == pytest.approx(estimate["probability"], abs=0.0006)
        assert interval == pytest.approx(estimate["interval"], abs=0.0006)
    verdict = section(md, "Verdict")
    assert "80% interval" in verdict and "from 5 replicate runs" in verdict
    assert forecast["method"] in verdict
    # Market Analysis speaks of the forecasts too, and says how each market resolves.
    analysis = section(md, "Market Analysis")
    for market_id, estimate in forecast["markets"].items():
        assert (
            f"{market_id} {fmt.pct(estimate['probability'])} ({fmt.interval(estimate['interval'])})"
            in analysis
        )
    resolutions = [m["resolution"] for m in run.json("market_curves.json")["markets"]]
    assert all(r in analysis for r in resolutions)
    # Citations still name real posts and trades.
    posts, trades = artifact_ids(run)
    cited_posts, cited_trades = cited(md)
    assert cited_posts <= posts and cited_trades <= trades and cited_posts and cited_trades


@pytest.mark.parametrize("stakeholders", [0, 1, 2])
async def test_low_evidence_is_said_plainly(stakeholders: int) -> None:
    run = synthetic_run(agents=12, rounds=6, seed=4, replicates=3, stakeholders=stakeholders)
    assert run.json("market_curves.json")["evidence"]["low_evidence"] is True
    built = await report_of(run)
    verdict = section(built.markdown, "Verdict")
    assert "Low evidence" in verdict and "little evidence" in verdict and "weak number" in verdict
    assert "fewer than 3" in verdict
    assert built.structured["verdict"]["low_evidence"] is True
    assert built.structured["evidence"]["low_evidence"] is True
    assert any(n.startswith("Low evidence") for n in built.structured["notes"])
    assert "low evidence" in built.key_insight
    assert "little evidence" in built.structured["verdict"]["sentence"]


async def test_enough_evidence_carries_no_warning(run: SyntheticRun) -> None:
    built = await report_of(run)
    assert "Low evidence" not in built.markdown and "little evidence" not in built.markdown
    assert "low evidence" not in built.key_insight
    evidence = built.structured["evidence"]
    assert (
        evidence["stakeholders"] == 4
        and evidence["prior"] == run.json("market_curves.json")["evidence"]["prior"]
    )
    assert "Evidence read from the seed:** 4 stakeholders" in section(built.markdown, "Verdict")


async def test_a_single_run_says_where_its_interval_comes_from() -> None:
    run = synthetic_run(agents=16, rounds=8, seed=5, replicates=1)
    forecast = artifact_forecast(run)
    assert forecast["goal"]["replicates"] == 1
    built = await report_of(run)
    assert "from a single run" in built.structured["verdict"]["sentence"]
    assert "resampling its agents" in section(built.markdown, "Conclusion")
    assert built.key_insight.startswith(headline(forecast))


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
async def test_the_key_insight_leads_with_the_goal_forecast(seed: int) -> None:
    run = synthetic_run(agents=20, rounds=10, seed=seed, replicates=1 + seed % 4, stakeholders=seed % 5)
    facts = facts_of(run)
    text = deterministic_key_insight(facts)
    assert text.startswith(headline(artifact_forecast(run)))
    assert len(text) <= MAX_CHARS and is_real_sentence(text), text
    assert facts.verdict.label in text


async def test_artifacts_without_a_forecast_are_refused(run: SyntheticRun) -> None:
    """A run from before the forecast core, or a truncated forecast: a permanent, named failure."""
    raw = {n: run.artifacts[n] for n in REQUIRED_ARTIFACTS}

    def broken(edit: Any) -> dict[str, bytes]:
        curves = run.json("market_curves.json")
        edit(curves)
        return {**raw, "market_curves.json": json.dumps(curves).encode()}

    with pytest.raises(ArtifactError, match=r"market_curves\.json lacks forecast"):
        parse_artifacts(broken(lambda c: c.pop("forecast")))
    with pytest.raises(ArtifactError, match=r"forecast\.markets lacks m2"):
        parse_artifacts(broken(lambda c: c["forecast"]["markets"].pop("m2")))
    with pytest.raises(ArtifactError, match="upside down"):
        parse_artifacts(broken(lambda c: c["forecast"]["goal"].update(interval=[0.7, 0.5])))
    with pytest.raises(ArtifactError, match="outside"):
        parse_artifacts(broken(lambda c: c["forecast"]["markets"]["m3"].update(probability=1.4)))
    with pytest.raises(ArtifactError, match="replicates"):
        parse_artifacts(broken(lambda c: c["forecast"]["goal"].update(replicates=0)))
    # Evidence is optional (older runs); without it there is no evidence line and no warning.
    parsed = parse_artifacts(broken(lambda c: c.pop("evidence")))
    facts = compute_facts(parsed, RunContext(job_id=1, run_id="r", goal=GOAL, forecast_days=30))
    assert facts.evidence is None and facts.verdict.low_evidence is False


async def test_llm_checks_accept_the_forecast_and_refuse_other_numbers(run: SyntheticRun) -> None:
    facts = facts_of(run)
    allowed = allowed_figures(facts)
    f = facts.forecast
    for value in (f.probability, *f.interval, f.market, f.belief, f.interval[1] - f.interval[0]):
        assert any(abs(value * 100 - a) <= 0.01 for a in allowed), value
    prose = write_prose(facts)
    for key, text in (("key_insight", prose.key_insight), ("verdict_sentence", prose.verdict_sentence)):
        assert check_section(key, text, facts, allowed) == [], key
    interval = f"{f.interval[0] * 100:.0f}-{f.interval[1] * 100:.0f}%"
    good = f"About {f.probability * 100:.0f}% (80% interval {interval}) that the strike ends in time."
    assert check_section("key_insight", good, facts, allowed) == []
    buried = f"The strike may end in time, at {f.probability * 100:.0f}% by the forecast."
    assert check_section(
        "key_insight", "Agents argued a lot, " + buried[0].lower() + buried[1:], facts, allowed
    )
    no_interval = f"{f.probability * 100:.1f}% that the strike ends in time, by the forecast."
    assert [p.kind for p in check_section("key_insight", no_interval, facts, allowed)] == ["form"]
    assert check_section("verdict_sentence", "The strike will surely end by June.", facts, allowed)


async def test_an_llm_writer_quoting_the_forecast_is_kept(run: SyntheticRun) -> None:
    llm = ReportLLM("honest")
    async with FakeOpenAIServer(latency_ms=5, responder=llm) as server:
        built = await write_with(server, run)
    assert built.writer == "llm" and built.structured["writer_notes"] == []
    assert built.key_insight.startswith("LLM insight: ")
    verdict = section(built.markdown, "Verdict")
    assert "**LLM verdict:" in verdict
    # The model saw the forecast and was told to lead with it.
    prompt = llm.bodies[0]["messages"]
    assert '"forecast"' in prompt[1]["content"] and "interval" in prompt[0]["content"]
    # Whatever the prose, the table is the engine's forecast.
    forecast = artifact_forecast(run)
    assert verdict_forecasts(built.markdown)["m1"][0] == pytest.approx(
        forecast["goal"]["probability"], abs=6e-4
    )


@pytest.mark.parametrize("mode", ["buries_forecast", "invents_interval"])
async def test_an_llm_that_buries_or_bends_the_forecast_is_overruled(run: SyntheticRun, mode: str) -> None:
    llm = ReportLLM(mode)
    async with FakeOpenAIServer(latency_ms=5, responder=llm) as server:
        built = await write_with(server, run)
    assert len(llm.bodies) == 2  # sent back once with the problems listed
    feedback = llm.bodies[1]["messages"][-1]["content"]
    assert "key_insight" in feedback and "lead with the forecast" in feedback
    facts = facts_of(run)
    assert built.key_insight == deterministic_key_insight(facts)
    assert built.key_insight.startswith(headline(artifact_forecast(run)))
    assert any("key_insight: the deterministic text was kept" in n for n in built.structured["writer_notes"])
    if mode == "buries_forecast":
        assert write_prose(facts).verdict_sentence in section(built.markdown, "Verdict")


async def write_with(server: FakeOpenAIServer, run: SyntheticRun) -> BuiltReport:
    facts = facts_of(run)
    client = ChatClient(server.base_url, "fake-report-model", timeout_s=10.0, attempts=2, backoff_s=0.05)
    try:
        written = await LLMWriter(client).write(facts)
    finally:
        await client.aclose()
    return assemble(facts, written, report_key="sim-data/11/report.md", revision=1)


async def test_the_reporter_service_publishes_the_forecast(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
) -> None:
    """runner.completed → report.md in S3 and reporter.completed on NATS carry the headline."""
    await make_reporter()
    runs = {
        501: synthetic_run(agents=18, rounds=9, seed=8, replicates=4, stakeholders=5),
        502: synthetic_run(agents=10, rounds=6, seed=9, replicates=2, stakeholders=1),
    }
    for job_id, run in runs.items():
        manifest = await upload(object_store, job_id, run)
        await publish_completed(event_bus, runner_completed(job_id, run, manifest, run_id=f"run-{job_id}"))
    await wait_for(
        lambda: all(collector.for_job(j)[0] for j in runs), what="reporter.completed for both jobs"
    )

    for job_id, run in runs.items():
        event = collector.for_job(job_id)[0][0]
        forecast = artifact_forecast(run)
        structured = json.loads(event.result_structured)
        assert structured["forecast"] == forecast
        assert event.key_insight.startswith(headline(forecast)) and len(event.key_insight) <= MAX_CHARS
        stored = (await object_store.get_bytes(report_key(job_id))).decode()
        assert stored == event.report_markdown
        shown = verdict_forecasts(stored)
        for market_id, estimate in forecast["markets"].items():
            assert shown[market_id][1] == pytest.approx(estimate["interval"], abs=6e-4)
        low = run.json("market_curves.json")["evidence"]["low_evidence"]
        assert ("Low evidence" in section(stored, "Verdict")) is low
        assert structured["verdict"]["low_evidence"] is low
    assert collector.for_job(502)[0][0].key_insight.count("low evidence") == 1


async def test_engine_text_with_numbers_is_never_read_as_a_citation(run: SyntheticRun) -> None:
    """A question, resolution or method naming "bill #12" stays plain text: every #id is a citation."""
    curves = run.json("market_curves.json")
    curves["markets"][1]["question"] = "Will bill #12 pass the council by May?"
    curves["markets"][1]["resolution"] = "YES if bill #12 passes its third reading."
    curves["forecast"]["method"] = "Pooled as in issue #13: prices and stated beliefs in log-odds."
    built = await report_of(run.with_json("market_curves.json", curves))
    cited_posts, cited_trades = cited(built.markdown)  # fails on a '#<digits>' that is not a citation
    posts, trades = artifact_ids(run)
    assert cited_posts <= posts and cited_trades <= trades
    assert "bill no. 12" in section(built.markdown, "Verdict") and "issue no. 13" in section(
        built.markdown, "Verdict"
    )
