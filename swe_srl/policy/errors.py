"""Errors of the policy backends.

``PolicyError``: a policy cannot answer (missing weights, a bad answer, a rejected request).
``ModelServerError``: the model server behind a policy failed (unreachable, died, timed out, answered
5xx after the retries). A run engine records a task that fails with it as an infrastructure error
(cause ``model_server``), not as a model failure, so ``--retry-errors`` runs it again.
"""

from __future__ import annotations

from swe_srl.records import SweSrlError


class PolicyError(SweSrlError):
    """A policy backend failed (bad answer, rejected request, missing weights)."""


class ModelServerError(PolicyError):
    """The model server failed: unreachable, died, timed out or answered 5xx after bounded retries."""
