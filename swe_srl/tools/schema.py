"""The tools an agent may call, described once.

The parser, the canonical renderer, the reward's format check and the system prompt all read
these specs, so a tool's parameters and their order live in exactly one place. Names, parameters
and descriptions follow SWE-agent's ``bash``, ``str_replace_editor`` and ``submit`` so that real
expert trajectories are imitable as they are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "string" | "integer" | "array" (of integers)
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    params: tuple[Param, ...] = ()

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


BASH = ToolSpec(
    name="bash",
    description=(
        "Run a bash command in the repository's shell. State (cwd, variables) persists between calls."
    ),
    params=(Param("command", "string", "The bash command to run.", required=True),),
)

STR_REPLACE_EDITOR = ToolSpec(
    name="str_replace_editor",
    description=(
        "Custom editing tool for viewing, creating and editing files. `view` shows a file with line "
        "numbers (cat -n) or lists a directory two levels deep; `create` refuses an existing path; "
        "`str_replace` needs `old_str` to occur exactly once; `insert` adds `new_str` after "
        "`insert_line`; `undo_edit` reverts the last edit of `path`."
    ),
    params=(
        Param(
            "command",
            "string",
            "The command to run.",
            required=True,
            enum=("view", "create", "str_replace", "insert", "undo_edit"),
        ),
        Param(
            "path", "string", "Absolute path to a file or directory, e.g. `/testbed/file.py`.", required=True
        ),
        Param("file_text", "string", "Required for `create`: the content of the file."),
        Param("old_str", "string", "Required for `str_replace`: the exact text to replace."),
        Param("new_str", "string", "For `str_replace` the new text; required for `insert`."),
        Param("insert_line", "integer", "Required for `insert`: `new_str` goes after this line."),
        Param("view_range", "array", "Optional for `view` of a file: [start, end], end -1 for the end."),
    ),
)

SUBMIT = ToolSpec(
    name="submit",
    description="Submit the current changes (the repository's diff) as the solution and end the episode.",
)

TOOLS: dict[str, ToolSpec] = {spec.name: spec for spec in (BASH, STR_REPLACE_EDITOR, SUBMIT)}


def openai_tool_schemas(tools: dict[str, ToolSpec] = TOOLS) -> list[dict]:
    """The tools as OpenAI-style function schemas (for chat templates and OpenAI endpoints)."""
    json_types = {"string": {"type": "string"}, "integer": {"type": "integer"}}
    schemas = []
    for spec in tools.values():
        properties = {}
        for p in spec.params:
            prop = dict(json_types.get(p.kind, {"type": "array", "items": {"type": "integer"}}))
            prop["description"] = p.description
            if p.enum:
                prop["enum"] = list(p.enum)
            properties[p.name] = prop
        schemas.append(
            {
                "type": "function",
                "function": {
                    "name": spec.name,
                    "description": spec.description,
                    "parameters": {
                        "type": "object",
                        "properties": properties,
                        "required": list(spec.required),
                    },
                },
            }
        )
    return schemas
