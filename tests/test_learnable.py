"""steps check / steps build: every instance learnable, token counts and limits, nothing dropped silently."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swe_srl.cli import app
from swe_srl.context import TokenCounter
from swe_srl.records import Action, Step, Trajectory
from swe_srl.train.tiny_model import train_tokenizer
from swe_srl.trajectories.importers import import_paths
from swe_srl.trajectories.learnable import (
    DUPLICATE,
    EMPTY_TARGET,
    TARGET_NOT_EXACT,
    TOOL_NOT_DESCRIBED,
    check_instances,
    learnability_problems,
)
from swe_srl.trajectories.step_writer import iter_step_instances
from swe_srl.trajectories.steps import StepOptions, build_step_dataset, step_instances

LEGACY = Path(__file__).parent / "fixtures" / "sweagent-0.x"


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory, fixtures_dir) -> Path:
    corpus = [path.read_text(errors="replace") for path in sorted(fixtures_dir.iterdir())]
    tokenizer = train_tokenizer(corpus, vocab_size=600)
    out = tmp_path_factory.mktemp("tokenizer")
    tokenizer.save_pretrained(out)
    return out


def _broken() -> Trajectory:
    """A trajectory with an unlearnable step of each kind."""
    steps = [
        Step("look", Action("bash", {"command": "ls"}), "a.py"),
        Step("nothing", Action("bash", {"command": "   "}), "x"),  # empty target
        Step("grep it", Action("grep", {"pattern": "x"}), "y"),  # a tool nobody offered
        Step("done", Action("submit"), "diff"),
    ]
    return Trajectory("repo__x-1", "swe-srl", "m", "Fix x.", steps, metadata={"trajectory_id": "broken"})


def test_problems_of_unlearnable_instances():
    instances = list(step_instances(_broken()))
    assert [learnability_problems(i) for i in instances] == [
        [],
        [EMPTY_TARGET],
        [TARGET_NOT_EXACT, TOOL_NOT_DESCRIBED],
        [],
    ]


def test_all_real_fixtures_are_learnable(fixtures_dir):
    trajectories = [*import_paths([fixtures_dir]), *import_paths([LEGACY])]
    report = check_instances((t.instance_id, i) for t in trajectories for i in step_instances(t))
    assert report.instances == 17 + 11 + 10 + 12
    assert report.learnable == report.instances and not report.problems
    shares = report.to_dict()["tool_share"]
    assert shares["bash"] == report.tools["bash"] / report.instances and abs(sum(shares.values()) - 1) < 1e-9


def test_build_enforces_learnability_and_token_limit(fixtures_dir, tokenizer_dir, tmp_path):
    counter = TokenCounter.from_path(tokenizer_dir)
    trajectories = [*import_paths([fixtures_dir]), _broken()]
    lengths = [counter.messages(i.prompt) for t in trajectories for i in step_instances(t)]
    limit = sorted(lengths)[len(lengths) // 2]  # half the prompts are over it
    options = StepOptions(validation_fraction=0.0, learnable_only=True, max_prompt_tokens=limit)
    stats = build_step_dataset(trajectories, tmp_path, options, counter=counter, skipped=["bad line"])
    saved = json.loads((tmp_path / "stats.json").read_text())
    assert saved["dropped"][EMPTY_TARGET] == 1 and saved["dropped"][TARGET_NOT_EXACT] == 1
    assert saved["unlearnable"] == {EMPTY_TARGET: 1, TARGET_NOT_EXACT: 1, TOOL_NOT_DESCRIBED: 1}
    assert saved["trimmed"] > 0 and saved["observations_trimmed"] >= saved["trimmed"]
    dropped_long = saved["dropped"].get("prompt_too_long", 0)
    written = list(iter_step_instances(tmp_path))
    assert len(written) == stats.total_instances == len(lengths) - 2 - dropped_long - stats.duplicates
    assert all(counter.messages(i.prompt) <= limit for _, i in written)
    assert saved["skipped_records"] == 1 and saved["skipped_examples"] == ["bad line"]
    report = check_instances(written, counter, limit)
    assert report.learnable == report.instances and report.over_limit == 0


def test_cli_check_reports_and_fails_on_unlearnable(fixtures_dir, tokenizer_dir, tmp_path):
    runner = CliRunner()
    native = tmp_path / "in" / "broken.traj.json"
    native.parent.mkdir()
    native.write_text(json.dumps(_broken().to_dict()))
    out = tmp_path / "steps"
    build = [
        "steps",
        "build",
        str(fixtures_dir),
        str(native.parent),
        "--out",
        str(out),
        "--val-fraction",
        "0",
    ]
    result = runner.invoke(app, build)
    assert result.exit_code == 0, result.output
    assert "unlearnable: empty_target" in result.output
    report_path = tmp_path / "check.json"
    check = ["steps", "check", str(out), "--tokenizer", str(tokenizer_dir), "--json", str(report_path)]
    result = runner.invoke(app, [*check, "--max-prompt-tokens", "100000"])
    assert result.exit_code == 1, result.output  # two unlearnable instances were kept
    report = json.loads(report_path.read_text())
    assert report["instances"] == 38 + 4 and report["learnable"] == 40
    assert report["problems"] == {EMPTY_TARGET: 1, TARGET_NOT_EXACT: 1, TOOL_NOT_DESCRIBED: 1}
    assert "broken" not in report["examples"][EMPTY_TARGET] and "train." in report["examples"][EMPTY_TARGET]
    assert report["prompt_tokens"]["max"] > report["target_tokens"]["max"] > 0
    assert report["over_limit"] == 0
    result = runner.invoke(app, [*build, "--learnable-only", "--out", str(tmp_path / "clean")])
    assert result.exit_code == 0, result.output
    clean = tmp_path / "clean"
    assert runner.invoke(app, ["steps", "check", str(clean)]).exit_code == 0
    result = runner.invoke(
        app, ["steps", "build", str(fixtures_dir), "--out", str(tmp_path / "x"), "--max-prompt-tokens", "10"]
    )
    assert result.exit_code == 2 and "needs --tokenizer" in result.output  # a usage error


def test_duplicates_are_reported(fixtures_dir):
    pandas = next(import_paths([fixtures_dir / "swesmith_pandas_53856.traj"]))
    twin = dataclasses.replace(pandas, metadata={**pandas.metadata, "trajectory_id": "twin"})
    report = check_instances(("x", i) for t in (pandas, twin) for i in step_instances(t))
    assert report.problems[DUPLICATE] == 17 and report.learnable == 34


def test_malformed_step_rows_name_file_row_and_field(tmp_path):
    (tmp_path / "train.jsonl").write_text(
        json.dumps({"prompt": "text", "target": "x", "tool": "bash"}) + "\n"
    )
    with pytest.raises(Exception, match=r"train.jsonl.*line 1.*'prompt'"):
        list(iter_step_instances(tmp_path))
