"""Classifying replayed observations: identical, nondeterministic (volatile details), or drift."""

from __future__ import annotations

from swe_srl.trajectories.divergence import (
    DRIFT,
    IDENTICAL,
    NONDETERMINISTIC,
    classify,
    first_divergence,
    mask_volatile,
)

PYTEST_RUN = "collected 3 items\n\ntests/test_x.py ...\n\n============ 3 passed in {t}s ============"


def test_line_endings_and_surrounding_whitespace_are_not_divergences():
    assert classify("a\r\nb\r\n\r\n", "a\nb").kind == IDENTICAL
    assert classify("\x1b[32mok\x1b[0m", "ok").kind == IDENTICAL


def test_timings_addresses_and_ids_are_nondeterminism():
    assert classify(PYTEST_RUN.format(t="0.06"), PYTEST_RUN.format(t="0.11")).kind == NONDETERMINISTIC
    assert (
        classify("<Foo object at 0x7f3a2b1c9d00>", "<Foo object at 0x7f99aa01bc40>").kind == NONDETERMINISTIC
    )
    assert classify("index 1a2b3c4..5d6e7f8 100644", "index 9a8b7c6..5d4e3f2 100644").kind == NONDETERMINISTIC
    stamp = classify("started 2024-05-01 10:00:01", "started 2025-01-02T11:22:33.5")
    assert stamp.kind == NONDETERMINISTIC and stamp.recorded_line == "started 2024-05-01 10:00:01"
    assert mask_volatile("took 3.2 seconds, wrote /tmp/tmpab_12") == "took <duration>, wrote /tmp/<tmp>"


def test_different_answers_are_drift_and_name_the_first_differing_line():
    divergence = classify("a.py\nb.py\nc.py", "a.py\nb2.py\nc.py")
    assert (divergence.kind, divergence.recorded_line, divergence.replayed_line) == (DRIFT, "b.py", "b2.py")
    shorter = classify("one\ntwo", "one")
    assert (shorter.kind, shorter.recorded_line, shorter.replayed_line) == (DRIFT, "two", "")
    assert classify("ModuleNotFoundError: No module named 'x'", "ok").kind == DRIFT


def test_first_divergence_over_a_trajectory():
    pairs = [("same", "same"), (PYTEST_RUN.format(t="1.0"), PYTEST_RUN.format(t="2.0")), ("x", "y")]
    first = first_divergence(pairs)
    assert first.step == 1 and first.divergence.kind == NONDETERMINISTIC
    assert first_divergence(pairs[:1]) is None
