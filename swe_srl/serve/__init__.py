"""Model servers: one OpenAI-compatible server per run (``swe-srl serve``, ``hf:``/``vllm:`` policies).

``commands`` says what a server is (:class:`ServerSpec`) and builds its command line (``vllm serve`` on
GPU nodes, ``transformers serve --continuous-batching`` on CPU); ``process`` starts, watches, restarts
and stops it (:class:`ManagedServer`); ``merge`` folds a LoRA adapter into its base for the
transformers engine. Clients talk to any such server through ``swe_srl.policy.client``.
"""

from swe_srl.serve.commands import ServeError, ServerSpec, resolve_engine, vllm_lora_rank
from swe_srl.serve.process import ManagedServer, SupervisorConfig

__all__ = [
    "ManagedServer",
    "ServeError",
    "ServerSpec",
    "SupervisorConfig",
    "resolve_engine",
    "vllm_lora_rank",
]
