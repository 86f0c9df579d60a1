"""Outcomes and the track record in headless Chromium (Debian's `chromium`, driven by Playwright).

Sign up (the track record starts empty) → a small heuristic job → its page's Outcome form: a date in
the future and a non-web source are refused at their fields in words and record nothing; then the
goal and one side market are recorded with a source → the scores shown are the API's, each market's
verdict against its opening price, the settlement ranked → a correction refused at its field leaves
the record as it was → the Track record page: counts, scores, the reliability diagram, the job
listed → the same pages at phone width without horizontal scrolling → the public share page shows
no outcome. Screenshots land in the test's tmp_path/screenshots.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from services.common.config import REPO_ROOT
from services.gateway.tests.support import PASSWORD, client_address, unique_email
from tests.fixtures.browser import launch_browser
from tests.fixtures.stack import RunningStack

DEMO = REPO_ROOT / "demos" / "harbor_transit.md"
GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
SOURCE = "https://example.org/elections/measure-t?result=final"
TOKEN = "() => JSON.parse(localStorage.getItem('swarmcast.session')).access_token"
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
VERDICT = re.compile(
    r"^The forecast \(\d{1,3}(\.\d)?%\) (beat|did worse than|tied) the opening price \(\d{1,3}(\.\d)?%\): "
    r"Brier \d\.\d{3} (vs \d\.\d{3}|both)$"
)


def in_words(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def shown_score(text: str, value: float | None) -> None:
    """A table cell prints the API's score with three decimals (a dash when unscored)."""
    if value is None:
        assert text == "—", text
    else:
        assert abs(float(text) - value) <= 0.0005 + 1e-9, (text, value)


@pytest.mark.timeout(360)
def test_record_an_outcome_and_read_the_track_record(
    stack: RunningStack, playwright_api: Any, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    console: list[str] = []
    context = launch_browser(
        playwright_api,
        tmp_path / "profile",
        viewport={"width": 1280, "height": 900},
        locale="en-US",  # dates in words: "December 8, 2026"
        timezone_id="UTC",  # the calendar the server dates outcomes by
        extra_http_headers={"X-Forwarded-For": client_address()},
    )
    http = httpx.Client(base_url=stack.gateway_url, timeout=30)
    try:
        page = context.new_page()
        page.on(
            "console",
            lambda m: (
                console.append(f"{m.type}: {m.text} ({m.location.get('url')})") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.set_default_timeout(30_000)
        base = stack.gateway_url

        def get(path: str) -> httpx.Response:
            return http.get(path, headers={"Authorization": f"Bearer {page.evaluate(TOKEN)}"})

        # --- sign up: the track record is linked from the header and starts empty
        page.goto(f"{base}/signup")
        page.fill("#email", unique_email("outcomes"))
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.wait_for_url(f"{base}/jobs/new")
        page.click("#nav a[href='/track-record']")
        page.wait_for_url(f"{base}/track-record")
        assert (
            page.locator("#track-empty")
            .inner_text()
            .startswith("No resolved jobs yet — record an outcome on a completed job’s page.")
        )
        page.screenshot(path=shots / "00-track-record-empty.png")

        # --- a small job without web enrichment (heuristic backend)
        page.goto(f"{base}/jobs/new")
        page.set_input_files("#seed_file", str(DEMO))
        page.wait_for_function("document.querySelector('#seed_text').value.includes('Measure T')")
        page.fill("#goal", GOAL)
        page.check("#tier-small")
        page.uncheck("#enrich_web")
        page.click("#launch")
        page.wait_for_url(re.compile(r".*/jobs/\d+$"))
        job_id = int(page.url.rsplit("/", 1)[1])
        page.wait_for_selector("#outcome-form", timeout=150_000)
        assert page.locator("#job-status .badge").inner_text() == "COMPLETED"
        assert page.locator(".section-nav a[href='#outcome']").count() == 1
        assert get(f"/api/jobs/{job_id}/outcome").json() == {"outcome": None}
        today = datetime.now(UTC).date()
        assert page.get_attribute("#resolved_on", "max") == today.isoformat()
        assert page.input_value("#resolved_on") == today.isoformat()
        side = page.locator("#outcome-markets select")
        assert side.count() >= 1
        assert side.first.input_value() == ""  # unresolved unless chosen
        page.locator("#outcome").screenshot(path=shots / "01-outcome-form.png")

        # --- a date in the future: refused at the date field, in words, once; nothing recorded
        future = today + timedelta(days=3)
        page.check("#outcome-yes")
        page.fill("#resolved_on", future.isoformat())
        page.click("#record-outcome")
        date_error = page.locator("#resolved_on_error")
        date_error.wait_for(state="visible")
        assert date_error.inner_text() == f"The resolution date {in_words(future)} is in the future."
        assert page.get_attribute("#resolved_on", "aria-invalid") == "true"
        assert page.get_by_text("is in the future").count() == 1
        assert page.locator("#outcome-form > .alert.error:not([hidden])").count() == 0
        page.locator("#outcome").screenshot(path=shots / "02-outcome-future-date.png")
        assert get(f"/api/jobs/{job_id}/outcome").json() == {"outcome": None}

        # --- a source that is not a web page: refused at the source field
        page.fill("#resolved_on", today.isoformat())
        assert date_error.is_hidden()
        page.fill("#source_url", "ftp://example.org/result.txt")
        page.click("#record-outcome")
        url_error = page.locator("#source_url_error")
        url_error.wait_for(state="visible")
        assert url_error.inner_text() == "The source must be an http or https URL."
        assert get(f"/api/jobs/{job_id}/outcome").json() == {"outcome": None}

        # --- record: the goal YES, one side market NO, with a source
        market_id = side.first.get_attribute("data-market")
        side.first.select_option("NO")
        page.fill("#source_url", SOURCE)
        page.click("#record-outcome")
        page.wait_for_selector("#outcome-summary")
        answer = get(f"/api/jobs/{job_id}/outcome")
        assert answer.status_code == 200, answer.text
        outcome = answer.json()["outcome"]
        assert outcome["outcome"] == "YES" and outcome["source_url"] == SOURCE and outcome["editable"]
        assert {m["market_id"]: m["outcome"] for m in outcome["markets"] if not m["is_goal"]} == {
            market_id: "NO"
        }
        assert "resolved" in page.locator("#outcome-summary").inner_text()
        source = page.locator("#outcome-source")
        assert source.get_attribute("href") == SOURCE
        assert source.get_attribute("rel") == "noopener noreferrer"
        assert page.locator("#outcome-editable").inner_text().startswith("You can correct it until ")
        assert page.locator("#edit-outcome").is_visible()

        # Each resolved market's table: the API's Brier and log scores, forecast and opening price.
        blocks = page.locator("#outcome-scores .score-block")
        assert blocks.count() == len(outcome["markets"]) == 2
        assert (
            blocks.first.get_attribute("data-market")
            == next(m for m in outcome["markets"] if m["is_goal"])["market_id"]
        )
        for m in outcome["markets"]:
            block = page.locator(f"#outcome-scores .score-block[data-market='{m['market_id']}']")
            shown_score(block.locator(".forecast-row .brier").inner_text(), m["brier"])
            shown_score(block.locator(".forecast-row .log-score").inner_text(), m["log_score"])
            shown_score(block.locator(".opening-row .brier").inner_text(), m["opening_brier"])
            shown_score(block.locator(".opening-row .log-score").inner_text(), m["opening_log_score"])
            verdict = block.locator(".score-verdict").inner_text()
            assert VERDICT.match(verdict), verdict
            assert f"Brier {block.locator('.forecast-row .brier').inner_text()} " in verdict
        # The settlement: at most ten agents, ranked by settled cash, P&L signed.
        rows = page.locator("#settlement tbody tr")
        assert 1 <= rows.count() <= 10
        ranked = sorted(outcome["agents"], key=lambda a: (-a["settled_cash"], a["agent_id"]))[: rows.count()]
        assert [int(r) for r in rows.evaluate_all("rs => rs.map(r => r.dataset.agent)")] == [
            a["agent_id"] for a in ranked
        ]
        for cell, agent in zip(rows.locator(".pnl").all(), ranked, strict=True):
            classes = cell.get_attribute("class") or ""
            if agent["pnl"] > 0.005:
                assert "pnl-pos" in classes and cell.inner_text().startswith("+")
            elif agent["pnl"] < -0.005:
                assert "pnl-neg" in classes and cell.inner_text().startswith("−")
        page.locator("#outcome").screenshot(path=shots / "03-outcome-recorded.png")

        # --- a correction with a future date: refused at the field, the record stays as it was
        page.click("#edit-outcome")
        assert page.is_checked("#outcome-yes")
        assert page.input_value(f"#market-{market_id}") == "NO"
        assert page.input_value("#source_url") == SOURCE
        page.fill("#resolved_on", future.isoformat())
        page.click("#record-outcome")
        page.locator("#resolved_on_error").wait_for(state="visible")
        assert page.get_by_text("is in the future").count() == 1
        assert get(f"/api/jobs/{job_id}/outcome").json()["outcome"]["updated_at"] == outcome["updated_at"]
        page.click("#cancel-outcome")
        page.wait_for_selector("#outcome-summary")

        # --- the track record
        record = get("/api/track-record").json()
        page.click("#nav a[href='/track-record']")
        page.wait_for_url(f"{base}/track-record")
        page.wait_for_selector("#reliability-diagram")
        assert page.locator("#track-resolved .stat-value").inner_text() == "1" == str(record["resolved"])
        assert page.locator("#track-annulled .stat-value").inner_text() == "0"
        assert (
            page.locator("#track-markets .stat-value").inner_text() == "2" == str(record["markets_resolved"])
        )
        table = page.locator("#track-scores-table")
        shown_score(
            table.locator("tr[data-metric=brier] .forecast-value").inner_text(), record["forecast"]["brier"]
        )
        shown_score(
            table.locator("tr[data-metric=brier] .opening-value").inner_text(),
            record["opening_price"]["brier"],
        )
        assert (
            page.locator("#track-interpretation")
            .inner_text()
            .startswith("Over 1 resolved question the forecasts were ")
        )
        diagram = page.locator("#reliability-diagram")
        assert diagram.get_attribute("role") == "img"
        assert (diagram.get_attribute("aria-label") or "").startswith(
            "Reliability diagram of 1 resolved forecast"
        )
        assert diagram.locator("title").first.inner_html()
        assert diagram.locator(".rel-point.forecast").count() == 1
        assert diagram.locator(".rel-point.opening").count() == 1
        assert diagram.locator(".rel-diagonal").count() == 1
        assert diagram.locator(".rel-bar").count() == 2
        entry = page.locator(f"#track-entries-table tr[data-job-id='{job_id}']")
        assert entry.locator("a").get_attribute("href") == f"/jobs/{job_id}"
        assert entry.locator("a").inner_text() == GOAL
        assert "Yes" in entry.locator(".outcome-tag").inner_text()
        shown_score(entry.locator(".brier-value").inner_text(), record["entries"][0]["brier"])
        page.screenshot(path=shots / "04-track-record.png", full_page=True)

        # --- phone width: neither page scrolls sideways
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_function("window.innerWidth === 390")
        assert page.evaluate(NO_OVERFLOW), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        page.screenshot(path=shots / "05-track-record-phone.png", full_page=True)
        page.reload()  # the page has its own address: a reload (or a bookmark) shows it again
        page.wait_for_selector("#reliability-diagram")
        assert page.locator("#track-resolved .stat-value").inner_text() == "1"
        entry.locator("a").click()
        page.wait_for_url(f"{base}/jobs/{job_id}")
        page.wait_for_selector("#outcome-summary")
        page.wait_for_selector("#report article")
        assert page.evaluate(NO_OVERFLOW), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        page.locator("#outcome").screenshot(path=shots / "06-outcome-phone.png")
        page.screenshot(path=shots / "07-job-page-phone.png", full_page=True)
        page.click("#edit-outcome")
        page.wait_for_selector("#outcome-form")
        assert page.evaluate(NO_OVERFLOW), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        page.locator("#outcome").screenshot(path=shots / "08-outcome-form-phone.png")
        page.click("#cancel-outcome")
        page.wait_for_selector("#outcome-summary")

        # --- seven days on, the outcome is fixed: no Edit, the day it was fixed instead
        page.set_viewport_size({"width": 1280, "height": 900})
        with psycopg.connect(
            stack.env["SWARMCAST_DATABASE_URL"].replace("+asyncpg", ""), autocommit=True
        ) as db:
            db.execute(
                "UPDATE jobs.job_outcomes SET editable_until = now() - interval '1 second' WHERE job_id = %s",
                (job_id,),
            )
        page.reload()
        page.wait_for_selector("#outcome-summary")
        assert get(f"/api/jobs/{job_id}/outcome").json()["outcome"]["editable"] is False
        assert page.locator("#outcome-editable").inner_text() == f"Fixed on {in_words(today)}."
        assert page.locator("#edit-outcome").count() == 0
        page.locator("#outcome").screenshot(path=shots / "09-outcome-fixed.png")

        # --- the public share page is read-only: no outcome there
        page.click("#create-share")
        share_url = page.input_value("#share-url")
        page.goto(share_url)
        page.wait_for_selector("#report article")
        assert page.locator("#outcome").count() == 0
    finally:
        http.close()
        context.close()
    # Chromium logs every error status as a console error: the refusals (422) this test provokes are
    # answers the page expects; nothing else may be logged.
    expected = re.compile(r"status of 422 .*/api/jobs/\d+/outcome\)$")
    assert [line for line in console if not expected.search(line)] == [], console
    print(f"screenshots: {shots}")
