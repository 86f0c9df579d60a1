"""The new-simulation form's questions in headless Chromium, at desktop and phone sizes.

A seed too short to forecast from is refused with its message at the seed field; an open-ended goal
is refused with its reason and clickable yes/no questions at the goal field, one click fills the
goal; "Suggest questions" does the same before submitting. Nothing is submitted until the inputs
are good. Screenshots land in the test's tmp_path/screenshots.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from services.common.config import REPO_ROOT
from services.gateway.tests.support import PASSWORD, client_address, unique_email
from tests.fixtures.browser import launch_browser
from tests.fixtures.stack import RunningStack

DEMO = REPO_ROOT / "demos" / "harbor_transit.md"
SHORT_SEED = "The council votes on the Eastline levy in March. The mayor supports it."
OPEN_GOAL = "Predict sentiment about the levy"
# The signed-in user's jobs, as the page itself would ask for them.
LIST_JOBS = """async () => {
  const token = JSON.parse(localStorage.getItem('swarmcast.session')).access_token;
  const res = await fetch('/api/jobs', {headers: {Authorization: `Bearer ${token}`}});
  return (await res.json()).jobs;
}"""
CANCEL_JOB = """async (id) => {
  const token = JSON.parse(localStorage.getItem('swarmcast.session')).access_token;
  await fetch(`/api/jobs/${id}/cancel`, {method: 'POST', headers: {Authorization: `Bearer ${token}`}});
}"""


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)
def test_the_form_refuses_at_the_field_and_offers_questions(
    stack: RunningStack, playwright_api: Any, tmp_path: Path, viewport: dict[str, int]
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    console: list[str] = []
    context = launch_browser(
        playwright_api,
        tmp_path / "profile",
        viewport=viewport,
        extra_http_headers={"X-Forwarded-For": client_address()},
    )
    try:
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.set_default_timeout(30_000)
        base = stack.gateway_url
        page.goto(f"{base}/signup")
        page.fill("#email", unique_email("questions"))
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.wait_for_url(f"{base}/jobs/new")
        page.uncheck("#enrich_web")

        # A seed of 13 words: refused at the seed field, the page stays.
        page.fill("#seed_text", SHORT_SEED)
        assert page.locator("#seed_counter").inner_text().startswith("13 words")
        page.fill("#goal", "Will Measure T pass on 14 March?")
        page.click("#launch")
        seed_error = page.locator("#seed_error")
        seed_error.wait_for(state="visible")
        assert seed_error.inner_text() == (
            "The seed is too short: 13 words; a forecast needs at least 30 words of evidence."
        )
        assert page.get_attribute("#seed_text", "aria-invalid") == "true"
        assert page.locator("#goal_error").is_hidden()
        page.screenshot(path=shots / "01-short-seed.png", full_page=True)

        # An open-ended goal beside a real seed: the reason and the questions at the goal field.
        page.set_input_files("#seed_file", str(DEMO))
        page.wait_for_function("document.querySelector('#seed_text').value.includes('Measure T')")
        assert seed_error.is_hidden()  # a new seed clears the old complaint
        page.fill("#goal", OPEN_GOAL)
        page.click("#launch")
        goal_error = page.locator("#goal_error")
        goal_error.wait_for(state="visible")
        assert "not whether one event happens" in goal_error.inner_text()
        offered = page.locator("#goal_suggestions button.suggestion")
        offered.first.wait_for(state="visible")
        questions = offered.all_inner_texts()
        assert 1 <= len(questions) <= 3 and all(q.startswith("Will ") for q in questions), questions
        page.screenshot(path=shots / "02-open-goal.png", full_page=True)
        offered.first.click()
        assert page.input_value("#goal") == questions[0]
        assert goal_error.is_hidden() and page.locator("#goal_suggestions").is_hidden()
        assert page.evaluate(LIST_JOBS) == []  # nothing was submitted so far

        # "Suggest questions" before submitting: pick the last one offered.
        page.fill("#goal", "")
        page.click("#suggest-questions")
        offered.first.wait_for(state="visible")
        assert re.search(r"questions this seed can answer", page.locator("#goal_info").inner_text(), re.I)
        chosen = offered.last.inner_text()
        offered.last.click()
        assert page.input_value("#goal") == chosen
        page.screenshot(path=shots / "03-suggested.png", full_page=True)

        page.click("#launch")
        page.wait_for_url(re.compile(r".*/jobs/\d+$"))
        job_id = int(page.url.rsplit("/", 1)[1])
        assert page.locator("#job-goal").inner_text() == chosen
        page.evaluate(CANCEL_JOB, job_id)  # the run itself is not what this test is about
    finally:
        context.close()
    # The browser logs each refused request (422) itself; anything else is a fault of the page.
    assert [line for line in console if "status of 422" not in line] == [], console
