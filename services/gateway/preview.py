"""How a shared forecast looks outside the app: the link preview's text and its 1200×630 PNG card.

Both come from the shared job's `result_structured` (docs/report.md): the headline is
`forecast.goal` (probability, interval, level), the verdict's label, the key insight, and one bar
per market from `forecast.markets` (questions from `markets`). A job without structured results
(or with a malformed document) still gets a card with its goal.
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from swarmcast.jobs.v1 import jobs_pb2

log = logging.getLogger("swarmcast.gateway")

WIDTH, HEIGHT = 1200, 630
SITE_NAME = "swarmcast"
GENERIC_DESCRIPTION = (
    "Multi-agent social simulation forecasts: a swarm of simulated people debates and trades on a question."
)

# Dark card, light text: every text colour below is ≥ 7:1 against the background.
BACKGROUND = (15, 23, 42)
PANEL = (30, 41, 59)
TEXT = (248, 250, 252)
MUTED = (203, 213, 225)
ACCENT = (56, 189, 248)
TRACK = (51, 65, 85)
MARGIN = 64
MAX_BARS = 4

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True, slots=True)
class MarketBar:
    question: str
    probability: float


@dataclass(frozen=True, slots=True)
class ShareSummary:
    """What a preview shows of a shared job (hashable: rendered cards are cached by it)."""

    goal: str
    probability: float | None = None
    interval: tuple[float, float] | None = None
    level: float | None = None
    label: str = ""
    key_insight: str = ""
    markets: tuple[MarketBar, ...] = ()

    @property
    def headline(self) -> str:
        """'63%' and, when known, '80% interval 55–70%'; empty without a forecast."""
        if self.probability is None:
            return ""
        text = pct(self.probability)
        if self.interval is not None:
            level = f"{round((self.level or 0.8) * 100)}% interval"
            text += f" ({level} {interval_text(self.interval)})"
        return text

    def description(self, limit: int = 300) -> str:
        """'Forecast: 63% (80% interval 55–70%) · likely · <key insight>', cut to `limit`."""
        parts = [f"Forecast: {self.headline}"] if self.headline else []
        if self.label:
            parts.append(self.label)
        insight = self._insight_after_headline() if self.headline else self.key_insight
        if insight:
            parts.append(insight)
        return shorten(" · ".join(parts) or GENERIC_DESCRIPTION, limit)

    def _insight_after_headline(self) -> str:
        """The key insight without the headline and label it usually opens with (already said)."""
        text = self.key_insight
        opening = _OPENING_HEADLINE.match(text)
        if opening is None:
            return text
        rest = text[opening.end() :]
        label = (
            re.match(re.escape(self.label) + r"(?:[,;.]\s*|$)", rest, re.IGNORECASE) if self.label else None
        )
        if label is not None:
            rest = rest[label.end() :]
        return rest[:1].upper() + rest[1:]


# "69.5% (80% interval 67.9–71.2%): " at the start of a key insight (services/reporter/key_insight.py).
_OPENING_HEADLINE = re.compile(r"\d+(?:\.\d+)?%\s*(?:\([^)]*\))?\s*[:,]?\s*")


def pct(p: float) -> str:
    return f"{round(p * 100)}%"


def interval_text(bounds: tuple[float, float], dash: str = "–") -> str:
    return f"{round(bounds[0] * 100)}{dash}{round(bounds[1] * 100)}%"


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ·,;:") + "…"


def _probability(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    p = float(value)
    return p if 0.0 <= p <= 1.0 else None


def _interval(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    low, high = _probability(value[0]), _probability(value[1])
    return None if low is None or high is None else (low, high)


def _market_order(market_id: str) -> tuple[int, str]:
    # m1, m2, …, m10: by number, not by string.
    digits = re.sub(r"\D", "", market_id)
    return (int(digits) if digits else 1 << 30, market_id)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def summarize(job: jobs_pb2.SharedJob) -> ShareSummary:
    """The preview's content from a shared job; fields that are missing or malformed are left out."""
    try:
        structured = _dict(json.loads(job.result_structured)) if job.result_structured else {}
    except ValueError:
        structured = {}
    goal_text = job.goal or str(structured.get("goal") or "") or "A shared forecast"
    forecast = _dict(structured.get("forecast"))
    headline = _dict(forecast.get("goal"))
    verdict = _dict(structured.get("verdict"))
    questions = {
        str(m.get("id")): str(m.get("question") or "")
        for m in structured.get("markets") or ()
        if isinstance(m, dict) and m.get("id") is not None
    }
    bars = []
    for market_id, market in sorted(
        _dict(forecast.get("markets")).items(), key=lambda kv: _market_order(kv[0])
    ):
        p = _probability(_dict(market).get("probability"))
        if p is not None:
            bars.append(MarketBar(questions.get(market_id) or f"Market {market_id}", p))
    level = _probability(headline.get("level"))
    key_insight = structured.get("key_insight") or job.key_insight or ""
    return ShareSummary(
        goal=" ".join(goal_text.split()),
        probability=_probability(headline.get("probability")),
        interval=_interval(headline.get("interval")),
        level=level if level else None,
        label=str(verdict.get("label") or ""),
        key_insight=" ".join(str(key_insight).split()),
        markets=tuple(bars),
    )


# --- the PNG card ---------------------------------------------------------------------------------

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def _font_file(bold: bool) -> str | None:
    """DejaVu Sans (Debian's fonts-dejavu-core), found through fontconfig or at its usual path."""
    pattern = "DejaVu Sans:bold" if bold else "DejaVu Sans"
    try:
        found = subprocess.run(
            ["fc-match", "--format=%{file}", pattern], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if found.lower().endswith((".ttf", ".otf")) and Path(found).is_file():
        return found
    usual = _DEJAVU / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return str(usual) if usual.is_file() else None


@lru_cache(maxsize=1)
def _dash() -> str:
    # Pillow's own font has no en dash.
    return "–" if _font_file(False) is not None else "-"


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> Font:
    path = _font_file(bold)
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError as exc:
            log.warning("font %s could not be loaded (%s); using Pillow's own", path, exc)
    # Pillow's bundled font (scalable when Pillow has FreeType, as its wheels do).
    return ImageFont.load_default(size=size)


def _width(text: str, face: Font) -> float:
    return face.getlength(text)


def _fit(text: str, face: Font, width: float) -> str:
    """`text` on one line, cut with an ellipsis where it does not fit."""
    if _width(text, face) <= width:
        return text
    while text and _width(text + "…", face) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap(text: str, face: Font, width: float, max_lines: int) -> list[str]:
    """Word-wrapped lines (a word wider than a line is broken), at most `max_lines`; the last one
    ends in an ellipsis when the text goes on."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if _width(candidate, face) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while _width(current, face) > width:  # a very long word: break it
            cut = len(current) - 1
            while cut > 1 and _width(current[:cut], face) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1]
    while last and _width(last + " …", face) > width:
        last = last[:-1]
    return [*lines[: max_lines - 1], last.rstrip() + "…"]


def _brand(draw: ImageDraw.ImageDraw) -> None:
    face = font(34, bold=True)
    draw.text((MARGIN, 44), "swarm", font=face, fill=TEXT)
    draw.text((MARGIN + _width("swarm", face), 44), "cast", font=face, fill=ACCENT)
    tag = font(24)
    label = "simulated forecast"
    draw.text((WIDTH - MARGIN - _width(label, tag), 52), label, font=tag, fill=MUTED)


def _headline(draw: ImageDraw.ImageDraw, summary: ShareSummary, top: int) -> None:
    if summary.probability is None:
        draw.text((MARGIN, top + 40), "No forecast to show", font=font(44, bold=True), fill=MUTED)
        return
    big = font(150, bold=True)
    draw.text((MARGIN, top - 10), pct(summary.probability), font=big, fill=ACCENT)
    y = top + 160
    if summary.interval is not None:
        level = f"{round((summary.level or 0.8) * 100)}% interval"
        draw.text(
            (MARGIN, y), f"{level} {interval_text(summary.interval, _dash())}", font=font(28), fill=MUTED
        )
        y += 46
    if summary.label:
        face = font(30, bold=True)
        text = _fit(summary.label, face, 420)
        pad_x, pad_y = 18, 8
        box = (MARGIN, y, MARGIN + _width(text, face) + 2 * pad_x, y + 30 + 2 * pad_y + 6)
        draw.rounded_rectangle(box, radius=22, fill=PANEL, outline=ACCENT, width=2)
        draw.text((MARGIN + pad_x, y + pad_y), text, font=face, fill=TEXT)


def _bars(draw: ImageDraw.ImageDraw, markets: tuple[MarketBar, ...], left: int, top: int) -> None:
    right = WIDTH - MARGIN
    # With more markets than fit, the last row says how many are not drawn.
    shown = markets if len(markets) <= MAX_BARS else markets[: MAX_BARS - 1]
    question_face, value_face = font(24), font(26, bold=True)
    y = top
    for market in shown:
        value = pct(market.probability)
        value_width = 80
        draw.text(
            (left, y), _fit(market.question, question_face, right - left), font=question_face, fill=TEXT
        )
        bar_top, bar_right = y + 36, right - value_width - 12
        draw.rounded_rectangle((left, bar_top, bar_right, bar_top + 18), radius=9, fill=TRACK)
        filled = left + round((bar_right - left) * market.probability)
        if filled > left + 2:
            draw.rounded_rectangle((left, bar_top, filled, bar_top + 18), radius=9, fill=ACCENT)
        draw.text((right - _width(value, value_face), bar_top - 6), value, font=value_face, fill=TEXT)
        y += 74
    if len(shown) < len(markets):
        more = len(markets) - len(shown)
        draw.text((left, y), f"and {more} more question{'s' if more > 1 else ''}", font=font(22), fill=MUTED)


@lru_cache(maxsize=64)
def render_card(summary: ShareSummary) -> bytes:
    """The 1200×630 PNG link-preview card of a shared forecast."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 8), fill=ACCENT)
    _brand(draw)
    goal_face = font(42, bold=True)
    lines = wrap(summary.goal, goal_face, WIDTH - 2 * MARGIN, 3)
    y = 118
    for line in lines:
        draw.text((MARGIN, y), line, font=goal_face, fill=TEXT)
        y += 54
    top = max(y + 26, 300)
    _headline(draw, summary, top)
    if summary.markets:
        _bars(draw, summary.markets, 520, top + 8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
