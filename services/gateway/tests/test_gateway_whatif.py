"""Scheduled events, what-if branches and interviews over HTTP, against the real stack (DESIGN §8a):
POST /api/jobs with events, POST /api/jobs/{id}/branches, GET /api/jobs?branch_of=N, the
interview stream (application/x-ndjson) and its transcripts, and the refusals as JSON errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from services.gateway.routes_whatif import error_line
from services.gateway.tests.support import Api, error_of
from tests.fixtures.stack import RunningStack

NEWS = {
    "day": 20,
    "headline": "The council publishes the lane's audited cost",
    "text": "The audit puts the lane at half the feared cost.",
    "favours": "yes",
}
QUESTION = "What would change your mind about the cycle lane?"


@pytest.fixture(scope="module")
def parent(stack: RunningStack) -> Iterator[tuple[Api, dict[str, Any]]]:
    """A COMPLETED small-tier job with a scheduled event, and its owner's client."""
    client = Api(stack.gateway_url, timeout=120)
    client.register()
    job = client.submit(forecast_days=30, events=[NEWS])
    assert job["events"] == [NEWS] and job["branch_of"] is None and job["branch_count"] == 0
    finished = client.wait_for(job["id"], timeout=300)
    assert finished["status"] == "COMPLETED", finished["error_message"]
    yield client, finished
    client.close()


def branches_of(client: Api, job_id: int) -> dict[str, Any]:
    listed = client.get("/api/jobs", params={"branch_of": job_id})
    assert listed.status_code == 200, listed.text
    data: dict[str, Any] = listed.json()
    return data


def interview_lines(client: Api, job_id: int, body: dict[str, Any]) -> tuple[httpx.Response, list[Any]]:
    """POSTs an interview and reads the NDJSON stream line by line as it arrives."""
    lines: list[Any] = []
    with client.http.stream(
        "POST", f"/api/jobs/{job_id}/interviews", json=body, headers=client.auth, timeout=300
    ) as response:
        if response.status_code == 200:
            lines = [json.loads(line) for line in response.iter_lines() if line]
        else:
            response.read()
    return response, lines


def test_a_job_carries_its_events_and_what_if_fields(parent: tuple[Api, dict[str, Any]]) -> None:
    client, job = parent
    assert job["events"] == [NEWS]
    assert job["branch_of"] is None and job["branch_round"] is None
    listed = client.get("/api/jobs").json()["jobs"]
    assert [j["events"] for j in listed if j["id"] == job["id"]] == [[NEWS]]
    # Events outside the horizon, or malformed, are refused and nothing is created.
    before = client.get("/api/jobs").json()["total"]
    late = client.post(
        "/api/jobs",
        json={
            "seed_text": job["seed_text"],
            "goal": "Will the lane open by June?",
            "tier": "small",
            "forecast_days": 30,
            "events": [{**NEWS, "day": 31}],
        },
    )
    assert "day" in error_of(late, 422, "INVALID_ARGUMENT")["message"]
    too_many = client.post(
        "/api/jobs",
        json={"seed_text": job["seed_text"], "goal": "Will it?", "tier": "small", "events": [NEWS] * 11},
    )
    assert "events" in error_of(too_many, 422, "INVALID_ARGUMENT")["fields"]
    unknown_side = client.post(
        "/api/jobs",
        json={
            "seed_text": job["seed_text"],
            "goal": "Will it?",
            "tier": "small",
            "events": [{**NEWS, "favours": "maybe"}],
        },
    )
    error_of(unknown_side, 422, "INVALID_ARGUMENT")
    assert client.get("/api/jobs").json()["total"] == before


def test_a_branch_is_a_linked_job_listed_under_its_parent(
    parent: tuple[Api, dict[str, Any]], api: Api
) -> None:
    client, job = parent
    injected = {"day": 0, "headline": "The shopkeepers drop their objection", "text": "", "favours": "yes"}
    created = client.post(f"/api/jobs/{job['id']}/branches", json={"round": 1, "events": [injected]})
    assert created.status_code == 201, created.text
    branch = created.json()["job"]
    assert branch["branch_of"] == job["id"] and branch["branch_round"] == 1
    assert branch["status"] == "PENDING" and branch["goal"] == job["goal"] and branch["tier"] == job["tier"]
    assert [e["headline"] for e in branch["events"]] == [injected["headline"]]

    listed = branches_of(client, job["id"])
    assert [j["id"] for j in listed["jobs"]] == [branch["id"]] and listed["total"] == 1
    assert client.get(f"/api/jobs/{job['id']}").json()["job"]["branch_count"] == 1
    # Someone else's job: not found, and their branch_of listing shows nothing of it.
    error_of(api.post(f"/api/jobs/{job['id']}/branches", json={"round": 1}), 404, "NOT_FOUND")
    assert branches_of(api, job["id"])["jobs"] == []

    finished = client.wait_for(branch["id"], timeout=300)
    assert finished["status"] == "COMPLETED", finished["error_message"]
    comparison = json.loads(finished["result_structured"])["branch"]
    assert comparison["parent_job_id"] == job["id"] and comparison["round"] == 1
    report = client.get(f"/api/jobs/{branch['id']}/report.md")
    assert report.status_code == 200 and "## What-if comparison" in report.text


def test_bad_branches_are_refused_and_create_nothing(parent: tuple[Api, dict[str, Any]]) -> None:
    client, job = parent
    before = branches_of(client, job["id"])["total"]
    path = f"/api/jobs/{job['id']}/branches"
    error_of(client.post(path, json={"round": 10_000}), 422, "INVALID_ARGUMENT")
    error_of(client.post(path, json={"round": -1}), 422, "INVALID_ARGUMENT")
    error_of(client.post(path, json={"round": 1, "events": [{**NEWS, "day": 400}]}), 422, "INVALID_ARGUMENT")
    error_of(
        client.post(path, json={"round": 1, "events": [{**NEWS, "headline": ""}]}), 422, "INVALID_ARGUMENT"
    )
    error_of(client.post(path, json={"round": 1, "colour": "red"}), 422, "INVALID_ARGUMENT")
    error_of(client.post("/api/jobs/987654321/branches", json={"round": 1}), 404, "NOT_FOUND")
    draft = client.post("/api/jobs/draft", json={"goal": "a draft"}).json()["job"]
    error_of(client.post(f"/api/jobs/{draft['id']}/branches", json={"round": 0}), 409, "FAILED_PRECONDITION")
    anonymous = httpx.post(f"{client.http.base_url}{path}", json={"round": 1}, timeout=30)
    assert anonymous.status_code == 401
    assert branches_of(client, job["id"])["total"] == before


def test_an_interview_streams_answers_then_the_kept_transcript(parent: tuple[Api, dict[str, Any]]) -> None:
    client, job = parent
    response, lines = interview_lines(client, job["id"], {"question": QUESTION, "agent_ids": [0, 1]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    *answers, done = lines
    assert [line["type"] for line in answers] == ["answer", "answer"] and done["type"] == "done"
    assert [line["answer"]["agent_id"] for line in answers] == [0, 1]
    interview_id = answers[0]["interview_id"]
    assert answers[1]["interview_id"] == interview_id
    for line in answers:
        answer = line["answer"]
        assert answer["answer"].strip() and answer["agent_name"]
        assert 0.0 < answer["probability"] < 1.0 and answer["camp"] in ("yes", "no", "undecided")
    kept = done["interview"]
    assert kept["id"] == interview_id and kept["job_id"] == job["id"] and kept["question"] == QUESTION
    assert kept["backend"] == "heuristic" and kept["target"] == "agents 0, 1"
    assert kept["answers"] == [line["answer"] for line in answers]

    # A camp: every member asked answers from that camp.
    camp = answers[0]["answer"]["camp"]
    response, lines = interview_lines(client, job["id"], {"question": "Why?", "camp": camp})
    assert response.status_code == 200, response.text
    assert lines[-1]["type"] == "done" and all(line["answer"]["camp"] == camp for line in lines[:-1])

    listed = client.get(f"/api/jobs/{job['id']}/interviews")
    assert listed.status_code == 200
    transcripts = listed.json()["interviews"]
    assert transcripts[0] == lines[-1]["interview"]  # newest first
    assert transcripts[1] == kept


def test_interview_refusals_are_json_errors_and_keep_nothing(
    parent: tuple[Api, dict[str, Any]], api: Api
) -> None:
    client, job = parent
    kept_before = len(client.get(f"/api/jobs/{job['id']}/interviews").json()["interviews"])

    def refused(asker: Api, job_id: int, body: dict[str, Any], status: int, code: str) -> dict[str, Any]:
        response, lines = interview_lines(asker, job_id, body)
        assert lines == [] and response.headers["content-type"].startswith("application/json")
        return error_of(response, status, code)

    invalid = (422, "INVALID_ARGUMENT")
    refused(client, job["id"], {"question": "Why?"}, *invalid)  # no target
    refused(client, job["id"], {"question": "Why?", "agent_ids": [0], "camp": "yes"}, *invalid)
    refused(client, job["id"], {"question": "   ", "agent_ids": [0]}, *invalid)
    refused(client, job["id"], {"question": "x" * 501, "agent_ids": [0]}, *invalid)
    refused(client, job["id"], {"question": "Why?", "agent_ids": list(range(13))}, *invalid)
    refused(client, job["id"], {"question": "Why?", "camp": "maybe"}, *invalid)
    unknown = refused(client, job["id"], {"question": "Why?", "agent_ids": [999]}, *invalid)
    assert "999" in unknown["message"]
    refused(api, job["id"], {"question": "Why?", "agent_ids": [0]}, 404, "NOT_FOUND")
    error_of(api.get(f"/api/jobs/{job['id']}/interviews"), 404, "NOT_FOUND")
    draft = client.post("/api/jobs/draft", json={"goal": "a draft"}).json()["job"]
    refused(client, draft["id"], {"question": "Why?", "agent_ids": [0]}, 409, "FAILED_PRECONDITION")
    assert len(client.get(f"/api/jobs/{job['id']}/interviews").json()["interviews"]) == kept_before


def test_openapi_documents_events_branches_and_the_interview_stream(anon: Api) -> None:
    spec = anon.get("/api/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    stream = paths["/api/jobs/{job_id}/interviews"]["post"]["responses"]["200"]["content"]
    assert set(stream) == {"application/x-ndjson"}
    assert set(stream["application/x-ndjson"]["schema"]["properties"]["type"]["enum"]) == {
        "answer",
        "done",
        "error",
    }
    assert "get" in paths["/api/jobs/{job_id}/interviews"]
    assert "201" in paths["/api/jobs/{job_id}/branches"]["post"]["responses"]
    assert "branch_of" in [p["name"] for p in paths["/api/jobs"]["get"]["parameters"]]
    assert {"events", "branch_of", "branch_round", "branch_count"} <= set(schemas["Job"]["properties"])
    assert "events" in schemas["JobBody"]["properties"]
    assert {"agent_ids", "camp", "coalition", "question"} == set(schemas["InterviewBody"]["properties"])


def test_a_failure_mid_stream_is_a_last_error_line() -> None:
    empty = grpc.aio.Metadata()
    no_runner = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, empty, empty, "no runner of tier small answered"
    )
    assert json.loads(error_line(no_runner)) == {
        "type": "error",
        "status": 503,
        "code": "UNAVAILABLE",
        "message": "no runner of tier small answered",
    }
    # A transport failure keeps the gateway's usual wording (no addresses leak).
    down = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, empty, empty, "failed to connect to all addresses"
    )
    assert "addresses" not in json.loads(error_line(down))["message"]
