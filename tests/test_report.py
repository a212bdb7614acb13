"""``swe-srl report`` on real run folders: eval runs made by ``run_eval``, training runs written by
the trainers' own logging code, and folders holding several; bad folders fail naming the file."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from swe_srl.cli import app
from swe_srl.records import RecordError
from swe_srl.report import StepReward, collect, make_report, write_step_rewards
from swe_srl.report.groups import group_rates

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EASY = "swe-srl__semverkit-prerelease-numeric-order"
HARD = "swe-srl__semverkit-resolver-backtrack-leak"
OTHER_REPO = "swe-srl__spans-merge-ranges-contained"  # easy, in another repository


@pytest.fixture(scope="module")
def eval_runs(tmp_path_factory) -> Path:
    """A folder with two real eval runs (gold and noop) over three bundled tasks."""
    from swe_srl.eval.runner import EvalConfig, run_eval

    root = tmp_path_factory.mktemp("runs")
    for policy in ("gold", "noop"):
        config = EvalConfig(
            tasks="bundled", policy=policy, out=root / policy, workers=2, instances=(EASY, HARD, OTHER_REPO)
        )
        run_eval(config)
    return root


def _console() -> Console:
    return Console(record=True, width=250, color_system=None)


def _training_run(run: Path) -> Path:
    """A training run folder written by the trainers' own callbacks and scoring functions."""
    from transformers import TrainerState

    from swe_srl.jsonl import append_record
    from swe_srl.train.metrics import JsonlLogCallback, score_completions

    logger = JsonlLogCallback(run / "metrics.jsonl")
    expert = "<function=bash>\n<parameter=command>ls /testbed</parameter>\n</function>"
    for step, (loss, reward, kept) in enumerate(
        [(0.9, -0.6, 0.5), (0.7, -0.2, 0.75), (0.4, 0.3, 1.0)], start=1
    ):
        state = TrainerState(global_step=step)
        logs = {"loss": loss, "reward": reward, "dynamic_sampling/kept_fraction": kept, "learning_rate": 1e-4}
        logger.on_log(None, state, None, logs=logs)
        completions = ["no tool call", f"<think>look</think>\n{expert}"][: 1 + (step > 1)]
        metrics = score_completions(completions, [expert] * len(completions))
        # the record HeldOutEvalCallback writes (it generates the completions with the model first)
        append_record(run / "metrics.jsonl", {"kind": "eval", "step": step, "time": 0.0, **asdict(metrics)})
    write_step_rewards(
        run / "heldout_rewards.jsonl",
        [
            StepReward(m, "task-1", k, r)
            for m, rs in (("init", [-1.0, -1.0, 0.2]), ("srl", [1.0, 0.4, -1.0]))
            for k, r in enumerate(rs)
        ],
    )
    return run


def _check_pngs(paths) -> None:
    import matplotlib.image

    assert paths
    for path in paths:
        data = Path(path).read_bytes()
        assert data.startswith(PNG_SIGNATURE), path
        image = matplotlib.image.imread(path)  # decodes the whole file: a truncated PNG fails here
        assert image.shape[0] > 100 and image.shape[1] > 100


def _check_html(html: Path, pngs) -> str:
    page = html.read_text(encoding="utf-8")
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert sorted(base64.b64decode(e) for e in embedded) == sorted(Path(p).read_bytes() for p in pngs)
    assert not re.search(r"https?://|<link|<script|@import|url\(", page)
    assert re.findall(r'src="([^"]*)"', page) == [f"data:image/png;base64,{e}" for e in embedded]
    return page


def test_eval_run_report_tables_pngs_and_html(eval_runs, tmp_path):
    console = _console()
    files = make_report(eval_runs / "gold", tmp_path / "out", console=console)
    text = console.export_text()
    squeezed = re.sub(r"\s+", " ", text)
    assert "Resolve rate on suite bundled" in text
    assert "│ gold │ gold │ finished │ 3/3 │ 100.0% │ 43.9%-100.0% │" in squeezed  # resolved, rate, 95% CI
    assert "swe-srl/semverkit" in text and "swe-srl/spans" in text
    _check_pngs(files.pngs)
    assert {p.name for p in files.pngs} == {
        "eval_resolve_rate.png",
        "eval_by_repository.png",
        "eval_by_difficulty.png",
    }
    page = _check_html(files.html, files.pngs)
    assert "Resolve rate by difficulty" in page and "100.0%" in page


def test_per_repository_and_difficulty_come_from_the_suite(eval_runs):
    collection = collect(eval_runs)
    assert [r.label for r in collection.eval_runs] == ["gold", "noop"]
    gold, noop = collection.eval_runs
    assert gold.resolve_rate == 1.0 and noop.resolve_rate == 0.0
    by_difficulty = {g.group: (g.resolved, g.total) for g in group_rates(gold, "difficulty")}
    assert by_difficulty == {"easy": (2, 2), "hard": (1, 1)}
    assert [g.group for g in group_rates(noop, "difficulty")] == ["easy", "hard"]
    by_repo = {g.group: (g.resolved, g.total) for g in group_rates(noop, "repo")}
    assert by_repo == {"swe-srl/semverkit": (0, 2), "swe-srl/spans": (0, 1)}


def test_folder_of_runs_compares_them_side_by_side(eval_runs, tmp_path):
    console = _console()
    make_report(eval_runs, tmp_path / "out", console=console, html=False)
    text = console.export_text()
    row = next(line for line in text.splitlines() if line.strip().startswith("│ easy"))
    assert "2/2 (100.0%)" in row and "0/2 (0.0%)" in row
    assert not (tmp_path / "out" / "report.html").exists()


def test_unfinished_eval_run_is_summarised_from_results(eval_runs, tmp_path):
    run = tmp_path / "unfinished"
    shutil.copytree(eval_runs / "gold", run)
    (run / "report.json").unlink()
    (eval_run,) = collect(run).eval_runs
    assert not eval_run.complete and eval_run.total == 3 and eval_run.resolved == 3
    # run.json (written when the run started) still names its policy and how many tasks it was asked for
    assert eval_run.policy == "gold" and eval_run.state == "in progress: 3 of 3 done"
    assert any("in progress or stopped" in note for note in eval_run.notes)


def test_mid_run_report_is_marked_in_progress(eval_runs, tmp_path):
    """A run going on again: results newer than its report.json count as numbers so far, out of the
    tasks the run was asked for (its meta), never as a finished 100%."""
    run = tmp_path / "resumed"
    shutil.copytree(eval_runs / "gold", run)
    lines = (run / "results.jsonl").read_text().splitlines(keepends=True)
    (run / "results.jsonl").write_text("".join(lines[:2]))  # two of three tasks finished so far
    os.utime(run / "report.json", ns=(1, 1))
    (eval_run,) = collect(run).eval_runs
    assert eval_run.state == "in progress: 2 of 3 done" and eval_run.total == 2
    console = _console()
    make_report(run, tmp_path / "out", console=console, html=False)
    text = console.export_text()
    assert "in progress: 2 of 3 done" in text and "numbers so far" in text


def test_first_session_in_progress_counts_against_the_run_record(eval_runs, tmp_path):
    """No report.json yet: the run record written at the start names the suite, policy and tasks."""
    run = tmp_path / "first"
    shutil.copytree(eval_runs / "noop", run)
    (run / "report.json").unlink()
    record = {
        "identity": {"command": "eval", "tasks": "bundled", "policy": "noop"},
        "invocations": [
            {"started": "2026-01-01T00:00:00", "instances": str((EASY, HARD, OTHER_REPO, "more-1"))}
        ],
    }
    (run / "run.json").write_text(json.dumps(record))
    (eval_run,) = collect(run).eval_runs
    assert (eval_run.policy, eval_run.suite) == ("noop", "bundled")
    assert eval_run.state == "in progress: 3 of 4 done"


def test_infrastructure_errors_and_any_status_are_shown_apart(eval_runs, tmp_path):
    """Results carry whatever statuses the grader and the engine give them (a tampered patch, an
    infrastructure error with its cause): each is rendered, errors apart from the verdicts."""
    run = tmp_path / "mixed"
    shutil.copytree(eval_runs / "noop", run)
    (run / "report.json").unlink()
    extra = [
        {"instance_id": "x-tampered", "status": "tampered", "resolved": False},
        {"instance_id": "x-lost", "status": "error", "resolved": False, "cause": "sandbox", "reason": "died"},
    ]
    with (run / "results.jsonl").open("a") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in extra)
    (eval_run,) = collect(run).eval_runs
    assert (
        eval_run.verdicts == {"unresolved": 3, "tampered": 1}
        and sum(eval_run.infrastructure_errors.values()) == 1
    )
    console = _console()
    make_report(run, tmp_path / "out", console=console, html=False)
    squeezed = re.sub(r"\s+", " ", console.export_text())
    assert "tampered 1, unresolved 3 │ 1 (" in squeezed
    assert "error" in squeezed and "tampered (0 steps)" in squeezed


def test_report_of_several_runs(eval_runs, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(eval_runs, runs)
    files = make_report([runs / "gold", runs / "noop"], quiet=True, html=False)
    assert files.out == runs.resolve() / "report"  # the folder holding them all
    assert [r.label for r in files.collection.eval_runs] == ["gold", "noop"]
    result = CliRunner().invoke(
        app, ["report", str(runs / "gold"), str(runs / "noop"), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    squeezed = re.sub(r"\s+", " ", result.output)
    assert "│ gold │ gold │ finished │ 3/3 │" in squeezed and "│ noop │ noop │ finished │ 0/3 │" in squeezed


def test_training_run_report(tmp_path):
    run = _training_run(tmp_path / "srl")
    console = _console()
    files = make_report(run, tmp_path / "out", console=console)
    text = console.export_text()
    assert "Training runs" in text and "│ srl │ srl │ unfinished │" in re.sub(r" +", " ", text)
    assert "0.9 -> 0.4" in text and "-0.6 -> 0.3" in text  # loss and reward, first -> last
    assert "Held-out step rewards" in text and "srl: unfinished (no final model saved)" in text
    names = {p.name for p in files.pngs}
    assert {
        "train_loss.png",
        "train_reward.png",
        "train_kept_fraction.png",
        "heldout_step_reward.png",
        "heldout_step_reward_hist.png",
    } <= names
    _check_pngs(files.pngs)
    _check_html(files.html, files.pngs)
    (training,) = collect(run).training_runs
    assert training.series("mean_step_reward", held_out=True)[0] == (1, -1.0)
    assert training.series("exact_match_rate", held_out=True)[-1] == (3, 0.5)


def _sft_then_srl(tmp_path) -> Path:
    """An SFT run and an SRL run that starts from the SFT run's final model (its config.yaml says so)."""
    from swe_srl.jsonl import append_record
    from swe_srl.train.config import TrainConfig, save_config

    root = tmp_path / "chain"
    sft = root / "sft"
    (sft / "final").mkdir(parents=True)
    for step in range(1, 301, 50):
        append_record(sft / "metrics.jsonl", {"kind": "train", "step": step, "loss": 8.0 - step / 100})
    append_record(sft / "metrics.jsonl", {"kind": "eval", "step": 300, "mean_step_reward": 0.41})
    srl = _training_run(root / "srl")
    config = TrainConfig()
    config.model.path = str(sft / "final")
    save_config(config, srl / "config.yaml")
    return root


def test_sft_then_srl_chain_is_aligned_on_one_step_axis(tmp_path):
    from swe_srl.report.plots import HELD_OUT, QUANTITIES, quantity_figure

    root = _sft_then_srl(tmp_path)
    sft, srl = collect(root).training_runs
    assert (sft.method, srl.method) == ("sft", "srl") and (srl.offset, srl.after) == (300, "sft")
    assert srl.series("mean_step_reward", held_out=True, aligned=True)[0] == (301, -1.0)  # after SFT's 300
    loss = quantity_figure([sft, srl], QUANTITIES[0])
    assert [ax.get_title(loc="left") for ax in loss.axes] == ["SFT", "SRL"]  # one axis per method
    assert [ax.get_ylabel() for ax in loss.axes] == ["cross-entropy loss", "GRPO loss"]
    assert "optimizer step" in loss.axes[-1].get_xlabel()
    held_out = quantity_figure([sft, srl], HELD_OUT)
    (axis,) = held_out.axes
    assert axis.get_ylim() == (-1.05, 1.05) and axis.get_ylabel() == "mean SRL step reward"
    curves = [
        line for line in axis.get_lines() if not line.get_label().startswith("_")
    ]  # not the chain marker
    xs = sorted(int(x) for line in curves for x in line.get_xdata())
    assert xs == [300, 301, 302, 303]  # SFT's point, then SRL's, never to its left
    console = _console()
    make_report(root, tmp_path / "out", console=console, html=False)
    assert "301-303 (after sft)" in console.export_text()


def test_training_again_into_a_run_keeps_the_newest_session(tmp_path):
    run = _training_run(tmp_path / "again")
    from swe_srl.jsonl import append_record

    for step, loss in ((1, 5.0), (2, 4.0)):  # trained again from step 1 into the same folder
        append_record(run / "metrics.jsonl", {"kind": "train", "step": step, "loss": loss})
    (training,) = collect(run).training_runs
    assert training.series("loss") == [(1, 5.0), (2, 4.0)]


def test_trainer_state_only_run(tmp_path):
    from transformers import TrainerState

    state = TrainerState(global_step=2)
    state.log_history = [{"step": 1, "loss": 2.5}, {"step": 2, "loss": 1.5}, {"step": 2, "eval_loss": 1.9}]
    (tmp_path / "checkpoint-2").mkdir()
    state.save_to_json(str(tmp_path / "checkpoint-2" / "trainer_state.json"))
    (run,) = collect(tmp_path).training_runs
    assert run.series("loss") == [(1, 2.5), (2, 1.5)]
    assert run.series("loss", held_out=True) == [(2, 1.9)]


def test_torn_last_metrics_line_is_skipped(tmp_path):
    run = _training_run(tmp_path / "run")
    with (run / "metrics.jsonl").open("a") as handle:
        handle.write('{"kind": "train", "step": 4, "lo')
    (training,) = collect(run).training_runs
    assert [s for s, _ in training.series("loss")] == [1, 2, 3]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: None, "not a run directory"),
        (lambda d: (d / "report.json").write_text("{not json"), "report.json"),
        (lambda d: (d / "report.json").write_text('{"total": 1, "tasks": []}'), "field 'ci95'"),
        (lambda d: (d / "metrics.jsonl").write_text('{"step": 1}\nnope\n{"step": 2}\n'), "line 2"),
        (lambda d: (d / "metrics.jsonl").write_text('{"kind": "train"}\n'), "field 'step'"),
    ],
    ids=["empty", "bad-json", "missing-field", "bad-metrics-line", "metrics-no-step"],
)
def test_bad_run_dir_fails_naming_the_file(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(RecordError, match=re.escape(message)) as info:
        make_report(tmp_path, quiet=True)
    assert str(tmp_path) in str(info.value)


def test_bad_step_rewards_name_file_and_line(tmp_path):
    run = _training_run(tmp_path / "run")
    with (run / "heldout_rewards.jsonl").open("a") as handle:
        handle.write('{"model": "srl", "instance_id": "x", "step_index": 0, "reward": "high"}\n')
    with pytest.raises(RecordError, match=r"heldout_rewards.jsonl, record line 7, field 'reward'"):
        collect(run)


def test_cli_report_and_errors(eval_runs, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(eval_runs / "noop"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "Resolve rate" in result.output and (tmp_path / "r" / "report.html").is_file()
    missing = tmp_path / "missing"
    result = runner.invoke(app, ["report", str(missing)])
    assert result.exit_code == 2  # a missing input is a usage error (swe_srl.cli.errors)
    assert f"file {missing}: no such run directory" in result.output
    assert "Traceback" not in result.output
