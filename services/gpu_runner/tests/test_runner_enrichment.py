"""Web enrichment (stage 1): through a search API, summarised by the LLM, or skipped with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from swarmcast.events.v1 import events_pb2

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.gpu_runner.enrichment import enrich
from services.gpu_runner.llm import make_backend
from services.gpu_runner.settings import SearchSettings
from services.gpu_runner.tests.conftest import RunnerFactory
from services.gpu_runner.tests.runner_helpers import (
    GOAL,
    SEED_TEXT,
    EventRecorder,
    free_port,
    live,
    make_dispatch,
    publish_dispatch,
)
from tests.fakes.openai_server import FakeOpenAIServer, default_responder
from tests.fakes.search_server import FakeSearchServer

pytestmark = pytest.mark.asyncio(loop_scope="session")


def summarising_responder(body: dict[str, Any], n: int) -> dict[str, Any]:
    fmt = (body.get("response_format") or {}).get("json_schema") or {}
    if fmt.get("name") == "web_summary":
        return {
            "summary": "Polls show the levy ahead [1]; the council is split [2].",
            "facts": ["Vote on 14 March"],
        }
    return default_responder(body, n)


async def test_an_enriched_job_carries_the_web_context_and_its_sources(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    async with FakeSearchServer() as search:
        await runner_factory("r1", search_url=search.base_url)
        dispatch = await make_dispatch(object_store, enrich_web=True)
        await publish_dispatch(event_bus, dispatch)
        done = await recorder.outcome(dispatch.job_id, within=30)
    assert isinstance(done, events_pb2.RunnerCompleted), done
    assert search.queries == [GOAL]
    assert done.enriched_seed.startswith(SEED_TEXT.rstrip())
    assert (
        "## Web context (3 sources)" in done.enriched_seed
        and "polling shows 47% support" in done.enriched_seed
    )
    citations = json.loads(done.enrichment_citations)
    assert [c["url"] for c in citations] == [f"https://news.example.org/{i}" for i in (1, 2, 3)]

    progress = recorder.of(dispatch.job_id)
    carrying = [p for p in progress if p.enriched_seed]
    assert carrying and carrying[0].enriched_seed == done.enriched_seed
    assert carrying[0].enrichment_citations == done.enrichment_citations
    status = live(progress[-1])
    assert status["enrichment"] == {"status": "done", "sources": 3, "summarised_by": "snippets"}
    assert any("seeding: " in line and "3 citations" in line for p in progress for line in live(p)["log"])


async def test_without_a_search_provider_enrichment_is_skipped_and_says_why(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1", search_url="")
    dispatch = await make_dispatch(object_store, enrich_web=True)
    await publish_dispatch(event_bus, dispatch)
    done = await recorder.outcome(dispatch.job_id, within=30)
    assert isinstance(done, events_pb2.RunnerCompleted)
    assert done.enriched_seed == "" and done.enrichment_citations == ""
    enrichment = live(recorder.of(dispatch.job_id)[-1])["enrichment"]
    assert enrichment["status"] == "skipped"
    assert "no search provider configured" in enrichment["reason"]


async def test_the_llm_summarises_the_hits_and_a_broken_provider_is_recorded() -> None:
    async with (
        FakeSearchServer() as search,
        FakeOpenAIServer(concurrency=2, latency_ms=5, responder=summarising_responder) as llm,
    ):
        backend = make_backend("openai", base_url=llm.base_url, model="m", max_retries=0)
        try:
            result = await enrich("Seed.", GOAL, SearchSettings(url=search.base_url, max_results=2), backend)
        finally:
            await backend.aclose()
    assert result.status == "done" and result.summarised_by == "llm" and len(result.hits) == 2
    assert result.enriched_seed is not None
    assert (
        "Polls show the levy ahead [1]" in result.enriched_seed
        and "- Vote on 14 March" in result.enriched_seed
    )

    async with FakeSearchServer(fail_with=503) as broken:
        failed = await enrich("Seed.", GOAL, SearchSettings(url=broken.base_url), make_backend("heuristic"))
    assert failed.status == "failed" and "503" in failed.reason and failed.enriched_seed is None

    down = await enrich("Seed.", GOAL, SearchSettings(url=f"http://127.0.0.1:{free_port()}"), None)
    assert down.status == "failed" and "ConnectError" in down.reason

    async with FakeSearchServer(results=[]) as empty:
        nothing = await enrich("Seed.", GOAL, SearchSettings(url=empty.base_url), None)
    assert nothing.status == "skipped" and "found nothing" in nothing.reason
