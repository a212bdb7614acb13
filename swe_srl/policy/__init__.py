"""Policies: what produces the agent's next reply (scripted, local weights, remote endpoints)."""

from swe_srl.policy.base import Policy
from swe_srl.policy.registry import PolicyOptions, PolicySpecError, make_policy

__all__ = ["Policy", "PolicyOptions", "PolicySpecError", "make_policy"]
