"""What the repository's code does to the grading itself, seen by an audit hook (Python 3.8+).

Copied into the sandbox beside the grader's pytest launcher (``sandbox_pytest.py``), which loads
it by its path and installs :func:`hook` before any code under test runs; it never imports
swe_srl. Canaries catch hacks that force every result; a hack that forces only some (the tests
that call the library, the tests of one module) needs one of a few tools, each of which CPython
reports to audit hooks, which cannot be removed once added:

- replacing a function's ``__code__`` (recompiling test functions without their assertions);
- walking the garbage collector's objects (how library code finds pytest's configuration to
  register a plugin at run time);
- writing, removing or renaming test infrastructure (test files, conftests, their ``__pycache__``)
  or the grader's own files while the tests run;
- compiling code under the name of a test file or of pytest's own files (to borrow their frames);
- adding an audit hook of its own.

Each is reported when the code responsible for it, the innermost frame of the repository outside
pytest, is not the tests' own (test files and conftests may do these things to themselves).
"""

import fnmatch
import os
import sys

STATE = None  # the launcher's state, set when the launcher loads this file

_WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_WATCHED = frozenset(
    {
        "object.__setattr__",
        "open",
        "os.remove",
        "os.rename",
        "os.symlink",
        "os.link",
        "os.truncate",
        "gc.get_objects",
        "gc.get_referrers",
        "compile",
        "sys.addaudithook",
    }
)
# Taken now: a later monkeypatch of these does not blind the hook.
_getframe = sys._getframe
_realpath = os.path.realpath
_fnmatch = fnmatch.fnmatchcase


def _in_repo(path):
    return path == STATE.repo or path.startswith(STATE.repo + os.sep)


def _is_test(path):
    rel = "/" + os.path.relpath(path, STATE.repo)
    return any(_fnmatch(rel, pattern) for pattern in STATE.test_patterns)


def _is_internal(path):
    return any(path == d or path.startswith(d + os.sep) for d in STATE.internal_dirs)


def _grading_file(path):
    """Whether writing ``path`` touches the grading: test infrastructure or the grader's files."""
    if not isinstance(path, (str, bytes)):
        return False
    real = _realpath(os.fsdecode(path))
    return _in_repo(real) and (_is_test(real) or real.startswith(STATE.grade_dir + os.sep))


def _culprit():
    """The repository file responsible for the event: the innermost frame of the repository outside
    pytest and this launcher (None when there is none, or when it is the tests' own code)."""
    frame = _getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith("<"):
            real = _realpath(name)
            if _in_repo(real) and not _is_internal(real):
                return None if _is_test(real) else os.path.relpath(real, STATE.repo)
        frame = frame.f_back
    return None


def _what(event, args):
    """What the event does to the grading ("" when nothing)."""
    if event == "object.__setattr__":
        return "replaced a function's code" if args[1] == "__code__" else ""
    if event == "open":
        flags = args[2] if isinstance(args[2], int) and args[2] >= 0 else 0
        writes = flags & _WRITES or any(c in (args[1] or "") for c in "wax+")
        return f"wrote {args[0]}" if writes and _grading_file(args[0]) else ""
    if event in ("os.remove", "os.truncate"):
        return f"changed {args[0]}" if _grading_file(args[0]) else ""
    if event in ("os.rename", "os.symlink", "os.link"):
        touched = [a for a in args[:2] if _grading_file(a)]
        return f"moved or linked {touched[0]}" if touched else ""
    if event == "compile":
        name = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
        real = _realpath(name) if name and not name.startswith("<") else ""
        borrowed = real and ((_in_repo(real) and _is_test(real)) or _is_internal(real))
        return f"compiled code under the name of {name}" if borrowed else ""
    if event.startswith("gc."):
        return "walked the garbage collector's objects"
    return "added an audit hook" if event == "sys.addaudithook" else ""


def hook(event, args):
    if event not in _WATCHED or STATE is None:
        return
    try:
        what = _what(event, args)
        culprit = _culprit() if what else None
        if culprit is not None:
            STATE.report({"swe_srl": "tamper", "what": what, "by": culprit})
    except Exception:  # an audit hook that raises would break the operation it watches
        pass


# -- pytest's, unittest's and the builtins' own code -------------------------------------------------
# Replacing a function of pytest (TestReport.from_item_and_call, runner.call_and_report, approx) is
# a plain attribute assignment, which CPython does not audit: the launcher takes a snapshot once the
# session starts (plugins and conftests loaded) and compares it when the session ends.
_WATCHED_MODULES = ("pytest", "_pytest", "pluggy", "unittest", "builtins")


def _callables(owner):
    items = getattr(owner, "__dict__", {})
    kinds = (staticmethod, classmethod, property)
    return dict((k, v) for k, v in list(items.items()) if callable(v) or isinstance(v, kinds))


def snapshot(extra=()):
    """Every function and class of pytest, pluggy, unittest, the builtins and ``extra`` modules, and
    every attribute of their classes: [(owner, {name: object})]."""
    owners = []
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _WATCHED_MODULES:
            continue
        owners.append(module)
    owners += list(extra)
    taken = []
    for module in owners:
        found = _callables(module)
        taken.append((module, found))
        for value in found.values():
            if isinstance(value, type) and value.__module__ == getattr(module, "__name__", None):
                taken.append((value, _callables(value)))
    return taken


def replaced(taken):
    """The ``owner.name`` of what changed since ``taken`` (a few at most): a function or class
    replaced, or a method added to a class (a module may gain attributes: submodules, caches)."""
    found = []
    for owner, before in taken:
        now = _callables(owner)
        added = [n for n in now if n not in before] if isinstance(owner, type) else []
        for name in [n for n, v in before.items() if now.get(n) is not v] + added:
            found.append("{}.{}".format(getattr(owner, "__name__", "?"), name))
    return found[:5]
