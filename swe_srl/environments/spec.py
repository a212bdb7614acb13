"""Environment specs: what a repository version needs to install and run its tests.

One spec per repository version, shared by every task over that version (SWE-smith's "one
environment per repository, many bug patches on top"; swebench's ``MAP_REPO_VERSION_TO_SPECS``
holds the same fields per version). A spec names the interpreter, the pinned packages taken from
the package index at build time, the pre-install and install commands run in ``/testbed``, and how
tests run there: the test command, the log parser, pytest plugins to load explicitly, and
environment variables (``NO_COLOR``...).

Specs live in a suite's ``environments.jsonl``; a task names one in its ``environment`` field. The
build inputs (everything but the test-running fields) hash into :meth:`EnvSpec.build_key`, which
keys every cached artifact: a suite of 100 tasks over 10 specs builds 10 environments.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.records import RecordError

ENVIRONMENTS_FILE = "environments.jsonl"
BUILD_RECIPE_VERSION = 1  # bump when the build recipe changes: every cached environment is rebuilt
DEFAULT_ENV_VARS = {"NO_COLOR": "1", "PY_COLORS": "0", "PYTHONHASHSEED": "0"}
_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!_-]+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BUILD_KEYS: dict[int, tuple[EnvSpec, str]] = {}  # id(spec) -> (spec, key); the spec kept alive


@dataclass(frozen=True)
class EnvSpec:
    """How to build and use the environment of one repository version."""

    name: str
    repo: str
    version: str
    repo_dir: str  # the source tree the environment is installed from (absolute once loaded)
    python: str = "3.11"  # major.minor the interpreter must have
    packages: tuple[str, ...] = ()  # pinned requirements, ``name==version``
    pre_install: tuple[str, ...] = ()  # shell commands before the packages (in /testbed)
    install: tuple[str, ...] = ("python -m pip install --no-deps -e .",)
    test_cmd: str = "python -m pytest -rA -p no:cacheprovider"
    log_parser: str = "pytest"
    pytest_plugins: tuple[str, ...] = ()  # plugin modules loaded with ``-p`` (autoload may be off)
    env: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ENV_VARS))
    source: Mapping[str, str] = field(default_factory=dict)  # provenance: sdist name, sha256, url
    base_image: str = "swe-srl/base:bookworm"  # the root filesystem the interpreter comes from

    def build_inputs(self, tree: str) -> dict[str, Any]:
        """Everything the built artifact depends on (``tree``: content hash of ``repo_dir``)."""
        return {
            "recipe": BUILD_RECIPE_VERSION,
            "base_image": self.base_image,
            "python": self.python,
            "packages": list(self.packages),
            "pre_install": list(self.pre_install),
            "install": list(self.install),
            "tree": tree,
        }

    def build_key(self) -> str:
        """Content hash of the build inputs: equal keys share one built environment.

        Computed once per spec object: hashing a large source tree costs a walk of every file, and
        every sandbox start asks. A spec read again (its environments file changed) is hashed again.
        """
        known = _BUILD_KEYS.get(id(self))
        if known is not None and known[0] is self:
            return known[1]
        from swe_srl.sandbox.workspace import tree_hash

        blob = json.dumps(self.build_inputs(tree_hash(Path(self.repo_dir))), sort_keys=True)
        key = hashlib.sha256(blob.encode()).hexdigest()[:16]
        _BUILD_KEYS[id(self)] = (self, key)
        return key

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "repo": self.repo,
            "version": self.version,
            "repo_dir": self.repo_dir,
            "python": self.python,
            "packages": list(self.packages),
            "pre_install": list(self.pre_install),
            "install": list(self.install),
            "test_cmd": self.test_cmd,
            "log_parser": self.log_parser,
            "pytest_plugins": list(self.pytest_plugins),
            "env": dict(self.env),
            "source": dict(self.source),
            "base_image": self.base_image,
        }


_STR_FIELDS = ("name", "repo", "version", "repo_dir", "python", "test_cmd", "log_parser", "base_image")
_LIST_FIELDS = ("packages", "pre_install", "install", "pytest_plugins")
_MAP_FIELDS = ("env", "source")


def _fail(message: str, source: str, record: str, name: str = "") -> RecordError:
    return RecordError(message, source=source, record=record, field_name=name)


def spec_from_dict(data: Any, *, source: str = "", record: str = "", base_dir: Path | None = None) -> EnvSpec:
    """Validate one raw spec; relative ``repo_dir`` resolves against ``base_dir``."""
    if not isinstance(data, Mapping):
        raise _fail(f"an environment must be a JSON object, got {type(data).__name__}", source, record)
    record = str(data.get("name") or record)
    unknown = set(data) - {*_STR_FIELDS, *_LIST_FIELDS, *_MAP_FIELDS}
    if unknown:
        raise _fail(f"unknown field(s) {sorted(unknown)}", source, record)
    values: dict[str, Any] = {}
    for name in ("name", "repo", "version", "repo_dir"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise _fail("required; must be a non-empty string", source, record, name)
    for name in _STR_FIELDS:
        if name in data:
            if not isinstance(data[name], str):
                raise _fail(f"must be a string, got {type(data[name]).__name__}", source, record, name)
            values[name] = data[name]
    for name in _LIST_FIELDS:
        if name in data:
            items = data[name]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise _fail("must be a list of strings", source, record, name)
            values[name] = tuple(items)
    for name in _MAP_FIELDS:
        if name in data:
            items = data[name]
            if not isinstance(items, Mapping) or not all(isinstance(v, str) for v in items.values()):
                raise _fail("must be an object of strings", source, record, name)
            values[name] = dict(items)
    _check(values, source, record)
    repo_dir = Path(values["repo_dir"])
    if not repo_dir.is_absolute() and base_dir is not None:
        values["repo_dir"] = str((base_dir / repo_dir).resolve())
    return EnvSpec(**values)


def _check(values: dict[str, Any], source: str, record: str) -> None:
    if not _NAME.match(values["name"]):
        raise _fail("must be letters, digits, '.', '_' or '-'", source, record, "name")
    unpinned = [p for p in values.get("packages", ()) if not _PIN.match(p)]
    if unpinned:
        raise _fail(f"every package must be pinned as name==version: {unpinned}", source, record, "packages")
    if not re.match(r"^\d+\.\d+$", values.get("python", "3.11")):
        raise _fail("must be a major.minor version such as 3.11", source, record, "python")
    bad_keys = [k for k in values.get("env", {}) if not _ENV_KEY.match(k)]
    if bad_keys:
        raise _fail(f"not valid variable names: {bad_keys}", source, record, "env")


def read_environments(path: Path) -> dict[str, EnvSpec]:
    """Every spec of an ``environments.jsonl``, by name (names are unique)."""
    specs: dict[str, EnvSpec] = {}
    for spec, record in _rows(path):
        if spec.name in specs:
            raise _fail("duplicate environment name", str(path), record, "name")
        specs[spec.name] = spec
    return specs


def _rows(path: Path) -> Iterator[tuple[EnvSpec, str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = f"line {number}"
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise _fail(f"not valid JSON: {exc}", str(path), record) from None
        yield spec_from_dict(data, source=str(path), record=record, base_dir=path.parent), record


def write_environments(path: Path, specs: list[EnvSpec], base_dir: Path | None = None) -> None:
    """Write specs as JSONL, ``repo_dir`` relative to ``base_dir`` (the suite folder) when given."""
    lines = []
    for spec in specs:
        data = spec.to_dict()
        if base_dir is not None:
            data["repo_dir"] = Path(spec.repo_dir).resolve().relative_to(base_dir.resolve()).as_posix()
        lines.append(json.dumps(data, sort_keys=True))
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
