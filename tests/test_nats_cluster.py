"""The Kubernetes NATS config (deploy/k8s/base/nats) as a real 3-node JetStream cluster on loopback.

The `nats.conf` of the ConfigMap is run three times by the local `nats-server`, with only what the
pods get from Kubernetes swapped for loopback values: addresses and ports, the route hostnames
(nats-<i>.nats-headless), the data and pid paths, and POD_NAME. The event bus then creates every
stream with SWARMCAST_NATS_STREAM_REPLICAS=3 through a comma-separated server list, and a stream
keeps accepting and serving events after its leader's server is killed. Every process started
here is stopped by its PID. The ConfigMap's `auth.conf` (per-service NATS users) comes along, with
test passwords in the environment as the Secret gives them; the test connects as `admin`.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from swarmcast.events.v1 import events_pb2

from services.cli.processes import free_port
from services.cli.stack import NATS_SERVER
from services.common import subjects
from services.common.bus import EventBus, EventMeta
from services.common.config import REPO_ROOT
from services.common.nats_auth import ADMIN_USER, SERVICE_USERS, password_env
from tests.fixtures.settings import settings_for

NATS_DIR = REPO_ROOT / "deploy" / "k8s" / "base" / "nats"
SERVERS = 3
READY_WITHIN_S = 30.0


def manifest_nats_conf(key: str = "nats.conf") -> str:
    docs = [d for d in yaml.safe_load_all((NATS_DIR / "config.yaml").read_text()) if d]
    (config_map,) = [d for d in docs if d["kind"] == "ConfigMap"]
    return str(config_map["data"][key])


# What the Secret swarmcast-nats gives the servers (NATS_<USER>_PASSWORD).
PASSWORDS = {password_env(u): f"test-{u}-{secrets.token_hex(4)}" for u in (*SERVICE_USERS, ADMIN_USER)}


def server_env(pod_name: str) -> dict[str, str]:
    return {"POD_NAME": pod_name, **PASSWORDS}


def statefulset_replicas() -> int:
    docs = [d for d in yaml.safe_load_all((NATS_DIR / "statefulset.yaml").read_text()) if d]
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet"]
    return int(sts["spec"]["replicas"])


def substitute(text: str, pattern: str, replacement: str, *, count: int = 1) -> str:
    """re.subn that insists on `count` matches, so a reshaped config fails here instead of being
    silently tested half-converted."""
    out, n = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert n == count, f"expected {count} match(es) of {pattern!r} in nats.conf, found {n}"
    return out


@dataclass
class Node:
    index: int
    client_port: int
    route_port: int
    monitor_port: int
    config: Path
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    @property
    def name(self) -> str:
        return f"nats-{self.index}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)


def local_configs(tmp: Path) -> list[Node]:
    conf = manifest_nats_conf()
    (tmp / "auth.conf").write_text(manifest_nats_conf("auth.conf"))  # `include ./auth.conf`
    nodes = [
        Node(i, free_port(), free_port(), free_port(), tmp / f"nats-{i}.conf", tmp / f"nats-{i}.log")
        for i in range(SERVERS)
    ]
    for node in nodes:
        text = substitute(conf, r"^listen: 0\.0\.0\.0:4222$", f"listen: 127.0.0.1:{node.client_port}")
        text = substitute(text, r"^http: 0\.0\.0\.0:8222$", f"http: 127.0.0.1:{node.monitor_port}")
        pid_file = tmp / f"nats-{node.index}.pid"
        text = substitute(text, r"^pid_file: /var/run/nats/nats\.pid$", f"pid_file: {pid_file}")
        text = substitute(text, r"^(\s+)store_dir: /data$", rf"\1store_dir: {tmp}/data-{node.index}")
        text = substitute(text, r"^(\s+)listen: 0\.0\.0\.0:6222$", rf"\1listen: 127.0.0.1:{node.route_port}")
        for other in nodes:
            text = substitute(
                text,
                rf"nats://nats-{other.index}\.nats-headless:6222",
                f"nats://127.0.0.1:{other.route_port}",
            )
        node.config.write_text(text)
    return nodes


def test_the_config_is_valid_for_nats_server(tmp_path: Path) -> None:
    config = tmp_path / "nats.conf"
    config.write_text(manifest_nats_conf())
    (tmp_path / "auth.conf").write_text(manifest_nats_conf("auth.conf"))
    result = subprocess.run(
        [NATS_SERVER, "-t", "-c", str(config)],
        env=server_env("nats-0"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # One route per StatefulSet replica, named as the headless Service resolves them.
    routes = re.findall(r"nats://(nats-\d+)\.nats-headless:6222", manifest_nats_conf())
    assert routes == [f"nats-{i}" for i in range(statefulset_replicas())]
    assert statefulset_replicas() == SERVERS


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[Node]]:
    nodes = local_configs(tmp_path)
    try:
        for node in nodes:
            with open(node.log, "wb") as log:
                node.popen = subprocess.Popen(
                    [NATS_SERVER, "-c", str(node.config)],
                    env=server_env(node.name),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        deadline = time.monotonic() + READY_WITHIN_S
        while not all(node.healthy() for node in nodes):
            for node in nodes:
                assert node.popen is not None
                if node.popen.poll() is not None:
                    pytest.fail(f"{node.name} exited:\n{node.log.read_text()[-3000:]}", pytrace=False)
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n.name}\n{n.log.read_text()[-2000:]}" for n in nodes)
                pytest.fail(f"the JetStream cluster did not become healthy\n{logs}", pytrace=False)
            time.sleep(0.2)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


@pytest_asyncio.fixture
async def cluster_bus(cluster: list[Node]) -> AsyncIterator[EventBus]:
    settings = settings_for(
        nats_url=",".join(node.url for node in cluster),
        nats_prefix=f"t{secrets.token_hex(4)}",
        nats_stream_replicas=3,
        nats_user=ADMIN_USER,
        nats_password=PASSWORDS[password_env(ADMIN_USER)],
    )
    bus = await EventBus.connect(settings, name="cluster-test", connect_attempts=5)
    try:
        yield bus
    finally:
        await bus.stop_subscriptions(grace=2)
        if not bus.nc.is_closed:
            await bus.close()


async def test_streams_are_replicated_on_three_servers_and_survive_losing_one(
    cluster: list[Node], cluster_bus: EventBus
) -> None:
    bus = cluster_bus
    await bus.ensure_streams()
    for stream in subjects.STREAMS:
        info = await bus.js.stream_info(bus.stream_name(stream.name))
        assert info.config.num_replicas == 3, stream.name
        assert info.cluster is not None and info.cluster.leader
        assert len(info.cluster.replicas or []) == 2, (stream.name, info.cluster)

    received: list[int] = []

    async def handler(event: events_pb2.RunnerProgress, _meta: EventMeta) -> None:
        received.append(event.seq)

    await bus.subscribe(
        subjects.RUNNER_PROGRESS_ALL, events_pb2.RunnerProgress, handler, durable="cluster-test"
    )
    await bus.publish(subjects.runner_progress(7), events_pb2.RunnerProgress(job_id=7, seq=1), msg_id="p-1")

    # Kill the server that leads the RUNNER stream: the other two keep a quorum.
    runner_stream = bus.stream_name(subjects.RUNNER.name)
    leader = (await bus.js.stream_info(runner_stream)).cluster.leader
    (victim,) = [node for node in cluster if node.name == leader]
    victim.stop(signal.SIGKILL)

    await bus.publish(subjects.runner_progress(7), events_pb2.RunnerProgress(job_id=7, seq=2), msg_id="p-2")
    deadline = time.monotonic() + 30
    while sorted(received) != [1, 2]:
        assert time.monotonic() < deadline, f"received {received} after losing {leader}"
        await asyncio.sleep(0.1)
    info = await bus.js.stream_info(runner_stream)
    assert info.state.messages == 2
    assert info.cluster.leader != leader


async def test_raising_the_replica_setting_updates_existing_streams(
    cluster: list[Node], cluster_bus: EventBus
) -> None:
    single = await EventBus.connect(
        settings_for(
            nats_url=cluster[0].url,
            nats_prefix=cluster_bus.prefix,
            nats_stream_replicas=1,
            nats_user=ADMIN_USER,
            nats_password=PASSWORDS[password_env(ADMIN_USER)],
        ),
        name="cluster-test-r1",
        connect_attempts=5,
    )
    try:
        await single.ensure_stream(subjects.ERRORS)
        name = single.stream_name(subjects.ERRORS.name)
        assert (await single.js.stream_info(name)).config.num_replicas == 1
        await cluster_bus.ensure_stream(subjects.ERRORS)  # the bus configured with 3
        deadline = time.monotonic() + 20
        while True:
            info = await single.js.stream_info(name)
            if info.config.num_replicas == 3 and len(info.cluster.replicas or []) == 2:
                break
            assert time.monotonic() < deadline, info.cluster
            await asyncio.sleep(0.2)
    finally:
        await single.close()
