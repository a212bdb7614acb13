"""RLVR: the tool environment on the sample task (local sandbox, real grader) and one GRPO step.

No doubles: bubblewrap runs the tools, the real grader runs the task's tests, TRL's GRPOTrainer
drives the episode through ``environment_factory``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="needs bubblewrap for the local sandbox"
)


@pytest.fixture(scope="module")
def sample_tasks():
    from swe_srl.tasks import load_tasks

    return load_tasks("sample")


def _apply_gold(env, task) -> str:
    return env.bash(
        f"cd /testbed && cat > /tmp/gold.diff <<'GOLD_EOF'\n{task.patch}\nGOLD_EOF\ngit apply /tmp/gold.diff"
    )


def test_gold_patch_through_the_tools_is_rewarded(sample_tasks):
    from swe_srl.train.config import RlvrConfig
    from swe_srl.train.rlvr import SweToolEnv

    task = sample_tasks[0]
    env = SweToolEnv(sample_tasks, RlvrConfig(sandbox="local", max_turns=5))
    try:
        assert env.reset(instance_id=task.instance_id, prompt=[]) is None
        assert "durata" in env.bash("ls /testbed")
        _apply_gold(env, task)
        env.submit()
        assert env.get_reward() == 1.0
        assert "already submitted" in env.bash("ls")
        # A fresh episode that changes nothing is not resolved; get_reward submits for the model.
        env.reset(instance_id=task.instance_id)
        assert "cat -n" in env.str_replace_editor("view", "/testbed/durata/units.py", view_range=[1, 3])
        assert env.get_reward() == 0.0
        assert (env.episodes, env.resolved) == (2, 1)
    finally:
        env.env.close()


def test_step_shaping_adds_similarity_to_the_expert(sample_tasks):
    from swe_srl.train.config import RlvrConfig
    from swe_srl.train.rlvr import SweToolEnv

    task = sample_tasks[0]
    expert = ["<function=bash>\n<parameter=command>ls /testbed</parameter>\n</function>"]
    env = SweToolEnv(sample_tasks, RlvrConfig(step_reward_weight=0.5), {task.instance_id: expert})
    try:
        env.reset(instance_id=task.instance_id)
        env.bash("ls /testbed")  # identical to the expert's first action: similarity 1.0
        # Only indices the expert has count: (ls vs ls) = 1.0; the auto-submit at index 1 has no partner.
        assert env.get_reward() == pytest.approx(0.5 * 1.0)
    finally:
        env.env.close()


def test_a_rollout_whose_infrastructure_failed_is_masked_not_scored_zero(sample_tasks, tmp_path):
    import dataclasses

    from swe_srl.train.config import RlvrConfig
    from swe_srl.train.rlvr import SweToolEnv

    task = sample_tasks[0]
    lost = dataclasses.replace(task, instance_id="lost", repo_dir=str(tmp_path / "gone"))  # no repository
    env = SweToolEnv([task, lost], RlvrConfig(sandbox="local", max_turns=5))
    try:
        env.reset(instance_id="lost")  # its sandbox cannot be prepared
        assert "not scored" in env.bash("ls /testbed")
        assert env.get_reward() is None  # masked: GRPO leaves it out of the group's baseline
        env.reset(instance_id=task.instance_id)  # the next rollout is scored as usual
        assert env.get_reward() == 0.0
        assert (env.episodes, env.masked, env.resolved) == (2, 1, 0)
    finally:
        env.env.close()


def test_response_template_parses_our_tool_calls(tmp_path):
    from trl.chat_template_utils import parse_response

    from swe_srl.train.rlvr import swe_response_template
    from swe_srl.train.tiny_model import train_tokenizer

    tokenizer = train_tokenizer(["def f():\n    return 1\n"] * 20, vocab_size=300)
    tokenizer.response_template = swe_response_template()
    prefix = tokenizer(
        tokenizer.apply_chat_template(
            [{"role": "user", "content": "x"}], tokenize=False, add_generation_prompt=True
        ),
        add_special_tokens=False,
    )["input_ids"]
    text = (
        "<think>look</think>\n<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
        "<parameter=path>/testbed/a.py</parameter>\n</function><|im_end|>"
    )
    parsed = parse_response(tokenizer, tokenizer(text, add_special_tokens=False)["input_ids"], prefix=prefix)
    assert parsed["reasoning_content"] == "look"
    call = parsed["tool_calls"][0]["function"]
    assert call == {"name": "str_replace_editor", "arguments": {"command": "view", "path": "/testbed/a.py"}}


@pytest.mark.slow
def test_one_rlvr_optimisation_step_with_the_tiny_model(sample_tasks, tmp_path):
    from swe_srl.train.config import load_config
    from swe_srl.train.metrics import read_jsonl
    from swe_srl.train.rlvr import run_rlvr
    from swe_srl.train.tiny_model import TinyModelSpec, init_tiny

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(sample_tasks[0].problem_statement * 5, encoding="utf-8")
    model = init_tiny(tmp_path / "tiny", [corpus], TinyModelSpec(vocab_size=400, hidden_size=32))
    config = load_config(
        CONFIGS / "rlvr_tiny_cpu.yaml",
        [f"model.path={model}", "rlvr.max_completion_length=16", "rlvr.max_turns=2"],
    )
    result = run_rlvr(config, tmp_path / "run")
    assert result.episodes == 2  # one prompt x G=2 rollouts, each graded
    assert 0.0 <= result.resolved_rate <= 1.0
    train_logs = [r for r in read_jsonl(result.run / "metrics.jsonl") if r["kind"] == "train" and "loss" in r]
    assert train_logs and train_logs[0]["step"] == 1
    assert "rewards/SweToolEnv/mean" in train_logs[0]
    assert (result.final_model / "config.json").is_file()
