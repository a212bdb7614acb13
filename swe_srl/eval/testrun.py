"""The one test runner: ``tasks validate``, the grader and ``replay-check`` run a task's tests here.

:func:`run_tests` takes a sandbox whose ``/testbed`` holds the state to test (the base commit, with
a model or gold patch applied or not) and a :class:`~swe_srl.eval.testspec.TestRunSpec`, runs the
evaluation script (``evalscript.py``) in it, and returns a :class:`TestRun`: the test statuses read
by :mod:`swe_srl.eval.logs`, and the log.

How results travel, so that code under test cannot choose them:

- a pytest command runs through ``sandbox_pytest.py``, which writes one record per test to the
  command's own output stream, which the host reads as it is written (the log goes to a file);
- when the script ends, every process left in the sandbox is killed before anything is read, so
  nothing started by the tests (a daemon) writes after the run;
- the log file is then read, for keeping only (pytest verdicts never come from it): inside the
  sandbox under a timeout, only a regular file, its two ends when it is large;
- any other command (``runtests.py``) is graded from its output stream with the task's log parser.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from swe_srl.eval.evalscript import LOG_PATH, Canaries, build_eval_script, canary_files
from swe_srl.eval.logs import RunStatuses, read_records, read_text_log
from swe_srl.eval.testspec import TestRunSpec
from swe_srl.sandbox.base import Sandbox, SandboxError

# Record stream and text log: what the grader's sandboxes keep of one command's output.
RUN_OUTPUT_LIMIT = 16_000_000
LOG_KEEP_BYTES = 4 << 20  # of the test log, from each end (pytest's summary is at its end)
_READ_LOG = (
    f"f={LOG_PATH}; if [ ! -f $f ] || [ -L $f ]; then echo 'not a regular file'; exit 3; fi; "
    "s=$(stat -c %s -- $f) || exit 3; "
    f"if [ $s -le {2 * LOG_KEEP_BYTES} ]; then exec cat -- $f; fi; "
    f"head -c {LOG_KEEP_BYTES} -- $f && "
    f"printf '\\n<swe-srl: %d bytes of the test log omitted>\\n' $((s - {2 * LOG_KEEP_BYTES})) && "
    f"tail -c {LOG_KEEP_BYTES} -- $f"
)
_CANARY_WORDS = (
    "parses",
    "round_trip",
    "handles",
    "accepts",
    "rejects",
    "formats",
    "compares",
    "matches",
    "keeps",
    "returns",
)


@dataclass(frozen=True)
class TestRun:
    """One run of a task's tests: the statuses and the log (``test_output.txt``)."""

    __test__ = False

    statuses: RunStatuses
    log: str
    seconds: float = 0.0
    canaries: Canaries | None = field(default=None, repr=False)


def new_canaries() -> Canaries:
    """Three test names nobody can guess, shaped like ordinary test names."""
    word = _CANARY_WORDS[secrets.randbelow(len(_CANARY_WORDS))]
    pass_name, fail_name, last_name = (f"test_{word}_{secrets.token_hex(6)}" for _ in range(3))
    return Canaries(must_pass=pass_name, must_fail=fail_name, must_fail_last=last_name)


def kill_processes(sandbox: Sandbox) -> None:
    """End every process in ``sandbox`` before reading results (the protocol's ``kill_processes``);
    a sandbox that cannot is refused, never read as it is."""
    kill = getattr(sandbox, "kill_processes", None)
    if kill is None:
        raise SandboxError(
            f"{type(sandbox).__name__} cannot end the processes it runs: results would be read while "
            "code under test may still write them"
        )
    kill()


def _read_log(sandbox: Sandbox) -> str:
    """The test log, read inside the sandbox under a timeout and kept to ``LOG_KEEP_BYTES`` from each
    end: code under test may have replaced it by a FIFO (an open would wait forever) or grown it to
    gigabytes (read whole, it would take the host's memory)."""
    result = sandbox.run(_READ_LOG, timeout=60)
    if result.exit_code != 0 or result.timed_out:
        return f"(test log unreadable: {result.output.strip()[-300:] or f'exit status {result.exit_code}'})"
    return result.output


def run_tests(sandbox: Sandbox, spec: TestRunSpec, *, canaries: bool = True) -> TestRun:
    """Run ``spec``'s tests in ``sandbox`` on its current ``/testbed`` and read the results."""
    start = time.monotonic()
    chosen = new_canaries() if canaries else None
    script = build_eval_script(spec, channel=True, canaries=chosen)
    # The script travels as the command itself, never as a file code under test could read.
    result = sandbox.run(script, timeout=spec.timeout + 60)
    kill_processes(sandbox)
    structured = spec.pytest is not None and not spec.eval_script
    if structured:
        log = _read_log(sandbox)
        statuses = read_records(
            result.output, chosen, truncated=result.truncated, canary_files=canary_files(spec)
        )
    else:
        log = result.output
        statuses = read_text_log(log, spec, truncated=result.truncated)
    if result.timed_out or statuses.exit_code in (124, 137):
        statuses = statuses.with_problem("error", f"tests timed out after {spec.timeout:g}s")
    return TestRun(statuses, log, round(time.monotonic() - start, 3), chosen)
