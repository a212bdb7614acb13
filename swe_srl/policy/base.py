"""The ``Policy`` protocol: what the agent loop asks for the next reply.

The protocol itself lives with the agent loop (``swe_srl.episode``) and is re-exported here so
policy backends import it from their own package.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from swe_srl.records import Step

try:  # the agent loop owns the protocol; fall back to the same shape while it is absent
    from swe_srl.episode import Policy
except ImportError:  # pragma: no cover - only before swe_srl.episode exists

    @runtime_checkable
    class Policy(Protocol):  # type: ignore[no-redef]
        """Given the issue and the steps so far, return the next model reply (text with one action)."""

        def act(self, problem_statement: str, history: list[Step]) -> str: ...


__all__ = ["Policy"]
