"""Problem statements written from what failing tests show, never from the bug itself.

The statement is built only from observable behaviour: the failing tests' own source (a minimal
reproduction, as a user would paste it), the assertion or error they report (expected vs actual),
and their names. It never sees the mutation, the diff or the fix, so it cannot leak them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

MAX_REPRO_LINES = 30
MAX_ERROR_LINES = 12
MAX_TESTS_LISTED = 5
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # object reprs: they differ between runs


def function_source(repo_dir: Path, test_id: str) -> str:
    """The source of the test function ``test_id`` names (pytest node id), or "" when not found."""
    path_part, _, rest = test_id.partition("::")
    path = repo_dir / path_part
    if not path.is_file() or not rest:
        return ""
    names = [n.split("[", 1)[0] for n in rest.split("::")]
    try:
        source = path.read_text(encoding="utf-8")
        node: ast.AST = ast.parse(source)
    except (SyntaxError, UnicodeDecodeError):
        return ""
    for name in names:
        found = next(
            (c for c in ast.iter_child_nodes(node) if getattr(c, "name", None) == name),
            None,
        )
        if found is None:
            return ""
        node = found
    segment = ast.get_source_segment(source, node, padded=True) or ""
    lines = segment.splitlines()
    if len(lines) > MAX_REPRO_LINES:
        lines = [*lines[:MAX_REPRO_LINES], "    ..."]
    return "\n".join(lines)


def pytest_failure(log: str, test_id: str) -> str:
    """The ``E``-lines pytest printed for ``test_id``'s failure (assertion with expected vs actual)."""
    log = _ANSI.sub("", log)
    name = test_id.split("::")[-1]
    headers = [m.start() for m in re.finditer(r"^_{3,} .* _{3,}$", log, re.MULTILINE)]
    for index, start in enumerate(headers):
        end = headers[index + 1] if index + 1 < len(headers) else len(log)
        block = log[start:end]
        title = block.splitlines()[0].strip("_ ")
        if title == name or title.endswith("." + name):
            errors = [_ADDRESS.sub("", line) for line in block.splitlines() if line.startswith("E ")]
            return "\n".join(errors[:MAX_ERROR_LINES])
    return ""


def unittest_failure(log: str, test_id: str) -> str:
    """The last lines of ``unittest``'s traceback for ``test_id`` (its assertion message)."""
    log = _ANSI.sub("", log)
    marker = re.compile(rf"^(FAIL|ERROR): {re.escape(test_id)}$", re.MULTILINE)
    match = marker.search(log)
    if not match:
        return ""
    block = log[match.end() :].split("\n" + "=" * 70, 1)[0].split("\n" + "-" * 70 + "\nRan ", 1)[0]
    lines = [line for line in block.strip("-\n").splitlines() if line.strip()]
    error_at = max((i for i, line in enumerate(lines) if not line.startswith(" ")), default=0)
    return _ADDRESS.sub("", "\n".join(lines[error_at : error_at + MAX_ERROR_LINES]))


def write_statement(
    project: str, version: str, failing: list[str], log: str, repo_dir: Path, parser: str
) -> str:
    """A bug report for ``project`` from its failing tests' observable behaviour."""
    first = failing[0]
    where = first.split("::", 1)[0] if "::" in first else first
    lines = [
        f"{project} {version}: wrong behaviour seen in `{where}`",
        "",
        f"With {project} {version} installed from its source tree, "
        f"{len(failing)} test{'s' if len(failing) > 1 else ''} of the project's own suite fail"
        f"{'s' if len(failing) == 1 else ''}; the behaviour they check is broken.",
        "",
    ]
    repro = function_source(repo_dir, first) if "::" in first else ""
    if repro:
        lines += ["Reproduction (from the test suite):", "", "```python", repro, "```", ""]
    failure = pytest_failure(log, first) if parser == "pytest" else unittest_failure(log, first)
    if failure:
        lines += ["What happens instead of the expected result:", "", "```", failure, "```", ""]
    listed = failing[:MAX_TESTS_LISTED]
    more = f" (and {len(failing) - len(listed)} more)" if len(failing) > len(listed) else ""
    lines += ["Failing tests" + more + ":", "", *(f"- `{t}`" for t in listed), ""]
    lines.append("The library code should behave as these tests expect; the tests themselves are correct.")
    return "\n".join(lines) + "\n"
