"""The last pass over SWE-agent steps: canonical observations, exact translations, offered tools.

``finish_legacy`` is shared by both SWE-agent generations (1.x can run the same windowed and search
tools as 0.x). It puts every observation in the canonical form (``swe_srl.tools.observation``),
translates the exactly translatable legacy calls (``legacy_translate``), and lists the tools the
instance's prompt must describe beyond bash, str_replace_editor and submit: every documented
command without an exact modern equivalent, and every other non-standard tool the expert called.
"""

from __future__ import annotations

from typing import Any

from swe_srl.records import Step
from swe_srl.tools.legacy import LEGACY_TOOLS, generic_spec, spec_to_dict
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


def extra_tools(steps: list[Step], specs: dict[str, ToolSpec]) -> list[ToolSpec]:
    """The non-standard tools the instance's prompt describes, documented ones first."""
    extras = {name: spec for name, spec in specs.items() if name not in TOOLS and name not in TRANSLATABLE}
    for step in steps:
        name = step.action.tool
        if name not in TOOLS and name not in extras:
            extras[name] = specs.get(name) or LEGACY_TOOLS.get(name) or generic_spec(name)
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
