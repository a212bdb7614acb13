"""The replay TUI, driven headless through Textual's pilot, and its --print renderer."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from swe_srl.records import Action, Step, Trajectory
from swe_srl.tui.app import ReplayApp
from swe_srl.tui.render import print_trajectory
from swe_srl.tui.view import compare, edit_diff, search, short_action, step_rows


def make_trajectory(model: str, edit_new: str) -> Trajectory:
    steps = [
        Step("Look around first.", Action("bash", {"command": "ls /testbed"}), "calc\ntests\n"),
        Step(
            "View the module.",
            Action("str_replace_editor", {"command": "view", "path": "/testbed/calc/ops.py"}),
            "     1\tdef add(a, b):\n     2\t    return a - b\n",
        ),
        Step(
            "Fix the operator.",
            Action(
                "str_replace_editor",
                {
                    "command": "str_replace",
                    "path": "/testbed/calc/ops.py",
                    "old_str": "    return a - b",
                    "new_str": edit_new,
                },
            ),
            "The file /testbed/calc/ops.py has been edited.",
            reward=0.75,
        ),
        Step("Done.", Action("submit", {}), "PATCH_MARKER"),
    ]
    return Trajectory(
        instance_id="calc-1",
        source_format="swe-srl",
        model=model,
        problem_statement="add() subtracts UNIQUE_ISSUE_WORD",
        steps=steps,
        final_patch="diff --git a/calc/ops.py b/calc/ops.py\n",
        resolved=True,
    )


def test_step_rows_summarise_each_action():
    rows = step_rows(make_trajectory("expert", "    return a + b"))
    assert [r.tool for r in rows] == ["bash", "str_replace_editor", "str_replace_editor", "submit"]
    assert rows[1].short_action == "view /testbed/calc/ops.py"
    assert rows[2].reward == 0.75
    long = short_action(Action("bash", {"command": "echo " + "x" * 200}), width=20)
    assert len(long) == 20 and long.endswith("…")


def test_edits_are_shown_as_diffs():
    step = make_trajectory("expert", "    return a + b").steps[2]
    diff = edit_diff(step.action)
    assert "-    return a - b" in diff and "+    return a + b" in diff
    assert edit_diff(Action("bash", {"command": "ls"})) is None


def test_compare_scores_student_against_expert():
    expert = make_trajectory("expert", "    return a + b")
    student = make_trajectory("student", "    return b + a")
    rows = compare(expert, student)
    assert [r.similarity for r in rows[:2]] == [1.0, 1.0]
    assert 0.0 < rows[2].similarity < 1.0


def test_search_wraps_and_reports_missing():
    trajectory = make_trajectory("expert", "    return a + b")
    assert search(trajectory, "operator", 0) == 2
    assert search(trajectory, "LOOK AROUND", 3) == 0
    assert search(trajectory, "absent-needle", 0) is None


def test_print_mode_renders_every_step_and_comparison():
    expert = make_trajectory("expert", "    return a + b")
    student = make_trajectory("student", "    return b + a")
    buffer = io.StringIO()
    print_trajectory(Console(file=buffer, width=120, color_system=None), expert, student)
    text = buffer.getvalue()
    assert "UNIQUE_ISSUE_WORD" in text
    assert "PATCH_MARKER" in text
    assert "expert vs student" in text
    assert "mean step similarity" in text


def test_pilot_navigation_search_compare_and_quit():
    expert = make_trajectory("expert", "    return a + b")
    student = make_trajectory("student", "    return b + a")

    async def drive() -> list[str]:
        app = ReplayApp(expert, student)
        seen = []
        async with app.run_test(size=(140, 45)) as pilot:
            body = app.query_one("#body")
            seen.append(str(body.render()))
            await pilot.press("j")
            assert app.index == 1
            await pilot.press("down", "down")
            assert app.index == 3
            await pilot.press("k")
            assert app.index == 2
            await pilot.press("slash")
            await pilot.press(*"look around", "enter")
            assert app.index == 0
            await pilot.press("c")
            assert app.comparing
            await pilot.press("i")
            assert app.showing_issue
            await pilot.press("q")
        return seen

    asyncio.run(drive())
