"""Typed records shared by every part of swe-srl.

Raw JSON only exists at the IO edge: loaders turn it into these records and writers turn
these records back into JSON (``to_dict`` / ``from_dict``). Everything in between passes
records around, never dicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# An argument value of a tool call: SWE-agent's tools take strings, one int (``insert_line``)
# and one list of ints (``view_range``). Keeping the JSON type makes import lossless.
ArgValue = str | int | list[int]


class SweSrlError(Exception):
    """Base class of every error swe-srl raises on purpose."""


class RecordError(SweSrlError, ValueError):
    """A record in an input file is malformed; the message names file, record and field."""

    def __init__(self, message: str, *, source: str = "", record: str = "", field_name: str = ""):
        where = ", ".join(
            part
            for part in (
                f"file {source}" if source else "",
                f"record {record}" if record else "",
                f"field {field_name!r}" if field_name else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.record = record
        self.field_name = field_name


@dataclass(frozen=True)
class ExecResult:
    """What one command in a sandbox produced."""

    output: str
    exit_code: int
    timed_out: bool = False
    duration: float = 0.0
    truncated: bool = False


@dataclass(frozen=True)
class Action:
    """One environment-consumable tool call: the unit SRL imitates and rewards."""

    tool: str
    args: dict[str, ArgValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": dict(self.args)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Action:
        return cls(tool=str(data["tool"]), args=dict(data.get("args") or {}))


@dataclass
class Step:
    """One round of an agent: monologue, action, and what the environment answered."""

    thought: str
    action: Action
    observation: str
    duration: float | None = None
    raw_action: str = ""  # the action exactly as the source wrote it, kept for lossless round trips
    reward: float | None = None  # per-step reward (e.g. SRL similarity) when known
    exit_code: int | None = None  # the command's exit status when known (None: not recorded, or nothing ran)
    # what produced the reply: token counts, timing, context trimming (``swe_srl.policy.chat``)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["action"] = self.action.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(
            thought=data.get("thought", ""),
            action=Action.from_dict(data["action"]),
            observation=data.get("observation", ""),
            duration=data.get("duration"),
            raw_action=data.get("raw_action", ""),
            reward=data.get("reward"),
            exit_code=data.get("exit_code"),
            metadata=dict(data.get("metadata") or {}),
        )


TRAJECTORY_SCHEMA_VERSION = 1


@dataclass
class Trajectory:
    """A whole episode in swe-srl's normalized format (see ``swe_srl.trajectories``)."""

    instance_id: str
    source_format: str
    model: str
    problem_statement: str
    steps: list[Step]
    final_patch: str = ""
    resolved: bool | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    schema_version: int = TRAJECTORY_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = [step.to_dict() for step in self.steps]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        return cls(
            instance_id=data["instance_id"],
            source_format=data.get("source_format", "swe-srl"),
            model=data.get("model", ""),
            problem_statement=data.get("problem_statement", ""),
            steps=[Step.from_dict(step) for step in data.get("steps", [])],
            final_patch=data.get("final_patch", ""),
            resolved=data.get("resolved"),
            metadata=dict(data.get("metadata") or {}),
            schema_version=int(data.get("schema_version", TRAJECTORY_SCHEMA_VERSION)),
        )


@dataclass(frozen=True)
class Task:
    """A SWE-bench task instance (swebench 5.x fields) plus where its repository comes from.

    ``repo_dir`` is the source tree the sandboxes copy into ``/testbed``; ``setup_patch``
    (optional) is applied on top and committed as the base, which is how bundled suites store many
    bugs over one library without one tree per task (the SWE-smith approach).
    """

    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    patch: str = ""
    test_patch: str = ""
    FAIL_TO_PASS: tuple[str, ...] = ()
    PASS_TO_PASS: tuple[str, ...] = ()
    version: str = ""
    image: str = ""
    eval_script: str = ""
    log_parser: str = "pytest"
    eval_type: str = "pytest"
    repo_dir: str = ""
    setup_patch: str = ""
    test_cmd: str = "python3 -m pytest -rA -p no:cacheprovider"
    # The environment the task runs in (``swe_srl.environments``): a spec name in the suite's
    # environments.jsonl; loading resolves it to "<absolute environments.jsonl>#<name>".
    environment: str = ""
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["FAIL_TO_PASS"] = list(self.FAIL_TO_PASS)
        data["PASS_TO_PASS"] = list(self.PASS_TO_PASS)
        return data


@dataclass(frozen=True)
class StepInstance:
    """One SRL training example: the context before expert action k, and that action."""

    instance_id: str
    trajectory_id: str
    step_index: int  # k, 0-based
    num_steps: int  # N
    tool: str
    prompt: list[dict[str, str]]  # chat messages
    target: str  # canonical text of expert action k (SRL)
    thought: str = ""  # expert's monologue for step k (SFT export: thought + action)
    tool_specs: str = ""  # the tools the prompt offers (swe_srl.tools.legacy.encode_tools; "" = standard)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EvalResult:
    """The outcome of grading one task: SWE-bench semantics (every F2P and P2P test passes)."""

    instance_id: str
    status: str  # "resolved" | "unresolved" | "patch_failed" | "error" | "tampered"
    resolved: bool
    reason: str = ""
    tests: dict[str, str] = field(default_factory=dict)  # test name -> PASSED/FAILED/...
    steps: int = 0
    duration: float = 0.0
    model_patch: str = ""
    audit: list[str] = field(default_factory=list)  # static findings on the patch (eval/audit.py)
    log: str = ""  # the kept test log, relative to the run folder

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
