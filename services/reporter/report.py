"""Putting a report together: facts + a writer's prose -> report.md, result_structured, key insight.

Pure apart from the writer call: `assemble` takes everything as arguments and returns strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.reporter.facts import ReportFacts
from services.reporter.key_insight import clean_key_insight, deterministic_key_insight
from services.reporter.markdown import render
from services.reporter.structured import build_structured, dumps
from services.reporter.writers.base import WrittenReport


@dataclass(frozen=True)
class BuiltReport:
    markdown: str
    structured: dict[str, Any]
    structured_json: str
    key_insight: str
    writer: str


def assemble(facts: ReportFacts, written: WrittenReport, *, report_key: str, revision: int) -> BuiltReport:
    key_insight = clean_key_insight(written.prose.key_insight) or deterministic_key_insight(facts)
    written.prose.key_insight = key_insight
    structured = build_structured(
        facts, written, key_insight=key_insight, report_key=report_key, revision=revision
    )
    return BuiltReport(
        markdown=render(facts, written),
        structured=structured,
        structured_json=dumps(structured),
        key_insight=key_insight,
        writer=written.writer,
    )
