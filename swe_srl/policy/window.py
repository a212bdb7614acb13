"""What a run needs to know about its model besides the server: context window, token counting, EOS.

The context window comes, in order, from the run's options, the server (vLLM lists
``max_model_len``), the managed server's ``--max-model-len``, or the model folder's
``config.json`` (``max_position_embeddings``). Prompts are counted with the model's own tokenizer
(``swe_srl.context.TokenCounter``, read offline from the tokenizer or model folder); a vLLM server
without a local tokenizer counts through its ``/tokenize`` endpoint. With neither, prompts go
uncounted and the server's own limit applies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swe_srl.context import TokenCounter
from swe_srl.policy.chat import ContextWindow, LockedCounter
from swe_srl.policy.client import ChatClient


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def context_length(model_dir: str | Path) -> int | None:
    """``max_position_embeddings`` of a local model folder's config (its text model's, if nested)."""
    config = _read_json(Path(model_dir) / "config.json")
    for part in (config, config.get("text_config") or {}):
        value = part.get("max_position_embeddings") if isinstance(part, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    return None


def special_token_ids(model_dir: str | Path) -> dict[str, Any]:
    """The EOS/BOS/PAD ids of a local model folder (generation config first, then config)."""
    folder = Path(model_dir)
    found: dict[str, Any] = {}
    for name in ("config.json", "generation_config.json"):  # the later file wins
        data = _read_json(folder / name)
        found.update({k: data[k] for k in ("eos_token_id", "bos_token_id", "pad_token_id") if k in data})
    return found if found.get("eos_token_id") is not None else {}


def has_tokenizer(folder: str | Path) -> bool:
    return any((Path(folder) / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))


class ServerCounter:
    """Counts a prompt's tokens through vLLM's ``/tokenize`` (chat template applied by the server)."""

    def __init__(self, client: ChatClient):
        self.client = client

    def __call__(self, messages) -> int:
        body = {"model": self.client.model, "messages": list(messages), "add_generation_prompt": True}
        return int(self.client.post("/tokenize", body)["count"])


def context_window(
    *,
    limit: int | None,
    tokenizer_dir: str = "",
    client: ChatClient | None = None,
) -> ContextWindow | None:
    """The window prompts are fitted into, or None when the limit or a counter is unknown."""
    if not limit:
        return None
    if tokenizer_dir and has_tokenizer(tokenizer_dir):
        return ContextWindow(limit, LockedCounter(TokenCounter.from_path(tokenizer_dir)))
    if client is not None and client.dialect == "vllm":
        return ContextWindow(limit, ServerCounter(client))
    return None
