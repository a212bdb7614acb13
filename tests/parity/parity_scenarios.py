"""Tool scenarios with the observation text SWE-agent 1.0.1 gave its experts (SWE-smith's teacher).

Each expected text follows what real recorded trajectories show (tests/fixtures): SWE-agent's
``str_replace_editor`` messages (tools/edit_anthropic), its bash observations read from a pty and
recorded stripped at both ends, its no-output sentence, its timeout sentence, and its clipping
note. ``KNOWN_DIFFERENCES`` names the scenarios where swe-srl still differs, and why; the parity
score in the README is the share of scenarios that match byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from swe_srl.records import Action

NO_OUTPUT = "Your command ran successfully and did not produce any output."
MOD = "/testbed/pkg/mod.py"
MODULE = "def first():\n    return 1\n\n\ndef second():\n    value = 1\n    return value\n\n\nvalue = 1\n"


def bash(command: str) -> Action:
    return Action("bash", {"command": command})


def editor(**args) -> Action:
    return Action("str_replace_editor", args)


def cat_n(path: str, lines: list[str], first: int = 1, descriptor: str = "") -> str:
    body = "\n".join(f"{n:6}\t{line}" for n, line in enumerate(lines, start=first))
    return f"Here's the result of running `cat -n` on {descriptor or path}:\n{body}".rstrip()


@dataclass(frozen=True)
class Scenario:
    name: str
    action: Action
    expected: str
    setup: tuple[Action, ...] = field(default_factory=tuple)
    timeout: float = 30.0


LINES = MODULE.split("\n")
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("bash_echo", bash("echo hello"), "hello"),
    Scenario("bash_no_output", bash("true"), NO_OUTPUT),
    Scenario("bash_failing_no_output", bash("false"), NO_OUTPUT),
    Scenario("bash_trailing_whitespace", bash("printf 'a  \\n\\n\\n'"), "a"),
    Scenario("bash_leading_whitespace", bash("printf '   12 files\\n'"), "12 files"),
    Scenario("bash_crlf", bash("printf 'one\\r\\ntwo\\r\\n'"), "one\ntwo"),
    Scenario("bash_ansi_colours", bash("printf '\\033[1;31mred\\033[0m plain\\n'"), "red plain"),
    Scenario(
        "bash_prints_then_traceback",
        bash("python3 -c \"print('before'); raise SystemExit('boom')\""),
        "before\nboom",
    ),
    Scenario(
        "bash_stdout_stderr_order",
        bash("python3 -c \"import sys; print('out1'); print('err', file=sys.stderr); print('out2')\""),
        "out1\nerr\nout2",
    ),
    Scenario("bash_exit_code_kept_out", bash("echo partial; exit 3"), "partial"),
    Scenario(
        "bash_timeout",
        bash("sleep 5"),
        "The command 'sleep 5' was cancelled because it took more than 1 seconds. Please try a different "
        "command that completes more quickly. Note: A common source of this error is if the command is "
        "interactive or requires user input (it is impossible to receive user input in the current "
        "environment, so the command will never complete).",
        timeout=1.0,
    ),
    Scenario(
        "bash_timeout_with_partial_output",
        bash("echo started; sleep 5"),
        "The command 'echo started; sleep 5' was cancelled because it took more than 1 seconds. Please try "
        "a different command that completes more quickly. Note: A common source of this error is if the "
        "command is interactive or requires user input (it is impossible to receive user input in the "
        "current environment, so the command will never complete).",
        timeout=1.0,
    ),
    Scenario(
        "bash_long_output_clipped_once",
        bash("python3 -c \"print('y' * 80000)\""),
        "y"
        * 70000
        + "<response clipped><NOTE>Observations should not exceeded 70000 characters. 10000 characters were "
        "elided. Please try a different command that produces less output or use head/tail/grep/redirect "
        "the output to a file. Do not use interactive pagers.</NOTE>",
    ),
    Scenario("bash_ls_columns", bash("ls /testbed/pkg"), "__init__.py  mod.py  sub"),
    Scenario(
        "bash_waits_for_input",
        bash("read line; echo got:$line"),
        "The command 'read line; echo got:$line' was cancelled because it took more than 2 seconds. Please "
        "try a different command that completes more quickly. Note: A common source of this error is if the "
        "command is interactive or requires user input (it is impossible to receive user input in the "
        "current environment, so the command will never complete).",
        timeout=2.0,
    ),
    Scenario("editor_view_file", editor(command="view", path=MOD), cat_n(MOD, LINES)),
    Scenario(
        "editor_view_range", editor(command="view", path=MOD, view_range=[5, 7]), cat_n(MOD, LINES[4:7], 5)
    ),
    Scenario(
        "editor_view_to_end",
        editor(command="view", path=MOD, view_range=[9, -1]),
        cat_n(MOD, LINES[8:], 9),
    ),
    Scenario(
        "editor_create",
        editor(command="create", path="/testbed/new.py", file_text="print('hi')\n"),
        "File created successfully at: /testbed/new.py",
    ),
    Scenario(
        "editor_create_existing",
        editor(command="create", path=MOD, file_text="x"),
        f"File already exists at: {MOD}. Cannot overwrite files using command `create`.",
    ),
    Scenario(
        "editor_missing_path",
        editor(command="view", path="/testbed/nope.py"),
        "The path /testbed/nope.py does not exist. Please provide a valid path.",
    ),
    Scenario(
        "editor_relative_path",
        editor(command="view", path="pkg/mod.py"),
        "The path pkg/mod.py is not an absolute path, it should start with `/`. Maybe you meant "
        "/testbed/pkg/mod.py?",
    ),
    Scenario(
        "editor_str_replace_missing",
        editor(command="str_replace", path=MOD, old_str="nowhere", new_str="x"),
        f"No replacement was performed, old_str `nowhere` did not appear verbatim in {MOD}.",
    ),
    Scenario(
        "editor_str_replace_repeated",
        editor(command="str_replace", path=MOD, old_str="value = 1", new_str="value = 2"),
        "No replacement was performed. Multiple occurrences of old_str `value = 1` in lines [6, 10]. "
        "Please ensure it is unique",
    ),
    Scenario(
        "editor_str_replace_same",
        editor(command="str_replace", path=MOD, old_str="return 1", new_str="return 1"),
        "No replacement was performed, old_str `return 1` is the same as new_str `return 1`.",
    ),
    Scenario(
        "editor_str_replace",
        editor(command="str_replace", path=MOD, old_str="    return 1", new_str="    return 42"),
        f"The file {MOD} has been edited. "
        + cat_n(
            MOD,
            ["def first():", "    return 42", "", "", "def second():"],
            1,
            f"a snippet of {MOD}",
        )
        + "\nReview the changes and make sure they are as expected. Edit the file again if necessary.",
    ),
    Scenario(
        "editor_insert",
        editor(command="insert", path=MOD, insert_line=1, new_str="    # first"),
        f"The file {MOD} has been edited. "
        + cat_n(
            MOD,
            ["def first():", "    # first", "    return 1", "", "", "def second():"],
            1,
            "a snippet of the edited file",
        )
        + "\nReview the changes and make sure they are as expected (correct indentation, no duplicate lines, "
        "etc). Edit the file again if necessary.",
    ),
    Scenario(
        "editor_view_directory",
        editor(command="view", path="/testbed/pkg"),
        "Here's the files and directories up to 2 levels deep in /testbed/pkg, excluding hidden items:\n"
        "/testbed/pkg\n/testbed/pkg/__init__.py\n/testbed/pkg/mod.py\n/testbed/pkg/sub\n/testbed/pkg/sub/leaf.py",
    ),
    Scenario(
        "editor_undo_after_edit",
        editor(command="undo_edit", path=MOD),
        f"No edit history found for {MOD}.",
        setup=(editor(command="str_replace", path=MOD, old_str="    return 1", new_str="    return 2"),),
    ),
    Scenario(
        "editor_tabs_expanded",
        editor(command="view", path="/testbed/tabs.py"),
        cat_n("/testbed/tabs.py", ["if x:", "        y = 1", ""]),
        setup=(bash("printf 'if x:\\n\\ty = 1\\n' > /testbed/tabs.py"),),
    ),
)

# Where swe-srl still differs from what SWE-agent 1.0.1 recorded, and why it is left so.
KNOWN_DIFFERENCES: dict[str, str] = {
    "bash_ls_columns": "no pty: ls prints one name per line (SWE-agent's pty made it print columns)",
    "bash_waits_for_input": "stdin is empty: `read` returns at once (SWE-agent's pty waited to the timeout)",
    "editor_undo_after_edit": "our undo works; SWE-agent 1.0.1's history never persisted: undo failed",
}
