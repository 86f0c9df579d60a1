"""Per-tier forecast settings (jobs.tier_settings): how many replicates a job runs and how deep its
markets are. Pure: validation and defaults; the repository reads and writes the rows.

`replicates` applies when an LLM backend runs the job, `heuristic_replicates` when the heuristic
backend does (cheap, so more replicates narrow the interval); `market_subsidy` is the LMSR market
maker's worst-case loss per market (docs/forecasting.md §3-4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.jobs.domain.validation import ValidationError

MIN_REPLICATES = 1
MAX_REPLICATES = 32
MAX_MARKET_SUBSIDY = 10_000.0
SETTING_NAMES = ("replicates", "heuristic_replicates", "market_subsidy")


@dataclass(frozen=True, slots=True)
class TierSettings:
    replicates: int = 1
    heuristic_replicates: int = 5
    market_subsidy: float = 15.0


# What a tier without a row runs with.
DEFAULT_TIER_SETTINGS = TierSettings()
# The seeded tiers' rows (migrations 0004 and 0005 hold their own frozen copies): LLM replicates
# are costly, so only the small tier runs two.
SEEDED_TIER_SETTINGS: Mapping[str, TierSettings] = {
    "small": TierSettings(replicates=2),
    "medium": TierSettings(replicates=1),
    "large": TierSettings(replicates=1),
    "local": TierSettings(replicates=1),
}


def _replicates(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"{field} must be a whole number between 1 and {MAX_REPLICATES}")
    if not MIN_REPLICATES <= value <= MAX_REPLICATES:
        raise ValidationError(
            field, f"{field} must be between {MIN_REPLICATES} and {MAX_REPLICATES} (got {value})"
        )
    return value


def _subsidy(value: Any) -> float:
    try:
        subsidy = float(value)
    except (TypeError, ValueError):
        subsidy = math.nan
    if not (math.isfinite(subsidy) and 0.0 < subsidy <= MAX_MARKET_SUBSIDY):
        raise ValidationError(
            "market_subsidy",
            f"market_subsidy must be above 0 and at most {MAX_MARKET_SUBSIDY:,.0f} (got {value})",
        )
    return subsidy


def settings_of(row: Any | None) -> TierSettings:
    """A tier_settings row (or None: no row) as the settings in effect."""
    if row is None:
        return DEFAULT_TIER_SETTINGS
    return TierSettings(
        replicates=row.replicates,
        heuristic_replicates=row.heuristic_replicates,
        market_subsidy=row.market_subsidy,
    )


def check_settings_update(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings an operator set (None = keep the current value), checked; only those set."""
    out: dict[str, Any] = {}
    for name in ("replicates", "heuristic_replicates"):
        if values.get(name) is not None:
            out[name] = _replicates(name, values[name])
    if values.get("market_subsidy") is not None:
        out["market_subsidy"] = _subsidy(values["market_subsidy"])
    return out
