"""In-process generation (``hf:`` with ``in_process``): concurrent callers are batched, not serialised."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from swe_srl.context import build_messages
from swe_srl.policy.client import Sampling
from swe_srl.policy.hf import LocalGenerator
from swe_srl.tasks import load_tasks


def test_concurrent_callers_share_batches_and_get_their_greedy_replies(lively_tiny_dir):
    generator = LocalGenerator(str(lively_tiny_dir), Sampling(max_tokens=12))
    try:
        prompts = [build_messages(t.problem_statement, []) for t in load_tasks("bundled")[:6]]
        alone = [generator.complete(messages) for messages in prompts]
        before = generator.batches
        with ThreadPoolExecutor(6) as pool:
            together = list(pool.map(generator.complete, prompts))
        assert generator.batches - before < len(prompts)  # callers waiting together ran as one batch
        assert [c.text for c in together] == [c.text for c in alone]
        assert len({c.text for c in alone}) > 1 and all(c.completion_tokens <= 12 for c in together)
        assert alone[0].prompt_tokens == generator.count(prompts[0])
    finally:
        generator.close()
