"""The harness's own git, as scripts run inside the sandbox: the diff of every step and the reset.

They run inside because the repository (config, hooks, attributes, objects) is the agent's to change:
on the host, a planted ``core.fsmonitor`` or filter driver would run as the harness. Inside, they
still must not run anything the agent planted, or a hook left by one episode could edit the next
episode's patch. So git runs with hooks and fsmonitor off, every filter driver the configuration
names emptied, ``--no-ext-diff --no-textconv``, and no system or global configuration
(:data:`GIT_SAFE_ENV`); nested repositories never make the diff fail, and the diff is cut inside
the sandbox, so the host never reads more than its cap.
"""

from __future__ import annotations

import shlex

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


def diff_script(base: str, ctl_dir: str, limit: int) -> str:
    """``git diff`` against ``base`` with untracked files, through a temporary index in ``ctl_dir``.

    Nested repositories (an agent's ``git init sub``) are left out: git would refuse an empty one and
    record another as a bare gitlink. At most ``limit + 1`` bytes come out, so the caller can tell a
    cut diff (:func:`~swe_srl.sandbox.base.truncate_patch`).
    """
    excludes = " ".join(shlex.quote(x) for x in DIFF_EXCLUDES)
    return _GIT_PRELUDE + (
        f"ex=({excludes})\n"
        f"idx={shlex.quote(ctl_dir)}/index.$$\n"
        'trap \'rm -f -- "$idx" "$idx.lock" "$idx.err"\' EXIT\n'
        # -p: git trusts an entry whose stat matches unless its mtime is not older than the index
        # file (racy git); a copy with a newer mtime would hide a same-size edit made in that second.
        'cp -p -- "$GIT_DIR/index" "$idx" 2>/dev/null || rm -f -- "$idx"\n'
        'export GIT_INDEX_FILE="$idx"\n'
        'add() { "${g[@]}" add -A -- . "${ex[@]}" 2>"$idx.err"; }\n'
        # An empty nested repository makes `git add` fail: only then list them (a second scan of the
        # untracked files). One with commits would be a gitlink, which --ignore-submodules hides.
        "if ! add; then\n"
        "  while IFS= read -r -d '' p; do [[ $p == */ ]] && ex+=(\":(exclude,literal)${p%/}\"); done "
        '< <("${g[@]}" ls-files -z --others --exclude-standard 2>/dev/null)\n'
        '  add || { cat -- "$idx.err"; exit 1; }\n'
        "fi\n"
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
