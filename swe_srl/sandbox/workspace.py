"""Base repositories: the task's starting state as a cached git repository.

Every sandbox starts from a git repository whose ``HEAD`` is the task's base state. When
``task.repo_dir`` is a git checkout it is cloned and ``task.base_commit`` checked out. When it is a
plain source tree (how bundled suites store a library once for many bugs), the tree is committed
with a fixed author, committer, e-mail and dates, then ``task.setup_patch`` (the bug-introducing
patch) is applied and committed the same way. Both commits therefore have the same hash on every
machine, which is what lets a suite author write ``Task.base_commit`` down (see ``base_commit_of``).

Repositories are cached under ``~/.cache/swe-srl/base`` (or ``$SWE_SRL_CACHE``, or ``cache_root``),
keyed by a hash of the inputs. Preparation happens in a temporary directory that is renamed into
place, so concurrent preparations of the same task never see a half-built repository.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path

from swe_srl.records import Task
from swe_srl.sandbox.base import SandboxError
from swe_srl.sandbox.localfs import remove_tree

PREPARATION_VERSION = 3  # bump when the preparation recipe changes: old cache entries are then ignored
BRANCH = "main"
_IDENTITY = {"name": "swe-srl", "email": "swe-srl@localhost", "date": "2000-01-01T00:00:00+0000"}
# Host configuration must not leak into the commit (autocrlf, hooks, templates, signing...).
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": _IDENTITY["name"],
    "GIT_AUTHOR_EMAIL": _IDENTITY["email"],
    "GIT_AUTHOR_DATE": _IDENTITY["date"],
    "GIT_COMMITTER_NAME": _IDENTITY["name"],
    "GIT_COMMITTER_EMAIL": _IDENTITY["email"],
    "GIT_COMMITTER_DATE": _IDENTITY["date"],
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
    "TZ": "UTC",
}
GIT_ENV = _GIT_ENV  # for builders that run git elsewhere (in a container) with the same identity
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_tree_hash_memo: dict[tuple[str, int, int], str] = {}


class WorkspaceError(SandboxError):
    """A task's base repository cannot be prepared; the message names the instance."""


def default_cache_root() -> Path:
    """Where prepared repositories live unless told otherwise."""
    env = os.environ.get("SWE_SRL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "swe-srl"


def git(
    args: list[str],
    cwd: Path,
    *,
    check: bool = True,
    stdin: bytes | None = None,
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run git with the fixed identity and no host configuration; return stdout."""
    env = {**os.environ, **_GIT_ENV, **(extra_env or {})}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True)
    if check and proc.returncode != 0:
        raise SandboxError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode(errors="replace")


def _is_git_checkout(path: Path) -> bool:
    return (path / ".git").exists()


def _scan(root: str, rel: str, out: list[tuple[str, os.stat_result]]) -> None:
    """Files under ``root/rel`` in ``os.walk`` order (a folder's files, then its sorted subfolders)."""
    with os.scandir(os.path.join(root, rel) if rel else root) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    subdirs = []
    for entry in listed:
        path = f"{rel}/{entry.name}" if rel else entry.name
        if entry.is_dir():  # follows links like os.walk; a link to a folder is neither walked nor hashed
            if entry.name not in _SKIP_DIRS and not entry.is_symlink():
                subdirs.append(path)
        elif not entry.name.endswith(".pyc"):
            out.append((path, entry.stat(follow_symlinks=False)))
    for sub in subdirs:
        _scan(root, sub, out)


def _source_files(root: Path) -> list[tuple[str, os.stat_result]]:
    """(relative path, lstat) of every file of a plain source tree; no Path per file (large trees)."""
    found: list[tuple[str, os.stat_result]] = []
    _scan(str(root), "", found)
    return found


def tree_hash(root: Path) -> str:
    """Content hash of a plain source tree (paths, modes, bytes), memoized by (path, mtimes, count)."""
    files = _source_files(root)
    memo_key = (str(root), max((st.st_mtime_ns for _, st in files), default=0), len(files))
    if memo_key in _tree_hash_memo:
        return _tree_hash_memo[memo_key]
    digest = hashlib.sha256()
    for rel, st in files:
        full = os.path.join(root, rel)
        if stat.S_ISLNK(st.st_mode):
            data = os.readlink(full).encode()
        else:
            with open(full, "rb") as handle:
                data = handle.read()
        digest.update(f"{rel}\0{st.st_mode & 0o111 != 0}\0{len(data)}\0".encode())
        digest.update(data)
    _tree_hash_memo[memo_key] = digest.hexdigest()
    return _tree_hash_memo[memo_key]


def _source_dir(task: Task) -> Path:
    if not task.repo_dir:
        raise WorkspaceError(
            f"task {task.instance_id}: field 'repo_dir' is empty; nothing to build /testbed from "
            f"(give --repos DIR holding a git clone named {task.repo.replace('/', '__')}, or $SWE_SRL_REPOS, "
            "or an image that holds /testbed on the docker backend)"
        )
    src = Path(task.repo_dir)
    if not src.is_absolute() or not src.is_dir():
        raise WorkspaceError(
            f"task {task.instance_id}: field 'repo_dir' must be an existing absolute directory, got {src}"
        )
    return src


def cache_key(task: Task) -> str:
    """Hash of everything the prepared repository depends on."""
    src = _source_dir(task)
    if _is_git_checkout(src):
        origin = {"git": str(src.resolve()), "commit": task.base_commit or _head(src)}
    else:
        origin = {"tree": tree_hash(src)}
    inputs = {"v": PREPARATION_VERSION, **origin, "setup_patch": task.setup_patch}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:32]


def _head(repo: Path) -> str:
    return git(["rev-parse", "HEAD"], repo).strip()


def _commit_all(repo: Path, message: str) -> None:
    # --force: a source tree's own .gitignore must not drop files it ships (an sdist's generated
    # ``_version.py``, prebuilt data); everything copied is part of the task's base state.
    git(["add", "-A", "--force"], repo)
    # gc.auto=0: a commit of more than 6,700 loose objects would start a detached `git gc` that
    # repacks the cached repository while sandboxes copy it; _build packs it once, synchronously.
    git(
        ["-c", "gc.auto=0", "commit", "-q", "--allow-empty", "--no-verify", "--no-gpg-sign", "-m", message],
        repo,
    )


def _build_from_tree(task: Task, src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns(*_SKIP_DIRS, "*.pyc"))
    git(["init", "-q", "-b", BRANCH], dest)
    _commit_all(dest, "swe-srl: source tree")


def _build_from_git(task: Task, src: Path, dest: Path) -> None:
    git(["clone", "-q", "--no-checkout", str(src), str(dest)], src.parent)
    commit = task.base_commit or _head(src)
    try:
        git(["checkout", "-q", "-B", BRANCH, commit], dest)
    except SandboxError as exc:
        raise WorkspaceError(
            f"task {task.instance_id}: cannot check out base_commit {commit} in {src}"
        ) from exc
    git(["remote", "remove", "origin"], dest)


def _apply_setup_patch(task: Task, repo: Path) -> None:
    if not task.setup_patch:
        return
    patch = task.setup_patch if task.setup_patch.endswith("\n") else task.setup_patch + "\n"
    try:
        git(["apply", "--whitespace=nowarn", "-"], repo, stdin=patch.encode())
    except SandboxError as exc:
        raise WorkspaceError(f"task {task.instance_id}: field 'setup_patch' does not apply: {exc}") from exc
    _commit_all(repo, "swe-srl: setup patch")


def _check_base_commit(task: Task, repo: Path) -> None:
    """For plain trees ``base_commit`` is a promise about the result: hold preparation to it."""
    if not task.base_commit or _is_git_checkout(_source_dir(task)):
        return  # from a git checkout, base_commit names the commit checked out, not the result
    produced = _head(repo)
    if not produced.startswith(task.base_commit):
        raise WorkspaceError(
            f"task {task.instance_id}: field 'base_commit' is {task.base_commit} but preparing "
            f"{task.repo_dir} with its setup_patch produced {produced}; the source tree or patch changed "
            "(recompute it with swe_srl.sandbox.workspace.base_commit_of)"
        )


def _build(task: Task, dest: Path) -> None:
    src = _source_dir(task)
    if _is_git_checkout(src):
        _build_from_git(task, src, dest)
    else:
        _build_from_tree(task, src, dest)
    _apply_setup_patch(task, dest)
    # Everything is committed (ignored files included), so this only drops what a build left behind.
    git(["clean", "-q", "-fdx"], dest)
    # One pack instead of thousands of loose objects: every workspace links the object store anew
    # on each reset (swe_srl.sandbox.localfs), and a link per object would cost a reset dearly.
    git(["-c", "gc.auto=0", "repack", "-a", "-d", "-q"], dest)
    git(["prune-packed"], dest)
    _check_base_commit(task, dest)


def prepare_base_repo(task: Task, cache_root: Path | None = None) -> Path:
    """Return a cached git repository (working tree included) whose HEAD is the task's base state."""
    root = Path(cache_root or default_cache_root()) / "base"
    final = root / cache_key(task)
    if (final / ".git").is_dir():
        _check_base_commit(task, final)
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=root))
    try:
        _build(task, tmp / "repo")
        try:
            os.rename(tmp / "repo", final)
        except OSError:
            if not (final / ".git").is_dir():  # lost a race only if the winner's repository is there
                raise
    finally:
        remove_tree(tmp)  # what a build step left there may be of any depth
    return final


def base_commit_of(task: Task, cache_root: Path | None = None) -> str:
    """The commit hash preparation produces for ``task`` (identical on every machine)."""
    if not _is_git_checkout(_source_dir(task)):
        task = dataclasses.replace(task, base_commit="")  # the value to compute, so nothing to check
    return _head(prepare_base_repo(task, cache_root))


def head_of(repo: Path) -> str:
    """HEAD commit of a prepared repository."""
    return _head(repo)


def repo_tarball(repo: Path) -> Path:
    """A cached tar of the prepared repository (``.git`` included) rooted at ``testbed/``."""
    tar_path = repo.with_suffix(".tar")
    if tar_path.exists():
        return tar_path
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{repo.name}-", suffix=".tar", dir=repo.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w") as tar:
            tar.add(repo, arcname="testbed", filter=_root_owned)
        os.replace(tmp, tar_path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return tar_path


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info
