"""``swe-srl doctor`` says which sandboxes start on this machine, and why one does not."""

from __future__ import annotations

import os

from typer.testing import CliRunner

from swe_srl.cli import app


def test_doctor_says_which_sandboxes_start_here():
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    sandboxes = result.output.split("sandboxes:\n", 1)[1].splitlines()
    assert sandboxes[0].startswith("  [yes] local sandbox: bubblewrap, ")
    if os.environ.get("CI"):  # a Docker engine is part of CI's machine
        assert sandboxes[1] == "  [yes] docker sandbox: engine reachable, swe-srl/base:bookworm present"


def test_doctor_names_what_a_sandbox_lacks(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no bubblewrap to be found
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert (
        "  [no ] local sandbox: the local sandbox needs bubblewrap (apt-get install bubblewrap)"
        in result.output
    )
