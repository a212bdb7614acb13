"""``ExpertPolicy`` (policy name ``expert``): a scripted agent that solves a task the way a good one does.

The expert knows the task's fix (its ``patch``) and works towards it as a careful agent would:

1. explore: an overview of the repository (sometimes), ``grep`` for a name from the issue, an
   outline of the module, ``str_replace_editor view`` of the code around each change;
2. reproduce: a script built from the issue's ``>>>`` examples (or the failing tests), run once;
3. edit: one ``str_replace`` per changed block, with the smallest unique ``old_str`` of whole lines;
   files after the first are found with another search and viewed before they are edited;
4. verify: rerun the script, run the module's existing tests, delete the script, maybe ``git diff``;
5. submit.

Every reply carries a monologue that says why the step is taken, written from what the agent has
seen so far (the issue and earlier observations), never from the fix it was built from. Choices
(which searches, how much context, the phrasing) are drawn from an RNG seeded by the instance id
and ``variant``, so one task always gives the same episode and different tasks read differently.
The expert reads only the number of steps and the latest observation from the history.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from swe_srl.context import render_reply
from swe_srl.policy.expert_analysis import (
    Edit,
    FileEdits,
    as_clause,
    describe_change,
    is_doc_only,
    issue_identifiers,
    issue_title,
    plan_edits,
    rank_for_file,
)
from swe_srl.policy.expert_phrases import Facts, say, summarize_output, summarize_tests
from swe_srl.policy.expert_repro import repro_from_issue, repro_from_tests
from swe_srl.records import Action, Step, Task
from swe_srl.sandbox.base import TESTBED

NAME = "expert"
SUBMIT = Action("submit", {})
VIEW_GAP = 60  # changes further apart than this many lines are viewed separately
SCRIPT_NAMES = ("reproduce_issue.py", "reproduce_issue.py", "reproduce.py", "reproduce_bug.py")

ReadBase = Callable[[str], "str | None"]  # None: the file cannot be read


@dataclass(frozen=True)
class PlannedStep:
    """One step of the plan: its kind (a key of ``PHRASES``), the action and the monologue's facts."""

    kind: str
    action: Action
    facts: Facts
    lead: str = ""  # "confirmed" | "tests" | "cleanup": the monologue opens with the last observation


def _bash(command: str) -> Action:
    return Action("bash", {"command": command})


def _editor(command: str, path: str, **args) -> Action:
    return Action("str_replace_editor", {"command": command, "path": path, **args})


def _seed(task: Task, variant: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{task.instance_id}:{variant}".encode()).digest()[:8], "big")


def base_reader(task: Task) -> ReadBase:
    """Reads files of the task's base state (the prepared repository, built once and cached).

    Tasks that only exist as an image (no source tree here) read as None: the expert then edits
    whole hunks, which needs no base text.
    """
    from swe_srl.sandbox.workspace import prepare_base_repo

    try:
        repo = prepare_base_repo(task)
    except Exception:  # no source tree for this task on this machine
        return lambda path: None

    def read(path: str) -> str | None:
        try:
            return (repo / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    return read


class _Planner:
    """Builds the plan of one episode; ``rng`` makes every choice."""

    def __init__(self, task: Task, rng: random.Random, read_base: ReadBase):
        self.task, self.rng, self.read = task, rng, read_base
        self.title = issue_title(task.problem_statement)
        self.base = Facts(title=self.title, clause=as_clause(self.title))
        self.idents = issue_identifiers(task.problem_statement)
        self.script = rng.choice(SCRIPT_NAMES)
        self.steps: list[PlannedStep] = []

    def add(self, kind: str, action: Action, lead: str = "", **facts) -> None:
        self.steps.append(PlannedStep(kind, action, replace(self.base, script=self.script, **facts), lead))

    # -- exploration -----------------------------------------------------------------------

    def orient(self, pkg: str) -> None:
        choice = self.rng.randrange(3)
        if choice == 0:
            action = _editor("view", TESTBED)
        elif choice == 1:
            action = _bash(f'find {TESTBED} -type f -name "*.py" -not -path "*/.git/*" | sort')
        else:
            action = _bash(f"ls {TESTBED} {TESTBED}/{pkg}" if pkg else f"ls -la {TESTBED}")
        self.add("orient", action)

    def locate(self, search: str, pkg: str, defined: bool, kind: str = "locate", **facts) -> None:
        where = f"{TESTBED}/{pkg}" if pkg else f'{TESTBED} --include="*.py"'
        options = [f'grep -rn "{search}" {where}', f'grep -rln "{search}" {TESTBED} --include="*.py"']
        if defined:
            options.append(f'grep -rn "def {search}\\|class {search}" {TESTBED} --include="*.py"')
        if pkg:
            options.append(f'find {TESTBED}/{pkg} -name "*.py" | xargs grep -n "{search}"')
        self.add(kind, _bash(self.rng.choice(options)), search=search, **facts)

    def outline(self, path: str, search: str) -> None:
        command = self.rng.choice(
            (
                f'grep -n "def \\|class " {TESTBED}/{path}',
                f'grep -nE "^(class|def) |^    def " {TESTBED}/{path}',
            )
        )
        self.add("outline", _bash(command), search=search, file=path)

    def views(self, fe: FileEdits) -> None:
        clusters: list[list[Edit]] = []
        for edit in sorted(fe.edits, key=lambda e: e.base_line):
            if clusters and edit.base_line - clusters[-1][-1].base_line <= VIEW_GAP:
                clusters[-1].append(edit)
            else:
                clusters.append([edit])
        path = f"{TESTBED}/{fe.path}"
        for cluster in clusters:
            first = cluster[0]
            kind = "view" if "." in first.scope or _is_function(first) else "view_module"
            scope = first.scope or PurePosixPath(fe.path).stem
            if fe.base_lines <= 60 and len(clusters) == 1 and self.rng.random() < 0.5:
                self.add(
                    kind,
                    _editor("view", path),
                    file=fe.path,
                    scope=scope,
                    line=first.base_line,
                    start=1,
                    end=fe.base_lines,
                )
                continue
            start = max(1, first.base_line - self.rng.randint(6, 16))
            end = min(
                fe.base_lines, cluster[-1].base_line + len(cluster[-1].removed) + self.rng.randint(8, 20)
            )
            self.add(
                kind,
                _editor("view", path, view_range=[start, end]),
                file=fe.path,
                scope=scope,
                line=first.base_line,
                start=start,
                end=end,
            )

    # -- reproduction ----------------------------------------------------------------------

    def repro_command(self) -> str:
        if self.rng.random() < 0.5:
            return f"cd {TESTBED} && python3 {self.script}"
        return f"python3 {TESTBED}/{self.script}"

    def reproduce(self, pkg: str) -> str:
        task = self.task
        body = repro_from_issue(task.problem_statement) or repro_from_tests(
            task.test_patch, task.FAIL_TO_PASS
        )
        if not body:
            module = pkg or "sys"
            body = f"import {module}\n\nprint({module})\n"
        text = f"# Reproduction of: {self.title}\n{body}"
        self.add("repro_create", _editor("create", f"{TESTBED}/{self.script}", file_text=text))
        command = self.repro_command()
        self.add("repro_run", _bash(command))
        return command

    # -- edits ------------------------------------------------------------------------------

    def edits(self, fe: FileEdits, lead: str) -> None:
        path = f"{TESTBED}/{fe.path}"
        if fe.kind == "added":
            self.add("edit_new_file", _editor("create", path, file_text=fe.new_text), lead, file=fe.path)
            return
        if fe.kind == "removed":
            self.add(
                "edit_more",
                _bash(f"rm {path}"),
                lead,
                file=fe.path,
                scope=fe.path,
                desc="the file is no longer needed",
            )
            return
        for index, edit in enumerate(fe.edits):
            old = next((x.strip() for x in edit.removed if x.strip()), edit.old_str.strip().splitlines()[0])
            kind = "edit_insert" if not edit.removed else ("edit" if index == 0 else "edit_more")
            if index > 0 and is_doc_only(list(edit.removed), list(edit.added)):
                kind = "edit_doc"
            action = _editor("str_replace", path, old_str=edit.old_str, new_str=edit.new_str)
            self.add(
                kind,
                action,
                lead if index == 0 else "",
                file=fe.path,
                line=edit.line,
                scope=edit.scope or PurePosixPath(fe.path).stem,
                old=old,
                desc=describe_change(edit.removed, edit.added),
            )
            lead = ""

    # -- verification -------------------------------------------------------------------------

    def test_files(self, files: list[FileEdits]) -> list[str]:
        known = sorted({t.split("::")[0] for t in self.task.PASS_TO_PASS if "::" in t})
        stems = {PurePosixPath(fe.path).stem for fe in files}
        matching = [f for f in known if PurePosixPath(f).stem.removeprefix("test_") in stems]
        if matching:
            return matching
        if 0 < len(known) <= 3:
            return known
        return [str(PurePosixPath(known[0]).parent)] if known else ["."]

    def verify(self, files: list[FileEdits], repro: str) -> None:
        self.add("rerun", _bash(repro))
        tests = " ".join(self.test_files(files))
        command = self.rng.choice(
            (
                f"cd {TESTBED} && python3 -m pytest -q {tests}",
                f"cd {TESTBED} && python3 -m pytest {tests} -q",
                f"cd {TESTBED} && python3 -m pytest -q --tb=short {tests}",
            )
        )
        self.add("tests", _bash(command), "tests")
        cleanup = self.rng.choice(
            (
                f"rm {TESTBED}/{self.script}",
                f"cd {TESTBED} && rm {self.script} && git status --short",
                f"rm -f {TESTBED}/{self.script}",
            )
        )
        self.add("cleanup", _bash(cleanup), "cleanup")
        if self.rng.random() < 0.5:
            self.add("review", _bash(f"cd {TESTBED} && git diff"))
        self.add("submit", SUBMIT)


def _is_function(edit: Edit) -> bool:
    return bool(edit.scope) and any(
        line.lstrip().startswith(("def ", "class ", "async def ")) or line[:1].isspace()
        for line in (*edit.removed, edit.old_str)
    )


def _patch_text(fe: FileEdits) -> str:
    """What the patch shows of a file, for when the file itself cannot be read."""
    return "\n".join(edit.old_str for edit in fe.edits) or fe.new_text


def build_plan(task: Task, variant: int = 0, read_base: ReadBase | None = None) -> list[PlannedStep]:
    """The expert's whole episode for ``task`` (deterministic in ``task`` and ``variant``)."""
    rng = random.Random(_seed(task, variant))
    read = read_base or base_reader(task)
    files = plan_edits(task.patch, read, widen_for=lambda _: rng.choice((0, 0, 0, 1)))
    planner = _Planner(task, rng, read)
    first = next((fe for fe in files if fe.kind == "modified"), files[0])
    pkg = str(PurePosixPath(first.path).parent) if "/" in first.path else ""
    first_text = (read(first.path) if first.kind == "modified" else first.new_text) or _patch_text(first)
    ranked = rank_for_file(planner.idents, first_text)
    scope = first.edits[0].scope.split(".")[-1] if first.edits else ""
    preferred = [n for n in ranked if n == scope]  # the issue names the function that needs the change
    search = (preferred or ranked or [scope or PurePosixPath(first.path).stem])[0]
    if rng.random() < 0.7:
        planner.orient(pkg)
    repro_first = rng.random() < 0.3
    repro = planner.reproduce(pkg) if repro_first else ""
    planner.locate(
        search,
        pkg,
        f"def {search}" in first_text or f"class {search}" in first_text,
        kind="locate" if ranked else "locate_guess",
        lead="confirmed" if repro_first else "",
    )
    if first.edits and (scope != search or rng.random() < 0.3):
        planner.outline(first.path, search)
    planner.views(first)
    if not repro_first:
        repro = planner.reproduce(pkg)
    planner.edits(first, "" if repro_first else "confirmed")
    for fe in files:
        if fe is first:
            continue
        if fe.kind == "modified":
            others = [
                n for n in rank_for_file(planner.idents, read(fe.path) or _patch_text(fe)) if n != search
            ]
            search2 = (
                others[0] if others else (fe.edits[0].scope.split(".")[-1] or PurePosixPath(fe.path).stem)
            )
            kind = "locate_more" if others else "locate_other"
            planner.locate(search2, pkg, False, kind=kind, file=first.path)
            planner.views(fe)
        planner.edits(fe, "")
    planner.verify(files, repro)
    return planner.steps


class ExpertPolicy:
    """Plays :func:`build_plan`'s episode; the monologue quotes the latest observation where it helps."""

    def __init__(self, task: Task, variant: int = 0, read_base: ReadBase | None = None):
        self.task = task
        self.variant = variant
        self.name = NAME if variant == 0 else f"{NAME}:{variant}"
        self.plan = build_plan(task, variant, read_base)

    def act(self, problem_statement: str, history: list[Step]) -> str:
        index = len(history)
        if index >= len(self.plan):
            return render_reply(say("submit", Facts(), random.Random(index)), SUBMIT)
        step = self.plan[index]
        rng = random.Random(_seed(self.task, self.variant) + index)
        last = history[-1].observation if history else ""
        facts = step.facts
        if step.lead == "tests":
            facts = replace(facts, observed=summarize_output(last))
        elif step.lead == "cleanup":
            facts = replace(facts, tests=summarize_tests(last))
        thought = say(step.kind, facts, rng)
        if step.lead == "confirmed" and history:
            opening = say("confirmed", replace(facts, observed=summarize_output(last)), rng)
            thought = f"{opening} {thought}"
        return render_reply(thought, step.action)


def make_expert_policy(task: Task, arg: str = "") -> ExpertPolicy:
    """``expert`` or ``expert:N`` (N: another seeded variant of the same episode)."""
    return ExpertPolicy(task, variant=int(arg) if arg else 0)
