"""A small backtracking dependency resolver over an in-memory package registry."""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional

from .constraint import Constraint
from .errors import ResolutionError
from .version import Version


class Registry:
    """Known packages: name -> version -> {dependency name: constraint text}."""

    def __init__(self, packages: Optional[Mapping[str, Mapping[str, Mapping[str, str]]]] = None):
        self._packages: Dict[str, Dict[Version, Dict[str, str]]] = {}
        for name, versions in (packages or {}).items():
            for version, deps in versions.items():
                self.add(name, version, deps)

    def add(self, name: str, version: str, dependencies: Optional[Mapping[str, str]] = None) -> None:
        self._packages.setdefault(name, {})[Version.parse(version)] = dict(dependencies or {})

    def versions(self, name: str) -> List[Version]:
        """All known versions of ``name``, newest first."""
        if name not in self._packages:
            raise ResolutionError(f"unknown package {name!r}")
        return sorted(self._packages[name], reverse=True)

    def dependencies(self, name: str, version: Version) -> Dict[str, str]:
        return dict(self._packages[name][version])

    def __contains__(self, name: str) -> bool:
        return name in self._packages


class _State:
    def __init__(self):
        self.chosen: Dict[str, Version] = {}
        self.requirements: Dict[str, List[Constraint]] = {}

    def copy(self) -> "_State":
        other = _State()
        other.chosen = dict(self.chosen)
        other.requirements = {name: list(cons) for name, cons in self.requirements.items()}
        return other


def _candidates(registry: Registry, name: str, constraints: List[Constraint], allow_pre: bool):
    return [
        version
        for version in registry.versions(name)
        if all(c.allows(version, include_prerelease=allow_pre) for c in constraints)
    ]


def _add_requirements(state: _State, deps: Mapping[str, str]) -> Optional[str]:
    """Record ``deps``; return the name of a package whose chosen version they reject."""
    for dep, text in deps.items():
        constraint = Constraint(text)
        state.requirements.setdefault(dep, []).append(constraint)
        chosen = state.chosen.get(dep)
        if chosen is not None and not constraint.allows(chosen, include_prerelease=True):
            return dep
    return None


def _solve(registry: Registry, state: _State, allow_pre: bool) -> Optional[_State]:
    pending = sorted(name for name in state.requirements if name not in state.chosen)
    if not pending:
        return state
    name = pending[0]
    for version in _candidates(registry, name, state.requirements[name], allow_pre):
        trial = state.copy()
        trial.chosen[name] = version
        if _add_requirements(trial, registry.dependencies(name, version)) is not None:
            continue
        solved = _solve(registry, trial, allow_pre)
        if solved is not None:
            return solved
    return None


def resolve(
    registry: Registry, requirements: Mapping[str, str], allow_prerelease: bool = False
) -> Dict[str, Version]:
    """Choose one version per package so every requirement holds, preferring newer versions."""
    state = _State()
    for name in requirements:
        if name not in registry:
            raise ResolutionError(f"unknown package {name!r}")
    _add_requirements(state, requirements)
    solved = _solve(registry, state, allow_prerelease)
    if solved is None:
        wanted = ", ".join(f"{name} {text}" for name, text in requirements.items())
        raise ResolutionError(f"no versions satisfy: {wanted}")
    return dict(sorted(solved.chosen.items()))
