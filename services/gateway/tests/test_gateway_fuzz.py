"""OpenAPI-driven fuzzing of the live gateway (the `stack` fixture's) with Schemathesis.

Every documented operation gets schema-derived valid and invalid requests (coverage, fuzzing and
stateful phases), signed in as a throwaway user. It fails on any 5xx answer (`not_a_server_error`:
no bad input may produce a 500), on a status code or response body the schema does not
document, and on a wrong content type.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.gateway.tests.support import Api, client_address
from tests.fixtures.stack import RunningStack
from tests.fixtures.tally import TALLY

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"


def har_counts(report_dir: Path) -> tuple[int, int]:
    """(requests sent, answers with a 5xx status) from the run's HAR report."""
    sent = server_errors = 0
    for har in report_dir.glob("har-*.json"):
        for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]:
            sent += 1
            server_errors += int(entry["response"]["status"] >= 500)
    return sent, server_errors


@pytest.mark.timeout(900)
def test_fuzzing_finds_no_server_error(stack: RunningStack, tmp_path: Path) -> None:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    if not schemathesis.exists():
        pytest.fail("schemathesis is not installed in the venv (pip install -e '.[dev]')")
    user = Api(stack.gateway_url)
    user.register()
    command = [
        str(schemathesis),
        "run",
        f"{stack.gateway_url}/api/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {user.token}",
        # Its own client address, so fuzzed sign-ups and logins use nobody else's rate-limit budget.
        "--header",
        f"X-Forwarded-For: {client_address()}",
        "--max-examples",
        "25",
        # One worker: hypothesis' source inspection is not thread-safe on CPython 3.11.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "junit,har",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=840, check=False)
    user.close()
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.log").write_text(output)
    TALLY.record_http(*har_counts(tmp_path))
    assert result.returncode == 0, f"schemathesis found problems (full log in {tmp_path}):\n{output[-15000:]}"
    assert " passed" in output
