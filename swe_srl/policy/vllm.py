"""``vllm:PATH``: batched generation with vLLM on a GPU, optionally through a LoRA adapter.

``PATH`` is a local model folder, or a LoRA adapter folder (``adapter_config.json``; the base model
is read from its ``base_model_name_or_path``), as SFT/SRL runs with ``--lora`` save them. vLLM is
imported only when the policy is built; on a machine without vLLM or without a CUDA GPU the error
says so instead of failing deep inside an import.

``act`` answers one agent turn; ``act_batch`` answers many at once (one ``LLM.chat`` call), which is
how evaluation over many tasks should drive it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.context import ContextConfig, build_messages
from swe_srl.records import Step, SweSrlError


class VllmUnavailableError(SweSrlError, RuntimeError):
    """vLLM cannot run here (not installed, or no CUDA GPU)."""


@dataclass(frozen=True)
class ModelLocation:
    """Where the weights are: a base model, and optionally a LoRA adapter on top of it."""

    base: str
    adapter: str | None = None
    adapter_rank: int = 16


def resolve_path(path: str) -> ModelLocation:
    """A model folder, or an adapter folder whose config names its base model."""
    folder = Path(path)
    if not folder.is_dir():
        raise SweSrlError(f"vllm:{path}: no such model or adapter directory")
    adapter_config = folder / "adapter_config.json"
    if not adapter_config.is_file():
        return ModelLocation(base=str(folder))
    config = json.loads(adapter_config.read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path") or ""
    if not base:
        raise SweSrlError(
            f"{adapter_config}: field 'base_model_name_or_path' is empty; cannot find the base model"
        )
    return ModelLocation(base=base, adapter=str(folder), adapter_rank=int(config.get("r", 16)))


def require_vllm():
    """Import vLLM or raise a clear error naming what is missing."""
    try:
        import vllm
    except ImportError as exc:
        raise VllmUnavailableError(
            "the vllm policy needs vLLM and a CUDA GPU: install the 'gpu' extra (vllm<=0.31) "
            "on a GPU machine, "
            "or use hf:PATH on CPU"
        ) from exc
    import torch

    if not torch.cuda.is_available():
        raise VllmUnavailableError("the vllm policy needs a CUDA GPU and none is visible; use hf:PATH on CPU")
    return vllm


@dataclass
class VllmPolicy:
    """A policy backed by ``vllm.LLM``; the engine is built on first use and reused."""

    path: str
    max_tokens: int = 2048
    temperature: float = 0.0
    window: int | None = 2
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    name: str = ""
    _engine: Any = field(default=None, init=False, repr=False)
    _lora: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.location = resolve_path(self.path)
        self.name = self.name or f"vllm:{self.path}"

    def _ensure_engine(self):
        if self._engine is not None:
            return self._engine
        vllm = require_vllm()
        from vllm.lora.request import LoRARequest

        location = self.location
        kwargs: dict[str, Any] = dict(
            model=location.base,
            tensor_parallel_size=self.tensor_parallel_size,
            gpu_memory_utilization=self.gpu_memory_utilization,
            enable_lora=location.adapter is not None,
        )
        if self.max_model_len:
            kwargs["max_model_len"] = self.max_model_len
        if location.adapter is not None:
            kwargs["max_lora_rank"] = location.adapter_rank
            self._lora = LoRARequest("swe-srl-adapter", 1, location.adapter)
        self._engine = vllm.LLM(**kwargs)
        return self._engine

    def complete_batch(self, conversations: list[list[dict[str, str]]]) -> list[str]:
        """One reply per conversation, generated in a single batched call."""
        engine = self._ensure_engine()
        from vllm import SamplingParams

        params = SamplingParams(temperature=self.temperature, max_tokens=self.max_tokens)
        outputs = engine.chat(conversations, params, use_tqdm=False, lora_request=self._lora)
        return [output.outputs[0].text for output in outputs]

    def act_batch(self, requests: list[tuple[str, list[Step]]]) -> list[str]:
        """Replies for many (problem statement, history) pairs at once."""
        context = ContextConfig(window=self.window)
        conversations = [build_messages(problem, history, context) for problem, history in requests]
        return self.complete_batch(conversations)

    def act(self, problem_statement: str, history: list[Step]) -> str:
        return self.act_batch([(problem_statement, history)])[0]


def make_vllm_policy(path: str, options: Any = None) -> VllmPolicy:
    """The policy for ``vllm:PATH`` (``options``: the registry's PolicyOptions); checks vLLM is usable."""
    require_vllm()
    if options is None:
        return VllmPolicy(path)
    return VllmPolicy(path, max_tokens=options.max_tokens, temperature=options.temperature)
