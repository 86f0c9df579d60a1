# syntax=docker/dockerfile:1
# The GPU runner: services.gpu_runner with vLLM in-process (SWARMCAST_LLM_BACKEND=vllm).
# Build context: the repo root.
#
#   docker build -f deploy/docker/gpu-runner.Dockerfile -t swarmcast/gpu-runner:dev .
#
# CUDA comes from the base image (runtime libraries) and from the torch/vLLM wheels, pinned in
# requirements-gpu.lock (vLLM 0.11.0 -> torch 2.8.0, CUDA 12.8). The host needs an NVIDIA driver
# for CUDA 12.8 (>= 570) and the NVIDIA container toolkit / Kubernetes device plugin.
# Ubuntu 24.04's Python is 3.12 (the project supports >= 3.11).
#
# Base image pinned to an exact tag; the digest could not be resolved where this was written.
# Production builds: --build-arg CUDA_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04@sha256:<digest>
#
# Built only where the CUDA base image and the CUDA wheels (torch, vLLM, nvidia-*: several GiB)
# can be fetched: `make images` (deploy/README.md) does not build it. The image's apt-get steps
# need the distribution's mirror. With the GPU lock's wheels built on the host into
# deploy/docker/wheels/, --build-arg PIP_INSTALL_OPTIONS="--no-index --find-links /tmp/wheels"
# installs them without an index, as the service images do.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04

FROM ${CUDA_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
# Extra pip options; empty: the package index (see above for host-built wheels).
ARG PIP_INSTALL_OPTIONS=""
COPY deploy/docker/requirements-gpu.lock /tmp/requirements.lock
COPY deploy/docker/wheels/ /tmp/wheels/
# vLLM, torch and the CUDA wheels: several GiB, in their own layer. The options split into words.
RUN /opt/venv/bin/pip install --no-compile ${PIP_INSTALL_OPTIONS} -r /tmp/requirements.lock

FROM ${CUDA_IMAGE} AS gpu-runner
ENV DEBIAN_FRONTEND=noninteractive
# python3-dev and gcc: Triton (under vLLM) compiles small launcher stubs at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-dev gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
ARG APP_UID=10001
RUN groupadd --system --gid "${APP_UID}" swarmcast \
 && useradd --system --uid "${APP_UID}" --gid swarmcast --home-dir /var/lib/swarmcast \
      --no-create-home --shell /usr/sbin/nologin swarmcast \
 && install -d -o swarmcast -g swarmcast -m 0750 \
      /var/lib/swarmcast /var/lib/swarmcast/run /var/lib/swarmcast/cache /models
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY gen ./gen
COPY services ./services
# Hugging Face / vLLM / Triton caches live on the writable volume, not in the image.
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONPATH=/app:/app/gen \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/swarmcast \
    HF_HOME=/var/lib/swarmcast/cache/huggingface \
    VLLM_CACHE_ROOT=/var/lib/swarmcast/cache/vllm \
    TRITON_CACHE_DIR=/var/lib/swarmcast/cache/triton \
    SWARMCAST_BIND_HOST=0.0.0.0 \
    SWARMCAST_RUN_DIR=/var/lib/swarmcast/run \
    SWARMCAST_LLM_BACKEND=vllm \
    SWARMCAST_MODEL_DIR=/models
USER ${APP_UID}:${APP_UID}
EXPOSE 50053
STOPSIGNAL SIGTERM
CMD ["python", "-m", "services.gpu_runner"]
