"""Outcome rules with exact numbers: resolution checks, settlement, market scores, track record."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from services.common import scoring
from services.jobs.domain import outcomes as rules
from services.jobs.domain.outcomes import Resolution, ResolutionInput
from services.jobs.domain.validation import ValidationError

MARKETS = [
    rules.MarketForecast("m1", "Will the levy pass?", True, 0.7, 0.6),
    rules.MarketForecast("m2", "Will the operators sue?", False, 0.2, 0.5),
    rules.MarketForecast("m3", "Will turnout exceed 40%?", False, 0.55, 0.5),
]
CREATED, TODAY = date(2026, 11, 1), date(2026, 12, 5)


def check(outcome: Resolution | None = Resolution.YES, **kw: object) -> rules.CheckedResolution:
    given = ResolutionInput(
        outcome=outcome,
        markets=kw.get("markets", {}),  # type: ignore[arg-type]
        resolved_on=str(kw.get("resolved_on", "")),
        source_url=str(kw.get("source_url", "")),
    )
    return rules.check_resolution(given, MARKETS, created_on=CREATED, today=TODAY)


def test_a_resolution_names_the_goal_and_any_other_market() -> None:
    checked = check(
        markets={"m2": Resolution.NO}, resolved_on="2026-11-30", source_url=" https://a.example/x "
    )
    assert checked.outcomes == {"m1": Resolution.YES, "m2": Resolution.NO}
    assert checked.resolved_on == date(2026, 11, 30) and checked.source_url == "https://a.example/x"
    assert check().resolved_on == TODAY and check().source_url is None
    assert check(resolved_on="2026-11-01").resolved_on == CREATED  # the creation day itself


@pytest.mark.parametrize(
    ("kw", "field", "says"),
    [
        ({"outcome": None}, "outcome", "YES, NO or ANNULLED"),
        ({"markets": {"m7": Resolution.NO}}, "markets", "no market 'm7'"),
        ({"markets": {"m2": None}}, "markets", "m2 needs"),
        ({"markets": {"m1": Resolution.NO}}, "markets", "goal"),
        ({"resolved_on": "2026-10-31"}, "resolved_on", "before the job was created (2026-11-01)"),
        ({"resolved_on": "2026-12-06"}, "resolved_on", "in the future"),
        ({"resolved_on": "yesterday"}, "resolved_on", "YYYY-MM-DD"),
        ({"source_url": "ftp://files.example/x"}, "source_url", "http or https"),
        ({"source_url": "https://"}, "source_url", "http or https"),
        ({"source_url": "https://a.example/" + "x" * 2000}, "source_url", "longer than 2000"),
    ],
)
def test_bad_resolutions_name_what_is_wrong(kw: dict[str, object], field: str, says: str) -> None:
    outcome = kw.pop("outcome", Resolution.YES)
    with pytest.raises(ValidationError) as info:
        check(outcome, **kw)  # type: ignore[arg-type]
    assert info.value.field == field and says in info.value.message


def test_scores_are_brier_and_log_of_the_forecast_and_of_the_opening_price() -> None:
    outcomes = {"m1": Resolution.YES, "m2": Resolution.NO, "m3": Resolution.ANNULLED}
    rows = {r.market_id: r for r in rules.score_markets(MARKETS, outcomes)}
    m1, m2, m3 = rows["m1"], rows["m2"], rows["m3"]
    assert m1.brier == pytest.approx(0.09, abs=1e-15) and m1.log_score == pytest.approx(-math.log(0.7))
    assert m1.opening_brier == pytest.approx(0.16) and m1.opening_log_score == pytest.approx(-math.log(0.6))
    assert m2.brier == pytest.approx(0.04) and m2.log_score == pytest.approx(-math.log(0.8))
    assert m2.opening_brier == pytest.approx(0.25) and m2.opening_log_score == pytest.approx(math.log(2))
    assert (m3.brier, m3.log_score, m3.opening_brier) == (None, None, None)
    assert list(rows) == ["m1", "m2", "m3"]  # goal first
    assert rules.score_markets(MARKETS, {"m1": Resolution.NO})[0].brier == pytest.approx(0.49)


def test_a_certain_miss_scores_a_large_finite_log_loss() -> None:
    assert scoring.log_score(1.0, False) == pytest.approx(-math.log(0.001))
    assert scoring.log_score(0.5, True) == pytest.approx(math.log(2))
    with pytest.raises(ValueError):
        scoring.brier(1.2, True)


PROFILES = {
    "agents": [
        # started with 100: spent 30 on m1 YES (40 shares) and got 5 back selling m2 NO shares
        {"agent_id": 0, "name": "Mayor", "cash": 75.0, "portfolio_value": 101.0, "pnl": 1.0,
         "holdings": {"m1": {"yes": 40.0, "no": 0.0}, "m2": {"yes": 0.0, "no": 10.0}}},
        {"agent_id": 1, "name": "Ferry association", "cash": 88.0, "portfolio_value": 97.0, "pnl": -3.0,
         "holdings": {"m1": {"yes": 0.0, "no": 20.0}, "m3": {"yes": 6.0, "no": 0.0}}},
    ]
}  # fmt: skip
TRADES = {
    "trades": [
        {"agent_id": 0, "market_id": "m1", "side": "buy", "cash": 25.0},
        {"agent_id": 0, "market_id": "m2", "side": "buy", "cash": 10.0},
        {"agent_id": 0, "market_id": "m2", "side": "sell", "cash": 5.0},
        {"agent_id": 1, "market_id": "m1", "side": "buy", "cash": 9.0},
        {"agent_id": 1, "market_id": "m3", "side": "buy", "cash": 3.0},
    ]
}
CLOSING = {"m1": 0.8, "m2": 0.3, "m3": 0.5}


def test_settlement_pays_winners_refunds_annulled_and_marks_unresolved() -> None:
    got = rules.settle(PROFILES, TRADES, CLOSING, {"m1": Resolution.YES, "m2": Resolution.ANNULLED})
    assert got["initial_cash"] == 100.0
    mayor, ferry = got["agents"]
    # 75 + 40 (m1 YES pays its YES shares) + 5 (m2 annulled: paid 10, received 5)
    assert mayor == {"agent_id": 0, "name": "Mayor", "cash": 75.0, "settled_cash": 120.0, "pnl": 20.0}
    # 88 + 0 (its m1 NO shares lose) + 6 * 0.5 (m3 unresolved: marked at its closing price)
    assert ferry == {
        "agent_id": 1,
        "name": "Ferry association",
        "cash": 88.0,
        "settled_cash": 91.0,
        "pnl": -9.0,
    }
    lost = rules.settle(PROFILES, TRADES, CLOSING, {"m1": Resolution.NO})
    assert [a["settled_cash"] for a in lost["agents"]] == [75.0 + 10 * 0.7, 88.0 + 20.0 + 3.0]


def test_forecasts_come_from_the_results_and_the_markets_config() -> None:
    structured = json.dumps(
        {
            "forecast": {
                "goal": {"market_id": "m1"},
                "markets": {"m1": {"probability": 0.63}, "m2": {"probability": 0.1}},
            }
        }
    )
    config = [
        {"id": "m1", "question": "Q1", "initial_price_yes": 0.55},
        {"id": "m2", "question": "Q2", "initial_price_yes": 0.4},
    ]
    got = rules.forecasts_of(structured, config)
    assert got == [
        rules.MarketForecast("m1", "Q1", True, 0.63, 0.55),
        rules.MarketForecast("m2", "Q2", False, 0.1, 0.4),
    ]
    for bad in (None, "{}", '{"forecast": {"goal": {}}}'):
        with pytest.raises(rules.UnscorableJob):
            rules.forecasts_of(bad, config)


def test_the_track_record_scores_goals_and_leaves_annulled_ones_out() -> None:
    goals = [
        rules.GoalRecord(1, "g1", Resolution.YES, date(2026, 12, 1), 0.75, 0.5),
        rules.GoalRecord(2, "g2", Resolution.NO, date(2026, 12, 3), 0.15, 0.6),
        rules.GoalRecord(3, "g3", Resolution.ANNULLED, date(2026, 12, 2), 0.9, 0.5),
        rules.GoalRecord(4, "g4", Resolution.NO, date(2026, 12, 4), 0.72, 0.5),
    ]
    record = rules.track_record(goals, [0.0625, 0.0225, 0.5184, 0.01])
    assert (record.resolved, record.annulled, record.markets_resolved) == (3, 1, 4)
    assert record.forecast.brier == pytest.approx((0.0625 + 0.0225 + 0.5184) / 3)
    assert record.opening_price.brier == pytest.approx((0.25 + 0.36 + 0.25) / 3)
    assert record.forecast.sharpness == pytest.approx((0.25 + 0.35 + 0.22) / 3)
    bins = {round(b.lower, 1): b for b in record.forecast.calibration if b.count}
    assert {k: (b.count, b.observed) for k, b in bins.items()} == {0.1: (1, 0.0), 0.7: (2, 0.5)}
    assert bins[0.7].mean_forecast == pytest.approx(0.735)
    assert record.forecast.ece == pytest.approx((1 * 0.15 + 2 * abs(0.735 - 0.5)) / 3)
    assert record.markets_brier == pytest.approx((0.0625 + 0.0225 + 0.5184 + 0.01) / 4)
    assert [g.job_id for g in record.entries] == [4, 2, 3, 1]  # newest resolution first


def test_skill_against_a_baseline_has_a_reproducible_bootstrap_interval() -> None:
    swarm = [0.04, 0.09, 0.16, 0.01, 0.36]
    base = [0.25] * 5
    skill = scoring.brier_skill(swarm, base, seed=3)
    assert skill.value == pytest.approx(1 - 0.66 / 1.25)
    assert skill.value is not None and skill.interval is not None
    assert skill.interval[0] <= skill.value <= skill.interval[1]
    assert skill == scoring.brier_skill(swarm, base, seed=3)
    assert scoring.brier_skill([0.1], [0.0]).value is None  # a perfect baseline leaves no room
