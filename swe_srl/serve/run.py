"""From what a user names (a model or adapter folder, an engine) to a running server.

:func:`server_spec` turns ``MODEL [--lora ADAPTER]`` into a :class:`ServerSpec`: an adapter folder
given as the model serves on top of its base; under vLLM the adapter is served as a LoRA module
(rank rounded up to one vLLM accepts), under transformers it is merged into its base first
(``merge.py``). :func:`serve_until_stopped` is ``swe-srl serve``: start, report the endpoint, wait
for SIGINT/SIGTERM (or a server that cannot be brought back), stop.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swe_srl.policy.errors import ModelServerError
from swe_srl.serve.commands import ServeError, ServerSpec, read_adapter, resolve_engine
from swe_srl.serve.process import ManagedServer


def _local(path: str) -> str:
    """A local folder as an absolute path (the server may resolve names differently); a hub name as is."""
    folder = Path(path).expanduser()
    return str(folder.resolve()) if folder.exists() else path


def _check_model(name: str) -> None:
    """A name that is no folder here is a hub name; offline, only one already in the hub cache serves."""
    if Path(name).expanduser().exists():
        return
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        cached = isinstance(try_to_load_from_cache(name, "config.json"), str)
    except HFValidationError as err:
        raise ServeError(f"{name}: no such model folder, nor a hub name ({err})") from err
    if not cached and os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE"):
        raise ServeError(f"{name}: no such model folder (HF_HUB_OFFLINE is set: no hub download)")


def server_spec(
    model: str,
    *,
    engine: str = "auto",
    lora: str | None = None,
    work_dir: Path | None = None,
    **fields: Any,
) -> ServerSpec:
    """The server for ``model`` (a model or adapter folder, or a hub name) and ``lora`` (an adapter).

    ``fields`` are :class:`ServerSpec`'s other fields (host, port, max_model_len, ...); a merged
    adapter (transformers engine) is written under ``work_dir`` (default: beside the model).
    """
    engine = resolve_engine(engine)
    if fields.get("served_name") and engine == "transformers":
        raise ServeError("transformers serve answers under the model's path; --served-model-name needs vllm")
    _check_model(model)
    model = _local(model)
    adapter = read_adapter(lora) if lora else read_adapter(model) if Path(model).is_dir() else None
    if lora and adapter is None:
        raise ServeError(f"--lora {lora}: no adapter_config.json in that folder")
    base = model if lora else (adapter.base if adapter else model)
    if adapter is not None and engine == "transformers":
        from swe_srl.serve.merge import merge_adapter

        base, adapter = str(merge_adapter(adapter, work_dir or Path(model).parent)), None
    if adapter is not None:
        fields.update(lora=_local(adapter.path), lora_rank=adapter.rank)
    return ServerSpec(model=_local(base), engine=engine, **fields)


def serve_until_stopped(server: ManagedServer, on_ready: Callable[[ManagedServer], None]) -> None:
    """Start ``server``, call ``on_ready``, and keep it up until SIGINT/SIGTERM; always stop it."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        on_ready(server)
        while not stop.wait(0.5):
            if server.gave_up:
                raise ModelServerError(server.gave_up)
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
