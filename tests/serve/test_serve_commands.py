"""Server specs and command lines (pure): vLLM 0.31's flags, transformers serve's, LoRA ranks."""

from __future__ import annotations

import json

import pytest

from swe_srl.serve.commands import (
    VLLM_LORA_RANKS,
    ServeError,
    ServerSpec,
    build_command,
    read_adapter,
    vllm_lora_rank,
)
from swe_srl.serve.run import server_spec


def _flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


@pytest.mark.parametrize(
    ("rank", "accepted"), [(1, 1), (2, 8), (4, 8), (8, 8), (9, 16), (33, 64), (257, 320), (321, 512)]
)
def test_lora_rank_rounds_up_to_a_rank_vllm_accepts(rank, accepted):
    assert vllm_lora_rank(rank) == accepted and accepted in VLLM_LORA_RANKS


@pytest.mark.parametrize("rank", [0, 513])
def test_lora_ranks_vllm_cannot_hold_are_refused(rank):
    with pytest.raises(ServeError):
        vllm_lora_rank(rank)


def test_vllm_command_pins_sampling_to_the_client_and_passes_parallelism():
    spec = ServerSpec(
        "/m/base", engine="vllm", port=8123, max_model_len=32768, tensor_parallel_size=2, data_parallel_size=4
    )
    command = build_command(spec, python="py")
    assert command[:5] == ["py", "-m", "vllm.entrypoints.cli.main", "serve", "/m/base"]
    assert _flag(command, "--generation-config") == "vllm"  # generation_config.json may not set defaults
    assert _flag(command, "--max-model-len") == "32768"
    assert (_flag(command, "--tensor-parallel-size"), _flag(command, "--data-parallel-size")) == ("2", "4")
    assert _flag(command, "--port") == "8123" and "--enable-lora" not in command


def test_vllm_serves_an_adapter_folder_on_its_base_with_a_rounded_rank(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/m/base", "r": 12}))
    spec = server_spec(str(adapter), engine="vllm", port=8000)
    command = build_command(spec, python="py")
    assert command[4] == "/m/base" and "--enable-lora" in command
    assert _flag(command, "--max-lora-rank") == "16"
    assert _flag(command, "--lora-modules") == f"{adapter}={adapter}"
    assert spec.model_name == str(adapter)  # requests name the adapter, not the base


def test_transformers_command_batches_continuously_with_a_bounded_kv_cache():
    command = build_command(ServerSpec("/m/tiny", port=9000, max_model_len=4096, seed=3), python="py")
    assert command[:5] == ["py", "-m", "transformers.cli.transformers", "serve", "/m/tiny"]
    assert "--continuous-batching" in command
    pages, page = int(_flag(command, "--cb-num-blocks")), int(_flag(command, "--cb-block-size"))
    assert pages * page >= 16 * 4096 and pages * page < 17 * 4096
    assert _flag(command, "--default-seed") == "3"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ServerSpec("/m", port=1, tensor_parallel_size=2), "need --engine vllm"),
        (ServerSpec("/m", port=1, lora="/a"), "merge the adapter"),
        (ServerSpec("/m", port=1, served_name="x"), "needs vllm"),
        (ServerSpec("/m", engine="sglang", port=1), "unknown engine"),
        (ServerSpec("/m", engine="vllm"), "needs a port"),
    ],
)
def test_specs_an_engine_cannot_serve_are_refused(spec, message):
    with pytest.raises(ServeError, match=message):
        build_command(spec)


def test_adapter_configs_name_their_base_and_rank(tmp_path, tiny_dir):
    assert read_adapter(tiny_dir) is None
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 4}))
    with pytest.raises(ServeError, match="base_model_name_or_path"):
        read_adapter(tmp_path)
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "b", "r": "4"}))
    with pytest.raises(ServeError, match="'r'"):
        read_adapter(tmp_path)


def test_a_server_listening_on_every_interface_is_reached_by_this_hosts_name():
    import socket

    assert ServerSpec("/m", host="0.0.0.0", port=8000).base_url == f"http://{socket.gethostname()}:8000/v1"
    assert ServerSpec("/m", port=8000).base_url == "http://127.0.0.1:8000/v1"


def test_serve_refuses_a_port_out_of_range_before_starting_a_server(tmp_path):
    from typer.testing import CliRunner

    from swe_srl.cli import app

    log = tmp_path / "server.log"
    result = CliRunner().invoke(app, ["serve", str(tmp_path), "--port", "99999", "--log", str(log)])
    assert result.exit_code == 2
    assert "--port" in result.output and "65535" in result.output
    assert not log.exists()  # no server process was started


@pytest.mark.parametrize("name", ["models/nope", "./models/nope", "nope"])
def test_a_model_that_is_no_folder_and_not_cached_is_refused_offline(tmp_path, monkeypatch, name):
    """Offline, a name that is no folder here can only be a hub model already in the cache; any
    other is one line before a server starts (not the server's advice to check the internet)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ServeError, match="no such model folder") as refused:
        server_spec(name, engine="transformers", port=8000)
    assert name.startswith("./") or "HF_HUB_OFFLINE" in str(refused.value)  # "./..." is no hub name at all
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert server_spec("models/nope", engine="transformers", port=8000).model == "models/nope"  # a hub name
    with pytest.raises(ServeError, match="no such model folder"):
        server_spec("no such/model/here", engine="transformers", port=8000)  # a hub name cannot look so
