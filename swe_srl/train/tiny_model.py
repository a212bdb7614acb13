"""A tiny causal LM and tokenizer built offline, for tests, the demo and CPU benchmarks.

The model is a randomly initialised ``Qwen2ForCausalLM`` from a small config; the tokenizer is a
byte-level BPE trained in memory with ``tokenizers`` on our own text (expert trajectories, step
prompts, task statements). The markup of the SRL output format (``<think>``, ``<function=bash>``,
``<parameter=command>``, ...) is added as whole tokens, so a small model can learn the format in a
few hundred steps. The chat template (ChatML) is written here by hand: it renders system, user,
assistant and tool messages, a ``tools`` list, and assistant ``tool_calls`` in the SWE-smith XML
function-call format. Nothing touches a model hub.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from swe_srl.tools.schema import TOOLS

BOS, EOS, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>"

# Whole-token markup of the output format: one token each instead of a dozen BPE pieces.
FORMAT_TOKENS: tuple[str, ...] = (
    "<think>",
    "</think>",
    "</function>",
    "</parameter>",
    *(f"<function={name}>" for name in TOOLS),
    *sorted({f"<parameter={p.name}>" for spec in TOOLS.values() for p in spec.params}),
)

CHAT_TEMPLATE = (
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}"
    "{{- '# Tools\\n' }}"
    "{%- for tool in tools %}{{- (tool.function if tool.function is defined else tool) | tojson }}"
    "{{- '\\n' }}{%- endfor %}"
    "{{- 'Call a tool as <function=NAME>\\n<parameter=ARG>VALUE</parameter>\\n</function><|im_end|>\\n' }}"
    "{%- elif messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'system' %}"
    "{%- elif message.role == 'tool' %}"
    "{{- '<|im_start|>tool\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message.role + '\\n' }}"
    "{%- if message.reasoning_content is defined and message.reasoning_content is string %}"
    "{{- '<think>' + message.reasoning_content + '</think>\\n' }}"
    "{%- endif %}"
    "{%- if message.content is string %}{{- message.content }}{%- endif %}"
    "{%- if message.tool_calls is defined and message.tool_calls %}"
    "{%- for call in message.tool_calls %}"
    "{%- set fn = call.function if call.function is defined else call %}"
    "{%- if message.content %}{{- '\\n' }}{%- endif %}"
    "{{- '<function=' + fn.name + '>\\n' }}"
    "{%- set args = fn.arguments | fromjson if fn.arguments is string else fn.arguments %}"
    "{%- for key, value in args.items() %}"
    "{{- '<parameter=' + key + '>' + (value if value is string else value | tojson) + '</parameter>\\n' }}"
    "{%- endfor %}"
    "{{- '</function>' }}"
    "{%- endfor %}"
    "{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


@dataclass(frozen=True)
class TinyModelSpec:
    """Size of the tiny model; defaults train at a few hundred tokens/s on two CPU cores."""

    vocab_size: int = 3000
    hidden_size: int = 96
    intermediate_size: int = 256
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    max_position_embeddings: int = 4096
    seed: int = 0


def _texts_of(path: Path) -> Iterator[str]:
    """Yield the string values found in a JSON / JSONL / parquet / text file (all its prose and code)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for row in pq.read_table(path).to_pylist():
            yield json.dumps(row, ensure_ascii=False)
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    yield text


def default_corpus_files(repo_root: Path) -> list[Path]:
    """Our own text: the shipped trajectories and task suites of the small bundled sets (``DEV_SETS``)."""
    from swe_srl.train.devdata import DEV_SETS

    found: list[Path] = []
    for folder, patterns in (
        (repo_root / "trajectories", ("*.json", "*.jsonl", "*.traj")),
        (repo_root / "envs", ("tasks.jsonl",)),
    ):
        for pattern in patterns:
            paths = sorted(folder.rglob(pattern)) if folder.is_dir() else []
            found.extend(p for p in paths if p.relative_to(folder).parts[0] in DEV_SETS)
    return found


def _format_sample() -> str:
    """A few renderings of the output format so every markup token is seen during BPE training."""
    lines = [f"{tok} " for tok in FORMAT_TOKENS]
    for spec in TOOLS.values():
        lines.append(f"{spec.name}: {spec.description}")
        lines.extend(f"{p.name}: {p.description}" for p in spec.params)
    return "\n".join(lines)


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """A byte-level BPE tokenizer (exact round trip of any text) wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token=None, eos_token=EOS, pad_token=PAD, unk_token=None
    )
    tokenizer.add_tokens(list(FORMAT_TOKENS))
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = 4096
    return tokenizer


def build_tiny_model(tokenizer, spec: TinyModelSpec):
    """A randomly initialised Qwen2 causal LM sized by ``spec``, seeded."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(spec.seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_kv_heads,
        max_position_embeddings=spec.max_position_embeddings,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,  # the tokenizer has no BOS (ChatML): a config id would be realigned with a warning
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    return model


def init_tiny(out: Path, corpus: list[Path] | None = None, spec: TinyModelSpec | None = None) -> Path:
    """Train the tokenizer on ``corpus`` (default: our own text), build the model, save both to ``out``."""
    spec = spec or TinyModelSpec()
    repo_root = Path(__file__).resolve().parents[2]
    files = corpus if corpus is not None else default_corpus_files(repo_root)

    def texts() -> Iterator[str]:
        yield _format_sample()
        for path in files:
            yield from _texts_of(Path(path))

    tokenizer = train_tokenizer(texts(), spec.vocab_size)
    model = build_tiny_model(tokenizer, spec)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "tiny_model.json").write_text(
        json.dumps({"spec": spec.__dict__, "corpus": [str(p) for p in files]}, indent=2), encoding="utf-8"
    )
    return out
