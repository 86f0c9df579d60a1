"""JSON logs and redaction: secrets, tokens and seed text never reach the output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from swarmcast.events.v1 import events_pb2

from services.common.logging import REDACTED, configure_logging, get_logger, redact_text
from tests.fixtures.settings import settings_for

JWT = (
    "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiI0MiIsImV4cCI6MTcwMDAwMDAwMH0"
    ".c2lnbmF0dXJlLWJ5dGVzLWhlcmUtYmFzZTY0dXJs"
)
SEED = "Internal memo: the board will vote on the merger in March."


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """configure_logging on a string buffer; the root logger is restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("jobs", settings_for(log_format="json", log_level="DEBUG"), stream=stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_line_has_the_standard_fields(log_stream: io.StringIO) -> None:
    get_logger("swarmcast.test").info("job %s launched", 42, extra={"job_id": 42, "tier": "small"})
    (entry,) = lines(log_stream)
    assert entry["level"] == "INFO"
    assert entry["service"] == "jobs"
    assert entry["logger"] == "swarmcast.test"
    assert entry["message"] == "job 42 launched"
    assert entry["job_id"] == 42
    assert entry["tier"] == "small"
    assert entry["timestamp"].endswith("+00:00")


def test_secrets_and_seed_text_are_redacted(log_stream: io.StringIO) -> None:
    log = get_logger("swarmcast.test")
    log.warning(
        "login for bob with Authorization: Bearer xyz and token %s failed",
        JWT,
        extra={
            "password": "hunter2",
            "token": "abc.def",
            "refresh_token": "r-123",
            "seed_text": SEED,
            "enriched_seed": SEED,
            "job_id": 7,
            "request": {"email": "bob@example.com", "api_key": "k-1", "nested": [{"secret": "s"}]},
        },
    )
    (entry,) = lines(log_stream)
    raw = log_stream.getvalue()
    for secret in ("hunter2", "abc.def", "r-123", "board will vote", JWT, "xyz", "k-1", '"s"'):
        assert secret not in raw, secret
    assert entry["password"] == REDACTED
    assert entry["token"] == REDACTED
    assert entry["refresh_token"] == REDACTED
    assert entry["seed_text"] == REDACTED
    assert entry["enriched_seed"] == REDACTED
    assert entry["request"]["api_key"] == REDACTED
    assert entry["request"]["nested"][0]["secret"] == REDACTED
    # Ordinary fields survive.
    assert entry["job_id"] == 7
    assert entry["request"]["email"] == "bob@example.com"
    assert entry["message"].startswith("login for bob with Authorization: ")
    assert "Bearer" in entry["message"] or REDACTED in entry["message"]
    assert entry["message"].endswith("failed")


def test_dict_args_protobuf_values_and_exceptions_are_redacted(log_stream: io.StringIO) -> None:
    log = get_logger("swarmcast.test")
    log.info("request body %s", {"email": "a@b.c", "password": "pw-1", "seed_text": SEED})
    log.info("user %(user)s password %(password)s", {"user": "ann", "password": "pw-2"})
    dispatch = events_pb2.JobDispatch(job_id=3, seed_text=SEED, goal="Will it pass?")
    log.info("dispatching", extra={"event": dispatch})
    log.info("dispatch as text: %s", dispatch)
    try:
        raise RuntimeError(f"upstream rejected Bearer {JWT}")
    except RuntimeError:
        log.exception("call failed")
    raw = log_stream.getvalue()
    for secret in ("pw-1", "pw-2", "board will vote", JWT):
        assert secret not in raw, secret
    entries = lines(log_stream)
    assert "a@b.c" in entries[0]["message"]
    assert entries[1]["message"] == f"user ann password {REDACTED}"
    assert entries[2]["event"]["seed_text"] == REDACTED
    assert entries[2]["event"]["goal"] == "Will it pass?"
    assert "job_id" in entries[3]["message"]
    assert "RuntimeError" in entries[4]["exception"]
    assert REDACTED in entries[4]["exception"]


def test_redact_text_masks_credentials_in_free_text() -> None:
    assert redact_text("Authorization: Bearer abc.def-ghi") == f"Authorization: {REDACTED} {REDACTED}"
    assert redact_text(f"got {JWT} back") == f"got {REDACTED} back"
    assert redact_text("postgresql://svc:s3cr3t@db:5432/x") == f"postgresql://svc:{REDACTED}@db:5432/x"
    url = "http://s3/b/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=deadbeef&X-Amz-Expires=60"
    masked = redact_text(url)
    assert "deadbeef" not in masked and "AK%2F1" not in masked and "X-Amz-Expires=60" in masked
    assert redact_text('{"password": "p\\"w", "n": 1}') == f'{{"password": {REDACTED}, "n": 1}}'
    assert redact_text('seed_text: "long text"') == f"seed_text: {REDACTED}"
    assert redact_text("http://h/x?token=abc&x=1") == f"http://h/x?token={REDACTED}&x=1"
    # Not secrets: token counts, random seeds.
    assert redact_text("prompt_tokens=512 random_seed=7") == "prompt_tokens=512 random_seed=7"


def test_text_format(log_stream: io.StringIO) -> None:
    stream = io.StringIO()
    configure_logging("auth", settings_for(log_format="text"), stream=stream)
    get_logger("swarmcast.test").info("hello", extra={"password": "pw", "user_id": "u1"})
    out = stream.getvalue()
    assert "INFO" in out and "auth swarmcast.test: hello" in out
    assert "pw'" not in out and REDACTED in out and "user_id='u1'" in out
    # Reconfiguring replaced the JSON handler instead of adding a second one.
    assert log_stream.getvalue() == ""
