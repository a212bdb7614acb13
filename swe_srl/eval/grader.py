"""Grade a model patch for a task the way SWE-bench does, in a fresh sandbox.

Steps (each in the task's sandbox, at the base commit):

1. reject binary patches (``patch_failed``); an empty patch is ``unresolved`` without running tests;
2. apply the model patch with swebench's chain of commands (plain ``git apply``, ``--3way``,
   ``--reject``, then ``patch --fuzz=5``), from a clean tree each time; when all refuse, the status is
   ``patch_failed`` with git's reason. One deliberate difference: ``patch`` never gets a patch that
   names a path inside ``.git`` (swebench's would apply it, planting hooks or git config);
3. run the evaluation script (``evalscript.py``): restore test infrastructure the patch touched,
   apply the test patch, run the FAIL_TO_PASS and PASS_TO_PASS test files in a clean environment
   under a timeout;
4. grade the output with swebench's parsers and report functions (``logs.py``): resolved iff every
   FAIL_TO_PASS and PASS_TO_PASS test passes.

An ``error`` that is not the patch's doing (a sandbox that fails, a test patch that does not apply)
carries a ``cause`` (``swe_srl.engine.taxonomy``); tests that hang or crash under the patch do not.

``SandboxGrader(kind)`` satisfies the environment's ``Grader`` protocol (``grade(task, patch)``).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

from swe_srl.eval.evalscript import build_eval_script
from swe_srl.eval.logs import grade_output
from swe_srl.records import EvalResult, Task
from swe_srl.sandbox.base import TESTBED, Sandbox

GRADE_DIR = f"{TESTBED}/.git/swe-srl-grade"  # inside .git: untracked, and git apply refuses to touch it
DEFAULT_TEST_TIMEOUT = 300.0
# swebench's harness (``run_evaluation.GIT_APPLY_CMDS``) tries these in order, so a patch counts as
# applied here exactly when it would there; tests/test_swebench_interop.py checks the lists match.
APPLY_COMMANDS = (
    "git apply --verbose",
    "git apply --verbose --3way",
    "git apply --verbose --reject",
    "patch --batch --forward --fuzz=5 -p1 -i",
)
# A failed attempt leaves partial edits and unmerged index entries behind, and git 2.39's
# ``apply --3way`` can abort on a malformed patch holding the index lock (nothing else runs here).
_CLEAN_TREE = "rm -f .git/index.lock && git reset -q --hard && git clean -q -fd"

SandboxFactory = Callable[[Task], Sandbox]


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


# Lines GNU patch takes file names from (unified, context and git-style diffs).
_PATH_LINE = re.compile(
    r"^(?:--- |\+\+\+ |\*\*\* |Index: |diff --git |(?:rename|copy) (?:from|to) )(.*)$", re.MULTILINE
)


def touches_git_dir(patch: str) -> bool:
    """Whether any file the patch names lies inside a ``.git`` directory.

    ``git apply`` refuses such paths itself; GNU ``patch`` would write there, and a model patch that
    plants ``.git/config`` (``core.fsmonitor``) or a hook runs code when the grader next calls git.
    """
    for match in _PATH_LINE.finditer(patch):
        for token in match.group(1).split():
            if ".git" in token.strip('"').split("/"):
                return True
    return False


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
    commands = APPLY_COMMANDS
    if touches_git_dir(patch):
        commands = tuple(c for c in commands if c.startswith("git "))
    for attempt, command in enumerate(commands):
        if attempt:
            sandbox.run(_CLEAN_TREE, timeout=120)
        result = sandbox.run(f"{command} {diff}", timeout=120)
        if result.exit_code == 0:
            return ""
        if not attempt:  # plain git apply explains best what is wrong with the patch
            complaint = result.output.strip() or f"git apply exited with status {result.exit_code}"
    sandbox.run(_CLEAN_TREE, timeout=120)
    if sandbox.run(f"git apply --check --reverse {diff}", timeout=120).exit_code == 0:
        return ""  # swebench counts a patch whose changes are already there as applied
    return complaint


def run_eval_script(sandbox: Sandbox, task: Task, timeout: float) -> tuple[str, str, bool]:
    """Run the evaluation script; return (its output, the nonce it used, whether the sandbox timed out)."""
    nonce = secrets.token_hex(8)
    sandbox.write_file(f"{GRADE_DIR}/eval.sh", build_eval_script(task, timeout=timeout, nonce=nonce))
    out_path = f"{GRADE_DIR}/eval.out"
    # Output goes to a file so the sandbox's output limit never cuts pytest's summary off.
    result = sandbox.run(f"bash {GRADE_DIR}/eval.sh > {out_path} 2>&1", timeout=timeout + 60)
    try:
        output = sandbox.read_file(out_path).decode("utf-8", errors="replace")
    except Exception:  # the file is missing when the sandbox died before the script began
        output = result.output
    return output, nonce, result.timed_out


def grade_in_sandbox(
    sandbox: Sandbox, task: Task, patch: str, *, timeout: float = DEFAULT_TEST_TIMEOUT
) -> EvalResult:
    """Grade ``patch`` in ``sandbox``, which must hold the task's base commit untouched."""
    start = time.monotonic()
    why = apply_model_patch(sandbox, patch)
    if why:
        return _result(task, patch, start, "patch_failed", f"git apply: {why}")
    output, nonce, sandbox_timed_out = run_eval_script(sandbox, task, timeout)
    if "swe-srl: the test patch did not apply" in output and f"swe-srl-run-{nonce}-start" not in output:
        return _result(
            task, patch, start, "error", "the task's test patch did not apply", cause="environment"
        )
    if sandbox_timed_out:
        return _result(task, patch, start, "error", f"tests timed out after {timeout:g}s")
    grade = grade_output(task, output, nonce, timeout)
    return _result(task, patch, start, grade.status, grade.reason, tests=grade.tests)


def default_sandbox_factory(kind: str) -> SandboxFactory:
    def factory(task: Task) -> Sandbox:
        from swe_srl.sandbox import make_sandbox

        return make_sandbox(kind, task)

    return factory


class SandboxGrader:
    """Grades patches in a fresh sandbox of ``kind`` ("local" or "docker") per call."""

    def __init__(
        self,
        kind: str = "local",
        *,
        test_timeout: float = DEFAULT_TEST_TIMEOUT,
        sandbox_factory: SandboxFactory | None = None,
    ):
        self.kind = kind
        self.test_timeout = test_timeout
        self._factory = sandbox_factory or default_sandbox_factory(kind)

    def grade(self, task: Task, patch: str) -> EvalResult:
        start = time.monotonic()
        patch = patch or ""
        if not patch.strip():
            return _result(task, patch, start, "unresolved", "empty patch")
        why = binary_patch_reason(patch)
        if why:
            return _result(task, patch, start, "patch_failed", why)
        try:
            sandbox = self._factory(task)
        except Exception as err:
            reason = f"sandbox failed to start: {type(err).__name__}: {err}"
            return _result(task, patch, start, "error", reason, cause="sandbox")
        try:
            with sandbox:
                return grade_in_sandbox(sandbox, task, patch, timeout=self.test_timeout)
        except Exception as err:
            reason = f"grading failed: {type(err).__name__}: {err}"
            return _result(task, patch, start, "error", reason, cause="sandbox")
