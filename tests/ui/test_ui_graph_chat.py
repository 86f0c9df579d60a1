"""The entity graph and the chat replay in the browser, at desktop and phone size: every entity and
its label inside the frame with no two labels on top of each other (also for a dense synthetic
graph), zoom by button and wheel, search, the camp filter, details on Enter; "Show more" only when
there is more, trades as sentences, 'chat-reveal' bringing a later entry into view, and a shared
timeline moving the replay and the graph together.

Synthetic graphs and entry lists go through the page's own modules (dynamic import), so the small
session job need not have many entities or entries. Screenshots: entity-graph-, chat-replay-<viewport>.png.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.ui.conftest import Ui

# Circles and visible labels of the figure at `sel`, checked against its SVG's box: what lies
# outside, and which pairs of visible labels overlap (by more than half a pixel each way).
GEOMETRY = """(sel) => {
    const fig = document.querySelector(sel);
    const box = fig.querySelector('svg.graph').getBoundingClientRect();
    const out = (r) => r.left < box.left - 0.5 || r.top < box.top - 0.5
        || r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5;
    const result = { nodes: 0, labels: 0, outside: [], overlaps: [] };
    const labels = [];
    for (const g of fig.querySelectorAll('g.node')) {
        result.nodes += 1;
        const name = g.getAttribute('aria-label');
        if (out(g.querySelector('circle').getBoundingClientRect())) result.outside.push(`circle of ${name}`);
        const text = fig.querySelector(`.node-label[data-entity="${CSS.escape(g.dataset.entity)}"]`);
        if (!text || getComputedStyle(text).display === 'none') continue;
        const r = text.getBoundingClientRect();
        if (out(r)) result.outside.push(`label of ${name}`);
        labels.push([name, r]);
    }
    result.labels = labels.length;
    for (let i = 0; i < labels.length; i += 1) {
        for (let j = i + 1; j < labels.length; j += 1) {
            const [a, ra] = labels[i];
            const [b, rb] = labels[j];
            const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
            const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
            if (w > 0.5 && h > 0.5) result.overlaps.push(`${a} / ${b}`);
        }
    }
    return result;
}"""

# A deterministic graph of n entities and m distinct connections, with long-ish names.
SYNTH_GRAPH = """(n, m) => {
    let x = 7;
    const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const words = ['Harbor', 'Transit', 'Union', 'Council', 'League', 'Chamber', 'Riders', 'Port',
                   'Eastline', 'Voters', 'Alliance', 'Mayor'];
    const nodes = Array.from({ length: n }, (_, k) => ({
        id: `e${k}`, label: `${words[k % words.length]} ${words[(k * 5 + 3) % words.length]} ${k}`,
        kind: 'organization', stance: Math.round((rnd() * 2 - 1) * 100) / 100, initial_stance: 0,
        sentiment: 0, influence: Math.round(rnd() * 1000) / 1000, agents: 1,
    }));
    const edges = [];
    const seen = new Set();
    while (edges.length < m) {
        const a = Math.floor(rnd() * n);
        const b = Math.floor(rnd() * n);
        const key = `${Math.min(a, b)}|${Math.max(a, b)}`;
        if (a === b || seen.has(key)) continue;
        seen.add(key);
        const type = rnd() < 0.5 ? 'supports' : 'opposes';
        edges.push({ source: `e${a}`, target: `e${b}`, type, weight: 1 + Math.floor(rnd() * 5) });
    }
    return { nodes, edges };
}"""

# `count` entries over 5 rounds: posts (ids 0, 1, …) and trades (ids 0, 1, …) in turn.
SYNTH_ENTRIES = """(count) => Array.from({ length: count }, (_, k) => {
    const round = 1 + Math.floor((k * 5) / count);
    const author = `Agent ${k % 9}`;
    if (k % 3 === 2) {
        return { round, kind: 'trade', trade_id: Math.floor(k / 3), author_id: k % 9, author,
                 market_id: 'm1', side: 'buy', outcome: 'yes', shares: 2, cash: 1.1,
                 price_before: 0.5, price_after: 0.51,
                 text: 'bought 2.00 YES on m1 for 1.10 (YES 0.500 -> 0.510)' };
    }
    return { round, kind: 'post', post_id: k - Math.floor(k / 3), author_id: k % 9, author,
             text: `entry ${k}`, parent_id: null, market_id: null };
})"""

# Replaces the page's graph and replay with figures built here (one #chat-replay on the page).
MOUNT = """async ([graph, entries, rounds, opts]) => {
    const { entityGraphFigure } = await import('/assets/graph.js');
    const { chatReplay } = await import('/assets/chat.js');
    const { createTimeline } = await import('/assets/timeline.js');
    document.querySelector('#entity-graph')?.remove();
    document.querySelector('#chat-replay')?.remove();
    document.querySelector('#ui-mount')?.remove();
    const box = document.createElement('section');
    box.className = 'card';
    box.id = 'ui-mount';
    document.querySelector('main').prepend(box);
    const timeline = rounds ? createTimeline(rounds) : null;
    window.__timeline = timeline;
    const list = typeof entries === 'string' ? (SYNTH_ENTRIES)(Number(entries)) : entries;
    const data = typeof graph === 'string' ? (SYNTH_GRAPH)(...JSON.parse(graph)) : graph;
    if (data) box.append(entityGraphFigure(data, { timeline, entries: list || [] }));
    if (list) box.append(chatReplay(list, { timeline, markets: new Map(opts?.markets || []) }));
}""".replace("SYNTH_ENTRIES", SYNTH_ENTRIES).replace("SYNTH_GRAPH", SYNTH_GRAPH)

# Connections per entity of the synthetic graph.
DEGREES = """([n, m]) => {
    const degrees = {};
    for (const e of (SYNTH_GRAPH)(n, m).edges) {
        for (const k of [e.source, e.target]) degrees[k] = (degrees[k] || 0) + 1;
    }
    return degrees;
}""".replace("SYNTH_GRAPH", SYNTH_GRAPH)

# The graph's zoom factor as its SVG states it (three decimals).
ZOOM = "document.querySelector('#entity-graph svg.graph').dataset.zoom"
NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"

SENTENCE = re.compile(
    r"^.+ (bought|sold) \d+(\.\d+)? (YES|NO) shares? in \S+( \(“.+”\))? for \d+\.\d\d, "
    r"(moving YES from \d{1,3}(\.\d)?% to \d{1,3}(\.\d)?%|leaving YES at \d{1,3}\.\d%)\.$"
)


@pytest.fixture(autouse=True)
def _stack_before_browser(stack: Any) -> None:
    """The session stack starts with asyncio.run, which cannot run once Playwright's loop is up."""


def open_job(ui: Ui, job: dict[str, Any]) -> None:
    ui.goto(f"/jobs/{job['id']}")
    ui.page.wait_for_selector("#chat-replay")
    ui.page.wait_for_selector("#entity-graph svg.graph g.node")


def mount(
    ui: Ui, graph: Any = None, entries: Any = None, rounds: list[int] | None = None, **opts: Any
) -> None:
    """Figures built in the page: `graph` a graph or "[n, m]" (synthetic), `entries` a list or a
    count (synthetic); with `rounds`, both follow a new timeline of those (window.__timeline)."""
    ui.page.evaluate(MOUNT, [graph, entries, rounds, opts])


def reveal(ui: Ui, kind: str, entry_id: int) -> None:
    """What a report citation does: a 'chat-reveal' event on the replay."""
    ui.page.evaluate(
        "([kind, id]) => document.querySelector('#chat-replay')"
        ".dispatchEvent(new CustomEvent('chat-reveal', {detail: {kind, id}}))",
        [kind, entry_id],
    )


def geometry(ui: Ui) -> dict[str, Any]:
    result: dict[str, Any] = ui.page.evaluate(GEOMETRY, "#entity-graph")
    return result


def transforms(ui: Ui) -> list[str | None]:
    found: list[str | None] = ui.page.locator("#entity-graph g.node").evaluate_all(
        "els => els.map((e) => e.getAttribute('transform'))"
    )
    return found


def test_every_entity_and_label_stays_in_the_frame(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    ui.page.locator("#entity-graph").scroll_into_view_if_needed()
    found = geometry(ui)
    assert found["nodes"] >= 3 and found["labels"] >= 3, found
    assert not found["outside"], found
    assert not found["overlaps"], found
    # The legend names the camps' thresholds.
    legend = ui.page.locator("#entity-graph .graph-legend").inner_text()
    assert "above +0.2" in legend and "below −0.2" in legend, legend
    assert ui.overflow() == []
    ui.shot("entity-graph", full_page=False)


def test_zoom_search_camp_filter_and_details(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    page = ui.page
    graph = page.locator("#entity-graph")
    graph.scroll_into_view_if_needed()
    start = transforms(ui)

    # Buttons: in moves the nodes apart, out and reset bring them back.
    graph.get_by_role("button", name="Zoom in").click()
    page.wait_for_function(f"() => {ZOOM} === '1.400'")
    zoomed = transforms(ui)
    assert zoomed != start
    graph.get_by_role("button", name="Zoom out").click()
    page.wait_for_function(f"() => {ZOOM} === '1.000'")
    graph.get_by_role("button", name="Reset the view").click()
    assert transforms(ui) == start

    # The wheel over the graph zooms in (and leaves the page where it was).
    box = graph.locator("svg.graph").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    scroll_before = page.evaluate("scrollY")
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"() => Number({ZOOM}) > 1.2")
    assert transforms(ui) != start
    assert page.evaluate("scrollY") == scroll_before
    graph.get_by_role("button", name="Reset the view").click()

    # Dragging moves every entity by the drag (the frame's units are CSS pixels).
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 40, steps=6)
    page.mouse.up()
    page.evaluate(NEXT_FRAME)  # the graph redraws on the next animation frame
    assert page.evaluate(f"() => {ZOOM}") == "1.000"
    for before, after in zip(start, transforms(ui), strict=True):
        (x0, y0), (x1, y1) = (tuple(map(float, re.findall(r"-?[\d.]+", t or ""))) for t in (before, after))
        assert abs(x1 - x0 - 60) < 1.5 and abs(y1 - y0 - 40) < 1.5, (before, after)
    graph.get_by_role("button", name="Reset the view").click()
    page.mouse.move(0, 0)  # off the graph: no entity in focus

    # Search: the typed name highlights its entity and says so; the others fade.
    name = graph.locator("g.node").first.get_attribute("aria-label") or ""
    label = name.split(":")[0]
    query = label[: max(3, len(label) // 2)]
    graph.get_by_role("searchbox", name="find an entity").fill(query)
    matched = graph.locator("g.node.match")
    assert matched.count() >= 1
    assert all(
        query.lower() in (n or "").lower()
        for n in matched.evaluate_all("els => els.map((e) => e.getAttribute('aria-label').split(':')[0])")
    )
    assert "match" in graph.locator(".graph-status").inner_text()
    unmatched = graph.locator("g.node:not(.match)")
    if unmatched.count():
        assert float(unmatched.first.evaluate("e => getComputedStyle(e).opacity")) < 1
    graph.get_by_role("searchbox", name="find an entity").fill("")
    assert graph.locator("g.node.match").count() == 0

    # Camp filter: the other camps dim, the chosen one stays.
    camps = graph.locator("g.node").evaluate_all(
        "els => els.map((e) => [...e.classList].find((c) => c.startsWith('camp-')))"
    )
    chosen = camps[0].removeprefix("camp-")
    graph.locator("select[name=camp]").select_option(chosen)
    opacities = graph.locator("g.node").evaluate_all(
        "els => els.map((e) => Number(getComputedStyle(e).opacity))"
    )
    for camp, opacity in zip(camps, opacities, strict=True):
        assert (opacity == 1) == (camp == f"camp-{chosen}"), (camp, opacity)
    graph.locator("select[name=camp]").select_option("")

    # Keyboard: a focused node shows its details on Enter.
    node = graph.locator("g.node").nth(1)
    node.focus()
    page.keyboard.press("Enter")
    details = graph.locator(".graph-details h4")
    assert details.is_visible()
    assert (node.get_attribute("aria-label") or "").split(":")[0] in details.inner_text()
    assert node.get_attribute("aria-pressed") == "true"
    assert ui.overflow() == []


def test_a_dense_graph_stays_readable(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    mount(ui, graph="[30, 70]")
    ui.page.locator("#entity-graph").scroll_into_view_if_needed()
    found = geometry(ui)
    assert found["nodes"] == 30, found
    assert not found["outside"], found
    assert not found["overlaps"], found
    # Labels that did not fit are hidden, not stacked; most still show.
    assert found["labels"] >= 15, found
    svg = ui.page.locator("#entity-graph svg.graph")
    assert "70 connections" in (svg.get_attribute("aria-label") or "")
    # Edges are faint until an entity is pointed at; then its own edges stand out.
    faint = float(
        ui.page.locator("#entity-graph .edge").first.evaluate("e => getComputedStyle(e).strokeOpacity")
    )
    assert faint < 0.3
    degrees = ui.page.evaluate(DEGREES, [30, 70])
    hub = max(degrees, key=lambda k: degrees[k])
    ui.page.locator(f"#entity-graph g.node[data-entity={hub}]").hover()
    strong = ui.page.locator("#entity-graph .edge.hl")
    assert strong.count() >= 1
    assert float(strong.first.evaluate("e => getComputedStyle(e).strokeOpacity")) > 0.8
    neighbours = ui.page.locator("#entity-graph g.node.hl")
    assert neighbours.count() == degrees[hub] + 1
    assert ui.overflow() == []


def test_show_more_only_when_more_entries_exist(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    page = ui.page
    more = page.locator("#chat-replay .chat-more")
    # The job's own replay: the button shows exactly when it has more than one page.
    total = page.locator("#chat-replay .chat-entry").count()
    count = page.locator("#chat-replay .chat-count").inner_text()
    assert more.is_visible() == (not count.startswith(f"{total} of {total} ")), count

    mount(ui, entries="150")
    assert page.locator("#chat-replay .chat-entry").count() == 150
    assert not more.is_visible()

    mount(ui, entries="151")
    assert more.is_visible() and more.inner_text().startswith("Show 1 more")

    mount(ui, entries="400")
    assert more.inner_text().startswith("Show 150 more")
    more.click()
    assert page.locator("#chat-replay .chat-entry").count() == 300
    assert more.inner_text().startswith("Show 100 more")
    more.click()
    assert page.locator("#chat-replay .chat-entry").count() == 400
    assert not more.is_visible()
    # After filtering down to one page there is nothing more to show; back to all, there is.
    page.locator("#chat-replay select[name=round]").select_option("2")
    assert page.locator("#chat-replay .chat-entry").count() == 80
    assert not more.is_visible()
    page.locator("#chat-replay select[name=round]").select_option("")
    assert more.is_visible() and more.inner_text().startswith("Show 150 more")
    assert ui.overflow() == []


def test_trades_read_as_sentences(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    page = ui.page
    chat = page.locator("#chat-replay")
    chat.locator("select[name=kind]").select_option("trade")
    texts = chat.locator(".kind-trade .chat-text").all_inner_texts()
    assert texts, "the job has no trades"
    for text in texts:
        assert "->" not in text and SENTENCE.match(text), text
    # The market's question is named where the page knows it.
    assert any("(“" in t for t in texts), texts[:3]
    chat.locator(".kind-trade").first.scroll_into_view_if_needed()
    ui.shot("chat-replay", full_page=False)
    assert ui.overflow() == []

    # A log from an older engine has only the text: it reads the same.
    old = [
        {
            "round": 1,
            "kind": "trade",
            "trade_id": 4,
            "author_id": 0,
            "author": "Mayor Dana Okafor",
            "market_id": "m1",
            "text": "bought 12.50 YES on m1 for 8.20 (YES 0.480 -> 0.520)",
        },
        {
            "round": 1,
            "kind": "trade",
            "trade_id": 5,
            "author_id": 1,
            "author": "Port Workers",
            "market_id": "m2",
            "text": "sold 3.00 NO on m2 for 1.40 (YES 0.500 -> 0.503)",
        },
    ]
    mount(ui, entries=old, markets=[["m1", "Will Measure T pass?"]])
    assert chat.locator("#chat-trade-4 .chat-text").inner_text() == (
        "Mayor Dana Okafor bought 12.5 YES shares in m1 (“Will Measure T pass?”) for 8.20, "
        "moving YES from 48% to 52%."
    )
    assert chat.locator("#chat-trade-5 .chat-text").inner_text() == (
        "Port Workers sold 3 NO shares in m2 for 1.40, moving YES from 50.0% to 50.3%."
    )


def test_chat_reveal_brings_a_later_entry_into_view(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    page = ui.page
    mount(ui, entries="400")
    chat = page.locator("#chat-replay")
    # Filters that hide the wanted post: only trades of round 1.
    chat.locator("select[name=kind]").select_option("trade")
    chat.locator("select[name=round]").select_option("1")
    assert page.locator("#chat-post-250").count() == 0
    reveal(ui, "post", 250)
    target = page.locator("#chat-post-250")
    assert target.count() == 1
    assert page.evaluate("document.activeElement.id") == "chat-post-250"
    assert "highlight" in (target.get_attribute("class") or "")
    assert chat.locator("select[name=kind]").input_value() == ""
    assert chat.locator("select[name=round]").input_value() == ""
    on_screen = target.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    )
    assert on_screen
    # A trade past the first page, with no filter in the way.
    reveal(ui, "trade", 120)
    assert page.evaluate("document.activeElement.id") == "chat-trade-120"
    # One that is not in the replay says so.
    reveal(ui, "post", 99999)
    assert chat.locator(".chat-note").inner_text() == "That post is not in this replay."


def test_the_timeline_moves_the_replay_and_the_graph(ui: Ui, completed_job: dict[str, Any]) -> None:
    open_job(ui, completed_job)
    page = ui.page
    data = page.evaluate(
        """async (id) => {
            const { api } = await import('/assets/api.js');
            const graph = (await api('GET', `/api/jobs/${id}/graph`)).graph;
            const log = await api('GET', `/api/jobs/${id}/sim-data/chat_log.json`);
            return { graph, entries: log.entries };
        }""",
        completed_job["id"],
    )
    entries = data["entries"]
    rounds = sorted({e["round"] for e in entries})
    mount(ui, graph=data["graph"], entries=entries, rounds=[0, *rounds])
    chat = page.locator("#chat-replay")
    graph = page.locator("#entity-graph")
    assert graph.locator("g.node.acted").count() == 0

    pick = rounds[len(rounds) // 2]
    page.evaluate("(r) => window.__timeline.set(r, 'test')", pick)
    assert chat.locator("select[name=round]").input_value() == str(pick)
    shown = chat.locator(".chat-entry .round").all_inner_texts()
    assert shown and set(shown) == {f"R{pick}"}
    # The ringed entities are exactly those whose agents acted in that round.
    acted = {e["entity_id"] for e in entries if e["round"] == pick}
    ringed = set(graph.locator("g.node.acted").evaluate_all("els => els.map((e) => e.dataset.entity)"))
    assert ringed and ringed == acted & {n["id"] for n in data["graph"]["nodes"]}
    assert f"Round {pick}:" in graph.locator(".graph-status").inner_text()

    # The replay's own round select drives the timeline (so chart and graph follow).
    other = rounds[0]
    chat.locator("select[name=round]").select_option(str(other))
    assert page.evaluate("window.__timeline.round") == other
    # "Replay rounds" steps the timeline too.
    chat.locator("select[name=round]").select_option("")
    assert page.evaluate("window.__timeline.round") is None
    chat.get_by_role("button", name="▶ Replay rounds").click()
    playing = page.evaluate("window.__timeline.round")
    assert playing in rounds
    chat.get_by_role("button", name="■ Stop").click()
    assert chat.locator("select[name=round]").input_value() == str(page.evaluate("window.__timeline.round"))
    # The whole run again: nothing ringed, every entry back.
    page.evaluate("window.__timeline.set(null, 'test')")
    assert graph.locator("g.node.acted").count() == 0
    assert chat.locator("select[name=round]").input_value() == ""
    assert ui.overflow() == []
