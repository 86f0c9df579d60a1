"""A job's page in the browser, at desktop and phone size: the results of a COMPLETED job (one
headline with its interval and move, section links that scroll without re-rendering, report
citations into the chat replay, downloads, the market chart's tooltip, legend toggles, marker and
exports), and a running job's live chart across a reload, then its cancellation.

Screenshots: results-, results-chart-, live-progress-, cancelled-<viewport>.png in the UI folder.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from typing import Any

import pytest

from tests.ui.conftest import ApiClient, Ui

# "63% (80% interval 55–70%)"; one decimal when the interval is narrow.
HEADLINE = re.compile(r"^\d{1,3}(\.\d)?%$")
INTERVAL = re.compile(r"^\s*\(80% interval \d{1,3}(\.\d)?–\d{1,3}(\.\d)?%\)$")
MOVE = re.compile(r"^(?:(?:up|down) \d+ points? since|level with) the opening price \d{1,3}%$")
PERCENT = re.compile(r"\d{1,3}(?:\.\d)?%")

MARK = "for (const s of ['#report', '#market-chart']) document.querySelector(s).__kept = 1"
MARKED = "['#report', '#market-chart'].every((s) => document.querySelector(s).__kept === 1)"
# The element's top is in the upper half of the screen; the element is wholly on screen.
TOP_HALF = """(s) => {
    const t = document.querySelector(s).getBoundingClientRect().top;
    return t >= 0 && t < innerHeight / 2;
}"""
ON_SCREEN = """(s) => {
    const r = document.querySelector(s).getBoundingClientRect();
    return r.top >= 0 && r.bottom <= innerHeight;
}"""
# Points of each drawn series' path in the live chart ("M x,y L x,y …" → its vertices).
LIVE_POINTS = """() => [...document.querySelectorAll('#live-chart g.series[data-series] path')]
    .map((p) => (p.getAttribute('d').match(/[ML]/g) || []).length)"""


@pytest.fixture(autouse=True)
def _stack_before_browser(stack: Any) -> None:
    """The session stack starts with asyncio.run, which cannot run once Playwright's loop is up."""


def open_results(ui: Ui, job: dict[str, Any]) -> None:
    ui.goto(f"/jobs/{job['id']}")
    ui.page.wait_for_selector("#report article")
    ui.page.wait_for_selector("#market-chart svg.chart")


def in_view(ui: Ui, selector: str) -> bool:
    """The element's top is on screen, below the sticky section bar."""
    result: bool = ui.page.evaluate(
        """(sel) => {
            const top = document.querySelector(sel).getBoundingClientRect().top;
            const bar = document.querySelector('#results-bar').getBoundingClientRect().bottom;
            return top >= bar - 2 && top < innerHeight;
        }""",
        selector,
    )
    return result


def test_headline_insight_and_other_markets(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_results(ui, completed_job)
    page = ui.page
    # One headline probability, with its interval, its move from the opening price and the label.
    assert page.locator(".headline-value").count() == 1
    assert HEADLINE.match(page.locator("#headline-probability").inner_text())
    interval = page.locator("#headline-interval").inner_text()
    assert INTERVAL.match(interval), interval
    move = page.locator("#headline-move").inner_text()
    assert MOVE.match(move), move
    # The key insight once on the whole page; the verdict sentence only in the report.
    # The card's key insight leaves out the headline and label it opens with: the headline says them.
    insight = completed_job["key_insight"]
    shown = page.locator("#key-insight").inner_text()
    assert insight and shown and insight.lower().endswith(shown.lower()), (insight, shown)
    assert page.evaluate("(t) => document.body.innerText.split(t).length - 1", shown) == 1
    assert page.locator("#forecast").inner_text().count(interval.strip()) == 1
    verdict = json.loads(completed_job["result_structured"])["verdict"]["sentence"]
    assert page.evaluate("(t) => document.body.innerText.split(t).length - 1", verdict) == 1
    # The side markets: grouped under "Other markets", the goal's market not among them.
    goal_market = json.loads(completed_job["result_structured"])["forecast"]["goal"]["market_id"]
    others = page.locator("#probabilities .prob-row")
    assert page.locator("#probabilities h3").inner_text() == "Other markets"
    assert others.count() == len(completed_job["markets_config"]) - 1 >= 1
    assert goal_market not in others.evaluate_all("rows => rows.map(r => r.dataset.market)")
    # One colour for every YES share: the headline's bar and the side markets' alike.
    fills = page.locator(".prob-yes").evaluate_all("els => els.map(e => getComputedStyle(e).fill)")
    assert len(fills) == others.count() + 1 and len(set(fills)) == 1, fills
    # A report table wider than its box scrolls inside it, and the keyboard can reach it there.
    wraps = page.locator("#report .table-wrap").evaluate_all(
        "ws => ws.map(w => [w.scrollWidth > w.clientWidth + 1, w.tabIndex])"
    )
    assert wraps and all(tab == 0 for scrolls, tab in wraps if scrolls), wraps
    assert ui.overflow() == []
    ui.shot("results")


def test_section_links_scroll_without_rerender(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_results(ui, completed_job)
    page = ui.page
    page.evaluate(MARK)
    before = page.evaluate("scrollY")
    page.locator("#results-bar a[href='#markets']").click()
    page.wait_for_function("() => location.hash === '#markets'")
    page.wait_for_function(TOP_HALF, arg="#markets")
    assert page.evaluate("scrollY") > before
    assert in_view(ui, "#markets")
    # The same nodes: nothing was fetched and drawn again.
    assert page.evaluate(MARKED)
    # The bar stays at the top while the page scrolls.
    assert abs(page.locator("#results-bar").bounding_box()["y"]) < 2
    page.locator("#results-bar a[href='#chat']").click()
    page.wait_for_function("() => location.hash === '#chat'")
    page.wait_for_function(TOP_HALF, arg="#chat")
    assert in_view(ui, "#chat")
    assert page.evaluate(MARKED)
    assert ui.overflow() == []


def test_citation_reveals_chat_entry(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_results(ui, completed_job)
    page = ui.page
    links = page.locator("#report article a.citation")
    assert links.count() > 0
    # The replay filtered to another round first: the link must still bring its entry into view.
    rounds = page.locator("#chat-replay select[name=round] option").evaluate_all(
        "os => os.map(o => o.value).filter(Boolean)"
    )
    page.locator("#chat-replay select[name=round]").select_option(rounds[-1])
    link = links.last
    href = link.get_attribute("href") or ""
    match = re.fullmatch(r"#chat-(post|trade)-(\d+)", href)
    assert match, href
    assert link.get_attribute("data-kind") == match[1] and link.get_attribute("data-id") == match[2]
    link.scroll_into_view_if_needed()
    link.click()
    entry = page.locator(href)
    entry.wait_for(state="visible")
    page.wait_for_function(ON_SCREEN, arg=href)
    assert page.evaluate("(id) => document.activeElement?.closest('[id]')?.id === id", href[1:])
    ui.shot("results-citation")


def test_downloads(ui: Ui, completed_job: dict[str, Any], api_client: ApiClient) -> None:
    open_results(ui, completed_job)
    page = ui.page
    files = api_client.call("GET", f"/api/jobs/{completed_job['id']}/sim-data")["downloads"]
    listed = page.locator("#download-list [data-file]").evaluate_all("els => els.map(e => e.dataset.file)")
    assert "report.md" in listed
    assert set(files) - {"report.md"} <= set(listed)
    assert {"posts.json", "trades.json", "market_curves.json"} <= set(listed)
    with page.expect_download() as info:
        page.locator("#download-list [data-file='trades.json']").click()
    download = info.value
    assert download.suggested_filename == f"job-{completed_job['id']}-trades.json"
    body = json.loads(open(download.path(), encoding="utf-8").read())
    assert body == api_client.call("GET", f"/api/jobs/{completed_job['id']}/sim-data/trades.json")
    with page.expect_download() as info:
        page.locator("#download-list [data-file='report.md']").click()
    assert open(info.value.path(), encoding="utf-8").read() == completed_job["result_report"]


def test_market_chart(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_results(ui, completed_job)
    page = ui.page
    figure = page.locator("#market-chart")
    figure.scroll_into_view_if_needed()
    plot = figure.locator(".chart-plot")
    tip = figure.locator(".chart-tip")
    market_ids = [m["id"] for m in completed_job["markets_config"]]
    # Hover: a guide at the nearest round and every line's value there.
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    tip.wait_for(state="visible")
    assert re.fullmatch(r"Round \d+", tip.locator(".chart-tip-round").inner_text())
    labels = tip.locator(".chart-tip-label").all_inner_texts()
    assert set(market_ids) <= set(labels) and "agents’ belief" in labels
    assert all(PERCENT.fullmatch(v) for v in tip.locator("strong").all_inner_texts())
    assert figure.locator(".chart-guide line").count() == 1
    ui.shot("results-chart")
    # The keyboard reaches it too: focus, then arrows move a round at a time.
    page.mouse.move(0, 0)
    plot.focus()
    tip.wait_for(state="visible")
    last = int(tip.locator(".chart-tip-round").inner_text().split()[1])
    page.keyboard.press("ArrowLeft")
    assert tip.locator(".chart-tip-round").inner_text() == f"Round {last - 1}"
    page.keyboard.press("Escape")
    assert tip.is_hidden()
    # The agents' belief is not the 50% line: its own colour, dash and label; the 50% line lighter.
    belief = figure.locator("g.series.belief path")
    mid = figure.locator("line.grid.mid")
    assert belief.get_attribute("stroke") != mid.get_attribute("stroke")
    assert belief.get_attribute("stroke-dasharray") and not mid.get_attribute("stroke-dasharray")
    assert figure.locator("g.series.belief text").text_content() == "agents’ belief"
    # A legend entry hides its line (and its value in the tooltip), and shows it again.
    side = market_ids[1]
    toggle = figure.locator(f".legend-toggle[data-series='{side}']")
    assert toggle.get_attribute("aria-pressed") == "true"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false"
    assert figure.locator(f"svg.chart g.series[data-series='{side}']").count() == 0
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    tip.wait_for(state="visible")
    assert side not in tip.locator(".chart-tip-label").all_inner_texts()
    toggle.click()
    assert figure.locator(f"svg.chart g.series[data-series='{side}']").count() == 1
    # The timeline scrubber: a marker at its round on the chart; "Whole run" takes it away.
    scrub = page.locator("#scrub-range")
    scrub.fill("3")
    label = page.locator("#scrub-label").inner_text()
    assert re.fullmatch(r"Round \d+ of \d+", label), label
    round_no = int(label.split()[1])
    assert figure.locator(".chart-marker text").text_content() == f"round {round_no}"
    # ... and the replay and the graph follow the same round.
    replay = page.locator("#chat-replay")
    assert replay.locator("select[name=round]").input_value() == str(round_no)
    shown = replay.locator(".chat-entry .round").all_inner_texts()
    assert set(shown) <= {f"R{round_no}"}
    assert f"Round {round_no}:" in page.locator("#entity-graph .graph-status").inner_text()
    page.locator("#scrub-whole").click()
    assert page.locator("#scrub-label").inner_text() == "Whole run"
    assert figure.locator(".chart-marker").count() == 0
    assert replay.locator("select[name=round]").input_value() == ""
    assert ui.overflow() == []


def test_chart_exports(ui: Ui, completed_job: dict[str, Any], api_client: ApiClient) -> None:
    open_results(ui, completed_job)
    page = ui.page
    curves = api_client.call("GET", f"/api/jobs/{completed_job['id']}/sim-data/market_curves.json")
    with page.expect_download() as info:
        page.locator("#market-chart [data-export=csv]").click()
    assert info.value.suggested_filename == f"job-{completed_job['id']}-market-curves.csv"
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    header, data = rows[0], rows[1:]
    markets = curves["markets"]
    assert header[0] == "round" and len(header) == 1 + len(markets) + 1  # every market and the belief
    assert header[1] == f"{markets[0]['id']}: {markets[0]['question']}"
    assert [int(r[0]) for r in data] == [p["round"] for p in markets[0]["curve"]]
    assert [float(r[1]) for r in data] == pytest.approx(
        [p["price_yes"] for p in markets[0]["curve"]], abs=1e-4
    )
    with page.expect_download() as info:
        page.locator("#market-chart [data-export=png]").click()
    assert info.value.suggested_filename == f"job-{completed_job['id']}-market-curves.png"
    image = open(info.value.path(), "rb").read()
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 5_000


@pytest.mark.timeout(300)
def test_live_chart_survives_reload_then_cancel(ui: Ui, api_client: ApiClient) -> None:
    job = api_client.create_job(tier="large")
    page = ui.page
    ui.goto(f"/jobs/{job['id']}")
    page.wait_for_selector("#progress")
    # A few rounds in, so there is a curve to keep.
    deadline_job = api_client.wait_for(
        job["id"], {"RUNNING", "REPORTING", "COMPLETED", "FAILED"}, timeout=120
    )
    while (
        deadline_job["status"] == "RUNNING"
        and int((deadline_job.get("live_status") or {}).get("round") or 0) < 3
    ):
        time.sleep(0.2)
        deadline_job = api_client.call("GET", f"/api/jobs/{job['id']}")["job"]
    assert deadline_job["status"] == "RUNNING", (
        f"the large job ended ({deadline_job['status']}) before round 3"
    )
    page.wait_for_selector("#live-chart:not([hidden]) svg.chart")
    page.reload()
    page.wait_for_selector("#progress")
    # Straight from the job as loaded, before any progress event could add a round.
    points = page.evaluate(LIVE_POINTS)
    assert len(points) >= 2 and all(n > 1 for n in points), points
    assert page.locator("#live-chart").is_visible()
    assert ui.overflow() == []
    ui.shot("live-progress")
    # Cancelled by its owner: it says so, with a Retry, not "This simulation failed".
    page.once("dialog", lambda d: d.accept())
    page.locator("#cancel-job").click()
    heading = page.locator("#failure h2")
    heading.wait_for(timeout=60_000)
    assert heading.inner_text() == "Cancelled"
    assert page.locator("#job-status").inner_text() == "Cancelled"
    assert page.locator("#retry-job").is_visible()
    assert page.get_by_text("This simulation failed").count() == 0
    assert ui.overflow() == []
    ui.shot("cancelled")


def test_waiting_job_shows_its_place_in_the_queue(ui: Ui, api_client: ApiClient) -> None:
    # Large jobs run long: with the first two on the runner, the third waits its turn.
    # Distinct goals: the service refuses a second live job with the same seed and question.
    tag = uuid.uuid4().hex[:6]
    goals = [f"Will Measure T pass on 14 March? ({tag} {n})" for n in range(3)]
    jobs = [api_client.create_job(tier="large", goal=goal) for goal in goals]
    try:
        api_client.wait_for(jobs[0]["id"], {"RUNNING", "REPORTING", "COMPLETED", "FAILED"}, timeout=120)
        waiting = api_client.call("GET", f"/api/jobs/{jobs[2]['id']}")["job"]
        assert waiting["status"] == "PENDING", waiting["status"]
        ui.goto(f"/jobs/{waiting['id']}")
        line = ui.page.locator("#stage-name")
        line.wait_for()
        text = line.inner_text()
        assert re.fullmatch(r"Position \d+ in the queue · (under a minute|about \d+ (min|h)\b.*)", text), text
        assert int(text.split()[1]) == waiting["queue_position"]
        assert ui.page.locator("#queue-note").is_visible()
        assert ui.overflow() == []
        ui.shot("queue")
    finally:
        for job in jobs:
            api_client.http.post(f"/api/jobs/{job['id']}/cancel")
