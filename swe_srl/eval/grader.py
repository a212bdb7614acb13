"""Grade a model patch for a task the way SWE-bench does, in a fresh sandbox, unforgeably.

Steps (each in the task's sandbox, at the base commit):

1. reject binary patches (``patch_failed``); an empty patch is ``unresolved`` without running tests;
   audit the patch text (``audit.py``): findings travel with the result, whatever the verdict;
2. apply the model patch with swebench's chain of commands (plain ``git apply``, ``--3way``,
   ``--reject``, then ``patch --fuzz=5``), from a clean tree each time; when all refuse, the status is
   ``patch_failed`` with git's reason. Deliberate differences from swebench: ``patch`` never gets a
   patch that names a path inside ``.git`` (after C-unquoting), it runs while ``.git`` is moved to a
   name the patch cannot know, and its result is refused when it created ``.git`` or a symlink into
   it; packaging metadata the patch adds (``*.dist-info``, ``entry_points.txt``, ``*.pth``) is removed;
3. run the task's tests with the one test runner (``testrun.py``): test infrastructure restored,
   test patch applied, pytest through the grader's launcher with canary tests, results read from the
   command's own output stream after every process in the sandbox is killed;
4. grade with swebench's report functions (``logs.py``): ``resolved`` iff every FAIL_TO_PASS test
   passes and every PASS_TO_PASS test is maintained; ``tampered`` when the canaries or the record
   stream show forced results.

``SandboxGrader(kind)`` satisfies the environment's ``Grader`` protocol (``grade(task, patch)``);
with ``log_dir`` it keeps each task's ``test_output.txt`` there and names it in the result.
"""

from __future__ import annotations

import dataclasses
import secrets
import shlex
import time
from collections.abc import Callable
from pathlib import Path

from swe_srl.eval.audit import audit_patch, metadata_paths, touches_git_dir
from swe_srl.eval.evalscript import GIT, GRADE_DIR
from swe_srl.eval.logs import grade_statuses
from swe_srl.eval.testrun import RUN_OUTPUT_LIMIT, TestRun, run_tests
from swe_srl.eval.testspec import DEFAULT_TIMEOUT, TestRunSpec
from swe_srl.records import EvalResult, Task
from swe_srl.sandbox.base import PATCH_LIMIT_BYTES, Sandbox, is_truncated_patch

DEFAULT_TEST_TIMEOUT = DEFAULT_TIMEOUT
# swebench's harness (``run_evaluation.GIT_APPLY_CMDS``) tries these in order, so a patch counts as
# applied here exactly when it would there; tests/test_swebench_interop.py checks the lists match.
APPLY_COMMANDS = (
    "git apply --verbose",
    "git apply --verbose --3way",
    "git apply --verbose --reject",
    "patch --batch --forward --fuzz=5 -p1 -i",
)
_HIDDEN_GIT = ".git-swe-srl-"
_REFUSED = 99


def _clean_tree(hidden: str) -> str:
    """Undo a failed attempt: partial edits, unmerged index entries, and the index lock git 2.39's
    ``apply --3way`` can leave on a malformed patch (nothing else runs here). ``.git`` comes back
    from this attempt's hidden name only (a patch can create other ``.git-swe-srl-*`` folders)."""
    return (
        f"if [ ! -e .git ] && [ -d {hidden} ]; then mv {hidden} .git; fi; "
        f"rm -f .git/index.lock && {GIT} reset -q --hard && {GIT} clean -q -fd"
    )


SandboxFactory = Callable[[Task], Sandbox]


def oversized_patch_reason(patch: str) -> str:
    """Why ``patch`` is too large to grade ("" when it is not): a cut diff must never be applied."""
    limit = f"{PATCH_LIMIT_BYTES >> 20} MiB"
    if is_truncated_patch(patch):
        return f"the workspace's diff was larger than the sandbox's {limit} limit and was cut; not graded"
    if len(patch.encode("utf-8", errors="surrogatepass")) > PATCH_LIMIT_BYTES:
        return f"the patch is larger than {limit}; not graded"
    return ""


def unencodable_patch_reason(patch: str) -> str:
    """Why ``patch`` cannot be written as UTF-8 text ("" when it can): a model's reply decoded from
    JSON can hold a lone surrogate (``"\\ud800"``), which no file can."""
    try:
        patch.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"the patch is not UTF-8 text: {err.reason} at character {err.start}"
    return ""


def binary_patch_reason(patch: str) -> str:
    """Why ``patch`` cannot be graded as text ("" when it can)."""
    for line in patch.splitlines():
        if line.startswith("GIT binary patch") or (
            line.startswith("Binary files ") and line.endswith(" differ")
        ):
            return "binary patches are not supported"
    return ""


def _result(task: Task, patch: str, start: float, status: str, reason: str = "", **kw) -> EvalResult:
    return EvalResult(
        instance_id=task.instance_id,
        status=status,
        resolved=status == "resolved",
        reason=reason,
        model_patch=patch,
        duration=round(time.monotonic() - start, 3),
        **kw,
    )


def _patch_fallback(diff: str, hidden: str) -> str:
    """GNU patch with ``.git`` out of its reach: moved to ``hidden`` for the duration, and the
    result refused when the patch made a new ``.git`` or left a symlink that resolves into it."""
    moved_diff = diff.replace("/testbed/.git/", f"/testbed/{hidden}/", 1)
    return (
        f"mv .git {hidden} || exit 1\n"
        f"{APPLY_COMMANDS[-1]} {moved_diff}; rc=$?\n"
        f"if [ -e .git ] || [ -L .git ]; then rm -rf .git; rc={_REFUSED}; fi\n"
        f"mv {hidden} .git\n"
        "while IFS= read -r -d '' link; do\n"
        '  case "$(realpath -m -- "$link")" in /testbed/.git|/testbed/.git/*) rc=' + f"{_REFUSED};; esac\n"
        "done < <(find . -path ./.git -prune -o -type l -print0)\n"
        "exit $rc"
    )


def apply_model_patch(sandbox: Sandbox, patch: str) -> str:
    """Apply ``patch`` in ``/testbed`` (at the base commit); return git's complaint, "" on success.

    On failure the tree is left clean, as it was.
    """
    if not patch.endswith("\n"):
        patch += "\n"  # git apply calls a patch without its final newline corrupt
    sandbox.run(f"mkdir -p {GRADE_DIR}", timeout=30)
    diff = f"{GRADE_DIR}/model.diff"
    sandbox.write_file(diff, patch)
    complaint = ""
    commands = APPLY_COMMANDS if not touches_git_dir(patch) else APPLY_COMMANDS[:-1]
    hidden = f"{_HIDDEN_GIT}{secrets.token_hex(8)}"
    for attempt, command in enumerate(commands):
        if attempt:
            sandbox.run(_clean_tree(hidden), timeout=120)
        if command.startswith("patch "):
            result = sandbox.run(_patch_fallback(diff, hidden), timeout=120)
            if result.exit_code == _REFUSED:
                complaint = "patch: refused, the patch writes inside .git"
                break
        else:
            result = sandbox.run(f"{GIT} {command.removeprefix('git ')} {diff}", timeout=120)
        if result.exit_code == 0:
            return ""
        if not attempt:  # plain git apply explains best what is wrong with the patch
            complaint = result.output.strip() or f"git apply exited with status {result.exit_code}"
    sandbox.run(_clean_tree(hidden), timeout=120)
    if sandbox.run(f"{GIT} apply --check --reverse {diff}", timeout=120).exit_code == 0:
        return ""  # swebench counts a patch whose changes are already there as applied
    return complaint


def remove_packaging_metadata(sandbox: Sandbox, patch: str) -> None:
    """Remove the ``*.dist-info`` / ``entry_points.txt`` / ``*.pth`` files the patch added."""
    paths = [p for p in metadata_paths(patch) if not p.startswith("/") and ".." not in p.split("/")]
    if paths:
        sandbox.run("rm -rf -- " + " ".join(shlex.quote(p) for p in paths), timeout=60)


def grade_in_sandbox(
    sandbox: Sandbox, task: Task, patch: str, *, timeout: float = DEFAULT_TEST_TIMEOUT
) -> tuple[EvalResult, TestRun | None]:
    """Grade ``patch`` in ``sandbox``, which must hold the task's base commit untouched."""
    start = time.monotonic()
    audit = list(audit_patch(patch))
    why = apply_model_patch(sandbox, patch)
    if why:
        return _result(task, patch, start, "patch_failed", f"git apply: {why}", audit=audit), None
    remove_packaging_metadata(sandbox, patch)
    run = run_tests(sandbox, TestRunSpec.from_task(task, timeout=timeout))
    grade = grade_statuses(task, run.statuses)
    return _result(task, patch, start, grade.status, grade.reason, tests=grade.tests, audit=audit), run


def default_sandbox_factory(kind: str) -> SandboxFactory:
    def factory(task: Task) -> Sandbox:
        from swe_srl.sandbox import make_sandbox

        return make_sandbox(kind, task, output_limit=RUN_OUTPUT_LIMIT)

    return factory


def safe_name(instance_id: str) -> str:
    """``instance_id`` as a file or folder name."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in instance_id)


class SandboxGrader:
    """Grades patches in a fresh sandbox of ``kind`` ("local" or "docker") per call.

    ``log_dir``: keep each task's test log as ``<log_dir>/<instance>/test_output.txt``; the result's
    ``log`` field names it relative to ``log_dir``'s parent (the run folder).
    """

    def __init__(
        self,
        kind: str = "local",
        *,
        test_timeout: float = DEFAULT_TEST_TIMEOUT,
        sandbox_factory: SandboxFactory | None = None,
        log_dir: Path | None = None,
    ):
        self.kind = kind
        self.test_timeout = test_timeout
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self._factory = sandbox_factory or default_sandbox_factory(kind)

    def _keep_log(self, result: EvalResult, run: TestRun | None) -> EvalResult:
        if self.log_dir is None or run is None:
            return result
        path = self.log_dir / safe_name(result.instance_id) / "test_output.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(run.log, encoding="utf-8", errors="replace")
        return dataclasses.replace(result, log=str(path.relative_to(self.log_dir.parent)))

    def grade(self, task: Task, patch: str) -> EvalResult:
        start = time.monotonic()
        patch = patch or ""
        if not patch.strip():
            return _result(task, patch, start, "unresolved", "empty patch")
        why = oversized_patch_reason(patch) or unencodable_patch_reason(patch) or binary_patch_reason(patch)
        if why:
            return _result(task, patch, start, "patch_failed", why, audit=list(audit_patch(patch)))
        try:
            sandbox = self._factory(task)
        except Exception as err:
            return _result(
                task, patch, start, "error", f"sandbox failed to start: {type(err).__name__}: {err}"
            )
        try:
            with sandbox:
                result, run = grade_in_sandbox(sandbox, task, patch, timeout=self.test_timeout)
        except Exception as err:
            return _result(task, patch, start, "error", f"grading failed: {type(err).__name__}: {err}")
        return self._keep_log(result, run)
