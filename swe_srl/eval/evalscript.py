"""The evaluation script: one bash script that runs a task's tests on the current ``/testbed``.

Built from a :class:`~swe_srl.eval.testspec.TestRunSpec`; the grader, ``tasks validate`` and the
exported swebench dataset (``eval_script`` field) all run it, so the official harness and ours take
the same steps:

1. **Protect the test infrastructure.** Every file that differs from ``HEAD`` (the task's base commit)
   and is test infrastructure is put back to its base content, or removed when the base has no such
   file. This undoes whatever a model patch did to tests and to the files that steer pytest:

   - anything under a ``tests/``, ``test/`` or ``testing/`` directory, ``test_*.py``, ``*_test.py``;
   - ``conftest.py`` anywhere (a conftest can skip tests or rewrite their reports);
   - ``sitecustomize.py``, ``usercustomize.py`` and ``*.pth`` (code Python runs at start-up);
   - pytest's configuration files ``pytest.toml``, ``.pytest.toml`` (pytest 9), ``pytest.ini``,
     ``.pytest.ini``, ``tox.ini``, ``setup.cfg`` and ``pyproject.toml`` (``addopts = -p plugin`` loads
     arbitrary code; with ``pythonpath`` from the repository itself). A fix that really needs a
     change to ``setup.cfg`` or ``pyproject.toml`` loses that change when graded: a deliberate trade.

   Working on the tree's state rather than on the patch text means the rule also holds for files a
   patch renames, deletes, or creates under ignored paths. Git runs with hooks and fsmonitor off.
2. Apply the task's test patch.
3. Run the tests under ``timeout`` with a clean environment (``env -i``: no ``PYTEST_ADDOPTS``,
   ``PYTHONPATH``, ``BASH_ENV`` or anything an agent exported; colour off). A pytest command runs
   through ``sandbox_pytest.py`` with ``python -I`` and plugin auto-loading off; any other command
   (Django's ``runtests.py``, ...) runs as written. A task's own ``eval_script`` replaces steps 2-3.

When the grader runs it (``channel=True``), everything the script prints goes to the log file, and
file descriptor 3 (the command's output, read by the host as it is written) carries only JSON
records: ``prepared``, pytest's per-test records (``sandbox_pytest.py``) and ``exit``. Test output is
bracketed by swebench's start/end markers either way.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from swe_srl.eval.testspec import TestRunSpec

TESTS_TIMED_OUT_EXIT = 124
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
START_TEST_OUTPUT = ">>>>> Start Test Output"  # swebench.harness.constants, kept literal for the script
END_TEST_OUTPUT = ">>>>> End Test Output"
TEST_EXIT_CODE = ">>>>> Test Exit Code"
TEST_PATCH_FAILED = "swe-srl: the test patch did not apply"
GRADE_DIR = "/testbed/.git/swe-srl-grade"  # inside .git: untracked, and git apply refuses to touch it
LOG_PATH = f"{GRADE_DIR}/test_output.txt"
LAUNCHER_PATH = f"{GRADE_DIR}/swe_srl_pytest.py"
CONFIG_PATH = f"{GRADE_DIR}/pytest-config.json"
LAUNCHER_SOURCE = Path(__file__).with_name("sandbox_pytest.py")
# Loaded by the launcher from beside it, by these names.
LAUNCHER_HELPERS = tuple(
    Path(__file__).with_name(f"sandbox_pytest_{name}.py") for name in ("declared", "canaries", "watch")
)
# Every git command of the script: a hook or fsmonitor planted in .git never runs.
GIT = "git -c core.hooksPath=/dev/null -c core.fsmonitor=false"
# Colour off for every tool; pytest also gets --color=no.
QUIET_ENV = (("NO_COLOR", "1"), ("PY_COLORS", "0"), ("TERM", "dumb"), ("PYTHONDONTWRITEBYTECODE", "1"))

# Shell ``case`` patterns matched against "/<path>"; the test policy documented above.
PROTECTED_PATTERNS = (
    "*/tests",  # the directories themselves: a patch may replace one with a symlink
    "*/test",
    "*/testing",
    "*/tests/*",
    "*/test/*",
    "*/testing/*",
    "*/test_*.py",
    "*_test.py",
    "*/conftest.py",
    "*/sitecustomize.py",
    "*/usercustomize.py",
    "*.pth",
    "*/pytest.ini",
    "*/.pytest.ini",
    "*/pytest.toml",  # pytest 9 reads these first
    "*/.pytest.toml",
    "*/tox.ini",
    "*/setup.cfg",
    "*/pyproject.toml",
)

_PROTECT_FUNCTION = """\
swe_srl_git() {{ {git} "$@"; }}
swe_srl_protect() {{
  {{ swe_srl_git diff -z --name-only --no-renames HEAD; swe_srl_git ls-files -z --others; }} | sort -zu |
  while IFS= read -r -d '' f; do
    case "/$f" in
      {patterns})
        if swe_srl_git cat-file -e "HEAD:$f" 2>/dev/null; then swe_srl_git checkout -q HEAD -- "$f"
        else rm -f -- "$f"; fi
        echo "swe-srl: restored test infrastructure file $f to base";;
    esac
  done
}}"""


@dataclass(frozen=True)
class Canaries:
    """The tests the launcher adds to every test module: one must pass and one must fail before its
    first test, one more must fail after its last (``must_fail_last``, when given)."""

    must_pass: str
    must_fail: str
    must_fail_last: str = ""

    def names(self) -> set[str]:
        return {name for name in (self.must_pass, self.must_fail, self.must_fail_last) if name}


def canary_files(spec: TestRunSpec) -> list[str]:
    """The test files the launcher appends its canaries to before any code under test runs."""
    return [d for d in spec.directives if d.endswith(".py") and not d.startswith("-")]


def is_protected(path: str) -> bool:
    """Whether the grader restores ``path`` to base before running tests (same rule as the script)."""
    from fnmatch import fnmatchcase

    # fnmatch's "*" crosses "/", exactly like the shell's ``case`` patterns.
    return any(fnmatchcase("/" + path, pattern) for pattern in PROTECTED_PATTERNS)


def heredoc(text: str, tag: str, command: str) -> str:
    """``command <<'DELIM'`` feeding ``text``, with a delimiter ``text`` does not contain."""
    if not text.endswith("\n"):
        text += "\n"
    delimiter = f"EOF_SWE_SRL_{tag}"
    while delimiter in text:  # a patch can hold any text; pick a delimiter it does not contain
        delimiter += "_"
    return f"{command} <<'{delimiter}'\n{text}{delimiter}"


def _environment(spec: TestRunSpec, extra: tuple[tuple[str, str], ...] = ()) -> str:
    # PATH is the sandbox's own (a task image may put its interpreter first); nothing else survives.
    pairs = [*QUIET_ENV, *spec.env, *extra]
    assignments = " ".join(shlex.quote(f"{k}={v}") for k, v in pairs)
    return f'env -i PATH="${{PATH:-{CLEAN_PATH}}}" HOME=/tmp LANG=C.UTF-8 {assignments}'


def _pytest_line(spec: TestRunSpec, config: str) -> str:
    """The pytest run through the launcher (``python -I``), with the spec's plugins named."""
    command = spec.pytest
    assert command is not None
    args = list(command.args)
    if "-rA" not in args:
        args.append("-rA")  # the per-test summary the log parsers read
    if "no:cacheprovider" not in " ".join(args):
        args += ["-p", "no:cacheprovider"]
    for plugin in spec.pytest_plugins:
        args += ["-p", plugin]
    args += ["--color=no", *spec.directives]
    tail = " ".join(shlex.quote(a) for a in [LAUNCHER_PATH, config, *args])
    if command.interpreter:
        run = f"exec {shlex.quote(command.interpreter)} -I {tail}"
    else:  # the console script: its shebang names the environment's interpreter
        run = (
            'p=$(command -v pytest) && IFS= read -r l < "$p" && case $l in "#!"*python*) '
            'i=${l#"#!"};; *) i=python3;; esac; exec $i -I ' + tail
        )
    env = _environment(spec, (("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"), *command.env))
    return f"{env} timeout -k 5 {int(max(1, spec.timeout))} bash -c {shlex.quote(run)}"


def _plain_line(spec: TestRunSpec) -> str:
    """Any other test command, run as written (under the same clean environment and timeout)."""
    line = " ".join([spec.test_command, *(shlex.quote(d) for d in spec.directives)])
    # bash -c: the timeout covers the whole command line even when it chains several commands
    return f"{_environment(spec)} timeout -k 5 {int(max(1, spec.timeout))} bash -c {shlex.quote(line)}"


def _record(payload: dict) -> str:
    return f"printf '%s\\n' {shlex.quote(json.dumps(payload))} >&3"


def _task_script_lines(spec: TestRunSpec) -> list[str]:
    """A task's own eval_script, with swebench's exit-status line (``record_test_exit_code``)."""
    from swebench.harness.utils import parse_eval_script, record_test_exit_code

    # As swebench's ``TestSpec.eval_script``: its header back on, so the markers are traced.
    body = record_test_exit_code(parse_eval_script(spec.eval_script))
    script = "\n".join(["#!/bin/bash", "set -uxo pipefail", *body])
    path = f"{GRADE_DIR}/task-eval.sh"
    return [heredoc(script, "TASK_SCRIPT", f"cat > {path}"), f"bash {path}"]


def _launcher_lines(spec: TestRunSpec, structured: bool, canaries: Canaries | None) -> tuple[list[str], str]:
    """Write the launcher (and, for the grader, its configuration); return the lines and its config."""
    command = spec.pytest
    assert command is not None
    lines = [heredoc(LAUNCHER_SOURCE.read_text(), "LAUNCHER", f"cat > {LAUNCHER_PATH}")]
    for helper in LAUNCHER_HELPERS:
        lines.append(heredoc(helper.read_text(), "LAUNCHER", f"cat > {GRADE_DIR}/{helper.name}"))
    settings: dict = {"repo_on_path": command.repo_on_path}
    if not structured:
        return lines, json.dumps(settings)  # nothing secret: given inline
    settings.update(channel=True, test_patterns=list(PROTECTED_PATTERNS))
    if canaries is not None:
        settings.update(canary_pass=canaries.must_pass, canary_fail=canaries.must_fail)
        settings.update(canary_fail_last=canaries.must_fail_last, canary_files=canary_files(spec))
    # A file the launcher deletes before any code under test runs: the canaries' names stay unread.
    lines.append(heredoc(json.dumps(settings), "CONFIG", f"cat > {CONFIG_PATH}"))
    lines.append(_record({"swe_srl": "prepared"}))
    return lines, CONFIG_PATH


def build_eval_script(spec: TestRunSpec, *, channel: bool = False, canaries: Canaries | None = None) -> str:
    """The bash script that runs ``spec``'s tests on ``/testbed`` (see the module docstring).

    ``channel``: the grader's form (records on descriptor 3, output in the log file, the exit status
    after the end marker); without it, the form swebench's harness runs (it adds that line itself).
    """
    structured = channel and spec.pytest is not None and not spec.eval_script
    lines = ["#!/bin/bash"]
    if structured:
        lines.append(f"mkdir -p {GRADE_DIR} && exec 3>&1 >{LOG_PATH} 2>&1")
    lines += ["set -uxo pipefail", "cd /testbed"]
    lines.append(_PROTECT_FUNCTION.format(git=GIT, patterns="|".join(PROTECTED_PATTERNS)))
    lines += ["swe_srl_protect", f"mkdir -p {GRADE_DIR}"]
    if spec.eval_script:
        return "\n".join([*lines, *_task_script_lines(spec), "set +x"]) + "\n"
    if spec.test_patch.strip():
        lines.append(heredoc(spec.test_patch, "TEST_PATCH", "swe_srl_git apply --verbose -"))
        failed = f'echo "{TEST_PATCH_FAILED}"'
        if structured:
            failed += "; " + _record({"swe_srl": "test_patch_failed"})
        lines.append(f"if [ $? -ne 0 ]; then {failed}; exit 3; fi")
    if spec.pytest is not None:
        launcher, config = _launcher_lines(spec, structured, canaries)
        lines += [*launcher, f": '{START_TEST_OUTPUT}'", _pytest_line(spec, config)]
    else:
        lines += [f": '{START_TEST_OUTPUT}'", _plain_line(spec)]
    if not channel:
        return "\n".join([*lines, f": '{END_TEST_OUTPUT}'"]) + "\n"
    lines += ["swe_srl_rc=$?", f": '{END_TEST_OUTPUT}'", f'echo "{TEST_EXIT_CODE}: $swe_srl_rc"']
    if structured:
        lines.append("""printf '{"swe_srl": "exit", "status": %d}\\n' "$swe_srl_rc" >&3""")
    return "\n".join([*lines, "set +x"]) + "\n"


_VALID_TAG_CHARS = re.compile(r"[^a-z0-9_.-]+")


def image_name(suite: str, instance_id: str) -> str:
    """The per-task image ``swe-srl/<suite>.<instance_id>:latest``, lowercased into a valid reference."""

    def clean(part: str) -> str:
        text = _VALID_TAG_CHARS.sub("-", part.lower()).strip("._-")
        return re.sub(r"[.]{2,}", ".", text) or "x"

    return f"swe-srl/{clean(suite)}.{clean(instance_id)}:latest"
