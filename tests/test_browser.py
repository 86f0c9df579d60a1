"""The web UI in headless Chromium (Debian's `chromium`, driven by Playwright — no downloaded browser):
sign up → new simulation (seed from a file) → live progress → report with chart and graph → chat
filters → share link opened logged out. Screenshots land in the test's tmp_path/screenshots.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from services.common.config import REPO_ROOT
from services.gateway.tests.support import PASSWORD, client_address, unique_email
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, launch_browser
from tests.fixtures.stack import RunningStack

GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
# "63% (80% interval 55–70%)"; one decimal when the interval is narrow ("90.5% (80% interval 89.8–91.3%)").
HEADLINE = re.compile(r"\d{1,3}(\.\d)?%\s*\(80% interval \d{1,3}(\.\d)?–\d{1,3}(\.\d)?%\)")
ROW_INTERVAL = re.compile(r"\d{1,3}\.\d%.*\d{1,3}\.\d–\d{1,3}\.\d%", re.S)
VERDICT_LABELS = {"very likely", "likely", "too close to call", "unlikely", "very unlikely"}
# Runs in every page before the app: records what the live-progress panel showed, however briefly
# (the heuristic backend is quick; a screenshot alone could miss a state that lasted 100 ms).
RECORDER = """
window.__progress = {rounds: [], stages: [], prices: 0};
new MutationObserver(() => {
  const p = window.__progress;
  const round = document.querySelector('#round-line')?.textContent;
  const stage = document.querySelector('#stage-name')?.textContent;
  if (round && p.rounds.at(-1) !== round) p.rounds.push(round);
  if (stage && p.stages.at(-1) !== stage) p.stages.push(stage);
  if (document.querySelector('#live-prices li')) p.prices += 1;
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


@pytest.mark.timeout(300)
def test_signup_to_shared_report(stack: RunningStack, playwright_api: Any, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    console: list[str] = []
    context = launch_browser(
        playwright_api,
        tmp_path / "profile",
        viewport={"width": 1280, "height": 900},
        # Its own client address for auth's per-address limits (the gateway trusts loopback).
        extra_http_headers={"X-Forwarded-For": client_address()},
    )
    try:
        context.add_init_script(RECORDER)
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.set_default_timeout(30_000)
        base = stack.gateway_url

        # --- sign up
        page.goto(f"{base}/signup")
        email = unique_email("browser")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.screenshot(path=shots / "01-signup.png")
        page.click("#submit")
        page.wait_for_url(f"{base}/jobs/new")
        assert page.locator(".alert.success").inner_text().startswith("Welcome!")
        assert email in page.locator("#nav").inner_text()

        # --- new simulation: the seed comes from a file upload
        page.set_input_files("#seed_file", str(REPO_ROOT / "demos" / "harbor_transit.md"))
        page.wait_for_function("document.querySelector('#seed_text').value.includes('Measure T')")
        page.fill("#goal", GOAL)
        page.check("#tier-large")  # the longest run: live progress stays on screen a while
        page.uncheck("#enrich_web")
        page.fill("#forecast_days", "45")
        page.screenshot(path=shots / "02-new-simulation.png", full_page=True)
        page.click("#launch")

        # --- live progress (SSE): stage, round, prices moving
        page.wait_for_url(re.compile(r".*/jobs/\d+$"))
        job_id = int(page.url.rsplit("/", 1)[1])
        first = page.wait_for_selector("#round-line, #report article", timeout=60_000)
        if first.get_attribute("id") == "round-line":  # caught mid-run (almost always)
            page.screenshot(path=shots / "03-live-progress.png")
        page.wait_for_selector("#report article", timeout=120_000)
        progress = page.evaluate("window.__progress")
        assert any(re.search(r"round \d+ of \d+", r) for r in progress["rounds"]), progress
        assert "simulating" in progress["stages"], progress
        assert progress["prices"] > 0, progress

        # --- the results: forecast, report, chart, graph, chat replay
        assert page.locator("#job-status .badge").inner_text() == "COMPLETED"
        assert page.locator("#key-insight").is_visible()
        # The headline: the goal's forecast with its 80% interval, and the verdict label beside it.
        assert HEADLINE.search(page.locator("#headline").inner_text()), page.locator("#headline").inner_text()
        assert page.locator("#verdict-label").inner_text() in VERDICT_LABELS
        # Every market's row: its forecast and its interval.
        rows = page.locator("#probabilities .prob-row")
        assert rows.count() >= 1
        assert all(ROW_INTERVAL.search(text) for text in rows.all_inner_texts()), rows.all_inner_texts()
        report = page.locator("#report article")
        assert report.locator("h1").first.is_visible() and report.locator("table").count() > 0
        chart = page.locator("#market-chart svg.chart")
        chart.scroll_into_view_if_needed()
        assert chart.is_visible() and page.locator("#market-chart path").count() >= 2
        graph = page.locator("#entity-graph svg.graph")
        assert graph.is_visible() and page.locator("#entity-graph g.node").count() >= 3
        page.screenshot(path=shots / "04-results.png")
        page.locator("#forecast").screenshot(path=shots / "05-forecast.png")
        page.locator("#markets").screenshot(path=shots / "06-market-curves.png")
        page.locator("#entity-graph g.node").first.click()
        assert page.locator(".graph-details h4").is_visible()
        page.locator("#graph").screenshot(path=shots / "07-entity-graph.png")

        # Chat replay filters: by action type, by agent, by round.
        chat = page.locator("#chat-replay")
        total = len(page.locator(".chat-entry").all())
        assert total > 0
        chat.locator("select[name=kind]").select_option("trade")
        kinds = page.locator(".chat-entry").evaluate_all("els => els.map(e => e.className)")
        assert kinds and all("kind-trade" in k for k in kinds)
        chat.locator("select[name=kind]").select_option("")
        agent = chat.locator("select[name=agent] option").nth(1).get_attribute("value")
        chat.locator("select[name=agent]").select_option(agent)
        authors = page.locator(".chat-entry .author").all_inner_texts()
        assert authors and set(authors) == {agent}
        chat.locator("select[name=round]").select_option("3")
        rounds = page.locator(".chat-entry .round").all_inner_texts()
        assert set(rounds) <= {"R3"}
        page.locator("#chat").screenshot(path=shots / "08-chat-replay.png")

        # The Markdown renderer never turns report text into markup.
        unsafe = page.evaluate(
            """async (source) => {
                const { renderMarkdown } = await import('/assets/markdown.js');
                const div = document.createElement('div');
                div.append(renderMarkdown(source));
                const img = div.querySelector('img') !== null;
                return { html: div.innerHTML, img, a: div.querySelectorAll('a').length };
            }""",
            '<img src=x onerror="window.__xss=1"> **bold** [x](javascript:alert(1))',
        )
        assert (
            not unsafe["img"]
            and unsafe["a"] == 0
            and "&lt;img" in unsafe["html"]
            and "<strong>" in unsafe["html"]
        )

        # --- share link, opened logged out
        page.click("#create-share")
        share_url = page.input_value("#share-url")
        assert share_url.startswith(f"{base}/share/")
        page.locator("#share").screenshot(path=shots / "09-share-link.png")
        browser = playwright_api.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            anonymous = browser.new_context(viewport={"width": 1280, "height": 900})
            shared = anonymous.new_page()
            shared.goto(share_url)
            shared.wait_for_selector("#report article")
            assert shared.locator(".shared-label").inner_text().startswith("Shared forecast")
            assert shared.locator("#job-goal").inner_text() == GOAL
            assert shared.locator("#entity-graph svg.graph").is_visible()
            assert shared.locator("#key-insight").is_visible()
            assert HEADLINE.search(shared.locator("#headline").inner_text())
            assert shared.locator("#headline").inner_text() == page.locator("#headline").inner_text()
            assert "Log in" in shared.locator("#nav").inner_text()  # nobody is signed in here
            assert email not in shared.content()
            shared.screenshot(path=shots / "10-shared-page.png")
        finally:
            browser.close()

        # --- the link is stored hashed: shown once; back on the job page it only says "shared"
        page.reload()
        page.wait_for_selector("#share-status")
        assert page.locator("#share-url").count() == 0
        assert share_url.rsplit("/", 1)[1] not in page.content()
        assert page.locator("#revoke-share").is_visible()

        # --- the job list
        page.goto(f"{base}/jobs")
        row = page.locator(f"tr[data-job-id='{job_id}']")
        assert row.locator(".badge").inner_text() == "COMPLETED"
        page.screenshot(path=shots / "11-job-list.png")
    finally:
        context.close()
    assert not console, console
    print(f"screenshots: {shots}")
