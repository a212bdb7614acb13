"""The scripted expert's monologue: several phrasings per kind of step, picked with a seeded RNG.

Each entry is a ``str.format`` template over the fields of :class:`Facts`; ``say`` picks one.
The phrasings describe what an agent would know at that point of the episode (the issue, what it
has already seen), never anything it could not have seen.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Facts:
    """What the monologue may refer to at one step."""

    title: str = ""
    clause: str = ""  # the issue title as the tail of a sentence
    pkg: str = ""
    file: str = ""  # repository-relative path
    search: str = ""  # the identifier being searched for
    scope: str = ""  # the function / class the code sits in
    line: int = 0
    start: int = 0
    end: int = 0
    old: str = ""
    desc: str = ""
    script: str = ""
    tests: str = ""
    observed: str = ""


PHRASES: dict[str, tuple[str, ...]] = {
    "orient": (
        "Let me start by getting an overview of the repository layout.",
        "First I want to see how the repository is organised before digging into the code.",
        "I'll begin by looking at the project structure to find where the relevant code lives.",
        "Let me get my bearings in the repository first.",
    ),
    "locate": (
        "The issue is about `{search}`. Let me find where it is defined.",
        "I need to find the code behind `{search}`, so I'll grep for it in the package.",
        "Let me search for `{search}` to see which module implements it.",
        "The report revolves around `{search}`; searching for it should point me to the right module.",
    ),
    "locate_guess": (
        "The report does not name the code directly. `{search}` sounds like where this is decided; let me "
        "find it.",
        "Nothing in the issue points at a specific function, so I'll start from `{search}`, which "
        "most likely handles this.",
    ),
    "outline": (
        "`{search}` is used in `{file}`. Let me list the functions in that module to see how it is "
        "organised.",
        "So `{file}` is the place to look. Before reading it in full, a quick outline of its classes and "
        "functions.",
        "The hits point at `{file}`. Let me see which functions it defines.",
    ),
    "view": (
        "Let me read the code around `{scope}` (lines {start}-{end} of `{file}`).",
        "`{scope}` is the most likely place where this goes wrong. Let me look at its implementation.",
        "I'll open `{file}` around line {line}, where `{scope}` is, to see what it actually does.",
        "Let me read `{scope}` in `{file}` closely.",
    ),
    "view_module": (
        "Let me read the top of `{file}`, where `{scope}` is defined, and the code that uses it.",
        "`{scope}` is defined at module level in `{file}`; let me read it together with the code around it.",
    ),
    "tests_outline": (
        "Let me also check what the existing tests for this module cover, so I know how to verify a fix.",
        "Before changing anything, a quick look at which tests exist for this module.",
    ),
    "repro_create": (
        "Before changing anything I want to reproduce the problem. I'll put the examples from the issue "
        "into a small script.",
        "Let me write a reproduction script based on the snippet in the issue so I can confirm the "
        "behaviour.",
        "To confirm the bug, I'll create `{script}` with the calls from the report.",
        "I'll turn the example from the issue into a script so I can run it before and after the change.",
    ),
    "repro_run": (
        "Now let me run it.",
        "Let me run the script to see the current behaviour.",
        "Running the reproduction script:",
        "Let's see what it prints right now.",
    ),
    "confirmed": (
        "The script confirms the report: {observed}.",
        "I can reproduce it: {observed}.",
        "That matches the issue ({observed}).",
    ),
    "edit": (
        "Here is the problem: in `{scope}` the line `{old}` is wrong: {desc}. That explains why {clause}. "
        "Let me fix it.",
        "I see it now. Look at `{old}` in `{scope}`: {desc}. That is exactly why {clause}.",
        "This is the bug: in `{scope}`, {desc} (`{old}`). I'll make that change.",
        "Found it. `{scope}` does `{old}`, but {desc}. That explains why {clause}.",
    ),
    "edit_insert": (
        "`{scope}` never handles this case, which is why {clause}. I'll add the missing branch: {desc}.",
        "Nothing in `{scope}` deals with this situation, so {clause}. It needs {desc}.",
        "Here is the gap: `{scope}` has no special case for this, hence {clause}. Adding {desc}.",
    ),
    "edit_new_file": (
        "The fix needs a new file, `{file}`. Creating it.",
        "I'll add `{file}` with the missing code.",
    ),
    "edit_doc": (
        "Let me also update the docstring of `{scope}` so it describes the new behaviour.",
        "The documentation of `{scope}` should say this too; updating it.",
    ),
    "edit_more": (
        "The same problem affects another spot in `{scope}`: {desc}.",
        "There is a second place that needs the same treatment: `{old}` in `{scope}`; {desc}.",
        "One more change in `{scope}`: {desc}.",
    ),
    "locate_more": (
        "That takes care of `{file}`, but the issue mentions more than that. Let me look for `{search}` "
        "as well.",
        "The report also describes `{search}`. Let me check whether it has the same problem.",
    ),
    "locate_other": (
        "The issue describes more than one symptom, so there may be a second place to fix. Let me look at "
        "`{search}` too.",
        "That was one spot. Since the report mentions another case, let me check `{search}` as well.",
    ),
    "rerun": (
        "Now let me rerun the reproduction script to check the fix.",
        "With the change in place, the script should now print the expected values. Let me check.",
        "Let me run the reproduction again.",
        "Time to verify: rerunning `{script}`.",
    ),
    "tests": (
        "The output now matches what the issue expects ({observed}). Let me make sure the existing tests "
        "still pass.",
        "Good, that is the expected behaviour now ({observed}). Next, the existing tests for regressions.",
        "The fix works for the reported cases ({observed}). Let me run the related tests too.",
    ),
    "cleanup": (
        "{tests} I'll remove the reproduction script so it does not end up in the change.",
        "{tests} The reproduction script was only for me; deleting it.",
        "{tests} Let me clean up `{script}` before submitting.",
    ),
    "review": (
        "Let me review the final diff once more.",
        "A last look at the complete diff before submitting.",
    ),
    "submit": (
        "The fix is minimal and the tests pass. Submitting.",
        "Everything looks right: the issue's examples behave as expected and nothing else changed. Done.",
        "The change is small and verified. Submitting it.",
    ),
}


def say(kind: str, facts: Facts, rng: random.Random) -> str:
    """One phrasing of ``kind`` filled in with ``facts``."""
    return rng.choice(PHRASES[kind]).format(**asdict(facts))


def summarize_output(observation: str, limit: int = 160) -> str:
    """A short quote of a command's output: the error of a traceback, else its first lines."""
    lines = [line.strip() for line in observation.splitlines() if line.strip()]
    if not lines:
        return "no output"
    quoted = lines[-1] if any(line.startswith("Traceback") for line in lines) else ", ".join(lines[:3])
    if len(quoted) > limit:
        quoted = quoted[: limit - 3] + "..."
    return f"`{quoted}`" if "`" not in quoted else quoted


_TEST_COUNTS = re.compile(
    r"(\d+ (?:passed|failed|errors?|skipped)(?:, \d+ (?:passed|failed|errors?|skipped))*)"
)


def summarize_tests(observation: str) -> str:
    """What a pytest run reported, as a sentence ("22 passed."), without its timing."""
    found = _TEST_COUNTS.findall(observation)
    if not found:
        return "The tests ran."
    counts = found[-1]
    if "failed" in counts or "error" in counts:
        return f"The test run reports {counts}."
    return f"All tests pass ({counts})."
