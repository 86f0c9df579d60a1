"""The pure part: facts, the deterministic writer, markdown, structured results, citations."""

from __future__ import annotations

import json

import pytest

from services.reporter.artifacts import REQUIRED_ARTIFACTS, ArtifactError, parse_artifacts
from services.reporter.citations import (
    canonicalize,
    cited_ids,
    find_citations,
    invalid_citations,
    strip_invalid,
)
from services.reporter.facts import RunContext, compute_facts, phase_of_round, phase_rounds
from services.reporter.key_insight import MAX_CHARS, clean_key_insight, deterministic_key_insight
from services.reporter.report import assemble
from services.reporter.structured import SCHEMA_VERSION
from services.reporter.tests.support import (
    GOAL,
    SECTIONS,
    RunOutput,
    artifact_forecast,
    artifact_ids,
    cited,
    final_prices,
    forecast_probabilities,
    heuristic_run,
    is_real_sentence,
    section,
    verdict_forecasts,
)
from services.reporter.writers.deterministic import DeterministicWriter

FORECAST_GOAL_KEYS = ("market_id", "probability", "interval", "level", "replicates", "market", "belief")


def facts_of(result: RunOutput, days: int = 30, job_id: int = 7):
    artifacts = parse_artifacts({n: result.artifacts[n] for n in REQUIRED_ARTIFACTS})
    return compute_facts(artifacts, RunContext(job_id=job_id, run_id="run-1", goal=GOAL, forecast_days=days))


async def deterministic_report(result: RunOutput, days: int = 30):
    facts = facts_of(result, days)
    written = await DeterministicWriter().write(facts)
    return facts, assemble(facts, written, report_key="sim-data/7/report.md", revision=1)


async def test_report_from_a_heuristic_run(heuristic_result: RunOutput) -> None:
    facts, built = await deterministic_report(heuristic_result)
    md = built.markdown

    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert headings == list(SECTIONS)

    # Every cited id exists, and the report does cite evidence.
    posts, trades = artifact_ids(heuristic_result)
    cited_posts, cited_trades = cited(md)
    assert cited_posts and cited_trades
    assert cited_posts <= posts and cited_trades <= trades

    # The verdict gives every market the engine's forecast with its interval.
    forecast = artifact_forecast(heuristic_result)
    shown = verdict_forecasts(md)
    assert shown.keys() == forecast["markets"].keys()
    for market_id, estimate in forecast["markets"].items():
        assert shown[market_id][0] == pytest.approx(estimate["probability"], abs=0.0006)
        assert shown[market_id][1] == pytest.approx(estimate["interval"], abs=0.0006)
    # ... and the agents' belief in the quoted run comes with its spread across agents.
    goal = json.loads(heuristic_result.artifacts["market_curves.json"])["goal"]
    verdict = section(md, "Verdict")
    assert f"{goal['belief_probability'] * 100:.1f}%" in verdict
    assert f"±{goal['spread'] * 100:.1f} pts" in verdict

    # The heuristic backend is called out.
    assert "Heuristic backend" in md
    assert any("heuristic backend" in n for n in facts.notes)

    assert len(built.key_insight) <= MAX_CHARS
    assert is_real_sentence(built.key_insight), built.key_insight


async def test_findings_cite_existing_posts_and_trades(heuristic_result: RunOutput) -> None:
    facts = facts_of(heuristic_result)
    posts, trades = artifact_ids(heuristic_result)
    assert 3 <= len(facts.findings) <= 5
    for finding in facts.findings:
        assert finding.post_ids or finding.trade_ids, finding
        assert set(finding.post_ids) <= posts and set(finding.trade_ids) <= trades
    _, built = await deterministic_report(heuristic_result)
    body = section(built.markdown, "Key Findings")
    for i, finding in enumerate(facts.findings, start=1):
        line = next(line for line in body.splitlines() if line.startswith(f"{i}. "))
        line_posts, line_trades = cited_ids(line)
        assert set(finding.post_ids) <= set(line_posts) and set(finding.trade_ids) <= set(line_trades)


async def test_moves_are_real_price_changes_with_their_round(heuristic_result: RunOutput) -> None:
    facts = facts_of(heuristic_result)
    curves = {
        m["id"]: m["curve"] for m in json.loads(heuristic_result.artifacts["market_curves.json"])["markets"]
    }
    trades = {t["id"]: t for t in json.loads(heuristic_result.artifacts["trades.json"])["trades"]}
    posts = {p["id"]: p for p in json.loads(heuristic_result.artifacts["posts.json"])["posts"]}
    assert facts.moves
    biggest = max(
        abs(c[k]["price_yes"] - c[k - 1]["price_yes"]) for c in curves.values() for k in range(1, len(c))
    )
    assert abs(facts.moves[0].delta) == pytest.approx(biggest, abs=1e-4)
    for move in facts.moves:
        curve = curves[move.market_id]
        assert move.price_after - move.price_before == pytest.approx(move.delta, abs=1e-4)
        assert curve[move.round]["price_yes"] == move.price_after
        assert all(
            trades[t]["round"] == move.round and trades[t]["market_id"] == move.market_id
            for t in move.trade_ids
        )
        # "Posts around it": the move's round or the one before.
        assert all(posts[p]["round"] in (move.round - 1, move.round) for p in move.post_ids)
        assert move.day == pytest.approx(move.round / facts.scale.rounds * 30)


async def test_coalitions_group_agents_by_belief_and_follows(heuristic_result: RunOutput) -> None:
    facts = facts_of(heuristic_result)
    graph = json.loads(heuristic_result.artifacts["social_graph.json"])
    follows = {(e["source"], e["target"]) for e in graph["edges"]}
    assert facts.coalitions
    seen: set[int] = set()
    for coalition in facts.coalitions:
        ids = {m.agent_id for m in coalition.members}
        assert not ids & seen, "an agent is in two coalitions"
        seen |= ids
        assert coalition.size == len(ids) >= 2
        for member in coalition.members:
            # Same camp: all members' probabilities sit on the coalition's side.
            if coalition.camp == "yes":
                assert member.probability >= 0.6
            elif coalition.camp == "no":
                assert member.probability <= 0.4
            # Linked by follows: each member follows or is followed by another member.
            assert any(
                (member.agent_id, o) in follows or (o, member.agent_id) in follows
                for o in ids - {member.agent_id}
            )
    total = (
        sum(c.size for c in facts.coalitions)
        + sum(facts.unaligned_counts.values())
        + facts.minor_coalition_agents
    )
    assert total == facts.scale.agents


def test_phases_map_rounds_onto_the_forecast_horizon() -> None:
    assert {k: list(v) for k, v in phase_rounds(12).items()} == {
        "Early": [1, 2, 3, 4],
        "Mid": [5, 6, 7, 8],
        "Late": [9, 10, 11, 12],
    }
    assert {k: list(v) for k, v in phase_rounds(10).items()} == {
        "Early": [1, 2, 3],
        "Mid": [4, 5, 6],
        "Late": [7, 8, 9, 10],
    }
    assert [phase_of_round(r, 2) for r in (1, 2)] == ["Mid", "Late"]


async def test_phases_are_named_by_days_not_rounds(heuristic_result: RunOutput) -> None:
    facts = facts_of(heuristic_result, days=90)
    assert [(p.name, p.start_day, p.end_day) for p in facts.phases] == [
        ("Early", 0.0, 30.0),
        ("Mid", 30.0, 60.0),
        ("Late", 60.0, 90.0),
    ]
    _, built = await deterministic_report(heuristic_result, days=90)
    dynamics = section(built.markdown, "Belief Dynamics")
    assert "From day 0 to day 30" in dynamics and "From day 60 to day 90" in dynamics
    boundaries = built.structured["phase_boundaries"]
    assert [b["end_day"] for b in boundaries] == [30.0, 60.0, 90.0]
    assert boundaries[0]["start_round"] == 1 and boundaries[-1]["end_round"] == 12


async def test_a_two_round_run_still_has_three_phases() -> None:
    result = await heuristic_run(agents=6, rounds=2, seed=3)
    facts, built = await deterministic_report(result, days=14)
    early = facts.phases[0]
    assert early.start_round is None and early.posts == 0
    assert "No round fell in the early third" in section(built.markdown, "Belief Dynamics")
    assert [line[3:] for line in built.markdown.splitlines() if line.startswith("## ")] == list(SECTIONS)
    posts, trades = artifact_ids(result)
    cited_posts, cited_trades = cited(built.markdown)
    assert cited_posts <= posts and cited_trades <= trades


async def test_structured_results_schema(heuristic_result: RunOutput) -> None:
    facts, built = await deterministic_report(heuristic_result)
    s = json.loads(built.structured_json)
    assert s["schema_version"] == SCHEMA_VERSION
    for key in ("verdict", "probabilities", "findings", "stakeholder_positions", "coalitions",
                "phase_boundaries", "quotable_posts", "scale", "key_insight", "writer"):  # fmt: skip
        assert key in s, key
    forecast = artifact_forecast(heuristic_result)
    assert s["forecast"]["goal"] == {k: forecast["goal"][k] for k in FORECAST_GOAL_KEYS}
    assert s["probabilities"]["markets"] == forecast_probabilities(heuristic_result)
    assert s["probabilities"]["goal"] == forecast["goal"]["probability"]
    assert s["probabilities"]["goal_belief"] == facts.goal.probability
    assert s["verdict"]["probability"] == forecast["goal"]["probability"]
    assert {m["id"]: m["final_price"] for m in s["markets"]} == final_prices(heuristic_result)
    assert s["scale"]["agents"] == 30 and s["scale"]["rounds"] == 12
    posts, _ = artifact_ids(heuristic_result)
    assert {q["post_id"] for q in s["quotable_posts"]} <= posts
    assert s["writer"] == "deterministic" and s["key_insight"] == built.key_insight
    assert s["backend"]["heuristic"] is True


async def test_deterministic_writer_is_deterministic(heuristic_result: RunOutput) -> None:
    _, a = await deterministic_report(heuristic_result)
    _, b = await deterministic_report(heuristic_result)
    assert a.markdown == b.markdown and a.structured_json == b.structured_json


def test_corrupt_or_incomplete_artifacts_are_rejected(heuristic_result: RunOutput) -> None:
    raw = {n: heuristic_result.artifacts[n] for n in REQUIRED_ARTIFACTS}
    with pytest.raises(ArtifactError, match=r"posts\.json is not valid JSON"):
        parse_artifacts({**raw, "posts.json": b'{"posts": [{"id": 1'})
    with pytest.raises(ArtifactError, match=r"missing artifacts: trades\.json"):
        parse_artifacts({n: v for n, v in raw.items() if n != "trades.json"})
    curves = json.loads(raw["market_curves.json"])
    curves["markets"][0]["curve"] = curves["markets"][0]["curve"][:3]
    with pytest.raises(ArtifactError, match="curve"):
        parse_artifacts({**raw, "market_curves.json": json.dumps(curves).encode()})


def test_citations_are_found_checked_and_stripped() -> None:
    text = "As post #3 shows [post #3] [trade #999], and posts #4 and #77 agree; see [post #55]. Also #12."
    found = [(c.kind, c.id) for c in find_citations(text)]
    assert found == [
        ("post", 3),
        ("post", 3),
        ("trade", 999),
        ("post", 4),
        ("post", 77),
        ("post", 55),
        ("post", 12),
    ]
    bad = invalid_citations(text, post_ids={3, 4, 12}, trade_ids={1})
    assert [(c.kind, c.id) for c in bad] == [("trade", 999), ("post", 77), ("post", 55)]
    assert invalid_citations("Loose #5 here.", {5}, set())[0].kind == ""
    cleaned = strip_invalid(text, post_ids={3, 4}, trade_ids={1})
    assert "999" not in cleaned and "#77" not in cleaned and "#55" not in cleaned
    assert "[post #3]" in cleaned and "posts #4" in cleaned
    assert invalid_citations(cleaned, {3, 4}, {1}) == []
    assert (
        canonicalize("posts #3 and #5, [Trade #9], trades #1") == "post #3 and post #5, [trade #9], trade #1"
    )


async def test_key_insight(heuristic_result: RunOutput) -> None:
    facts = facts_of(heuristic_result)
    text = deterministic_key_insight(facts)
    assert is_real_sentence(text) and len(text) <= MAX_CHARS
    assert (
        clean_key_insight("**Likely**: the market closed at 51.3%") == "Likely: the market closed at 51.3%."
    )
    assert (
        clean_key_insight("See [post #3] for why it is likely to happen.")
        == "See for why it is likely to happen."
    )
    assert clean_key_insight("x" * 250 + ".") is None
    assert clean_key_insight("It is likely per post #3 and more.") is None
    assert clean_key_insight("- a list item") is None
