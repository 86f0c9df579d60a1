"""Web enrichment of the seed (docs/runner.md, stage 1), through a configurable search provider.

The provider is an HTTP search API answering like SearxNG's JSON API
(`GET <SWARMCAST_SEARCH_URL>/search?q=...&format=json` -> `{"results": [{"url", "title",
"content"}]}`). The goal is the query. An LLM backend summarises the hits into a short context
with `[n]` references; without one (the heuristic backend, or a failed call) the summary is the
hits' own snippets, in order. The result is the seed plus that context (`enriched_seed`) and the
numbered sources (`enrichment_citations`, JSON).

Enrichment never fails a job: no provider, no results or an unreachable provider leave the seed
as it is and record why (`Enrichment.status` / `reason`, shown in `live_status`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.gpu_runner.llm import LLMError
from services.gpu_runner.settings import SearchSettings

log = logging.getLogger("swarmcast.gpu_runner.enrichment")

CONTEXT_MAX_CHARS = 6000
SNIPPET_MAX_CHARS = 600

SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "maxLength": 4000},
        "facts": {"type": "array", "items": {"type": "string"}, "maxItems": 12},
    },
    "required": ["summary"],
}


@dataclass(frozen=True, slots=True)
class SearchHit:
    title: str
    url: str
    snippet: str


@dataclass(frozen=True, slots=True)
class Enrichment:
    # "done", "skipped" (nothing to add, or no provider) or "failed" (provider error)
    status: str
    reason: str = ""
    enriched_seed: str | None = None
    hits: tuple[SearchHit, ...] = ()
    summarised_by: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def citations(self) -> list[dict[str, Any]]:
        return [{"n": i, "title": h.title, "url": h.url} for i, h in enumerate(self.hits, 1)]

    def citations_json(self) -> str:
        return json.dumps(self.citations(), ensure_ascii=False) if self.hits else ""

    def live(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "sources": len(self.hits)}
        if self.reason:
            out["reason"] = self.reason
        if self.summarised_by:
            out["summarised_by"] = self.summarised_by
        return out


def search_endpoint(url: str) -> str:
    base = url.rstrip("/")
    return base if base.endswith("/search") else f"{base}/search"


async def search(settings: SearchSettings, query: str) -> list[SearchHit]:
    """The provider's top hits for ``query``; raises httpx/ValueError on provider trouble."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout_seconds)) as http:
        response = await http.get(search_endpoint(settings.url), params={"q": query, "format": "json"})
        response.raise_for_status()
        payload = response.json()
    hits: list[SearchHit] = []
    for item in payload.get("results") or []:
        if not isinstance(item, dict) or not item.get("url"):
            continue
        hits.append(
            SearchHit(
                title=str(item.get("title") or item["url"])[:300],
                url=str(item["url"])[:2000],
                snippet=" ".join(str(item.get("content") or "").split())[:SNIPPET_MAX_CHARS],
            )
        )
        if len(hits) >= settings.max_results:
            break
    return hits


def extractive_summary(hits: list[SearchHit]) -> str:
    return "\n".join(f"[{i}] {h.title}: {h.snippet}" for i, h in enumerate(hits, 1))


async def llm_summary(backend: Any | None, goal: str, hits: list[SearchHit]) -> str | None:
    """A summary from the LLM backend, or None when it has none to give (heuristic, error, bad JSON)."""
    if backend is None or getattr(backend, "heuristic", False):
        return None
    sources = "\n".join(f"[{i}] {h.title} ({h.url}): {h.snippet}" for i, h in enumerate(hits, 1))
    messages = [
        {
            "role": "system",
            "content": "You summarise web search results as background for a forecasting question. "
            "Answer only with JSON matching the schema.",
        },
        {
            "role": "user",
            "content": f"Question: {goal}\n\nSearch results:\n{sources}\n\nWrite a neutral summary of "
            "the facts relevant to the question (at most 300 words), citing sources as [n].",
        },
    ]
    try:
        result = await backend.complete_json(
            messages, SUMMARY_SCHEMA, schema_name="web_summary", max_tokens=800, temperature=0.2
        )
    except LLMError as exc:
        log.warning("LLM summary of the search results failed: %s", exc)
        return None
    data = result.data if result.ok else None
    if not isinstance(data, dict) or not isinstance(data.get("summary"), str) or not data["summary"].strip():
        return None
    facts = [f for f in data.get("facts") or [] if isinstance(f, str) and f.strip()]
    return data["summary"].strip() + ("\n" + "\n".join(f"- {f.strip()}" for f in facts) if facts else "")


async def enrich(seed_text: str, goal: str, settings: SearchSettings, backend: Any | None) -> Enrichment:
    """Search the goal, summarise the hits and append them to the seed (see the module docstring)."""
    if not settings.url:
        return Enrichment("skipped", "no search provider configured (SWARMCAST_SEARCH_URL is empty)")
    try:
        hits = await search(settings, goal)
    except (httpx.HTTPError, ValueError) as exc:
        return Enrichment("failed", f"search provider error: {type(exc).__name__}: {exc}"[:300])
    if not hits:
        return Enrichment("skipped", "the search provider found nothing for the goal")
    summary = await llm_summary(backend, goal, hits)
    by = "llm" if summary is not None else "snippets"
    context = (summary if summary is not None else extractive_summary(hits))[:CONTEXT_MAX_CHARS]
    enriched = f"{seed_text.rstrip()}\n\n## Web context ({len(hits)} sources)\n{context}\n"
    return Enrichment("done", enriched_seed=enriched, hits=tuple(hits), summarised_by=by)
