"""Reproduction scripts for the scripted expert, built from a task's issue or its failing tests.

- ``repro_from_issue``: the issue's ``>>>`` examples as a script that prints each result (results
  the issue shows as a traceback are caught and printed as ``Error: message``);
- ``repro_from_tests``: failing that, the FAIL_TO_PASS test functions that take no arguments,
  called one by one with a line per outcome.
"""

from __future__ import annotations

import ast
import doctest
import re

_ERROR_WANT = re.compile(r"^\s*(Traceback \(most recent call last\)|[\w.]*(Error|Exception)\b)")


# Results are printed through this helper: an object without its own repr would print as
# "<X object at 0x...>", which says nothing and differs from run to run.
SHOW_HELPER = [
    "",
    "def show(value):",
    '    if " object at 0x" in repr(value) and hasattr(value, "__dict__"):',
    "        value = vars(value)",
    "    print(value)",
    "",
    "",
]


def _example_lines(source: str, want: str) -> list[str]:
    source = source.rstrip("\n")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source.splitlines()
    single_expr = len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)
    is_print = single_expr and "print(" in source.split("(")[0] + "("
    if single_expr and not is_print:
        expr = ast.get_source_segment(source, tree.body[0].value) or source
        comment = source[source.find(expr) + len(expr) :].strip()  # e.g. "# Thu, Fri, Sat"
        quoted = want.lstrip().startswith(("'", '"'))  # the issue shows a repr: print one too
        source = f"print(repr({expr}))" if quoted else f"show({expr})"
        if comment.startswith("#"):
            source += f"  {comment}"
    if _ERROR_WANT.match(want or ""):
        body = "\n".join("    " + line for line in source.splitlines())
        return [
            "try:",
            body,
            "except Exception as exc:",
            '    print(f"{type(exc).__name__}: {exc}")',
        ]
    return source.splitlines()


def repro_from_issue(issue: str) -> str:
    """A script running the issue's ``>>>`` examples and printing each result ("" if none)."""
    examples = doctest.DocTestParser().get_examples(issue)
    if not any(not ex.source.startswith(("from ", "import ")) for ex in examples):
        return ""
    imports = [ex.source.rstrip("\n") for ex in examples if ex.source.startswith(("from ", "import "))]
    body: list[str] = []
    for ex in examples:
        if not ex.source.startswith(("from ", "import ")):
            body.extend(_example_lines(ex.source, ex.want))
    helper = SHOW_HELPER if any(line.lstrip().startswith("show(") for line in body) else []
    return "\n".join([*dict.fromkeys(imports), "", *helper, *body]) + "\n"


def repro_from_tests(test_patch: str, fail_to_pass: tuple[str, ...]) -> str:
    """A script defining the failing tests and calling the zero-argument ones ("" if none)."""
    from unidiff import PatchSet

    wanted = {t.split("::")[1].split("[")[0] for t in fail_to_pass if "::" in t}
    for pfile in PatchSet(test_patch):
        source = "".join(line.value for hunk in pfile for line in hunk if not line.is_removed)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        names = [
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name in wanted and not node.args.args
        ]
        if names:
            calls = ", ".join(f"({n!r}, {n})" for n in names)
            runner = (
                '\n\nif __name__ == "__main__":\n'
                f"    for name, check in [{calls}]:\n"
                "        try:\n"
                "            check()\n"
                '            print(f"{name}: ok")\n'
                "        except Exception as exc:\n"
                '            print(f"{name}: {type(exc).__name__} {exc}")\n'
            )
            return source.rstrip("\n") + runner
    return ""
