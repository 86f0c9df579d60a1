"""Interviews, scheduled events and what-if branches in the browser, at desktop and phone size,
against the session stack: asking an agent and reading its streamed answer with the heuristic
label, the transcript kept after a reload, a question refused at its field (empty, too long),
a branch with injected news made from the job page and landing on its own page with the banner,
its comparison once it completes, the branch listed on its parent with its forecast, news in the
chat replay and on the market chart, scheduled events sent from the new-simulation form, and the
job page with the new sections axe-clean, keyboard-reachable and no wider than the screen.

Screenshots: interview-, branch-new-, branch-comparison-, news-replay-, new-job-events-,
job-whatif-<viewport>.png in the UI folder.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.ui.conftest import DEMO_GOAL, DEMO_SEED, EVENT, ApiClient, Ui

HEURISTIC_LABEL = "Templated from the agent’s state (heuristic backend), not written by a model"
PROBABILITY = re.compile(r"^\d{1,3}% for the goal$")
CAMPS = {"YES camp", "NO camp", "Undecided middle"}
# "63% (80% interval 55–70%)", one decimal when the interval is narrow.
ESTIMATE = re.compile(r"^\d{1,3}(\.\d)?% \(80% interval \d{1,3}(\.\d)?–\d{1,3}(\.\d)?%\)$")
MOVE = re.compile(r"^(?:(?:up|down) \d+(\.\d)? points?|no change)$")


@pytest.fixture(autouse=True)
def _stack_before_browser(stack: Any) -> None:
    """The session stack starts with asyncio.run, which cannot run once Playwright's loop is up."""


def open_job(ui: Ui, job: dict[str, Any]) -> None:
    ui.goto(f"/jobs/{job['id']}")
    ui.page.wait_for_selector("#interview-form")
    ui.page.wait_for_selector("#branch-form")


def first_agent(ui: Ui) -> tuple[str, str]:
    """The target picker's first agent: (option value, the agent's name)."""
    option = ui.page.locator("#interview-target option[value^='agent:']").first
    value = option.get_attribute("value") or ""
    name = option.inner_text().split(" — ")[0].strip()
    assert value and name, "the picker lists no agent"
    return value, name


def transcript(ui: Ui, question: str) -> Any:
    return ui.page.locator(
        "#interview-transcripts .interview", has=ui.page.locator(".interview-question", has_text=question)
    )


def test_interview_answers_stream_in_labelled_and_stay_after_reload(
    ui: Ui, completed_job: dict[str, Any]
) -> None:
    open_job(ui, completed_job)
    page = ui.page
    value, name = first_agent(ui)
    page.select_option("#interview-target", value)
    question = f"What would change your mind about the levy? ({uuid.uuid4().hex[:6]})"
    page.fill("#interview-question", question)
    assert page.locator("#interview-question-count").inner_text() == f"{len(question)} / 500 characters"
    page.click("#interview-ask")

    asked = transcript(ui, question)
    card = asked.locator(".interview-answer").first
    card.wait_for()
    # The stream finishes with the stored transcript: "1 answer."
    page.wait_for_function(
        "(q) => [...document.querySelectorAll('#interview-transcripts .interview')]"
        ".some((t) => t.textContent.includes(q)"
        " && /^1 answer\\.$/.test(t.querySelector('.interview-status').textContent))",
        arg=question,
    )
    assert asked.locator(".interview-answer").count() == 1
    assert card.locator(".answer-name").inner_text() == name
    assert PROBABILITY.match(card.locator(".answer-probability").inner_text())
    assert card.locator(".answer-camp").inner_text() in CAMPS
    answer = card.locator(".answer-text").inner_text().strip()
    assert answer
    assert asked.locator(".interview-source").inner_text() == HEURISTIC_LABEL
    assert card.locator(".answer-templated").is_visible()
    assert asked.locator(".interview-meta").inner_text().startswith("Asked agent")
    # The question box is ready for the next question.
    assert page.locator("#interview-question").input_value() == ""
    ui.shot("interview")

    # After a reload the transcript comes from the server, the same answer and label with it.
    page.reload()
    page.wait_for_selector("#interview-form")
    kept = transcript(ui, question)
    kept.locator(".interview-answer").first.wait_for()
    assert kept.count() == 1
    assert kept.locator(".answer-name").inner_text() == name
    assert kept.locator(".answer-text").inner_text().strip() == answer
    assert kept.locator(".interview-source").inner_text() == HEURISTIC_LABEL


def test_empty_or_too_long_question_is_refused_at_its_field(
    ui: Ui, completed_job: dict[str, Any], api_client: ApiClient
) -> None:
    before = len(api_client.call("GET", f"/api/jobs/{completed_job['id']}/interviews")["interviews"])
    open_job(ui, completed_job)
    page = ui.page
    problem = page.locator("#interview-question-error")

    page.click("#interview-ask")
    assert problem.is_visible()
    assert problem.inner_text() == "Write a question for the agents to answer."
    assert page.locator("#interview-question").get_attribute("aria-invalid") == "true"
    assert "interview-question-error" in (
        page.locator("#interview-question").get_attribute("aria-describedby") or ""
    )

    page.fill("#interview-question", "Why? " * 100 + "Really?")  # 507 characters
    assert (
        problem.inner_text() == "The question is 507 characters; the limit is 500. Shorten it by 7 to ask it."
    )
    assert "over" in (page.locator("#interview-question-count").get_attribute("class") or "")
    page.click("#interview-ask")
    assert problem.is_visible()
    # Nothing was asked: the server holds the same transcripts as before.
    after = len(api_client.call("GET", f"/api/jobs/{completed_job['id']}/interviews")["interviews"])
    assert after == before

    # Fixed, the problem goes.
    page.fill("#interview-question", "Why?")
    assert not problem.is_visible()


def test_branch_with_news_opens_its_page_then_compares_with_its_parent(
    ui: Ui, completed_job: dict[str, Any], api_client: ApiClient
) -> None:
    open_job(ui, completed_job)
    page = ui.page
    parent = completed_job["id"]
    rounds = page.locator("#branch-round option").count()
    assert rounds >= 2
    page.select_option("#branch-round", "2")
    row = page.locator("#branch-form .event-row").first
    # The first row starts at day 0: right after the branch round.
    assert row.locator(".event-day").input_value() == "0"
    assert "right after the branch round (round 3)" in row.locator(".event-day ~ .hint").inner_text()

    # A row without a headline is refused at its headline, and nothing is made.
    page.click("#branch-run")
    headline_problem = row.locator(".event-headline ~ .field-problem")
    assert headline_problem.inner_text() == "Write a headline for this event, or remove it."
    assert row.locator(".event-headline").get_attribute("aria-invalid") == "true"
    assert page.url.endswith(f"/jobs/{parent}")

    headline = f"Transit workers' union endorses Measure T ({uuid.uuid4().hex[:6]})"
    row.locator(".event-headline").fill(headline)
    row.locator(".event-text").fill("The union's 4,000 members are urged to vote YES.")
    row.locator(".event-favours").select_option("yes")
    ui.shot("branch-new")
    page.click("#branch-run")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_function(f"() => location.pathname !== '/jobs/{parent}'")
    branch_id = int(page.url.rsplit("/", 1)[1])
    banner = page.locator("#branch-banner")
    banner.wait_for()
    assert banner.locator("p").first.inner_text() == f"What-if branch of job #{parent} after round 2"
    assert page.locator("#branch-parent").get_attribute("href") == f"/jobs/{parent}"
    assert headline in banner.inner_text()

    job = api_client.wait_for(branch_id)
    assert job["status"] == "COMPLETED", job.get("error_message")
    assert job["branch_of"] == parent and job["branch_round"] == 2
    page.reload()
    comparison = page.locator("#branch-comparison")
    comparison.wait_for()
    # The comparison comes first, before the forecast card.
    first = page.evaluate("() => document.querySelector('.job-body > .card').id")
    assert first == "branch-comparison"
    assert ESTIMATE.match(page.locator("#compare-before").inner_text()), page.locator(
        "#compare-before"
    ).inner_text()
    assert ESTIMATE.match(page.locator("#compare-after").inner_text()), page.locator(
        "#compare-after"
    ).inner_text()
    assert MOVE.match(page.locator("#compare-delta").inner_text())
    assert headline in comparison.inner_text()
    camps = comparison.locator("tr[data-camp] th").all_inner_texts()
    assert camps and set(camps) <= CAMPS
    assert comparison.locator("tr[data-market]").count() >= 1
    assert banner.is_visible()
    assert not ui.axe(), ui.axe()
    assert not ui.overflow(), ui.overflow()
    ui.shot("branch-comparison")

    # The parent lists it, with its forecast.
    page.click("#branch-parent")
    page.wait_for_url(re.compile(rf"/jobs/{parent}$"))
    page.wait_for_selector("#branch-list")
    item = page.locator(f"#branch-list .branch-item[data-job='{branch_id}']")
    assert item.locator(".branch-link").inner_text() == f"Branch #{branch_id}"
    assert "after round 2" in item.inner_text()
    assert re.search(
        r"Forecast \d{1,3}(\.\d)?% \(80% interval", item.locator(".branch-forecast").inner_text()
    )
    assert headline in item.locator(".branch-events").inner_text()


def test_round_refused_by_the_server_is_shown_at_the_round(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    page = ui.page
    # A round past the run's end, as an out-of-date page could send: the server names the field.
    page.evaluate(
        "() => { const s = document.querySelector('#branch-round');"
        " s.append(Object.assign(document.createElement('option'),"
        " {value: '999', textContent: 'Round 999'}));"
        " s.value = '999'; }"
    )
    page.locator("#branch-form .event-headline").first.fill("Late news")
    page.click("#branch-run")
    problem = page.locator("#branch-round-error")
    problem.wait_for()
    assert re.match(r"^The round must be within 0\.\.\d+", problem.inner_text()), problem.inner_text()
    assert page.locator("#branch-round").get_attribute("aria-invalid") == "true"
    assert page.url.endswith(f"/jobs/{completed_job['id']}")


def test_news_shows_in_the_replay_and_on_the_chart(ui: Ui, events_job: dict[str, Any]) -> None:
    ui.goto(f"/jobs/{events_job['id']}")
    page = ui.page
    page.wait_for_selector("#market-chart svg.chart")
    # The job's own events under its title.
    assert EVENT["headline"] in page.locator("#job-events").inner_text()

    # The replay: a news entry, apart from the posts, with its day and side.
    page.select_option("#chat-replay select[name=kind]", "news")
    news = page.locator("#chat-replay .chat-entry.kind-news")
    assert news.count() == 1
    assert news.locator(".news-headline").inner_text() == EVENT["headline"]
    assert news.locator(".news-day").inner_text() == "day 10"
    assert news.locator(".news-favours").inner_text() == "favours YES"
    assert news.locator(".news-text").inner_text() == EVENT["text"]
    page.locator("#chat").scroll_into_view_if_needed()
    ui.shot("news-replay", full_page=False)

    # The chart: one marker at the event's round, its headline in the tooltip and listed below.
    marker = page.locator("#market-chart g.chart-event")
    assert marker.count() == 1
    assert EVENT["headline"] in (marker.locator("title").text_content() or "")
    round_no = marker.get_attribute("data-round")
    assert f"Round {round_no}, day 10: {EVENT['headline']}" in page.locator("#chart-events").inner_text()
    # Arrow keys to the event's round: the tooltip names the news.
    page.focus("#market-chart .chart-plot")
    page.keyboard.press("Home")
    for _ in range(int(round_no or 0)):
        page.keyboard.press("ArrowRight")
    tip = page.locator("#market-chart .chart-tip")
    assert tip.locator(".chart-tip-round").inner_text() == f"Round {round_no}"
    assert tip.locator(".chart-tip-news").inner_text() == f"News (day 10): {EVENT['headline']}"


def test_new_simulation_sends_scheduled_events(ui: Ui, api_client: ApiClient) -> None:
    ui.goto("/jobs/new")
    page = ui.page
    page.wait_for_selector("#scheduled-events")
    page.fill("#seed_text", DEMO_SEED.read_text(encoding="utf-8"))
    page.fill("#goal", DEMO_GOAL)
    page.fill("#forecast_days", "20")
    assert page.locator("#scheduled-events .event-row").count() == 0
    page.click("#scheduled-events .event-add")
    row = page.locator("#scheduled-events .event-row").first
    # Focus goes to the new row's day.
    assert page.evaluate("() => document.activeElement.classList.contains('event-day')")
    row.locator(".event-day").fill("25")
    row.locator(".event-headline").fill("State auditor finds the streetcar costs were understated")
    row.locator(".event-favours").select_option("no")
    page.click("#launch")
    day_problem = row.locator(".event-day ~ .field-problem")
    assert day_problem.inner_text() == "The day is a whole number from 1 to 20."
    assert page.url.endswith("/jobs/new")
    row.locator(".event-day").fill("12")
    ui.shot("new-job-events")
    page.click("#launch")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    job_id = int(page.url.rsplit("/", 1)[1])
    try:
        job = api_client.call("GET", f"/api/jobs/{job_id}")["job"]
        assert job["events"] == [
            {
                "day": 12,
                "headline": "State auditor finds the streetcar costs were understated",
                "text": "",
                "favours": "no",
            }
        ]
        page.wait_for_selector("#job-events")
        assert (
            "State auditor finds the streetcar costs were understated"
            in page.locator("#job-events").inner_text()
        )
    finally:
        # Only the form is under test: the run itself is not needed.
        api_client.http.post(f"/api/jobs/{job_id}/cancel")


def test_job_page_with_interviews_and_what_if_is_accessible(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    page = ui.page
    page.wait_for_selector("#branch-list, #branch-none")
    links = page.locator("#results-bar .section-nav a").all_inner_texts()
    assert "Interviews" in links and "What if?" in links
    page.click("#results-bar a[data-section='whatif']")
    page.wait_for_function(
        "() => { const t = document.querySelector('#whatif').getBoundingClientRect().top;"
        " return t >= 0 && t < innerHeight; }"
    )
    assert not ui.axe(), ui.axe()
    assert not ui.overflow(), ui.overflow()
    # The controls are reached by Tab, in order (the transcripts between them hold none), and named.
    controls = ["#interview-target", "#interview-question", "#interview-ask", "#branch-round"]
    page.focus(controls[0])
    for expected in controls[1:]:
        page.keyboard.press("Tab")
        assert page.evaluate("() => '#' + document.activeElement.id") == expected
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('event-day')")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll(
                ':is(#interviews, #whatif) :is(input, select, textarea, button)')]
            .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
            .map((el) => el.id || el.outerHTML.slice(0, 60))"""
    )
    assert not unnamed, unnamed
    ui.shot("job-whatif")
