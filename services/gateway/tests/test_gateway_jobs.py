"""/api/jobs*, drafts, share links, results, progress (SSE) and /api/admin/* against the real stack."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest

from services.common.artifacts import ARTIFACT_NAMES
from services.common.config import REPO_ROOT
from services.gateway.tests.support import SEED, Api, error_of

ARTIFACTS = set(ARTIFACT_NAMES)


def sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    """Parses a whole Server-Sent Events body into (event, data) pairs."""
    events = []
    for block in response.text.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if data is not None:
            events.append((name, data))
    return events


# --- create / list / get / delete -----------------------------------------------------------------


def test_create_get_list_delete(api: Api) -> None:
    job = api.submit(forecast_days=12)
    assert job["status"] == "PENDING" and job["forecast_days"] == 12 and job["enrich_web"] is False
    assert job["user_id"] == str(api.user["id"]) and job["credits_charged"] == 0
    got = api.get(f"/api/jobs/{job['id']}")
    assert got.status_code == 200 and got.json()["job"]["seed_text"] == SEED
    listed = api.get("/api/jobs", params={"page": 1, "per_page": 5}).json()
    assert listed["total"] >= 1 and listed["page"] == 1 and listed["per_page"] == 5
    assert job["id"] in [j["id"] for j in listed["jobs"]]
    assert all(j["result_report"] is None for j in listed["jobs"])  # the list leaves results out
    api.wait_for(job["id"])
    assert api.request("DELETE", f"/api/jobs/{job['id']}").status_code == 204
    error_of(api.get(f"/api/jobs/{job['id']}"), 404, "NOT_FOUND")


def test_list_filters_by_status(api: Api) -> None:
    draft = api.post("/api/jobs/draft", json={"goal": "a draft"}).json()["job"]
    drafts = api.get("/api/jobs", params={"status": "DRAFT"}).json()["jobs"]
    assert [j["id"] for j in drafts] == [draft["id"]]
    assert api.get("/api/jobs", params={"status": "COMPLETED"}).json()["jobs"] == []
    error_of(api.get("/api/jobs", params={"status": "NOPE"}), 422, "INVALID_ARGUMENT")
    error_of(api.get("/api/jobs", params={"per_page": 101}), 422, "INVALID_ARGUMENT")
    error_of(api.get("/api/jobs", params={"page": 0}), 422, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tier": "galactic"}, "tier"),  # the jobs service: unknown tier
        ({"goal": "   "}, "goal"),  # the jobs service: empty goal
        ({"seed_text": "x" * 50_001}, "seed_text"),
        ({"forecast_days": 0}, "forecast_days"),
        ({"forecast_days": 366}, "forecast_days"),
        ({"seed_text": "nul \x00 byte"}, "seed_text"),
    ],
)
def test_bad_job_input_is_422_and_writes_nothing(api: Api, fields: dict[str, Any], field: str) -> None:
    body = {"seed_text": SEED, "goal": "Will the cycle lane be built?", "tier": "small", **fields}
    error = error_of(api.post("/api/jobs", json=body), 422, "INVALID_ARGUMENT")
    assert field in error["fields"], error
    assert api.get("/api/jobs").json()["total"] == 0


SHORT_SEED = "The council debates a cycle lane. The mayor supports it."
DEMO_SEED = (REPO_ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")
OPEN_GOAL = "Predict sentiment about the levy"


def test_a_short_seed_and_an_open_ended_goal_are_refused_at_their_fields(api: Api) -> None:
    body = {"seed_text": SHORT_SEED, "goal": "Will the cycle lane be built?", "tier": "small"}
    error = error_of(api.post("/api/jobs", json=body), 422, "INVALID_ARGUMENT")
    assert error["message"] == (
        "seed_text is too short: 10 words; a forecast needs at least 30 words of evidence"
    )
    assert error["fields"] == {"seed_text": error["message"]} and "suggestions" not in error

    open_ended = {**body, "seed_text": DEMO_SEED, "goal": OPEN_GOAL}
    error = error_of(api.post("/api/jobs", json=open_ended), 422, "INVALID_ARGUMENT")
    suggestions = error["suggestions"]
    assert isinstance(suggestions, list) and 1 <= len(suggestions) <= 3
    assert set(error["fields"]) == {"goal"}
    assert all(question in str(error["message"]) for question in suggestions)
    assert api.get("/api/jobs").json()["total"] == 0
    # A suggestion is a question the service takes.
    job = api.submit(seed_text=DEMO_SEED, goal=suggestions[0])
    assert job["goal"] == suggestions[0] and job["status"] == "PENDING"
    api.post(f"/api/jobs/{job['id']}/cancel")


def test_suggest_questions(api: Api, anon: Api) -> None:
    answer = api.post("/api/jobs/suggest-questions", json={"seed_text": DEMO_SEED, "goal": OPEN_GOAL})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert set(data) == {"suggestions", "goal_ok", "reason"}
    assert data["goal_ok"] is False and data["reason"] and 1 <= len(data["suggestions"]) <= 3
    fine = api.post(
        "/api/jobs/suggest-questions",
        json={"seed_text": DEMO_SEED, "goal": data["suggestions"][0], "forecast_days": 60},
    ).json()
    assert fine["goal_ok"] is True and fine["reason"] == ""
    for body, field in (
        ({"seed_text": ""}, "seed_text"),
        ({"seed_text": "x" * 50_001}, "seed_text"),
        ({"seed_text": "nul \x00 byte"}, "seed_text"),
        ({"seed_text": SEED, "forecast_days": 0}, "forecast_days"),
        ({"goal": "Will it?"}, "seed_text"),
    ):
        error = error_of(api.post("/api/jobs/suggest-questions", json=body), 422, "INVALID_ARGUMENT")
        assert field in error["fields"], error
    error_of(anon.post("/api/jobs/suggest-questions", json={"seed_text": SEED}), 401, "UNAUTHENTICATED")
    assert api.get("/api/jobs").json()["total"] == 0


def test_identical_live_submission_is_a_conflict(api: Api) -> None:
    goal = f"Will the Millbrook cycle lane open by {secrets.randbelow(10**4) + 2030}?"
    body = {"seed_text": SEED, "goal": goal, "tier": "large", "enrich_web": False}
    first = api.post("/api/jobs", json=body)
    assert first.status_code == 201
    error_of(api.post("/api/jobs", json=body), 409, "ALREADY_EXISTS")
    api.post(f"/api/jobs/{first.json()['job']['id']}/cancel")


def test_jobs_of_others_are_not_found(api: Api, completed_job: tuple[Api, dict[str, Any]]) -> None:
    _, job = completed_job
    for path in ("", "/sim-data", "/graph", "/report.md", "/progress"):
        error_of(api.get(f"/api/jobs/{job['id']}{path}"), 404, "NOT_FOUND")
    error_of(api.request("DELETE", f"/api/jobs/{job['id']}"), 404, "NOT_FOUND")
    error_of(api.post(f"/api/jobs/{job['id']}/share"), 404, "NOT_FOUND")
    error_of(api.get("/api/jobs/0"), 422, "INVALID_ARGUMENT")
    error_of(api.get(f"/api/jobs/{2**63}"), 422, "INVALID_ARGUMENT")
    error_of(api.get("/api/jobs/abc"), 422, "INVALID_ARGUMENT")


def test_job_routes_need_a_token(anon: Api) -> None:
    for method, path in [
        ("GET", "/api/jobs"),
        ("POST", "/api/jobs"),
        ("GET", "/api/jobs/1"),
        ("GET", "/api/jobs/1/progress"),
        ("POST", "/api/jobs/draft"),
        ("GET", "/api/admin/routes"),
    ]:
        response = anon.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.text)


# --- cancel / retry -------------------------------------------------------------------------------


def test_cancel_then_retry(api: Api) -> None:
    job = api.submit(tier="large")
    cancelled = api.post(f"/api/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["job"]["status"] == "FAILED"
    assert cancelled.json()["job"]["error_message"] == "cancelled by user"
    error_of(api.post(f"/api/jobs/{job['id']}/cancel"), 409, "FAILED_PRECONDITION")
    retried = api.post(f"/api/jobs/{job['id']}/retry")
    assert retried.status_code == 201, retried.text
    assert retried.json()["job"]["retry_of"] == job["id"]
    error_of(api.post(f"/api/jobs/{job['id']}/retry"), 409, "ALREADY_EXISTS")
    api.post(f"/api/jobs/{retried.json()['job']['id']}/cancel")


def test_completed_jobs_cannot_be_cancelled_or_retried(completed_job: tuple[Api, dict[str, Any]]) -> None:
    owner, job = completed_job
    error_of(owner.post(f"/api/jobs/{job['id']}/cancel"), 409, "FAILED_PRECONDITION")
    error_of(owner.post(f"/api/jobs/{job['id']}/retry"), 409, "FAILED_PRECONDITION")


# --- drafts ---------------------------------------------------------------------------------------


def test_draft_lifecycle(api: Api) -> None:
    created = api.post("/api/jobs/draft", json={"goal": "Will the draft launch?"})
    assert created.status_code == 201, created.text
    draft = created.json()["job"]
    assert draft["status"] == "DRAFT" and draft["goal"] == "Will the draft launch?"
    # Incomplete: launching it is refused with the missing field named.
    error = error_of(api.post(f"/api/jobs/draft/{draft['id']}/launch"), 422, "INVALID_ARGUMENT")
    assert "seed_text" in error["fields"]
    error_of(
        api.request("PATCH", f"/api/jobs/draft/{draft['id']}", json={"tier": "huge"}), 422, "INVALID_ARGUMENT"
    )
    patched = api.request(
        "PATCH",
        f"/api/jobs/draft/{draft['id']}",
        json={"seed_text": SEED, "tier": "small", "enrich_web": False},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["job"]["goal"] == "Will the draft launch?"  # untouched fields stay
    # Drafts are not running: nothing to cancel, no results yet.
    error_of(api.post(f"/api/jobs/{draft['id']}/cancel"), 409, "FAILED_PRECONDITION")
    error_of(api.get(f"/api/jobs/{draft['id']}/sim-data"), 409, "FAILED_PRECONDITION")
    error_of(api.get(f"/api/jobs/{draft['id']}/graph"), 409, "FAILED_PRECONDITION")
    error_of(api.get(f"/api/jobs/{draft['id']}/report.md"), 409, "FAILED_PRECONDITION")
    error_of(api.get(f"/api/jobs/{draft['id']}/progress"), 409, "FAILED_PRECONDITION")
    launched = api.post(f"/api/jobs/draft/{draft['id']}/launch")
    assert launched.status_code == 200, launched.text
    assert launched.json()["job"]["status"] == "PENDING"
    error_of(api.post(f"/api/jobs/draft/{draft['id']}/launch"), 409, "FAILED_PRECONDITION")
    error_of(
        api.request("PATCH", f"/api/jobs/draft/{draft['id']}", json={"goal": "x"}), 409, "FAILED_PRECONDITION"
    )
    error_of(api.request("PATCH", "/api/jobs/draft/999999999", json={}), 404, "NOT_FOUND")
    assert api.wait_for(draft["id"])["status"] == "COMPLETED"


# --- progress (Server-Sent Events) ----------------------------------------------------------------


def test_progress_streams_until_completed(api: Api) -> None:
    job = api.submit(tier="medium")
    with api.http.stream("GET", f"/api/jobs/{job['id']}/progress", headers=api.auth, timeout=90) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        response.read()
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[-1] == "end" and events[-1][1] == {"status": "COMPLETED"}
    jobs = [data for name, data in events if name == "job"]
    assert jobs[-1]["status"] == "COMPLETED" and "seed_text" not in jobs[-1]
    statuses = [j["status"] for j in jobs]
    assert len(jobs) >= 2 and statuses[0] != "COMPLETED", statuses  # it watched the job move


def test_progress_of_a_finished_job_ends_at_once(completed_job: tuple[Api, dict[str, Any]]) -> None:
    owner, job = completed_job
    response = owner.get(f"/api/jobs/{job['id']}/progress")
    assert [name for name, _ in sse_events(response)] == ["job", "end"]


def test_progress_errors_come_before_the_stream(api: Api, anon: Api) -> None:
    error_of(api.get("/api/jobs/987654321/progress"), 404, "NOT_FOUND")
    error_of(anon.get("/api/jobs/1/progress"), 401, "UNAUTHENTICATED")


# --- results --------------------------------------------------------------------------------------


def test_sim_data_links_and_files(completed_job: tuple[Api, dict[str, Any]]) -> None:
    owner, job = completed_job
    data = owner.get(f"/api/jobs/{job['id']}/sim-data").json()
    assert ARTIFACTS <= set(data["files"]) and data["expires_in_seconds"] > 0
    assert data["downloads"]["market_curves.json"] == f"/api/jobs/{job['id']}/sim-data/market_curves.json"
    presigned = httpx.get(data["files"]["posts.json"], timeout=10)
    assert presigned.status_code == 200 and "posts" in presigned.json()
    curves = owner.get(data["downloads"]["market_curves.json"])
    assert curves.status_code == 200 and curves.headers["content-type"] == "application/json"
    assert curves.json()["markets"][0]["id"] == "m1"
    error_of(owner.get(f"/api/jobs/{job['id']}/sim-data/missing.json"), 404, "NOT_FOUND")
    error_of(owner.get(f"/api/jobs/{job['id']}/sim-data/Secret.exe"), 422, "INVALID_ARGUMENT")


def test_graph_and_report(completed_job: tuple[Api, dict[str, Any]]) -> None:
    owner, job = completed_job
    graph = owner.get(f"/api/jobs/{job['id']}/graph").json()["graph"]
    assert graph["nodes"] and "edges" in graph
    assert json.loads(job["result_graph"]) == graph
    report = owner.get(f"/api/jobs/{job['id']}/report.md")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/markdown")
    assert report.text == job["result_report"] and report.text.lstrip().startswith("#")


FORECAST_GOAL_KEYS = ("market_id", "probability", "interval", "level", "replicates", "market", "belief")


def test_the_forecast_with_its_interval_reaches_the_job_and_its_share_page(
    completed_job: tuple[Api, dict[str, Any]], anon: Api
) -> None:
    """What the results views show: result_structured.forecast is the run's forecast, and the key
    insight leads with the goal's probability and its interval, on the job and on the share page."""
    owner, job = completed_job
    structured = json.loads(job["result_structured"])
    curves = owner.get(f"/api/jobs/{job['id']}/sim-data/market_curves.json").json()
    goal = structured["forecast"]["goal"]
    assert goal == {k: curves["forecast"]["goal"][k] for k in FORECAST_GOAL_KEYS}
    assert structured["forecast"]["markets"].keys() == {m["id"] for m in curves["markets"]}
    for market_id, estimate in structured["forecast"]["markets"].items():
        assert estimate["interval"] == curves["forecast"]["markets"][market_id]["interval"]
    low, high = goal["interval"]
    headline = f"{goal['probability'] * 100:.1f}% (80% interval {low * 100:.1f}–{high * 100:.1f}%)"
    assert job["key_insight"].startswith(headline), job["key_insight"]
    assert headline in job["result_report"]
    token = owner.post(f"/api/jobs/{job['id']}/share").json()["share_token"]
    try:
        view = anon.get(f"/api/share/{token}").json()["job"]
        assert json.loads(view["result_structured"])["forecast"] == structured["forecast"]
        assert view["key_insight"] == job["key_insight"]
    finally:
        assert owner.request("DELETE", f"/api/jobs/{job['id']}/share").status_code == 204


# --- sharing --------------------------------------------------------------------------------------


def test_share_link_lifecycle(completed_job: tuple[Api, dict[str, Any]], anon: Api, api: Api) -> None:
    owner, job = completed_job
    created = owner.post(f"/api/jobs/{job['id']}/share")
    assert created.status_code == 201, created.text
    token = created.json()["share_token"]
    assert len(token) >= 43 and created.json()["share_url"].endswith(f"/share/{token}")
    # Shown once: the job says only that it is shared (the token is stored hashed).
    got = owner.get(f"/api/jobs/{job['id']}").json()["job"]
    assert got["shared"] is True and got["share_token"] is None
    # Sharing again gives a new link and retires the old one.
    again = owner.post(f"/api/jobs/{job['id']}/share").json()["share_token"]
    assert again != token
    error_of(anon.get(f"/api/share/{token}"), 404, "NOT_FOUND")
    token = again
    shared = anon.get(f"/api/share/{token}")
    assert shared.status_code == 200, shared.text
    view = shared.json()["job"]
    assert view["id"] == job["id"] and view["status"] == "COMPLETED" and view["result_report"]
    assert not {"user_id", "seed_text", "share_token", "pod_id"} & set(view)  # no user data leaks
    graph = anon.get(f"/api/share/{token}/graph")
    assert graph.status_code == 200 and graph.json()["graph"]["nodes"]
    # Only the owner can revoke; then the link is gone.
    error_of(api.request("DELETE", f"/api/jobs/{job['id']}/share"), 404, "NOT_FOUND")
    assert owner.request("DELETE", f"/api/jobs/{job['id']}/share").status_code == 204
    error_of(anon.get(f"/api/share/{token}"), 404, "NOT_FOUND")
    error_of(anon.get(f"/api/share/{token}/graph"), 404, "NOT_FOUND")
    error_of(anon.get("/api/share/" + "A" * 43), 404, "NOT_FOUND")
    error_of(anon.get("/api/share/bad*token"), 422, "INVALID_ARGUMENT")


def test_only_completed_jobs_can_be_shared(api: Api) -> None:
    draft = api.post("/api/jobs/draft", json={}).json()["job"]
    error_of(api.post(f"/api/jobs/{draft['id']}/share"), 409, "FAILED_PRECONDITION")


# --- admin ----------------------------------------------------------------------------------------


def test_admin_routes(operator: Api, api: Api) -> None:
    routes = operator.get("/api/admin/routes")
    assert routes.status_code == 200, routes.text
    by_tier = {r["sim_tier"]: r for r in routes.json()["routes"]}
    assert {"small", "medium", "large"} <= set(by_tier)
    small = {k: v for k, v in by_tier["small"].items() if k != "id"}
    # Writing back the same row changes nothing (other tests share this table).
    saved = operator.request("PUT", "/api/admin/routes", json=small)
    assert saved.status_code == 200, saved.text
    assert (
        saved.json()["route"]["sim_tier"] == "small"
        and saved.json()["route"]["max_rounds"] == small["max_rounds"]
    )
    bad = {**small, "sim_tier": "no spaces!"}
    error_of(operator.request("PUT", "/api/admin/routes", json=bad), 422, "INVALID_ARGUMENT")
    error_of(api.get("/api/admin/routes"), 403, "PERMISSION_DENIED")
    error_of(api.request("PUT", "/api/admin/routes", json=small), 403, "PERMISSION_DENIED")


def test_admin_tier_settings(operator: Api, api: Api) -> None:
    by_tier = {r["sim_tier"]: r for r in operator.get("/api/admin/routes").json()["routes"]}
    medium = {k: v for k, v in by_tier["medium"].items() if k != "id"}
    current = {k: medium[k] for k in ("replicates", "heuristic_replicates", "market_subsidy")}
    assert all(isinstance(v, int | float) and v > 0 for v in current.values()), current
    try:
        changed = {**medium, "replicates": 4, "market_subsidy": 25.5}
        saved = operator.request("PUT", "/api/admin/routes", json=changed)
        assert saved.status_code == 200, saved.text
        route = saved.json()["route"]
        assert (route["replicates"], route["heuristic_replicates"], route["market_subsidy"]) == (
            4,
            current["heuristic_replicates"],
            25.5,
        )
        # Left out, a setting keeps its value.
        rest = {k: v for k, v in medium.items() if k not in current}
        kept = operator.request("PUT", "/api/admin/routes", json=rest).json()["route"]
        assert (kept["replicates"], kept["market_subsidy"]) == (4, 25.5)
        listed = {r["sim_tier"]: r for r in operator.get("/api/admin/routes").json()["routes"]}
        assert listed["medium"]["replicates"] == 4 and listed["medium"]["market_subsidy"] == 25.5
        refused = (
            {"replicates": 0},
            {"heuristic_replicates": 33},
            {"market_subsidy": 0},
            {"market_subsidy": 1e5},
        )
        for bad in refused:
            answer = operator.request("PUT", "/api/admin/routes", json={**rest, **bad})
            error = error_of(answer, 422, "INVALID_ARGUMENT")
            assert set(bad) <= set(error["fields"]), error
        as_user = api.request("PUT", "/api/admin/routes", json={**rest, "replicates": 9})
        error_of(as_user, 403, "PERMISSION_DENIED")
    finally:
        # Other tests share this table: put the settings back.
        restored = operator.request("PUT", "/api/admin/routes", json=medium)
        assert restored.status_code == 200, restored.text


def test_admin_errors(operator: Api, api: Api) -> None:
    listed = operator.get("/api/admin/errors", params={"source": "api", "per_page": 5})
    assert listed.status_code == 200, listed.text
    assert set(listed.json()) == {"events", "total", "page", "per_page"}
    error_of(operator.get("/api/admin/errors", params={"source": "moon"}), 422, "INVALID_ARGUMENT")
    error_of(api.get("/api/admin/errors"), 403, "PERMISSION_DENIED")
