"""The package index's host names never ship: unpacked sdists are redacted, and nothing tracked names one.

Host names here are built from pip's own knowledge at run time, never written in this file.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest
from pip._internal.models.index import PyPI, TestPyPI

from swe_srl.tasks.synth.redact import PLACEHOLDER, index_hosts, names_a_host, redact_text, redact_tree

REPO = Path(__file__).resolve().parents[2]


def test_hosts_are_pips_own_index_and_storage_hosts():
    hosts = index_hosts()
    assert PyPI.netloc in hosts and TestPyPI.netloc in hosts
    assert any(PyPI.file_storage_domain.endswith("." + h) for h in hosts)


def test_urls_keep_their_shape_and_other_text_is_untouched():
    text = (
        f"[![v](https://img.shields.io/{PyPI.netloc}/v/x)](https://{PyPI.netloc}/project/x/)\n"
        f"twine upload --repository-url https://{TestPyPI.netloc}/legacy/ dist/*\n"
        f"wheels from https://{PyPI.file_storage_domain}/packages/a.whl\n"
        f"Project-URL: Changelog, https://{PyPI.netloc.upper()}/x\n"
        f"keep: not{PyPI.netloc}x, self.{PyPI.netloc.split('.')[0]}_client, example.org\n"
    )
    redacted, count = redact_text(text)
    assert count == 5 and not names_a_host(redacted.encode())
    assert f"https://{PLACEHOLDER}/project/x/" in redacted
    assert f"https://img.shields.io/{PLACEHOLDER}/v/x" in redacted
    assert f"https://{PLACEHOLDER}/packages/a.whl" in redacted
    assert redacted.splitlines()[-1] == text.splitlines()[-1]


def test_a_tree_is_redacted_in_place_and_a_binary_naming_a_host_is_removed(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(f"pip install x  # from https://{PyPI.netloc}/project/x\n")
    (tmp_path / "docs" / "conf.py").write_text("x = 1\n")
    (tmp_path / "docs" / "blob.gz").write_bytes(b"\x1f\x8b\xff\xfe" + PyPI.netloc.encode() + b"\xff")
    (tmp_path / "data.gz").write_bytes(gzip.compress(b"nothing here"))
    changes = redact_tree(tmp_path)
    assert [(c.path, c.replaced, c.removed) for c in changes] == [
        ("README.md", 1, False),
        ("docs/blob.gz", 0, True),
    ]
    assert PLACEHOLDER in (tmp_path / "README.md").read_text() and not (tmp_path / "docs/blob.gz").exists()
    assert (tmp_path / "data.gz").exists() and redact_tree(tmp_path) == []


def test_no_package_index_host_is_shipped():
    """Every file git tracks, whatever its kind (suite trees, fixtures, docs, code)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    offending = []
    for name in filter(None, listed.decode().split("\0")):
        path = REPO / name
        if path.is_file() and not path.is_symlink() and names_a_host(path.read_bytes()):
            offending.append(name)
    assert offending == []
