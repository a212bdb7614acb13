"""Shared fixtures. Real components only: bubblewrap, a Docker engine, git, pytest."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from swe_srl.eval.grader import SandboxGrader
from swe_srl.records import Task
from swe_srl.tasks import load_tasks

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "trajectories"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BASE_IMAGE = "swe-srl/base:bookworm"


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def pytest_collection_modifyitems(config, items):
    """Docker tests skip on a developer machine without an engine, but fail the run under CI=true."""
    docker_items = [item for item in items if "docker" in item.keywords]
    if not docker_items or docker_available():
        return
    if IN_CI:
        raise pytest.UsageError(
            f"CI=true but no Docker engine is reachable: {len(docker_items)} Docker tests are mandatory in CI"
        )
    for item in docker_items:
        item.add_marker(pytest.mark.skip(reason="no Docker engine (mandatory under CI=true)"))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"trajectory fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def task() -> Task:
    """The bundled sample task (durata), as ``swe-srl eval --tasks sample`` loads it."""
    return load_tasks("sample")[0]


@pytest.fixture(scope="session")
def grader() -> SandboxGrader:
    """The grader in fresh local sandboxes, with a test timeout short enough for hanging tests."""
    return SandboxGrader("local", test_timeout=60)


@pytest.fixture(scope="session")
def steps_dir(tmp_path_factory) -> Path:
    """SRL step instances built from the shipped expert trajectories (read-only for tests)."""
    from swe_srl.train.devdata import build_steps

    return build_steps(tmp_path_factory.mktemp("steps"))


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    """A small random Qwen2 model with its tokenizer, for the training tests (read-only for tests)."""
    from swe_srl.train.tiny_model import TinyModelSpec, init_tiny

    return init_tiny(tmp_path_factory.mktemp("tiny"), spec=TinyModelSpec(vocab_size=1000, hidden_size=48))
