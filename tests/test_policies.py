"""Policies: the registry, scripted policies, the OpenAI-compatible client and local HF weights."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swe_srl.actions import parse_completion
from swe_srl.cli import app
from swe_srl.eval.patches import base_file
from swe_srl.policy import ModelServerError, PolicyError, PolicyOptions, PolicySpecError, make_policy
from swe_srl.policy.client import reply_text
from swe_srl.policy.scripted import patch_to_actions
from swe_srl.tasks import load_tasks


@pytest.mark.parametrize("spec", ["bogus", "replay", "openai:model-without-url", "hf:", "gold:extra"])
def test_bad_specs_are_rejected(spec, task):
    with pytest.raises(PolicySpecError):
        make_policy(spec, task)


def test_per_task_policies_need_the_task():
    with pytest.raises(PolicySpecError, match="per task"):
        make_policy("gold")


def test_noop_submits_at_once(task):
    assert parse_completion(make_policy("noop").act(task.problem_statement, [])).action.tool == "submit"


def test_gold_edits_match_the_base_text_exactly_once_on_every_bundled_task():
    for task in load_tasks("bundled"):
        for action in patch_to_actions(task.patch):
            if action.args.get("command") == "str_replace":
                text = base_file(task, str(action.args["path"]).removeprefix("/testbed/"))
                assert text.count(str(action.args["old_str"])) == 1, task.instance_id


def test_gold_policy_script_ends_with_submit(task):
    policy = make_policy("gold", task)
    replies = [parse_completion(policy.act("", [None] * i)).action for i in range(4)]  # type: ignore[list-item]
    assert [a.tool for a in replies] == ["str_replace_editor", "str_replace_editor", "submit", "submit"]


def test_replay_of_a_gold_run_resolves(tmp_path):
    runner = CliRunner()
    first = runner.invoke(
        app, ["eval", "--tasks", "sample", "--policy", "gold", "--out", str(tmp_path / "a"), "--no-progress"]
    )
    assert first.exit_code == 0, first.output
    trajectory = tmp_path / "a" / "trajectories" / "swe-srl__durata-1.traj.json"
    spec = f"replay:{trajectory}"
    second = runner.invoke(
        app, ["eval", "--tasks", "sample", "--policy", spec, "--out", str(tmp_path / "b"), "--no-progress"]
    )
    assert second.exit_code == 0, second.output
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["resolved"] == 1 and report["tasks"][0]["steps"] == 3


class _ChatEndpointDouble(BaseHTTPRequestHandler):
    """Test double of an OpenAI-compatible server (no remote API here): answers with a submit call."""

    requests: list[dict] = []  # noqa: RUF012

    def do_GET(self):  # the model list a run's preflight reads
        data = json.dumps({"object": "list", "data": [{"id": "tiny-model", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        call = {"type": "function", "function": {"name": "submit", "arguments": "{}"}}
        payload = {"choices": [{"message": {"role": "assistant", "content": "Done.", "tool_calls": [call]}}]}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def endpoint():
    server = HTTPServer(("127.0.0.1", 0), _ChatEndpointDouble)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ChatEndpointDouble.requests.clear()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_openai_policy_over_http(endpoint, task, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--tasks",
            "sample",
            "--policy",
            f"openai:tiny-model@{endpoint}",
            "--out",
            str(out),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    probe, request = _ChatEndpointDouble.requests  # the run's preflight probe, then the episode's request
    assert probe["body"]["max_tokens"] == 1 and probe["auth"] == "Bearer sk-test"
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "tiny-model"
    neutral = {"temperature": 0.0, "top_p": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0}
    assert {k: request["body"].get(k) for k in neutral} == neutral
    assert request["body"]["max_tokens"] == 2048 and "top_k" not in request["body"]
    assert request["body"]["messages"][0]["role"] == "system"
    assert task.problem_statement.strip()[:60] in request["body"]["messages"][1]["content"]
    report = json.loads((out / "report.json").read_text())
    assert report["tasks"][0]["status"] == "unresolved" and report["tasks"][0]["steps"] == 1


def test_openai_reply_text_and_errors():
    assert reply_text({"choices": [{"message": {"content": "<think>x</think>"}}]}) == "<think>x</think>"
    with pytest.raises(PolicyError):
        reply_text({"error": "overloaded"})
    unreachable = make_policy("openai:m@http://127.0.0.1:9/v1", options=PolicyOptions(retries=0))
    with pytest.raises(ModelServerError, match="refused"):
        unreachable.act("issue", [])


@pytest.mark.slow
def test_hf_policy_runs_local_weights(tmp_path):
    from swe_srl.train.tiny_model import TinyModelSpec, init_tiny

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("<function=submit>\n</function>\n" * 50)
    model_dir = init_tiny(
        tmp_path / "tiny", corpus=[corpus], spec=TinyModelSpec(vocab_size=400, hidden_size=32)
    )
    policy = make_policy(f"hf:{model_dir}")
    policy.max_tokens = 8
    reply = policy.act("an issue", [])
    assert isinstance(reply, str)
    assert policy.name == f"hf:{Path(model_dir)}"


def test_gold_actions_keep_a_missing_final_newline():
    patch = (
        "diff --git a/a.txt b/a.txt\nnew file mode 100644\n--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1,2 @@\n"
        "+one\n+two\n\\ No newline at end of file\n"
        "diff --git a/b.txt b/b.txt\n--- a/b.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n"
        " one\n-two\n\\ No newline at end of file\n+three\n"
    )
    create, replace = patch_to_actions(patch)
    assert create.args["file_text"] == "one\ntwo"
    assert (replace.args["old_str"], replace.args["new_str"]) == ("one\ntwo", "one\nthree\n")


def test_policy_source_preflight_rejects_unknown_specs_before_any_task(task):
    from swe_srl.policy import PolicySpecError, open_policy_source

    with open_policy_source("gold") as source:
        source.preflight()
        assert source.for_task(task).name == "gold"
    for bad in ("gld", "openai:", "hf:"):
        with pytest.raises(PolicySpecError):
            open_policy_source(bad).preflight()
