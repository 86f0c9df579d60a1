#!/usr/bin/env bash
# Builds the local Debian bookworm base images with debootstrap + `docker import`, for hosts that
# cannot pull from a registry (deploy/README.md, "Local images"). Production builds keep their
# pinned upstream bases (deploy/docker/Dockerfile's PYTHON_IMAGE); nothing here is used there.
#
#   deploy/docker/base-image.sh [--force] [python|infra|all]     (default: all)
#
#   python  swarmcast/debian-python:bookworm  Debian's Python 3.11 + venv: the service images' base
#                                             and the local S3 server's (moto)
#   infra   swarmcast/debian-infra:bookworm   Debian's PostgreSQL 15 and nats-server: the local
#                                             postgres and nats images (deploy/docker/local/)
#
# Idempotent: an image that exists is kept unless --force. Needs root (debootstrap), Docker and
# debootstrap. The Debian mirror is the one apt uses on this host (/etc/apt/sources.list*), or
# DEBIAN_MIRROR. Downloaded packages are kept in .run/debootstrap-cache/ for the next build.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SUITE=bookworm
PYTHON_BASE_IMAGE=${SWARMCAST_PYTHON_BASE_IMAGE:-swarmcast/debian-python:bookworm}
INFRA_BASE_IMAGE=${SWARMCAST_INFRA_BASE_IMAGE:-swarmcast/debian-infra:bookworm}
CACHE_DIR=${DEBOOTSTRAP_CACHE_DIR:-$REPO_ROOT/.run/debootstrap-cache}
# On the bases and so on every image built from them: `local-stack.sh images` prunes only the
# dangling images that carry it.
LOCAL_LABEL=io.swarmcast.local-image=true
# ca-certificates: TLS to an external S3, SMTP or LLM endpoint from the images works as upstream.
PYTHON_PACKAGES=python3,python3-venv,ca-certificates
# wget: nats's health check in deploy/compose.yaml fetches /healthz with it.
INFRA_PACKAGES=postgresql-15,nats-server,wget,ca-certificates

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

force=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    python | infra) targets+=("$arg") ;;
    all) targets+=(python infra) ;;
    -h | --help) usage ;;
    *) echo "base-image.sh: unknown argument: $arg" >&2; usage ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=(python infra)

# The Debian (not security) mirror apt uses here: deb822 .sources files first, then one-line lists.
debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local file uri
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    # A stanza's URIs line whose Suites line names bookworm (the security archive says
    # bookworm-security only).
    uri=$(awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (u != "" && s) { print u; exit } u = ""; s = 0; next }
      /^URIs:/ { u = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
      END { if (u != "" && s) print u }
    ' "$file" | head -n1)
    if [[ -n $uri ]]; then
      echo "$uri"
      return
    fi
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    uri=$(awk -v suite="$SUITE" '$1 == "deb" && $0 !~ /\[/ && $3 == suite { print $2; exit }' "$file")
    if [[ -n $uri ]]; then
      echo "$uri"
      return
    fi
  done
  echo "http://deb.debian.org/debian"
}

rootfs=""
# debootstrap mounts /proc and /sys inside the tree: unmount whatever is left before removing it.
cleanup() {
  if [[ -n $rootfs && -d $rootfs ]]; then
    umount -R "$rootfs/proc" "$rootfs/sys" 2>/dev/null || true
    rm -rf "$rootfs" "$rootfs.log"
  fi
  rootfs=""
}
trap cleanup EXIT

image_exists() {
  docker image inspect "$1" >/dev/null 2>&1
}

build() {
  local tag=$1 packages=$2 description=$3
  if ((force == 0)) && image_exists "$tag"; then
    echo "base-image: $tag exists (--force rebuilds it)"
    return
  fi
  local mirror started
  mirror=$(debian_mirror)
  started=$SECONDS
  mkdir -p "$CACHE_DIR"
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/swarmcast-rootfs.XXXXXX")
  echo "base-image: debootstrap $SUITE ($packages) from $mirror"
  debootstrap --variant=minbase --include="$packages" --cache-dir="$CACHE_DIR" \
    "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -n 30 "$rootfs.log" >&2
    return 1
  }
  # Nothing in an image installs packages at run time: drop the indexes and the package cache.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/*.log "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  echo "base-image: docker import $tag"
  tar --numeric-owner --xattrs -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --change "LABEL org.opencontainers.image.description=\"$description\"" \
    --change "LABEL org.opencontainers.image.source=\"debootstrap --variant=minbase $SUITE $mirror\"" \
    --change "LABEL $LOCAL_LABEL" \
    - "$tag" >/dev/null
  cleanup
  echo "base-image: $tag built in $((SECONDS - started)) s"
}

for target in "${targets[@]}"; do
  case "$target" in
    python) build "$PYTHON_BASE_IMAGE" "$PYTHON_PACKAGES" "Debian $SUITE minbase with Python 3.11 (swarmcast local base)" ;;
    infra) build "$INFRA_BASE_IMAGE" "$INFRA_PACKAGES" "Debian $SUITE minbase with PostgreSQL 15 and nats-server (swarmcast local infra)" ;;
  esac
done
