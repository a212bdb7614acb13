"""``make_policy(spec, task)``: build a policy from its command-line spec.

Specs: ``gold``, ``noop``, ``replay:FILE``, ``expert`` / ``expert:N`` (``swe_srl.policy.expert``),
``openai:MODEL@URL``, ``hf:PATH``, ``vllm:PATH`` (``swe_srl.policy.vllm``, imported only when asked
for). Scripted policies are per task; model-backed ones are cheap to build (weights are cached).

A run (evaluation, rollout) opens one :class:`PolicySource` with :func:`open_policy_source` and
asks it for each task's policy: whatever a policy needs for the whole run (a model server, loaded
weights) belongs to the source, is checked once by :meth:`PolicySource.preflight` before the first
task, and is released by :meth:`PolicySource.close`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from swe_srl.policy.base import Policy
from swe_srl.records import SweSrlError, Task

KINDS = ("gold", "noop", "replay", "expert", "openai", "hf", "vllm")


class PolicySpecError(SweSrlError, ValueError):
    """A policy spec that names no known policy or lacks its argument."""


@dataclass(frozen=True)
class PolicyOptions:
    max_tokens: int = 2048
    temperature: float = 0.0


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
    if kind == "openai":
        model, sep, url = arg.rpartition("@")
        if not sep or not model or not url:
            raise PolicySpecError(f"policy spec {spec!r}: expected openai:MODEL@URL")
        from swe_srl.policy.openai import OpenAIPolicy

        return OpenAIPolicy(model, url, max_tokens=options.max_tokens, temperature=options.temperature)
    if kind == "hf":
        from swe_srl.policy.hf import HFPolicy

        return HFPolicy(arg, max_tokens=options.max_tokens, temperature=options.temperature)
    if kind == "vllm":
        module = importlib.import_module("swe_srl.policy.vllm")
        return module.make_vllm_policy(arg, options)
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
    return SpecPolicySource(spec, options)
