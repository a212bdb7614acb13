"""What ``swe-srl replay PATH`` opens: one trajectory, every trajectory of a folder or collection,
or an eval run's tasks, each with its expert partner when one is known.

- a file holding one trajectory (any format the importers read) opens directly;
- a folder, or a collection file holding several, lists every trajectory in a browser;
- an eval run folder (``results.jsonl`` / ``report.json``) lists every task with its status, also
  those that errored before writing a trajectory.

Expert partners are looked up by instance id: in ``--expert PATH`` when given, else in the
``trajectories/`` folders beside the run and above it (the layout of ``swe-srl demo`` and of
this repository, whose ``trajectories/<suite>/`` ship expert trajectories), by file name
``<instance>.traj.json``, so finding them reads only the files that match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from swe_srl.eval.results import ResultsLog
from swe_srl.records import RecordError, Trajectory
from swe_srl.trajectories import import_paths
from swe_srl.trajectories.io import expand_paths, safe_file_name
from swe_srl.tui.roles import EVAL_RUN_FILES, EXPERT, STUDENT, assign_roles, detect_role
from swe_srl.tui.view import Comparison, compare

TRAJECTORY_SUFFIXES = (".traj.json", ".traj", ".json")
SEARCH_UP = 3  # ancestor folders of a run searched for a trajectories/ folder of experts


def load_for_replay(path: Path, index: int = 0) -> Trajectory:
    """The ``index``-th trajectory in ``path`` (a single trajectory file holds one)."""
    if not path.exists():
        raise RecordError("no such file", source=str(path))
    if index < 0:
        raise RecordError(f"trajectory index must be >= 0, got {index}", source=str(path))
    found = list(islice(import_paths([path]), index, index + 1))
    if not found:
        raise RecordError(f"holds fewer than {index + 1} trajectories", source=str(path))
    return found[0]


@dataclass(frozen=True)
class Entry:
    """One trajectory (or one task of a run) the browser lists."""

    instance_id: str
    path: Path | None  # None: the task left no trajectory (it errored before one was written)
    index: int = 0  # position inside a collection file
    status: str = ""
    steps: int = 0
    model: str = ""
    reason: str = ""
    expert: tuple[Path, int] | None = None  # the expert partner's file and position


@dataclass(frozen=True)
class ReplaySource:
    """Everything ``replay PATH`` opened."""

    path: Path
    kind: str  # "trajectory" | "collection" | "folder" | "run"
    entries: tuple[Entry, ...]
    experts_from: tuple[Path, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def is_eval_run(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in EVAL_RUN_FILES)


def load_entry(entry: Entry) -> Trajectory:
    if entry.path is None:
        raise RecordError(
            f"no trajectory was written ({entry.status}: {entry.reason})", record=entry.instance_id
        )
    return load_for_replay(entry.path, entry.index)


def load_expert(entry: Entry) -> Trajectory | None:
    """The entry's expert partner, or None when none is known or the file is not an expert's."""
    if entry.expert is None:
        return None
    path, index = entry.expert
    trajectory = load_for_replay(path, index)
    return trajectory if detect_role(trajectory, path) != STUDENT else None


# --------------------------------------------------------------------------------------------
# Expert partners


def _candidate_names(instance_id: str) -> list[str]:
    """File names an expert trajectory of ``instance_id`` is written under (glob-safe characters)."""
    return [f"{safe_file_name(instance_id)}{suffix}" for suffix in TRAJECTORY_SUFFIXES]


class ExpertIndex:
    """Expert trajectories by instance id: by file name in folders, else by reading ``explicit``."""

    def __init__(self, explicit: Path | None, folders: tuple[Path, ...] = ()):
        self.explicit = explicit
        self.folders = ((explicit,) if explicit is not None and explicit.is_dir() else ()) + folders
        self._read: dict[str, tuple[Path, int]] | None = None

    def _read_explicit(self) -> dict[str, tuple[Path, int]]:
        """Every trajectory of ``--expert`` by instance id (read once, when names do not match)."""
        if self._read is None:
            self._read = {}
            for file in expand_paths([self.explicit]) if self.explicit is not None else ():
                for index, trajectory in enumerate(import_paths([file])):
                    self._read.setdefault(trajectory.instance_id, (file, index))
        return self._read

    def find(self, instance_id: str) -> tuple[Path, int] | None:
        names = _candidate_names(instance_id)
        for folder in self.folders:
            for depth in ("", "*/", "*/*/"):
                for name in names:
                    for match in sorted(folder.glob(depth + name)):
                        return match, 0
        if self.explicit is not None:
            return self._read_explicit().get(instance_id)
        return None


def expert_folders(start: Path, own: Path | None = None) -> tuple[Path, ...]:
    """``trajectories/`` folders in ``start`` and the folders above it, except ``own`` and any
    folder holding it (the trajectories being browsed are not their own experts)."""
    folders = []
    own = own.resolve() if own is not None else None
    for folder in [start, *list(start.resolve().parents)[:SEARCH_UP]]:
        candidate = (folder / "trajectories").resolve()
        if candidate.is_dir() and (own is None or not own.is_relative_to(candidate)):
            folders.append(candidate)
    return tuple(dict.fromkeys(folders))


# --------------------------------------------------------------------------------------------
# Opening a path


def _trajectory_entry(trajectory: Trajectory, path: Path, index: int, experts: ExpertIndex) -> Entry:
    resolved = {True: "resolved", False: "unresolved", None: ""}[trajectory.resolved]
    status = str(trajectory.metadata.get("eval_status") or resolved)
    partner = None
    if experts.explicit is not None or detect_role(trajectory, path) != EXPERT:
        partner = experts.find(trajectory.instance_id)
    return Entry(
        trajectory.instance_id,
        path,
        index,
        status=status,
        steps=len(trajectory.steps),
        model=str(trajectory.metadata.get("policy") or trajectory.model),
        expert=partner,
    )


def _run_source(run: Path, explicit_expert: Path | None) -> ReplaySource:
    folder = run / "trajectories"
    experts = ExpertIndex(explicit_expert, expert_folders(run.parent, own=folder))
    results = ResultsLog(run / "results.jsonl").load()
    policy = _run_policy(run)
    files = {p.name: p for p in folder.glob("*.traj.json")} if folder.is_dir() else {}
    entries = []
    for instance_id in sorted(set(results) | {p.name.removesuffix(".traj.json") for p in files.values()}):
        result = results.get(instance_id)
        path = files.get(f"{safe_file_name(instance_id)}.traj.json")
        entries.append(
            Entry(
                instance_id,
                path,
                status=result.status if result else "in progress",
                steps=result.steps if result else 0,
                model=policy,
                reason=result.reason if result else "",
                expert=experts.find(instance_id),
            )
        )
    return ReplaySource(run, "run", tuple(entries), experts.folders, _expert_note(entries))


def _run_policy(run: Path) -> str:
    """The policy an eval run ran, as its ``report.json`` records it ("" before the run has one)."""
    try:
        meta = json.loads((run / "report.json").read_text(encoding="utf-8")).get("meta")
    except (OSError, ValueError, AttributeError):
        return ""
    return str(meta.get("policy") or "") if isinstance(meta, dict) else ""


def _expert_note(entries: list[Entry]) -> tuple[str, ...]:
    found = sum(e.expert is not None for e in entries)
    if not entries or found == len(entries):
        return ()
    if not found:
        return ("no expert trajectory found for these tasks: give one with --expert PATH to compare",)
    return (f"expert trajectories found for {found} of {len(entries)} tasks",)


def _file_entries(file: Path, experts: ExpertIndex) -> list[Entry]:
    """Every trajectory of one file, or one ``unreadable`` entry saying why it cannot be read."""
    try:
        return [
            _trajectory_entry(trajectory, file, index, experts)
            for index, trajectory in enumerate(import_paths([file]))
        ]
    except RecordError as err:
        return [Entry(file.name, None, status="unreadable", reason=str(err))]


def _collection_source(path: Path, explicit_expert: Path | None) -> ReplaySource:
    folder = path if path.is_dir() else path.parent  # never its own expert source
    experts = ExpertIndex(explicit_expert, expert_folders(folder, own=folder))
    if path.is_file():
        trajectories = enumerate(import_paths([path]))
        entries = [_trajectory_entry(trajectory, path, k, experts) for k, trajectory in trajectories]
        kind = "collection" if len(entries) > 1 else "trajectory"
    else:
        entries = [entry for file in expand_paths([path]) for entry in _file_entries(file, experts)]
        kind = "folder"
    if not entries:
        raise RecordError("holds no trajectories", source=str(path))
    return ReplaySource(path, kind, tuple(entries), experts.folders)


def open_source(path: Path, expert: Path | None = None) -> ReplaySource:
    """Read what ``replay PATH`` shows; malformed input is a ``RecordError`` naming the file."""
    if not path.exists():
        raise RecordError("no such file or directory", source=str(path))
    if expert is not None and not expert.exists():
        raise RecordError("no such file or directory (--expert)", source=str(expert))
    if is_eval_run(path):
        return _run_source(path, expert)
    return _collection_source(path, expert)


def open_entry(entry: Entry) -> tuple[Trajectory, Comparison | None]:
    """The entry's trajectory, compared with its expert partner when one is known."""
    trajectory = load_entry(entry)
    expert = load_expert(entry)
    if expert is None:
        return trajectory, None
    reference, candidate, note = assign_roles(
        trajectory, expert, entry.path, entry.expert[0], second_is_expert=True
    )
    return trajectory, compare(reference, candidate, note)


def open_pair(
    first: Path, second: Path, index: int = 0, *, second_is_expert: bool = False
) -> tuple[Trajectory, Comparison]:
    """``replay FIRST --compare SECOND`` (or ``--expert SECOND``): roles detected unless stated."""
    trajectory = load_for_replay(first, index)
    other = load_for_replay(second, 0)
    reference, candidate, note = assign_roles(
        trajectory, other, first, second, second_is_expert=second_is_expert
    )
    return trajectory, compare(reference, candidate, note)


def entry_reward(entry: Entry) -> float | None:
    """Mean SRL step reward of the entry against its expert (None without an expert)."""
    if entry.expert is None or entry.path is None:
        return None
    _, comparison = open_entry(entry)
    return comparison.mean_reward if comparison is not None else None
