"""RLVR: episodes in SweEnv (local sandbox, real grader) driven by the trainer, and GRPO steps on them.

No doubles: bubblewrap runs the tools, the real grader runs the task's tests, TRL's GRPOTrainer
machinery generates (``generate`` on CPU) and optimises.
"""

from __future__ import annotations

import math
import shutil
import threading
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


def _scripted_episodes(tasks, scripts: list[list[str]], grader=None):
    """Run one episode per script through TurnBatcher seats, answering each turn from the script."""
    from swe_srl.context import build_messages
    from swe_srl.env import SweEnv
    from swe_srl.eval.grader import SandboxGrader
    from swe_srl.train.episodes import EpisodeRecord, TurnBatcher, run_episode_thread

    batcher = TurnBatcher(len(scripts), build_messages)
    records = [EpisodeRecord(i) for i in range(len(scripts))]
    envs = [SweEnv(tasks=tasks, sandbox="local", grader=grader or SandboxGrader("local")) for _ in scripts]
    threads = [
        threading.Thread(
            target=run_episode_thread,
            args=(records[i], envs[i], batcher.policy(i), tasks[0]),
            kwargs={"max_turns": len(scripts[i]), "on_end": lambda i=i: batcher.finish(i)},
        )
        for i in range(len(scripts))
    ]
    prompts: list[dict[int, list[dict]]] = []
    try:
        for thread in threads:
            thread.start()
        turn = 0
        while True:
            waiting = batcher.next_batch()
            if not waiting:
                break
            prompts.append(waiting)
            batcher.answer({i: scripts[i][turn] for i in waiting})
            turn += 1
        for thread in threads:
            thread.join()
    finally:
        for env in envs:
            env.close()
    return records, prompts


def test_gold_fix_is_rewarded_and_an_empty_episode_is_not(sample_tasks):
    from swe_srl.episode import SAMPLE_FIX_SCRIPT

    fix = list(SAMPLE_FIX_SCRIPT)
    idle = ["<think>look</think>\n<function=bash>\n<parameter=command>ls /testbed</parameter>\n</function>"]
    records, prompts = _scripted_episodes(sample_tasks, [fix, idle])
    assert (records[0].reward, records[1].reward) == (1.0, 0.0)  # the idle one is submitted for it
    assert records[0].trajectory.resolved and not records[0].failure
    assert len(prompts) == len(fix)  # turns in lockstep: turn 1 asks both, later turns only the fixer
    assert set(prompts[0]) == {0, 1} and all(set(p) == {0} for p in prompts[1:])


def test_finished_episodes_are_graded_in_their_own_threads(sample_tasks):
    """Grading runs where the episode runs, so episodes that finish together are graded at once."""
    from swe_srl.eval.grader import SandboxGrader

    threads: list[str] = []

    class Recording(SandboxGrader):  # the real grader; it notes which thread graded
        def grade(self, task, patch):
            threads.append(threading.current_thread().name)
            return super().grade(task, patch)

    submit = ["<think>done</think>\n<function=submit>\n</function>"]
    records, _ = _scripted_episodes(sample_tasks, [submit, submit, submit], grader=Recording("local"))
    assert [r.reward for r in records] == [0.0, 0.0, 0.0]
    assert len(set(threads)) == 3 and threading.main_thread().name not in threads


def test_an_infrastructure_failure_is_masked_not_scored(sample_tasks, tmp_path):
    import dataclasses

    from swe_srl.train.episodes import group_advantages

    broken = dataclasses.replace(sample_tasks[0], repo_dir=str(tmp_path / "missing-repo"))
    records, _ = _scripted_episodes([broken], [["<think>x</think>\n<function=submit>\n</function>"]])
    assert records[0].reward is None and records[0].failure
    # In its group the masked episode neither counts in the baseline nor gets an advantage.
    advantages, keep = group_advantages([1.0, math.nan, 0.0, 0.0], 4, 1e-4)
    assert keep == [True] and advantages[1] == 0.0
    assert advantages[0] == pytest.approx((1 - 1 / 3) / (math.sqrt(1 / 3) + 1e-4), rel=1e-4)


def test_context_outgrown_by_the_models_rounds_is_graded_not_masked(sample_tasks):
    """A policy cannot trade a low reward for no signal by growing its context: a later prompt that no
    longer fits submits the patch so far (here the whole fix: resolved); only a task whose first
    prompt cannot fit is masked."""
    from swe_srl.episode import SAMPLE_FIX_SCRIPT

    fix = [*list(SAMPLE_FIX_SCRIPT)[:-1], None]  # the fix made, then the window is full
    records, _ = _scripted_episodes(sample_tasks, [fix, [None]])
    assert records[0].reward == 1.0 and not records[0].failure
    assert records[0].trajectory.metadata["exit_status"] == "submitted"
    assert records[1].reward is None and records[1].failure.startswith("context:")


def test_tests_that_hang_under_the_patch_are_scored_not_masked():
    from swe_srl.records import EvalResult
    from swe_srl.train.episodes import infrastructure_failure

    hung = EvalResult("t", "error", False, "tests timed out after 3s")  # the patch's doing: no cause
    assert infrastructure_failure({"eval": hung}) == ""
    lost = EvalResult("t", "error", False, "the container died", cause="sandbox")
    assert infrastructure_failure({"eval": lost}) == "grader error (sandbox): the container died"
    assert infrastructure_failure({"eval": EvalResult("t", "unresolved", False)}) == ""


def test_rlvr_reply_arguments_reach_the_editor_exactly(sample_tasks):
    """Whitespace and newlines around a str_replace argument are part of it: the RLVR reply goes
    through SweEnv's one action parser, which keeps every argument byte for byte (block values sit
    on their own lines, as ``render_action`` writes them and the prompt's format shows)."""
    from swe_srl.actions import render_action

    write = "printf 'a\\n    keep  \\n\\nb\\n' > /testbed/ws.txt"
    replace = (
        "<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n"
        "<parameter=path>/testbed/ws.txt</parameter>\n"
        "<parameter=old_str>\n\n    keep  \n\n</parameter>\n<parameter=new_str>\n\n  X\t\n\n</parameter>\n"
        "</function>"
    )
    show = "cat -A /testbed/ws.txt"
    script = [
        f"<think>w</think>\n<function=bash>\n<parameter=command>{write}</parameter>\n</function>",
        f"<think>swap the indented line</think>\n{replace}",
        f"<think>c</think>\n<function=bash>\n<parameter=command>{show}</parameter>\n</function>",
        "<think>done</think>\n<function=submit>\n</function>",
    ]
    records, _ = _scripted_episodes(sample_tasks, [script])
    steps = records[0].trajectory.steps
    assert records[0].reward == 0.0 and not records[0].failure
    assert steps[1].action.args["old_str"] == "\n    keep  \n"
    assert steps[1].action.args["new_str"] == "\n  X\t\n"
    assert render_action(steps[1].action) == replace  # the same text back: nothing altered
    assert steps[2].observation.strip() == "a$\n  X^I$\n$\nb$"  # stripped arguments give "    X  $"


def test_step_shaping_adds_similarity_to_the_expert():
    from swe_srl.records import Action, Step, Trajectory
    from swe_srl.train.episodes import step_shaping

    expert = ["<function=bash>\n<parameter=command>ls /testbed</parameter>\n</function>"]
    same = Step(thought="", action=Action("bash", {"command": "ls /testbed"}), observation="")
    submit = Step(thought="", action=Action("submit", {}), observation="")
    trajectory = Trajectory(
        instance_id="t", source_format="x", model="m", problem_statement="p", steps=[same, submit]
    )
    assert step_shaping(trajectory, expert) == pytest.approx(1.0)  # the submit at index 1 has no partner
    assert step_shaping(trajectory, []) == 0.0


def _trainer(sample_tasks, tmp_path, tiny_dir, *overrides):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from swe_srl.train.common import RunPaths, trainer_args
    from swe_srl.train.config import load_config
    from swe_srl.train.rlvr import RlvrTrainer, resolved, task_dataset

    config = load_config(CONFIGS / "rlvr_tiny_cpu.yaml", ["rlvr.max_completion_length=8", *overrides])
    args = trainer_args("rlvr", config, RunPaths(tmp_path / "run"))
    return RlvrTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_dir),
        reward_funcs=[resolved],
        args=args,
        train_dataset=task_dataset(sample_tasks),
        processing_class=AutoTokenizer.from_pretrained(tiny_dir),
        tasks=sample_tasks,
        rlvr=config.rlvr,
        experts={},
        prompt_limit=4096,
    )


def test_each_turn_prompt_is_the_evaluation_context(sample_tasks, tmp_path, tiny_dir):
    """The student sees, at every turn, what evaluation shows it: build_messages through the chat
    template, with the three tools and the XML reply format, and nothing else (no other tool, no
    second tool-call format)."""
    from swe_srl.context import build_messages

    trainer = _trainer(sample_tasks, tmp_path, tiny_dir, "rlvr.max_turns=2")
    try:
        rows = [dict(trainer.train_dataset[0]) for _ in range(2)]
        records = trainer._run_episodes(rows)
    finally:
        trainer.close_envs()
    tokenizer = trainer.processing_class
    for record in records:
        assert len(record.turns) == len(record.trajectory.steps) == 2
        for k, turn in enumerate(record.turns):
            expected = build_messages(record.trajectory.problem_statement, record.trajectory.steps[:k])
            text = tokenizer.apply_chat_template(expected, tokenize=False, add_generation_prompt=True)
            assert tokenizer.decode(turn.prompt_ids) == text
            assert record.trajectory.steps[k].raw_action == tokenizer.decode(
                turn.completion_ids, skip_special_tokens=True
            )
        system = build_messages(record.trajectory.problem_statement, [])[0]["content"]
        for tool in ("bash", "str_replace_editor", "submit"):
            assert f"- {tool}:" in system
        assert "step_shaping" not in tokenizer.decode(record.turns[0].prompt_ids)
        assert "<tool_call>" not in tokenizer.decode(record.turns[0].prompt_ids)


@pytest.mark.slow
def test_one_rlvr_optimisation_step_with_the_tiny_model(sample_tasks, tmp_path, tiny_dir):
    from swe_srl.train.config import load_config
    from swe_srl.train.metrics import read_jsonl
    from swe_srl.train.rlvr import run_rlvr

    config = load_config(
        CONFIGS / "rlvr_tiny_cpu.yaml",
        [f"model.path={tiny_dir}", "rlvr.max_completion_length=16", "rlvr.max_turns=2"],
    )
    result = run_rlvr(config, tmp_path / "run")
    assert result.episodes == 2  # one task x G=2 episodes, each graded
    assert 0.0 <= result.resolved_rate <= 1.0
    train_logs = [r for r in read_jsonl(result.run / "metrics.jsonl") if r["kind"] == "train" and "loss" in r]
    assert train_logs and train_logs[0]["step"] == 1
    assert train_logs[0]["rlvr/turns_per_episode"] == 2.0 and train_logs[0]["rlvr/masked_episodes"] == 0.0
    assert "rlvr/resolved_rate" in train_logs[0]
    assert (result.final_model / "config.json").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("fsdp", [False, True], ids=["ddp", "fsdp"])
def test_rlvr_with_two_processes(tmp_path, tiny_dir, fsdp):
    """Two ranks, one episode each, turns generated in lockstep; both ranks train and the run ends,
    under DDP and under FSDP2 (generation from the sharded model, the final model gathered)."""
    import json

    from train_launch import launch

    from swe_srl.train.metrics import read_jsonl

    run = tmp_path / "run"
    args = ["train", "rlvr", "--tasks", "sample", "--model", str(tiny_dir), "--out", str(run)]
    args += ["--config", str(CONFIGS / "rlvr_tiny_cpu.yaml")]
    for item in ("rlvr.per_device_train_batch_size=1", "rlvr.max_completion_length=8", "rlvr.max_turns=2"):
        args += ["--set", item]
    result = launch(args, tmp_path, fsdp=fsdp, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    launched = json.loads((run / "launch.json").read_text())
    assert launched["distributed_type"] == ("FSDP" if fsdp else "MULTI_CPU")
    train = [r for r in read_jsonl(run / "metrics.jsonl") if r["kind"] == "train" and "loss" in r]
    assert [r["step"] for r in train] == [1]
    assert train[0]["rlvr/turns_per_episode"] == 2.0
    assert (run / "final" / "config.json").is_file()
    assert any((run / "final").glob("*.safetensors"))  # the full model, not an empty sharded save
