"""The replay views: roles, comparison rows and search as pure functions, and the app driven headless
through Textual's pilot on a real episode (the sample task in a bubblewrap sandbox) beside the
shipped expert trajectory of the same task."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from rich.console import Console

from swe_srl.episode import SAMPLE_FIX_SCRIPT, ScriptedPolicy, run_episode
from swe_srl.records import Action, Step, Trajectory
from swe_srl.trajectories import read_trajectory, write_trajectory
from swe_srl.tui.app import ReplayApp, TrajectoryScreen
from swe_srl.tui.render import highlighted, print_trajectory
from swe_srl.tui.roles import EXPERT, STUDENT, assign_roles, detect_role
from swe_srl.tui.view import Side, compare, edit_diff, matching_steps, search, short_action, step_rows

REPO = Path(__file__).resolve().parent.parent
EXPERT_FILE = REPO / "trajectories" / "sample" / "swe-srl__durata-1.traj.json"
MALFORMED = "I am sure the bug is in the parser, so I will just fix it without calling any tool."


def make_trajectory(model: str, edit_new: str, **metadata) -> Trajectory:
    steps = [
        Step("Look around first.", Action("bash", {"command": "ls /testbed"}), "calc\ntests\n", exit_code=0),
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
        metadata=dict(metadata),
    )


@pytest.fixture(scope="module")
def student(tmp_path_factory, task) -> Path:
    """A real episode of a policy on the sample task: a malformed reply, a failing command, then submit."""
    from swe_srl.env import SweEnv

    replies = [
        "<think>Layout first.</think>\n<function=bash>\n<parameter=command>ls /testbed /testbed/durata"
        "</parameter>\n</function>",
        MALFORMED,
        "<think>Run the tests.</think>\n<function=bash>\n<parameter=command>false</parameter>\n</function>",
        SAMPLE_FIX_SCRIPT[-1],
    ]
    env = SweEnv(task=task, sandbox="local", max_steps=len(replies))
    try:
        trajectory = run_episode(env, ScriptedPolicy(replies, name="scripted-student"))
    finally:
        env.close()
    return write_trajectory(trajectory, tmp_path_factory.mktemp("student") / "student.traj.json")


# ---------------------------------------------------------------------------------------------
# Pure views


def test_step_rows_summarise_each_action_with_markers():
    rows = step_rows(make_trajectory("expert", "    return a + b"))
    assert [r.tool for r in rows] == ["bash", "view", "str_replace", "submit"]
    assert rows[1].short_action == "calc/ops.py"  # the path, relative to /testbed
    assert rows[2].reward == 0.75
    long = short_action(Action("bash", {"command": "echo " + "x" * 200}), width=20)
    assert len(long) == 20 and long.endswith("…")


def test_edits_are_shown_as_diffs():
    step = make_trajectory("expert", "    return a + b").steps[2]
    diff = edit_diff(step.action)
    assert "-    return a - b" in diff and "+    return a + b" in diff
    assert edit_diff(Action("bash", {"command": "ls"})) is None


def test_roles_are_read_from_the_records_in_either_order():
    expert = make_trajectory("expert", "    return a + b", policy="expert", attempt=0)
    run = make_trajectory("hf:/models/srl", "    return b + a", policy="hf:/models/srl", setting="e2e")
    assert detect_role(expert) == EXPERT and detect_role(run) == STUDENT
    for first, second in ((run, expert), (expert, run)):
        reference, candidate, note = assign_roles(first, second)
        assert (reference.label, reference.trajectory) == ("expert", expert)
        assert (candidate.label, candidate.trajectory) == ("student", run)
        assert note == ""
    imported = make_trajectory("claude", "    return a + b")
    imported.source_format = "swe-agent"
    assert detect_role(imported) == EXPERT
    unknown = make_trajectory("someone", "    return a + b")
    reference, candidate, note = assign_roles(unknown, make_trajectory("other", "x"))
    assert reference.label.startswith("B") and candidate.label.startswith("A") and "--expert" in note


def test_explicit_expert_overrides_detection():
    run = make_trajectory("hf:x", "    return b + a", setting="e2e")
    other_run = make_trajectory("hf:y", "    return a + b", setting="e2e")
    reference, candidate, _ = assign_roles(run, other_run, second_is_expert=True)
    assert reference.trajectory is other_run and reference.label == "expert" and candidate.label == "student"


def test_comparison_runs_to_the_longer_trajectory_and_scores_the_candidate():
    expert = make_trajectory("expert", "    return a + b")
    shorter = make_trajectory("student", "    return b + a")
    shorter.steps = shorter.steps[:3]
    comparison = compare(Side("expert", expert), Side("student", shorter))
    assert len(comparison.rows) == 4
    assert [r.reward for r in comparison.rows[:2]] == [1.0, 1.0]
    assert 0.0 < comparison.rows[2].reward < 1.0
    assert comparison.rows[3].candidate is None and comparison.rows[3].reward is None
    assert comparison.scored_steps == 3


def test_malformed_reply_scores_minus_one_and_keeps_its_raw_text(student):
    run = read_trajectory(student)
    reference, candidate, _ = assign_roles(run, read_trajectory(EXPERT_FILE))
    assert candidate.trajectory.model == "scripted-student" and reference.label == "expert"
    comparison = compare(reference, candidate)
    bad = comparison.rows[1]
    assert bad.candidate.raw_action == MALFORMED
    assert bad.reward == -1.0 and bad.similarity is None and bad.problem.startswith("No action found")
    assert comparison.rows[0].reward == 1.0  # the same command as the expert's first step
    assert comparison.rows[3].reward == -1.0  # the script's submit has no <think>: the SRL format fails
    assert comparison.rows[3].problem == "The completion must start with <think>."
    assert len(comparison.rows) == len(reference.trajectory.steps) == 12
    assert run.steps[2].exit_code == 1 and run.steps[0].exit_code == 0
    buffer = io.StringIO()
    print_trajectory(Console(file=buffer, width=140, color_system=None), run, comparison)
    text = buffer.getvalue()
    assert MALFORMED in text and "parse_error" not in text
    assert "SRL reward -1.000 (format: No action found)" in text
    assert "expert  vs  student" in text and "student has no step 12" in text
    assert "exit 1" in text


def test_strict_format_failure_of_a_policy_reply_is_minus_one():
    expert = make_trajectory("expert", "    return a + b", policy="expert")
    run = make_trajectory("hf:x", "    return a + b", setting="e2e")
    run.steps[0].raw_action = "<function=bash>\n<parameter=command>ls /testbed</parameter>\n</function>"
    row = compare(Side("expert", expert), Side("student", run)).rows[0]
    assert row.similarity == 1.0 and row.reward == -1.0 and "<think>" in row.problem


def test_search_lists_every_match_and_highlights_it():
    trajectory = make_trajectory("expert", "    return a + b")
    assert matching_steps(list(trajectory.steps), "CALC/OPS") == [1, 2]
    assert search(trajectory, "operator", 0) == 2
    assert search(trajectory, "LOOK AROUND", 3) == 0
    assert search(trajectory, "absent-needle", 0) is None
    text = highlighted("see calc/ops.py and Calc/Ops.py", "calc/ops")
    assert [text.plain[s.start : s.end] for s in text.spans] == ["calc/ops", "Calc/Ops"]


# ---------------------------------------------------------------------------------------------
# The app, headless


def shown_text(screen: TrajectoryScreen) -> str:
    console = Console(width=120, record=True, file=io.StringIO(), color_system=None)
    console.print(screen.shown)
    return console.export_text()


def _comparison(student: Path):
    from swe_srl.tui.launch import ReplayRequest, resolve

    opened = resolve(ReplayRequest(student, compare=EXPERT_FILE))
    return opened.trajectory, opened.comparison


def test_pilot_compare_navigates_the_longer_trajectory(student):
    trajectory, comparison = _comparison(student)

    async def drive() -> None:
        app = ReplayApp(trajectory, comparison)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, TrajectoryScreen) and screen.comparing
            assert screen.length == 12 and "expert: 12 steps, student: 4" in screen.status_line()
            await pilot.press("G")
            assert screen.index == 11 and "step 12 of 12" in screen.status_line()
            await pilot.press("k", "k")
            assert screen.index == 9
            await pilot.press("g", "j")
            assert screen.index == 1
            body = shown_text(screen)
            assert "SRL reward -1.000 (format: No action found)" in body and MALFORMED in body
            await pilot.press("c")  # the student's own run: its 4 steps
            assert not screen.comparing and screen.length == 4 and screen.index == 1
            await pilot.press("end")
            assert screen.index == 3
            await pilot.press("i")
            assert screen.showing_issue
            await pilot.press("q")

    asyncio.run(drive())


def test_pilot_search_reports_match_k_of_n(student):
    trajectory, comparison = _comparison(student)

    async def drive() -> None:
        app = ReplayApp(trajectory, comparison)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            screen = app.screen
            await pilot.press("slash", *"parser.py", "enter")
            first = screen.index
            total = len(screen.matches)
            assert total >= 3 and f"/parser.py: match 1 of {total}" in screen.status_line()
            await pilot.press("n")
            assert screen.index > first and f"match 2 of {total}" in screen.status_line()
            await pilot.press("N")
            assert screen.index == first
            await pilot.press("slash", *"no-such-words", "enter")
            assert "no match" in screen.status_line()

    asyncio.run(drive())


def test_pilot_layout_fits_80_by_24(student):
    trajectory, comparison = _comparison(student)

    async def drive() -> None:
        app = ReplayApp(trajectory, comparison)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            screen = app.screen
            steps, detail = screen.query_one("#steps"), screen.query_one("#detail")
            assert steps.size.width >= 24 and detail.size.width >= 50
            lines = [str(option.prompt) for option in steps.options]
            assert any("str_replace" in line for line in lines)  # the longest tool name, whole
            assert "format error" in lines[1] and "✗" in lines[1]
            await pilot.press("s")  # hide the step list: the detail takes the whole width
            await pilot.pause()
            assert detail.size.width >= 76

    asyncio.run(drive())


def test_pilot_browser_opens_every_trajectory_of_a_folder(fixtures_dir):
    from swe_srl.tui.browser import BrowserScreen
    from swe_srl.tui.launch import ReplayRequest, resolve

    opened = resolve(ReplayRequest(fixtures_dir))
    assert opened.source is not None and len(opened.source.entries) == 3

    async def drive() -> None:
        app = ReplayApp(source=opened.source)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, BrowserScreen)
            assert app.screen.query_one("#tasks").row_count == 3
            await pilot.press("j", "enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, TrajectoryScreen)
            assert screen.trajectory.instance_id == opened.source.entries[1].instance_id
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, BrowserScreen)
            await pilot.press("q")

    asyncio.run(drive())
