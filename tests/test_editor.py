"""``str_replace_editor`` inside a real sandbox: every command and every error path.

The editor runs as ``editor_script.py`` inside the sandbox (bubblewrap here, Docker in the marked
test), so these tests go through ``execute`` exactly as an agent's call does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from swe_srl.records import Action, Task
from swe_srl.tools.editor_script import MAX_RESPONSE_LEN, TRUNCATED_MESSAGE
from swe_srl.tools.executor import ToolResult, execute

MODULE = "def first():\n    return 1\n\n\ndef second():\n    value = 1\n    return value\n\n\nvalue = 1\n"


def make_source(root: Path) -> Path:
    src = root / "src"
    (src / "pkg" / "sub" / "deep").mkdir(parents=True)
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "mod.py").write_text(MODULE)
    (src / "pkg" / ".secret").write_text("hidden\n")
    (src / "pkg" / "sub" / "leaf.py").write_text("x = 1\n")
    (src / "pkg" / "sub" / "deep" / "too_deep.py").write_text("y = 2\n")
    (src / ".hidden").mkdir()
    (src / ".hidden" / "inside.txt").write_text("no\n")
    (src / "README.md").write_text("# demo\n")
    return src


def make_task(root: Path) -> Task:
    return Task(
        instance_id="editor__demo-1",
        repo="demo/editor",
        base_commit="",
        problem_statement="Edit files.",
        repo_dir=str(make_source(root)),
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    from swe_srl.sandbox import make_sandbox

    with make_sandbox("local", make_task(tmp_path_factory.mktemp("editor"))) as box:
        yield box


def edit(sandbox, **args) -> ToolResult:
    return execute(sandbox, Action("str_replace_editor", args), timeout=30)


def read(sandbox, path: str) -> str:
    return sandbox.read_file(path).decode()


def new_file(sandbox, name: str, text: str) -> str:
    path = f"/testbed/scratch/{name}"
    sandbox.write_file(path, text)
    return path


# --------------------------------------------------------------------------------------------
# view


def test_view_file_numbers_lines_like_cat_n(sandbox):
    result = edit(sandbox, command="view", path="/testbed/pkg/mod.py")
    assert result.exit_code == 0
    lines = result.observation.split("\n")
    assert lines[0] == "Here's the result of running `cat -n` on /testbed/pkg/mod.py:"
    assert lines[1] == "     1\tdef first():"
    assert lines[2] == "     2\t    return 1"
    assert lines[10] == "    10\tvalue = 1"


def test_view_range_and_minus_one(sandbox):
    result = edit(sandbox, command="view", path="/testbed/pkg/mod.py", view_range=[5, 7])
    assert result.observation.split("\n")[1:] == [
        "     5\tdef second():",
        "     6\t    value = 1",
        "     7\t    return value",
    ]
    tail = edit(sandbox, command="view", path="/testbed/pkg/mod.py", view_range=[10, -1])
    # The file's last (empty) line: observations are stripped at both ends, as SWE-agent records them.
    assert tail.observation.split("\n")[1:] == ["    10\tvalue = 1", "    11"]


@pytest.mark.parametrize(
    ("view_range", "needle", "code"),
    [
        ([0, 3], "Its first element `0` should be within the range of lines of the file: [1, 11]", 12),
        ([12, 12], "Its first element `12`", 12),
        ([2, 40], "Its second element `40` should be smaller than the number of lines in the file: `11`", 13),
        ([5, 3], "Its second element `3` should be larger or equal than its first `5`", 14),
        ([1], "It should be a list of two integers", 11),
    ],
)
def test_view_range_invalid(sandbox, view_range, needle, code):
    result = edit(sandbox, command="view", path="/testbed/pkg/mod.py", view_range=view_range)
    assert needle in result.observation
    assert result.exit_code == code


def test_view_directory_two_levels_without_hidden(sandbox):
    result = edit(sandbox, command="view", path="/testbed/pkg")
    assert result.exit_code == 0
    lines = result.observation.split("\n")
    assert (
        lines[0]
        == "Here's the files and directories up to 2 levels deep in /testbed/pkg, excluding hidden items:"
    )
    assert lines[1:] == [
        "/testbed/pkg",
        "/testbed/pkg/__init__.py",
        "/testbed/pkg/mod.py",
        "/testbed/pkg/sub",
        "/testbed/pkg/sub/deep",
        "/testbed/pkg/sub/leaf.py",
    ]


def test_view_repository_root_hides_git_and_hidden_dirs(sandbox):
    observation = edit(sandbox, command="view", path="/testbed/").observation
    assert "/testbed/README.md" in observation
    assert ".git" not in observation and ".hidden" not in observation
    assert "/testbed/pkg/sub/leaf.py" not in observation  # three levels below /testbed


def test_view_directory_refuses_view_range(sandbox):
    result = edit(sandbox, command="view", path="/testbed/pkg", view_range=[1, 2])
    assert "`view_range` parameter is not allowed when `path` points to a directory" in result.observation
    assert result.exit_code != 0


def test_view_huge_file_is_clipped(sandbox):
    path = new_file(sandbox, "huge.txt", "".join(f"line {i}\n" for i in range(20_000)))
    result = edit(sandbox, command="view", path=path)
    assert result.exit_code == 0
    assert TRUNCATED_MESSAGE in result.observation
    assert len(result.observation) < MAX_RESPONSE_LEN * 3  # clipped before numbering, as SWE-agent does
    assert "line 19999" not in result.observation


def test_view_huge_python_file_shows_swe_agent_file_map(sandbox):
    body = "".join(f"    x{i} = {i}\n" for i in range(8))
    source = "".join(f"def function_{n}():\n{body}    return 0\n\n\n" for n in range(200))
    path = new_file(sandbox, "big_module.py", source)
    observation = edit(sandbox, command="view", path=path).observation
    assert observation.startswith("<NOTE>This file is too large to display entirely.")
    assert "     1 def function_0():" in observation
    assert "     2 ... eliding lines 2-10 ..." in observation
    assert "x3 = 3" not in observation
    assert observation.endswith("to look at relevant files in detail.</NOTE></IMPORTANT>")


def test_view_non_utf8_file_does_not_crash(sandbox):
    sandbox.write_file("/testbed/scratch/latin1.txt", b"caf\xe9\nok\n")
    result = edit(sandbox, command="view", path="/testbed/scratch/latin1.txt")
    assert result.exit_code == 0
    assert "     2\tok" in result.observation


def test_edit_non_utf8_file_keeps_untouched_bytes(sandbox):
    sandbox.write_file("/testbed/scratch/bytes.txt", b"caf\xe9\nold\n")
    result = edit(
        sandbox, command="str_replace", path="/testbed/scratch/bytes.txt", old_str="old", new_str="new"
    )
    assert result.exit_code == 0
    assert sandbox.read_file("/testbed/scratch/bytes.txt") == b"caf\xe9\nnew\n"


# --------------------------------------------------------------------------------------------
# create


def test_create_then_refuse_existing(sandbox):
    result = edit(sandbox, command="create", path="/testbed/scratch/new.py", file_text="print('hi')\n")
    assert result.observation == "File created successfully at: /testbed/scratch/new.py"
    assert read(sandbox, "/testbed/scratch/new.py") == "print('hi')\n"
    again = edit(sandbox, command="create", path="/testbed/scratch/new.py", file_text="other")
    assert again.observation == (
        "File already exists at: /testbed/scratch/new.py. Cannot overwrite files using command `create`."
    )
    assert again.exit_code == 8
    assert read(sandbox, "/testbed/scratch/new.py") == "print('hi')\n"


def test_create_needs_file_text_and_parent(sandbox):
    missing = edit(sandbox, command="create", path="/testbed/scratch/nothing.py")
    assert "file_text" in missing.observation and missing.exit_code != 0
    orphan = edit(sandbox, command="create", path="/testbed/no/such/dir/a.py", file_text="")
    assert (
        orphan.observation
        == "The parent directory /testbed/no/such/dir does not exist. Please create it first."
    )


# --------------------------------------------------------------------------------------------
# str_replace


def test_str_replace_unique_prints_swe_agent_snippet(sandbox):
    text = "".join(f"line{i}\n" for i in range(1, 21))
    path = new_file(sandbox, "snippet.txt", text)
    result = edit(sandbox, command="str_replace", path=path, old_str="line10\n", new_str="TEN\nTEN-B\n")
    assert result.exit_code == 0
    assert read(sandbox, path) == text.replace("line10\n", "TEN\nTEN-B\n")
    lines = result.observation.split("\n")
    assert lines[0] == (
        f"The file {path} has been edited. Here's the result of running `cat -n` on a snippet of {path}:"
    )
    # SWE-agent's window: from 4 lines before the edit's 0-based line to 4 + new lines after it.
    assert lines[1] == "     5\tline5"
    assert "    10\tTEN" in lines and "    11\tTEN-B" in lines
    assert lines[-2] == "    15\tline14"
    assert (
        lines[-1]
        == "Review the changes and make sure they are as expected. Edit the file again if necessary."
    )


def test_str_replace_zero_occurrences(sandbox):
    path = new_file(sandbox, "zero.py", MODULE)
    result = edit(sandbox, command="str_replace", path=path, old_str="return 3", new_str="return 4")
    assert (
        result.observation
        == f"No replacement was performed, old_str `return 3` did not appear verbatim in {path}."
    )
    assert result.exit_code == 15
    assert read(sandbox, path) == MODULE


def test_str_replace_multiple_occurrences_lists_lines(sandbox):
    path = new_file(sandbox, "many.py", MODULE)
    result = edit(sandbox, command="str_replace", path=path, old_str="value = 1", new_str="value = 2")
    assert result.observation == (
        "No replacement was performed. Multiple occurrences of old_str `value = 1` in lines [6, 10]. "
        "Please ensure it is unique"
    )
    assert result.exit_code == 16
    assert read(sandbox, path) == MODULE


def test_str_replace_multiline_occurrences_report_start_lines(sandbox):
    path = new_file(sandbox, "multi.py", "a\nb\na\nb\n")
    result = edit(sandbox, command="str_replace", path=path, old_str="a\nb", new_str="c")
    assert "in lines [1, 3]" in result.observation


def test_str_replace_same_text_and_missing_old_str(sandbox):
    path = new_file(sandbox, "same.py", MODULE)
    same = edit(sandbox, command="str_replace", path=path, old_str="return 1", new_str="return 1")
    assert "is the same as new_str" in same.observation and same.exit_code != 0
    missing = edit(sandbox, command="str_replace", path=path, new_str="x")
    assert "old_str" in missing.observation and missing.exit_code != 0


def test_str_replace_without_new_str_deletes(sandbox):
    path = new_file(sandbox, "delete.py", "keep\ndrop\n")
    result = edit(sandbox, command="str_replace", path=path, old_str="drop\n")
    assert result.exit_code == 0
    assert read(sandbox, path) == "keep\n"


# --------------------------------------------------------------------------------------------
# insert


def test_insert_after_line_and_at_top(sandbox):
    path = new_file(sandbox, "insert.py", "a\nb\nc\n")
    result = edit(sandbox, command="insert", path=path, insert_line=2, new_str="X")
    assert read(sandbox, path) == "a\nb\nX\nc\n"
    assert result.observation.split("\n")[1:5] == ["     1\ta", "     2\tb", "     3\tX", "     4\tc"]
    assert "(correct indentation, no duplicate lines, etc)" in result.observation
    edit(sandbox, command="insert", path=path, insert_line=0, new_str="TOP")
    assert read(sandbox, path) == "TOP\na\nb\nX\nc\n"


@pytest.mark.parametrize("line", [-1, 6])
def test_insert_out_of_range(sandbox, line):
    path = new_file(sandbox, f"range{line}.py", "a\nb\nc\n")
    result = edit(sandbox, command="insert", path=path, insert_line=line, new_str="X")
    assert result.observation == (
        f"Invalid `insert_line` parameter: {line}. It should be within the range of lines of the file: [0, 4]"
    )
    assert result.exit_code == 17
    assert read(sandbox, path) == "a\nb\nc\n"


# --------------------------------------------------------------------------------------------
# undo_edit


def test_undo_reverts_edits_one_at_a_time(sandbox):
    path = new_file(sandbox, "undo.py", "v1\n")
    edit(sandbox, command="str_replace", path=path, old_str="v1", new_str="v2")
    edit(sandbox, command="insert", path=path, insert_line=1, new_str="more")
    first = edit(sandbox, command="undo_edit", path=path)
    assert first.observation.startswith(f"Last edit to {path} undone successfully. Here's the result")
    assert read(sandbox, path) == "v2\n"
    edit(sandbox, command="undo_edit", path=path)
    assert read(sandbox, path) == "v1\n"
    empty = edit(sandbox, command="undo_edit", path=path)
    assert empty.observation == f"No edit history found for {path}."
    assert empty.exit_code == 18


def test_undo_without_history(sandbox):
    result = edit(sandbox, command="undo_edit", path="/testbed/README.md")
    assert result.observation == "No edit history found for /testbed/README.md."


# --------------------------------------------------------------------------------------------
# Paths


def test_relative_path_is_refused_with_a_suggestion(sandbox):
    result = edit(sandbox, command="view", path="pkg/mod.py")
    assert result.observation == (
        "The path pkg/mod.py is not an absolute path, it should start with `/`. "
        "Maybe you meant /testbed/pkg/mod.py?"
    )
    assert result.exit_code == 6


@pytest.mark.parametrize(
    ("command", "extra"),
    [("view", {}), ("create", {"file_text": "x"}), ("str_replace", {"old_str": "root", "new_str": "toor"})],
)
@pytest.mark.parametrize("path", ["/etc/passwd", "/testbed/../etc/passwd", "/testbed/pkg/../../etc/hostname"])
def test_paths_outside_testbed_are_refused(sandbox, command, extra, path):
    result = edit(sandbox, command=command, path=path, **extra)
    assert "is outside the repository" in result.observation
    assert result.exit_code == 22


def test_symlink_to_etc_passwd_is_refused(sandbox):
    sandbox.run(
        "mkdir -p /testbed/scratch && ln -sf /etc/passwd /testbed/scratch/pw"
        " && ln -sfn /etc /testbed/scratch/etcdir"
    )
    for path in ("/testbed/scratch/pw", "/testbed/scratch/etcdir/passwd", "/testbed/scratch/etcdir"):
        result = edit(sandbox, command="view", path=path)
        assert "is outside the repository" in result.observation, path
        assert "root:" not in result.observation
    created = edit(sandbox, command="create", path="/testbed/scratch/etcdir/evil", file_text="x")
    assert "is outside the repository" in created.observation


def test_missing_path_and_directory_edits(sandbox):
    missing = edit(sandbox, command="view", path="/testbed/nope.py")
    assert missing.observation == "The path /testbed/nope.py does not exist. Please provide a valid path."
    directory = edit(sandbox, command="str_replace", path="/testbed/pkg", old_str="a", new_str="b")
    assert "is a directory and only the `view` command can be used on directories" in directory.observation


def test_schema_errors_never_reach_the_sandbox(sandbox):
    result = edit(sandbox, command="delete", path="/testbed/pkg/mod.py")
    assert "must be one of" in result.observation
    assert result.exit_code != 0
    assert read(sandbox, "/testbed/pkg/mod.py") == MODULE


def test_observation_format_matches_real_swe_agent_output(sandbox, fixtures_dir):
    """Our view output has the same shape as the expert's observations in the SWE-smith trajectory."""
    import json

    data = json.loads((fixtures_dir / "swesmith_pandas_53856.traj").read_text())
    expert = next(
        step["observation"].replace("\r\n", "\n")
        for step in data["trajectory"]
        if step["action"].startswith("str_replace_editor view") and "--view_range" in step["action"]
    )
    ours = edit(sandbox, command="view", path="/testbed/pkg/mod.py", view_range=[2, 4]).observation
    # a last, empty line loses its tab: SWE-agent strips every observation at both ends
    pattern = re.compile(r"Here's the result of running `cat -n` on /testbed/\S+:\n( {0,5}\d+(\t.*)?\n?)+")
    assert pattern.fullmatch(expert)
    assert pattern.fullmatch(ours)


@pytest.mark.parametrize("backend", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_editor_round_trip_on_each_backend(tmp_path, backend):
    from swe_srl.sandbox import make_sandbox

    with make_sandbox(backend, make_task(tmp_path)) as box:
        view = edit(box, command="view", path="/testbed/pkg/mod.py", view_range=[1, 2])
        assert view.observation.split("\n")[1:] == ["     1\tdef first():", "     2\t    return 1"]
        edit(box, command="str_replace", path="/testbed/pkg/mod.py", old_str="return 1", new_str="return 42")
        assert "return 42" in box.diff()
        escape = edit(box, command="view", path="/testbed/../etc/passwd")
        assert "is outside the repository" in escape.observation
        assert edit(box, command="undo_edit", path="/testbed/pkg/mod.py").exit_code == 0
        assert box.diff().strip() == ""
