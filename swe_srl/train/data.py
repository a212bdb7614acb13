"""Step-instance datasets as the trainers read them.

A step-instance folder (``swe-srl steps build ... --out DIR``) holds ``train`` and ``validation``
splits as parquet (or JSONL) with the columns of ``swe_srl.records.StepInstance``: ``prompt`` (chat
messages), ``target`` (the expert's canonical action), ``thought`` (the expert's monologue) and
identifiers. GRPO reads ``prompt`` and passes ``target`` to the reward; SFT trains on
``prompt`` -> ``<think>thought</think>\\naction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.records import RecordError

REQUIRED_COLUMNS = ("prompt", "target", "thought", "instance_id", "step_index")


@dataclass(frozen=True)
class HeldOutRow:
    """One validation example as the evaluation callback scores it."""

    prompt: list[dict[str, str]]
    target: str
    tool_specs: str = ""  # the instance's offered tools for the reward's format check ("" = standard)


def sft_completion_text(thought: str, target: str) -> str:
    """The SFT target of one step: the expert's monologue in think tags, then its action."""
    from swe_srl.context import render_reply

    return render_reply(thought, target)


def split_file(folder: Path, split: str) -> Path:
    """The file holding ``split`` in a step-instance folder (parquet preferred over JSONL)."""
    for suffix in (".parquet", ".jsonl"):
        path = folder / f"{split}{suffix}"
        if path.is_file():
            return path
    raise RecordError(f"no {split}.parquet or {split}.jsonl in the step-instance folder", source=str(folder))


def _trim(text: str, limit: int) -> str:
    """Keep the head and tail of a long message: the issue's start and the latest output both matter."""
    if limit <= 0 or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[...]\n{text[-half:]}"


def _check_row(row: dict[str, Any], index: int, source: str) -> None:
    for column in REQUIRED_COLUMNS:
        if column not in row:
            raise RecordError("missing column", source=source, record=str(index), field_name=column)
    prompt = row["prompt"]
    if not isinstance(prompt, list) or not all(isinstance(m, dict) and "role" in m for m in prompt):
        raise RecordError(
            "expected a list of chat messages", source=source, record=str(index), field_name="prompt"
        )


def load_split(
    folder: str | Path,
    split: str,
    *,
    max_rows: int = 0,
    max_message_chars: int = 0,
    shuffle_seed: int | None = None,
    tools: list[str] | tuple[str, ...] = (),
):
    """Load one split as a ``datasets.Dataset``; rows are checked, long messages trimmed, tools filtered."""
    from datasets import Dataset

    path = split_file(Path(folder), split)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    else:
        import json

        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for index, row in enumerate(rows):
        _check_row(row, index, str(path))
        row["prompt"] = [
            {"role": m["role"], "content": _trim(m.get("content") or "", max_message_chars)}
            for m in row["prompt"]
        ]
    if tools:
        rows = [row for row in rows if row.get("tool") in tools]
    if shuffle_seed is not None:
        import random

        random.Random(shuffle_seed).shuffle(rows)
    if max_rows > 0:
        rows = rows[:max_rows]
    if not rows:
        raise RecordError(
            "split is empty (no rows after filters; for validation, build the steps with a larger "
            "--val-fraction)",
            source=str(path),
        )
    return Dataset.from_list(rows)


def to_sft_rows(dataset, max_thought_chars: int = -1):
    """Prompt-completion rows for TRL's SFTTrainer (loss on the completion only).

    ``max_thought_chars`` keeps only the start of long monologues: small models then spend their
    token budget on the action, which is what the SRL reward scores.
    """

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        thought = row["thought"][:max_thought_chars] if max_thought_chars >= 0 else row["thought"]
        text = sft_completion_text(thought, row["target"])
        return {"prompt": row["prompt"], "completion": [{"role": "assistant", "content": text}]}

    return dataset.map(convert, remove_columns=[c for c in dataset.column_names if c != "prompt"])


def held_out_rows(dataset, limit: int = 0) -> list[HeldOutRow]:
    """The first ``limit`` validation rows (all when 0) as typed records."""
    count = len(dataset) if limit <= 0 else min(limit, len(dataset))
    return [
        HeldOutRow(
            prompt=dataset[i]["prompt"],
            target=dataset[i]["target"],
            tool_specs=dataset[i].get("tool_specs") or "",
        )
        for i in range(count)
    ]


def load_train(data) -> Any:
    """The training split as ``data`` (a ``DataConfig``) selects it."""
    return load_split(
        data.path,
        "train",
        max_rows=data.max_train_rows,
        max_message_chars=data.max_message_chars,
        shuffle_seed=data.shuffle_seed,
        tools=data.tools,
    )


def load_validation(data) -> Any:
    """The held-out split as ``data`` (a ``DataConfig``) selects it."""
    return load_split(
        data.path,
        "validation",
        max_rows=data.max_eval_rows,
        max_message_chars=data.max_message_chars,
        tools=data.tools,
    )


def prompt_tokens(prompt: list[dict[str, str]], tokenizer) -> int:
    """Tokens of a chat prompt as the trainers render it (chat template and generation prompt)."""
    from swe_srl.context import TokenCounter

    return TokenCounter(tokenizer).messages(prompt)


@dataclass(frozen=True)
class CapReport:
    """What the prompt-length cap did to a split."""

    rows: int
    trimmed: int  # prompts shortened by swe_srl.context.trim_messages to fit
    dropped: int  # rows that could not fit (system prompt, issue and newest round over the limit)


def cap_prompt_length(dataset, tokenizer, limit: int):
    """The rows with each prompt fitted to ``limit`` tokens (minus an SFT row's completion), and a report.

    A prompt over the model's context makes vLLM reject the request (and that rank's peers wait for
    it forever); an SFT row over ``max_length`` would be cut inside the action it teaches. Long
    prompts are shortened by the context builder's one policy (``trim_messages``: oldest
    observations first, then oldest rounds); rows it cannot fit are dropped.
    """
    from datasets import Dataset

    from swe_srl.context import TokenCounter, trim_messages

    if limit <= 0:
        return dataset, CapReport(len(dataset), 0, 0)
    counter = TokenCounter(tokenizer)
    kept, trimmed = [], 0
    for row in dataset:
        budget = limit - sum(counter.text(m["content"]) + 1 for m in row.get("completion") or [])
        if counter.messages(row["prompt"]) <= budget:
            kept.append(row)
            continue
        messages, report = trim_messages(row["prompt"], budget, counter)
        if report.fits:
            kept.append({**row, "prompt": messages})
            trimmed += 1
    report = CapReport(len(dataset), trimmed, len(dataset) - len(kept))
    if not report.trimmed and not report.dropped:
        return dataset, report
    return Dataset.from_list(kept) if kept else dataset.select([]), report


def prompt_limit(data, tokenizer, model_config, completion_tokens: int, context: int | None = None) -> int:
    """``data.max_prompt_tokens``, else the model's context (or ``context``) minus the completion budget."""
    if data.max_prompt_tokens > 0:
        return data.max_prompt_tokens
    window = context or getattr(model_config, "max_position_embeddings", 0) or tokenizer.model_max_length
    return max(1, int(window) - completion_tokens)
