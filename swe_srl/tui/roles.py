"""Who is the expert and who the student when two trajectories of one task are compared.

A trajectory says what it is in its own record:

- imported from another project's format (SWE-agent, SWE-smith, mini-swe-agent, ...): an expert
  demonstration;
- written by ``swe-srl rollout`` (``metadata["attempt"]``) or by the ``expert`` policy: expert
  data, kept by rejection sampling for training;
- written by ``swe-srl eval`` (``metadata["setting"]``), or found in an eval run's
  ``trajectories/`` folder: a policy's run, the student.

``assign_roles`` orders a pair as (reference, candidate). Where the records cannot tell (two
policy runs, two experts, hand-made files) the file given with ``--compare`` is the reference
and the note says so; ``--expert`` states the roles outright.
"""

from __future__ import annotations

from pathlib import Path

from swe_srl.episode import SOURCE_FORMAT
from swe_srl.records import Trajectory
from swe_srl.tui.view import Side

EXPERT = "expert"
STUDENT = "student"
EVAL_RUN_FILES = ("results.jsonl", "report.json")


def in_eval_run(path: Path | None) -> bool:
    """``path`` lies in the ``trajectories/`` folder of a ``swe-srl eval`` run."""
    if path is None or path.parent.name != "trajectories":
        return False
    return any((path.parent.parent / name).is_file() for name in EVAL_RUN_FILES)


def detect_role(trajectory: Trajectory, path: Path | None = None) -> str | None:
    """``EXPERT``, ``STUDENT``, or None when the record does not say."""
    meta = trajectory.metadata
    if trajectory.source_format != SOURCE_FORMAT:
        return EXPERT
    if str(meta.get("policy") or "").partition(":")[0] == EXPERT or "attempt" in meta:
        return EXPERT
    if "setting" in meta or in_eval_run(path):
        return STUDENT
    return None


def assign_roles(
    first: Trajectory,
    second: Trajectory,
    first_path: Path | None = None,
    second_path: Path | None = None,
    *,
    second_is_expert: bool = False,
) -> tuple[Side, Side, str]:
    """(reference, candidate, note) for ``replay FIRST --compare SECOND`` (or ``--expert SECOND``)."""
    if second_is_expert:
        return Side(EXPERT, second), Side(STUDENT, first), ""
    roles = detect_role(first, first_path), detect_role(second, second_path)
    if roles[0] == EXPERT and roles[1] != EXPERT:
        return Side(EXPERT, first), Side(STUDENT, second), ""
    if roles[1] == EXPERT and roles[0] != EXPERT:
        return Side(EXPERT, second), Side(STUDENT, first), ""
    if roles == (STUDENT, None):
        return Side("reference", second), Side(STUDENT, first), ""
    if roles == (None, STUDENT):
        return Side("reference", first), Side(STUDENT, second), ""
    names = {EXPERT: "expert", STUDENT: "run", None: "trajectory"}
    reference = Side(f"B ({names[roles[1]]})", second)
    candidate = Side(f"A ({names[roles[0]]})", first)
    note = (
        "roles not told apart by the records: the --compare file (B) is the reference each step of "
        "A is scored against; use --expert FILE to name the expert"
    )
    return reference, candidate, note
