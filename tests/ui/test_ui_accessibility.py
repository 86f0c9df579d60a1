"""Every page of the web UI, at desktop and phone size, checked the way a screen-reader or keyboard
user and a phone user meet it: the axe-core scan (no serious or critical violation), nothing wider
than the screen, every form control named, an <h1> and a page title of its own, and Tab reaching
every visible control. Screenshots: `a11y-<page>-<viewport>.png` in the UI screenshot folder.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import AXE_JS, ApiClient, Ui

# name → (path, signed in, what shows once the page has finished loading)
PAGES: dict[str, tuple[str, bool, str]] = {
    "landing": ("/", False, "main h1"),
    "login": ("/login", False, "main form"),
    "signup": ("/signup", False, "main form"),
    "forgot-password": ("/forgot-password", False, "main form"),
    "reset-password": ("/reset-password?token=x", False, "main form"),
    "jobs": ("/jobs", True, "main table, main .card.empty"),
    "new-job": ("/jobs/new", True, "main form"),
    "job": ("/jobs/{job_id}", True, "#report"),
    "track-record": ("/track-record", True, "main h1"),
    "account": ("/account", True, "main form"),
    "share": ("/share/{share_token}", False, "#report"),
    # A path that is no page (the server answers 404 with the app, which shows its own view), and a
    # page path whose job does not exist.
    "not-found": ("/no-such-page", False, "main h1"),
    "missing-job": ("/jobs/999999999", True, "main h1"),
}
# Tab presses at most per page; a page with more controls is checked up to the last one reached.
MAX_TABS = 150
DEFAULT_TITLE = "swarmcast"


@pytest.fixture(autouse=True)
def _stack_before_browser(stack: Any) -> None:
    """The session stack starts with asyncio.run, which cannot run once Playwright's loop is up."""


@pytest.fixture
def share_token(completed_job: dict[str, Any], api_client: ApiClient) -> str:
    """A fresh share link of the completed job (a new link replaces any earlier one)."""
    share_url: str = api_client.call("POST", f"/api/jobs/{completed_job['id']}/share")["share_url"]
    return share_url.rstrip("/").rsplit("/", 1)[-1]


def open_page(request: pytest.FixtureRequest, name: str) -> Ui:
    """The page `name` in a fresh browser at the test's viewport, loaded and settled."""
    path, signed_in, ready = PAGES[name]
    if "{job_id}" in path:
        path = path.format(job_id=request.getfixturevalue("completed_job")["id"])
    if "{share_token}" in path:
        path = path.format(share_token=request.getfixturevalue("share_token"))
    ui: Ui = request.getfixturevalue("ui" if signed_in else "anon_ui")
    ui.goto(path)
    ui.page.wait_for_selector(ready, state="attached")
    # The router's and the results page's "Loading…" placeholders are gone.
    ui.page.wait_for_function("() => !document.querySelector('main .loading')")
    return ui


def load_axe(ui: Ui) -> None:
    """axe-core evaluated through the DevTools protocol: the page's Content-Security-Policy
    (script-src 'self') blocks the inline <script> tag Ui.axe() would otherwise add."""
    if not ui.page.evaluate("typeof window.axe === 'object'"):
        ui.page.evaluate(AXE_JS.read_text(encoding="utf-8"))


def describe_axe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"      at {' '.join(target)}" for target in v["nodes"])
    return "\n".join(lines)


def unnamed_controls(ui: Ui) -> list[str]:
    """Visible and hidden-but-rendered form controls whose accessible name (axe's computation) is empty."""
    load_axe(ui)
    found: list[str] = ui.page.evaluate(
        """() => {
            axe.setup(document);
            try {
                const out = [];
                for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
                    const name = axe.commons.text.accessibleTextVirtual(axe.utils.getNodeFromTree(el)).trim();
                    if (!name) out.push(el.outerHTML.slice(0, 160));
                }
                return out;
            } finally {
                axe.teardown();
            }
        }"""
    )
    return found


# Marks every visible control a keyboard user should reach (data-a11y-k = its index in document
# order) and returns their descriptions; radios of one group count as one stop (arrows move inside).
MARK_FOCUSABLE = """() => {
    const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
    const out = [];
    const radioGroups = new Map();
    for (const el of document.querySelectorAll(sel)) {
        if (el.disabled || el.closest('[inert]') || el.tabIndex < 0) continue;
        const style = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        if (style.visibility !== 'visible' || (r.width === 0 && r.height === 0)) continue;
        let key = out.length;
        if (el.type === 'radio' && el.name) {
            const group = `${el.form ? 'form' : 'doc'}:${el.name}`;
            if (radioGroups.has(group)) key = radioGroups.get(group);
            else radioGroups.set(group, key);
            el.dataset.a11yK = String(key);
            if (key !== out.length) continue;
        }
        el.dataset.a11yK = String(key);
        const label = el.getAttribute('aria-label') || el.textContent || el.value || el.name || '';
        const text = label.trim().replace(/\\s+/g, ' ').slice(0, 50);
        const href = el.getAttribute('href') ? ` href=${el.getAttribute('href')}` : '';
        out.push(`<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${href}> ${text}`);
    }
    // The Tab walk starts at the very top of the page.
    const start = document.createElement('span');
    start.tabIndex = -1;
    start.id = 'a11y-tab-start';
    start.style.position = 'absolute';
    document.body.prepend(start);
    start.focus({ preventScroll: true });
    return out;
}"""


# The control Tab landed on (its data-a11y-k) and whether it shows where focus is: an outline, a
# ring (box-shadow), or for a drawn SVG control a thick stroke on its shape.
FOCUSED = """() => {
    const el = document.activeElement;
    const marked = el?.closest?.('[data-a11y-k]');
    if (!marked) return null;
    const shows = (node) => {
        if (!node) return false;
        const st = getComputedStyle(node);
        if (st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 1) return true;
        if (st.boxShadow && st.boxShadow !== 'none') return true;
        return node instanceof SVGElement && parseFloat(st.strokeWidth) >= 2.5 && st.stroke !== 'none';
    };
    const shape = el instanceof SVGElement ? el.querySelector('circle, rect, path') : null;
    return [marked.dataset.a11yK, shows(el) || shows(shape)];
}"""


def tab_walk(ui: Ui) -> tuple[list[str], list[str], list[str]]:
    """The controls to reach, those Tab did not reach (MAX_TABS presses at most; past the cap only
    the controls before the last one reached are owed), and those focused without a visible sign."""
    controls: list[str] = ui.page.evaluate(MARK_FOCUSABLE)
    presses = 2 * len(controls) + 5
    reached: set[int] = set()
    unmarked: set[int] = set()
    for _ in range(min(MAX_TABS, presses)):
        ui.page.keyboard.press("Tab")
        focused = ui.page.evaluate(FOCUSED)
        if focused is not None:
            key, shows = int(focused[0]), bool(focused[1])
            reached.add(key)
            if not shows:
                unmarked.add(key)
        if len(reached) == len(controls):
            break
    owed = len(controls) if presses <= MAX_TABS else max(reached, default=-1) + 1
    missed = [controls[k] for k in range(owed) if k not in reached]
    return controls, missed, [controls[k] for k in sorted(unmarked)]


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_violation(request: pytest.FixtureRequest, name: str, viewport: str) -> None:
    ui = open_page(request, name)
    ui.shot(f"a11y-{name}")
    load_axe(ui)
    violations = ui.axe()
    assert not violations, f"axe on {name} ({viewport}):\n{describe_axe(violations)}"


@pytest.mark.parametrize("name", list(PAGES))
def test_nothing_wider_than_the_screen(request: pytest.FixtureRequest, name: str, viewport: str) -> None:
    ui = open_page(request, name)
    wide = ui.overflow()
    assert not wide, f"{name} ({viewport}) has elements past the right edge:\n  " + "\n  ".join(wide)
    # The top bar is one row: every visible link and button in it sits level with the brand.
    rows = ui.page.evaluate(
        """() => {
            const brand = document.querySelector('.topbar .brand').getBoundingClientRect();
            const off = (r) => r.width && r.height && (r.top >= brand.bottom || r.bottom <= brand.top);
            return [...document.querySelectorAll('.topbar a, .topbar button')]
                .filter((el) => off(el.getBoundingClientRect()))
                .map((el) => `${el.textContent.trim()} at y=${Math.round(el.getBoundingClientRect().top)}`);
        }"""
    )
    assert not rows, f"{name} ({viewport}): the top bar wraps to a second row:\n  " + "\n  ".join(rows)


@pytest.mark.parametrize("name", list(PAGES))
def test_controls_named_and_page_headed(request: pytest.FixtureRequest, name: str, viewport: str) -> None:
    ui = open_page(request, name)
    unnamed = unnamed_controls(ui)
    assert not unnamed, (
        f"{name} ({viewport}) has form controls without an accessible name:\n  " + "\n  ".join(unnamed)
    )
    headings = ui.page.locator("h1").all_inner_texts()
    assert [t for t in headings if t.strip()], f"{name} ({viewport}) has no <h1> with text"


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_its_own_title(request: pytest.FixtureRequest, name: str, viewport: str) -> None:
    ui = open_page(request, name)
    title = ui.page.title().strip()
    assert title and title != DEFAULT_TITLE, f"{name} ({viewport}) keeps the default document title {title!r}"


@pytest.mark.parametrize("name", list(PAGES))
def test_tab_reaches_every_control(request: pytest.FixtureRequest, name: str, viewport: str) -> None:
    ui = open_page(request, name)
    controls, missed, unmarked = tab_walk(ui)
    assert controls, f"{name} ({viewport}) has no control a keyboard can reach"
    assert not missed, f"Tab on {name} ({viewport}) never reaches:\n  " + "\n  ".join(missed)
    assert not unmarked, f"on {name} ({viewport}) focus is invisible on:\n  " + "\n  ".join(unmarked)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_skip_link_appears_on_first_tab(request: pytest.FixtureRequest, viewport: str) -> None:
    ui = open_page(request, "login")
    link = ui.page.locator(".skip-link")
    viewport_size = ui.page.viewport_size or {"width": 0, "height": 0}

    def on_screen() -> bool:
        box = link.bounding_box()
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport_size["height"]

    assert not on_screen(), "the skip link shows before anyone tabs to it"
    ui.page.evaluate(MARK_FOCUSABLE)
    ui.page.keyboard.press("Tab")
    assert ui.page.evaluate("document.activeElement.classList.contains('skip-link')"), (
        "the first Tab stop is not the skip link"
    )
    assert on_screen(), "the focused skip link is off screen"
    ui.shot("a11y-skip-link", full_page=False)
    ui.page.keyboard.press("Enter")
    ui.page.wait_for_function(
        "() => document.activeElement?.id === 'main' || document.activeElement?.closest('main')"
    )


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_reduced_motion_stills_the_results_page(request: pytest.FixtureRequest, viewport: str) -> None:
    ui = open_page(request, "job")
    ui.page.emulate_media(reduced_motion="reduce")
    moving = ui.page.evaluate(
        """() => {
            const one = (t) => parseFloat(t) * (/ms$/.test(t.trim()) ? 1e-3 : 1);
            const secs = (v) => Math.max(...v.split(',').map(one));
            const out = [];
            for (const el of document.querySelectorAll('*')) {
                const st = getComputedStyle(el);
                const animated = st.animationName === 'none' ? 0 : secs(st.animationDuration);
                const longest = Math.max(secs(st.transitionDuration), animated);
                const what = `${el.tagName.toLowerCase()}.${el.getAttribute('class') || ''}`;
                if (longest > 0.01) out.push(`${what} ${longest}s`);
            }
            return out.slice(0, 10);
        }"""
    )
    assert not moving, "with reduced motion asked for, these still move:\n  " + "\n  ".join(moving)
