"""The ``Policy`` protocol: what the agent loop asks for the next reply.

The protocol lives with the agent loop (``swe_srl.episode``); it is re-exported here so policy
backends and their users import it from the policy package.
"""

from __future__ import annotations

from swe_srl.episode import Policy

__all__ = ["Policy"]
