"""pytest as the grader runs it inside a sandbox; this file is copied there and never imports swe_srl.

The evaluation script (``swe_srl.eval.evalscript``) runs ``python -I <this file> CONFIG <pytest args>``
with the sandbox's own interpreter, so it keeps to Python 3.6 and pytest 4.6 features. It is what
stands between code under test and its verdict:

- **the real pytest**: ``-I`` keeps the repository, ``PYTHONPATH`` and user site-packages off
  ``sys.path`` while pytest and the explicitly named plugins (``-p``) are imported, so a ``pytest.py``
  or ``_pytest/`` in the repository never shadows them; plugin auto-loading (entry points) is off. The
  repository goes on ``sys.path`` afterwards where ``python -m pytest`` would have put it;
- **results on a channel of their own**: one JSON line per test (the exact node id, its status,
  whether a skip or xfail came from the tests themselves), written to a private close-on-exec copy of
  file descriptor 3, which the script connects to the host. The host reads the stream as it is
  written: records cannot be taken back, and any record after the final one is visible as tampering;
- **canaries**: tests added to every collected test module, named by the host (the names come in
  the configuration file, which is deleted before any code under test runs): one must pass and one
  must fail before the module's first test, and one more must fail after its last. The host's test
  files get them appended to their source before any code under test runs, so they are compiled,
  imported and run exactly like the module's own tests: whatever rewrites, recompiles or wraps the
  tests (a hook, an import hook, a monkeypatch of the test functions) does it to the canaries too,
  and a failing canary that passes shows it. Other modules get them compiled apart.

Status of a test (swebench's names): FAILED (its call failed), ERROR (set-up or tear-down failed),
SKIPPED, XFAIL, XPASS, PASSED, in that order of precedence over its phases.
"""

import fcntl
import fnmatch
import json
import os
import sys
import types

import pytest  # imported while the repository is not on sys.path (python -I)

# Taken before any code under test runs: a later monkeypatch of ``os.write`` or ``json.dumps`` does
# not reach the records.
_write = os.write
_dumps = json.dumps

_PRECEDENCE = {"FAILED": 4, "ERROR": 3, "XFAIL": 2, "SKIPPED": 2, "XPASS": 1, "PASSED": 1}
_CHANNEL_FD = 3
_LOW_FD = 100  # the private copy of the channel sits above the descriptors tests commonly use


class _State:
    def __init__(self):
        self.fd = None
        self.canary_pass = ""
        self.canary_fail = ""
        self.canary_fail_last = ""
        self.planted = set()  # real paths of the test files the canaries were appended to
        self.repo = os.path.realpath(os.getcwd())
        self.repo_on_path = False
        self.test_patterns = ()
        self.internal_dirs = ()
        self.phases = {}  # nodeid -> [status, declared]
        self.declared = {}  # nodeid -> whether the skip/xfail of a phase came from the tests
        self.modules = {}  # nodeid -> module node id the canaries were added to
        self.static_xfail = set()  # nodeids with an xfail marker written in the tests when collection ended
        self.sources = {}  # path -> text, for the markers' check
        self.conftests = None  # the text of every conftest pytest loaded
        self.canary_markers = {}  # canary nodeid -> whether its module marks it skip/xfail
        self.session = None


STATE = _State()


def _emit(record):
    if STATE.fd is None:
        return
    data = (_dumps(record, sort_keys=True) + "\n").encode("utf-8", "replace")
    while data:
        data = data[_write(STATE.fd, data) :]


def _open_channel():
    try:
        fd = fcntl.fcntl(_CHANNEL_FD, fcntl.F_DUPFD_CLOEXEC, _LOW_FD)
    except OSError:
        return None
    os.close(_CHANNEL_FD)
    return fd


def configure(path):
    """Read the host's configuration (a file, deleted before any code under test can read it, or
    inline JSON)."""
    if not path or path == "-":
        return
    if path.startswith("{"):
        config = json.loads(path)  # given inline: nothing secret in it
    else:
        with open(path) as handle:
            config = json.load(handle)
        os.unlink(path)
    STATE.canary_pass = config.get("canary_pass", "")
    STATE.canary_fail = config.get("canary_fail", "")
    STATE.canary_fail_last = config.get("canary_fail_last", "")
    STATE.repo_on_path = bool(config.get("repo_on_path"))
    STATE.test_patterns = tuple(config.get("test_patterns", ()))
    if config.get("channel"):
        STATE.fd = _open_channel()
    if STATE.canary_pass and STATE.canary_fail:
        for path in config.get("canary_files", ()):
            _plant_canaries(path)
    import _pytest
    import pluggy

    dirs = [os.path.dirname(m.__file__) for m in (_pytest, pluggy)]
    dirs += [os.path.abspath(pytest.__file__), os.path.abspath(__file__)]
    STATE.internal_dirs = tuple(os.path.realpath(d) for d in dirs)


# -- where a skip or xfail came from ------------------------------------------------------------
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


def _declared_by_tests(item, call, report, original=None):
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
    if all(found is None for found in sources) and _marked(item, _SKIPPING):
        return _marked(item, _SKIPPING, written=True)  # pytest raised it for a marker: whose?
    return True


# -- markers written in the tests -----------------------------------------------------------------
_SKIPPING = ("skip", "skipif", "xfail")


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


def _marked(item, names, written=False):
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


# -- hooks ---------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # ``python -m pytest`` puts the working directory first on sys.path; do so now that pytest and
    # the named plugins are loaded, so the repository cannot shadow them.
    if STATE.repo_on_path and STATE.repo not in sys.path:
        sys.path.insert(0, STATE.repo)


def pytest_sessionstart(session):
    STATE.session = session
    _emit({"swe_srl": "start", "pytest": pytest.__version__, "python": sys.version.split()[0]})


# -- canaries ------------------------------------------------------------------------------------
def _canary_names():
    """(name, must fail, function it runs): the last canary runs the must-fail function again."""
    names = [(STATE.canary_pass, False, STATE.canary_pass), (STATE.canary_fail, True, STATE.canary_fail)]
    if STATE.canary_fail_last:
        names.append((STATE.canary_fail_last, True, STATE.canary_fail))
    return names


# The must-fail canary checks, besides its own ``assert``, that the assertion helpers tests lean on
# still fail when they should: a patch that makes ``pytest.approx``, ``pytest.raises``/``warns``,
# unittest's assertions or numpy's testing functions harmless makes it pass.
_MUST_FAIL_BODY = """
    import sys
    import unittest

    import pytest

    held = 0
    try:
        assert 1.0 == pytest.approx(2.0)
    except AssertionError:
        held += 1
    try:
        with pytest.raises(ZeroDivisionError):
            pass
    except BaseException:
        held += 1
    try:
        with pytest.warns(UserWarning):
            pass
    except BaseException:
        held += 1
    try:
        unittest.TestCase().assertEqual(0, 1)
    except AssertionError:
        held += 1
    numpy_testing = sys.modules.get("numpy.testing")
    try:
        if numpy_testing is not None:
            numpy_testing.assert_allclose(1.0, 2.0)
    except AssertionError:
        held += 1
    assert held < 4 + (numpy_testing is not None)
"""


def _canary_def(name, must_fail):
    return "def {}():{}".format(name, _MUST_FAIL_BODY if must_fail else "\n    assert 1 == 1\n")


def _canary_source():
    return "".join("\n\n" + _canary_def(name, fails) for name, fails, runs in _canary_names() if name == runs)


def _plant_canaries(path):
    """Append the canaries to the test file ``path`` (relative to the repository) before anything
    imports it, so they are compiled and imported exactly like its own tests."""
    full = os.path.join(STATE.repo, path)
    real = os.path.realpath(full)
    if not real.startswith(STATE.repo + os.sep) or os.path.islink(full) or not os.path.isfile(real):
        return
    try:
        with open(real, "rb") as handle:
            ends_with_newline = handle.read().endswith(b"\n")
        with open(real, "ab") as handle:
            handle.write(("" if ends_with_newline else "\n").encode() + _canary_source().encode())
    except OSError:
        return
    STATE.planted.add(real)


def _module_file(module):
    return os.path.realpath(str(getattr(module, "path", None) or module.fspath))


def _function_item(module, name, function):
    if hasattr(pytest.Function, "from_parent"):
        return pytest.Function.from_parent(module, name=name, callobj=function)
    return pytest.Function(name, parent=module, callobj=function)


def _planted_function(module, name):
    """The canary function the module's own source defined (None when something removed it)."""
    function = getattr(module.obj, name, None)
    code = getattr(function, "__code__", None)
    if not isinstance(function, types.FunctionType) or code is None:
        return None
    if os.path.realpath(code.co_filename) != _module_file(module):
        return None
    return function


def _compiled_function(module, name, must_fail):
    source = _canary_def(name, must_fail)
    namespace = {"__name__": getattr(module.obj, "__name__", "canary")}
    exec(compile(source, str(getattr(module, "path", None) or module.fspath), "exec"), namespace)
    return namespace[name]


def _module_canaries(module, natural):
    """The canary items of ``module``: pytest's own items for the functions appended to its file
    (made here when a deselection dropped them), or functions compiled apart for other modules."""
    planted = _module_file(module) in STATE.planted
    canaries = []
    for name, must_fail, runs in _canary_names():
        item = natural.get((module.nodeid, name))
        if item is None:
            try:
                if planted:
                    function = _planted_function(module, runs)
                else:
                    function = _compiled_function(module, runs, must_fail)
                item = _function_item(module, name, function) if function is not None else None
            except Exception:  # reported missing: the host grades that as tampering
                item = None
        if item is not None:
            STATE.canary_markers[item.nodeid] = _marked(item, _SKIPPING, written=True)
            canaries.append(item)
    return canaries


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Note which tests are marked xfail, and put the canaries around the tests of every test
    module: two before its first test, one after its last (trylast: after any deselection or
    reordering)."""
    STATE.static_xfail = set(i.nodeid for i in items if _marked(i, ("xfail",), written=True))
    if not (STATE.canary_pass and STATE.canary_fail):
        return
    names = set(name for name, _, _ in _canary_names())
    natural, kept = {}, []
    for item in items:
        module = item.getparent(pytest.Module)
        if item.name in names and module is not None:
            natural[(module.nodeid, item.name)] = item
        else:
            kept.append(item)
    ordered, last, seen = [], {}, set()
    for item in kept:
        module = item.getparent(pytest.Module)
        if module is not None and type(module).__name__ != "DoctestModule":
            if module.nodeid not in seen:
                seen.add(module.nodeid)
                canaries = _module_canaries(module, natural)
                ordered.extend(c for c in canaries if c.name != STATE.canary_fail_last)
                last[module.nodeid] = [c for c in canaries if c.name == STATE.canary_fail_last]
            STATE.modules[item.nodeid] = module.nodeid
        ordered.append(item)
    # The last canary goes right after the module's last test.
    final = []
    for index, item in enumerate(ordered):
        final.append(item)
        module = STATE.modules.get(item.nodeid)
        following = ordered[index + 1].nodeid if index + 1 < len(ordered) else None
        if module is not None and STATE.modules.get(following) != module:
            final.extend(last.pop(module, []))
    items[:] = final


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: sees the report as others left it
def pytest_runtest_makereport(item, call):
    original = call.excinfo  # before pytest's unittest support turns a SkipTest into its own skip
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        STATE.declared[(item.nodeid, call.when)] = _declared_by_tests(item, call, report, original)


def _phase_status(report):
    if report.outcome == "passed":
        if report.when != "call":
            return None
        return "XPASS" if hasattr(report, "wasxfail") else "PASSED"
    if report.outcome == "failed":
        return "FAILED" if report.when == "call" else "ERROR"
    if report.outcome == "skipped":
        return "XFAIL" if hasattr(report, "wasxfail") else "SKIPPED"
    return None  # "rerun" and other plugin outcomes: not final


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_logreport(report):
    session = STATE.session
    failing = [STATE.canary_fail] + ([STATE.canary_fail_last] if STATE.canary_fail_last else [])
    canary_failed = report.failed and any(report.nodeid.endswith("::" + n) for n in failing)
    if canary_failed and session is not None:
        # The failing canary never counts towards --maxfail / -x: the real tests must all run.
        maxfail, session.config.option.maxfail = session.config.option.maxfail, 0
        yield
        session.config.option.maxfail = maxfail
        session.testsfailed = max(0, session.testsfailed - 1)
    else:
        yield
    status = _phase_status(report)
    entry = STATE.phases.setdefault(report.nodeid, [None, True])
    if status is not None and (entry[0] is None or _PRECEDENCE[status] >= _PRECEDENCE[entry[0]]):
        entry[0] = status
        # A skip nobody saw being made (a report changed after makereport) is not declared.
        skip_or_xfail = status in ("SKIPPED", "XFAIL")
        entry[1] = STATE.declared.get((report.nodeid, report.when), False) if skip_or_xfail else True
    if report.when == "teardown":
        del STATE.phases[report.nodeid]
        if entry[0] is None:
            return  # an attempt a plugin will run again (pytest-rerunfailures): its last one counts
        record = {"swe_srl": "test", "id": report.nodeid, "status": entry[0]}
        record["declared"] = bool(entry[1])
        record["module"] = STATE.modules.get(report.nodeid)
        _emit(record)


def pytest_collectreport(report):
    if report.failed:
        _emit({"swe_srl": "collect_error", "id": report.nodeid})


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session, exitstatus):
    yield
    # Whether the session stopped before its last test (-x, --maxfail): the last canaries never ran.
    stopped = bool(getattr(session, "shouldfail", False) or getattr(session, "shouldstop", False))
    _emit({"swe_srl": "finish", "exitstatus": int(exitstatus), "stopped": stopped})


def main(argv):
    # Off for this run and for any pytest the tests start: plugins come only as ``-p`` arguments.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    configure(argv[1] if len(argv) > 1 else "-")
    return pytest.main(argv[2:], plugins=[sys.modules[__name__]])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
