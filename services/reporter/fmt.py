"""Number formatting shared by the facts, the writers and the markdown (one style everywhere).

Probabilities are shown as percentages with one decimal ("51.3%"), a forecast with its interval
as "63.0% (80% interval 55.0–70.0%)", changes in percentage points ("+7.2 pts"), horizon
positions as days ("day 2.5"). Citations are written `post #12` and
`trade #34` (see services/reporter/citations.py).
"""

from __future__ import annotations

import re

# "#12" inside quoted agent text would read as a citation: it becomes "no. 12".
_HASH_NUMBER = re.compile(r"#(?=\d)")


def pct(p: float) -> str:
    """0.5133 -> '51.3%'."""
    return f"{p * 100:.1f}%"


def interval(bounds: list[float] | tuple[float, float]) -> str:
    """An interval of probabilities: [0.55, 0.7] -> '55.0–70.0%'."""
    low, high = bounds
    return f"{low * 100:.1f}–{high * 100:.1f}%"


def estimate(p: float, bounds: list[float] | tuple[float, float], level: float = 0.8) -> str:
    """A forecast with its interval: '63.0% (80% interval 55.0–70.0%)'."""
    return f"{pct(p)} ({level_name(level)} {interval(bounds)})"


def level_name(level: float) -> str:
    """0.8 -> '80% interval'."""
    return f"{level * 100:.0f}% interval"


def pts(delta: float, *, signed: bool = True) -> str:
    """A probability difference in percentage points: 0.072 -> '+7.2 pts'."""
    value = delta * 100
    text = f"{value:+.1f}" if signed else f"{abs(value):.1f}"
    if text in ("+0.0", "-0.0"):
        text = "0.0"
    return f"{text} pts"


def num(x: float) -> str:
    """A count or amount without noise: 3.0 -> '3', 2.5 -> '2.5', 707.46 -> '707.5'."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.1f}"


def day(d: float) -> str:
    """A day of the horizon: 2.5 -> 'day 2.5', 10.0 -> 'day 10'."""
    return f"day {num(round(d, 1))}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 agent', '2 agents'."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def end(text: str) -> str:
    """Close a sentence with a full stop unless it already ends in one ("… Aldo A." stays)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def post_ref(post_id: int) -> str:
    return f"post #{post_id}"


def trade_ref(trade_id: int) -> str:
    return f"trade #{trade_id}"


def cite(post_ids: list[int] | tuple[int, ...] = (), trade_ids: list[int] | tuple[int, ...] = ()) -> str:
    """'[post #3] [trade #7]' (empty when there is nothing to cite)."""
    refs = [f"[{post_ref(i)}]" for i in post_ids] + [f"[{trade_ref(i)}]" for i in trade_ids]
    return " ".join(refs)


def plain(text: str) -> str:
    """Engine-written text (a method, a resolution criterion) on one line, never read as a citation."""
    return _HASH_NUMBER.sub("no. ", " ".join(str(text).split()).replace("`", "'"))


def quote(text: str, limit: int = 160) -> str:
    """A post's text as a one-line quotation, cut at a word boundary."""
    flat = " ".join(str(text).split())
    flat = _HASH_NUMBER.sub("no. ", flat.replace("`", "'"))
    if len(flat) > limit:
        flat = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f"“{flat}”"
