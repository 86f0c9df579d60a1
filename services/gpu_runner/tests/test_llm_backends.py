"""Backend selection and the vLLM backend (a fake ``vllm`` on the CPU; GPU tests skip without vLLM)."""

import argparse
import asyncio
import enum
import subprocess
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

import pytest

from services.gpu_runner.llm import BACKENDS, LLMBackend, LLMError, make_backend
from services.gpu_runner.llm.vllm_backend import parse_vllm_args


def test_factory_builds_each_backend_without_importing_vllm_or_llama_cpp():
    code = (
        "import sys\n"
        "from services.gpu_runner.llm import make_backend\n"
        "import services.gpu_runner.engine, services.gpu_runner.llm.vllm_backend\n"
        "b = make_backend('vllm', model_id='Qwen/Qwen3-14B', vllm_args='--max-model-len 16384')\n"
        "assert b.name == 'vllm' and b.model == 'Qwen/Qwen3-14B'\n"
        "assert 'vllm' not in sys.modules, 'vllm imported eagerly'\n"
        "import services.gpu_runner.server, services.gpu_runner.llm.llamacpp_backend\n"
        "b = make_backend('llamacpp', model_id='m', model_path='/nowhere.gguf')\n"
        "assert b.name == 'llamacpp' and b.capacity >= 1\n"
        "assert 'llama_cpp' not in sys.modules, 'llama_cpp imported before a model is loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=".")
    assert isinstance(make_backend("openai", base_url="http://x", model="m"), LLMBackend)
    assert BACKENDS == ("heuristic", "openai", "vllm", "llamacpp")
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

    backend = make_backend(
        "vllm", model_id="Qwen/Qwen2.5-0.5B-Instruct", vllm_args="--max-model-len 4096 --max-num-seqs 8"
    )
    chat = [
        {"role": "system", "content": "Answer with JSON."},
        {"role": "user", "content": "Post something."},
    ]
    try:
        result = await backend.complete_json(
            chat, action_schema(4, ["m1"]), schema_name="agent_turn", max_tokens=200, seed=7
        )
        assert backend.capacity == 8  # the engine's max_num_seqs
    finally:
        await backend.aclose()
    assert result.ok and result.prompt_tokens > 0 and result.completion_tokens > 0
    validate_turn(result.data, 4, ["m1"])


# --- VLLMBackend against a fake ``vllm`` -------------------------------------------------------
# vLLM needs a GPU, so these CPU tests put a minimal stand-in for the few vLLM names the backend
# uses into sys.modules (monkeypatch restores it). They check what the backend asks vLLM for.

BOS = 1
QWEN3_TEMPLATE = "{%- if enable_thinking is defined and enable_thinking is false %}<think></think>{% endif %}"


class FakeTokenizer:
    def __init__(self, chat_template: str | None = "{{ bos_token }}{% for m in messages %}{% endfor %}"):
        self.chat_template = chat_template
        self.calls: list[dict] = []

    def apply_chat_template(self, messages, *, tokenize, add_generation_prompt, **kwargs):
        self.calls.append({"messages": messages, "tokenize": tokenize, **kwargs})
        # Like a real template the rendering starts with BOS, text or ids alike.
        return [BOS, 10, 11, 12] if tokenize else "<s>rendered"


class FakeVLLM:
    """A stand-in for the vLLM API the backend uses; records what it is given."""

    def __init__(
        self, *, structured_outputs: bool = True, output_kind: bool = True, legacy_engine: bool = True
    ):
        self.structured_outputs, self.output_kind, self.legacy_engine = (
            structured_outputs,
            output_kind,
            legacy_engine,
        )
        self.tokenizer = FakeTokenizer()
        self.generated: list[tuple] = []
        self.loaded_on: list[str] = []
        self.engine_max_num_seqs: int | None = None  # what the fake engine's vllm_config reports
        self.default_max_num_seqs = 256  # what "create_engine_config" fills in when unset
        self.async_tokenizer = False
        self.reply = '{"ok": true}'
        self.fail: Exception | None = None
        self.load_gate: threading.Event | None = None
        self.load_started, self.closed = threading.Event(), threading.Event()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        fake = self

        def module(name: str, **attrs) -> types.ModuleType:
            mod = types.ModuleType(name)
            mod.__dict__.update(attrs)
            monkeypatch.setitem(sys.modules, name, mod)
            return mod

        class SamplingParams:
            def __init__(self, **kwargs):
                self.kwargs = kwargs

        class StructuredOutputsParams:
            def __init__(self, json=None):
                self.json = json

        class GuidedDecodingParams(StructuredOutputsParams):
            """The pre-0.11 name of the same parameters."""

        class RequestOutputKind(enum.Enum):
            CUMULATIVE = 0
            DELTA = 1
            FINAL_ONLY = 2

        class AsyncEngineArgs:
            max_num_seqs: int | None

            @staticmethod
            def add_cli_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
                parser.add_argument("--model")
                parser.add_argument("--served-model-name")
                parser.add_argument("--max-model-len", type=int)
                parser.add_argument("--max-num-seqs", type=int, default=None)
                parser.add_argument("--enable-prefix-caching", action="store_true")
                return parser

            @classmethod
            def from_cli_args(cls, ns: argparse.Namespace) -> "AsyncEngineArgs":
                args = cls()
                args.__dict__.update(vars(ns))
                return args

        class Engine:
            vllm_config: Any = None  # absent in older vLLM: the backend reads it with getattr

            @classmethod
            def from_engine_args(cls, args: AsyncEngineArgs) -> "Engine":
                fake.loaded_on.append(threading.current_thread().name)
                fake.load_started.set()
                if fake.load_gate is not None:  # blocks like loading weights does
                    assert fake.load_gate.wait(timeout=5), "the event loop was blocked while loading"
                if args.max_num_seqs is None:  # vLLM fills its default in while building the config
                    args.max_num_seqs = fake.default_max_num_seqs
                engine = cls()
                if fake.engine_max_num_seqs is not None:
                    engine.vllm_config = types.SimpleNamespace(
                        scheduler_config=types.SimpleNamespace(max_num_seqs=fake.engine_max_num_seqs)
                    )
                return engine

            def get_tokenizer(self):
                if fake.async_tokenizer:

                    async def tokenizer():
                        return fake.tokenizer

                    return tokenizer()
                return fake.tokenizer

            async def generate(self, prompt, sampling_params, request_id):
                fake.generated.append((prompt, sampling_params, request_id))
                if fake.fail is not None:
                    raise fake.fail
                ids = prompt["prompt_token_ids"]
                completion = types.SimpleNamespace(text=fake.reply, token_ids=[7, 8, 9])
                yield types.SimpleNamespace(prompt_token_ids=ids, outputs=[completion], finished=True)

            def shutdown(self):
                fake.closed.set()

        sampling: dict[str, Any] = {
            "SamplingParams": SamplingParams,
            "GuidedDecodingParams": GuidedDecodingParams,
        }
        if self.structured_outputs:
            sampling["StructuredOutputsParams"] = StructuredOutputsParams
        if self.output_kind:
            sampling["RequestOutputKind"] = RequestOutputKind
        self.RequestOutputKind = RequestOutputKind
        self.StructuredOutputsParams, self.GuidedDecodingParams = (
            StructuredOutputsParams,
            GuidedDecodingParams,
        )
        module("vllm", SamplingParams=SamplingParams)
        module("vllm.sampling_params", **sampling)
        module("vllm.utils", FlexibleArgumentParser=argparse.ArgumentParser)
        module("vllm.engine")
        module("vllm.engine.arg_utils", AsyncEngineArgs=AsyncEngineArgs)
        if self.legacy_engine:
            module("vllm.engine.async_llm_engine", AsyncLLMEngine=Engine)
        else:  # releases without the AsyncLLMEngine alias
            monkeypatch.delitem(sys.modules, "vllm.engine.async_llm_engine", raising=False)
            module("vllm.v1")
            module("vllm.v1.engine")
            module("vllm.v1.engine.async_llm", AsyncLLM=Engine)


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeVLLM]:
    def install(**options) -> FakeVLLM:
        fake = FakeVLLM(**options)
        fake.install(monkeypatch)
        return fake

    return install


SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
CHAT = [{"role": "system", "content": "Answer with JSON."}, {"role": "user", "content": "Go."}]


async def test_vllm_prefers_structured_outputs_and_asks_for_the_final_output_only(fake_vllm):
    fake = fake_vllm()
    backend = make_backend("vllm", model_id="m", vllm_args="--max-model-len 4096")
    result = await backend.complete_json(CHAT, SCHEMA, schema_name="turn", max_tokens=64, temperature=0.2)

    assert result.ok and result.data == {"ok": True}
    assert (result.prompt_tokens, result.completion_tokens) == (4, 3)
    _, sampling, request_id = fake.generated[0]
    kwargs = sampling.kwargs
    assert isinstance(kwargs["structured_outputs"], fake.StructuredOutputsParams)
    assert not isinstance(kwargs["structured_outputs"], fake.GuidedDecodingParams)
    assert kwargs["structured_outputs"].json == SCHEMA and "guided_decoding" not in kwargs
    assert kwargs["output_kind"] is fake.RequestOutputKind.FINAL_ONLY
    assert (kwargs["max_tokens"], kwargs["temperature"], kwargs["seed"]) == (64, 0.2, None)
    assert request_id.startswith("turn-")
    # The same schema and settings reuse one SamplingParams (vLLM clones it per request).
    await backend.complete_json(CHAT, dict(SCHEMA), schema_name="turn", max_tokens=64, temperature=0.2)
    assert fake.generated[1][1] is sampling
    await backend.aclose()
    assert fake.closed.is_set()


async def test_vllm_falls_back_to_guided_decoding_on_old_releases(fake_vllm):
    fake = fake_vllm(structured_outputs=False, output_kind=False)
    backend = make_backend("vllm", model_id="m")
    assert (await backend.complete_json(CHAT, SCHEMA)).ok
    kwargs = fake.generated[0][1].kwargs
    assert isinstance(kwargs["guided_decoding"], fake.GuidedDecodingParams)
    assert kwargs["guided_decoding"].json == SCHEMA
    assert "structured_outputs" not in kwargs and "output_kind" not in kwargs


async def test_vllm_sends_the_chat_template_as_token_ids_so_bos_is_not_doubled(fake_vllm):
    fake = fake_vllm()
    fake.async_tokenizer = True  # get_tokenizer() is a coroutine in older vLLM releases
    backend = make_backend("vllm", model_id="m")
    await backend.complete_json(CHAT, SCHEMA)
    prompt = fake.generated[0][0]
    # Ids as rendered, BOS once: vLLM adds no special tokens to a TokensPrompt.
    assert prompt == {"prompt_token_ids": [BOS, 10, 11, 12]}
    call = fake.tokenizer.calls[0]
    assert call["tokenize"] is True and call["messages"] == CHAT


async def test_vllm_accepts_a_batch_encoding_from_the_chat_template(fake_vllm):
    fake = fake_vllm()
    fake.tokenizer.apply_chat_template = lambda messages, **kw: {
        "input_ids": [BOS, 5],
        "attention_mask": [1, 1],
    }
    backend = make_backend("vllm", model_id="m")
    result = await backend.complete_json(CHAT, SCHEMA)  # transformers 5 returns a BatchEncoding
    assert fake.generated[0][0] == {"prompt_token_ids": [BOS, 5]} and result.prompt_tokens == 2


@pytest.mark.parametrize(
    ("template", "passed"),
    [(QWEN3_TEMPLATE, {"enable_thinking": False}), ("{{ messages }}", {}), (None, {})],
)
async def test_vllm_passes_enable_thinking_only_to_templates_that_read_it(fake_vllm, template, passed):
    fake = fake_vllm()
    fake.tokenizer.chat_template = template
    backend = make_backend("vllm", model_id="m")
    await backend.complete_json(CHAT, SCHEMA)
    call = fake.tokenizer.calls[0]
    assert {k: v for k, v in call.items() if k not in ("messages", "tokenize")} == passed


async def test_vllm_passes_the_per_request_seed(fake_vllm):
    fake = fake_vllm()
    backend = make_backend("vllm", model_id="m")
    await backend.complete_json(CHAT, SCHEMA, seed=1234)
    await backend.complete_json(CHAT, SCHEMA, seed=99)
    assert [g[1].kwargs["seed"] for g in fake.generated] == [1234, 99]


@pytest.mark.parametrize(
    ("vllm_args", "engine_value", "expected"),
    [
        ("--max-num-seqs 32", None, 32),  # the engine args' value
        ("", None, 256),  # vLLM's default, filled in while the engine is built
        ("", 96, 96),  # the engine's own config wins
    ],
)
async def test_vllm_capacity_is_the_engines_max_num_seqs(fake_vllm, vllm_args, engine_value, expected):
    fake = fake_vllm()
    fake.engine_max_num_seqs = engine_value
    backend = make_backend("vllm", model_id="m", vllm_args=vllm_args, capacity=64)
    assert backend.capacity == 64  # a placeholder until the engine is loaded
    await backend.start()
    assert backend.capacity == expected


async def test_vllm_capacity_falls_back_to_vllm_args_then_the_given_capacity(fake_vllm):
    fake = fake_vllm()
    fake.default_max_num_seqs = None  # engine args that never get a value
    backend = make_backend("vllm", model_id="m", vllm_args="--max-num-seqs=48", capacity=8)
    backend.engine_args = lambda: types.SimpleNamespace(max_num_seqs=None)
    await backend.start()
    assert backend.capacity == 48
    other = make_backend("vllm", model_id="m", capacity=8)
    other.engine_args = lambda: types.SimpleNamespace(max_num_seqs=None)
    await other.start()
    assert other.capacity == 8


async def test_vllm_loads_the_model_off_the_event_loop(fake_vllm):
    fake = fake_vllm(legacy_engine=False)  # and finds vllm.v1's AsyncLLM without the alias
    fake.load_gate = threading.Event()

    async def release_load() -> None:
        await asyncio.sleep(0.01)  # runs only while the loop is free during loading
        fake.load_gate.set()

    backend = make_backend("vllm", model_id="m")
    await asyncio.gather(backend.start(), release_load())
    assert fake.loaded_on and fake.loaded_on[0] != threading.current_thread().name
    await backend.start()  # idempotent
    assert len(fake.loaded_on) == 1


async def test_vllm_shuts_down_an_engine_whose_start_was_cancelled(fake_vllm):
    fake = fake_vllm()
    fake.load_gate = threading.Event()
    backend = make_backend("vllm", model_id="m")
    start = asyncio.ensure_future(backend.start())
    assert await asyncio.to_thread(fake.load_started.wait, 5)  # loading has begun in its thread
    start.cancel()
    with pytest.raises(asyncio.CancelledError):
        await start
    assert not fake.closed.is_set()
    fake.load_gate.set()  # the load finishes after all; nobody owns that engine
    assert await asyncio.to_thread(fake.closed.wait, 5)
    assert backend._engine is None


async def test_vllm_engine_args_take_vllm_args_and_prefix_caching(fake_vllm):
    fake_vllm()
    backend = make_backend("vllm", model_id="Org/M", vllm_args="--max-model-len 16384", model_path="/w/m")
    args = backend.engine_args()
    assert args.enable_prefix_caching is True and args.max_model_len == 16384
    assert (args.model, args.served_model_name, args.max_num_seqs) == ("/w/m", "Org/M", None)


async def test_vllm_generation_failure_is_an_llm_error(fake_vllm):
    fake = fake_vllm()
    fake.fail = RuntimeError("engine dead")
    backend = make_backend("vllm", model_id="m")
    with pytest.raises(LLMError, match="engine dead"):
        await backend.complete_json(CHAT, SCHEMA)
