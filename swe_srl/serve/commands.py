"""What a model server is and the command line that starts it (pure: nothing is started here).

Two engines, one client: ``vllm serve`` on GPU nodes and ``transformers serve --continuous-batching``
on CPU both speak the OpenAI chat API, answer ``GET /health`` with 200 once ready, and list their model
at ``GET /v1/models``. ``swe_srl.serve.process`` starts and supervises the command built here.

vLLM 0.31 flags used (``vllm/engine/arg_utils.py``, ``vllm/entrypoints/launchers/cli_args.py``):
``--served-model-name``, ``--generation-config vllm`` (the model's ``generation_config.json`` must not
change sampling behind the client's back: the client sends every parameter itself),
``--max-model-len``, ``--tensor-parallel-size``, ``--data-parallel-size``, ``--seed``, and for an
adapter ``--enable-lora --max-lora-rank R --lora-modules NAME=PATH``; vLLM accepts only the ranks in
:data:`VLLM_LORA_RANKS` as ``--max-lora-rank``.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from swe_srl.records import SweSrlError

ENGINES = ("vllm", "transformers")
# transformers' continuous batching sizes its paged KV cache at 60% of the device's memory unless
# told otherwise; on a CPU that is 60% of the machine's RAM, allocated at the first request. Size it
# from what the run needs instead: pages of PAGE_TOKENS tokens for KV_SEQUENCES full-length sequences.
PAGE_TOKENS = 256
KV_SEQUENCES = 16
MAX_BATCH_TOKENS = 2048  # tokens per forward pass (longer prefills are split); larger only costs memory
# vLLM's ``MaxLoRARanks`` (vllm/config/lora.py): the only values ``--max-lora-rank`` accepts.
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


class ServeError(SweSrlError):
    """A model server cannot be configured or started as asked."""


def vllm_lora_rank(rank: int) -> int:
    """The smallest ``--max-lora-rank`` vLLM accepts that holds an adapter of rank ``rank``."""
    if rank < 1:
        raise ServeError(f"LoRA rank must be at least 1, got {rank}")
    for accepted in VLLM_LORA_RANKS:
        if accepted >= rank:
            return accepted
    raise ServeError(f"LoRA rank {rank} is above vLLM's largest --max-lora-rank ({VLLM_LORA_RANKS[-1]})")


@dataclass(frozen=True)
class Adapter:
    """A LoRA adapter folder (``adapter_config.json``): its base model and rank."""

    path: str
    base: str
    rank: int


def read_adapter(path: str | Path) -> Adapter | None:
    """The adapter in folder ``path``, or None when ``path`` holds a full model."""
    config_file = Path(path) / "adapter_config.json"
    if not config_file.is_file():
        return None
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ServeError(f"{config_file}: cannot read the adapter config: {err}") from None
    base = config.get("base_model_name_or_path") or ""
    if not base:
        raise ServeError(f"{config_file}: field 'base_model_name_or_path' is empty; no base model to load")
    rank = config.get("r", 16)
    if not isinstance(rank, int) or rank < 1:
        raise ServeError(f"{config_file}: field 'r' must be a positive integer, got {rank!r}")
    return Adapter(path=str(path), base=str(base), rank=rank)


@dataclass(frozen=True)
class ServerSpec:
    """One model server: what it serves, with which engine, where, and how it is split over devices.

    ``model`` is a model folder or hub name; ``lora`` an adapter folder served on top of it.
    ``served_name`` is the name clients put in ``model`` (default: the adapter's path with an
    adapter, else the model's). ``port`` 0 picks a free port when the server starts.
    """

    model: str
    engine: str = "transformers"
    host: str = "127.0.0.1"
    port: int = 0
    lora: str | None = None
    lora_rank: int = 16
    max_model_len: int | None = None
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    served_name: str = ""
    seed: int | None = None
    kv_cache_tokens: int | None = None  # transformers: KV cache size (default: see KV_SEQUENCES)
    cpu_threads: int | None = None  # torch's threads in the server (OMP_NUM_THREADS); None: torch's choice
    extra_args: tuple[str, ...] = ()

    @property
    def model_name(self) -> str:
        """The name requests use: transformers serve knows its model by path; vLLM by the name given."""
        if self.engine == "transformers":
            return self.model
        return self.served_name or self.lora or self.model

    @property
    def base_url(self) -> str:
        """Where clients reach the server: a wildcard listen address is reached by this host's name."""
        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}/v1"


def vllm_available() -> bool:
    """vLLM is installed and a CUDA GPU is visible (what ``--engine auto`` picks vLLM on)."""
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def resolve_engine(engine: str) -> str:
    """``auto`` is vLLM where it can run, else transformers; other names are checked."""
    if engine == "auto":
        return "vllm" if vllm_available() else "transformers"
    if engine not in ENGINES:
        raise ServeError(f"unknown engine {engine!r}; engines: auto, {', '.join(ENGINES)}")
    return engine


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_spec(spec: ServerSpec) -> None:
    """Refuse what the chosen engine cannot do, with a line that says what to do instead."""
    if spec.engine not in ENGINES:
        raise ServeError(f"unknown engine {spec.engine!r}; engines: {', '.join(ENGINES)}")
    if spec.engine == "transformers":
        if spec.tensor_parallel_size > 1 or spec.data_parallel_size > 1:
            raise ServeError("--tensor-parallel-size and --data-parallel-size need --engine vllm")
        if spec.lora:
            raise ServeError("the transformers engine serves merged weights: merge the adapter first")
        if spec.served_name:
            raise ServeError("transformers serve answers under the model's path; a served name needs vllm")
    if spec.tensor_parallel_size < 1 or spec.data_parallel_size < 1:
        raise ServeError("--tensor-parallel-size and --data-parallel-size must be at least 1")


def vllm_command(spec: ServerSpec, python: str = sys.executable) -> list[str]:
    """``vllm serve`` for ``spec`` (run through this interpreter, so the same environment serves)."""
    command = [python, "-m", "vllm.entrypoints.cli.main", "serve", spec.model]
    command += ["--host", spec.host, "--port", str(spec.port), "--generation-config", "vllm"]
    if spec.lora:
        command += ["--enable-lora", "--max-lora-rank", str(vllm_lora_rank(spec.lora_rank))]
        command += ["--lora-modules", f"{spec.model_name}={spec.lora}"]
    elif spec.served_name:
        command += ["--served-model-name", spec.served_name]
    if spec.max_model_len:
        command += ["--max-model-len", str(spec.max_model_len)]
    if spec.tensor_parallel_size > 1:
        command += ["--tensor-parallel-size", str(spec.tensor_parallel_size)]
    if spec.data_parallel_size > 1:
        command += ["--data-parallel-size", str(spec.data_parallel_size)]
    if spec.seed is not None:
        command += ["--seed", str(spec.seed)]
    return [*command, *spec.extra_args]


def transformers_command(spec: ServerSpec, python: str = sys.executable) -> list[str]:
    """``transformers serve MODEL --continuous-batching`` (the model is loaded at start, not on demand)."""
    command = [python, "-m", "transformers.cli.transformers", "serve", spec.model, "--continuous-batching"]
    command += ["--host", spec.host, "--port", str(spec.port), "--log-level", "info"]
    tokens = spec.kv_cache_tokens or KV_SEQUENCES * (spec.max_model_len or 4096)
    command += ["--cb-block-size", str(PAGE_TOKENS), "--cb-num-blocks", str(-(-tokens // PAGE_TOKENS))]
    command += ["--cb-max-batch-tokens", str(MAX_BATCH_TOKENS)]
    if spec.seed is not None:
        command += ["--default-seed", str(spec.seed)]
    return [*command, *spec.extra_args]


def build_command(spec: ServerSpec, python: str = sys.executable) -> list[str]:
    """The command line that serves ``spec`` (checked first)."""
    check_spec(spec)
    if spec.port <= 0:
        raise ServeError("the server command needs a port (pick one with free_port)")
    return vllm_command(spec, python) if spec.engine == "vllm" else transformers_command(spec, python)


def engine_missing(engine: str) -> str | None:
    """What is missing to run ``engine`` here (one line), or None when it can run."""
    if engine == "vllm":
        if importlib.util.find_spec("vllm") is None:
            return "the vllm engine needs vLLM: install the 'gpu' extra on a GPU node, or use transformers"
        import torch

        if not torch.cuda.is_available():
            return "the vllm engine needs a CUDA GPU and none is visible; use --engine transformers on CPU"
        return None
    needed = [name for name in ("fastapi", "uvicorn", "openai") if importlib.util.find_spec(name) is None]
    if needed:
        return f"transformers serve needs {', '.join(needed)}: pip install -e '.[serve]'"
    return None
