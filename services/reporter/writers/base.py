"""What a writer produces: the prose of each report section (the numbers come from the facts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from services.reporter.facts import ReportFacts

DETERMINISTIC = "deterministic"
LLM = "llm"


@dataclass
class ReportProse:
    """The written parts of the report; tables, figures and evidence lists are rendered from facts."""

    executive_summary: str
    verdict_sentence: str
    # Finding id (F1…) -> title and text.
    finding_titles: dict[str, str]
    finding_texts: dict[str, str]
    coalitions: str
    market_commentary: str
    # Phase name (Early, Mid, Late) -> paragraph.
    belief_dynamics: dict[str, str]
    conclusion: str
    key_insight: str
    # A what-if branch's comparison with its parent ("" for a run that is not a branch).
    what_if: str = ""


@dataclass
class WrittenReport:
    prose: ReportProse
    # "llm" or "deterministic": who wrote the prose.
    writer: str
    # What happened on the way (sections that fell back, citations removed, the LLM's failure).
    notes: list[str] = field(default_factory=list)


class Writer(Protocol):
    async def write(self, facts: ReportFacts) -> WrittenReport: ...
