"""The baselines beside the forecast (market_curves.json → baselines, docs/forecasting.md
"Baselines") reach result_structured.forecast.baselines and one sentence of the Verdict; artifacts
written before the engine recorded them are reported as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.reporter import fmt
from services.reporter.artifacts import REQUIRED_ARTIFACTS, ArtifactError, parse_artifacts
from services.reporter.facts import RunContext, compute_facts
from services.reporter.report import BuiltReport, assemble
from services.reporter.tests.support import GOAL, SECTIONS, heuristic_run, section
from services.reporter.tests.synthetic import SyntheticRun, synthetic_run
from services.reporter.writers.deterministic import DeterministicWriter
from services.reporter.writers.llm import allowed_figures

REASON = "The poll leans yes but the swing vote is open."
LLM_DIRECT = {"probability": 0.41, "source": "llm", "reason": REASON}
WITHOUT = "Without the simulation"


def parsed(run: Any) -> Any:
    return parse_artifacts({n: run.artifacts[n] for n in REQUIRED_ARTIFACTS})


def facts_of(run: Any) -> Any:
    return compute_facts(parsed(run), RunContext(job_id=11, run_id="run-1", goal=GOAL, forecast_days=30))


async def report_of(run: Any) -> BuiltReport:
    facts = facts_of(run)
    return assemble(
        facts, await DeterministicWriter().write(facts), report_key="sim-data/11/report.md", revision=1
    )


def with_baselines(run: SyntheticRun, baselines: Any) -> SyntheticRun:
    curves = run.json("market_curves.json")
    curves["baselines"] = baselines
    return run.with_json("market_curves.json", curves)


@pytest.fixture(scope="module")
def old_run() -> SyntheticRun:
    run = synthetic_run(agents=16, rounds=8, seed=3, replicates=3, stakeholders=4)
    assert "baselines" not in run.json("market_curves.json")  # as an engine before the baselines wrote it
    return run


def opening(run: SyntheticRun) -> float:
    return float(run.json("market_curves.json")["markets"][0]["initial_price_yes"])


async def test_the_llm_baseline_reaches_result_structured_and_the_verdict(old_run: SyntheticRun) -> None:
    baselines = {"opening_price": opening(old_run), "direct": LLM_DIRECT}
    run = with_baselines(old_run, baselines)
    built = await report_of(run)
    forecast = json.loads(built.structured_json)["forecast"]
    assert forecast["baselines"] == baselines
    engine_forecast = run.json("market_curves.json")["forecast"]
    assert {k: forecast[k] for k in ("goal", "markets", "method")} == engine_forecast
    verdict = section(built.markdown, "Verdict")
    (line,) = [x for x in verdict.splitlines() if WITHOUT in x]
    headline = forecast["goal"]["probability"]
    gap = fmt.pts(headline - 0.41, signed=False)
    assert f"a single reading of the seed by the same model put the goal at {fmt.pct(0.41)}, {gap}" in line
    assert ("below the forecast" if headline > 0.41 else "above the forecast") in line
    assert [s for s in SECTIONS if f"## {s}" in built.markdown] == list(SECTIONS)
    # a writer may restate the baseline and its gap to the forecast
    allowed = allowed_figures(facts_of(run))
    assert 41.0 in allowed and round(abs(headline - 0.41) * 100, 2) in allowed


async def test_artifacts_without_baselines_are_reported_as_before(old_run: SyntheticRun) -> None:
    built = await report_of(old_run)
    forecast = json.loads(built.structured_json)["forecast"]
    assert set(forecast) == {"goal", "markets", "method"}
    assert WITHOUT not in built.markdown
    assert facts_of(old_run).baselines is None


async def test_a_failed_or_missing_direct_forecast_is_kept_and_not_described(old_run: SyntheticRun) -> None:
    failed = {"probability": None, "source": "llm", "error": "error: HTTP 500 after 3 attempts"}
    for direct in (failed, None):
        baselines = {"opening_price": opening(old_run), "direct": direct}
        built = await report_of(with_baselines(old_run, baselines))
        assert json.loads(built.structured_json)["forecast"]["baselines"] == baselines
        assert WITHOUT not in built.markdown


async def test_the_facts_an_llm_writer_reads_hold_the_baseline(old_run: SyntheticRun) -> None:
    facts = facts_of(with_baselines(old_run, {"opening_price": opening(old_run), "direct": LLM_DIRECT}))
    direct = facts.to_dict()["baselines"]["direct"]
    assert direct["probability"] == 0.41 and direct["source"] == "llm" and direct["error"] is None


@pytest.mark.parametrize(
    "baselines, problem",
    [
        ({"direct": LLM_DIRECT}, "baselines lacks opening_price"),
        ({"opening_price": 1.5, "direct": LLM_DIRECT}, "opening_price"),
        ({"opening_price": 0.5, "direct": {**LLM_DIRECT, "probability": 1.2}}, "direct probability"),
        ({"opening_price": 0.5, "direct": {"probability": None, "source": "llm"}}, "no error"),
        ({"opening_price": 0.5, "direct": {"probability": 0.3}}, "baselines.direct lacks source"),
        ("0.5", "baselines is not an object"),
    ],
)
def test_malformed_baselines_are_a_clear_artifact_error(
    old_run: SyntheticRun, baselines: Any, problem: str
) -> None:
    with pytest.raises(ArtifactError, match=problem):
        parsed(with_baselines(old_run, baselines))


async def test_an_engine_run_carries_its_baselines_into_the_report() -> None:
    result = await heuristic_run(agents=20, rounds=6)
    curves = json.loads(result.artifacts["market_curves.json"])
    built = await report_of(result)
    structured = json.loads(built.structured_json)
    assert structured["forecast"]["baselines"] == curves["baselines"]
    direct = curves["baselines"]["direct"]
    assert direct["source"] == "heuristic_prior" and direct["probability"] == curves["evidence"]["prior"]
    (line,) = [x for x in section(built.markdown, "Verdict").splitlines() if WITHOUT in x]
    how = "the seed's evidence alone (the prior the agents started from)"
    assert f"{how} put the goal at {fmt.pct(direct['probability'])}" in line
