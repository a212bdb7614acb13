"""A real ``transformers serve`` of a tiny model, shared by the policy tests of one session."""

from __future__ import annotations

import pytest

from swe_srl.policy import PolicyOptions, open_policy_source

MAX_TOKENS = 24


@pytest.fixture(scope="session")
def lively_tiny_dir(tiny_dir, tmp_path_factory):
    """The tiny model with larger random weights: its greedy replies differ from prompt to prompt.

    (Freshly initialised weights are so small that every prompt's greedy reply is the same token
    repeated, which would make comparing two runs' replies meaningless.)
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("lively-tiny")
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" not in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def hf_source(lively_tiny_dir, tmp_path_factory):
    """``hf:TINY`` opened as a run opens it: one managed transformers server, preflighted."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    options = PolicyOptions(max_tokens=MAX_TOKENS, server_log=str(log), request_timeout=120, cpu_threads=1)
    with open_policy_source(f"hf:{lively_tiny_dir}", options) as source:
        source.preflight()
        yield source
