"""Moatless Tools trajectories (``trajectory.json``): a search tree of nodes.

A node holds ``node_id``, ``user_message`` (the root's is the task), ``assistant_message`` and
``action_steps``: ``[{"action": {..., "thoughts", "action_args_class"}, "observation": {"message",
"terminal", ...}}]``. Files store the tree either as a flat ``nodes`` list with ``parent_id``
(current) or nested ``children`` under ``root`` (older); the oldest nodes hold one ``action`` and
``observation`` instead of ``action_steps``. A tree search explores several branches: the import
follows the path to the best finished leaf (highest reward value, else the deepest leaf) and says
so in the metadata.

An action is a call of its class's tool (``StringReplaceArgs`` -> ``StringReplace``) with the
class's fields as arguments; fields holding objects are written as JSON text. ``Finish`` is
``submit``; its reason is kept in the step's raw action. What the agent read is the observation's
``message``.
"""

from __future__ import annotations

import json
from typing import Any

from swe_srl.records import Action, ArgValue, Step, Trajectory
from swe_srl.tools.legacy import spec_to_dict
from swe_srl.trajectories.importers.common import Where, extract_problem_statement
from swe_srl.trajectories.importers.legacy import canonical_steps, extra_tools

FORMAT = "moatless"
_SKIP_FIELDS = frozenset({"thoughts", "action_args_class"})


def is_moatless(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    nodes = data.get("nodes")
    if isinstance(nodes, list) and nodes and all(isinstance(n, dict) and "node_id" in n for n in nodes):
        return True
    root = data.get("root") if isinstance(data.get("root"), dict) else data
    return "node_id" in root and ("action_steps" in root or "children" in root)


def _nodes(data: dict, where: Where) -> dict[int, dict]:
    """Every node by id, with ``parent_id`` set, from either storage layout."""
    found: dict[int, dict] = {}
    if isinstance(data.get("nodes"), list):
        for index, node in enumerate(data["nodes"]):
            if not isinstance(node, dict) or not isinstance(node.get("node_id"), int):
                raise where.error("expected a node with an integer node_id", f"nodes[{index}]")
            found[node["node_id"]] = node
        return found
    stack = [(data.get("root") if isinstance(data.get("root"), dict) else data, None)]
    while stack:
        node, parent = stack.pop()
        if not isinstance(node.get("node_id"), int):
            raise where.error("expected a node with an integer node_id", "root")
        found[node["node_id"]] = {**node, "parent_id": parent}
        stack.extend(
            (child, node["node_id"]) for child in node.get("children") or [] if isinstance(child, dict)
        )
    return found


def _value(node: dict) -> float:
    reward = node.get("reward") if isinstance(node.get("reward"), dict) else {}
    value = reward.get("value", node.get("value"))
    return float(value) if isinstance(value, (int, float)) else float("-inf")


def _path(nodes: dict[int, dict]) -> tuple[list[dict], int]:
    """The root-to-leaf path imported, and how many leaves the tree has."""
    parents = {node.get("parent_id") for node in nodes.values()}
    leaves = [node for node_id, node in nodes.items() if node_id not in parents]

    def depth(node: dict) -> int:
        count = 0
        while node.get("parent_id") is not None and node["parent_id"] in nodes:
            node, count = nodes[node["parent_id"]], count + 1
        return count

    finished = [leaf for leaf in leaves if _steps_of(leaf) and _steps_of(leaf)[-1][1].get("terminal")]
    pool = finished or leaves
    best = max(pool, key=lambda leaf: (_value(leaf), depth(leaf), -leaf["node_id"]))
    path = [best]
    while path[-1].get("parent_id") is not None and path[-1]["parent_id"] in nodes:
        path.append(nodes[path[-1]["parent_id"]])
    return path[::-1], len(leaves)


def _steps_of(node: dict) -> list[tuple[dict, dict]]:
    steps = node.get("action_steps")
    if isinstance(steps, list):
        return [(s.get("action") or {}, s.get("observation") or {}) for s in steps if isinstance(s, dict)]
    if isinstance(node.get("action"), dict):
        return [(node["action"], node.get("observation") or node.get("output") or {})]
    return []


def _action(raw: dict) -> Action:
    name = str(raw.get("action_args_class") or raw.get("name") or "Action").rsplit(".", 1)[-1]
    name = name.removesuffix("Args") or name
    if name == "Finish":
        return Action("submit")
    args: dict[str, ArgValue] = {}
    for key, value in raw.items():
        if key in _SKIP_FIELDS or value is None:
            continue
        if (
            isinstance(value, str)
            or (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, list) and all(type(item) is int for item in value))
        ):
            args[key] = value
        else:
            args[key] = json.dumps(value, ensure_ascii=False)
    return Action(name, args)


def import_moatless(data: Any, where: Where) -> Trajectory:
    """A Moatless trajectory (the path to its best leaf) as a trajectory."""
    nodes = _nodes(data, where)
    if not nodes:
        raise where.error("the tree has no nodes", "nodes")
    path, leaves = _path(nodes)
    steps: list[Step] = []
    for node in path:
        for action, observation in _steps_of(node):
            thought = str(action.get("thoughts") or node.get("assistant_message") or "").strip()
            raw = json.dumps(action, ensure_ascii=False, default=str)
            steps.append(
                Step(thought, _action(action), str(observation.get("message") or ""), raw_action=raw)
            )
    steps = canonical_steps(steps)
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    instance_id = str(meta.get("instance_id") or data.get("project_id") or where.default_id)
    metadata: dict[str, Any] = {
        "trajectory_id": str(data.get("trajectory_id") or data.get("unique_id") or where.default_id),
        "path": [node["node_id"] for node in path],
        "leaves": leaves,
        "metadata": meta,
    }
    extras = extra_tools(steps, {})
    if extras:
        metadata["extra_tools"] = [spec_to_dict(spec) for spec in extras]
    return Trajectory(
        instance_id=instance_id,
        source_format=FORMAT,
        model=str(meta.get("model") or ""),
        problem_statement=extract_problem_statement(
            str(path[0].get("user_message") or path[0].get("message") or "")
        ),
        steps=steps,
        final_patch=str(meta.get("patch") or ""),
        resolved=meta.get("resolved") if isinstance(meta.get("resolved"), bool) else None,
        metadata=metadata,
    )
