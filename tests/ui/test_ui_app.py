"""The app shell and the pages around the forms, at desktop and phone sizes (tests/ui/conftest.py).

- The home page says what swarmcast does and offers the sample seeds from /api/config; a signed-in
  user's "Run this sample" opens the new-simulation form filled in from the sample.
- An unknown address shows the app's "Page not found" (HTTP 404); a simulation that does not exist
  says so, with a way back to the list.
- The job list: search, status filter and sort kept in the URL (reload and back keep them), the
  headline probability as a column, "No simulations match" with a way to clear the filters, rows
  as cards on a phone, a job its owner cancelled reads "Cancelled".
- The share page shows the market chart and invites the reader to run a forecast of their own.
- The shell: "Skip to content" is the first Tab stop and moves focus to the main region; every
  page has its own title; the navigation stays one row on a phone (its links behind "Menu").
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.fixtures.stack import RunningStack
from tests.ui.conftest import DEMO_GOAL, ApiClient, Ui

SITE = " · swarmcast"
# "63%" and "55–70%"; one decimal when the interval is narrow ("90.5%", "90.2–90.8%").
PERCENT = re.compile(r"\d{1,3}(\.\d)?%")
RANGE = re.compile(r"\d{1,3}(\.\d)?–\d{1,3}(\.\d)?%")


def _config(stack: RunningStack) -> dict[str, Any]:
    reply = httpx.get(f"{stack.gateway_url}/api/config", timeout=30)
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


def _sample(stack: RunningStack, sample_id: str) -> dict[str, Any]:
    reply = httpx.get(f"{stack.gateway_url}/api/samples/{sample_id}", timeout=30)
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


def _until(ui: Ui, script: str, arg: Any = None, timeout: float = 30.0) -> None:
    """Waits until `script(arg)` is truthy in the page (asked from here: the page's CSP forbids the
    string evaluation wait_for_function's polling uses)."""
    deadline = time.monotonic() + timeout
    while not ui.page.evaluate(script, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} s: {script} ({arg!r})")
        time.sleep(0.1)


def _settle(ui: Ui) -> None:
    """Waits until the view has replaced "Loading…"."""
    _until(ui, "() => document.querySelector('#main > *') && !document.querySelector('#main .loading')")


# --- home page -------------------------------------------------------------------------------------


def test_landing_page_explains_and_offers_the_samples(anon_ui: Ui, stack: RunningStack) -> None:
    samples = _config(stack)["samples"]
    assert len(samples) >= 2
    anon_ui.goto("/")
    anon_ui.page.locator(".run-sample").first.wait_for()
    text = anon_ui.page.locator("#main").inner_text()
    # What it does, in plain sentences: seed + yes/no question → agents post, reply, trade →
    # a forecast with an interval, a report, a graph and a replay.
    for words in (
        "seed document",
        "yes/no question",
        "post",
        "reply",
        "trade on prediction markets",
        "interval",
        "report",
        "graph",
        "replay",
    ):
        assert words in text, words
    for sample in samples:
        card = anon_ui.page.locator(f"#sample-{sample['id']}")
        card_text = card.inner_text()
        assert sample["title"] in card_text and sample["goal"] in card_text and sample["summary"] in card_text
        run = card.locator("a.run-sample")
        assert run.inner_text().startswith("Run this sample")
        assert run.get_attribute("href") == f"/signup?sample={sample['id']}"  # a visitor signs up first
    assert anon_ui.page.title() == f"Forecasts from simulated debate{SITE}"
    assert anon_ui.overflow() == []
    anon_ui.shot("landing")


def test_signed_in_sample_opens_the_filled_in_form(ui: Ui, stack: RunningStack) -> None:
    sample_id = _config(stack)["samples"][1]["id"]
    sample = _sample(stack, sample_id)
    ui.goto("/")
    run = ui.page.locator(f"#sample-{sample_id} a.run-sample")
    assert run.get_attribute("href") == f"/jobs/new?sample={sample_id}"
    run.click()
    ui.page.wait_for_url(f"{ui.base}/jobs/new?sample={sample_id}")
    ui.page.wait_for_selector("#new-job")
    assert ui.page.input_value("#seed_text") == sample["seed_text"]
    assert ui.page.input_value("#goal") == sample["goal"]
    assert ui.page.input_value("#forecast_days") == str(sample["forecast_days"])
    assert sample["title"] in ui.page.locator("#main").inner_text()


# --- not found -------------------------------------------------------------------------------------


def test_unknown_address_shows_not_found(anon_ui: Ui) -> None:
    response = anon_ui.goto("/no/such/page")
    assert response.status == 404
    anon_ui.page.wait_for_selector("#not-found")
    assert anon_ui.page.locator("#main h1").inner_text() == "Page not found"
    assert anon_ui.page.locator("#not-found a[href='/']").count() == 1
    assert anon_ui.page.locator("#not-found a[href='/jobs']").count() == 1
    assert anon_ui.page.title() == f"Page not found{SITE}"
    assert anon_ui.overflow() == []
    anon_ui.shot("not-found")
    anon_ui.page.click("#not-found a[href='/']")
    anon_ui.page.wait_for_url(f"{anon_ui.base}/")
    anon_ui.page.locator("#landing-title").wait_for()


def test_missing_simulation_says_so_with_a_way_back(ui: Ui) -> None:
    ui.goto("/jobs/999999999")
    missing = ui.page.locator("#missing")
    missing.wait_for()
    assert "This simulation does not exist (or was deleted)." in missing.inner_text()
    assert ui.page.title() == f"Simulation not found{SITE}"
    ui.page.click("#missing a[href='/jobs']")
    ui.page.wait_for_url(f"{ui.base}/jobs")
    ui.page.locator("#main h1").filter(has_text="Your simulations").wait_for()


# --- job list --------------------------------------------------------------------------------------


def _wait_rows(ui: Ui, expected: list[int]) -> None:
    _until(
        ui,
        "ids => JSON.stringify([...document.querySelectorAll('#job-results tr[data-job-id]')]"
        ".map(r => Number(r.dataset.jobId))) === JSON.stringify(ids)",
        expected,
    )


@pytest.mark.timeout(300)
def test_job_list_search_filter_sort_and_probability(
    ui: Ui, api_client: ApiClient, completed_job: dict[str, Any]
) -> None:
    tag = f"k{uuid.uuid4().hex[:8]}"
    goals = [
        f"Will Measure T pass on 14 March, as the {tag} ledger reports?",
        f"Will the Eastline levy pass on 14 March, as the {tag} gazette reports?",
        f"Will the council approve the Eastline levy by June, as the {tag} herald reports?",
    ]
    jobs = [api_client.create_job(goal=goal) for goal in goals]
    for job in jobs:  # only the list matters here: cancelled, they end FAILED "cancelled by user"
        api_client.call("POST", f"/api/jobs/{job['id']}/cancel")
    ids = [job["id"] for job in jobs]
    page = ui.page

    # Search (debounced), kept in the URL.
    ui.goto("/jobs")
    page.wait_for_selector("#job-results tr[data-job-id]")
    page.fill("#job-search", tag)
    page.wait_for_url(re.compile(rf".*/jobs\?q={tag}$"))
    _wait_rows(ui, sorted(ids, reverse=True))
    # Cancelled by their owner: "Cancelled", not FAILED.
    badges = page.locator("#job-results tr[data-job-id] .badge").all_inner_texts()
    assert badges == ["Cancelled"] * 3, badges
    assert page.locator("#job-results tr[data-job-id] .prob-cell .prob-none").count() == 3

    # Sort: oldest first; the choice is a step back can undo.
    page.select_option("#job-sort", "oldest")
    page.wait_for_url(re.compile(rf".*/jobs\?q={tag}&sort=oldest$"))
    _wait_rows(ui, sorted(ids))
    page.reload()
    _wait_rows(ui, sorted(ids))
    assert page.input_value("#job-search") == tag and page.input_value("#job-sort") == "oldest"
    page.go_back()
    page.wait_for_url(re.compile(rf".*/jobs\?q={tag}$"))
    _wait_rows(ui, sorted(ids, reverse=True))
    assert page.input_value("#job-sort") == "newest"

    # A narrower search; then a status none of them has: "No simulations match", and clearing.
    page.fill("#job-search", f"{tag} gazette")
    _wait_rows(ui, [jobs[1]["id"]])
    page.select_option("#job-status-filter", "COMPLETED")
    empty = page.locator("#jobs-empty")
    empty.wait_for()
    assert "No simulations match" in empty.inner_text()
    assert "status=COMPLETED" in page.url
    page.click("#clear-filters")
    page.wait_for_url(f"{ui.base}/jobs")
    page.wait_for_selector("#job-results tr[data-job-id]")
    assert page.input_value("#job-search") == "" and page.input_value("#job-status-filter") == ""

    # The headline probability: "63%" with its interval beneath; highest first when sorted so.
    page.select_option("#job-sort", "probability_high")
    page.wait_for_url(re.compile(r".*/jobs\?sort=probability_high$"))
    # The rows in the order the API gives for that sort (jobs without a forecast last).
    listed = api_client.call("GET", "/api/jobs", params={"sort": "probability_high", "per_page": 20})["jobs"]
    _wait_rows(ui, [job["id"] for job in listed])
    assert page.locator("#job-results tr[data-job-id]").first.locator(".prob-headline").count() == 1
    row = page.locator(f"#job-results tr[data-job-id='{completed_job['id']}']")
    cell = row.locator(".prob-cell")
    assert PERCENT.fullmatch(cell.locator(".prob-headline").inner_text()), cell.inner_text()
    assert RANGE.fullmatch(cell.locator(".prob-range").inner_text()), cell.inner_text()
    shown = page.locator("#job-results tr[data-job-id] .prob-headline").all_inner_texts()
    values = [float(text.rstrip("%")) for text in shown]
    assert values == sorted(values, reverse=True), values

    assert ui.overflow() == []
    if ui.viewport == "phone":
        # Rows are cards: every action is on screen, nothing scrolls sideways.
        delete = row.locator("button", has_text="Delete")
        box = delete.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    ui.shot("job-list")


# --- share page ------------------------------------------------------------------------------------


def test_share_page_has_the_chart_and_invites_a_forecast(
    anon_ui: Ui, api_client: ApiClient, completed_job: dict[str, Any]
) -> None:
    share_url = api_client.call("POST", f"/api/jobs/{completed_job['id']}/share")["share_url"]
    token = share_url.rsplit("/", 1)[1]
    response = anon_ui.goto(f"/share/{token}")
    assert response is not None and response.status == 200
    anon_ui.page.wait_for_selector("#report article")
    # The preview card a link posted elsewhere shows: written into the page's head by the server.
    meta = anon_ui.page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('meta[property], meta[name]')]"
        ".map(m => [m.getAttribute('property') || m.getAttribute('name'), m.content]))"
    )
    assert meta["og:title"] == DEMO_GOAL and meta["og:type"] == "article", meta
    assert re.search(r"\d+(\.\d)?% \(80% interval", meta["og:description"]), meta["og:description"]
    assert meta["og:url"] == share_url and meta["twitter:card"] == "summary_large_image"
    assert meta["og:image"].startswith(("http://", "https://")) and meta["og:image"].endswith("/preview.png")
    image = anon_ui.page.request.get(meta["og:image"])
    assert image.ok and image.headers["content-type"] == "image/png"
    assert image.body()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    chart = anon_ui.page.locator("#markets #market-chart svg.chart")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    assert anon_ui.page.locator("#markets #market-chart path").count() >= 2
    invite = anon_ui.page.locator("#run-your-own")
    assert invite.locator("h2").inner_text() == "Run your own forecast"
    assert invite.locator("a[href='/signup']").count() == 1 and invite.locator("a[href='/']").count() == 1
    assert anon_ui.page.title() == f"{DEMO_GOAL}{SITE}"
    assert anon_ui.overflow() == []
    anon_ui.shot("share")

    # A link that does not exist keeps its own message.
    anon_ui.goto("/share/no-such-link-0000")
    anon_ui.page.get_by_text("This link does not exist or has been revoked.").wait_for()
    assert anon_ui.page.locator("#run-your-own").count() == 1


# --- the shell -------------------------------------------------------------------------------------


def test_skip_link_is_the_first_tab_stop(ui: Ui) -> None:
    ui.goto("/jobs")
    _settle(ui)
    ui.page.keyboard.press("Tab")
    focused = ui.page.evaluate(
        "({cls: document.activeElement.className, text: document.activeElement.textContent})"
    )
    assert focused == {"cls": "skip-link", "text": "Skip to content"}
    box = ui.page.locator(".skip-link").bounding_box()
    assert box is not None and box["y"] >= 0  # shown once focused
    ui.page.keyboard.press("Enter")
    assert ui.page.evaluate("document.activeElement.id") == "main"
    assert ui.page.url == f"{ui.base}/jobs"  # no #main left in the address


def test_every_page_has_its_own_title(ui: Ui, completed_job: dict[str, Any]) -> None:
    expected = {
        "/": f"Forecasts from simulated debate{SITE}",
        "/jobs": f"Simulations{SITE}",
        "/jobs/new": f"New simulation{SITE}",
        f"/jobs/{completed_job['id']}": f"{DEMO_GOAL}{SITE}",
        "/track-record": f"Track record{SITE}",
        "/account": f"Account{SITE}",
    }
    for path, title in expected.items():
        ui.goto(path)
        _settle(ui)
        _until(ui, "t => document.title === t", title)
        assert ui.overflow() == [], path
    assert len(set(expected.values())) == len(expected)


def test_signed_out_pages_have_titles_and_fit(anon_ui: Ui) -> None:
    expected = {
        "/login": f"Log in{SITE}",
        "/signup": f"Sign up{SITE}",
        "/forgot-password": f"Forgot password{SITE}",
    }
    for path, title in expected.items():
        anon_ui.goto(path)
        _settle(anon_ui)
        assert anon_ui.page.title() == title
        assert anon_ui.overflow() == [], path


def test_navigation_is_one_row(ui: Ui) -> None:
    ui.goto("/jobs")
    _settle(ui)
    header = ui.page.locator("header.topbar").bounding_box()
    brand = ui.page.locator("header .brand").bounding_box()
    assert header is not None and brand is not None
    assert header["height"] < 70, header  # one line of links (or the menu button), not a stack
    assert ui.page.locator("#nav").get_attribute("aria-label") == "Main"
    assert ui.overflow() == []
    toggle = ui.page.locator("#menu-toggle")
    if ui.viewport == "phone":
        assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
        assert not ui.page.locator("#nav-links a[href='/account']").is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        ui.page.locator("#nav-links a[href='/track-record']").click()
        ui.page.wait_for_url(f"{ui.base}/track-record")
        assert ui.page.locator("#menu-toggle").get_attribute("aria-expanded") == "false"
    else:
        assert not toggle.is_visible()
        links = ui.page.locator("#nav-links a, #nav-links button")
        tops = [b["y"] for b in (links.nth(i).bounding_box() for i in range(links.count())) if b]
        assert tops and max(tops) - min(tops) < 8, tops  # one row
        assert ui.page.locator("#nav-links a[aria-current='page']").inner_text() == "Simulations"
