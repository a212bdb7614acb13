"""One episode must not influence the next: every attack leaves something behind in episode 1 and
checks that ``reset()`` gives episode 2 the task's pristine state, on both backends.

Episode 2's ``submit`` is what the grader would score, so "the next patch is empty" is the same as
"a bare submit does not score 1.0".
"""

from __future__ import annotations

import zlib

from attacks import assert_usable, bash, editor

from swe_srl.records import Action
from swe_srl.tools.executor import EMPTY_PATCH, execute

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = BUGGY.replace("a - b", "a + b")
FIX = "sed -i 's/a - b/a + b/' /testbed/calc/ops.py"


def _submit(sandbox) -> str:
    result = execute(sandbox, Action("submit", {}))
    assert result.submitted
    return result.patch


def _assert_pristine(sandbox) -> None:
    """What episode 2 starts from: the base commit, nothing else, and a bare submit is empty."""
    assert sandbox.read_file("calc/ops.py").decode() == BUGGY
    assert bash(sandbox, "git status --porcelain --ignored").observation.startswith("Your command ran")
    assert _submit(sandbox) == ""
    assert sandbox.read_file("calc/ops.py").decode() == BUGGY  # no hook ran during the diff
    assert_usable(sandbox)


def test_fsmonitor_hook_edits_next_patch(sandbox):
    bash(sandbox, f"printf '#!/bin/sh\\n{FIX}\\n' > .git/fix.sh; chmod +x .git/fix.sh")
    bash(sandbox, "git config core.fsmonitor /testbed/.git/fix.sh")
    sandbox.reset()
    _assert_pristine(sandbox)


def test_planted_hook_edits_next_patch(sandbox):
    hooks = ("post-index-change", "reference-transaction", "post-checkout", "pre-commit", "post-rewrite")
    plant = "; ".join(
        f"printf '#!/bin/sh\\n{FIX}\\n' > .git/hooks/{h}; chmod +x .git/hooks/{h}" for h in hooks
    )
    bash(sandbox, f"mkdir -p .git/hooks; {plant}")
    bash(sandbox, "mkdir -p /tmp/hooks; cp .git/hooks/* /tmp/hooks/; git config core.hooksPath /tmp/hooks")
    sandbox.reset()
    _assert_pristine(sandbox)


def test_rewritten_loose_object_changes_next_start(sandbox):
    """Episode 1 rewrites the blob of calc/ops.py in place: git would check out the new bytes."""
    blob = bash(sandbox, "git rev-parse HEAD:calc/ops.py").observation
    forged = zlib.compress(f"blob {len(FIXED)}\0{FIXED}".encode())
    path = f".git/objects/{blob[:2]}/{blob[2:]}"
    sandbox.write_file("/testbed/forged.bin", forged)
    # Packed objects are read first: explode the pack into loose objects, then forge the one.
    unpack = "mkdir -p /tmp/p; mv .git/objects/pack/pack-* /tmp/p/ 2>/dev/null; "
    unpack += "for f in /tmp/p/*.pack; do [ -f $f ] && git unpack-objects -q < $f; done"
    bash(sandbox, f"{unpack}; mkdir -p {path.rsplit('/', 1)[0]}; rm -f {path}; mv forged.bin {path}; {FIX}")
    assert bash(sandbox, f"git cat-file -p {blob}").observation == FIXED.strip()  # the forgery took
    sandbox.reset()
    _assert_pristine(sandbox)
    assert bash(sandbox, f"git cat-file -p {blob}").observation == BUGGY.strip()


def test_rewritten_config_and_refs_survive_reset(sandbox):
    """Refs, packed-refs, config, info/attributes and alternates are restored, not just the tree."""
    bash(
        sandbox,
        "git commit -qam 'fix' --allow-empty; git tag -f v-evil; echo '* filter=x' > .git/info/attributes; "
        "git config filter.x.smudge 'sed s/a\\ -\\ b/a\\ +\\ b/'; git config alias.st '!echo pwned'; "
        "mkdir -p .git/objects/info && echo /tmp > .git/objects/info/alternates",
    )
    sandbox.reset()
    state = bash(
        sandbox,
        "git tag; git config --get-regexp 'filter|alias'; cat .git/info/attributes; "
        "cat .git/objects/info/alternates 2>/dev/null | grep -c /tmp",
    ).observation
    assert (
        "v-evil" not in state and "filter.x" not in state and "alias" not in state and "* filter" not in state
    )
    assert bash(sandbox, "git log --oneline | wc -l").observation == "2"
    _assert_pristine(sandbox)


def test_undo_edit_across_reset(sandbox):
    """The editor's undo history of episode 1 must not restore its file in episode 2."""
    path = "/testbed/calc/ops.py"
    edited = editor(sandbox, command="create", path="/testbed/calc/ops.py", file_text=FIXED)
    assert edited.exit_code != 0  # create refuses an existing file; use str_replace
    edited = editor(sandbox, command="str_replace", path=path, old_str="a - b", new_str="a + b")
    assert edited.exit_code == 0, edited.observation
    editor(sandbox, command="str_replace", path=path, old_str="a + b", new_str="a * b")
    sandbox.reset()
    undone = editor(sandbox, command="undo_edit", path=path)
    assert undone.observation == f"No edit history found for {path}.", undone.observation
    _assert_pristine(sandbox)


def test_python_startup_hook_planted_outside_testbed(sandbox):
    """A user-site or system .pth planted in episode 1 would run in every python of episode 2."""
    plant = (
        "site=$(python3 -m site --user-site); mkdir -p $site && "
        "echo 'print(\"PLANTED-USER\")' > $site/usercustomize.py; "
        "for d in $(python3 -c 'import site; print(\" \".join(site.getsitepackages()))'); do "
        "mkdir -p $d 2>/dev/null; "
        "echo 'import sys; print(\"PLANTED-SYSTEM\")' > $d/zz-evil.pth 2>/dev/null; done; "
        "echo planted > /tmp/left-behind; echo planted > ~/left-behind"
    )
    bash(sandbox, plant)
    sandbox.reset()
    result = bash(sandbox, "python3 -c 'print(1)'; ls /tmp ~ | grep -c left-behind")
    assert "PLANTED" not in result.observation, result.observation
    assert result.observation.endswith("0")
    _assert_pristine(sandbox)


def test_empty_nested_repo_breaks_every_step(sandbox):
    """`git init sub` made every later diff (hence every step) raise, across resets."""
    bash(sandbox, "git init -q sub; git init -q other && git -C other commit -q --allow-empty -m x")
    bash(sandbox, "echo 'print(1)' > sub/inner.py; echo kept > new.txt")
    patch = sandbox.diff()
    assert "new.txt" in patch and "sub/" not in patch and "other" not in patch
    sandbox.reset()
    assert bash(sandbox, "ls -d sub other 2>/dev/null | wc -l").observation == "0"
    _assert_pristine(sandbox)


def test_diff_executes_nothing_from_workspace(sandbox):
    """The harness's own git (diff) runs no hook, fsmonitor, filter, external diff or textconv."""
    marker = "touch /tmp/ran-$(basename $0 .sh) || true"
    setup = (
        f"printf '#!/bin/sh\\n{marker}\\ncat\\n' > /tmp/clean.sh; "
        f"printf '#!/bin/sh\\n{marker}\\n' > /tmp/fsmonitor.sh; cp /tmp/fsmonitor.sh /tmp/extdiff.sh; "
        "cp /tmp/fsmonitor.sh /tmp/textconv.sh; cp /tmp/fsmonitor.sh /tmp/pager.sh; chmod +x /tmp/*.sh; "
        "mkdir -p .git/hooks; cp /tmp/fsmonitor.sh .git/hooks/post-index-change; "
        "git config core.fsmonitor /tmp/fsmonitor.sh; "
        # Section names are case-insensitive, and an included file defines the filter.
        "printf '[Filter \"x\"]\\n\\tclean = /tmp/clean.sh\\n\\trequired = true\\n' > /tmp/inc.cfg; "
        "git config include.path /tmp/inc.cfg; git config diff.external /tmp/extdiff.sh; "
        "git config diff.t.textconv /tmp/textconv.sh; git config core.pager /tmp/pager.sh; "
        "printf '* filter=x diff=t\\n' > .gitattributes; echo changed >> README.md"
    )
    bash(sandbox, setup)
    patch = sandbox.diff()
    assert "+changed" in patch and "+* filter=x diff=t" in patch
    assert bash(sandbox, "ls /tmp | grep -c '^ran-'").observation == "0", bash(sandbox, "ls /tmp").observation
    assert execute(sandbox, Action("submit", {})).observation != EMPTY_PATCH


# What an episode sees of /testbed: every path with its type, mode, content hash or link target, and
# extended attributes. The index is left out: git may refresh it, which changes no file.
_VIEW = r"""python3 - <<'PY'
import hashlib, os
def xattrs(p):
    try:
        return sorted(os.listxattr(p, follow_symlinks=False))
    except OSError:
        return []
rows = []
for d, dirs, files in os.walk("/testbed"):
    for name in sorted(dirs) + sorted(files):
        p = os.path.join(d, name)
        if p == "/testbed/.git/index":
            continue
        st = os.lstat(p)
        kind = "l" if os.path.islink(p) else "d" if os.path.isdir(p) else "f"
        data = os.readlink(p) if kind == "l" else ""
        if kind == "f":
            try:
                with open(p, "rb") as handle:
                    data = hashlib.sha256(handle.read()).hexdigest()
            except OSError as exc:  # a mode the episode set: root inside holds no capability
                data = "unreadable %d" % exc.errno
        rows.append("%s %s %o %s %s" % (p, kind, st.st_mode & 0o7777, data, xattrs(p)))
print(hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest(), len(rows))
PY"""

# Everything an overlay lets an episode do to the files it was given: copy every file up and
# change it, delete a file (a whiteout), replace a directory (an opaque one), rename a directory
# (a redirect), hard-link a file and write through the link, change modes, and try to forge the
# overlay's own attributes (whiteouts, redirects, opaque markers) as well as plant ordinary ones.
_PLANT = r"""cd /testbed
git ls-files -z | xargs -0 -I{} sh -c 'echo PLANTED >> "$1"' _ {}
rm -f README.md
rm -rf tests && mkdir tests && echo 'def test_add(): pass' > tests/test_ops.py
mv calc calc.moved && mkdir calc && printf 'def add(a, b):\n    return a + b\n' > calc/ops.py
ln calc.moved/ops.py .git/planted-link && echo via-link >> .git/planted-link
chmod 0777 .git/config calc.moved; chmod 0 .git/description
python3 - <<'PY'
import os
for path, name, value in [
    ("/testbed/calc.moved", "trusted.overlay.opaque", b"y"),
    ("/testbed/calc", "trusted.overlay.redirect", b"/tests"),
    ("/testbed/.git/HEAD", "trusted.overlay.origin", b"x"),
    ("/testbed/calc/ops.py", "user.planted", b"1"),
]:
    try:
        os.setxattr(path, name, value)
        print("set", name)
    except OSError as exc:
        print("refused", name, exc.errno)
PY"""


def test_plant_through_shared_snapshot_for_next_episode(open_sandbox, backend):
    """Episodes of one task share one read-only snapshot (locally, as root, the overlay's lower layer;
    in Docker, the image): whatever episode 1 does to /testbed, a concurrent episode sees none of it,
    and neither does the next episode after ``reset()`` nor one in a new sandbox after it closed.
    """
    import os

    first, sibling = open_sandbox(), open_sandbox()
    if backend == "local" and os.geteuid() == 0:
        assert first.workspace_mode == sibling.workspace_mode == "overlay"
    pristine = bash(first, _VIEW).observation
    assert bash(sibling, _VIEW).observation == pristine
    planted = bash(first, _PLANT).observation
    assert "set user.planted" in planted and "set trusted." not in planted, planted
    assert bash(first, _VIEW).observation != pristine  # the planting took, in this episode
    assert bash(sibling, _VIEW).observation == pristine
    _assert_pristine(sibling)
    first.reset()
    assert bash(first, _VIEW).observation == pristine
    _assert_pristine(first)
    bash(first, _PLANT)
    first.close()
    assert bash(open_sandbox(), _VIEW).observation == pristine
