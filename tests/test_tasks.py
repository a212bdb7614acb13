"""The task loader: suite names, JSON / JSONL / parquet files, and errors that name file, row and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swe_srl.records import RecordError, Task
from swe_srl.tasks import TaskNotFound, list_suites, load_task, load_tasks, read_tasks, resolve_spec

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED = REPO_ROOT / "envs" / "bundled"
PATCH = "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"


def row(**overrides) -> dict:
    data = {
        "instance_id": "demo__lib-1",
        "repo": "demo/lib",
        "base_commit": "abc123",
        "problem_statement": "It breaks.",
        "patch": PATCH,
        "FAIL_TO_PASS": ["tests/test_m.py::test_new"],
        "PASS_TO_PASS": ["tests/test_m.py::test_old"],
        "version": "1.0",
    }
    data.update(overrides)
    return data


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def bundled_rows() -> list[dict]:
    return [json.loads(line) for line in (BUNDLED / "tasks.jsonl").read_text().splitlines()]


def test_suite_name_loads_bundled_suite():
    tasks = load_tasks("bundled")
    assert "bundled" in list_suites()
    assert len(tasks) == len(bundled_rows())
    first = tasks[0]
    assert isinstance(first, Task)
    assert isinstance(first.FAIL_TO_PASS, tuple) and first.FAIL_TO_PASS
    assert Path(first.repo_dir).is_absolute() and Path(first.repo_dir).is_dir()
    assert Path(first.repo_dir) == BUNDLED / "repos" / first.repo.split("/")[1]


def test_suite_folder_and_file_paths_give_the_same_tasks():
    by_name = load_tasks("bundled")
    assert load_tasks(BUNDLED) == by_name
    assert load_tasks(str(BUNDLED / "tasks.jsonl")) == by_name


def test_envs_root_from_environment(tmp_path, monkeypatch):
    suite = tmp_path / "mine"
    suite.mkdir()
    write_jsonl(suite / "tasks.jsonl", [row(repo_dir="repo")])
    monkeypatch.setenv("SWE_SRL_ENVS", str(tmp_path))
    assert list_suites() == ["mine"]
    (task,) = load_tasks("mine")
    assert task.repo_dir == str(suite / "repo")  # relative repo_dir resolves against the suite folder


def test_json_list_and_wrapper(tmp_path):
    listed = tmp_path / "tasks.json"
    listed.write_text(json.dumps([row(), row(instance_id="demo__lib-2")]))
    assert [t.instance_id for t in load_tasks(listed)] == ["demo__lib-1", "demo__lib-2"]
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"tasks": [row()]}))
    assert load_tasks(wrapped)[0].PASS_TO_PASS == ("tests/test_m.py::test_old",)


def test_parquet_round_trip_of_bundled_rows(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = bundled_rows()[:3]
    for data in rows:  # SWE-bench's own parquet files store the test lists as JSON strings
        data["FAIL_TO_PASS"] = json.dumps(data["FAIL_TO_PASS"])
        data["repo_dir"] = str(BUNDLED / data["repo_dir"])
    path = tmp_path / "tasks.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    from_parquet = load_tasks(path)
    assert from_parquet == load_tasks("bundled")[:3]
    assert from_parquet[0].metadata["difficulty"] in ("easy", "medium", "hard")


def test_test_lists_as_json_strings_and_numeric_version(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [row(FAIL_TO_PASS='["a::b"]', PASS_TO_PASS="[]", version=3.0)])
    (task,) = load_tasks(path)
    assert task.FAIL_TO_PASS == ("a::b",) and task.PASS_TO_PASS == () and task.version == "3.0"


def test_unknown_fields_are_kept_in_metadata(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [row(created_at="2024-01-01", hints_text=None)])
    (task,) = load_tasks(path)
    assert task.metadata["created_at"] == "2024-01-01"


def test_empty_base_commit_is_filled_deterministically(tmp_path):
    stored = bundled_rows()[0]
    stored.update(base_commit="", repo_dir=str(BUNDLED / stored["repo_dir"]))
    path = write_jsonl(tmp_path / "t.jsonl", [stored])
    (task,) = load_tasks(path)
    assert task.base_commit == bundled_rows()[0]["base_commit"]
    (unfilled,) = load_tasks(path, fill_base_commit=False)
    assert unfilled.base_commit == ""


def test_load_task_by_id():
    task = load_task("bundled", "swe-srl__spans-split-by-month-december")
    assert task.repo == "swe-srl/spans"
    with pytest.raises(TaskNotFound, match="no-such-task"):
        load_task("bundled", "no-such-task")


def test_dataset_names_are_not_files():
    assert resolve_spec("princeton-nlp/SWE-bench_Verified") is None  # handed to `datasets`, not opened
    with pytest.raises(RecordError, match="no such tasks file"):
        resolve_spec("no-such-suite")


@pytest.mark.parametrize(
    ("overrides", "field_name", "message"),
    [
        ({"instance_id": None}, "instance_id", "required"),
        ({"repo": ""}, "repo", "non-empty"),
        ({"problem_statement": 7}, "problem_statement", "non-empty string"),
        ({"FAIL_TO_PASS": "tests/x.py::t"}, "FAIL_TO_PASS", "JSON list"),
        ({"PASS_TO_PASS": [1, 2]}, "PASS_TO_PASS", "list of test ids"),
        ({"base_commit": 12}, "base_commit", "must be a string"),
        ({"metadata": ["x"]}, "metadata", "must be an object"),
        ({"patch": "this is not a diff"}, "patch", "not a unified diff"),
        ({"test_patch": "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n"}, "test_patch", "diff"),
        (
            {"PASS_TO_PASS": ["tests/test_m.py::test_new"]},
            "PASS_TO_PASS",
            "both FAIL_TO_PASS and PASS_TO_PASS",
        ),
    ],
)
def test_bad_row_names_file_line_instance_and_field(tmp_path, overrides, field_name, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [row(instance_id="ok-1"), row(**overrides)])
    with pytest.raises(RecordError, match=message) as info:
        load_tasks(path)
    err = info.value
    assert err.source == str(path)
    assert err.field_name == field_name
    assert err.record.startswith("line 2")
    if isinstance(overrides.get("instance_id", "demo__lib-1"), str):
        assert "demo__lib-1" in err.record
    assert str(path) in str(err) and repr(field_name) in str(err)


def test_duplicate_instance_ids(tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", [row(), row(instance_id="other"), row()])
    with pytest.raises(RecordError, match=r"duplicate instance_id \(first at line 1\)") as info:
        load_tasks(path)
    assert info.value.record == "line 3 (instance_id demo__lib-1)"


def test_invalid_json_line_and_non_object(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(row()) + "\n\n{not json\n")
    with pytest.raises(RecordError, match="not valid JSON") as info:
        load_tasks(path)
    assert info.value.record == "line 3"
    path.write_text("[1, 2]\n")
    with pytest.raises(RecordError, match="must be a JSON object"):
        load_tasks(path)


def test_bad_row_in_json_and_parquet_names_row_index(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([row(), row(instance_id="x", repo=None)]))
    with pytest.raises(RecordError) as info:
        load_tasks(path)
    assert (info.value.record, info.value.field_name) == ("row 1 (instance_id x)", "repo")
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"PAR1 not really")
    with pytest.raises(RecordError, match="parquet"):
        load_tasks(damaged)


def test_setup_patch_that_does_not_apply_is_a_record_error(tmp_path):
    stored = bundled_rows()[0]
    broken = stored["setup_patch"].replace(
        '-        return (0, ident, "")', '-        return (0, ident, "?")'
    )
    assert broken != stored["setup_patch"]
    stored.update(base_commit="", setup_patch=broken, repo_dir=str(BUNDLED / stored["repo_dir"]))
    path = write_jsonl(tmp_path / "t.jsonl", [stored])
    with pytest.raises(RecordError, match="does not apply") as info:
        load_tasks(path, fill_base_commit=True)
    assert info.value.field_name == "setup_patch"


def test_read_tasks_loads_every_good_row_and_reports_each_bad_one(tmp_path):
    """The lenient mode ``eval`` uses: one error per bad row, naming file, line and field."""
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps(row(instance_id="good-1")),
        '{"instance_id": "torn", "repo": ',
        json.dumps(row(instance_id="no-repo", repo=None)),
        json.dumps(row(instance_id="numeric-version", version=3.0)),
        json.dumps(row(instance_id="good-1")),
        "[1, 2]",
        json.dumps(row(instance_id="good-2")),
    ]
    path.write_text("\n".join(lines) + "\n")
    load = read_tasks(path, fill_base_commit=False)
    assert [t.instance_id for t in load.tasks] == ["good-1", "numeric-version", "good-2"]
    assert load.tasks[1].version == "3.0"  # a valid row the old second parser rejected
    errors = {e.key: e.error for e in load.errors}
    assert list(errors) == ["mixed.jsonl:line2", "no-repo", "good-1:line5", "mixed.jsonl:line6"]
    assert errors["mixed.jsonl:line2"].record == "line 2" and "not valid JSON" in str(
        errors["mixed.jsonl:line2"]
    )
    assert (errors["no-repo"].record, errors["no-repo"].field_name) == (
        "line 3 (instance_id no-repo)",
        "repo",
    )
    assert errors["good-1:line5"].field_name == "instance_id" and "duplicate" in str(errors["good-1:line5"])
    assert all(e.source == str(path) for e in errors.values())
    with pytest.raises(RecordError, match="not valid JSON"):  # the strict mode stops at the first
        load_tasks(path, fill_base_commit=False)
