"""The LLM writer: an OpenAI-compatible chat model phrases the report from the computed facts.

The model gets the facts (numbers, ids, quotes) and returns the prose of each section as one JSON
object. It is trusted with wording only:

- every citation must name a post or trade that exists (`citations.py`); every percentage or
  point figure must be one of the facts' figures;
- a section that breaks a rule is sent back once with the problems listed (the retry); if the
  answer is still wrong, invented citations are removed, and a section with any other problem
  (a made-up number, a missing or malformed text) falls back to the deterministic writer's text;
- if the endpoint fails (HTTP errors, timeouts, no JSON after a retry) the whole report falls
  back to the deterministic writer. Retries and the form of structured output are the shared
  client's (`services.common.openai_client`).

Tables, probabilities and evidence lists never pass through the model (see markdown.py). For a
what-if branch the model also writes the comparison paragraph (`what_if`), which must state the
forecasts before and after as the facts give them; the branch's key insight is always the
deterministic one, so the move it states comes from the facts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from services.common.openai_client import ChatClient, ChatError
from services.reporter import fmt
from services.reporter.citations import canonicalize, describe, invalid_citations, strip_invalid
from services.reporter.facts import ReportFacts
from services.reporter.key_insight import MAX_CHARS, clean_key_insight, states_forecast
from services.reporter.writers.base import DETERMINISTIC, LLM, ReportProse, WrittenReport
from services.reporter.writers.deterministic import write_prose

log = logging.getLogger("swarmcast.reporter.llm")

MAX_SECTION_CHARS = 2500
MAX_TITLE_CHARS = 120
# Sections are left unbounded in the schema: llama.cpp compiles a maxLength into nested rules, and
# its grammar parser fails (and llama_cpp.server dies) on one of 2,500. Lengths are checked after.
SECTION: dict[str, Any] = {"type": "string"}
TITLE: dict[str, Any] = {"type": "string", "maxLength": MAX_TITLE_CHARS}

SYSTEM_PROMPT = """You write the prose of a forecast report about a multi-agent social simulation.
You receive the computed facts as JSON. Rules:
1. Use only the facts. Every percentage or point figure you write must appear in the facts
   (probabilities are given as fractions: 0.5133 is 51.3%). Do not compute new figures.
2. Cite evidence only as [post #ID] or [trade #ID], and only with ids listed in the facts
   (evidence_posts, evidence_trades, findings, moves, quotes). Never invent an id.
3. Plain prose: no headings, no tables, no lists.
4. The headline is forecast.probability with its interval (forecast.interval, an 80% interval
   across replicate runs): write it as "63.0% (80% interval 55.0-70.0%)". The verdict label comes
   from it. Posts, trades and agents are from the first replicate run only.
5. verdict_sentence is exactly one sentence and states the forecast.
6. key_insight is one plain sentence of at most 200 characters that starts with the forecast and
   its interval: no markdown, no citations.
7. News (scheduled events) entered the agents' feeds at their round: each phase lists its own
   (phases[].events: day, headline, favours = the side it favours, "" for neutral); name them in
   that phase's paragraph.
Answer with one JSON object and nothing else."""

RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "executive_summary": SECTION,
        "verdict_sentence": SECTION,
        "findings": {
            "type": "array",
            "maxItems": 8,
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string", "maxLength": 40}, "title": TITLE, "text": SECTION},
                "required": ["id", "title", "text"],
            },
        },
        "coalitions": SECTION,
        "market_commentary": SECTION,
        "belief_dynamics": {
            "type": "object",
            "properties": {k: SECTION for k in ("Early", "Mid", "Late")},
        },
        "conclusion": SECTION,
        "key_insight": {"type": "string", "maxLength": MAX_CHARS},
    },
    "required": [
        "executive_summary", "verdict_sentence", "findings", "coalitions", "market_commentary",
        "belief_dynamics", "conclusion", "key_insight",
    ],
}  # fmt: skip


def response_schema(facts: ReportFacts) -> dict[str, Any]:
    """The reply's schema: a what-if branch adds `what_if` and leaves the key insight to the facts."""
    if facts.branch is None:
        return RESPONSE_SCHEMA
    properties = {k: v for k, v in RESPONSE_SCHEMA["properties"].items() if k != "key_insight"}
    properties["what_if"] = SECTION
    required = [k for k in RESPONSE_SCHEMA["required"] if k != "key_insight"] + ["what_if"]
    return {**RESPONSE_SCHEMA, "properties": properties, "required": required}


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_reply(text: str) -> tuple[dict[str, Any] | None, str]:
    """The JSON object in a reply (reasoning blocks and code fences ignored), or (None, why)."""
    cleaned = _FENCE.sub("", _THINK.sub("", text)).strip()
    candidates = [cleaned]
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if 0 <= start < end:
        candidates.append(cleaned[start : end + 1])
    error = "no JSON object found"
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError as exc:
            error = f"not JSON: {exc}"
            continue
        if isinstance(data, dict):
            return data, ""
        error = "the JSON is not an object"
    return None, error


# --- what the model sees ------------------------------------------------------------------------


def llm_facts(facts: ReportFacts) -> dict[str, Any]:
    """The facts, trimmed for a prompt: coalition members are summarised, loners counted only."""
    data = facts.to_dict()
    for coalition in data["coalitions"]:
        members = coalition.pop("members")
        coalition["member_names"] = [m["name"] for m in members[:10]]
    data.pop("unaligned")
    return data


def build_messages(facts: ReportFacts) -> list[dict[str, str]]:
    finding_ids = ", ".join(f.id for f in facts.findings)
    phases = ", ".join(p.name for p in facts.phases)
    instructions = (
        "Write these sections as a JSON object:\n"
        "- executive_summary: 3-5 sentences for a busy reader.\n"
        "- verdict_sentence: one sentence with the verdict label and the goal's forecast with its interval"
        + (" (say that the seed gave little evidence)" if facts.verdict.low_evidence else "")
        + ".\n"
        f"- findings: one entry per finding id ({finding_ids}) with a short title and 1-3 sentences of "
        "text citing that finding's post_ids / trade_ids.\n"
        "- coalitions: a paragraph on the coalitions and who anchors them.\n"
        "- market_commentary: a paragraph on prices, the largest moves and volume.\n"
        f"- belief_dynamics: one paragraph per phase ({phases}); phases are thirds of the "
        f"{facts.scale.forecast_days}-day horizon, so speak of days, not rounds.\n"
        "- conclusion: a paragraph on what the forecast means and what to watch.\n"
    )
    if facts.branch is None:
        instructions += (
            f"- key_insight: one plain sentence, at most {MAX_CHARS} characters, leading with the goal's "
            "forecast and its interval."
        )
    else:
        instructions += (
            f"- what_if: 2-4 sentences comparing this what-if branch with its parent job "
            f"{facts.branch.parent_job_id} (facts.branch): the news injected after round "
            f"{facts.branch.round}, the goal's forecast before (branch.before) and after (branch.after), "
            "both with their intervals, the move in points (branch.delta), and how the camps and "
            "markets moved. Use only branch.* figures."
        )
    payload = json.dumps(llm_facts(facts), separators=(",", ":"), ensure_ascii=False)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Facts:\n{payload}\n\n{instructions}"},
    ]


# --- checking what comes back --------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    kind: str  # citation, number or form
    # For the model's retry prompt (names the offending id or figure).
    message: str

    @property
    def summary(self) -> str:
        """For the report's notes: never repeats an invented id, which would read as a citation."""
        if self.kind == "citation":
            return "a citation of an id that does not exist"
        return "a figure that is not in the facts" if self.kind == "number" else self.message


_FIGURE = re.compile(
    r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s?(%|percent\b|percentage points?\b|pts\b|points?\b)", re.IGNORECASE
)


def allowed_figures(facts: ReportFacts) -> list[float]:
    """Every percentage / point figure the facts support: fractions ×100 and the natural differences."""
    values: set[float] = {0.0, 50.0, 100.0, 60.0, 40.0}

    def walk(obj: Any) -> None:
        if isinstance(obj, bool):
            return
        if isinstance(obj, float | int) and -1.0 <= obj <= 1.0:
            values.add(round(abs(float(obj)) * 100, 2))
        elif isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list | tuple):
            for v in obj:
                walk(v)

    walk(facts.to_dict())
    g, f = facts.goal, facts.forecast
    pairs = [(g.probability, g.market_probability), (g.probability, g.initial_probability), (g.p90, g.p10)]
    # The forecast: its interval's width and margins, and how it sits against price and belief.
    pairs += [(f.interval[1], f.interval[0]), (f.probability, f.interval[0]), (f.interval[1], f.probability)]
    pairs += [(f.probability, f.market), (f.probability, f.belief), (f.market, f.belief)]
    direct = facts.baselines.direct if facts.baselines is not None else None
    if direct is not None and direct.probability is not None:
        pairs.append((f.probability, direct.probability))  # the forecast against the baseline
    for m in facts.markets:
        pairs += [(m.belief_probability, m.final_price), (m.final_price, m.initial_price), (m.high, m.low)]
        pairs += [(m.interval[1], m.interval[0]), (m.forecast_market, m.forecast_belief)]
        pairs += [(m.probability, m.initial_price), (m.probability, m.final_price)]
    for p in facts.phases:
        pairs += [
            (p.goal_probability_end, p.goal_probability_start),
            (p.market_end, p.market_start),
            (p.spread_end, p.spread_start),
        ]
    for c in facts.coalitions:
        pairs.append((c.mean_probability, c.initial_mean_probability))
    b = facts.branch
    if b is not None:
        if b.before is not None:
            pairs += [
                (b.after.probability, b.before.probability),
                (b.before.interval[1], b.before.interval[0]),
            ]
        pairs += [(m.after, m.before) for m in b.markets if m.before is not None]
        pairs += [
            (c.after_mean, c.before_mean)
            for c in b.camps
            if c.after_mean is not None and c.before_mean is not None
        ]
    values.update(round(abs(x - y) * 100, 2) for x, y in pairs)
    # The news is a fact too: figures in a headline or text may be restated.
    for ev in facts.events:
        values.update(float(m.group(1)) for m in _FIGURE.finditer(f"{ev.headline} {ev.text}"))
    # The findings' own texts are facts too (a change of mind, a swing): their figures may be restated.
    for finding in facts.findings:
        values.update(float(m.group(1)) for m in _FIGURE.finditer(finding.text))
    return sorted(values)


def bad_figures(text: str, allowed: list[float]) -> list[str]:
    out = []
    for match in _FIGURE.finditer(text):
        raw = match.group(1)
        value = float(raw)
        tolerance = 0.11 if "." in raw else 0.51  # "51%" may round 51.3%; "51.4%" may not
        if not any(abs(value - a) <= tolerance for a in allowed):
            out.append(match.group(0))
    return out


def _plain(text: str) -> str:
    """Prose without headings, tables, list markers or code fences, on one line."""
    lines = []
    for line in str(text).splitlines():
        stripped = line.strip()
        if stripped.startswith(("|", "```")) or re.match(r"^#{1,6}\s", stripped):
            continue
        lines.append(re.sub(r"^([-*+]|\d+\.)\s+", "", stripped))
    return " ".join(" ".join(lines).split())


def extract_sections(data: Mapping[str, Any], facts: ReportFacts) -> dict[str, str]:
    """Section key -> text for every section the reply holds (keys as in `Section keys` below).

    Section keys: executive_summary, verdict_sentence, coalitions, market_commentary, conclusion,
    key_insight, finding.<id>, finding_title.<id>, phase.<name>.
    """
    out: dict[str, str] = {}
    for key in ("executive_summary", "verdict_sentence", "coalitions", "market_commentary", "conclusion"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            out[key] = _plain(value)
    insight = data.get("key_insight")
    # A branch's key insight states the move, from the facts (deterministic), never the model's.
    if isinstance(insight, str) and insight.strip() and facts.branch is None:
        out["key_insight"] = insight.strip()
    what_if = data.get("what_if")
    if isinstance(what_if, str) and what_if.strip() and facts.branch is not None:
        out["what_if"] = _plain(what_if)
    known = {f.id for f in facts.findings}
    findings = data.get("findings")
    if isinstance(findings, list):
        for item in findings:
            if not isinstance(item, dict) or item.get("id") not in known:
                continue
            if isinstance(item.get("text"), str) and item["text"].strip():
                out[f"finding.{item['id']}"] = _plain(item["text"])
            if isinstance(item.get("title"), str) and item["title"].strip():
                out[f"finding_title.{item['id']}"] = _plain(item["title"])
    phases = data.get("belief_dynamics")
    if isinstance(phases, dict):
        for phase in facts.phases:
            value = phases.get(phase.name)
            if isinstance(value, str) and value.strip():
                out[f"phase.{phase.name}"] = _plain(value)
    return out


def expected_sections(facts: ReportFacts) -> list[str]:
    keys = [
        "executive_summary",
        "verdict_sentence",
        "coalitions",
        "market_commentary",
        "conclusion",
    ]
    keys.append("key_insight" if facts.branch is None else "what_if")
    keys += [f"finding.{f.id}" for f in facts.findings] + [f"finding_title.{f.id}" for f in facts.findings]
    keys += [f"phase.{p.name}" for p in facts.phases]
    return keys


def check_section(key: str, text: str, facts: ReportFacts, allowed: list[float]) -> list[Problem]:
    problems = [
        Problem("citation", f"cites {describe(c)}, which is not in the run's artifacts")
        for c in invalid_citations(text, facts.post_ids, facts.trade_ids)
    ]
    problems += [
        Problem("number", f"states {fig}, a figure that is not in the facts")
        for fig in bad_figures(text, allowed)
    ]
    if len(text) > MAX_SECTION_CHARS:
        problems.append(Problem("form", f"is longer than {MAX_SECTION_CHARS} characters"))
    f = facts.forecast
    if key == "key_insight" and clean_key_insight(text) is None:
        problems.append(
            Problem(
                "form",
                f"must be one plain sentence of at most {MAX_CHARS} characters without markdown or ids",
            )
        )
    if key == "key_insight" and not states_forecast(text, f.probability, f.interval, leads=True):
        headline = fmt.estimate(f.probability, f.interval, f.level)
        problems.append(Problem("form", f"must lead with the forecast and its interval ({headline})"))
    if key == "verdict_sentence" and (len(text) > 400 or text[-1:] not in ".!?"):
        problems.append(Problem("form", "must be exactly one sentence"))
    if key == "verdict_sentence" and not states_forecast(text, f.probability):
        problems.append(Problem("form", f"must state the forecast ({fmt.pct(f.probability)})"))
    b = facts.branch
    if key == "what_if" and b is not None:
        if not states_forecast(text, b.after.probability):
            problems.append(
                Problem("form", f"must state the forecast after ({fmt.pct(b.after.probability)})")
            )
        if b.before is not None and not states_forecast(text, b.before.probability):
            problems.append(
                Problem("form", f"must state the forecast before ({fmt.pct(b.before.probability)})")
            )
    if key.startswith("finding_title.") and (len(text) > MAX_TITLE_CHARS or "#" in text):
        problems.append(
            Problem("form", f"must be a short title (at most {MAX_TITLE_CHARS} characters, no ids)")
        )
    return problems


def _feedback(problems: dict[str, list[Problem]]) -> str:
    lines = ["Some sections break the rules:"]
    for key, items in problems.items():
        for p in items:
            lines.append(f"- {key}: {p.message}")
    lines.append(
        "Answer again with the complete JSON object, correcting these sections and keeping the others. "
        "Cite only ids from the facts; use only figures from the facts."
    )
    return "\n".join(lines)


# --- the writer ----------------------------------------------------------------------------------


class LLMWriter:
    """Phrases the report with a chat model; falls back to the deterministic writer (see module doc)."""

    name = LLM

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self._schema: dict[str, Any] = RESPONSE_SCHEMA

    async def write(self, facts: ReportFacts) -> WrittenReport:
        self._schema = response_schema(facts)
        fallback = write_prose(facts)
        messages = build_messages(facts)
        try:
            reply = await self._ask(messages)
            data, error = parse_reply(reply)
            if data is None:
                # One more try, saying what was wrong; a second non-answer means the model can't do it.
                messages = [
                    *messages,
                    {"role": "assistant", "content": reply[:4000]},
                    {
                        "role": "user",
                        "content": f"That was not a JSON object ({error}). Answer with the JSON only.",
                    },
                ]
                reply = await self._ask(messages)
                data, error = parse_reply(reply)
                if data is None:
                    raise ChatError(f"no JSON object in the reply ({error})")
        except ChatError as exc:
            log.warning("report LLM failed for job %s: %s; writing deterministically", facts.job_id, exc)
            return WrittenReport(
                prose=fallback,
                writer=DETERMINISTIC,
                notes=[f"The LLM writer failed ({exc}); the deterministic writer wrote this report."],
            )

        allowed = allowed_figures(facts)
        sections = extract_sections(data, facts)
        problems = self._problems(sections, facts, allowed)
        notes: list[str] = []
        if problems:
            retry_messages = [
                *messages,
                {"role": "assistant", "content": reply},
                {"role": "user", "content": _feedback(problems)},
            ]
            try:
                repaired_data, _ = parse_reply(await self._ask(retry_messages))
            except ChatError as exc:
                repaired_data = None
                notes.append(f"Retrying the sections that broke the rules failed ({exc}).")
            repaired = extract_sections(repaired_data or {}, facts)
            for key in list(problems):
                if key not in repaired:
                    continue
                sections[key] = repaired[key]
                again = check_section(key, repaired[key], facts, allowed)
                if again:
                    problems[key] = again
                else:
                    del problems[key]
            log.info(
                "report LLM retry for job %s: %d section(s) still break the rules",
                facts.job_id,
                len(problems),
            )

        for key, items in problems.items():
            text = sections.get(key)
            if text is not None and all(p.kind == "citation" for p in items):
                stripped = strip_invalid(text, facts.post_ids, facts.trade_ids)
                if stripped and not check_section(key, stripped, facts, allowed):
                    sections[key] = stripped
                    notes.append(f"Removed {len(items)} citation(s) of ids that do not exist from {key}.")
                    continue
            sections.pop(key, None)
            reason = "; ".join(dict.fromkeys(p.summary for p in items))
            notes.append(f"{key}: the deterministic text was kept ({reason}).")

        if not sections:
            return WrittenReport(
                prose=fallback, writer=DETERMINISTIC, notes=[*notes, "The LLM wrote no usable section."]
            )
        # "posts #3 and #5" -> "post #3 and post #5": every id readable (and parseable) with its kind.
        sections = {key: canonicalize(text) for key, text in sections.items()}
        return WrittenReport(prose=_merge(fallback, sections), writer=LLM, notes=notes)

    async def _ask(self, messages: list[dict[str, str]]) -> str:
        """The model's reply, asked for in the report's schema; ChatError when there is none."""
        answer = await self.client.complete(messages, self._schema, schema_name="report")
        if not answer.text.strip():
            raise ChatError("empty completion")
        return answer.text

    @staticmethod
    def _problems(
        sections: dict[str, str], facts: ReportFacts, allowed: list[float]
    ) -> dict[str, list[Problem]]:
        problems: dict[str, list[Problem]] = {}
        for key in expected_sections(facts):
            text = sections.get(key)
            if text is None:
                problems[key] = [Problem("form", "is missing")]
                continue
            found = check_section(key, text, facts, allowed)
            if found:
                problems[key] = found
        return problems


def _merge(fallback: ReportProse, sections: Mapping[str, str]) -> ReportProse:
    prose = ReportProse(**asdict(fallback))
    for key, text in sections.items():
        kind, _, ident = key.partition(".")
        if kind == "finding":
            prose.finding_texts[ident] = text
        elif kind == "finding_title":
            prose.finding_titles[ident] = text
        elif kind == "phase":
            prose.belief_dynamics[ident] = text
        else:
            setattr(prose, kind, text)
    return prose
