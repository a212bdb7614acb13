"""The tiny offline model: built from a config, tokenizer trained in memory, loadable with Auto*."""

from __future__ import annotations

import json

import pytest

from swe_srl.train.tiny_model import FORMAT_TOKENS, TinyModelSpec, default_corpus_files, init_tiny


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    corpus = sorted(
        (__import__("pathlib").Path(__file__).resolve().parent.parent / "envs").rglob("tasks.jsonl")
    )
    return init_tiny(out, corpus=corpus, spec=TinyModelSpec(vocab_size=1500, hidden_size=64, seed=3))


def test_default_corpus_is_our_own_text():
    files = default_corpus_files(__import__("pathlib").Path(__file__).resolve().parent.parent)
    assert files, "no trajectories or task files to train the tokenizer on"
    assert all(p.is_file() for p in files)


def test_saved_model_and_tokenizer_load_offline(tiny_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir, local_files_only=True)
    assert model.config.model_type == "qwen2"
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 64
    assert model.get_input_embeddings().num_embeddings == len(tokenizer)
    assert len(tokenizer) <= 1500 + len(FORMAT_TOKENS)
    assert all(tok in tokenizer.get_vocab() for tok in FORMAT_TOKENS)
    recorded = json.loads((tiny_dir / "tiny_model.json").read_text())
    assert recorded["spec"]["seed"] == 3


def test_tokenizer_round_trips_code_and_format_markup(tiny_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    text = (
        "<think>look at it</think>\n<function=bash>\n"
        '<parameter=command>grep -rn "def parse(" /testbed\t# ü</parameter>\n</function>'
    )
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    for token in ("<think>", "<function=bash>", "<parameter=command>", "</function>"):
        assert len(tokenizer(token, add_special_tokens=False)["input_ids"]) == 1, token


def test_chat_template_renders_roles_tools_and_tool_calls(tiny_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    messages = [
        {"role": "system", "content": "SYS"},
        {"role": "user", "content": "ISSUE"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"type": "function", "function": {"name": "bash", "arguments": {"command": "ls"}}}
            ],
        },
        {"role": "tool", "content": "a.py"},
    ]
    tools = [{"type": "function", "function": {"name": "bash", "description": "run", "parameters": {}}}]
    text = tokenizer.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nSYS\n\n# Tools\n")
    assert "<|im_start|>user\nISSUE<|im_end|>" in text
    assert "<function=bash>\n<parameter=command>ls</parameter>\n</function><|im_end|>" in text
    assert "<|im_start|>tool\na.py<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")


def test_same_seed_same_weights(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    corpus = tmp_path / "c.txt"
    corpus.write_text("def f(x):\n    return x + 1\n" * 30, encoding="utf-8")
    spec = TinyModelSpec(vocab_size=300, hidden_size=32, seed=7)
    a = AutoModelForCausalLM.from_pretrained(init_tiny(tmp_path / "a", [corpus], spec))
    b = AutoModelForCausalLM.from_pretrained(init_tiny(tmp_path / "b", [corpus], spec))
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(pa, pb), name


def test_cli_init_tiny(tmp_path):
    from typer.testing import CliRunner

    from swe_srl.cli import app

    corpus = tmp_path / "c.txt"
    corpus.write_text("print('hello world')\n" * 40, encoding="utf-8")
    out = tmp_path / "m"
    result = CliRunner().invoke(
        app, ["model", "init-tiny", str(out), "--vocab", "300", "--hidden", "32", "--corpus", str(corpus)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file()
    assert result.output.strip().splitlines() == [f"tiny model written to {out}"]  # no library progress bars
