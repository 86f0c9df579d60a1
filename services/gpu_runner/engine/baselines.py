"""Baselines recorded beside the swarm's forecast (docs/forecasting.md, "Baselines").

An evaluation compares the forecast with what the same backend says without the simulation:

- the goal market's **opening price** (``m1``'s ``initial_price_yes``);
- a **single forecast without simulation** (``direct``): on an LLM backend one schema-checked call
  to the same model with the goal and as much of the seed as fits the prompt budget; on the
  heuristic backend the seed-evidence prior the agents start from (``evidence.prior``).

The direct forecast is made once in stage 1 and kept in the run's ``meta`` (so in the checkpoint):
a resumed run never asks again, and its artifacts stay byte-identical.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

from services.common.artifacts import Baselines, DirectForecast

from ..llm.base import LLMBackend
from .evidence import Evidence
from .llm_calls import CallStats, call_validated
from .prompts import DIRECT_MAX_REASON, direct_forecast_messages, one_line
from .types import MarketSpec, SimulationConfig

DIRECT_SCHEMA_NAME = "direct_forecast"
DIRECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        # the reason first: under constrained decoding the model says why before the number
        "reason": {"type": "string", "minLength": 1, "maxLength": DIRECT_MAX_REASON},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["reason", "probability"],
    "additionalProperties": False,
}
DIRECT_TEMPERATURE = 0.2  # as the other pipeline calls (entities, markets)
DIRECT_MAX_TOKENS = 300  # a one-line reason of at most 300 characters and a number
SOURCE_LLM = "llm"
SOURCE_HEURISTIC = "heuristic_prior"
HEURISTIC_REASON_ITEMS = 1  # evidence items quoted in the heuristic baseline's reason


def direct_seed(seed: int) -> int:
    """The sampling seed of the direct call: the agent turns' formula at round 0, which no turn uses,
    so it is fixed per job and never shared with an agent's turn (its retry takes the next one)."""
    return (seed * 1_000_003) % 2**31


def parse_direct(data: Any) -> tuple[float, str]:
    """Validate a direct-forecast reply (raises ValueError with a reason): the probability as stated,
    the reason on one line, cut to DIRECT_MAX_REASON characters."""
    if not isinstance(data, dict):
        raise ValueError("reply: must be a JSON object with reason and probability")
    p = data.get("probability")
    if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p):
        raise ValueError("probability: must be a number")
    if not 0.0 <= p <= 1.0:
        raise ValueError("probability: must be within [0, 1]")
    reason = data.get("reason")
    if not isinstance(reason, str):
        raise ValueError("reason: must be a string")
    reason = one_line(reason, DIRECT_MAX_REASON)
    if not reason:
        raise ValueError("reason: must not be empty")
    return float(p), reason


async def direct_forecast_llm(
    backend: LLMBackend,
    seed_text: str,
    goal: str,
    goal_market: MarketSpec,
    config: SimulationConfig,
    stats: CallStats,
) -> DirectForecast:
    """One call to the run's backend (its retry included); never raises for a bad or failed reply:
    the record then has ``probability`` None and says why in ``error``."""
    messages = direct_forecast_messages(
        seed_text, goal, goal_market.question, goal_market.resolution, config.prompt_tokens
    )
    out = await call_validated(
        backend,
        messages,
        DIRECT_SCHEMA,
        DIRECT_SCHEMA_NAME,
        parse_direct,
        stats,
        max_tokens=DIRECT_MAX_TOKENS,
        temperature=DIRECT_TEMPERATURE,
        seed=direct_seed(config.seed),
    )
    if out.value is None:
        why = f"error: {out.error}" if out.error is not None else f"invalid: {out.reason}"
        return {"probability": None, "source": SOURCE_LLM, "error": why}
    probability, reason = out.value
    return {"probability": round(probability, 4), "source": SOURCE_LLM, "reason": reason}


def direct_forecast_heuristic(evidence: Evidence) -> DirectForecast:
    """The heuristic backend's forecast before round 1: the seed-evidence prior (docs/forecasting.md §1)."""
    items = sorted(evidence.items, key=lambda i: -abs(i.weight))[:HEURISTIC_REASON_ITEMS]
    if items:
        n = len(evidence.items)
        reason = (
            f"The seed-evidence prior, from {n} fact{'s' if n != 1 else ''} read from the seed; the "
            "strongest: " + "; ".join(f"{i.kind} “{i.text}”" for i in items)
        )
    else:
        reason = "The seed-evidence prior: no evidence for either side was read from the seed."
    return {
        "probability": round(evidence.prior, 4),
        "source": SOURCE_HEURISTIC,
        "reason": one_line(reason, DIRECT_MAX_REASON),
    }


def describe(direct: Mapping[str, Any]) -> str:
    """The progress log line of a direct forecast."""
    p = direct.get("probability")
    if p is None:
        why = direct.get("error", "")
        return f"a single forecast without simulation failed ({why}); recorded without a probability"
    how = " (the seed-evidence prior)" if direct.get("source") == SOURCE_HEURISTIC else ""
    return f"a single forecast without simulation puts the goal at {p:.0%}{how}"


def baselines(specs: list[MarketSpec], meta: Mapping[str, Any]) -> Baselines:
    """``market_curves.json → baselines`` and ``summary["baselines"]``: the goal market's opening
    price and the direct forecast (None for a run checkpointed before it was recorded)."""
    direct = meta.get("direct_forecast")
    return {
        "opening_price": specs[0].initial_price_yes,
        # the meta holds what a direct_forecast_* function returned (or its checkpointed JSON)
        "direct": cast(DirectForecast, dict(direct)) if isinstance(direct, Mapping) else None,
    }
