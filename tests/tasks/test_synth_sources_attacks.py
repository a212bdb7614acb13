"""A project's sdist is an adversary while ``tasks synth`` turns it into a task suite: its build backend
runs when pip resolves the pins. Each test is an attack such an sdist makes."""

from __future__ import annotations

import contextlib

import pytest

from swe_srl.tasks.synth.sources import resolve_pins


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="resolve_pins runs `pip install --dry-run` of the unpacked sdist on the host, as the caller "
    "(root): its setup.py or build backend runs unsandboxed; it should run in the environment build's "
    "sandbox (swe_srl/environments/buildbox.py)",
)
def test_sdist_setup_py_runs_on_host_during_synth(tmp_path):
    marker = tmp_path / "host-was-written"
    tree = tmp_path / "evil-0.1"
    tree.mkdir()
    (tree / "setup.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('setup.py ran on the host')\n"
        "from setuptools import setup\n"
        "setup(name='evil', version='0.1', py_modules=[])\n"
    )
    with contextlib.suppress(Exception):  # a refusal is fine; only the host write matters here
        resolve_pins(tree, [], "evil")
    assert not marker.exists(), "the sdist's setup.py wrote a file on the host"
