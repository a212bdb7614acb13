"""Export a suite as a swebench 5.x dataset and grade predictions with swebench's own harness.

``export_dataset`` writes JSONL rows with the SWE-bench fields plus what swebench 5.x needs to
evaluate without building anything: ``image`` (our per-task image, ``images.py``), ``eval_script``
(the same script our grader runs, ``evalscript.py``), ``log_parser`` (a ``PARSER_REGISTRY`` key)
and ``eval_type``.

``run_official_evaluation`` runs ``swebench.harness.run_evaluation.main`` on that file, in a child
process whose working directory holds swebench's ``logs/``. Two adaptations, both outside
swebench's grading logic: its Docker client is wrapped so every container it creates has
``network_mode="none"`` (this machine has no bridge network, and evaluation needs none), and the
images already exist locally, so nothing is pulled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from swe_srl.eval.evalscript import build_eval_script
from swe_srl.eval.testspec import TestRunSpec, swebench_eval_type, swebench_log_parser
from swe_srl.records import Task

DEFAULT_TIMEOUT = 300


def dataset_row(task: Task, *, base_commit: str = "", timeout: float = DEFAULT_TIMEOUT) -> dict:
    """One swebench 5.x dataset row for ``task`` (``task.image`` must name its built image)."""
    return {
        "repo": task.repo,
        "instance_id": task.instance_id,
        "base_commit": base_commit or task.base_commit,
        "patch": task.patch,
        "test_patch": task.test_patch,
        "problem_statement": task.problem_statement,
        "hints_text": "",
        "created_at": "",
        "version": task.version or "0",
        "FAIL_TO_PASS": list(task.FAIL_TO_PASS),
        "PASS_TO_PASS": list(task.PASS_TO_PASS),
        "environment_setup_commit": base_commit or task.base_commit,
        "image": task.image,
        "eval_script": build_eval_script(TestRunSpec.from_task(task, timeout=timeout)),
        "log_parser": swebench_log_parser(task.log_parser),
        "eval_type": swebench_eval_type(task.eval_type),
    }


def export_dataset(tasks: list[Task], path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Write ``tasks`` as a swebench dataset JSONL file (base commits computed from the sources)."""
    from swe_srl.sandbox.workspace import base_commit_of

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for task in tasks:
            row = dataset_row(task, base_commit=base_commit_of(task), timeout=timeout)
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def write_predictions_file(path: Path, patches: dict[str, str], model: str) -> Path:
    with Path(path).open("w", encoding="utf-8") as handle:
        for instance_id, patch in patches.items():
            row = {"instance_id": instance_id, "model_name_or_path": model, "model_patch": patch}
            handle.write(json.dumps(row) + "\n")
    return Path(path)


def _no_network_client():
    """A real docker client whose ``containers.create`` always passes ``network_mode="none"``."""
    import docker

    client = docker.from_env(timeout=1800)
    create = client.containers.create

    def create_without_network(*args, **kwargs):
        kwargs["network_mode"] = "none"
        return create(*args, **kwargs)

    client.containers.create = create_without_network
    return client


def _child_main(dataset: str, predictions: str, run_id: str, workers: int, timeout: int) -> None:
    """Entry point of the child process: swebench's ``main`` with the no-network client."""
    from swebench.harness import run_evaluation

    run_evaluation._docker_client = _no_network_client
    run_evaluation.main(
        dataset_name=dataset,
        split="test",
        instance_ids=[],
        predictions_path=predictions,
        max_workers=workers,
        open_file_limit=4096,
        run_id=run_id,
        timeout=timeout,
        rewrite_reports=False,
        modal=False,
        report_dir=".",
    )


def run_official_evaluation(
    dataset: Path,
    predictions: Path,
    workdir: Path,
    *,
    run_id: str = "swe-srl",
    workers: int = 1,
    timeout: int = DEFAULT_TIMEOUT,
) -> dict[str, bool]:
    """Run swebench's evaluation; return ``{instance_id: resolved}`` from its per-instance reports.

    Instances swebench did not grade (empty patches, errors) are absent from its reports and
    come back as ``False``, as swebench's run report counts them.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys; from swe_srl.eval.swebench_export import _child_main; "
        "_child_main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))"
    )
    argv = [sys.executable, "-c", code, str(Path(dataset).resolve()), str(Path(predictions).resolve()),
            run_id, str(workers), str(timeout)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"swebench evaluation failed: {proc.stderr[-3000:]}")
    ids = [
        json.loads(line)["instance_id"] for line in Path(predictions).read_text().splitlines() if line.strip()
    ]
    verdicts = {i: False for i in ids}
    for report in (workdir / "logs" / "run_evaluation" / run_id).glob("*/*/report.json"):
        for instance_id, entry in json.loads(report.read_text()).items():
            verdicts[instance_id] = bool(entry.get("resolved"))
    return verdicts
