"""The web UI in headless Chromium at the two sizes every page must work at, against the session stack.

Fixtures:
- `viewport` (parametrized): "desktop" (1440×900) and "phone" (390×844); a test that takes `ui`
  runs once per size.
- `ui`: a `Ui` — a fresh browser context at that size, signed in as `ui_account` (its own token pair,
  put in localStorage the way the login page does). `anon_ui`: the same, signed out.
- `ui_account` (session): one signed-up user. `completed_job` (session): a small-tier job of that
  user on demos/harbor_transit.md, run to COMPLETED, as the API returns it. `events_job` (session):
  the same with one scheduled event (`EVENT`, news on day 10 favouring YES), run to COMPLETED.
Every `Ui` fails its test at teardown when the page logged a script error.

Screenshots go to `SCREENSHOTS` (`.run/screenshots/ui/` in the checkout, or $SWARMCAST_SCREENSHOTS),
named `<name>-<viewport>.png`: the closing notes point there.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.config import REPO_ROOT
from services.gateway.tests.support import PASSWORD, client_address, unique_email
from tests.fixtures.browser import launch_browser
from tests.fixtures.stack import RunningStack

VIEWPORTS: dict[str, dict[str, int]] = {
    "desktop": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}
SCREENSHOTS = Path(os.environ.get("SWARMCAST_SCREENSHOTS") or REPO_ROOT / ".run" / "screenshots" / "ui")
AXE_JS = REPO_ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
DEMO_SEED = REPO_ROOT / "demos" / "harbor_transit.md"
DEMO_GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
TERMINAL = {"COMPLETED", "FAILED", "REFUNDED"}
# The scheduled event of `events_job`: news every agent sees on day 10 of its 30-day horizon.
EVENT = {
    "day": 10,
    "headline": "County poll puts the levy eight points ahead",
    "text": "A county-wide poll of likely voters has YES at 54% and NO at 46%.",
    "favours": "yes",
}
# Console noise that is not a script error: the browser's own line for an HTTP error answer (the
# app shows those to the user; tests assert what it shows).
BENIGN_CONSOLE = ("Failed to load resource",)


@dataclass
class Account:
    email: str
    password: str
    user: dict[str, Any]


class ApiClient:
    """The gateway over HTTP as one signed-in user (own client address for per-address limits)."""

    def __init__(self, base_url: str, account: Account) -> None:
        self.http = httpx.Client(
            base_url=base_url, timeout=30.0, headers={"X-Forwarded-For": client_address()}
        )
        reply = self.http.post("/api/auth/login", json={"email": account.email, "password": account.password})
        reply.raise_for_status()
        self.session = reply.json()
        self.http.headers["Authorization"] = f"Bearer {self.session['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.http.request(method, path, **kwargs)
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def create_job(
        self,
        *,
        tier: str = "small",
        goal: str = DEMO_GOAL,
        seed_text: str | None = None,
        events: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "seed_text": seed_text if seed_text is not None else DEMO_SEED.read_text(encoding="utf-8"),
            "goal": goal,
            "tier": tier,
            "forecast_days": 30,
            "enrich_web": False,
        }
        if events is not None:
            body["events"] = events
        job: dict[str, Any] = self.call("POST", "/api/jobs", json=body)["job"]
        return job

    def wait_for(
        self, job_id: int, statuses: set[str] | frozenset[str] = frozenset(TERMINAL), timeout: float = 240.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.call("GET", f"/api/jobs/{job_id}")["job"]
            if job["status"] in statuses:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['status']} after {timeout:.0f} s")
            time.sleep(0.5)

    def close(self) -> None:
        self.http.close()


@dataclass
class Ui:
    """One browser context and page at one viewport, with the checks every UI test wants."""

    page: Any
    context: Any
    base: str
    viewport: str
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(f"{self.base}{path}")

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        """A screenshot `<name>-<viewport>.png` in SCREENSHOTS."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{self.viewport}.png"
        self.page.screenshot(path=path, full_page=full_page)
        return path

    def axe(self) -> list[dict[str, Any]]:
        """The axe-core scan of the page as it is now: the serious and critical violations."""
        if not AXE_JS.exists():
            pytest.fail(f"{AXE_JS} is missing: run `make setup` (axe-core is a .tools npm package)")
        if not self.page.evaluate("typeof window.axe === 'object'"):
            # evaluate, not a <script> tag: the page's CSP allows only its own scripts
            self.page.evaluate(AXE_JS.read_text(encoding="utf-8"))
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"][:5]],
            }
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def overflow(self) -> list[str]:
        """Elements wider than the screen (their right edge past the viewport): empty when none."""
        found: list[str] = self.page.evaluate(
            """() => {
                const width = document.documentElement.clientWidth;
                const out = [];
                const page = document.documentElement.scrollWidth;
                if (page > width + 1) out.push(`page scrollWidth ${page} > ${width}`);
                for (const el of document.querySelectorAll('body *')) {
                    const r = el.getBoundingClientRect();
                    if (r.width === 0 || r.height === 0) continue;
                    let scroller = el.parentElement, clipped = false;
                    while (scroller && scroller !== document.body) {
                        const o = getComputedStyle(scroller).overflowX;
                        if (o === 'auto' || o === 'scroll' || o === 'hidden') { clipped = true; break; }
                        scroller = scroller.parentElement;
                    }
                    if (clipped || r.right <= width + 1) continue;
                    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
                    out.push(`${name}.${[...el.classList].join('.')} right=${Math.round(r.right)}`);
                }
                return out.slice(0, 20);
            }"""
        )
        return found


@pytest.fixture(scope="session")
def ui_account(stack: RunningStack) -> Account:
    email = unique_email("ui")
    with httpx.Client(
        base_url=stack.gateway_url, timeout=30.0, headers={"X-Forwarded-For": client_address()}
    ) as http:
        reply = http.post("/api/auth/register", json={"email": email, "password": PASSWORD})
        reply.raise_for_status()
        return Account(email=email, password=PASSWORD, user=reply.json()["user"])


@pytest.fixture
def api_client(stack: RunningStack, ui_account: Account) -> Iterator[ApiClient]:
    client = ApiClient(stack.gateway_url, ui_account)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def completed_job(stack: RunningStack, ui_account: Account) -> dict[str, Any]:
    client = ApiClient(stack.gateway_url, ui_account)
    try:
        job = client.wait_for(client.create_job()["id"])
    finally:
        client.close()
    assert job["status"] == "COMPLETED", job.get("error_message")
    return job


@pytest.fixture(scope="session")
def events_job(stack: RunningStack, ui_account: Account) -> dict[str, Any]:
    client = ApiClient(stack.gateway_url, ui_account)
    try:
        job = client.wait_for(client.create_job(events=[EVENT])["id"])
    finally:
        client.close()
    assert job["status"] == "COMPLETED", job.get("error_message")
    return job


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _open_ui(
    playwright_api: Any, stack: RunningStack, profile: Path, viewport: str, session: dict[str, Any] | None
) -> Ui:
    context = launch_browser(
        playwright_api,
        profile,
        viewport=VIEWPORTS[viewport],
        extra_http_headers={"X-Forwarded-For": client_address()},
    )
    if session is not None:
        stored = {k: session[k] for k in ("access_token", "refresh_token", "user")}
        # Only into a profile that has none yet: a test that logs out stays logged out.
        context.add_init_script(
            "if (!localStorage.getItem('swarmcast.ui-seeded')) {"
            f" localStorage.setItem('swarmcast.session', {json.dumps(json.dumps(stored))});"
            " localStorage.setItem('swarmcast.ui-seeded', '1'); }"
        )
    page = context.new_page()
    page.set_default_timeout(30_000)
    ui = Ui(page=page, context=context, base=stack.gateway_url, viewport=viewport)
    page.on(
        "console",
        lambda m: (
            ui.errors.append(m.text) if m.type == "error" and not m.text.startswith(BENIGN_CONSOLE) else None
        ),
    )
    page.on("pageerror", lambda e: ui.errors.append(f"pageerror: {e}"))
    return ui


@pytest.fixture
def ui(
    stack: RunningStack, playwright_api: Any, ui_account: Account, tmp_path: Path, viewport: str
) -> Iterator[Ui]:
    client = ApiClient(stack.gateway_url, ui_account)
    session = client.session
    client.close()
    opened = _open_ui(playwright_api, stack, tmp_path / "profile", viewport, session)
    try:
        yield opened
    finally:
        opened.context.close()
    assert not opened.errors, opened.errors


@pytest.fixture
def anon_ui(stack: RunningStack, playwright_api: Any, tmp_path: Path, viewport: str) -> Iterator[Ui]:
    opened = _open_ui(playwright_api, stack, tmp_path / "anon-profile", viewport, None)
    try:
        yield opened
    finally:
        opened.context.close()
    assert not opened.errors, opened.errors
