"""Training throughput on CPU with the tiny model: SRL steps/s and tokens/s against SFT and plain sampling.

Measured in one run, on real step instances built from the shipped trajectories, with the settings
of ``configs/srl_tiny_cpu.yaml`` / ``configs/sft_tiny_cpu.yaml`` (8 rows per step, G=4, 48 new
tokens, one torch thread):

- baseline ``generate``: sampled completions with ``model.generate`` (what GRPO's rollouts cost);
- baseline ``sft``: SFT optimizer steps;
- ``srl`` with dynamic sampling off (plain GRPO) and on. The untrained tiny model breaks the format
  on every rollout, so with dynamic sampling every step uses all its generation rounds: the worst case.

Run: ``.venv/bin/python benchmarks/bench_train_cpu.py [--steps 6]``
Writes ``benchmarks/results/bench_train_cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results" / "bench_train_cpu.json"
CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _train_summary(run: Path, rows_per_step: int = 8) -> dict:
    from swe_srl.train.metrics import read_jsonl

    records = [r for r in read_jsonl(run / "metrics.jsonl") if r["kind"] == "train"]
    summary = next(r for r in records if "train_runtime" in r)
    steps = [r for r in records if "loss" in r]
    seconds = summary["train_runtime"]
    tokens = max((r.get("num_tokens", 0) for r in steps), default=0)
    # completions/mean_length is per row of one generation round; dynamic sampling may run several rounds
    generated = sum(
        r.get("completions/mean_length", 0) * rows_per_step * r.get("dynamic_sampling/rounds", 1)
        for r in steps
    )
    return {
        "steps": len(steps),
        "seconds": round(seconds, 2),
        "steps_per_s": round(len(steps) / seconds, 3),
        "trained_tokens_per_s": round(tokens / seconds, 1),  # prompt + completion tokens through the loss
        "generated_tokens_per_s": round(generated / seconds, 1),
        "generation_rounds": [r.get("dynamic_sampling/rounds", 1) for r in steps],
    }


def bench_generate(model_dir: Path, steps_dir: Path, rows: int, group: int, new_tokens: int) -> dict:
    import torch

    from swe_srl.train.common import load_model_and_tokenizer
    from swe_srl.train.config import load_config
    from swe_srl.train.data import load_train

    config = load_config(CONFIGS / "srl_tiny_cpu.yaml", [f"data.path={steps_dir}", f"model.path={model_dir}"])
    model, tokenizer = load_model_and_tokenizer(config.model)
    prompts = [r["prompt"] for r in load_train(config.data).select(range(rows // group))]
    texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
    tokenizer.padding_side = "left"
    enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    start, generated, repeats = time.perf_counter(), 0, 5
    for _ in range(repeats):  # a single call lasts a fraction of a second: repeat for a stable rate
        with torch.no_grad():
            out = model.generate(
                **enc, do_sample=True, temperature=1.0, max_new_tokens=new_tokens, num_return_sequences=group
            )
        generated += int((out[:, enc["input_ids"].shape[1] :] != tokenizer.pad_token_id).sum())
    seconds = time.perf_counter() - start
    return {
        "rows": out.shape[0] * repeats,
        "seconds": round(seconds, 3),
        "generated_tokens_per_s": round(generated / seconds, 1),
    }


def print_table(results: dict, steps: int) -> None:
    table = Table(title=f"Training throughput on CPU, tiny model ({steps} steps each)")
    for column in (
        "run",
        "steps/s",
        "trained tok/s",
        "generated tok/s",
        "steps/s vs SFT",
        "gen tok/s vs generate",
    ):
        table.add_column(column)
    gen, sft = results["generate"], results["sft"]
    table.add_row("generate (baseline)", "-", "-", str(gen["generated_tokens_per_s"]), "-", "1.0")
    table.add_row(
        "sft (baseline)", str(sft["steps_per_s"]), str(sft["trained_tokens_per_s"]), "-", "1.0", "-"
    )
    for name in ("srl_plain_grpo", "srl_dynamic_sampling"):
        r = results[name]
        table.add_row(
            name,
            str(r["steps_per_s"]),
            str(r["trained_tokens_per_s"]),
            str(r["generated_tokens_per_s"]),
            str(r["steps_per_s_vs_sft"]),
            str(r["generated_tokens_per_s_vs_generate"]),
        )
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()

    import torch

    from swe_srl.train.config import load_config
    from swe_srl.train.devdata import build_steps
    from swe_srl.train.sft import run_sft
    from swe_srl.train.srl import run_srl
    from swe_srl.train.tiny_model import init_tiny

    torch.set_num_threads(1)
    results: dict = {"machine": platform.platform(), "processor": platform.processor(), "steps": args.steps}
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        root = Path(tmp)
        steps_dir = build_steps(root / "steps")
        model_dir = init_tiny(root / "tiny")
        common = [f"data.path={steps_dir}", f"model.path={model_dir}", "data.max_eval_rows=1"]
        results["generate"] = bench_generate(model_dir, steps_dir, rows=8, group=4, new_tokens=48)
        sft = load_config(CONFIGS / "sft_tiny_cpu.yaml", [*common, f"sft.max_steps={args.steps}"])
        run_sft(sft, root / "sft")
        results["sft"] = _train_summary(root / "sft")
        for name, dynamic in (("srl_plain_grpo", "false"), ("srl_dynamic_sampling", "true")):
            srl = load_config(
                CONFIGS / "srl_tiny_cpu.yaml",
                [
                    *common,
                    f"srl.max_steps={args.steps}",
                    f"srl.dynamic_sampling={dynamic}",
                    "srl.eval_steps=0",
                ],
            )
            run_srl(srl, root / name)
            results[name] = _train_summary(root / name)
    for name in ("srl_plain_grpo", "srl_dynamic_sampling"):
        results[name]["steps_per_s_vs_sft"] = round(
            results[name]["steps_per_s"] / results["sft"]["steps_per_s"], 3
        )
        results[name]["generated_tokens_per_s_vs_generate"] = round(
            results[name]["generated_tokens_per_s"] / results["generate"]["generated_tokens_per_s"], 3
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    print_table(results, args.steps)


if __name__ == "__main__":
    main()
