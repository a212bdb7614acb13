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
- **canaries**: two tests added to every collected test module, named by the host (the names come in
  the configuration file, which is deleted before any code under test runs): one must pass, one must
  fail. A hook or monkeypatch that forces results shows on the failing one.

Status of a test (swebench's names): FAILED (its call failed), ERROR (set-up or tear-down failed),
SKIPPED, XFAIL, XPASS, PASSED, in that order of precedence over its phases.
"""

import fcntl
import fnmatch
import json
import os
import sys

import pytest  # imported while the repository is not on sys.path (python -I)

_PRECEDENCE = {"FAILED": 4, "ERROR": 3, "XFAIL": 2, "SKIPPED": 2, "XPASS": 1, "PASSED": 1}
_CHANNEL_FD = 3
_LOW_FD = 100  # the private copy of the channel sits above the descriptors tests commonly use


class _State:
    def __init__(self):
        self.fd = None
        self.canary_pass = ""
        self.canary_fail = ""
        self.repo = os.path.realpath(os.getcwd())
        self.repo_on_path = False
        self.test_patterns = ()
        self.internal_dirs = ()
        self.phases = {}  # nodeid -> [status, declared]
        self.declared = {}  # nodeid -> whether the skip/xfail of a phase came from the tests
        self.modules = {}  # nodeid -> module node id the canaries were added to
        self.static_xfail = set()  # nodeids with an xfail marker when collection ended
        self.canary_markers = {}  # canary nodeid -> whether its module marks it skip/xfail
        self.session = None


STATE = _State()


def _emit(record):
    if STATE.fd is None:
        return
    data = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8", "replace")
    while data:
        data = data[os.write(STATE.fd, data) :]


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
    STATE.repo_on_path = bool(config.get("repo_on_path"))
    STATE.test_patterns = tuple(config.get("test_patterns", ()))
    if config.get("channel"):
        STATE.fd = _open_channel()
    import _pytest
    import pluggy

    dirs = [os.path.dirname(m.__file__) for m in (_pytest, pluggy)]
    dirs += [os.path.abspath(pytest.__file__), os.path.abspath(__file__)]
    STATE.internal_dirs = tuple(os.path.realpath(d) for d in dirs)


# -- where a skip or xfail came from ------------------------------------------------------------
def _is_internal(filename):
    real = os.path.realpath(filename)
    return any(real == d or real.startswith(d + os.sep) for d in STATE.internal_dirs)


def _declarer(tb):
    """The file of the innermost traceback frame outside pytest itself (None: pytest raised it)."""
    found = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not name.startswith("<") and not _is_internal(name):
            found = name
        tb = tb.tb_next
    return found


def _declared_by_tests(item, call, report):
    """Whether a skip or xfail was declared by the tests: a marker present when collection ended, or
    ``pytest.skip``/``pytest.xfail`` called from test code, a conftest or the environment (not the
    repository's own code). A report turned into a skip or xfail by anything else is not declared."""
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
    source = _declarer(excinfo.tb)
    if source is None:
        return True  # raised by pytest for a skip/skipif/xfail marker
    real = os.path.realpath(source)
    if not real.startswith(STATE.repo + os.sep):
        return True  # the environment's own code (a plugin, hypothesis), not the repository's
    rel = "/" + os.path.relpath(real, STATE.repo)
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in STATE.test_patterns)


def _has_skip_or_xfail(item):
    return any(item.get_closest_marker(name) is not None for name in ("skip", "skipif", "xfail"))


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


def _canary(module, name, must_fail):
    source = f"def {name}():\n    assert {'0 == 1' if must_fail else '1 == 1'}\n"
    filename = str(getattr(module, "path", None) or module.fspath)
    namespace = {"__name__": getattr(module.obj, "__name__", "canary")}
    exec(compile(source, filename, "exec"), namespace)
    if hasattr(pytest.Function, "from_parent"):
        return pytest.Function.from_parent(module, name=name, callobj=namespace[name])
    return pytest.Function(name, parent=module, callobj=namespace[name])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Note which tests are marked xfail, and put the two canaries before the first test of every
    test module (trylast: after any deselection or reordering)."""
    STATE.static_xfail = set(i.nodeid for i in items if i.get_closest_marker("xfail") is not None)
    if not (STATE.canary_pass and STATE.canary_fail):
        return
    ordered, seen, attached = [], set(), set()
    for item in items:
        module = item.getparent(pytest.Module)
        if module is not None and type(module).__name__ != "DoctestModule":
            if module.nodeid not in seen:
                seen.add(module.nodeid)
                try:
                    canaries = [_canary(module, STATE.canary_pass, False)]
                    canaries.append(_canary(module, STATE.canary_fail, True))
                except Exception:  # a module that cannot take a function item: no canaries there
                    canaries = []
                for canary in canaries:
                    STATE.canary_markers[canary.nodeid] = _has_skip_or_xfail(canary)
                if canaries:
                    attached.add(module.nodeid)
                ordered.extend(canaries)
            if module.nodeid in attached:
                STATE.modules[item.nodeid] = module.nodeid
        ordered.append(item)
    items[:] = ordered


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: sees the report as others left it
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        STATE.declared[(item.nodeid, call.when)] = _declared_by_tests(item, call, report)


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
    canary_failed = report.failed and report.nodeid.endswith("::" + STATE.canary_fail)
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
    _emit({"swe_srl": "finish", "exitstatus": int(exitstatus)})


def main(argv):
    # Off for this run and for any pytest the tests start: plugins come only as ``-p`` arguments.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    configure(argv[1] if len(argv) > 1 else "-")
    return pytest.main(argv[2:], plugins=[sys.modules[__name__]])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
