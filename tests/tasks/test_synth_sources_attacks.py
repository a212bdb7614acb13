"""A project's sdist is an adversary while ``tasks synth`` turns it into a task suite: its build backend
runs when pip resolves the pins. Each test is an attack such an sdist makes."""

from __future__ import annotations

import pytest

from swe_srl.tasks.synth.sources import resolve_pins


@pytest.mark.slow
def test_sdist_setup_py_runs_on_host_during_synth(tmp_path):
    marker = tmp_path / "host-was-written"
    tree = tmp_path / "evil-0.1"
    tree.mkdir()
    (tree / "setup.py").write_text(
        "import pathlib\n"
        "try:\n"
        f"    pathlib.Path({str(marker)!r}).write_text('setup.py ran on the host')\n"
        "except OSError:\n"
        "    pass  # in the sandbox: the host's folder is not there\n"
        "from setuptools import setup\n"
        "setup(name='evil', version='0.1', py_modules=[])\n"
    )
    pins = resolve_pins(tree, ["iniconfig==2.3.1"], "evil")
    assert not marker.exists(), "the sdist's setup.py wrote a file on the host"
    assert pins == ["iniconfig==2.3.1"]  # resolving still works, in the sandbox
