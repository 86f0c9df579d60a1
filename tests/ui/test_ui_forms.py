"""Every form says what is wrong at the field it concerns, in plain words, once — at desktop and
phone sizes (tests/ui/conftest.py).

- A problem sits under its field, tied to it (aria-invalid, aria-describedby), and appears once
  on the page: never also in a box above the form, never with a raw field name or the framework's
  wording. Simple problems (an empty email, a short password, an empty question) are caught before
  anything is sent; what only the server knows (a common password) lands at the field too.
- A seed over the limit is refused at the field and kept whole — a paste and a loaded file alike.
- The tier picker shows whole labels; web enrichment follows whether the server has a search
  provider, and says why when it has none.
- A visitor who runs a sample from the home page signs up and lands on the filled-in form.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from services.gateway.tests.support import PASSWORD, unique_email
from tests.fixtures.stack import RunningStack
from tests.ui.conftest import Ui

SEED_MAX = 50_000
# What no message on screen may contain: raw field names and the framework's wording.
RAW = re.compile(
    r"seed_text|new_password|current_password|forecast_days"
    r"|String should|Input should|value is not a valid|Field required"
)


def _config(stack: RunningStack) -> dict[str, Any]:
    reply = httpx.get(f"{stack.gateway_url}/api/config", timeout=30)
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


def _posts(ui: Ui, path: str) -> list[str]:
    """The POSTs to `path` the page makes from now on (filled in as they happen)."""
    sent: list[str] = []
    ui.page.on(
        "request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith(path) else None
    )
    return sent


def _field_problem(ui: Ui, input_id: str, message: str, *, error_id: str | None = None) -> None:
    """`message` is shown once, under the field `input_id`, tied to it."""
    error_id = error_id or f"{input_id}-error"
    line = ui.page.locator(f"#{error_id}")
    line.wait_for(state="visible")
    assert line.inner_text() == message
    field = ui.page.locator(f"#{input_id}")
    assert field.get_attribute("aria-invalid") == "true"
    assert error_id in (field.get_attribute("aria-describedby") or "").split()
    # Under its own field: the line follows the input inside the same field group.
    assert ui.page.evaluate(
        "([i, e]) => document.getElementById(i).closest('.field')"
        " === document.getElementById(e).closest('.field')",
        [input_id, error_id],
    )
    assert ui.page.get_by_text(message, exact=True).count() == 1
    assert not RAW.search(ui.page.locator("#main").inner_text())


def _no_box(ui: Ui) -> None:
    """Nothing above the form repeats the problems."""
    assert ui.page.locator("form .alert.error:visible").count() == 0


# --- sign up, log in, password reset -------------------------------------------------------------


def test_signup_problems_at_their_fields(anon_ui: Ui) -> None:
    page = anon_ui.page
    sent = _posts(anon_ui, "/api/auth/register")
    anon_ui.goto("/signup")
    page.click("#submit")
    _field_problem(anon_ui, "email", "Enter your email address.")
    _field_problem(anon_ui, "password", "Choose a password.")
    _no_box(anon_ui)

    page.fill("#email", "not-an-email")
    page.fill("#password", "short")
    page.click("#submit")
    _field_problem(anon_ui, "email", "Enter an email address like name@example.com.")
    _field_problem(anon_ui, "password", "Use at least 8 characters for your password (this one has 5).")
    _no_box(anon_ui)
    assert page.evaluate("document.activeElement.id") == "email"  # the first problem has focus
    assert sent == []  # caught before sending
    anon_ui.shot("signup-errors")

    # Typing in a field clears its problem.
    page.fill("#password", "longer-password")
    assert page.locator("#password-error").is_hidden()
    assert page.get_attribute("#password", "aria-invalid") is None

    # What only the server knows lands at the field too, in words.
    page.fill("#email", unique_email("forms"))
    page.fill("#password", "password123")
    page.click("#submit")
    _field_problem(
        anon_ui, "password", "The password is one of the most commonly used passwords; choose another."
    )
    _no_box(anon_ui)
    assert len(sent) == 1
    assert anon_ui.overflow() == []


def test_login_problems(anon_ui: Ui) -> None:
    page = anon_ui.page
    anon_ui.goto("/login")
    page.click("#submit")
    _field_problem(anon_ui, "email", "Enter your email address.")
    _field_problem(anon_ui, "password", "Enter your password.")
    # A wrong password concerns the pair, not one field: said once, above the form.
    page.fill("#email", unique_email("nobody"))
    page.fill("#password", PASSWORD)
    page.click("#submit")
    box = page.locator("form .alert.error")
    box.wait_for(state="visible")
    message = box.inner_text()
    assert message and message[0].isupper() and page.get_by_text(message, exact=True).count() == 1
    assert page.locator("#email-error").is_hidden() and page.locator("#password-error").is_hidden()


def test_password_reset_forms(anon_ui: Ui) -> None:
    page = anon_ui.page
    anon_ui.goto("/forgot-password")
    page.click("#submit")
    _field_problem(anon_ui, "email", "Enter your email address.")
    anon_ui.goto("/reset-password?token=abc")
    page.fill("#new_password", "1234")
    page.click("#submit")
    _field_problem(anon_ui, "new_password", "Use at least 8 characters for your password (this one has 4).")
    _no_box(anon_ui)
    assert anon_ui.overflow() == []


def test_account_forms(ui: Ui) -> None:
    page = ui.page
    sent = _posts(ui, "/api/profile/password")
    ui.goto("/account")
    page.click("#change-password-submit")
    _field_problem(ui, "current_password", "Enter your current password.")
    _field_problem(ui, "new_password", "Choose a password.")
    page.click("#delete-account-submit")
    _field_problem(ui, "delete_password", "Enter your password to confirm.")
    _field_problem(ui, "delete_confirm", "Tick “I understand” to delete the account.")
    assert sent == []
    assert ui.overflow() == []


# --- new simulation -------------------------------------------------------------------------------


def test_new_simulation_problems_and_the_seed_limit(ui: Ui, stack: RunningStack) -> None:
    page = ui.page
    sent = _posts(ui, "/api/jobs")
    ui.goto("/jobs/new")
    page.wait_for_selector("#new-job")
    assert page.title() == "New simulation · swarmcast"

    # The tier picker: whole labels, whatever the width.
    for name, detail in (
        ("Small", "10 agents, 15 rounds (fastest)"),
        ("Medium", "20 agents, 100 rounds"),
        ("Large", "35 agents, 200 rounds"),
    ):
        card = page.locator(f"label.radio-card:has(input[value='{name.lower()}'])")
        assert card.inner_text().split("\n") == [name, detail]
        assert card.evaluate(
            "el => el.scrollWidth <= el.clientWidth"
            " && [...el.querySelectorAll('*')].every(c => c.scrollWidth <= c.clientWidth + 1)"
        )
    assert page.is_checked("#tier-small")

    # Web enrichment follows the server's search provider.
    enrich = page.locator("#enrich_web")
    if _config(stack)["search_provider"]:
        assert enrich.is_checked() and enrich.is_enabled()
    else:
        assert not enrich.is_checked() and enrich.is_disabled()
        assert "no web search" in page.locator("#enrich_web-hint").inner_text()
    assert ui.overflow() == []
    ui.shot("new-simulation")

    # Empty: said at both fields, nothing sent.
    page.click("#launch")
    _field_problem(
        ui, "seed_text", "Paste the seed document here, or load it from a file.", error_id="seed_error"
    )
    _field_problem(
        ui, "goal", "Write the yes/no question the simulation should forecast.", error_id="goal_error"
    )
    _no_box(ui)

    # A paste over the limit: refused at the field at once, kept whole, never sent.
    over = "word " * (SEED_MAX // 5) + "x"
    assert len(over) == SEED_MAX + 1
    page.fill("#seed_text", over)
    message = "The seed is 50,001 characters; the limit is 50,000. Shorten it by 1 character to continue."
    _field_problem(ui, "seed_text", message, error_id="seed_error")
    page.fill("#goal", "Will Measure T pass on 14 March?")
    page.click("#launch")
    _field_problem(ui, "seed_text", message, error_id="seed_error")
    _no_box(ui)
    assert page.evaluate("document.querySelector('#seed_text').value.length") == SEED_MAX + 1
    assert page.get_attribute("#seed_text", "maxlength") is None
    page.click("#save-draft")  # a draft over the limit is refused the same way
    _field_problem(ui, "seed_text", message, error_id="seed_error")
    assert sent == [] and page.url.endswith("/jobs/new")

    # A loaded file over the limit: the same, named after the file.
    page.set_input_files(
        "#seed_file",
        files=[{"name": "long-briefing.md", "mimeType": "text/markdown", "buffer": ("a" * 60_000).encode()}],
    )
    _field_problem(
        ui,
        "seed_text",
        "long-briefing.md is 60,000 characters; the limit is 50,000."
        " Shorten it by 10,000 characters to continue.",
        error_id="seed_error",
    )
    assert page.evaluate("document.querySelector('#seed_text').value.length") == 60_000

    # A bad horizon, said in words.
    page.fill("#seed_text", "A short seed.")
    page.fill("#forecast_days", "0")
    page.click("#launch")
    _field_problem(ui, "forecast_days", "The forecast horizon is a whole number of days from 1 to 365.")
    assert sent == []

    # The server's refusal of a short seed: at the field, in words.
    page.fill("#forecast_days", "30")
    page.click("#launch")
    _field_problem(
        ui,
        "seed_text",
        "The seed is too short: 3 words; a forecast needs at least 30 words of evidence.",
        error_id="seed_error",
    )
    _no_box(ui)
    assert ui.overflow() == []


def test_sample_for_a_visitor_goes_through_signup(anon_ui: Ui, stack: RunningStack) -> None:
    page = anon_ui.page
    sample_id = _config(stack)["samples"][0]["id"]
    reply = httpx.get(f"{stack.gateway_url}/api/samples/{sample_id}", timeout=30)
    reply.raise_for_status()
    sample = reply.json()
    anon_ui.goto("/")
    page.click(f"#sample-{sample_id} a.run-sample")
    page.wait_for_url(f"{anon_ui.base}/signup?sample={sample_id}")
    page.fill("#email", unique_email("sample"))
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{anon_ui.base}/jobs/new?sample={sample_id}")
    page.wait_for_selector("#new-job")
    assert page.input_value("#seed_text") == sample["seed_text"]
    assert page.input_value("#goal") == sample["goal"]
    assert page.input_value("#forecast_days") == str(sample["forecast_days"])
    assert page.locator(".alert.success").inner_text().startswith("Welcome!")
