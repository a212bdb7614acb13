"""``vllm:PATH``: a model (or LoRA adapter) folder served by ``vllm serve`` for the whole run.

``PATH`` is a model folder, or an adapter folder (``adapter_config.json``, as SFT/SRL runs with
``--lora`` save them) served as a LoRA module on top of its ``base_model_name_or_path``, with
``--max-lora-rank`` rounded up to a rank vLLM accepts. The run's policy source starts one server
(``swe_srl.serve``) and every episode sends its requests there, so vLLM's continuous batching
batches the episodes; nothing here imports vLLM (it runs in the server process).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from swe_srl.records import SweSrlError
from swe_srl.serve.commands import read_adapter


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
    if not Path(path).is_dir():
        raise SweSrlError(f"vllm:{path}: no such model or adapter directory")
    adapter = read_adapter(path)
    if adapter is None:
        return ModelLocation(base=str(path))
    return ModelLocation(base=adapter.base, adapter=adapter.path, adapter_rank=adapter.rank)


def require_vllm() -> None:
    """Raise a clear error unless vLLM is installed and a CUDA GPU is visible."""
    if importlib.util.find_spec("vllm") is None:
        raise VllmUnavailableError(
            "the vllm policy needs vLLM and a CUDA GPU: install the 'gpu' extra on a GPU machine, "
            "or use hf:PATH on CPU"
        )
    import torch

    if not torch.cuda.is_available():
        raise VllmUnavailableError("the vllm policy needs a CUDA GPU and none is visible; use hf:PATH on CPU")
