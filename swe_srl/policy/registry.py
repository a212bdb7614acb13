"""``make_policy(spec, task)`` and ``open_policy_source(spec)``: policies from their command-line spec.

Specs: ``gold``, ``noop``, ``replay:FILE``, ``expert`` / ``expert:N`` (``swe_srl.policy.expert``),
and the model-backed ``openai:MODEL@URL``, ``hf:PATH``, ``vllm:PATH`` (``swe_srl.policy.served``).

A run (evaluation, rollout) opens one :class:`PolicySource` with :func:`open_policy_source` and
asks it for each task's policy: whatever a policy needs for the whole run (a model server, loaded
weights) belongs to the source, is checked once by :meth:`PolicySource.preflight` before the first
task, and is released by :meth:`PolicySource.close`. ``make_policy`` builds one policy on its own:
scripted ones, ``openai:`` (a client, no preflight) and ``hf:`` (in-process weights); ``vllm:`` needs
its server and therefore a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from swe_srl.context import DEFAULT_CONTEXT, ContextConfig
from swe_srl.policy.base import Policy
from swe_srl.policy.client import Sampling
from swe_srl.records import SweSrlError, Task

KINDS = ("gold", "noop", "replay", "expert", "openai", "hf", "vllm")
MODEL_KINDS = ("openai", "hf", "vllm")


class PolicySpecError(SweSrlError, ValueError):
    """A policy spec that names no known policy or lacks its argument."""


@dataclass(frozen=True)
class PolicyOptions:
    """How model-backed policies generate (scripted policies ignore it).

    Sampling, sent with every request (``swe_srl.policy.client.Sampling``): ``max_tokens``,
    ``temperature``, ``top_p``, ``top_k`` (0: no cut), ``repetition_penalty``, ``seed`` (None: none).
    Context: ``context`` (window, observation budget), ``max_model_len`` (the model's context window
    in tokens; default: the server's, else the model folder's config), ``tokenizer`` (folder to count
    prompt tokens with; default: the model folder). Servers: ``request_timeout`` (seconds per
    request), ``retries`` (per request, bounded), ``max_concurrency`` (requests in flight per run;
    None: by server, ``swe_srl.policy.client.IN_FLIGHT``), ``server_log`` (a managed server's log
    file), ``server_host`` (the address it listens on; ``0.0.0.0`` for tasks on other machines),
    ``startup_timeout``, ``tensor_parallel_size`` and ``data_parallel_size`` (``vllm:``),
    ``cpu_threads`` (torch threads of a CPU server; None: torch's default); ``in_process``: ``hf:``
    generates in this process, batched, instead of starting ``transformers serve``.
    """

    max_tokens: int = 2048
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None
    context: ContextConfig = DEFAULT_CONTEXT
    max_model_len: int | None = None
    tokenizer: str = ""
    request_timeout: float = 600.0
    retries: int = 3
    max_concurrency: int | None = None
    server_log: str = ""
    server_host: str = "127.0.0.1"
    startup_timeout: float = 900.0
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    cpu_threads: int | None = None
    in_process: bool = False

    @property
    def sampling(self) -> Sampling:
        return Sampling(
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            repetition_penalty=self.repetition_penalty,
            seed=self.seed,
        )


def _needs_task(kind: str, task: Task | None) -> Task:
    if task is None:
        raise PolicySpecError(f"policy {kind!r} is built per task; pass the task")
    return task


def make_policy(spec: str, task: Task | None = None, options: PolicyOptions | None = None) -> Policy:
    """The policy ``spec`` names (see the module docstring)."""
    from swe_srl.policy.scripted import GoldPolicy, NoopPolicy, ReplayPolicy

    options = options or PolicyOptions()
    kind, _, arg = spec.partition(":")
    if kind == "gold" and not arg:
        return GoldPolicy(_needs_task(kind, task))
    if kind == "noop" and not arg:
        return NoopPolicy()
    if kind == "expert" and (not arg or arg.isdigit()):
        from swe_srl.policy.expert import ExpertPolicy

        return ExpertPolicy(_needs_task(kind, task), variant=int(arg or 0))
    if kind in ("replay", "openai", "hf", "vllm") and not arg:
        raise PolicySpecError(f"policy spec {spec!r}: {kind} needs an argument ({kind}:...)")
    if kind == "replay":
        return ReplayPolicy(Path(arg), _needs_task(kind, task))
    if kind in MODEL_KINDS:
        from swe_srl.policy.served import single_policy

        return single_policy(spec, options)
    raise PolicySpecError(f"unknown policy spec {spec!r}; kinds: {', '.join(KINDS)}")


class PolicySource(Protocol):
    """The policies of one run: opened once, asked for one policy per task, closed at the end."""

    spec: str

    def preflight(self) -> None:
        """Check, before any task runs, that policies can be made (raises a one-line ``SweSrlError``)."""
        ...

    def for_task(self, task: Task) -> Policy:
        """The policy that plays ``task``."""
        ...

    def close(self) -> None:
        """Release what the run held (idempotent)."""
        ...

    def __enter__(self) -> PolicySource: ...

    def __exit__(self, *exc: object) -> None: ...


class SpecPolicySource:
    """A :class:`PolicySource` that builds each task's policy from its spec with :func:`make_policy`."""

    def __init__(self, spec: str, options: PolicyOptions | None = None):
        self.spec = spec
        self.options = options or PolicyOptions()

    def preflight(self) -> None:
        kind, _, arg = self.spec.partition(":")
        if kind not in KINDS:
            raise PolicySpecError(f"unknown policy spec {self.spec!r}; kinds: {', '.join(KINDS)}")
        if kind in ("replay", "openai", "hf", "vllm") and not arg:
            raise PolicySpecError(f"policy spec {self.spec!r}: {kind} needs an argument ({kind}:...)")

    def for_task(self, task: Task) -> Policy:
        return make_policy(self.spec, task, self.options)

    def close(self) -> None:
        return None

    def __enter__(self) -> SpecPolicySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_policy_source(spec: str, options: PolicyOptions | None = None) -> PolicySource:
    """The policy source of a run with policy ``spec`` (see the module docstring)."""
    kind, _, arg = spec.partition(":")
    if kind in MODEL_KINDS and arg:
        from swe_srl.policy.served import ModelPolicySource

        return ModelPolicySource(spec, options or PolicyOptions())
    return SpecPolicySource(spec, options)
