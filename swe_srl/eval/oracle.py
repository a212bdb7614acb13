"""The oracle-file-edit setting (SWE-RL / SRL "oracle"): one answer, given the right files.

The model sees the issue and the full base content of every file the gold patch touches, and
answers once. The answer format is a sequence of ``str_replace_editor`` calls in the canonical XML
format (``str_replace``, ``create`` or ``insert``; other calls are ignored), applied in order in a
sandbox; the resulting diff is graded like any other patch. Policies with an ``oracle_answer``
method answer the prompt directly; other policies get it through ``act`` with an empty history.
"""

from __future__ import annotations

import dataclasses
import re

from swe_srl.actions import ActionParseError, parse_action
from swe_srl.records import Action, Step, Task, Trajectory
from swe_srl.sandbox.base import TESTBED

EDIT_COMMANDS = ("str_replace", "create", "insert")
_CALL = re.compile(r"<function=[^>\n]*>.*?</function>", re.DOTALL)

ORACLE_TEMPLATE = """You are given an issue and the full content of the files that must change to resolve it.

<issue_description>
{problem_statement}
</issue_description>

{files}

Resolve the issue by editing these files. Answer with one or more str_replace_editor calls, applied \
in order, each in this format:
<function=str_replace_editor>
<parameter=command>str_replace</parameter>
<parameter=path>{testbed}/path/to/file.py</parameter>
<parameter=old_str>exact text to replace (must occur once)</parameter>
<parameter=new_str>replacement text</parameter>
</function>
The commands `create` (with file_text) and `insert` (with insert_line and new_str) are also allowed."""


def gold_files(task: Task) -> list[str]:
    """Paths (relative to the repository) of the files the gold patch modifies or deletes."""
    from unidiff import PatchSet

    return [f.path for f in PatchSet(task.patch) if not f.is_added_file]


def oracle_prompt(task: Task) -> str:
    """The single prompt of the oracle setting."""
    from swe_srl.eval.patches import base_file

    blocks = [f'<file path="{TESTBED}/{path}">\n{base_file(task, path)}</file>' for path in gold_files(task)]
    return ORACLE_TEMPLATE.format(
        problem_statement=task.problem_statement.strip(), files="\n\n".join(blocks), testbed=TESTBED
    )


def parse_edits(answer: str) -> list[Action]:
    """The editing calls in an answer, in order (unparsable calls and other tools are dropped)."""
    edits = []
    for match in _CALL.finditer(answer):
        try:
            action = parse_action(match.group(0))
        except ActionParseError:
            continue
        if action.tool == "str_replace_editor" and action.args.get("command") in EDIT_COMMANDS:
            edits.append(action)
    return edits


def _answer(policy: object, prompt: str) -> str:
    oracle = getattr(policy, "oracle_answer", None)
    return oracle(prompt) if callable(oracle) else policy.act(prompt, [])  # type: ignore[attr-defined]


def run_oracle(task: Task, policy: object, settings, ctx):
    """Ask once, apply the edits in a sandbox, grade the diff (an ``AttemptOutcome``).

    ``settings`` and ``ctx`` are the attempt's (``swe_srl.engine.attempt``): the answer is the
    agent phase, the grade comes out of the same budget.
    """
    from swe_srl.engine.attempt import AttemptOutcome, ask_policy, grade, policy_exit_status
    from swe_srl.engine.taxonomy import InfrastructureError, one_line
    from swe_srl.sandbox import make_sandbox
    from swe_srl.tools.executor import execute

    prompt = oracle_prompt(task)
    steps: list[Step] = []
    failure = exit_status = ""  # the model's own failure (not its server's): the empty diff is graded
    with ctx.phase("agent", "model_server"):
        try:
            answer = ask_policy(getattr(policy, "name", "policy"), _answer, policy, prompt)
        except InfrastructureError:
            raise
        except Exception as err:
            answer, failure, exit_status = "", one_line(err), policy_exit_status(err)
    with ctx.phase("agent", "sandbox"), make_sandbox(settings.sandbox, task) as sandbox:
        for action in parse_edits(answer):
            result = execute(sandbox, action, ctx.budget.clamp(60.0))
            steps.append(
                Step(thought="", action=action, observation=result.observation, duration=result.duration)
            )
        patch = sandbox.diff()
    result, log = grade(task, patch, settings, ctx)
    result = dataclasses.replace(result, steps=len(steps), duration=round(ctx.budget.elapsed(), 3))
    if failure:
        reason = "; ".join(filter(None, (f"the policy did not answer: {failure}", result.reason)))
        result = dataclasses.replace(result, reason=reason)
    trajectory = Trajectory(
        instance_id=task.instance_id,
        source_format="swe-srl",
        model=getattr(policy, "name", "policy"),
        problem_statement=prompt,
        steps=steps,
        final_patch=patch,
        resolved=result.resolved,
        metadata={
            "setting": "oracle",
            "policy": getattr(policy, "name", "policy"),
            "answer": answer,
            "eval_status": result.status,
            **({"exit_status": exit_status, "policy_error": failure} if failure else {}),
        },
    )
    return AttemptOutcome(result, trajectory, log)
