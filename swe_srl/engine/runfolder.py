"""A run folder records what made it (``run.json``), so a resume cannot mix different runs.

``run.json`` holds the run's *identity* (the command, suite and a digest of its tasks, the policy and
every option that changes a verdict) and, for information, the settings that do not (workers,
executor, sandbox, budgets). A rerun into the same folder resumes only when the identity matches;
otherwise it is refused before anything runs, unless ``--force-new`` moves the old run's files
aside (into ``superseded/<time>/``, nothing is deleted) or another ``--out`` is chosen. A folder
from before ``run.json`` existed is resumed as it is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from swe_srl.context import DEFAULT_CONTEXT, ContextConfig
from swe_srl.engine.preflight import PreflightError
from swe_srl.records import Task

RUN_FILE = "run.json"
SUPERSEDED = "superseded"


def task_fingerprint(task: Task) -> str:
    """A hash of what a task's episode and grade depend on (a changed task gives a new one)."""
    parts = (
        task.problem_statement,
        task.patch,
        task.test_patch,
        task.setup_patch,
        *task.FAIL_TO_PASS,
        "|",
        *task.PASS_TO_PASS,
    )
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


def context_identity(context: ContextConfig) -> dict[str, Any]:
    """The prompt context's part of a run's identity: nothing for the default (so folders written
    before the context options existed still resume), else every field."""
    return {} if context == DEFAULT_CONTEXT else {"context": dataclasses.asdict(context)}


def suite_digest(tasks: Iterable[Task], broken: Iterable[str] = ()) -> str:
    """A hash of a suite's tasks (and of the ids of its malformed rows)."""
    items = sorted(f"{t.instance_id}:{task_fingerprint(t)}" for t in tasks) + sorted(f"!{b}" for b in broken)
    return hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()[:16]


def _describe(identity: dict[str, Any], old: dict[str, Any]) -> str:
    changed = [k for k in sorted(set(identity) | set(old)) if identity.get(k) != old.get(k)]
    return "; ".join(f"{k}: {old.get(k)!r} then, {identity.get(k)!r} now" for k in changed)


def check_run_folder(
    out: Path, identity: dict[str, Any], *, force_new: bool, run_file: str = RUN_FILE
) -> None:
    """Refuse to resume ``out`` with a different identity (unless ``force_new``); writes nothing."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PreflightError(f"--out {out}: exists and is not a folder")
    record = out / run_file
    if force_new or not record.exists():
        return
    try:
        old = json.loads(record.read_text(encoding="utf-8")).get("identity", {})
    except (OSError, ValueError, AttributeError) as err:
        raise PreflightError(f"--out {out}: {run_file} is unreadable ({err}); pass --force-new") from None
    if old != identity:
        raise PreflightError(
            f"--out {out} holds a different run ({_describe(identity, old)}); rerun with its options to "
            f"resume it, pass --force-new to start over there (its files move to {out}/{SUPERSEDED}/), "
            "or choose another --out"
        )


def open_run_folder(
    out: Path,
    identity: dict[str, Any],
    settings: dict[str, Any],
    *,
    force_new: bool,
    run_files: tuple[str, ...],
    run_file: str = RUN_FILE,
) -> Path:
    """Create ``out`` (moving an old run aside with ``force_new``) and write the run record.

    ``run_files`` are the glob patterns of the run's own files (what ``force_new`` moves aside).
    """
    from swe_srl.eval.report import write_json_atomic

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if force_new:
        _supersede(out, (*run_files, run_file))
    previous: dict[str, Any] = {}
    if (out / run_file).exists():
        previous = json.loads((out / run_file).read_text(encoding="utf-8"))
    started = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **settings}
    invocations = [*previous.get("invocations", []), started]
    write_json_atomic(out / run_file, {"identity": identity, "invocations": invocations})
    return out


def _supersede(out: Path, patterns: tuple[str, ...]) -> None:
    present = sorted({path for pattern in patterns for path in out.glob(pattern)})
    if not present:
        return
    aside = out / SUPERSEDED / time.strftime("%Y%m%d-%H%M%S")
    aside.mkdir(parents=True, exist_ok=True)
    for path in present:
        shutil.move(str(path), aside / path.name)
