"""Backend selection and the vLLM backend (GPU tests skip without vLLM)."""

import subprocess
import sys

import pytest

from services.gpu_runner.llm import BACKENDS, LLMBackend, LLMError, make_backend
from services.gpu_runner.llm.vllm_backend import parse_vllm_args


def test_factory_builds_each_backend_without_importing_vllm():
    code = (
        "import sys\n"
        "from services.gpu_runner.llm import make_backend\n"
        "import services.gpu_runner.engine, services.gpu_runner.llm.vllm_backend\n"
        "b = make_backend('vllm', model_id='Qwen/Qwen3-14B', vllm_args='--max-model-len 16384')\n"
        "assert b.name == 'vllm' and b.model == 'Qwen/Qwen3-14B'\n"
        "assert 'vllm' not in sys.modules, 'vllm imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=".")
    assert isinstance(make_backend("openai", base_url="http://x", model="m"), LLMBackend)
    assert BACKENDS == ("heuristic", "openai", "vllm")
    with pytest.raises(ValueError, match="unknown LLM backend"):
        make_backend("gpt")


async def test_heuristic_backend_is_labelled_and_answers_no_text():
    backend = make_backend("heuristic")
    assert backend.heuristic is True and backend.name == "heuristic"
    with pytest.raises(LLMError):
        await backend.complete_json([{"role": "user", "content": "x"}], {})


def test_vllm_args_string_is_parsed():
    assert parse_vllm_args(
        "--max-model-len 16384 --enforce-eager --gpu-memory-utilization=0.85 --dtype bfloat16"
    ) == {"max_model_len": 16384, "enforce_eager": True, "gpu_memory_utilization": 0.85, "dtype": "bfloat16"}
    assert parse_vllm_args("") == {}
    with pytest.raises(ValueError):
        parse_vllm_args("max-model-len 5")


@pytest.mark.gpu
def test_vllm_engine_args_enable_prefix_caching_and_take_vllm_args():
    pytest.importorskip("vllm", reason="vLLM is not installed (it is the optional [gpu] extra)")
    backend = make_backend("vllm", model_id="Qwen/Qwen3-14B", vllm_args="--max-model-len 16384")
    args = backend.engine_args()
    assert args.enable_prefix_caching is True
    assert args.max_model_len == 16384 and args.model == "Qwen/Qwen3-14B"


@pytest.mark.gpu
async def test_vllm_generates_schema_valid_json_on_the_gpu():
    pytest.importorskip("vllm", reason="vLLM is not installed (it is the optional [gpu] extra)")
    torch = pytest.importorskip("torch", reason="torch is not installed")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU available")
    from services.gpu_runner.engine.actions import action_schema, validate_turn

    backend = make_backend("vllm", model_id="Qwen/Qwen2.5-0.5B-Instruct", vllm_args="--max-model-len 4096")
    result = await backend.complete_json(
        [{"role": "system", "content": "Answer with JSON."}, {"role": "user", "content": "Post something."}],
        action_schema(4, ["m1"]),
        schema_name="agent_turn",
        max_tokens=200,
    )
    await backend.aclose()
    assert result.ok and result.prompt_tokens > 0 and result.completion_tokens > 0
    validate_turn(result.data, 4, ["m1"])
