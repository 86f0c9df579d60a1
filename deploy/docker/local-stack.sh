#!/usr/bin/env bash
# deploy/compose.yaml on images made on this host, for hosts that cannot pull from a registry
# (deploy/README.md, "Local images and the local compose stack"). `make images`, `make compose-up`
# and `make compose-down` call it.
#
#   deploy/docker/local-stack.sh images    base images (debootstrap), wheels, every image
#   deploy/docker/local-stack.sh up        the stack (project swarmcast-local), waits until healthy
#   deploy/docker/local-stack.sh check     every container healthy (one-shots exited 0), none root
#   deploy/docker/local-stack.sh smoke     sign up, verify, one heuristic job to COMPLETED, report
#   deploy/docker/local-stack.sh down      stops it and removes its containers, network, volumes
#   deploy/docker/local-stack.sh compose ARGS...   any compose command on the local stack
#
# The gateway is published on 127.0.0.1:${SWARMCAST_LOCAL_HTTP_PORT:-18080} (not 8080: `make up`'s).
# Passwords are generated once into .run/compose-local.env (owner-only). Docker: `dockerd` is
# started in the background (log .run/dockerd.log, pid .run/dockerd.pid) if none answers;
# `deploy/docker/local-stack.sh stop-dockerd` stops only a daemon this script started.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOCKER_DIR=$REPO_ROOT/deploy/docker
RUN_DIR=$REPO_ROOT/.run
PROJECT=${SWARMCAST_LOCAL_PROJECT:-swarmcast-local}
ENV_FILE=${SWARMCAST_LOCAL_ENV_FILE:-$RUN_DIR/compose-local.env}
HTTP_PORT=${SWARMCAST_LOCAL_HTTP_PORT:-18080}
IMAGE_TAG=${SWARMCAST_LOCAL_IMAGE_TAG:-local}
# What `images` builds with compose (the gpu-runner is not among them: deploy/docker/gpu-runner.Dockerfile).
BUILT_SERVICES=(postgres nats minio migrate auth jobs runner reporter gateway)
# The services that stay up; migrate and minio-setup are one-shots that must exit 0.
LONG_RUNNING=(postgres nats minio auth jobs runner reporter gateway)
ONE_SHOTS=(migrate minio-setup)
UP_TIMEOUT=${SWARMCAST_LOCAL_UP_TIMEOUT:-300}

log() { printf '%s local-stack: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf 'local-stack: %s\n' "$*" >&2; exit 1; }

# --- Docker ------------------------------------------------------------------------------------

# Installs what is missing of Docker's engine, a compose and debootstrap (root; apt-get).
ensure_tools() {
  local packages=()
  command -v dockerd >/dev/null 2>&1 || [[ -x /usr/sbin/dockerd ]] || packages+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 ||
    packages+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || [[ -x /usr/sbin/debootstrap ]] || packages+=(debootstrap)
  ((${#packages[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "missing ${packages[*]} (apt-get install docker.io docker-compose debootstrap)"
  log "installing ${packages[*]} (apt-get)"
  # Package lists may be missing or stale on a fresh machine: refresh them once, then retry.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${packages[@]}" >/dev/null; }
}

ensure_docker() {
  ensure_tools
  if docker info >/dev/null 2>&1; then
    return
  fi
  [[ $(id -u) -eq 0 ]] || die "no Docker daemon answers, and starting one needs root"
  mkdir -p "$RUN_DIR"
  log "starting dockerd (log $RUN_DIR/dockerd.log)"
  local dockerd
  dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
  nohup "$dockerd" >"$RUN_DIR/dockerd.log" 2>&1 &
  echo $! >"$RUN_DIR/dockerd.pid"
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  die "dockerd did not answer within 30 s: $RUN_DIR/dockerd.log"
}

stop_dockerd() {
  local pid
  pid=$(cat "$RUN_DIR/dockerd.pid" 2>/dev/null || true)
  if [[ -n $pid ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
    log "stopping the dockerd this script started (pid $pid)"
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
  fi
  rm -f "$RUN_DIR/dockerd.pid"
}

compose() {
  local files=(-p "$PROJECT" --env-file "$ENV_FILE" -f "$REPO_ROOT/deploy/compose.yaml"
    -f "$REPO_ROOT/deploy/compose.local.yaml")
  # Legacy builder: BuildKit would fetch the `# syntax=` frontend image from a registry.
  if docker compose version >/dev/null 2>&1; then
    DOCKER_BUILDKIT=0 docker compose "${files[@]}" "$@"
  else
    COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=0 docker-compose "${files[@]}" "$@"
  fi
}

# --- the env file ------------------------------------------------------------------------------

# deploy/.env.example with every CHANGE-ME replaced by a random value (kept across runs), and the
# local project's name, image tag and port. Values already in the file are kept; new variables of
# .env.example are added.
write_env_file() {
  mkdir -p "$(dirname "$ENV_FILE")"
  (
    umask 077
    python3 - "$REPO_ROOT/deploy/.env.example" "$ENV_FILE" "$PROJECT" "$IMAGE_TAG" "$HTTP_PORT" <<'PY'
import secrets
import sys
from pathlib import Path

example, target, project, tag, port = sys.argv[1:]
path = Path(target)
kept = {}
if path.exists():
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            kept[name] = value
forced = {
    "COMPOSE_PROJECT_NAME": project,
    "SWARMCAST_IMAGE_REGISTRY": "swarmcast",
    "SWARMCAST_IMAGE_TAG": tag,
    "SWARMCAST_HTTP_BIND": "127.0.0.1",
    "SWARMCAST_HTTP_PORT": port,
    "SWARMCAST_PUBLIC_URL": f"http://127.0.0.1:{port}",
}
lines = ["# Generated by deploy/docker/local-stack.sh from deploy/.env.example; secrets are random."]
for line in Path(example).read_text().splitlines():
    name, sep, value = line.partition("=")
    if not sep or line.startswith("#"):
        continue
    if name in forced:
        value = forced[name]
    elif name in kept:
        value = kept[name]
    elif value == "CHANGE-ME":
        # A leading letter: nats-server reads a password like 4e51... as a number and stops.
        value = "s" + secrets.token_hex(24)
    lines.append(f"{name}={value}")
path.write_text("\n".join(lines) + "\n")
PY
  )
}

# --- commands ----------------------------------------------------------------------------------

timed() {
  local label=$1 started=$SECONDS
  shift
  "$@"
  log "$label: $((SECONDS - started)) s"
}

cmd_images() {
  ensure_docker
  write_env_file
  local started=$SECONDS
  timed "base images" "$DOCKER_DIR/base-image.sh" all
  timed "wheels" "$DOCKER_DIR/wheels.sh"
  timed "compose build (${BUILT_SERVICES[*]})" compose build "${BUILT_SERVICES[@]}"
  # Images a rebuild replaced (untagged), and only those made from the local bases.
  docker image prune --force --filter label=io.swarmcast.local-image=true >/dev/null
  log "images: $((SECONDS - started)) s in all"
  docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^swarmcast/' | sort
}

# Every long-running container running and healthy, every one-shot exited 0; none runs as root.
check_stack() {
  local quiet=${1:-} failed=0 service id state health exit_code user
  for service in "${LONG_RUNNING[@]}" "${ONE_SHOTS[@]}"; do
    id=$(compose ps -a -q "$service" 2>/dev/null | head -n1)
    if [[ -z $id ]]; then
      [[ -n $quiet ]] || echo "  $service: no container"
      failed=1
      continue
    fi
    state=$(docker inspect -f '{{.State.Status}}' "$id")
    health=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}' "$id")
    exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$id")
    user=$(docker inspect -f '{{.Config.User}}' "$id")
    if [[ " ${ONE_SHOTS[*]} " == *" $service "* ]]; then
      [[ $state == exited && $exit_code == 0 ]] || failed=1
    else
      [[ $state == running && $health == healthy ]] || failed=1
      # The uid the main process really runs as.
      if [[ $state == running ]]; then
        user="$user (uid $(docker exec "$id" id -u))"
        [[ $(docker exec "$id" id -u) != 0 ]] || failed=1
      fi
    fi
    [[ -n $quiet ]] || printf '  %-12s %-8s health=%-9s exit=%-3s user=%s\n' \
      "$service" "$state" "$health" "$exit_code" "$user"
  done
  return "$failed"
}

cmd_up() {
  ensure_docker
  write_env_file
  local started=$SECONDS
  for image in swarmcast/local-postgres:bookworm swarmcast/local-nats:bookworm \
    swarmcast/local-s3:bookworm "swarmcast/gateway:$IMAGE_TAG"; do
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing: run \`make images\` first"
  done
  compose up -d --no-build
  log "waiting for every service to be healthy (at most $UP_TIMEOUT s)"
  until check_stack quiet; do
    if ((SECONDS - started > UP_TIMEOUT)); then
      check_stack || true
      compose logs --tail 30 || true
      die "the stack is not healthy after $UP_TIMEOUT s"
    fi
    sleep 2
  done
  check_stack
  log "up in $((SECONDS - started)) s: http://127.0.0.1:$HTTP_PORT"
}

cmd_down() {
  ensure_docker
  write_env_file
  local started=$SECONDS
  compose down --volumes --remove-orphans
  log "down in $((SECONDS - started)) s"
}

# Through the gateway's published port only, as a user would: sign up, verify the address (the
# link from auth's mail outbox), submit a small heuristic job, wait for COMPLETED, read the report
# and one artifact.
cmd_smoke() {
  command -v jq >/dev/null || die "smoke needs jq"
  local started=$SECONDS
  local base="http://127.0.0.1:$HTTP_PORT" email password token auth_id link job_id status report
  email="smoke-$(date +%s)-$RANDOM@example.com"
  password="smoke-$(openssl rand -hex 12)"
  token=$(curl -sS --fail-with-body -X POST "$base/api/auth/register" -H 'content-type: application/json' \
    -d "$(jq -n --arg e "$email" --arg p "$password" '{email: $e, password: $p}')" | jq -r .access_token)
  log "signed up $email"
  auth_id=$(compose ps -a -q auth)
  link=""
  for _ in $(seq 60); do
    link=$(docker exec -e TO="$email" "$auth_id" python -c '
import json, os, pathlib
for path in sorted(pathlib.Path("/var/lib/swarmcast/outbox").glob("*.json")):
    mail = json.loads(path.read_text())
    if mail["to"] == os.environ["TO"] and mail["kind"] == "verification":
        print(mail["link"])
' | tail -n1)
    [[ -n $link ]] && break
    sleep 0.5
  done
  [[ -n $link ]] || die "no verification mail to $email in auth's outbox"
  curl -sS --fail-with-body "$base/api/auth/verify?token=${link##*token=}" >/dev/null
  log "verified $email through the link in auth's outbox"
  # A token issued after verification carries it.
  token=$(curl -sS --fail-with-body -X POST "$base/api/auth/login" -H 'content-type: application/json' \
    -d "$(jq -n --arg e "$email" --arg p "$password" '{email: $e, password: $p}')" | jq -r .access_token)
  job_id=$(curl -sS --fail-with-body -X POST "$base/api/jobs" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d "$(jq -n --rawfile seed "$REPO_ROOT/demos/harbor_transit.md" \
      '{seed_text: $seed, goal: "Will Measure T pass on 14 March?", tier: "small", enrich_web: false}')" |
    jq -r .job.id)
  log "submitted job $job_id"
  status=""
  for _ in $(seq 300); do
    status=$(curl -sS --fail-with-body "$base/api/jobs/$job_id" -H "authorization: Bearer $token" | jq -r .job.status)
    [[ $status == COMPLETED || $status == FAILED || $status == CANCELLED ]] && break
    sleep 1
  done
  [[ $status == COMPLETED ]] || die "job $job_id ended $status"
  log "job $job_id COMPLETED in $((SECONDS - started)) s from sign-up"
  report=$(curl -sS --fail-with-body "$base/api/jobs/$job_id/report.md" -H "authorization: Bearer $token")
  [[ $report == "# Forecast report"* ]] || die "job $job_id: no report: ${report:0:200}"
  sed -n '1,3p' <<<"$report"
  curl -sS --fail-with-body "$base/api/jobs/$job_id/sim-data" -H "authorization: Bearer $token" | jq -r '.files | keys | join(", ")' |
    sed 's/^/artifacts: /'
  curl -sS --fail-with-body -o /dev/null -w 'market_curves.json through the gateway: HTTP %{http_code}, %{size_download} bytes\n' \
    "$base/api/jobs/$job_id/sim-data/market_curves.json" -H "authorization: Bearer $token"
}

case "${1:-}" in
  images) cmd_images ;;
  up) cmd_up ;;
  check) ensure_docker; write_env_file; check_stack ;;
  smoke) ensure_docker; write_env_file; cmd_smoke ;;
  down) cmd_down ;;
  compose) shift; ensure_docker; write_env_file; compose "$@" ;;
  stop-dockerd) stop_dockerd ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
