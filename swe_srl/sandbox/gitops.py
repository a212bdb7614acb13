"""The harness's own git, run inside the sandbox: the diff of every step and the reset.

They run inside because the repository (config, hooks, attributes, objects) is the agent's to change:
on the host, a planted ``core.fsmonitor`` or filter driver would run as the harness. Inside, they
still must not run anything the agent planted, or a hook left by one episode could edit the next
episode's patch. So git runs with hooks and fsmonitor off, every filter driver the configuration
names emptied, ``--no-ext-diff --no-textconv``, and no system or global configuration
(:data:`GIT_SAFE_ENV`); nested repositories never make the diff fail, and the diff is cut inside
the sandbox, so the host never reads more than its cap.

The agent's processes share the sandbox with the shell these scripts run in, so they can stop it,
steal its input, or take every process slot or byte of memory while git runs; and the agent can
break ``.git``. A failed diff is therefore tried again after every process of the sandbox was
killed, and one that fails again is the agent's broken repository (:class:`BrokenRepository`), never
an error of the sandbox.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from swe_srl.sandbox.base import BrokenRepository, SandboxError, ScriptError, truncate_patch
from swe_srl.sandbox.shell import ShellSession

# Byte-compiled files never belong in a model patch (a binary diff would not even apply).
DIFF_EXCLUDES = (":(exclude)*.pyc",)
# Environment of the harness's own git: no system or global configuration (the repository's own is
# neutralised option by option in _GIT_PRELUDE), no replace refs, no prompts, no pager.
GIT_SAFE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_PAGER": "cat",
}
# `g` is git with everything that can execute a program from the repository's configuration off:
# hooks, fsmonitor, and every filter driver the configuration names (an empty command is no filter).
# External diff drivers and textconv are off by flag where they apply (--no-ext-diff --no-textconv).
_GIT_PRELUDE = r"""
export GIT_DIR="$PWD/.git" GIT_WORK_TREE="$PWD"
g=(git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.untrackedCache=false
   -c core.splitIndex=false -c 'safe.directory=*' -c diff.ignoreSubmodules=all -c core.pager=cat)
# Asking git for the filter drivers costs a process: skip it when the repository's only config file
# names none (case-insensitively, as git reads section names; includes, linked worktrees and NUL
# bytes, which would hide text from this check, are always asked about).
shopt -s nocasematch
ask=1
if [[ -d $GIT_DIR && -f $GIT_DIR/config && ! -e $GIT_DIR/commondir && ! -e $GIT_DIR/config.worktree ]]; then
  mapfile -d '' cfg < "$GIT_DIR/config"
  (( ${#cfg[@]} > 1 )) || [[ ${cfg[0]} == *filter* || ${cfg[0]} == *include* ]] || ask=0
fi
shopt -u nocasematch
if (( ask )); then
  while IFS= read -r -d '' key; do
    d=${key%.*}; g+=(-c "$d.clean=" -c "$d.smudge=" -c "$d.process=" -c "$d.required=false")
  done < <("${g[@]}" config -z --name-only --get-regexp '^filter\.' 2>/dev/null)
fi
"""


# git opens what it reads in `.git` (HEAD, config, index, refs, objects, alternates) and every
# .gitignore/.gitattributes it meets without asking what they are: a FIFO (or a link to one, or to
# a device) there blocks or feeds it forever, so every diff would wait for its timeout, twice, and
# the step fail. Such a file makes the repository one git cannot diff, said at once.
_UNREADABLE_CHECK = r"""
# -type reads the kind from the directory entry (no stat per file); only links are followed (-xtype).
kinds=(\( -type p -o -type s -o -type c -o -type b
       -o \( -type l \( -xtype p -o -xtype s -o -xtype c -o -xtype b \) \) \))
# One walk (one process per diff): .git through its absolute path (followed when it is a link), the
# working tree's ignore and attribute files through ".", whose own ./.git is pruned.
odd=$(find -H "$PWD/.git" . -path ./.git -prune -o \( -path "$PWD/.git/*" -o -name .gitignore \
  -o -name .gitattributes -o -name .gitmodules \) "${kinds[@]}" -print -quit 2>/dev/null)
[[ -z $odd ]] || { printf '%s is not a regular file\n' "${odd#"$PWD"/}"; exit 1; }
"""
_DIFF_PRELUDE = _UNREADABLE_CHECK + _GIT_PRELUDE


def diff_script(base: str, ctl_dir: str, limit: int) -> str:
    """``git diff`` against ``base`` with untracked files, through a temporary index in ``ctl_dir``.

    Nested repositories (an agent's ``git init sub``) are left out: git would refuse an empty one and
    record another as a bare gitlink; so are files git cannot read. At most ``limit + 1`` bytes come
    out, so the caller can tell a cut diff (:func:`~swe_srl.sandbox.base.truncate_patch`).
    """
    excludes = " ".join(shlex.quote(x) for x in DIFF_EXCLUDES)
    return _DIFF_PRELUDE + (
        f"ex=({excludes})\n"
        f"idx={shlex.quote(ctl_dir)}/index.$$\n"
        'trap \'rm -f -- "$idx" "$idx.lock" "$idx.err"\' EXIT\n'
        # -p: git trusts an entry whose stat matches unless its mtime is not older than the index
        # file (racy git); a copy with a newer mtime would hide a same-size edit made in that second.
        'cp -p -- "$GIT_DIR/index" "$idx" 2>/dev/null || rm -f -- "$idx"\n'
        'export GIT_INDEX_FILE="$idx"\n'
        # What git cannot add is left out, not fatal: a file or directory the agent made unreadable
        # (root inside holds no capability), an empty nested repository (one with commits becomes a
        # gitlink, which --ignore-submodules hides). Status 1 is such a file; 128 is git failing.
        '"${g[@]}" add -A --ignore-errors -- . "${ex[@]}" 2>"$idx.err"\n'
        '(( $? <= 1 )) || { cat -- "$idx.err"; exit 1; }\n'
        '"${g[@]}" diff --cached --no-ext-diff --no-textconv --ignore-submodules=all '
        f"{shlex.quote(base)} -- | head -c {limit + 1}\n"
        's=("${PIPESTATUS[@]}"); (( s[0] == 0 || s[0] == 141 )) || exit "${s[0]}"\n'
    )


def reset_script(base: str) -> str:
    """Restore ``base``'s tree in place: tracked files reset, everything else removed.

    Nested repositories go too (``clean -ff``). The local backend restores ``.git`` itself first, so
    the index and configuration git reads here are pristine.
    """
    return _GIT_PRELUDE + (
        '[[ -e $GIT_DIR/index.lock ]] && rm -f -- "$GIT_DIR/index.lock"\n'
        f'restore() {{ "${{g[@]}}" reset -q --hard {shlex.quote(base)} && "${{g[@]}}" clean -q -ffdx; }}\n'
        # Directories the agent made unwritable stop git (root inside holds no capability).
        "restore 2>/dev/null || { chmod -R u+rwX -- . 2>/dev/null; restore; }\n"
    )


DIFF_TIMEOUT = 300.0  # a large repository's first diff hashes every file
RECOVERED_NOTE = (
    "\n<the harness's git diff failed in this sandbox; every process in it was killed and the shell "
    "restarted at /testbed to run it again>\n"
)
BROKEN_REPOSITORY_NOTE = "\n<git cannot diff the repository ({detail}): the patch is empty until it can>\n"


def git_diff(
    session: ShellSession, base: str, env: dict[str, str], limit: int, recover: Callable[[], None]
) -> str:
    """The workspace's diff against ``base`` (:func:`diff_script`), run in ``session`` with ``env``.

    A first failure calls ``recover()`` (the sandbox's ``kill_processes``) and tries again; git
    failing again in a working shell raises :class:`BrokenRepository` and tells the agent why. While
    the repository stays broken, later diffs are tried once, without killing anything.
    """
    script, env = diff_script(base, session.ctl_dir, limit), {**env, **GIT_SAFE_ENV}
    for attempt in range(2):
        try:
            output = session.run_clean(script, env, "git diff", timeout=DIFF_TIMEOUT, limit=limit + 1)
        except ScriptError as exc:
            if attempt or session.repository_broken:
                detail = (exc.output.strip().splitlines() or [f"exit status {exc.exit_code}"])[-1][:300]
                session.repository_broken = True
                session.note(BROKEN_REPOSITORY_NOTE.format(detail=detail))
                raise BrokenRepository(f"git cannot diff the workspace: {detail}") from exc
        except SandboxError:
            if attempt:
                raise
        else:
            session.repository_broken = False
            return truncate_patch(output, limit)
        recover()
        session.note(RECOVERED_NOTE)
    raise AssertionError("unreachable")


def git_reset(session: ShellSession, base: str, env: dict[str, str]) -> None:
    """Restore ``base``'s tree in place (:func:`reset_script`); git's output is only for the error."""
    session.run_clean(reset_script(base), {**env, **GIT_SAFE_ENV}, "git reset", limit=1 << 16)
