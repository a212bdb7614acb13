"""The policy source of a model-backed run: one client, and for ``hf:``/``vllm:`` one server, per run.

- ``openai:MODEL@URL``: a server someone else runs; the source only talks to it.
- ``hf:PATH``: ``transformers serve --continuous-batching`` started for the run (CPU or one GPU);
  with ``PolicyOptions.in_process`` the weights are loaded here instead (``swe_srl.policy.hf``).
- ``vllm:PATH``: ``vllm serve`` started for the run (a LoRA adapter folder is served on its base).

A source pickles (``__getstate__``) for runs whose tasks execute in other processes: the copy talks to
the same server (``PolicyOptions.server_host`` ``0.0.0.0`` makes a managed server reachable from other
machines); only the process that started the server stops it.

:meth:`ModelPolicySource.preflight` runs before any task: it starts the managed server (waiting
until it is healthy), checks that the server answers, serves the model and generates one token
with the run's sampling parameters, and learns the context window. Any failure is one line
(``ModelServerError`` or ``PolicyError``), raised before a run folder exists. Every task's policy
(:meth:`for_task`) is a :class:`~swe_srl.policy.chat.ChatPolicy` on the same client, so N episodes
in N threads share one server, which batches them. :meth:`close` stops the managed server.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swe_srl.policy.chat import ChatBackend, ChatPolicy, ContextWindow
from swe_srl.policy.client import ChatClient, default_in_flight
from swe_srl.policy.errors import PolicyError
from swe_srl.policy.window import context_length, context_window, special_token_ids
from swe_srl.records import Task

if TYPE_CHECKING:
    from swe_srl.policy.registry import PolicyOptions
    from swe_srl.serve.process import ManagedServer


def parse_openai(spec: str, arg: str) -> tuple[str, str]:
    """(model, url) of ``openai:MODEL@URL`` (the model name may itself hold ``@``)."""
    from swe_srl.policy.registry import PolicySpecError

    model, sep, url = arg.rpartition("@")
    if not sep or not model or not url:
        raise PolicySpecError(f"policy spec {spec!r}: expected openai:MODEL@URL")
    return model, url


def cuda_visible() -> bool:
    """Whether a server started from this process finds a GPU (``transformers serve --device auto``)."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _local_dir(name: str) -> str:
    return name if name and Path(name).is_dir() else ""


class ModelPolicySource:
    """The :class:`~swe_srl.policy.registry.PolicySource` of ``openai:``, ``hf:`` and ``vllm:`` runs."""

    def __init__(self, spec: str, options: PolicyOptions):
        self.spec = spec
        self.options = options
        self.kind, _, self.arg = spec.partition(":")
        self.name = spec
        self.server: ManagedServer | None = None
        self.backend: ChatBackend | None = None
        self.window: ContextWindow | None = None
        self._lock = threading.Lock()

    def preflight(self) -> None:
        with self._lock:
            if self.backend is not None:
                return
            try:
                self.backend, self.window = self._open()
            except BaseException:
                self.close()
                raise

    def for_task(self, task: Task) -> ChatPolicy:
        self.preflight()
        return self.policy()

    def policy(self) -> ChatPolicy:
        """A policy on this source's backend (every task gets its own; they share the backend)."""
        if self.backend is None:
            raise PolicyError(f"{self.spec}: the policy source was not opened (call preflight first)")
        return ChatPolicy(
            self.name,
            self.backend,
            max_tokens=self.options.max_tokens,
            context=self.options.context,
            window=self.window,
        )

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop()

    def __getstate__(self) -> dict[str, Any]:
        """A copy for another process (a Ray worker): the client and context window travel, the
        managed server stays with the process that started it; in-process weights load again there."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("server", "_lock")}
        if not isinstance(self.backend, ChatClient):
            state.update(backend=None, window=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, server=None, _lock=threading.Lock())

    def __enter__(self) -> ModelPolicySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening ----------------------------------------------------------------------------

    def _open(self) -> tuple[ChatBackend, ContextWindow | None]:
        if self.kind == "hf" and self.options.in_process:
            return self._open_in_process()
        if self.kind == "openai":
            model, url = parse_openai(self.spec, self.arg)
            self.name = f"openai:{model}"
            client = self._client(url, model, "openai", None)
            model_dir = _local_dir(model)
        else:
            self.server = self._start_server()
            spec = self.server.spec
            client = self._client(self.server.base_url, spec.model_name, spec.engine, self.server)
            model_dir = _local_dir(spec.model)
        if model_dir:
            client.eos = special_token_ids(model_dir)
        info = client.check()
        limit = self.options.max_model_len or info.max_model_len
        if self.server is not None:
            limit = limit or self.server.spec.max_model_len
        limit = limit or (context_length(model_dir) if model_dir else None)
        tokenizer = self.options.tokenizer or model_dir
        return client, context_window(limit=limit, tokenizer_dir=tokenizer, client=client)

    def _client(self, url: str, model: str, dialect: str, server: ManagedServer | None) -> ChatClient:
        o = self.options
        in_flight = o.max_concurrency
        if in_flight is None and server is not None:  # a server of ours: we know where it runs
            on_gpu = dialect == "transformers" and cuda_visible()  # vLLM's cap is the same on any device
            in_flight = default_in_flight(dialect, server_on_gpu=on_gpu)
        return ChatClient(
            url,
            model,
            o.sampling,
            dialect=dialect,
            timeout=o.request_timeout,
            retries=o.retries,
            max_concurrency=in_flight,
            server=server,
        )

    def _start_server(self) -> ManagedServer:
        from swe_srl.serve.process import SERVE_DIR, ManagedServer, SupervisorConfig
        from swe_srl.serve.run import server_spec

        o = self.options
        if not Path(self.arg).is_dir():
            raise PolicyError(f"{self.spec}: no such model or adapter directory")
        if self.kind == "vllm":
            from swe_srl.policy.vllm import require_vllm

            require_vllm()
        log = Path(o.server_log) if o.server_log else None
        engine = "vllm" if self.kind == "vllm" else "transformers"
        spec = server_spec(
            self.arg,
            engine=engine,
            max_model_len=o.max_model_len,
            tensor_parallel_size=o.tensor_parallel_size,
            data_parallel_size=o.data_parallel_size,
            seed=o.seed,
            cpu_threads=o.cpu_threads,
            host=o.server_host,
            work_dir=log.parent if log else SERVE_DIR,
        )
        config = SupervisorConfig(startup_timeout=o.startup_timeout)
        return ManagedServer(spec, log, config).start()

    def _open_in_process(self) -> tuple[ChatBackend, ContextWindow | None]:
        from swe_srl.policy.hf import local_generator

        generator = local_generator(self.arg, self.options.sampling)
        limit = self.options.max_model_len or generator.context_length
        return generator, ContextWindow(limit, generator.count) if limit else None


def single_policy(spec: str, options: PolicyOptions) -> ChatPolicy:
    """One model-backed policy outside a run's source (``make_policy``): no server is started.

    ``openai:`` gets a client without preflight; ``hf:`` generates in this process (weights shared
    per process); ``vllm:`` is refused, since it needs a server that lives as long as its run.
    """
    from swe_srl.policy.registry import PolicySpecError

    kind, _, arg = spec.partition(":")
    if kind == "openai":
        model, url = parse_openai(spec, arg)
        source = ModelPolicySource(spec, options)
        source.name, source.backend = f"openai:{model}", source._client(url, model, "openai", None)
        return source.policy()
    if kind == "hf":
        source = ModelPolicySource(spec, replace(options, in_process=True))
        source.preflight()
        return source.policy()
    from swe_srl.policy.vllm import require_vllm

    require_vllm()
    raise PolicySpecError(f"{spec} serves one model for a whole run: open it with open_policy_source")
