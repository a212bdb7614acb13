"""Policies: what produces the agent's next reply (scripted, local weights, remote endpoints)."""

from swe_srl.policy.base import Policy
from swe_srl.policy.errors import ModelServerError, PolicyError
from swe_srl.policy.registry import (
    PolicyOptions,
    PolicySource,
    PolicySpecError,
    make_policy,
    open_policy_source,
)

__all__ = [
    "ModelServerError",
    "Policy",
    "PolicyError",
    "PolicyOptions",
    "PolicySource",
    "PolicySpecError",
    "make_policy",
    "open_policy_source",
]
