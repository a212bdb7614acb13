"""Plumbing shared by the SFT, SRL and RLVR trainers: model loading, run folders, trainer arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.records import RecordError
from swe_srl.train.config import LoraConfig, ModelConfig, OptimConfig, TrainConfig, save_config


@dataclass(frozen=True)
class RunPaths:
    """Where one training run writes: checkpoints, final model, metrics and curves."""

    root: Path

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def final(self) -> Path:
        return self.root / "final"

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"


def prepare_run(out: str | Path, config: TrainConfig) -> RunPaths:
    """Create the run folder, save the resolved config, seed everything, and keep hubs offline."""
    from transformers import set_seed

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    paths = RunPaths(Path(out))
    paths.root.mkdir(parents=True, exist_ok=True)
    save_config(config, paths.config)
    set_seed(config.seed)
    if config.model.cpu_threads > 0:
        import torch

        torch.set_num_threads(config.model.cpu_threads)
    return paths


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def load_model_and_tokenizer(model_cfg: ModelConfig, path: str = ""):
    """A local causal LM and its tokenizer (a LoRA adapter folder is merged onto its base)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    where = Path(path or model_cfg.path)
    if not where.is_dir():
        raise RecordError("model folder not found (a local save_pretrained folder)", field_name=str(where))
    dtype = torch_dtype(model_cfg.dtype)
    if (where / "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(where, dtype=dtype).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(where, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(where)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def peft_config(lora: LoraConfig):
    """A peft LoraConfig when LoRA is enabled, else None (full fine-tuning)."""
    if not lora.enabled:
        return None
    from peft import LoraConfig as PeftLoraConfig

    return PeftLoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        task_type="CAUSAL_LM",
    )


def trainer_kwargs(optim: OptimConfig, config: TrainConfig, paths: RunPaths) -> dict[str, Any]:
    """Arguments every TRL config here shares (a dict because SFTConfig and GRPOConfig differ in the rest)."""
    import torch

    bf16 = config.model.dtype == "bfloat16" and torch.cuda.is_available()
    return dict(
        output_dir=str(paths.root),
        learning_rate=optim.learning_rate,
        num_train_epochs=optim.epochs,
        max_steps=optim.max_steps,
        per_device_train_batch_size=optim.per_device_batch_size,
        gradient_accumulation_steps=optim.gradient_accumulation_steps,
        warmup_steps=optim.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
        lr_scheduler_type=optim.lr_scheduler,
        weight_decay=optim.weight_decay,
        max_grad_norm=optim.max_grad_norm,
        logging_steps=optim.logging_steps,
        save_strategy="steps" if optim.save_steps > 0 else "no",
        save_steps=max(optim.save_steps, 1),
        save_total_limit=optim.save_total_limit,
        seed=config.seed,
        data_seed=config.seed,
        bf16=bf16,
        gradient_checkpointing=config.model.gradient_checkpointing,
        report_to=[],
        disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
    )


def latest_checkpoint(run: Path) -> str | None:
    """The newest ``checkpoint-N`` folder of a run, for ``--resume``."""
    checkpoints = sorted(run.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def save_final(trainer, tokenizer, paths: RunPaths) -> Path:
    """Save the trained model (or adapter) and tokenizer to RUN/final."""
    trainer.save_model(str(paths.final))
    tokenizer.save_pretrained(str(paths.final))
    return paths.final
