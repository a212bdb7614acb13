"""The executor: bash, the editor and submit in a real sandbox, and agent mistakes as observations."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.records import Action, Task
from swe_srl.tools.executor import EMPTY_PATCH, ToolResult, clear_editor_history, execute
from swe_srl.tools.observation import MAX_OBSERVATION_LENGTH, NO_OUTPUT, clip_observation


def make_task(root: Path) -> Task:
    src = root / "src"
    src.mkdir()
    (src / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    return Task(
        instance_id="tools__demo-1",
        repo="demo/tools",
        base_commit="",
        problem_statement="add() subtracts.",
        repo_dir=str(src),
    )


@pytest.fixture
def sandbox(tmp_path):
    from swe_srl.sandbox import make_sandbox

    with make_sandbox("local", make_task(tmp_path)) as box:
        yield box


def bash(sandbox, command: str, timeout: float = 30) -> ToolResult:
    return execute(sandbox, Action("bash", {"command": command}), timeout=timeout)


def test_bash_output_and_exit_code(sandbox):
    result = bash(sandbox, "cat calc.py; echo err >&2; exit 3")
    assert "return a - b" in result.observation
    assert "err" in result.observation
    assert result.exit_code == 3
    assert not result.submitted and not result.timed_out
    assert result.duration > 0


def test_bash_runs_in_testbed(sandbox):
    assert bash(sandbox, "pwd").observation == "/testbed"


def test_bash_empty_output_uses_swe_agent_text(sandbox):
    ok = bash(sandbox, "true")
    assert ok.observation == NO_OUTPUT == "Your command ran successfully and did not produce any output."
    failed = bash(sandbox, "grep -n nothing-here calc.py")
    assert failed.observation == NO_OUTPUT  # what SWE-agent showed its experts ...
    assert failed.exit_code == 1  # ... while the exit status stays known


def test_bash_timeout_observation(sandbox):
    result = bash(sandbox, "echo started; sleep 20", timeout=1)
    assert result.timed_out
    assert result.exit_code != 0
    assert "was cancelled because it took more than 1 seconds" in result.observation
    assert result.duration < 15


def test_long_output_is_clipped_once_as_swe_agent_clips_it(sandbox):
    """Head only, SWE-agent's note, and the count of every elided character (the sandbox's own cap
    at 100,000 characters is undone, not stacked: no second marker, no stray mid-text note)."""
    result = bash(sandbox, "python3 -c \"print('x' * 300000); print('THE END')\"")
    limit = MAX_OBSERVATION_LENGTH
    assert result.observation.startswith("x" * limit + "<response clipped><NOTE>Observations should not")
    # every character after the head counts, the output's final newline included
    assert f"{300_000 + 1 + 7 + 1 - limit} characters were elided" in result.observation
    assert "characters omitted" not in result.observation and "THE END" not in result.observation


def test_clip_observation_keeps_the_head():
    assert clip_observation("short", limit=20) == "short"
    clipped = clip_observation("a" * 50, limit=20)
    assert clipped.startswith("a" * 20 + "<response clipped>") and "30 characters were elided" in clipped
    assert "80 characters were elided" in clip_observation("a" * 50, limit=20, total=100)


def test_submit_returns_the_patch(sandbox):
    edit = Action(
        "str_replace_editor",
        {"command": "str_replace", "path": "/testbed/calc.py", "old_str": "a - b", "new_str": "a + b"},
    )
    assert execute(sandbox, edit).exit_code == 0
    result = execute(sandbox, Action("submit"))
    assert result.submitted
    assert result.exit_code == 0
    assert "-    return a - b" in result.patch and "+    return a + b" in result.patch
    assert result.observation == result.patch.strip()  # observations are stripped, the patch is whole


def test_submit_without_changes(sandbox):
    result = execute(sandbox, Action("submit"))
    assert result.submitted and result.patch == ""
    assert result.observation == EMPTY_PATCH


@pytest.mark.parametrize(
    ("action", "needle"),
    [
        (Action("grep", {"pattern": "x"}), "Unknown tool 'grep'"),
        (Action("bash", {}), "requires the parameter 'command'"),
        (Action("bash", {"command": "ls", "timeout": 5}), "has no parameter 'timeout'"),
        (Action("str_replace_editor", {"command": "view"}), "requires the parameter 'path'"),
        (Action("submit", {"force": "yes"}), "has no parameter 'force'"),
        (Action("bash", {"command": "echo a\0b"}), "NUL character"),
        (
            Action("str_replace_editor", {"command": "view", "path": "/testbed", "view_range": "1,2"}),
            "JSON list",
        ),
    ],
)
def test_agent_mistakes_become_observations(sandbox, action, needle):
    result = execute(sandbox, action)
    assert needle in result.observation
    assert result.exit_code != 0
    assert not result.submitted


def test_editor_state_survives_between_calls(sandbox):
    path = "/testbed/calc.py"
    execute(
        sandbox,
        Action("str_replace_editor", {"command": "insert", "path": path, "insert_line": 0, "new_str": "#"}),
    )
    bash(sandbox, "cd /tmp && export FOO=1")  # the agent's shell state must not matter to the editor
    undo = execute(sandbox, Action("str_replace_editor", {"command": "undo_edit", "path": path}))
    assert undo.exit_code == 0, undo.observation
    assert sandbox.read_file(path).decode() == "def add(a, b):\n    return a - b\n"


@pytest.mark.parametrize("backend", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_bash_edit_and_submit_on_each_backend(tmp_path, backend):
    from swe_srl.sandbox import make_sandbox

    with make_sandbox(backend, make_task(tmp_path)) as box:
        assert bash(box, "true").observation == NO_OUTPUT
        fix = "sed -i 's/a - b/a + b/' calc.py && python3 -c 'import calc; print(calc.add(2, 3))'"
        assert bash(box, fix).observation == "5"
        result = execute(box, Action("submit"))
        assert result.submitted and "+    return a + b" in result.patch


def test_editor_ignores_the_agents_python_environment(sandbox):
    shadow = (
        "mkdir -p /tmp/evil && echo 'raise SystemExit(99)' > /tmp/evil/json.py && export PYTHONPATH=/tmp/evil"
    )
    bash(sandbox, shadow)
    assert bash(sandbox, "python3 -c 'import json'").exit_code == 99  # the agent's own python is shadowed
    view = execute(sandbox, Action("str_replace_editor", {"command": "view", "path": "/testbed/calc.py"}))
    assert view.exit_code == 0, view.observation
    assert "     2\t    return a - b" in view.observation


def test_history_cleared_after_reset(sandbox):
    path = "/testbed/calc.py"
    insert = {"command": "insert", "path": path, "insert_line": 0, "new_str": "# edited"}
    assert execute(sandbox, Action("str_replace_editor", insert)).exit_code == 0
    sandbox.reset()
    clear_editor_history(sandbox)
    undo = execute(sandbox, Action("str_replace_editor", {"command": "undo_edit", "path": path}))
    assert undo.observation == f"No edit history found for {path}."


def test_every_timeout_is_reported_as_one(sandbox):
    """Repeated timeouts: the backend's watchdog race (kill reported as a plain 137) must not leak through."""
    for _ in range(8):
        result = bash(sandbox, "sleep 20", timeout=0.3)
        assert result.timed_out, result
        assert "was cancelled" in result.observation
