"""deploy/ for real: the images built on this host, deploy/compose.yaml (with compose.local.yaml) up,
a job from sign-up to COMPLETED through the gateway container, every container healthy and not
root, the runner container killed mid-job and the job still completing, then all torn down.

Docker is installed if missing and `dockerd` started if none answers (both need root; elsewhere
the test is skipped); a daemon this test started is stopped at the end, one it found is left
alone. Images and their layers stay between runs: a rebuild on the same machine reuses them
(deploy/README.md, "Local images and the local compose stack"). The stack runs as its own compose
project on a free loopback port, beside a `make compose-up` stack if one is running.

Each step's time is printed to the terminal (not captured), so the CI log shows them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.cli.processes import listen_ports
from services.common.config import REPO_ROOT

LOCAL_STACK = REPO_ROOT / "deploy" / "docker" / "local-stack.sh"
# SWARMCAST_RUNNER_ACK_WAIT_SECONDS in the test's stack (60 by default): a killed runner's job is
# delivered again this long after its last in-progress ack.
RUNNER_ACK_WAIT_S = 15
SEED = (REPO_ROOT / "demos" / "harbor_transit.md").read_text()
GOAL = "Will Measure T pass on 14 March?"
LONG_RUNNING = ("postgres", "nats", "minio", "auth", "jobs", "runner", "reporter", "gateway")
ONE_SHOTS = ("migrate", "minio-setup")
# The swarmcast images run as this uid (deploy/docker/Dockerfile's APP_UID).
APP_UID = "10001"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "REFUNDED"}
# Kills the runner's service process (the child of the container's init), as a crash would: a
# restart policy applies (it does not to `docker kill`/`docker stop`, which the daemon itself does).
KILL_RUNNER = (
    "import os, signal\n"
    "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "    try:\n"
    "        argv = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')\n"
    "    except OSError:\n"
    "        continue\n"
    "    if argv[1:3] == [b'-m', b'services.gpu_runner']:\n"
    "        print(pid, flush=True)\n"
    "        os.kill(int(pid), signal.SIGKILL)\n"
)


def docker_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    return subprocess.run([docker, "info"], capture_output=True, check=False).returncode == 0


def can_run_docker() -> bool:
    """A daemon answers, or this test may install and start one (root)."""
    return docker_answers() or os.geteuid() == 0


@dataclass
class ComposeE2E:
    """One compose project of the local stack, driven through deploy/docker/local-stack.sh."""

    env: dict[str, str]
    http_port: int
    say: Callable[[str], None]
    started_at: float = field(default_factory=time.monotonic)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def project(self) -> str:
        return self.env["SWARMCAST_LOCAL_PROJECT"]

    def local_stack(self, *args: str, timeout: float = 1200) -> str:
        """Runs local-stack.sh; its timing lines reach the log, the rest only on failure."""
        result = subprocess.run(
            [str(LOCAL_STACK), *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        output = result.stdout + result.stderr
        for line in output.splitlines():
            if re.search(r"local-stack: .*: \d+ s|local-stack: (up|down) in|^wheels: |^base-image: ", line):
                self.say("    " + line)
        assert result.returncode == 0, f"local-stack.sh {' '.join(args)} failed:\n{output[-6000:]}"
        return output

    def container(self, service: str) -> str:
        """The id of `service`'s container (compose's labels, as `compose ps` reads them)."""
        out = subprocess.run(
            ["docker", "ps", "-a", "--filter", f"label=com.docker.compose.project={self.project}",
             "--filter", f"label=com.docker.compose.service={service}", "--format", "{{.ID}}"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.split()  # fmt: skip
        assert out, f"no container for {service}"
        return out[0]

    def inspect(self, container: str) -> dict[str, Any]:
        out = subprocess.run(
            ["docker", "inspect", container], capture_output=True, text=True, check=True, timeout=60
        )
        return json.loads(out.stdout)[0]

    def exec(self, container: str, *argv: str) -> str:
        out = subprocess.run(
            ["docker", "exec", container, *argv], capture_output=True, text=True, timeout=60, check=False
        )
        assert out.returncode == 0, f"docker exec {argv}: {out.stdout}{out.stderr}"
        return out.stdout

    def kill_runner_process(self, container: str) -> str:
        """SIGKILLs the runner's service process; its pid. The container stops with it, which may
        end this `docker exec` before it reports its own exit: only the pid it printed counts."""
        out = subprocess.run(
            ["docker", "exec", container, "python", "-c", KILL_RUNNER],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        pids = out.stdout.split()
        assert pids, f"no runner process to kill: {out.stdout}{out.stderr}"
        return pids[0]

    def logs(self, container: str) -> str:
        out = subprocess.run(
            ["docker", "logs", container], capture_output=True, text=True, timeout=60, check=True
        )
        return out.stdout + out.stderr


class Gateway:
    """The gateway container's published port, used as a browser or the CLI would."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.token = ""

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response

    def submit(self, tier: str) -> int:
        body = {"seed_text": SEED, "goal": GOAL, "tier": tier, "enrich_web": False}
        return int(self.call("POST", "/api/jobs", json=body).json()["job"]["id"])

    def job(self, job_id: int) -> dict[str, Any]:
        job: dict[str, Any] = self.call("GET", f"/api/jobs/{job_id}").json()["job"]
        return job

    def wait_terminal(self, job_id: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] in TERMINAL or time.monotonic() > deadline:
                return job
            time.sleep(0.5)


def verification_link(stack: ComposeE2E, auth: str, email: str) -> str:
    """The link in auth's outbox (no SMTP in the stack: mail goes to the outbox volume)."""
    script = (
        "import json, pathlib, sys\n"
        "for path in sorted(pathlib.Path('/var/lib/swarmcast/outbox').glob('*.json')):\n"
        "    mail = json.loads(path.read_text())\n"
        "    if mail['to'] == sys.argv[1] and mail['kind'] == 'verification':\n"
        "        print(mail['link'])\n"
    )
    for _ in range(120):
        links = stack.exec(auth, "python", "-c", script, email).split()
        if links:
            return links[-1]
        time.sleep(0.5)
    raise AssertionError(f"no verification mail to {email} in auth's outbox")


def check_containers(stack: ComposeE2E) -> list[str]:
    """Every long-running container healthy and not root; every one-shot exited 0."""
    lines = []
    for service in LONG_RUNNING:
        state = stack.inspect(stack.container(service))["State"]
        assert state["Status"] == "running", (service, state)
        assert state["Health"]["Status"] == "healthy", (service, state["Health"])
        uid = stack.exec(stack.container(service), "id", "-u").strip()
        assert uid != "0", f"{service} runs as root"
        if service not in ("postgres", "nats", "minio"):
            assert uid == APP_UID, f"{service} runs as uid {uid}, not the image's {APP_UID}"
        lines.append(f"{service}: healthy, uid {uid}")
    for service in ONE_SHOTS:
        state = stack.inspect(stack.container(service))["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 0), (service, state)
        lines.append(f"{service}: exited 0")
    return lines


@contextmanager
def compose_stack(tmp_path: Path, say: Callable[[str], None]) -> Iterator[ComposeE2E]:
    had_docker = docker_answers()
    (http_port,) = listen_ports(1)
    env_file = tmp_path / "compose.env"
    # local-stack.sh keeps a value already in its env file (owner-only: it adds the passwords).
    # A killed runner's job is taken again after the runner's ack wait, an operator's setting.
    env_file.touch(mode=0o600)
    env_file.write_text(f"SWARMCAST_RUNNER_ACK_WAIT_SECONDS={RUNNER_ACK_WAIT_S}\n")
    env = {
        **os.environ,
        "SWARMCAST_LOCAL_PROJECT": f"swarmcast-e2e-{secrets.token_hex(3)}",
        "SWARMCAST_LOCAL_ENV_FILE": str(env_file),
        "SWARMCAST_LOCAL_HTTP_PORT": str(http_port),
    }
    stack = ComposeE2E(env=env, http_port=http_port, say=say)
    try:
        yield stack
    finally:
        with step(say, "compose down (containers, network, volumes)"):
            if docker_answers():
                stack.local_stack("down", timeout=300)
                project_label = f"label=com.docker.compose.project={stack.project}"
                left = subprocess.run(
                    ["docker", "ps", "-a", "-q", "--filter", project_label],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                assert not left, f"containers left behind: {left}"
        if not had_docker:
            with step(say, "stop the dockerd this test started"):
                stack.local_stack("stop-dockerd", timeout=120)


@contextmanager
def step(say: Callable[[str], None], what: str) -> Iterator[None]:
    started = time.monotonic()
    say(f"compose e2e: {what} ...")
    yield
    say(f"compose e2e: {what}: {time.monotonic() - started:.1f} s")


def sign_up_verified(stack: ComposeE2E, gateway: Gateway) -> None:
    """A new account, its address verified through the emailed link, signed in."""
    account = {"email": f"e2e-{secrets.token_hex(4)}@example.com", "password": secrets.token_urlsafe(16)}
    gateway.token = gateway.call("POST", "/api/auth/register", json=account).json()["access_token"]
    link = verification_link(stack, stack.container("auth"), account["email"])
    gateway.call("GET", "/api/auth/verify", params={"token": link.split("token=", 1)[1]})
    # A token issued after verification carries it.
    gateway.token = gateway.call("POST", "/api/auth/login", json=account).json()["access_token"]


def small_job_completes(gateway: Gateway) -> str:
    job_id = gateway.submit("small")
    job = gateway.wait_terminal(job_id, timeout=300)
    assert job["status"] == "COMPLETED", job.get("error_message")
    assert 0.0 < job["forecast_probability"] < 1.0
    assert job["forecast_low"] <= job["forecast_probability"] <= job["forecast_high"]
    report = gateway.call("GET", f"/api/jobs/{job_id}/report.md").text
    assert report.startswith("# Forecast report"), report[:200]
    assert GOAL in report
    files = gateway.call("GET", f"/api/jobs/{job_id}/sim-data").json()["files"]
    assert "market_curves.json" in files, sorted(files)
    curves = gateway.call("GET", f"/api/jobs/{job_id}/sim-data/market_curves.json").json()
    assert curves, "market_curves.json is empty"
    return (
        f"job {job_id}: COMPLETED, forecast {job['forecast_probability']:.3f}, {len(files)} artifacts, "
        f"report {len(report)} characters"
    )


def wait_until_rounds_in(gateway: Gateway, job_id: int, rounds: int) -> int:
    """Polls until the job is RUNNING past `rounds` rounds; the round it reached."""
    deadline = time.monotonic() + 300
    while True:
        job = gateway.job(job_id)
        live_round = int((job.get("live_status") or {}).get("round") or 0)
        if job["status"] == "RUNNING" and live_round >= rounds:
            return live_round
        assert job["status"] not in TERMINAL, f"job {job_id} ended {job['status']} before the kill"
        assert time.monotonic() < deadline, f"job {job_id} never started: {job['status']}"
        time.sleep(0.1)


def crashed_job_completes(stack: ComposeE2E, gateway: Gateway, say: Callable[[str], None]) -> str:
    """Kills the runner's process a few rounds into a large job; the job must still complete, taken
    again by the restarted container and resumed from a round checkpoint."""
    runner = stack.container("runner")
    restarts = stack.inspect(runner)["RestartCount"]
    job_id = gateway.submit("large")
    live_round = wait_until_rounds_in(gateway, job_id, 3)
    killed = stack.kill_runner_process(runner)
    say(f"    job {job_id} RUNNING at round {live_round}: runner process {killed} killed (SIGKILL)")
    # The live status says whether the next attempt resumed from a checkpoint: `resumed` stays set
    # for the rest of the run; the notes (which may scroll out of the live log) say from where.
    resumed = False
    notes: set[str] = set()
    deadline = time.monotonic() + 600
    while (job := gateway.job(job_id))["status"] not in TERMINAL and time.monotonic() < deadline:
        live = job.get("live_status") or {}
        resumed = resumed or live.get("resumed") is True
        notes.update(str(line) for line in live.get("log") or [] if "checkpoint" in str(line))
        time.sleep(0.2)
    assert job["status"] == "COMPLETED", job.get("error_message")
    state = stack.inspect(runner)
    assert state["RestartCount"] == restarts + 1, "the runner container was not restarted"
    pattern = rf"job {job_id} run \S+ picked up \(tier large, attempt \d+, delivery (\d+)\)"
    deliveries = re.findall(pattern, stack.logs(runner))
    assert deliveries and int(deliveries[-1]) >= 2, f"job {job_id} not taken again: {deliveries}"
    assert resumed, f"job {job_id} did not resume from its checkpoint: {sorted(notes)}"
    report = gateway.call("GET", f"/api/jobs/{job_id}/report.md").text
    assert report.startswith("# Forecast report"), report[:200]
    return (
        f"runner container restarted ({state['RestartCount']} restart); job {job_id} taken again "
        f"(delivery {deliveries[-1]}) and resumed ({'; '.join(sorted(notes))}), COMPLETED, "
        f"forecast {job['forecast_probability']:.3f}"
    )


@pytest.mark.skipif(not can_run_docker(), reason="needs a Docker daemon, or root to install and start one")
@pytest.mark.timeout(1800)
@pytest.mark.flaky(reruns=0)
def test_compose_stack_runs_a_job_and_survives_a_runner_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def say(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    say("")
    total = time.monotonic()
    with compose_stack(tmp_path, say) as stack:
        with step(say, "images (Docker installed and started if needed, bases, wheels, builds)"):
            stack.local_stack("images")
        with step(say, f"compose up, every service healthy (gateway on {stack.base_url})"):
            stack.local_stack("up", timeout=600)
        with step(say, "containers healthy and not root"):
            for line in check_containers(stack):
                say("    " + line)
        gateway = Gateway(stack.base_url)
        try:
            with step(say, "sign up, verify, small job to COMPLETED with its report and artifacts"):
                sign_up_verified(stack, gateway)
                say("    " + small_job_completes(gateway))
            with step(say, "kill the runner mid-job; the job completes after the restart"):
                say("    " + crashed_job_completes(stack, gateway, say))
            with step(say, "containers healthy again after the restart"):
                check_containers(stack)
        finally:
            gateway.close()
    say(f"compose e2e: all steps: {time.monotonic() - total:.1f} s")
