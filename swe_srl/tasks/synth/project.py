"""A real project as a suite input: which sdist, how its tests run, and its environment spec.

One ``ProjectConfig`` per project version (``envs/pypi/projects.json`` lists them). ``prepare_project``
turns it into a source tree under the suite folder (the sdist unpacked once, its hash checked, the
package index's host names redacted and the redactions recorded in ``redactions.json``: see
``redact.py``) and an :class:`~swe_srl.environments.spec.EnvSpec` with every dependency pinned by
pip's resolver, written to the suite's ``environments.jsonl`` so tasks can name it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.environments.spec import (
    DEFAULT_ENV_VARS,
    ENVIRONMENTS_FILE,
    EnvSpec,
    read_environments,
    write_environments,
)
from swe_srl.records import RecordError, SweSrlError
from swe_srl.tasks.synth.redact import PLACEHOLDER, Redaction, redact_tree
from swe_srl.tasks.synth.sources import download_sdist, extract_sdist, resolve_pins, sha256_of

REPOS_DIR = "repos"
REDACTIONS_FILE = "redactions.json"


class ProjectError(SweSrlError):
    """A project whose own tests cannot serve for tasks (they do not run, or none passes)."""


@dataclass(frozen=True)
class ProjectConfig:
    """One PyPI project version to build tasks from."""

    name: str  # its name on the package index
    version: str
    repo: str  # owner/name of its source repository
    sha256: str = ""  # of the sdist; pinned once known
    test_paths: tuple[str, ...] = ("tests",)
    source_paths: tuple[str, ...] = ()  # where bugs may be injected (package folders or modules)
    test_packages: tuple[str, ...] = ("pytest==8.3.3",)  # what running the tests needs besides the project
    test_cmd: str = "python -m pytest -rA -p no:cacheprovider --color=no"
    log_parser: str = "pytest"
    pytest_plugins: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ENV_VARS))
    synth: int = 10  # synthesized tasks wanted
    max_candidates: int = 60  # mutations tried at most
    max_failing: int = 25  # a bug breaking more tests than this is not localized enough
    mine_from: tuple[str, ...] = ()  # earlier versions whose fixes up to this one may be mined

    @property
    def env_name(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def instance_prefix(self) -> str:
        return f"{self.repo.replace('/', '__')}-{self.version}"


def project_from_dict(data: Mapping[str, Any], source: str = "") -> ProjectConfig:
    """Validate one raw project entry (unknown fields are errors)."""
    names = {f.name for f in dataclasses.fields(ProjectConfig)}
    record = str(data.get("name", "?"))
    unknown = set(data) - names
    if unknown:
        raise RecordError(f"unknown field(s) {sorted(unknown)}", source=source, record=record)
    for required in ("name", "version", "repo"):
        if not isinstance(data.get(required), str) or not data[required]:
            raise RecordError(
                "required; a non-empty string", source=source, record=record, field_name=required
            )
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return ProjectConfig(**values)


def prepare_project(config: ProjectConfig, suite_dir: Path, cache: Path) -> EnvSpec:
    """Unpack the project's sdist under ``suite_dir/repos`` and record its environment spec there."""
    tree = suite_dir / REPOS_DIR / config.env_name
    archive = download_sdist(config.name, config.version, cache, config.sha256)
    digest = sha256_of(archive)
    fresh = not tree.is_dir()
    if fresh:
        extract_sdist(archive, tree)
    redacted = redact_tree(tree)  # idempotent: a tree unpacked by an earlier build is checked again
    if fresh or redacted:
        record_redactions(suite_dir, config.env_name, redacted)
    env_file = suite_dir / ENVIRONMENTS_FILE
    existing = read_environments(env_file) if env_file.is_file() else {}
    known = existing.get(config.env_name)
    if known is not None and Path(known.repo_dir) == tree.resolve() and _same_settings(known, config):
        return known  # its pins stay as they were resolved
    spec = EnvSpec(
        name=config.env_name,
        repo=config.repo,
        version=config.version,
        repo_dir=str(tree.resolve()),
        packages=tuple(resolve_pins(tree, list(config.test_packages), config.name)),
        test_cmd=config.test_cmd,
        log_parser=config.log_parser,
        pytest_plugins=config.pytest_plugins,
        env=dict(config.env),
        source={"sdist": archive.name, "sha256": digest, "index_name": config.name},
    )
    existing[spec.name] = spec
    write_environments(env_file, sorted(existing.values(), key=lambda s: s.name), base_dir=suite_dir)
    return read_environments(env_file)[spec.name]


def _same_settings(spec: EnvSpec, config: ProjectConfig) -> bool:
    """Whether ``spec`` was recorded with ``config``'s test settings (a corrected command records anew)."""
    return (spec.test_cmd, spec.log_parser, tuple(spec.pytest_plugins), dict(spec.env)) == (
        config.test_cmd,
        config.log_parser,
        tuple(config.pytest_plugins),
        dict(config.env),
    ) and set(config.test_packages) <= set(spec.packages)


def record_redactions(suite_dir: Path, env_name: str, redactions: list[Redaction]) -> None:
    """Note in the suite's ``redactions.json`` what redaction changed in ``env_name``'s tree."""
    path = suite_dir / REDACTIONS_FILE
    data = json.loads(path.read_text()) if path.is_file() else {}
    trees = dict(data.get("trees", {}))
    trees[env_name] = {r.path: ("removed" if r.removed else r.replaced) for r in redactions}
    trees = {name: files for name, files in sorted(trees.items()) if files}
    data = {"placeholder": PLACEHOLDER, "trees": trees}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
