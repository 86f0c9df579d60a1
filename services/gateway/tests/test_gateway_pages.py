"""What the web UI and other sites get from the gateway besides the API proper, over real HTTP:
/api/config, the sample briefings, the not-found page, and shared forecasts' link previews (the
page's <head> tags and the PNG card)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image

from services.common.config import REPO_ROOT
from services.gateway import preview
from services.gateway.app import create_app
from services.gateway.tests.support import Api, error_of
from services.gpu_runner.settings import SearchSettings
from services.jobs.domain.validation import MAX_SEED_CHARS, MIN_SEED_WORDS, count_words
from tests.fixtures.stack import RunningStack

SAMPLE_IDS = {"harbor-transit", "ravensford-union"}
HOSTILE_GOAL = 'Will the "><script>alert(1)</script> cycle lane be built?'


class _Head(HTMLParser):
    """The page's <title> and <meta> tags (values unescaped, as a crawler reads them)."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.meta: dict[str, str] = {}
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "meta" and ("name" in values or "property" in values):
            self.meta[values.get("property") or values["name"]] = values.get("content", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def head_of(page: str) -> _Head:
    parser = _Head()
    parser.feed(page)
    return parser


def is_app_page(response: httpx.Response) -> bool:
    return response.headers["content-type"].startswith("text/html") and (
        '<script type="module" src="/assets/app.js">' in response.text
    )


def png_of(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def share(owner: Api, job_id: int) -> str:
    created = owner.post(f"/api/jobs/{job_id}/share")
    assert created.status_code == 201, created.text
    token: str = created.json()["share_token"]
    return token


@pytest.fixture(scope="module")
def custom_gateway(stack: RunningStack) -> Iterator[str]:
    """A second gateway on the stack's services, served by uvicorn on its own port, with a search
    provider configured and a public URL of its own."""
    settings = stack.settings.model_copy(update={"public_url": "https://forecasts.example.org/"})
    app = create_app(settings, search_settings=SearchSettings(url="http://search.example.org"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the second gateway did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)
    sock.close()


# --- /api/config and the samples ------------------------------------------------------------------


def test_config_is_public_and_states_the_jobs_limits(anon: Api) -> None:
    response = anon.get("/api/config")
    assert response.status_code == 200, response.text
    config = response.json()
    # The stack's runners have no search provider (SWARMCAST_SEARCH_URL is unset).
    assert config["search_provider"] is False
    assert (config["seed_max_chars"], config["seed_min_words"]) == (MAX_SEED_CHARS, MIN_SEED_WORDS)
    assert (MAX_SEED_CHARS, MIN_SEED_WORDS) == (50_000, 30)
    assert {s["id"] for s in config["samples"]} == SAMPLE_IDS
    for sample in config["samples"]:
        assert set(sample) == {"id", "title", "goal", "summary"}
        assert all(sample.values()), sample
        assert sample["goal"].startswith("Will ") and sample["goal"].endswith("?")


def test_config_says_when_a_search_provider_is_configured(custom_gateway: str) -> None:
    with httpx.Client(base_url=custom_gateway) as client:
        config = client.get("/api/config").json()
    assert config["search_provider"] is True
    assert {s["id"] for s in config["samples"]} == SAMPLE_IDS


def test_samples_are_ready_to_forecast(anon: Api, api: Api) -> None:
    listed = {s["id"]: s for s in anon.get("/api/config").json()["samples"]}
    harbor = anon.get("/api/samples/harbor-transit").json()
    assert harbor["goal"] == "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
    assert harbor["seed_text"] == (REPO_ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")
    for sample_id, info in listed.items():
        response = anon.get(f"/api/samples/{sample_id}")
        assert response.status_code == 200, response.text
        sample = response.json()
        assert {k: sample[k] for k in info} == info
        assert (
            MIN_SEED_WORDS <= count_words(sample["seed_text"]) and len(sample["seed_text"]) <= MAX_SEED_CHARS
        )
        assert 1 <= sample["forecast_days"] <= 365
        # The jobs service accepts the sample exactly as the landing page submits it.
        submitted = api.post(
            "/api/jobs",
            json={
                "seed_text": sample["seed_text"],
                "goal": sample["goal"],
                "forecast_days": sample["forecast_days"],
                "tier": "small",
                "enrich_web": False,
            },
        )
        assert submitted.status_code == 201, submitted.text
        job = submitted.json()["job"]
        assert job["goal"] == sample["goal"]
        api.post(f"/api/jobs/{job['id']}/cancel")  # only its acceptance matters here
    error_of(anon.get("/api/samples/no-such-sample"), 404, "NOT_FOUND")
    error_of(anon.get("/api/samples/Not_A_Sample!"), 422, "INVALID_ARGUMENT")


# --- not-found page -------------------------------------------------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    "path", ["/no/such/page", "/jobs/abc", "/jobs/1/extra", "/share/abc/extra", "/login/x"]
)
def test_unknown_pages_are_404_with_the_app_for_browsers(anon: Api, path: str) -> None:
    page = anon.get(path, headers=BROWSER)
    assert page.status_code == 404 and is_app_page(page), path
    assert page.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # Anything that does not ask for HTML gets the API's error body.
    error_of(anon.get(path), 404, "NOT_FOUND")
    error_of(anon.get(path, headers={"Accept": "application/json"}), 404, "NOT_FOUND")


def test_api_and_assets_stay_json_for_browsers(anon: Api) -> None:
    for path in ("/api/nothing", "/api/jobs/1/nothing", "/assets/nope.js"):
        error_of(anon.get(path, headers=BROWSER), 404, "NOT_FOUND")
    # A wrong method is not a missing page.
    error_of(anon.request("POST", "/login", headers=BROWSER), 405, "METHOD_NOT_ALLOWED")
    for path in ("/", "/login", "/jobs/new", "/jobs/12"):
        page = anon.get(path, headers=BROWSER)
        assert page.status_code == 200 and is_app_page(page), path


# --- shared forecasts: link previews --------------------------------------------------------------


def test_share_page_carries_the_forecast_preview(
    stack: RunningStack, completed_job: tuple[Api, dict[str, Any]], anon: Api
) -> None:
    owner, job = completed_job
    structured = json.loads(job["result_structured"])
    headline = structured["forecast"]["goal"]
    token = share(owner, job["id"])
    base = stack.settings.public_url.rstrip("/")

    page = anon.get(f"/share/{token}", headers=BROWSER)
    assert page.status_code == 200 and is_app_page(page)
    assert page.headers["cache-control"] == "no-cache"
    head = head_of(page.text)
    assert head.title == f"{job['goal']} · swarmcast"
    meta = head.meta
    assert meta["og:title"] == job["goal"] == meta["twitter:title"]
    low, high = headline["interval"]
    expected = (
        f"Forecast: {round(headline['probability'] * 100)}% "
        f"(80% interval {round(low * 100)}–{round(high * 100)}%) · {structured['verdict']['label']}"
    )
    assert meta["og:description"].startswith(expected), meta["og:description"]
    assert meta["description"] == meta["og:description"]
    # Then the key insight, less the headline it opens with (said once is enough).
    assert job["key_insight"][-40:] in meta["og:description"]
    assert meta["og:description"].count("interval") == 1
    assert meta["og:image"] == f"{base}/api/share/{token}/preview.png"
    assert meta["og:url"] == f"{base}/share/{token}"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert (meta["og:type"], meta["og:site_name"]) == ("article", "swarmcast")
    assert meta["twitter:card"] == "summary_large_image"
    assert page.text.count("<title>") == 1 and page.text.count('name="description"') == 1

    card = anon.get(f"/api/share/{token}/preview.png")
    image = png_of(card)
    assert image.size == (1200, 630)
    cache = card.headers["cache-control"]
    assert "public" in cache and "max-age=" in cache
    # The card is drawn on a dark background with light text (readable contrast).
    histogram = image.convert("L").histogram()
    background = histogram.index(max(histogram))
    assert background < 60 and sum(histogram[220:]) > 5000, (background, sum(histogram[220:]))

    # Revoked: the page answers 404 with swarmcast's own tags (the app says the link is gone).
    assert owner.request("DELETE", f"/api/jobs/{job['id']}/share").status_code == 204
    gone = anon.get(f"/share/{token}", headers=BROWSER)
    assert gone.status_code == 404 and is_app_page(gone)
    generic = head_of(gone.text)
    assert generic.title == "swarmcast" and generic.meta["og:title"] == "swarmcast"
    assert "og:image" not in generic.meta and job["goal"] not in gone.text
    error_of(anon.get(f"/api/share/{token}/preview.png"), 404, "NOT_FOUND")
    for bad in ("A" * 43, "bad*token", "x" * 300):
        unknown = anon.get(f"/share/{bad}", headers=BROWSER)
        assert unknown.status_code == 404 and head_of(unknown.text).title == "swarmcast", bad
    error_of(anon.get("/api/share/bad*token/preview.png"), 422, "INVALID_ARGUMENT")


def test_share_preview_escapes_the_goal_and_differs_per_forecast(
    completed_job: tuple[Api, dict[str, Any]], api: Api, anon: Api, custom_gateway: str
) -> None:
    job = api.wait_for(api.submit(goal=HOSTILE_GOAL)["id"])
    assert job["status"] == "COMPLETED", job["error_message"]
    token = share(api, job["id"])
    page = anon.get(f"/share/{token}", headers=BROWSER)
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and '"><script>' not in page.text
    head = head_of(page.text)
    assert head.title == f"{HOSTILE_GOAL} · swarmcast"
    assert head.meta["og:title"] == HOSTILE_GOAL
    # Absolute URLs follow the gateway's public URL (SWARMCAST_PUBLIC_URL), not the request's host.
    with httpx.Client(base_url=custom_gateway, headers={"X-Forwarded-For": api.address}) as client:
        meta = head_of(client.get(f"/share/{token}").text).meta
    assert meta["og:image"] == f"https://forecasts.example.org/api/share/{token}/preview.png"
    assert meta["og:url"] == f"https://forecasts.example.org/share/{token}"

    other_owner, other = completed_job
    other_token = share(other_owner, other["id"])
    try:
        mine = png_of(anon.get(f"/api/share/{token}/preview.png"))
        theirs = png_of(anon.get(f"/api/share/{other_token}/preview.png"))
        assert mine.size == theirs.size == (1200, 630)
        assert mine.tobytes() != theirs.tobytes()
    finally:
        assert other_owner.request("DELETE", f"/api/jobs/{other['id']}/share").status_code == 204
        assert api.request("DELETE", f"/api/jobs/{job['id']}/share").status_code == 204


def test_card_draws_the_numbers_not_only_the_goal() -> None:
    """Two forecasts of the same goal give cards that differ below the goal, where the headline,
    its interval and the market bars are drawn; a goal too long for three lines is cut."""

    def card(p: float, markets: tuple[float, ...]) -> Image.Image:
        summary = preview.ShareSummary(
            goal="Will the harbour bridge reopen before the summer? " * 6,
            probability=p,
            interval=(max(0.0, p - 0.1), min(1.0, p + 0.1)),
            level=0.8,
            label="likely" if p >= 0.6 else "unlikely",
            markets=tuple(preview.MarketBar(f"Question {i}", q) for i, q in enumerate(markets)),
        )
        return Image.open(io.BytesIO(preview.render_card(summary)))

    high, low = card(0.72, (0.72, 0.4)), card(0.31, (0.31, 0.9))
    goal_band, numbers = (0, 0, 1200, 290), (0, 300, 1200, 630)
    assert high.crop(goal_band).tobytes() == low.crop(goal_band).tobytes()
    assert high.crop(numbers).tobytes() != low.crop(numbers).tobytes()
    lines = preview.wrap(
        "Will the harbour bridge reopen before the summer? " * 6, preview.font(42, bold=True), 1072, 3
    )
    assert len(lines) == 3 and lines[-1].endswith("…")
