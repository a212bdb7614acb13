"""Declarative bug specs for the bundled suite: one module per library, each defining ``BUGS``.

A bug is a list of edits (file, clean text, buggy text) applied to the clean library, the content of
the regression test file that catches it, and the GitHub-style issue an agent is given.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

LIBRARIES = ("semverkit", "tmplite", "spans", "tabkit")


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` (which must occur exactly once in ``path``) by ``new`` to introduce the bug."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Bug:
    lib: str
    name: str  # slug: instance id ``swe-srl__<lib>-<name>``, test file ``tests/test_issue_<name>.py``
    difficulty: str  # easy | medium | hard
    bug_kind: str
    edits: tuple[Edit, ...]
    tests: str
    statement: str

    @property
    def instance_id(self) -> str:
        return f"swe-srl__{self.lib}-{self.name}"

    @property
    def test_path(self) -> str:
        return f"tests/test_issue_{self.name.replace('-', '_')}.py"


def all_bugs(libraries: tuple[str, ...] = LIBRARIES) -> list[Bug]:
    bugs: list[Bug] = []
    for lib in libraries:
        bugs.extend(importlib.import_module(f"bugs.{lib}").BUGS)
    return bugs
