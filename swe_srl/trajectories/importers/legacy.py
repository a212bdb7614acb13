"""The last pass over SWE-agent steps: canonical observations, exact translations, offered tools.

``finish_legacy`` is shared by both SWE-agent generations (1.x can run the same windowed and search
tools as 0.x). It puts every observation in the canonical form (``swe_srl.tools.observation``),
translates the exactly translatable legacy calls (``legacy_translate``), and lists the tools the
instance's prompt must describe beyond bash, str_replace_editor and submit: every documented
command without an exact modern equivalent, and every other non-standard tool the expert called.
"""

from __future__ import annotations

from typing import Any

from swe_srl.records import Action, Step
from swe_srl.tools.calls import FormatError, validate_action
from swe_srl.tools.legacy import LEGACY_TOOLS, spec_from_calls, spec_to_dict
from swe_srl.tools.observation import command_output
from swe_srl.tools.schema import TOOLS, ToolSpec
from swe_srl.trajectories.importers.legacy_translate import modernize

# Commands whose calls are translated when their output allows it; they are offered only when the
# expert used one that could not be translated.
TRANSLATABLE = frozenset({"open", "goto", "create", "find_file", "search_dir", "search_file"})


def canonical_steps(steps: list[Step]) -> list[Step]:
    """The steps with their observations in the canonical form (in place, and returned)."""
    for step in steps:
        step.observation = command_output(step.observation)
    return steps


def _fits(spec: ToolSpec | None, calls: list[Action]) -> bool:
    if spec is None:
        return False
    try:
        for action in calls:
            validate_action(action, {spec.name: spec})
    except FormatError:
        return False
    return True


def extra_tools(steps: list[Step], specs: dict[str, ToolSpec]) -> list[ToolSpec]:
    """The non-standard tools the instance's prompt describes, documented ones first.

    A used tool is described by its documentation, else by SWE-agent 0.x's spec of that name when
    the expert's calls fit it, else by the calls themselves (``spec_from_calls``).
    """
    extras = {name: spec for name, spec in specs.items() if name not in TOOLS and name not in TRANSLATABLE}
    calls: dict[str, list[Action]] = {}
    for step in steps:
        if step.action.tool not in TOOLS:
            calls.setdefault(step.action.tool, []).append(step.action)
    for name, made in calls.items():
        if name in extras:
            continue
        documented = specs.get(name)
        known = documented or LEGACY_TOOLS.get(name)
        extras[name] = known if _fits(known, made) else spec_from_calls(name, [a.args for a in made])
    return list(extras.values())


def finish_legacy(
    steps: list[Step], workdirs: list[str | None], specs: dict[str, ToolSpec], *, created_text: str
) -> tuple[list[Step], dict[str, Any]]:
    """(the finished steps, metadata: extra tools, translated originals, working directory)."""
    steps, originals = modernize(canonical_steps(steps), workdirs, created_text)
    metadata: dict[str, Any] = {}
    extras = extra_tools(steps, specs)
    if extras:
        metadata["extra_tools"] = [spec_to_dict(spec) for spec in extras]
    if originals:
        metadata["translated_steps"] = originals
    workdir = next((w for w in workdirs if w), None)
    if workdir:
        metadata["workdir"] = workdir
    return steps, metadata
