"""The scripted expert: its edit planning, reproduction scripts, monologue, and real episodes.

Episodes run in the real local sandbox (bubblewrap) and are graded by the real grader (pytest).
"""

from __future__ import annotations

import ast
import statistics
import subprocess
import sys

import pytest

from swe_srl.actions import parse_completion
from swe_srl.env import SweEnv
from swe_srl.episode import run_episode
from swe_srl.eval.grader import SandboxGrader
from swe_srl.policy.expert import ExpertPolicy, build_plan
from swe_srl.policy.expert_analysis import (
    describe_change,
    plan_edits,
    scope_at,
)
from swe_srl.policy.expert_repro import repro_from_issue, repro_from_tests
from swe_srl.records import Action, Step
from swe_srl.tasks import load_tasks

BASE = "".join(
    [
        "def first(x):\n",
        "    if x:\n",
        "        return 1\n",
        "    return 0\n",
        "\n",
        "\n",
        "def second(x):\n",
        "    if x:\n",
        "        return 1\n",
        "    return 0\n",
    ]
)
PATCH = """diff --git a/mod.py b/mod.py
--- a/mod.py
+++ b/mod.py
@@ -7,4 +7,5 @@ def first(x):
 def second(x):
     if x:
-        return 1
+        return 2
+    print("never")
     return 0
"""


def _apply(base: str, patch: str) -> str:
    text = base
    for file_edits in plan_edits(patch, lambda _: base):
        for edit in file_edits.edits:
            assert text.count(edit.old_str) == 1, edit.old_str
            text = text.replace(edit.old_str, edit.new_str)
    return text


def test_edit_old_str_grows_until_unique():
    [file_edits] = plan_edits(PATCH, lambda _: BASE)
    [edit] = file_edits.edits
    # "        return 1" occurs twice; the window must take in the context that tells them apart
    assert BASE.count(edit.old_str) == 1
    assert "return 1" in edit.old_str and len(edit.old_str.splitlines()) < len(BASE.splitlines())
    assert edit.scope == "second" and edit.base_line == 9
    assert _apply(BASE, PATCH).splitlines()[8:11] == [
        "        return 2",
        '    print("never")',
        "    return 0",
    ]


def test_pure_insertion_is_anchored_on_a_neighbouring_line():
    patch = PATCH.replace("-        return 1\n+        return 2\n", "         return 1\n").replace(
        "@@ -7,4 +7,5 @@", "@@ -7,4 +7,5 @@"
    )
    result = _apply(BASE, patch)
    assert result.count('print("never")') == 1
    assert result.index('print("never")') > result.index("def second")


def test_patch_that_does_not_match_the_base_is_refused():
    with pytest.raises(ValueError, match="does not match"):
        plan_edits(PATCH, lambda _: "return 9".join(BASE.rsplit("return 1", 1)))


def test_docstring_updates_come_after_the_code_change():
    patch = (
        "--- a/mod.py\n+++ b/mod.py\n"
        '@@ -1,2 +1,3 @@\n def first(x):\n+    """Return 1 for truthy x."""\n     if x:\n'
        "@@ -8,2 +9,2 @@ def second(x):\n     if x:\n-        return 1\n+        return 2\n"
    )
    [file_edits] = plan_edits(patch, lambda _: BASE)
    code, doc = file_edits.edits  # the patch lists the docstring first; an agent fixes the code first
    assert "return 2" in code.new_str and '"""' in doc.new_str
    assert (code.base_line, doc.base_line) == (9, 2)
    text = BASE
    for edit in (code, doc):
        assert text.count(edit.old_str) == 1
        text = text.replace(edit.old_str, edit.new_str)
    lines = text.splitlines()
    assert (
        lines[1].startswith('    """') and lines[9] == "        return 2" and lines[3] == "        return 1"
    )


def test_scope_names_the_enclosing_method_and_module_names():
    lines = [
        "import re\n",
        "_RE = re.compile('x')\n",
        "class A:\n",
        "    def f(self):\n",
        "        return 1\n",
    ]
    assert scope_at(lines, 4) == "A.f"
    assert scope_at(lines, 1) == "_RE"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("if day.weekday() <= 5:", "if day.weekday() < 5:", "`<=` should be `<`"),
        ("self.last = index0 == length", "self.last = index0 == length - 1", "it is missing `- 1`"),
        ("x = len(a) + len(b)", "x = width(a) + width(b)", "each `len` should be `width`"),
    ],
)
def test_describe_change_names_the_difference(old, new, expected):
    assert describe_change((old,), (new,)) == expected


def test_repro_script_from_issue_runs_and_catches_the_reported_error():
    issue = (
        "Parsing is broken\n\n```python\n>>> import json\n>>> json.loads('[1, 2]')\n[1, 2]\n"
        ">>> int('x')\nTraceback (most recent call last):\n  ...\nValueError: bad\n"
        ">>> 'ab'.upper()\n'AB'\n>>> class Point:\n...     pass\n>>> p = Point()\n>>> p.x = 3\n>>> p\n"
        "<Point object at 0x7f00>\n```\n"
    )
    script = repro_from_issue(issue)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == [
        "[1, 2]",
        "ValueError: invalid literal for int() with base 10: 'x'",
        "'AB'",
        "{'x': 3}",  # an object without a repr is shown by its attributes, not its address
    ]


def test_repro_script_falls_back_to_the_failing_tests():
    test_patch = (
        "diff --git a/tests/test_x.py b/tests/test_x.py\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/tests/test_x.py\n@@ -0,0 +1,5 @@\n+def test_ok():\n+    assert 1 == 1\n+\n"
        "+def test_bad():\n+    assert 1 == 2\n"
    )
    script = repro_from_tests(test_patch, ("tests/test_x.py::test_ok", "tests/test_x.py::test_bad"))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["test_ok: ok", "test_bad: AssertionError "]
    assert repro_from_issue("no examples here") == ""


@pytest.fixture(scope="module")
def bundled():
    return load_tasks("bundled")


def test_plans_look_like_an_agent_at_work(bundled):
    plans = {task.instance_id: build_plan(task) for task in bundled}
    assert statistics.median(len(plan) for plan in plans.values()) >= 8
    for instance_id, plan in plans.items():
        kinds = [step.kind for step in plan]
        assert kinds[-1] == "submit", instance_id
        assert {"repro_create", "repro_run", "rerun", "tests", "cleanup"} <= set(kinds)
        assert any(k.startswith("locate") for k in kinds)
        first_view = min(i for i, k in enumerate(kinds) if k.startswith("view"))
        assert first_view < min(i for i, k in enumerate(kinds) if k.startswith("edit"))
        create = next(s.action for s in plan if s.kind == "repro_create")
        ast.parse(create.args["file_text"])  # the reproduction script is valid Python
        script = create.args["path"]
        cleanup = next(s.action.args["command"] for s in plan if s.kind == "cleanup")
        assert script.rsplit("/", 1)[-1] in cleanup
    # seeded variation: tasks do not all take the same route
    routes = {tuple(step.kind for step in plan) for plan in plans.values()}
    assert len(routes) >= 5


def test_monologue_is_deterministic_and_varies(bundled):
    task = bundled[0]
    history: list[Step] = []
    first, again, other = ExpertPolicy(task), ExpertPolicy(task), ExpertPolicy(task, variant=1)
    replies, others = [], []
    for _ in range(len(first.plan)):
        reply = first.act(task.problem_statement, history)
        assert reply == again.act(task.problem_statement, history)
        replies.append(reply)
        others.append(other.act(task.problem_statement, history))
        history.append(Step(thought="", action=Action("bash", {"command": "true"}), observation="output"))
    assert replies != others
    thoughts = [parse_completion(r).thought for r in replies]
    assert all(len(t) > 15 for t in thoughts)
    assert not any("gold" in t.lower() or "patch" in t.lower() for t in thoughts)
    openings = {parse_completion(ExpertPolicy(t).act(t.problem_statement, [])).thought for t in bundled}
    assert len(openings) >= 4


def _solve(task):
    env = SweEnv(task=task, sandbox="local", max_steps=40, diff_every_step=False)
    try:
        trajectory = run_episode(env, ExpertPolicy(task), task)
    finally:
        env.close()
    return trajectory, SandboxGrader("local").grade(task, trajectory.final_patch)


def test_expert_resolves_the_sample_task():
    task = load_tasks("sample")[0]
    trajectory, result = _solve(task)
    assert result.resolved, result.reason
    assert trajectory.metadata["exit_status"] == "submitted"
    assert "reproduce" not in trajectory.final_patch  # the script was removed before submitting
    observations = [s.observation for s in trajectory.steps]
    assert any("DurationError" in o for o in observations)  # the reproduction showed the bug
    assert not any("No replacement was performed" in o for o in observations)


@pytest.mark.slow
@pytest.mark.parametrize(
    "instance_id",
    [
        "swe-srl__semverkit-prerelease-opt-in-ignored",  # two files
        "swe-srl__tmplite-for-loop-scope-leak",  # a multi-line rewrite
        "swe-srl__spans-difference-closed-bounds",  # two edits in one hunk
    ],
)
def test_expert_resolves_bundled_tasks(bundled, instance_id):
    task = next(t for t in bundled if t.instance_id == instance_id)
    trajectory, result = _solve(task)
    assert result.resolved, result.reason
    assert len(trajectory.steps) >= 8


def test_expert_without_the_base_files_edits_whole_hunks_and_still_resolves():
    task = load_tasks("sample")[0]
    policy = ExpertPolicy(task, read_base=lambda path: None)  # as for a task that exists only as an image
    edits = [s.action for s in policy.plan if s.kind.startswith("edit")]
    assert len(edits) == 2 and all(a.args["command"] == "str_replace" for a in edits)
    env = SweEnv(task=task, sandbox="local", max_steps=40, diff_every_step=False)
    try:
        trajectory = run_episode(env, policy, task)
    finally:
        env.close()
    assert SandboxGrader("local").grade(task, trajectory.final_patch).resolved
