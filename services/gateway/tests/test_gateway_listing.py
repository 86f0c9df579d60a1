"""The job list and the live page's data through the gateway, against the real stack:

- GET /api/jobs: each job's goal forecast, search (`q`) and order (`sort`), `total` = the matches,
  bad values answered 422 with the field named;
- a PENDING job's place in the queue, on the job, in the list and in the progress stream;
- a RUNNING job's price history (every round so far) on GET /api/jobs/{id} and in the stream;
- GET /api/share/{token}/market_curves.json for anyone holding a live share link.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from typing import Any

import pytest

from services.gateway.tests.support import Api, error_of

FORECAST_KEYS = ("forecast_probability", "forecast_low", "forecast_high")
QUEUE_KEYS = ("queue_position", "queue_estimate_seconds")


def first_progress_event(api: Api, job_id: int) -> dict[str, Any]:
    """The first `job` event of the job's progress stream (the snapshot a reloaded page gets)."""
    with api.http.stream("GET", f"/api/jobs/{job_id}/progress", headers=api.auth, timeout=30) as response:
        assert response.status_code == 200
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "job":
                return json.loads(line[6:])
    raise AssertionError("the progress stream sent no job event")


def test_the_list_shows_forecasts_and_searches_and_sorts_them(api: Api) -> None:
    # Letters only: a search for a job's number must not also match a digit in the goals' text.
    tag = "".join(secrets.choice(string.ascii_lowercase) for _ in range(6))
    jobs = [
        api.submit(goal=f"Will the cycle lane be built by May? ({tag} first)"),
        api.submit(goal=f"Will the Herald endorse the CYCLE LANE? ({tag} second)"),
        api.submit(goal=f"Will the council vote on parking by May? ({tag} third)"),
    ]
    done = [api.wait_for(j["id"]) for j in jobs]
    assert all(j["status"] == "COMPLETED" for j in done), [j["error_message"] for j in done]

    listed = api.get("/api/jobs").json()
    assert listed["total"] == 3
    for job in listed["jobs"]:
        full = api.get(f"/api/jobs/{job['id']}").json()["job"]
        goal = json.loads(full["result_structured"])["forecast"]["goal"]
        low, high = goal["interval"]
        # The list's headline is the report's: the goal's probability and its 80% interval.
        assert (job["forecast_probability"], job["forecast_low"], job["forecast_high"]) == (
            goal["probability"], low, high,
        )  # fmt: skip
        assert tuple(full[k] for k in FORECAST_KEYS) == tuple(job[k] for k in FORECAST_KEYS)
        assert job["queue_position"] is None and job["queue_estimate_seconds"] is None
        assert job["result_structured"] is None  # the list still leaves results out

    def ids(**params: Any) -> list[int]:
        response = api.get("/api/jobs", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["jobs"])
        return [j["id"] for j in body["jobs"]]

    first, second, third = (j["id"] for j in jobs)
    assert ids(q="cycle lane") == [second, first]  # any case, newest first
    assert ids(q="cycle lane", sort="oldest") == [first, second]
    assert ids(q=f"#{third}") == [third] and ids(q=str(first)) == [first]
    assert ids(q="by may", status="COMPLETED") == [third, first]
    assert ids(q="no such goal anywhere") == []
    page = api.get("/api/jobs", params={"q": "cycle lane", "per_page": 1, "page": 2}).json()
    assert [j["id"] for j in page["jobs"]] == [first] and page["total"] == 2

    by_probability = sorted(listed["jobs"], key=lambda j: (-j["forecast_probability"], -j["id"]))
    assert ids(sort="probability_high") == [j["id"] for j in by_probability]
    by_low = sorted(listed["jobs"], key=lambda j: (j["forecast_probability"], -j["id"]))
    assert ids(sort="probability_low") == [j["id"] for j in by_low]
    assert ids(sort="newest") == ids() == [third, second, first]

    # A draft has no forecast: it comes last in either probability order.
    draft = api.post("/api/jobs/draft", json={"goal": f"Will it rain? ({tag})"}).json()["job"]
    assert ids(sort="probability_high")[-1] == draft["id"] == ids(sort="probability_low")[-1]


def test_bad_search_or_order_is_422_in_plain_words(api: Api) -> None:
    error = error_of(api.get("/api/jobs", params={"q": "x" * 201}), 422, "INVALID_ARGUMENT")
    assert error["fields"] == {"q": "the search text is too long (at most 200 characters)"}
    error = error_of(api.get("/api/jobs", params={"sort": "best"}), 422, "INVALID_ARGUMENT")
    assert error["fields"] == {
        "sort": "the order must be newest, oldest, probability_high or probability_low"
    }
    assert api.get("/api/jobs", params={"q": "x" * 200}).json()["total"] == 0
    assert api.get("/api/jobs", params={"q": "\x00%_'\"; --"}).status_code == 200


@pytest.mark.timeout(300)
def test_waiting_jobs_show_their_place_and_a_running_job_its_whole_chart(api: Api) -> None:
    # Large jobs run long; the user's third live job is held by fair use (two in flight) and waits.
    jobs = [api.submit(tier="large") for _ in range(3)]
    try:
        running = api.wait_for(jobs[0]["id"], frozenset({"RUNNING", "REPORTING", "COMPLETED", "FAILED"}), 120)
        waiting = api.get(f"/api/jobs/{jobs[2]['id']}").json()["job"]
        assert waiting["status"] == "PENDING"
        assert waiting["queue_position"] >= 1 and waiting["queue_estimate_seconds"] > 0
        listed = {j["id"]: j for j in api.get("/api/jobs").json()["jobs"]}
        assert listed[waiting["id"]]["queue_position"] == waiting["queue_position"]
        streamed = first_progress_event(api, waiting["id"])
        assert streamed["status"] == "PENDING" and streamed["queue_position"] >= 1
        assert streamed["queue_estimate_seconds"] > 0

        # A few rounds into the run, the job carries every round of its chart so far.
        while running["status"] == "RUNNING" and (running["live_status"] or {}).get("round", 0) < 3:
            time.sleep(0.2)
            running = api.get(f"/api/jobs/{jobs[0]['id']}").json()["job"]
        assert running["status"] == "RUNNING", f"the large job ended ({running['status']}) before round 3"
        assert running["queue_position"] is None and running["queue_estimate_seconds"] is None
        live = running["live_status"]
        history = live["price_history"]
        rounds = [s["round"] for s in history]
        assert rounds == list(range(len(rounds))) and rounds[-1] >= 3  # from the opening prices on
        markets = {m["id"] for m in running["markets_config"]}
        assert all(set(s["prices"]) == markets for s in history)
        assert all("goal_belief" in s for s in history[1:])
        streamed = first_progress_event(api, running["id"])
        assert len(streamed["live_status"]["price_history"]) >= len(history)
    finally:
        for job in jobs:
            api.post(f"/api/jobs/{job['id']}/cancel")


def test_a_share_link_serves_its_jobs_market_curves(
    completed_job: tuple[Api, dict[str, Any]], anon: Api
) -> None:
    owner, job = completed_job
    token = owner.post(f"/api/jobs/{job['id']}/share").json()["share_token"]
    try:
        shared = anon.get(f"/api/share/{token}/market_curves.json")
        assert shared.status_code == 200 and shared.headers["content-type"] == "application/json"
        own = owner.get(f"/api/jobs/{job['id']}/sim-data/market_curves.json")
        assert shared.json() == own.json() and shared.json()["markets"][0]["id"] == "m1"
    finally:
        assert owner.request("DELETE", f"/api/jobs/{job['id']}/share").status_code == 204
    error_of(anon.get(f"/api/share/{token}/market_curves.json"), 404, "NOT_FOUND")  # revoked
    error_of(anon.get("/api/share/" + "A" * 43 + "/market_curves.json"), 404, "NOT_FOUND")
    error_of(anon.get("/api/share/bad*token/market_curves.json"), 422, "INVALID_ARGUMENT")
    # Only the market curves are shared.
    error_of(anon.get(f"/api/share/{token}/posts.json"), 404, "NOT_FOUND")
