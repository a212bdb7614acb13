"""Fold a LoRA adapter into its base model, for engines that serve plain weights (transformers serve).

vLLM serves an adapter on top of its base (``--lora-modules``); ``transformers serve`` loads a model
folder only, so an adapter is merged once into a folder beside the server's log, keyed by the
adapter's path and modification time so a rerun reuses it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from swe_srl.serve.commands import Adapter


def merged_folder(adapter: Adapter, root: Path) -> Path:
    """Where ``adapter`` merged onto its base is kept under ``root``."""
    weights = Path(adapter.path)
    stamp = max((p.stat().st_mtime_ns for p in weights.iterdir() if p.is_file()), default=0)
    key = hashlib.sha256(f"{weights.resolve()}:{stamp}".encode()).hexdigest()[:16]
    return root / f"merged-{weights.name}-{key}"


def merge_adapter(adapter: Adapter, root: Path) -> Path:
    """The folder holding ``adapter`` merged onto its base (written once, reused afterwards)."""
    out = merged_folder(adapter, root)
    if (out / "config.json").is_file():
        return out
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    model = AutoPeftModelForCausalLM.from_pretrained(adapter.path).merge_and_unload()
    names = ("tokenizer.json", "tokenizer_config.json")
    has_tokenizer = any((Path(adapter.path) / name).is_file() for name in names)
    tokenizer = AutoTokenizer.from_pretrained(adapter.path if has_tokenizer else adapter.base)
    partial = out.with_name(out.name + ".partial")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    partial.rename(out)  # a merge cut short never passes for a finished one
    return out
