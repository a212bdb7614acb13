"""Fixtures for the containment suite: a small task, both backends, tight limits, a results table.

Every attack is a test parametrized over the backends ("local" = bubblewrap, "docker"). The
terminal summary prints which attacks were tried and contained on each backend: a passed test
is a contained attack, a failed one is a hole.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from attacks import TEST_LIMITS
from sandbox_cases import make_tiny_task

from swe_srl.sandbox import make_sandbox

BACKENDS = ["local", pytest.param("docker", marks=pytest.mark.docker)]

# (backend, attack) -> "contained" | "HOLE" | "skipped"; filled by the report hook below.
_RESULTS: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="session")
def tiny_task(tmp_path_factory):
    return make_tiny_task(tmp_path_factory.mktemp("adversarial-src"), instance_id="adv__calc-1")


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("adversarial-cache")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def open_sandbox(backend, tiny_task, cache_root):
    """A factory for sandboxes of the current backend with :data:`TEST_LIMITS`; all closed at teardown."""
    boxes = []

    def _open(**options):
        box = make_sandbox(backend, tiny_task, cache_root=cache_root, limits=TEST_LIMITS, **options)
        boxes.append(box)
        return box

    yield _open
    for box in boxes:
        box.close()


@pytest.fixture
def sandbox(open_sandbox):
    return open_sandbox()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    if callspec is None or "backend" not in callspec.params or "adversarial" not in str(item.path):
        return
    key = (callspec.params["backend"], item.originalname.removeprefix("test_"))
    if report.skipped:
        _RESULTS.setdefault(key, "skipped")
    elif report.failed:
        _RESULTS[key] = "HOLE"
    elif report.when == "call":
        _RESULTS.setdefault(key, "contained")


def pytest_terminal_summary(terminalreporter):
    if not _RESULTS:
        return
    backends = sorted({backend for backend, _ in _RESULTS})
    attacks = sorted({attack for _, attack in _RESULTS})
    width = max(len(a) for a in attacks) + 2
    write = terminalreporter.write_line
    terminalreporter.section("sandbox containment")
    write("attack".ljust(width) + "".join(b.ljust(12) for b in backends))
    for attack in attacks:
        write(attack.ljust(width) + "".join(_RESULTS.get((b, attack), "-").ljust(12) for b in backends))
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (backend, _), verdict in _RESULTS.items():
        totals[backend][verdict] += 1
    for backend in backends:
        tried = sum(v for k, v in totals[backend].items() if k != "skipped")
        write(f"{backend}: {totals[backend]['contained']}/{tried} attacks contained")
