"""Step instances: context window, truncation, targets, split by trajectory, dedupe, filters, files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swe_srl.actions import parse_action, parse_completion, render_action
from swe_srl.cli import app
from swe_srl.context import ContextConfig, build_messages, truncate_observation
from swe_srl.records import Trajectory
from swe_srl.trajectories.importers import import_paths
from swe_srl.trajectories.steps import (
    StepOptions,
    build_step_dataset,
    sft_completion,
    split_of,
    step_instances,
)

PANDAS = "swesmith_pandas_53856.traj"


@pytest.fixture(scope="module")
def pandas(fixtures_dir) -> Trajectory:
    return next(import_paths([fixtures_dir / PANDAS]))


@pytest.fixture(scope="module")
def fixtures(fixtures_dir) -> list[Trajectory]:
    return list(import_paths([fixtures_dir]))


def _renamed(traj: Trajectory, tid: str, **changes) -> Trajectory:
    return dataclasses.replace(traj, metadata={**traj.metadata, "trajectory_id": tid}, **changes)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_one_instance_per_action_with_canonical_targets(pandas):
    instances = list(step_instances(pandas))
    assert len(instances) == len(pandas.steps) == 17
    for k, (instance, step) in enumerate(zip(instances, pandas.steps, strict=True)):
        assert (instance.step_index, instance.num_steps, instance.tool) == (k, 17, step.action.tool)
        assert instance.target == render_action(step.action)
        assert parse_action(instance.target) == step.action
        assert instance.thought == step.thought
        assert instance.trajectory_id == "pandas-dev__pandas.95280573.pr_53856"
        assert instance.prompt == build_messages(pandas.problem_statement, pandas.steps[:k])


def test_first_step_has_no_history(pandas):
    prompt = next(step_instances(pandas)).prompt
    assert [m["role"] for m in prompt] == ["system", "user"]
    assert prompt[1]["content"] == f"<issue>\n{pandas.problem_statement}\n</issue>"


def test_window_of_two_shows_only_the_last_two_rounds(pandas):
    prompt = list(step_instances(pandas))[5].prompt
    assert [m["role"] for m in prompt] == ["system", "user", "assistant", "user", "assistant", "user"]
    steps = pandas.steps
    assert prompt[2]["content"] == render_action(steps[3].action)
    assert prompt[3]["content"] == "OBSERVATION:\n" + truncate_observation(steps[3].observation)
    assert prompt[4]["content"] == render_action(steps[4].action)
    assert prompt[5]["content"] == "OBSERVATION:\n" + truncate_observation(steps[4].observation)
    assert "[3 earlier actions not shown]" in prompt[1]["content"]
    text = "".join(m["content"] for m in prompt)
    for early in steps[:3]:
        assert render_action(early.action) not in text
    assert 'grep -n "def insert_data"' not in text  # step 2's command


def test_list_earlier_and_unbounded_window(pandas):
    prompt = build_messages(pandas.problem_statement, pandas.steps[:5], ContextConfig(list_earlier=True))
    lines = prompt[1]["content"].split("Earlier actions (outputs not shown):\n")[1].splitlines()
    assert len(lines) == 3
    assert lines[0].startswith('1. bash(command="find /testbed')
    assert lines[1] == '2. str_replace_editor(command="view", path="/testbed/pandas/io/sql.py")'
    full = build_messages(pandas.problem_statement, pandas.steps[:5], ContextConfig(window=None))
    assert len(full) == 2 + 2 * 5
    assert "earlier" not in full[1]["content"]


def test_sft_completion_is_thought_then_action(pandas):
    instance = list(step_instances(pandas))[3]
    completion = sft_completion(instance)
    assert completion == f"<think>{pandas.steps[3].thought}</think>\n{instance.target}"
    parsed = parse_completion(completion)
    assert parsed.action == pandas.steps[3].action
    assert parsed.thought == pandas.steps[3].thought.strip()


def test_split_is_by_trajectory_and_deterministic(pandas, tmp_path):
    trajectories = [_renamed(pandas, f"run-{i}", problem_statement=f"issue {i}") for i in range(60)]
    options = StepOptions(validation_fraction=0.3, seed=7)
    stats = build_step_dataset(trajectories, tmp_path / "a", options)
    train, validation = _rows(tmp_path / "a" / "train.jsonl"), _rows(tmp_path / "a" / "validation.jsonl")
    train_ids, validation_ids = {r["trajectory_id"] for r in train}, {r["trajectory_id"] for r in validation}
    assert train_ids and validation_ids and not train_ids & validation_ids
    assert len(train_ids | validation_ids) == 60
    assert len(train) + len(validation) == 60 * 17 == stats.total_instances
    assert all(split_of(r["trajectory_id"], 0.3, 7) == "validation" for r in validation)
    build_step_dataset(trajectories, tmp_path / "b", options)
    assert (tmp_path / "b" / "validation.jsonl").read_bytes() == (
        tmp_path / "a" / "validation.jsonl"
    ).read_bytes()
    other_seed = {tid for tid in train_ids | validation_ids if split_of(tid, 0.3, 8) == "validation"}
    assert other_seed != validation_ids


def test_dedupe_drops_identical_prompt_and_target(pandas, tmp_path):
    copies = [_renamed(pandas, "first"), _renamed(pandas, "second")]
    stats = build_step_dataset(copies, tmp_path / "d", StepOptions(validation_fraction=0.0))
    assert (stats.total_instances, stats.duplicates) == (17, 17)
    assert {r["trajectory_id"] for r in _rows(tmp_path / "d" / "train.jsonl")} == {"first"}
    no_dedupe = StepOptions(validation_fraction=0.0, dedupe=False)
    assert build_step_dataset(copies, tmp_path / "n", no_dedupe).total_instances == 34


def test_filters_resolved_tools_and_cap(fixtures, pandas, tmp_path):
    marked = [_renamed(pandas, "yes", resolved=True), _renamed(pandas, "no", resolved=False), *fixtures]
    only_resolved = build_step_dataset(marked, tmp_path / "r", StepOptions(resolved_only=True))
    assert only_resolved.total_instances == 17 and only_resolved.skipped_unresolved == 4
    bash = list(step_instances(pandas, StepOptions(tools=frozenset({"bash"}))))
    assert [i.tool for i in bash] == ["bash"] * 9
    second_bash = bash[1]  # k=2: its window still shows the editor call at k=1
    assert second_bash.step_index == 2 and "<function=str_replace_editor>" in second_bash.prompt[4]["content"]
    capped = list(step_instances(pandas, StepOptions(max_steps_per_trajectory=3)))
    assert [i.step_index for i in capped] == [0, 1, 2]


def test_dataset_files_load_with_datasets(fixtures, tmp_path):
    import datasets

    out = tmp_path / "steps"
    stats = build_step_dataset(fixtures, out, StepOptions(validation_fraction=0.5, seed=1), batch_rows=4)
    files = {split: str(out / f"{split}.parquet") for split in ("train", "validation")}
    loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "cache"))
    for split in ("train", "validation"):
        rows = _rows(out / f"{split}.jsonl")
        assert loaded[split].num_rows == len(rows) == stats.instances[split]
        assert loaded[split].to_list() == rows
    assert set(loaded["train"].column_names) == {
        "prompt",
        "target",
        "thought",
        "instance_id",
        "trajectory_id",
        "step_index",
        "num_steps",
        "tool",
        "tool_specs",
    }
    saved = json.loads((out / "stats.json").read_text())
    assert saved["total_instances"] == 38
    assert saved["tools"]["bash"] == 24  # 9 pandas + 5 marshmallow (find_file translated) + 10 mini
    assert saved["prompt_chars"]["p50"] > 0


def test_empty_split_still_writes_loadable_files(pandas, tmp_path):
    import pyarrow.parquet as pq

    build_step_dataset([pandas], tmp_path, StepOptions(validation_fraction=0.0))
    assert pq.read_table(tmp_path / "validation.parquet").num_rows == 0
    assert (tmp_path / "validation.jsonl").read_text() == ""


def test_cli_steps_build(fixtures_dir, tmp_path):
    out = tmp_path / "out"
    args = ["steps", "build", str(fixtures_dir), "--out", str(out), "--tool", "bash", "--tool", "submit"]
    result = CliRunner().invoke(app, [*args, "--obs-budget", "300", "--val-fraction", "0", "--list-earlier"])
    assert result.exit_code == 0, result.output
    rows = _rows(out / "train.jsonl")
    assert len(rows) == 24 + 3
    assert {r["tool"] for r in rows} == {"bash", "submit"}
    assert any("characters truncated" in m["content"] for r in rows for m in r["prompt"])
    assert "Step instances" in result.output and "prompt chars" in result.output
    assert json.loads((out / "stats.json").read_text())["instances"] == {"train": 27}
