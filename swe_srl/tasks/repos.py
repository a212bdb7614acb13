"""Where a classic SWE-bench / SWE-Gym / SWE-smith row's repository comes from.

Such rows name ``repo`` (``owner/name``) and ``base_commit`` but carry no source tree. ``--repos``
(or ``$SWE_SRL_REPOS``) says where clones live:

- a folder of git clones named ``owner__name`` (SWE-bench's own naming): each task's ``repo_dir``
  becomes its clone, and the sandbox checks out ``base_commit`` from it;
- a URL template holding ``{repo}`` (``owner/name``, e.g. ``https://<git host>/{repo}.git``) or
  ``{mirror}`` (``owner__name``), when online: each repository is cloned once into
  ``<cache>/mirrors/owner__name`` and used the same way.

A row that names an ``image`` needs neither on the Docker backend: the image holds ``/testbed`` at
``base_commit`` (swebench's instance images); a named image that is absent is an error there, never
a silent fallback. A row with none of these fails with a message that says what to provide.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

from swe_srl.records import RecordError, Task

REPOS_ENV = "SWE_SRL_REPOS"


def mirror_name(repo: str) -> str:
    """``owner/name`` → ``owner__name``, the folder name SWE-bench's tooling uses for clones."""
    return repo.replace("/", "__")


def _clone(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".tmp-{dest.name}-{os.getpid()}")
    proc = subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", url, str(tmp)],
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    if proc.returncode != 0:
        raise RecordError(f"cannot clone {url}: {proc.stderr.strip()[-500:]}", source=url)
    try:
        os.rename(tmp, dest)
    except OSError:
        if not (dest / ".git").exists():
            raise


def repository_for(repo: str, repos: str, cache_root: Path | None = None) -> Path | None:
    """The local clone of ``repo`` that ``repos`` provides (cloning from a URL template once), or None."""
    if "{repo}" in repos or "{mirror}" in repos:
        from swe_srl.sandbox.workspace import default_cache_root

        dest = Path(cache_root or default_cache_root()) / "mirrors" / mirror_name(repo)
        if not (dest / ".git").exists():
            _clone(repos.format(repo=repo, mirror=mirror_name(repo)), dest)
        return dest
    clone = Path(repos) / mirror_name(repo)
    return clone.resolve() if (clone / ".git").exists() else None


def with_repositories(tasks: list[Task], repos: str | None = None) -> list[Task]:
    """``tasks`` with ``repo_dir`` filled from ``repos`` (default ``$SWE_SRL_REPOS``) where it is empty.

    Tasks that already have a source tree, or that name an image, are left alone; a task the
    mirror cannot serve keeps an empty ``repo_dir`` (the sandbox then says what is missing).
    """
    repos = repos if repos is not None else os.environ.get(REPOS_ENV, "")
    if not repos:
        return tasks
    found: dict[str, Path | None] = {}
    completed = []
    for task in tasks:
        if task.repo_dir or task.image:
            completed.append(task)
            continue
        if task.repo not in found:
            found[task.repo] = repository_for(task.repo, repos)
        clone = found[task.repo]
        completed.append(dataclasses.replace(task, repo_dir=str(clone)) if clone else task)
    return completed
