"""``swe-srl demo``: stage bookkeeping (skip, resume, fail) and the fast pipeline end to end."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from swe_srl.cli import app
from swe_srl.demo import DemoConfig, DemoError, run_demo
from swe_srl.demo.runner import DemoContext, Stage, StageResult, check_mode, dependents, is_done, run_stage
from swe_srl.demo.stages import STAGES


def _ctx(tmp_path: Path) -> DemoContext:
    return DemoContext(DemoConfig.create(tmp_path / "out", fast=True), Console(record=True, width=200))


def _writer(calls: list[str]):
    def run(ctx: DemoContext) -> StageResult:
        calls.append("ran")
        out = ctx.path("thing")
        out.mkdir(parents=True, exist_ok=True)
        (out / "data.txt").write_text("x")
        return StageResult("wrote the thing", {"files": 1})

    return run


def test_finished_stage_is_skipped_until_its_output_goes(tmp_path):
    ctx, calls = _ctx(tmp_path), []
    stage = Stage("thing", "make a thing", _writer(calls), ("thing",))
    assert run_stage(ctx, stage, 1, 1).status == "ran"
    assert is_done(ctx, stage)
    marker = json.loads(ctx.path("stages", "thing.done.json").read_text())
    assert marker["summary"] == "wrote the thing" and marker["facts"] == {"files": 1}
    assert run_stage(ctx, stage, 1, 1).status == "skipped" and calls == ["ran"]
    shutil.rmtree(ctx.path("thing"))
    assert run_stage(ctx, stage, 1, 1).status == "ran" and calls == ["ran", "ran"]


def test_failed_stage_stops_with_its_name_and_a_rerun_starts_clean(tmp_path):
    ctx = _ctx(tmp_path)

    def broken(ctx: DemoContext) -> StageResult:
        (ctx.path("half") / "partial.txt").parent.mkdir(parents=True, exist_ok=True)
        (ctx.path("half") / "partial.txt").write_text("half written")
        raise ValueError("the disk is full")

    with pytest.raises(
        DemoError, match=r"stage 2/3 'half' \(half a thing\) failed: ValueError: the disk is full"
    ):
        run_stage(ctx, Stage("half", "half a thing", broken, ("half",)), 2, 3)
    assert json.loads(ctx.path("stages", "half.failed.json").read_text())["error"].endswith(
        "the disk is full"
    )
    assert not ctx.path("stages", "half.done.json").exists()

    def fixed(ctx: DemoContext) -> StageResult:
        assert not ctx.path("half").exists()  # the partial output was removed first
        ctx.path("half").mkdir()
        return StageResult("done")

    assert run_stage(ctx, Stage("half", "half a thing", fixed, ("half",)), 2, 3).status == "ran"
    assert not ctx.path("stages", "half.failed.json").exists()


def test_quiet_stage_output_goes_to_its_log(tmp_path, capsys):
    ctx = _ctx(tmp_path)

    def noisy(ctx: DemoContext) -> StageResult:
        print("step 1 loss 2.0")
        ctx.path("noisy").mkdir()
        return StageResult("ok")

    run_stage(ctx, Stage("noisy", "noisy", noisy, ("noisy",), quiet=True), 1, 1)
    assert "loss" not in capsys.readouterr().out
    assert "step 1 loss 2.0" in ctx.path("logs", "noisy.log").read_text()


def test_one_output_folder_holds_one_mode(tmp_path):
    check_mode(DemoConfig.create(tmp_path, fast=True))
    check_mode(DemoConfig.create(tmp_path, fast=True))
    with pytest.raises(DemoError, match="use another --out"):
        check_mode(DemoConfig.create(tmp_path, fast=False))


def test_a_rerun_stage_redoes_what_reads_its_outputs():
    by_name = {s.name: s for s in STAGES}
    assert [s.name for s in dependents(by_name["sft"], STAGES)] == ["srl", "score", "eval-trained", "report"]
    assert [s.name for s in dependents(by_name["eval-gold"], STAGES)] == ["report"]
    assert dependents(by_name["report"], STAGES) == []


def test_downstream_outputs_go_when_a_stage_runs_again(tmp_path):
    ctx, calls = _ctx(tmp_path), []
    first = Stage("thing", "make a thing", _writer(calls), ("thing",))
    later = Stage(
        "later", "use the thing", lambda c: StageResult("used"), ("used.txt",), fresh=False, after=("thing",)
    )
    run_stage(ctx, first, 1, 2, downstream=[later])
    ctx.path("used.txt").write_text("made from the first thing")
    run_stage(ctx, later, 2, 2)
    assert is_done(ctx, later)
    shutil.rmtree(ctx.path("thing"))
    run_stage(ctx, first, 1, 2, downstream=[later])
    assert not is_done(ctx, later) and not ctx.path("used.txt").exists()


def _markers(out: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in (out / "stages").glob("*.done.json")}


@pytest.mark.slow
def test_fast_demo_end_to_end_then_resumes(tmp_path):
    out = tmp_path / "demo"
    empty = tmp_path / "no-trajectories"
    empty.mkdir()
    with pytest.raises(DemoError, match=rf"stage 2/{len(STAGES)} 'import'.*{re.escape(str(empty))}"):
        run_demo(DemoConfig.create(out, fast=True, trajectories=empty), Console(record=True))
    assert set(_markers(out)) == {"validate.done.json"}

    result = CliRunner().invoke(app, ["demo", "--fast", "--out", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "validate the tasks in the local sandbox: done before, skipped" in result.output
    assert set(_markers(out)) == {f"{s.name}.done.json" for s in STAGES}

    validation = [
        json.loads(line) for line in (out / "validate" / "validation.jsonl").read_text().splitlines()
    ]
    assert [v["valid"] for v in validation] == [True]
    assert len(list((out / "trajectories").glob("*.traj.json"))) >= 2
    assert (out / "steps" / "train.parquet").is_file() and (out / "steps" / "validation.parquet").is_file()
    assert (out / "models" / "tiny" / "config.json").is_file()
    for run in ("sft", "srl"):
        assert (out / "train" / run / "final" / "config.json").is_file()
        assert (out / "train" / run / "metrics.jsonl").stat().st_size > 0
    scored = [
        json.loads(line)
        for line in (out / "train" / "srl" / "heldout_rewards.jsonl").read_text().splitlines()
    ]
    assert {s["model"] for s in scored} == {"init", "sft", "srl"}
    assert all(-1.0 <= s["reward"] <= 1.0 for s in scored)
    rates = {
        p: json.loads((out / "eval" / p / "report.json").read_text()) for p in ("gold", "noop", "trained")
    }
    assert rates["gold"]["resolve_rate"] == 1.0 and rates["noop"]["resolve_rate"] == 0.0
    assert rates["trained"]["meta"]["policy"] == f"hf:{(out / 'train' / 'srl' / 'final').resolve()}"
    assert rates["trained"]["total"] == 1 and not rates["trained"]["errors"]
    page = (out / "report" / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5 and "Resolve rate" in page and "Training runs" in page
    assert "expected, honest result" in result.output
    replay = re.search(r"swe-srl replay (\S+) --compare (\S+)", result.output.replace("\n", " "))
    assert replay and "eval/trained/trajectories" in replay.group(1) and Path(replay.group(2)).is_file()

    before = _markers(out)
    again = CliRunner().invoke(app, ["demo", "--fast", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert again.output.count("done before, skipped") == len(STAGES)
    assert _markers(out) == before

    # A lost SRL run is trained again, and everything made from it is redone; nothing else is.
    shutil.rmtree(out / "train" / "srl")
    third = CliRunner().invoke(app, ["demo", "--fast", "--out", str(out)])
    assert third.exit_code == 0, third.output
    redone = {s.name for s in STAGES if not re.search(rf"\] {re.escape(s.title)}: done before", third.output)}
    assert redone == {"srl", "score", "eval-trained", "report"}
    assert json.loads((out / "eval" / "trained" / "report.json").read_text())["total"] == 1
