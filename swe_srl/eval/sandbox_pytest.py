"""pytest as the grader runs it inside a sandbox; copied there with its two helper files (loaded by
path from beside it), it never imports swe_srl.

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
- **canaries** (``sandbox_pytest_canaries.py``): tests added to every collected test module, named
  by the host (the names come in the configuration file, which is deleted before any code under test
  runs), appended to the host's test files before any code under test runs so that whatever
  rewrites, recompiles or wraps the tests does it to them too; a must-fail canary that passes shows it;
- **who declared a skip or xfail** (``sandbox_pytest_declared.py``): only the tests may hide a
  PASS_TO_PASS test that way, never the repository's own code;
- **what the repository's code does to the grading** (``sandbox_pytest_watch.py``): an audit hook
  reports the tools of a hack that forces only some results (replacing a function's code, walking
  the garbage collector, writing test infrastructure while the tests run...).

Status of a test (swebench's names): FAILED (its call failed), ERROR (set-up or tear-down failed),
SKIPPED, XFAIL, XPASS, PASSED, in that order of precedence over its phases.
"""

import fcntl
import json
import os
import sys

import pytest  # imported while the repository is not on sys.path (python -I)

# Taken before any code under test runs: a later monkeypatch of ``os.write`` or ``json.dumps`` does
# not reach the records.
_write = os.write
_fstat = os.fstat
_dumps = json.dumps

_PRECEDENCE = {"FAILED": 4, "ERROR": 3, "XFAIL": 2, "SKIPPED": 2, "XPASS": 1, "PASSED": 1}
_CHANNEL_FD = 3
_LOW_FD = 100  # the private copy of the channel sits above the descriptors tests commonly use


class _State:
    def __init__(self):
        self.fd = None
        self.channel = None  # (device, inode) of the record channel's pipe
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
        self.grade_dir = ""
        self.report = None
        self.snapshot = []  # pytest's, unittest's and the builtins' code when the session started


STATE = _State()


def _sibling(name):
    """A file of the launcher copied beside it, loaded by its path (``-I`` keeps this folder off
    ``sys.path``), before any code under test runs."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.STATE = STATE
    return module


declared = _sibling("sandbox_pytest_declared")
canaries = _sibling("sandbox_pytest_canaries")
watch = _sibling("sandbox_pytest_watch")


def _same_channel():
    """Whether the channel's descriptor still holds the pipe it was given: code under test can put a
    pipe of its own there and pass on what it likes; the launcher then writes nothing more, and a
    run without pytest's last records is no result."""
    try:
        status = _fstat(STATE.fd)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == STATE.channel


def _emit(record):
    if STATE.fd is None:
        return
    if not _same_channel():
        STATE.fd = None
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
        if STATE.fd is not None:
            status = _fstat(STATE.fd)
            STATE.channel = (status.st_dev, status.st_ino)
    if STATE.canary_pass and STATE.canary_fail:
        for path in config.get("canary_files", ()):
            canaries.plant(path)
    import _pytest
    import pluggy

    dirs = [os.path.dirname(m.__file__) for m in (_pytest, pluggy)]
    dirs += [os.path.abspath(m.__file__) for m in (pytest, sys.modules[__name__], declared, canaries, watch)]
    STATE.internal_dirs = tuple(os.path.realpath(d) for d in dirs)
    if STATE.fd is not None and hasattr(sys, "addaudithook"):  # Python 3.8+
        STATE.grade_dir = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
        STATE.report = _emit
        sys.addaudithook(watch.hook)


# -- hooks ---------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # ``python -m pytest`` puts the working directory first on sys.path; do so now that pytest and
    # the named plugins are loaded, so the repository cannot shadow them.
    if STATE.repo_on_path and STATE.repo not in sys.path:
        sys.path.insert(0, STATE.repo)


def pytest_sessionstart(session):
    STATE.session = session
    if STATE.report is not None:
        STATE.snapshot = watch.snapshot([sys.modules[__name__], declared, canaries, watch])
    _emit({"swe_srl": "start", "pytest": pytest.__version__, "python": sys.version.split()[0]})


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Note which tests are marked xfail, and put the canaries around the tests of every test
    module: two before its first test, one after its last (trylast: after any deselection or
    reordering)."""
    STATE.static_xfail = set(i.nodeid for i in items if declared.marked(i, ("xfail",), written=True))
    if not (STATE.canary_pass and STATE.canary_fail):
        return
    names = set(name for name, _, _ in canaries.canary_names())
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
                added = canaries.module_canaries(module, natural)
                for canary in added:  # a skip or xfail marker the tests wrote declares theirs too
                    marked = declared.marked(canary, declared.SKIPPING, written=True)
                    STATE.canary_markers[canary.nodeid] = marked
                ordered.extend(c for c in added if c.name != STATE.canary_fail_last)
                last[module.nodeid] = [c for c in added if c.name == STATE.canary_fail_last]
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
        STATE.declared[(item.nodeid, call.when)] = declared.declared_by_tests(item, call, report, original)


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


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    for name in watch.replaced(STATE.snapshot):  # before any plugin's own teardown
        _emit({"swe_srl": "tamper", "what": "changed " + name, "by": "seen when the session ended"})
    yield
    # Whether --maxfail (-x) stopped the session before its last test: the last canaries never ran.
    stopped = bool(getattr(session, "shouldfail", False))
    _emit({"swe_srl": "finish", "exitstatus": int(exitstatus), "stopped": stopped})


def main(argv):
    # Off for this run and for any pytest the tests start: plugins come only as ``-p`` arguments.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    configure(argv[1] if len(argv) > 1 else "-")
    return pytest.main(argv[2:], plugins=[sys.modules[__name__]])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
