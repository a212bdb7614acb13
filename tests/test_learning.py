"""Evidence that training learns, CPU-sized and seeded (about 3-4 minutes on 2 cores).

Data: real step instances cut by the project's builder from the shipped expert trajectories
(``swe_srl.train.devdata``), restricted to ``bash`` and ``submit`` actions (the short ones) with
prompts cut to 100 characters per message (``configs/sft_tiny_cpu.yaml``).

Model: the tiny 2-layer Qwen2 from ``swe-srl model init-tiny``, randomly initialised. At init it
breaks the output format on every held-out prompt (reward -1 everywhere), so every GRPO group has
zero reward variance and SRL alone has nothing to learn from. The run is therefore, honestly:

1. SFT warm-up (300 steps, cosine schedule, expert actions with an empty monologue): held-out
   completion loss must fall well below the untrained model's;
2. SRL (GRPO + dynamic sampling + the SRL reward) from the warm-up checkpoint;
3. the SRL policy's held-out mean step reward must beat the untrained model's and its
   format-error rate must be lower, both by a margin.

What this does not show: that the SRL stage improves on its SFT warm-up. At this size the SRL
stage mostly holds the warm-up's level; the numbers of both stages are written to the run folders
(metrics.jsonl and PNG curves) for inspection.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from swe_srl.train.devdata import build_steps
    from swe_srl.train.tiny_model import TinyModelSpec, init_tiny

    root = tmp_path_factory.mktemp("learning")
    steps = build_steps(root / "steps")
    model = init_tiny(root / "tiny", spec=TinyModelSpec(seed=0))
    return root, steps, model


@pytest.mark.slow
def test_sft_then_srl_beat_the_untrained_model(workspace):
    from swe_srl.train.common import load_model_and_tokenizer
    from swe_srl.train.config import load_config
    from swe_srl.train.data import held_out_rows, load_validation
    from swe_srl.train.metrics import evaluate_held_out
    from swe_srl.train.sft import held_out_loss, run_sft
    from swe_srl.train.srl import run_srl

    root, steps, model = workspace
    sft_config = load_config(CONFIGS / "sft_tiny_cpu.yaml", [f"model.path={model}", f"data.path={steps}"])
    rows = held_out_rows(load_validation(sft_config.data))
    assert len(rows) >= 8

    untrained_model, tokenizer = load_model_and_tokenizer(sft_config.model, str(model))
    untrained, _ = evaluate_held_out(untrained_model, tokenizer, rows, sft_config.eval.max_new_tokens, 16)
    untrained_loss = held_out_loss(sft_config, str(model))

    sft = run_sft(sft_config, root / "sft")
    sft_loss = held_out_loss(sft_config, str(sft.final_model))
    assert sft_loss < untrained_loss - 2.0, (untrained_loss, sft_loss)

    srl_config = load_config(
        CONFIGS / "srl_tiny_cpu.yaml", [f"model.path={sft.final_model}", f"data.path={steps}"]
    )
    srl = run_srl(srl_config, root / "srl")
    final = srl.eval_history[-1]
    assert final["count"] == len(rows)
    assert final["mean_step_reward"] > untrained.mean_step_reward + 0.15, (untrained, final)
    assert final["format_error_rate"] < untrained.format_error_rate - 0.1, (untrained, final)
    assert (root / "sft" / "train_loss.png").is_file()
    assert (root / "srl" / "heldout.png").is_file()
