"""Make patches against a task's base commit from file edits, with real git.

Used to turn edits into a model patch (the oracle setting's answers, grading tests' crafted
patches): the files are written into a scratch clone of the prepared base repository and
``git diff`` produces the patch, so it always applies with ``git apply``.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from swe_srl.records import Task


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout


def patch_from_edits(task: Task, edits: dict[str, str | None]) -> str:
    """The diff from the task's base to the base with ``edits`` (path -> new text, None deletes)."""
    from swe_srl.sandbox.workspace import prepare_base_repo

    base = prepare_base_repo(task)
    with tempfile.TemporaryDirectory(prefix="swe-srl-patch-") as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(base), str(repo)], check=True, capture_output=True)
        for rel, text in edits.items():
            target = repo / rel
            if text is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        _git(repo, "add", "-A")
        return _git(repo, "diff", "--cached", "HEAD")


def base_file(task: Task, rel: str) -> str:
    """The text of ``rel`` at the task's base commit."""
    from swe_srl.sandbox.workspace import prepare_base_repo

    return _git(prepare_base_repo(task), "show", f"HEAD:{rel}")


def naive_status_map(task: Task, patch: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """Test statuses a grader *without* this package's protections would read for ``patch``.

    Applies the patch and the test patch, runs the task's test command in the sandbox's own
    environment and parses all of its output with swebench's parser. Grading-exploit tests use it to
    show that an exploit really fools a naive grader before showing ``SandboxGrader`` is not fooled.
    """
    from swebench.harness.log_parsers import PARSER_REGISTRY

    from swe_srl.eval.testspec import TestRunSpec
    from swe_srl.sandbox.local import LocalSandbox

    spec = TestRunSpec.from_task(task)

    with LocalSandbox(task, env=env) as sandbox:
        for name, text in (("model", patch), ("test", task.test_patch)):
            sandbox.write_file(f"/testbed/.git/naive-{name}.diff", text)
            sandbox.run(f"git apply .git/naive-{name}.diff", timeout=60)
        output = sandbox.run(f"{task.test_cmd} {' '.join(spec.directives)}", timeout=120).output
    return PARSER_REGISTRY[spec.log_parser](output, None)
