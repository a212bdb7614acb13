"""Who declared a skip or xfail: the rules of the grader's pytest launcher (``sandbox_pytest.py``).

Copied into the sandbox beside the launcher, which loads it by its path; it never imports swe_srl
and keeps to Python 3.6 and pytest 4.6. A PASS_TO_PASS test that is skipped or xfailed counts only
when the tests declared it, so these rules decide what library code can and cannot hide:

- an imperative skip or xfail is the tests' when every traceback it went through (its own, the
  ``unittest.SkipTest`` pytest replaced by it, the unittest skips it was raised while handling) has,
  as its innermost frame outside pytest, test code, a conftest or the environment's own code; a
  frame counts as a file's only when its globals are the module loaded from that file;
- a marker is the tests' when they wrote it: its name appears in the source of the node holding it
  or of a conftest, and a module's marker only with ``pytestmark`` in the module's own source.
"""

import fnmatch
import os
import sys

import pytest

STATE = None  # the launcher's state, set when the launcher loads this file


def _is_internal(filename):
    real = os.path.realpath(filename)
    return any(real == d or real.startswith(d + os.sep) for d in STATE.internal_dirs)


def _genuine(frame):
    """Whether a frame's code comes from the file it names: its globals are those of a module loaded
    from that file. Code compiled under a borrowed name (``<string>``, a test file's, pytest's) into
    a namespace of its own is not."""
    name = frame.f_code.co_filename
    module_file = frame.f_globals.get("__file__")
    if name.startswith("<") or not isinstance(module_file, str):
        return False
    return os.path.realpath(module_file) == os.path.realpath(name)


def _declarer(tb):
    """(file, genuine) of the innermost traceback frame that is not pytest's own (None: pytest
    raised it, for a marker)."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        genuine = _genuine(frame)
        if not (genuine and _is_internal(frame.f_code.co_filename)):
            found = (frame.f_code.co_filename, genuine)
        tb = tb.tb_next
    return found


def _declaring_code(found):
    """Whether the frame ``_declarer`` found may declare a skip or xfail: pytest itself, the tests
    (test files, conftests) or the environment's own code (a plugin, hypothesis), never the
    repository's other code nor code that borrows another file's name."""
    if found is None:
        return True
    name, genuine = found
    if not genuine:
        return False
    real = os.path.realpath(name)
    if not real.startswith(STATE.repo + os.sep):
        return True
    rel = "/" + os.path.relpath(real, STATE.repo)
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in STATE.test_patterns)


def _skip_tracebacks(excinfo, original):
    """Every traceback a skip or xfail went through: its own, the exception pytest replaced by it
    (a ``unittest.SkipTest`` raised in a test function), and the skips it was raised while handling
    (a unittest test case's ``SkipTest``, turned into pytest's skip inside unittest's handler)."""
    tracebacks = [excinfo.tb]
    if original is not None and original.value is not excinfo.value:
        tracebacks.append(original.tb)
    skips = (pytest.skip.Exception, pytest.xfail.Exception)
    unittest = sys.modules.get("unittest")
    if unittest is not None:
        skips += (unittest.SkipTest,)
    context = excinfo.value.__context__
    for _ in range(8):
        if not isinstance(context, skips):
            break
        tracebacks.append(context.__traceback__)
        context = context.__context__
    return tracebacks


def declared_by_tests(item, call, report, original=None):
    """Whether a skip or xfail was declared by the tests: a marker present when collection ended, or
    ``pytest.skip``/``pytest.xfail``/``unittest.SkipTest`` from test code, a conftest or the
    environment (not the repository's own code), along every traceback it went through. A report
    turned into a skip or xfail by anything else is not declared."""
    if item.nodeid in STATE.canary_markers:
        return STATE.canary_markers[item.nodeid]
    excinfo = call.excinfo
    if hasattr(report, "wasxfail"):
        if item.nodeid in STATE.static_xfail:
            return True
        wanted = pytest.xfail.Exception
    else:
        wanted = pytest.skip.Exception
    if excinfo is None or not excinfo.errisinstance(wanted):
        return False
    sources = [_declarer(tb) for tb in _skip_tracebacks(excinfo, original)]
    if not all(_declaring_code(found) for found in sources):
        return False
    if all(found is None for found in sources) and marked(item, SKIPPING):
        return marked(item, SKIPPING, written=True)  # pytest raised it for a marker: whose?
    return True


# -- markers written in the tests -----------------------------------------------------------------
SKIPPING = ("skip", "skipif", "xfail")


def _source(path):
    if path not in STATE.sources:
        try:
            with open(path, "rb") as handle:
                STATE.sources[path] = handle.read().decode("utf-8", "replace")
        except OSError:
            STATE.sources[path] = ""
    return STATE.sources[path]


def _conftest_text(config):
    if STATE.conftests is None:
        files = [getattr(p, "__file__", None) for p in config.pluginmanager.get_plugins()]
        names = [f for f in files if isinstance(f, str) and os.path.basename(f).startswith("conftest.")]
        STATE.conftests = "\n".join(_source(os.path.realpath(f)) for f in names)
    return STATE.conftests


def _node_file(node):
    path = getattr(node, "path", None) or getattr(node, "fspath", None)
    return os.path.realpath(str(path)) if path is not None and os.path.isfile(str(path)) else None


def marked(item, names, written=False):
    """Whether ``item`` carries one of the markers ``names``; with ``written``, one the tests wrote:
    its name appears in the source of the node that holds it or of a conftest (a module's marker:
    its name and ``pytestmark`` in the module's own source). Library code can set a test module's
    ``pytestmark`` while that module imports it; such a marker is not the tests'."""
    for node, mark in item.iter_markers_with_node():
        if mark.name not in names:
            continue
        if not written:
            return True
        text = _source(_node_file(node)) if _node_file(node) else ""
        if isinstance(node, pytest.Module):  # only the module itself writes its pytestmark
            if mark.name in text and "pytestmark" in text:
                return True
        elif mark.name in text or mark.name in _conftest_text(item.config):
            return True
    return False
