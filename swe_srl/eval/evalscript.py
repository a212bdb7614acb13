"""The evaluation script: one bash script that grades a patched ``/testbed``.

The same script serves our grader and the exported swebench dataset (``eval_script`` field), so the
official harness and ``SandboxGrader`` run byte-for-byte the same steps:

1. **Protect the test infrastructure.** Every file that differs from ``HEAD`` (the task's base commit)
   and is test infrastructure is put back to its base content, or removed when the base has no such
   file. This undoes whatever a model patch did to tests and to the files that steer pytest:

   - anything under a ``tests/``, ``test/`` or ``testing/`` directory, ``test_*.py``, ``*_test.py``;
   - ``conftest.py`` anywhere (a conftest can skip tests or rewrite their reports);
   - ``sitecustomize.py``, ``usercustomize.py`` and ``*.pth`` (code Python runs at start-up);
   - pytest's configuration files ``pytest.ini``, ``.pytest.ini``, ``tox.ini``, ``setup.cfg`` and
     ``pyproject.toml`` (``addopts = -p plugin`` loads arbitrary code). A fix that really needs a
     change to ``setup.cfg`` or ``pyproject.toml`` loses that change when graded: a deliberate trade.

   Working on the tree's state rather than on the patch text means the rule also holds for files a
   patch renames, deletes, or creates under ignored paths.
2. Apply the task's test patch.
3. Run the tests with a clean environment (``env -i``: only ``PATH``, ``HOME``, ``LANG`` survive, so
   no ``PYTEST_ADDOPTS``, ``PYTEST_PLUGINS``, ``PYTHONPATH``, ``BASH_ENV`` or anything else an agent
   may have exported), without the cache provider, under ``timeout`` so a hang ends as exit status 124.

Test output is bracketed by swebench's start/end markers; swebench's own ``record_test_exit_code``
adds the exit-status line when the script goes through ``make_test_spec``. ``nonce`` adds marker lines
that only the shell can print, which the grader uses to find the real output (see ``logs.py``).
"""

from __future__ import annotations

import re
import shlex

from swe_srl.records import Task

TESTS_TIMED_OUT_EXIT = 124
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
START_TEST_OUTPUT = ">>>>> Start Test Output"  # swebench.harness.constants, kept literal for the script
END_TEST_OUTPUT = ">>>>> End Test Output"

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
    "*/tox.ini",
    "*/setup.cfg",
    "*/pyproject.toml",
)

_PROTECT_FUNCTION = """\
swe_srl_protect() {{
  {{ git diff -z --name-only --no-renames HEAD; git ls-files -z --others; }} | sort -zu |
  while IFS= read -r -d '' f; do
    case "/$f" in
      {patterns})
        if git cat-file -e "HEAD:$f" 2>/dev/null; then git checkout -q HEAD -- "$f"
        else rm -f -- "$f"; fi
        echo "swe-srl: restored test infrastructure file $f to base";;
    esac
  done
}}"""


def is_protected(path: str) -> bool:
    """Whether the grader restores ``path`` to base before running tests (same rule as the script)."""
    from fnmatch import fnmatchcase

    # fnmatch's "*" crosses "/", exactly like the shell's ``case`` patterns.
    return any(fnmatchcase("/" + path, pattern) for pattern in PROTECTED_PATTERNS)


def test_files(task: Task) -> list[str]:
    """The test files named by the task's FAIL_TO_PASS and PASS_TO_PASS ids, in first-seen order."""
    files: dict[str, None] = {}
    for test_id in (*task.FAIL_TO_PASS, *task.PASS_TO_PASS):
        files.setdefault(test_id.split("::", 1)[0], None)
    return list(files)


def test_command(task: Task, timeout: float) -> str:
    """The test command line: clean environment, no cache provider, killed after ``timeout`` seconds."""
    cmd = task.test_cmd.strip() or "python3 -m pytest -rA"
    if "pytest" in cmd and "no:cacheprovider" not in cmd:
        cmd += " -p no:cacheprovider"
    # PATH is the sandbox's own (a task image may put its interpreter first); nothing else survives.
    env = f'env -i PATH="${{PATH:-{CLEAN_PATH}}}" HOME=/tmp LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1'
    files = " ".join(shlex.quote(f) for f in test_files(task))
    # bash -c: the timeout covers the whole command line even when it chains several commands
    return f"{env} timeout -k 5 {int(max(1, timeout))} bash -c {shlex.quote(f'{cmd} {files}'.rstrip())}"


def _heredoc(text: str, tag: str) -> str:
    if not text.endswith("\n"):
        text += "\n"
    delimiter = f"EOF_SWE_SRL_{tag}"
    while delimiter in text:  # a patch can hold any text; pick a delimiter it does not contain
        delimiter += "_"
    return f"git apply --verbose - <<'{delimiter}'\n{text}{delimiter}"


def build_eval_script(task: Task, *, timeout: float = 300.0, nonce: str = "") -> str:
    """The bash script that grades the current state of ``/testbed`` (see the module docstring)."""
    patterns = "|".join(PROTECTED_PATTERNS)
    lines = [
        "#!/bin/bash",
        "set -uxo pipefail",
        "cd /testbed",
        _PROTECT_FUNCTION.format(patterns=patterns),
        "swe_srl_protect",
    ]
    if task.test_patch.strip():
        lines.append(_heredoc(task.test_patch, "TEST_PATCH"))
        lines.append('if [ $? -ne 0 ]; then echo "swe-srl: the test patch did not apply"; exit 3; fi')
    if nonce:
        lines.append(f"echo 'swe-srl-run-{nonce}-start'")
    lines.append(f": '{START_TEST_OUTPUT}'")
    lines.append(test_command(task, timeout))
    if nonce:
        lines.append(f'echo "swe-srl-run-{nonce}-exit=$?"')
    lines.append(f": '{END_TEST_OUTPUT}'")
    return "\n".join(lines) + "\n"


def swebench_log_parser(name: str) -> str:
    """The swebench ``PARSER_REGISTRY`` key for a ``log_parser`` (``pytest`` → ``parse_log_pytest``)."""
    from swebench.harness.log_parsers import PARSER_REGISTRY

    if name in PARSER_REGISTRY:
        return name
    key = f"parse_log_{name}"
    if key in PARSER_REGISTRY:
        return key
    raise KeyError(f"unknown log parser {name!r}; swebench knows {', '.join(sorted(PARSER_REGISTRY))}")


def swebench_eval_type(name: str) -> str:
    """The swebench ``EvalType`` value for a task's ``eval_type`` (anything unknown grades pass-and-fail)."""
    from swebench.harness.constants import EvalType

    values = {e.value for e in EvalType}
    return name if name in values else EvalType.PASS_AND_FAIL.value


_VALID_TAG_CHARS = re.compile(r"[^a-z0-9_.-]+")


def image_name(suite: str, instance_id: str) -> str:
    """The per-task image ``swe-srl/<suite>.<instance_id>:latest``, lowercased into a valid reference."""

    def clean(part: str) -> str:
        text = _VALID_TAG_CHARS.sub("-", part.lower()).strip("._-")
        return re.sub(r"[.]{2,}", ".", text) or "x"

    return f"swe-srl/{clean(suite)}.{clean(instance_id)}:latest"
