"""Environment specs, references from tasks, and the pip configuration a build carries: no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swe_srl.environments.build import build_script
from swe_srl.environments.buildbox import host_binds, rewrite
from swe_srl.environments.pipconf import read_pip_config
from swe_srl.environments.reference import spec_for
from swe_srl.environments.spec import EnvSpec, read_environments, spec_from_dict
from swe_srl.records import RecordError
from swe_srl.tasks import load_tasks

RAW = {
    "name": "calc-1.0",
    "repo": "tiny/calc",
    "version": "1.0",
    "repo_dir": "calc-lib",
    "packages": ["pytest==8.3.3"],
}


def _suite(tmp_path: Path, spec: dict, environment: str = "calc-1.0") -> Path:
    (tmp_path / "calc-lib" / "calc").mkdir(parents=True)
    (tmp_path / "calc-lib" / "calc" / "__init__.py").write_text("")
    (tmp_path / "environments.jsonl").write_text(json.dumps(spec) + "\n")
    row = {"instance_id": "calc-1", "repo": "tiny/calc", "problem_statement": "x", "repo_dir": "calc-lib"}
    (tmp_path / "tasks.jsonl").write_text(json.dumps({**row, "environment": environment}) + "\n")
    return tmp_path


def test_a_task_names_its_environment_and_loading_resolves_it(tmp_path):
    suite = _suite(tmp_path, RAW)
    task = load_tasks(suite)[0]
    assert task.environment == f"{(suite / 'environments.jsonl').resolve()}#calc-1.0"
    spec = spec_for(task)
    assert spec is not None and spec.repo_dir == str((suite / "calc-lib").resolve())
    assert spec.env["NO_COLOR"] == "1"  # colour off unless the spec says otherwise


def test_unknown_environment_names_file_row_and_field(tmp_path):
    suite = _suite(tmp_path, RAW, environment="nope-2.0")
    with pytest.raises(RecordError) as err:
        load_tasks(suite)
    assert (
        "tasks.jsonl" in str(err.value) and "'environment'" in str(err.value) and "nope-2.0" in str(err.value)
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"packages": ["pytest>=8"]}, "packages"),
        ({"python": "3"}, "python"),
        ({"env": {"NO COLOR": "1"}}, "env"),
        ({"repo_dir": ""}, "repo_dir"),
        ({"install": "pip install ."}, "install"),
    ],
)
def test_bad_specs_name_the_field(tmp_path, change, field):
    path = tmp_path / "environments.jsonl"
    path.write_text(json.dumps({**RAW, **change}) + "\n")
    with pytest.raises(RecordError) as err:
        read_environments(path)
    assert f"'{field}'" in str(err.value) and "calc-1.0" in str(err.value) and str(path) in str(err.value)


def test_build_key_follows_build_inputs_only(tmp_path):
    suite = _suite(tmp_path, RAW)
    spec = spec_from_dict(RAW, base_dir=suite)
    same = spec_from_dict({**RAW, "test_cmd": "python -m pytest -x", "env": {"A": "1"}}, base_dir=suite)
    other = spec_from_dict({**RAW, "packages": ["pytest==8.3.2"]}, base_dir=suite)
    key = spec.build_key()
    assert key == same.build_key() != other.build_key()
    (suite / "calc-lib" / "calc" / "ops.py").write_text("x = 1\n")
    assert spec_from_dict(RAW, base_dir=suite).build_key() != key  # the tree is an input


def test_build_script_pins_pip_and_runs_steps_in_order():
    spec = EnvSpec(
        name="e", repo="o/r", version="1", repo_dir="/x", packages=("a==1",), pre_install=("echo pre",)
    )
    script = build_script(spec, "24.0")
    order = [
        script.index(s) for s in ("venv --without-pip", "pip==24.0", "echo pre", " a==1", "-e .", "freeze")
    ]
    assert order == sorted(order)
    assert "--system-site-packages" not in script


def test_pip_configuration_is_merged_and_its_paths_carried(tmp_path):
    wheels, index = tmp_path / "wheels", tmp_path / "mirror" / "simple"
    wheels.mkdir()
    index.mkdir(parents=True)
    (tmp_path / "xdg" / "pip").mkdir(parents=True)
    (tmp_path / "xdg" / "pip" / "pip.conf").write_text(f"[global]\nfind-links = {wheels}\ntimeout = 5\n")
    (tmp_path / "user.conf").write_text(f"[global]\ntimeout = 9\nextra-index-url = file://{index}\n")
    environ = {
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg"),
        "PIP_CONFIG_FILE": str(tmp_path / "user.conf"),
        "PIP_INDEX_URL": "https://mirror.invalid/simple",
        "HOME": str(tmp_path / "home"),
        "PATH": "/bin",
    }
    config = read_pip_config(environ)
    assert "timeout = 9" in config.text and str(wheels) in config.text  # later files override earlier ones
    assert config.variables == {"PIP_INDEX_URL": "https://mirror.invalid/simple"}  # nothing else leaks in
    assert str(wheels) in config.paths and str(index.parent) in config.paths  # a local index: its whole root


def test_paths_the_root_filesystem_cannot_hold_are_moved_and_rewritten(tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc" / "ssl").mkdir(parents=True)
    (rootfs / "etc" / "ssl" / "ca.pem").write_text("")
    binds = host_binds(rootfs, ("/etc/ssl/ca.pem", "/etc/xdg/pip/constraints.txt", "/opt/wheels"))
    assert binds["/etc/ssl/ca.pem"] == "/etc/ssl/ca.pem"  # bound over the tree's own file
    assert binds["/opt/wheels"] == "/opt/wheels"  # outside /etc and /usr: any path can be made
    moved = binds["/etc/xdg/pip/constraints.txt"]
    assert moved.startswith("/run/swe-srl/host/")
    assert rewrite("constraint = /etc/xdg/pip/constraints.txt\n", binds) == f"constraint = {moved}\n"


def test_the_test_runner_record_comes_from_the_environment():
    from swe_srl.eval.testspec import TestRunSpec

    tasks = {spec_for(t).name: t for t in load_tasks("pypi")}
    semver = TestRunSpec.from_task(tasks["semver-3.0.2"])
    assert semver.pytest_plugins == ("pytest_cov",) and ("NO_COLOR", "1") in semver.env
    assert semver.test_command.endswith("--color=no") and semver.log_parser == "parse_log_pytest"
    unittest_run = TestRunSpec.from_task(tasks["cachetools-5.3.3"])
    assert unittest_run.log_parser == "parse_log_django" and "unittest discover" in unittest_run.test_command
    assert unittest_run.pytest is None  # graded from its output by the environment's log parser
