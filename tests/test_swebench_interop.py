"""Our grader agrees with swebench's own harness (``run_evaluation`` on locally built images).

A handful of instances keeps this test near a minute; ``benchmarks/bench_eval.py --swebench`` and
``swe-srl images build bundled --export FILE`` cover the whole suite.
"""

from __future__ import annotations

import json
import os

import pytest

from swe_srl.eval.grader import APPLY_COMMANDS, SandboxGrader
from swe_srl.eval.images import build_suite_images, with_image
from swe_srl.eval.patches import patch_from_edits
from swe_srl.eval.swebench_export import export_dataset, run_official_evaluation, write_predictions_file
from swe_srl.tasks import load_tasks

INSTANCES = 3


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("swebench")
    tasks = load_tasks("bundled")[:INSTANCES]
    ids = tuple(t.instance_id for t in tasks)
    build_suite_images("bundled", instances=ids)
    tasks = [with_image(t, "bundled") for t in tasks]
    dataset = export_dataset(tasks, tmp / "dataset.jsonl")
    return tmp, tasks, dataset


def _unrelated(task) -> str:
    return patch_from_edits(task, {"NOTES.txt": "an unrelated change\n"})


@pytest.mark.docker
@pytest.mark.slow
def test_patches_are_applied_with_swebenchs_chain_of_commands():
    from swebench.harness.run_evaluation import GIT_APPLY_CMDS

    assert list(APPLY_COMMANDS) == list(GIT_APPLY_CMDS)


def test_dataset_rows_have_the_swebench5_fields(exported):
    _, tasks, dataset = exported
    rows = [json.loads(line) for line in dataset.read_text().splitlines()]
    assert [r["instance_id"] for r in rows] == [t.instance_id for t in tasks]
    for row in rows:
        assert row["image"].startswith("swe-srl/bundled.") and row["image"].endswith(":latest")
        assert row["log_parser"] == "parse_log_pytest" and row["eval_type"] == "pass_and_fail"
        assert ">>>>> Start Test Output" in row["eval_script"] and len(row["base_commit"]) == 40


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gold", "empty", "unrelated"])
def test_our_grader_agrees_with_swebench(exported, kind):
    tmp, tasks, dataset = exported
    make = {"gold": lambda t: t.patch, "empty": lambda t: "", "unrelated": _unrelated}[kind]
    patches = {t.instance_id: make(t) for t in tasks}
    predictions = write_predictions_file(tmp / f"{kind}.jsonl", patches, kind)
    official = run_official_evaluation(
        dataset, predictions, tmp / f"run-{kind}", run_id=f"{kind}-{os.getpid()}", workers=len(tasks)
    )
    grader = SandboxGrader("docker", test_timeout=120)
    ours = {t.instance_id: grader.grade(t, patches[t.instance_id]).resolved for t in tasks}
    assert ours == official
    assert set(official.values()) == {kind == "gold"}
