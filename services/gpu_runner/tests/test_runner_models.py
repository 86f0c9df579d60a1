"""Where the vllm backend finds weights: local folders or the pre-staged object-storage prefix (real S3).

Plus the vLLM backend itself on a GPU (marked `gpu`; skipped where vLLM or a staged model is missing).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from swarmcast.events.v1 import events_pb2

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.gpu_runner.model_store import HF_CACHE_PREFIX, ModelUnavailable, hub_dir_name, resolve_model
from services.gpu_runner.tests.conftest import RunnerFactory
from services.gpu_runner.tests.runner_helpers import EventRecorder, make_dispatch, publish_dispatch

pytestmark = pytest.mark.asyncio(loop_scope="session")

MODEL = "acme/tiny-chat"
REV = "0123abcd"


async def stage_hub_layout(store: ObjectStore, model_id: str = MODEL) -> dict[str, bytes]:
    """A Hugging Face hub-cache copy of a (toy) model under models/hf-cache/, as operators pre-stage it."""
    repo = f"{HF_CACHE_PREFIX}{hub_dir_name(model_id)}/"
    files = {
        f"{repo}refs/main": REV.encode(),
        f"{repo}snapshots/{REV}/config.json": b'{"model_type": "toy"}',
        f"{repo}snapshots/{REV}/tokenizer.json": b"{}",
        f"{repo}snapshots/{REV}/model.safetensors": os.urandom(256 * 1024),
    }
    for key, data in files.items():
        await store.put_bytes(key, data, "application/octet-stream")
    return files


async def test_prestaged_weights_are_synced_once_into_the_cache(
    object_store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    files = await stage_hub_layout(object_store)
    cache = tmp_path / "cache"
    path = await resolve_model(MODEL, model_dir=None, cache_dir=cache, store=object_store)
    assert path == cache / hub_dir_name(MODEL) / "snapshots" / REV
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # nothing may reach a hub at run time
    for key, data in files.items():
        assert (cache / key[len(HF_CACHE_PREFIX) :]).read_bytes() == data
    weights = path / "model.safetensors"
    first_mtime = weights.stat().st_mtime_ns
    await asyncio.sleep(0.05)
    assert await resolve_model(MODEL, model_dir=None, cache_dir=cache, store=object_store) == path
    assert weights.stat().st_mtime_ns == first_mtime  # already there: not fetched again


async def test_a_local_model_dir_wins_and_a_missing_model_is_reported(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    plain = tmp_path / "models" / MODEL
    plain.mkdir(parents=True)
    (plain / "config.json").write_text("{}")
    found = await resolve_model(
        MODEL, model_dir=tmp_path / "models", cache_dir=tmp_path / "c", store=object_store
    )
    assert found == plain
    with pytest.raises(ModelUnavailable, match="acme/absent"):
        await resolve_model(
            "acme/absent", model_dir=tmp_path / "models", cache_dir=tmp_path / "c", store=object_store
        )


def _vllm_ready() -> str | None:
    """Why the GPU test cannot run here, or None."""
    try:
        import torch  # vLLM's own dependency
        import vllm  # noqa: F401
    except ImportError:
        return "vLLM is not installed (it is the optional [gpu] extra)"
    if not torch.cuda.is_available():
        return "no CUDA GPU"
    if not os.environ.get("SWARMCAST_TEST_VLLM_MODEL_DIR"):
        return "SWARMCAST_TEST_VLLM_MODEL_DIR (a local hub cache holding a small chat model) is not set"
    return None


@pytest.mark.gpu
async def test_the_vllm_backend_runs_a_job_from_prestaged_weights(
    runner_factory: RunnerFactory,
    event_bus: EventBus,
    object_store: ObjectStore,
    recorder: EventRecorder,
) -> None:
    reason = _vllm_ready()
    if reason is not None:
        pytest.skip(reason)
    # Stage a real small model (e.g. Qwen/Qwen2.5-0.5B-Instruct from a local hub cache) into the bucket.
    source = Path(os.environ["SWARMCAST_TEST_VLLM_MODEL_DIR"])
    model_id = os.environ.get("SWARMCAST_TEST_VLLM_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")
    repo = source / hub_dir_name(model_id)
    for file in repo.rglob("*"):
        if file.is_file():
            key = f"{HF_CACHE_PREFIX}{file.relative_to(source).as_posix()}"
            await object_store.put_bytes(key, file.read_bytes(), "application/octet-stream")
    runner = await runner_factory("gpu", backend="vllm", llm_ready_timeout_seconds=600)
    dispatch = await make_dispatch(object_store, agents=8, rounds=3, model_id=model_id)
    dispatch.route.vllm_args = "--max-model-len 4096 --gpu-memory-utilization 0.5"
    await publish_dispatch(event_bus, dispatch)
    done = await recorder.outcome(dispatch.job_id, within=900)
    assert isinstance(done, events_pb2.RunnerCompleted), done
    assert done.backend == "vllm" and done.model_id == model_id
    assert done.provision_seconds > 0 and done.pipeline_seconds > 0
    assert runner.llm_ready
