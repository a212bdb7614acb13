"""One environment, both backends: same interpreter, same distributions, same verdicts, on a real project.

The environment is the `pypi` suite's `inflection-0.5.1` (a real PyPI sdist; pytest pinned). Building it
reaches the package index once; afterwards it is cached by content hash.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess

import pytest

from swe_srl.environments.build import EnvironmentUnavailable, build_environment, load_built
from swe_srl.environments.ensure import ensure_environments
from swe_srl.records import Task
from swe_srl.sandbox import SandboxError, make_sandbox
from swe_srl.tasks import load_tasks, validate_task
from swe_srl.tasks.suites import envs_root

pytestmark = pytest.mark.slow
ENV = "inflection-0.5.1"
PROBE = (
    "command -v python; python -c 'import sys; print(sys.version); print(sys.prefix)'; "
    "python -c 'import sys; print([p for p in sys.path if \"dist-packages\" in p])'; "
    "python -c 'import inflection; print(inflection.__file__)'; pip freeze --all; echo NO_COLOR=$NO_COLOR"
)


@pytest.fixture(scope="module")
def pypi_tasks() -> list[Task]:
    tasks = [t for t in load_tasks("pypi") if t.environment.endswith(f"#{ENV}")]
    assert len(tasks) >= 2, "the pypi suite lost its inflection tasks"
    return tasks


def _probe(kind: str, task: Task) -> str:
    with make_sandbox(kind, task) as sandbox:
        result = sandbox.run(PROBE, timeout=120)
    assert result.exit_code == 0, result.output
    return result.output


def test_local_environment_is_the_venv_not_the_host(pypi_tasks):
    out = _probe("local", pypi_tasks[0])
    lines = out.splitlines()
    assert lines[0] == "/opt/swe-srl/venv/bin/python"
    assert "/opt/swe-srl/venv" in lines and "[]" in lines  # no Debian dist-packages on the path
    assert "/testbed/inflection/__init__.py" in out  # the task's code, installed editable
    assert "pytest==8.3.3" in out and "NO_COLOR=1" in out


@pytest.mark.docker
def test_both_backends_see_the_same_interpreter_and_distributions(pypi_tasks):
    assert _probe("local", pypi_tasks[0]) == _probe("docker", pypi_tasks[0])


@pytest.mark.docker
def test_both_backends_give_the_same_verdicts(pypi_tasks):
    task = pypi_tasks[0]
    local, docker = validate_task(task, "local"), validate_task(task, "docker")
    assert local.before and local.after
    assert (local.valid, local.problems) == (docker.valid, docker.problems)
    assert (local.before, local.after) == (docker.before, docker.after)


@pytest.mark.docker
def test_named_image_that_does_not_exist_is_a_clear_error(pypi_tasks):
    task = dataclasses.replace(pypi_tasks[0], image="swe-srl/no-such-image:1")
    with pytest.raises(SandboxError, match=r"image 'swe-srl/no-such-image:1' does not exist"):
        make_sandbox("docker", task)


def test_envs_build_builds_each_environment_once(pypi_tasks):
    results = ensure_environments(pypi_tasks)
    assert [(r.name, r.tasks, r.ok) for r in results] == [(ENV, len(pypi_tasks), True)]
    assert ensure_environments(pypi_tasks)[0].status == "cached"


def test_environment_needing_another_python_is_rejected_with_the_reason(pypi_tasks, tmp_path):
    """validate never runs such a task elsewhere: it reports why the environment cannot exist here."""
    suite = tmp_path / "suite"
    shutil.copytree(envs_root() / "pypi" / "repos" / ENV, suite / "repos" / ENV)
    rows = [
        json.loads(line) for line in (envs_root() / "pypi" / "environments.jsonl").read_text().splitlines()
    ]
    spec = next(r for r in rows if r["name"] == ENV)
    (suite / "environments.jsonl").write_text(json.dumps({**spec, "python": "3.8"}) + "\n")
    task = dataclasses.replace(pypi_tasks[0], environment=f"{suite / 'environments.jsonl'}#{ENV}")
    result = validate_task(task, "local")
    assert (
        not result.valid
        and "needs Python 3.8" in result.problems[0]
        and "provides Python 3.11" in result.problems[0]
    )
    from swe_srl.environments.reference import spec_for

    with pytest.raises(EnvironmentUnavailable):
        build_environment(spec_for(task))
    assert load_built(spec_for(task)) is None


@pytest.mark.docker
def test_per_task_image_is_a_thin_layer_over_the_environment_image(pypi_tasks):
    from swe_srl.environments.images import env_image_name
    from swe_srl.environments.mount import task_environment
    from swe_srl.eval.images import build_task_image, with_image

    task = pypi_tasks[1]
    built = build_task_image(task, "pypi-test")
    assert build_task_image(task, "pypi-test").action == "up-to-date"
    env_image = env_image_name(task_environment(task))
    history = subprocess.run(["docker", "history", "-q", built.image], capture_output=True, text=True).stdout
    base_layers = subprocess.run(
        ["docker", "history", "-q", env_image], capture_output=True, text=True
    ).stdout
    assert (
        history.split()[-len(base_layers.split()) :] == base_layers.split()
    )  # the env image's layers, shared
    size = int(subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", built.image],
                              capture_output=True, text=True).stdout)  # fmt: skip
    env_size = int(subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", env_image],
                                  capture_output=True, text=True).stdout)  # fmt: skip
    assert size - env_size < 1_000_000  # the task's own layer: its setup commit, not a repository copy
    with make_sandbox("docker", with_image(task, "pypi-test")) as sandbox:
        head = sandbox.run("git rev-parse HEAD && command -v python").output.split()
    assert head == [task.base_commit, "/opt/swe-srl/venv/bin/python"]
    subprocess.run(["docker", "image", "rm", "-f", built.image], capture_output=True)


def test_envs_commands_list_and_build_the_suites_environments(pypi_tasks):
    from typer.testing import CliRunner

    from swe_srl.cli import app

    ids = [arg for t in pypi_tasks[:3] for arg in ("-i", t.instance_id)]
    built = CliRunner().invoke(app, ["envs", "build", "pypi", *ids])
    assert built.exit_code == 0, built.output
    assert f"cached      {ENV}" in built.output and "1/1 environments ready" in built.output
    listed = CliRunner().invoke(app, ["envs", "list", "pypi"])
    assert listed.exit_code == 0 and f"{ENV}\t" in listed.output and "built" in listed.output
    assert len([line for line in listed.output.splitlines() if "\t" in line]) >= 10


def test_environment_that_fails_to_build_is_rejected_with_its_log(pypi_tasks, tmp_path):
    """A build that fails (a compiled dependency without wheels, say) names the step and shows the log."""
    suite = tmp_path / "suite"
    shutil.copytree(envs_root() / "pypi" / "repos" / ENV, suite / "repos" / ENV)
    rows = [
        json.loads(line) for line in (envs_root() / "pypi" / "environments.jsonl").read_text().splitlines()
    ]
    spec = next(r for r in rows if r["name"] == ENV)
    failing = {**spec, "pre_install": ["echo 'error: no C compiler for the extension' >&2; exit 3"]}
    (suite / "environments.jsonl").write_text(json.dumps(failing) + "\n")
    task = dataclasses.replace(pypi_tasks[0], environment=f"{suite / 'environments.jsonl'}#{ENV}")
    result = validate_task(task, "local")
    assert not result.valid
    assert "build failed (exit 3)" in result.problems[0] and "no C compiler" in result.problems[0]


@pytest.mark.docker
def test_docker_eval_runs_in_the_environment_image_when_no_task_image_is_built(tmp_path):
    from swe_srl.eval.runner import EvalConfig, run_eval

    instance = "python-semver__python-semver-3.0.2.synth-4f3ea414"
    subprocess.run(["docker", "image", "rm", "-f", f"swe-srl/pypi.{instance}:latest"], capture_output=True)
    config = EvalConfig(tasks="pypi", policy="gold", out=tmp_path, sandbox="docker", instances=(instance,))
    report = run_eval(config)
    assert (report.total, report.resolved) == (1, 1), report.errors
