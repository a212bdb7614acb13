"""Plumbing shared by the SFT, SRL and RLVR trainers: run folders, TRL arguments, model loading, saving.

Order matters under ``accelerate launch``: the TRL arguments are built first, which starts the
distributed state (process group, DeepSpeed's ZeRO-3 hooks, FSDP's low-memory loading); only then
is the model loaded, so each rank loads its share instead of a full copy. Files beside the run
(config, launch record, tokenizer, plots) are written by the main process only.

Precision: ``model.dtype`` is the compute dtype. Trained weights stay float32 (bf16 weights with
AdamW at lr 5e-7 round most updates away) and the forward runs under bf16/fp16 autocast on GPUs;
DeepSpeed keeps float32 master weights itself, so there the model loads in the compute dtype, and
a LoRA run loads its frozen base in the compute dtype (peft keeps the adapter in float32).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.records import SweSrlError
from swe_srl.train.config import TRL_CLASSES, ConfigError, LoraConfig, ModelConfig, TrainConfig, save_config


class RunFolderError(SweSrlError):
    """The run folder cannot be used as asked (an earlier run is there and --resume was not given)."""


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

    @property
    def launch(self) -> Path:
        return self.root / "launch.json"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def best(self) -> Path:
        return self.root / "best"

    @property
    def merged_base(self) -> Path:
        return self.root / "base"


def is_main_process() -> bool:
    """Rank 0 of the launch (true when not launched with several processes)."""
    from accelerate import PartialState

    return PartialState().is_main_process


def check_run_folder(out: str | Path, *, resume: bool) -> RunPaths:
    """Refuse to train into a folder that holds an earlier run unless resuming it."""
    paths = RunPaths(Path(out))
    earlier = [p.name for p in (paths.config, paths.metrics, paths.final) if p.exists()]
    earlier += [p.name for p in paths.root.glob("checkpoint-*")][:1]
    if earlier and not resume:
        raise RunFolderError(
            f"{paths.root} already holds a training run ({', '.join(earlier)}): pass --resume to continue it "
            "from its newest checkpoint, or choose another --out"
        )
    if resume and not paths.config.exists():
        raise RunFolderError(f"--resume: {paths.root} holds no training run (no config.yaml) to continue")
    return paths


def prepare_run(paths: RunPaths, config: TrainConfig) -> None:
    """Seed, and on the main process create the run folder and save the resolved config."""
    from transformers import set_seed

    set_seed(config.seed)
    if config.model.cpu_threads > 0:
        import torch

        torch.set_num_threads(config.model.cpu_threads)
    if not is_main_process():
        return
    paths.root.mkdir(parents=True, exist_ok=True)
    save_config(config, paths.config)


def write_launch(paths: RunPaths, launch: dict[str, Any], trainer) -> None:
    """Main process: RUN/launch.json, completed with what the trainer's accelerator set up."""
    state = trainer.accelerator.state
    launch = {**launch, "distributed_type": str(state.distributed_type).rsplit(".", 1)[-1]}
    launch["fsdp_state_dict_type"] = (
        str(state.fsdp_plugin.state_dict_type).rsplit(".", 1)[-1]
        if getattr(state, "fsdp_plugin", None)
        else None
    )
    if is_main_process():
        paths.launch.write_text(json.dumps(launch, indent=2) + "\n", encoding="utf-8")


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def report_integrations(requested: Any) -> list[str]:
    """Integrations besides TensorBoard (swe-srl writes RUN/tensorboard itself); W&B when configured."""
    if requested is None:
        wanted = ["wandb"] if os.environ.get("WANDB_PROJECT") else []
    else:
        wanted = [requested] if isinstance(requested, str) else list(requested)
    return [name for name in wanted if name not in ("tensorboard", "none")]


def trainer_args(method: str, config: TrainConfig, paths: RunPaths, **managed: Any):
    """The TRL dataclass of ``method`` from its section: TRL fields passed through, ours derived."""
    import torch
    import trl

    section = config.section(method)
    kwargs = dict(section.trl)
    accelerator = torch.cuda.is_available()
    kwargs.setdefault("seed", config.seed)
    kwargs.setdefault("data_seed", config.seed)
    kwargs.setdefault("use_cpu", not accelerator)
    if "bf16" not in kwargs and "fp16" not in kwargs:  # autocast on GPUs; float32 master weights
        kwargs["bf16"] = accelerator and config.model.dtype == "bfloat16"
        kwargs["fp16"] = accelerator and config.model.dtype == "float16"
    if not kwargs.get("save_steps"):
        kwargs.pop("save_steps", None)
        kwargs.setdefault("save_strategy", "no")
    kwargs.setdefault("save_strategy", "steps")
    if not kwargs.get("eval_steps"):
        kwargs["eval_steps"] = None
    kwargs["report_to"] = report_integrations(kwargs.get("report_to"))
    kwargs.update(output_dir=str(paths.root), eval_strategy="no", disable_tqdm=True, **managed)
    cls = getattr(trl, TRL_CLASSES[method])
    name = checkpointing_field(cls)
    if name != "gradient_checkpointing" and "gradient_checkpointing" in kwargs:
        kwargs.setdefault(name, kwargs.pop("gradient_checkpointing"))
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"trl.{cls.__name__} rejected these settings: {err}", field_name=method) from None


@functools.cache  # once per process: torch keeps a registry sorted by priority
def accept_indexed_cpu_locations() -> None:
    """Let ``torch.load(map_location=torch.device("cpu", 0))`` work, as resuming on CPU ranks needs.

    accelerate gives each CPU rank of a multi-process launch the device ``cpu:0``, and transformers
    loads the optimizer state onto ``args.device`` when world_size > 1; torch only knows the
    location ``cpu``. This registers the missing deserializer (torch's own extension point).
    """
    import torch

    torch.serialization.register_package(
        11, lambda obj: None, lambda obj, location: obj if location.startswith("cpu:") else None
    )


def checkpointing_field(cls) -> str:
    """The TrainingArguments field that switches activation checkpointing in this transformers.

    transformers 5.18 renamed ``gradient_checkpointing`` to ``activation_checkpointing``; setting the
    new name keeps the deprecation warning (which TRL's own default would trigger) from firing.
    """
    fields = {f.name for f in dataclasses.fields(cls)}
    return "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"


def uses_deepspeed(args) -> bool:
    return getattr(args, "deepspeed_plugin", None) is not None


def load_dtype(config: TrainConfig, args) -> str:
    """The dtype trained weights load in (see the module docstring)."""
    if uses_deepspeed(args) or config.lora.enabled:
        return config.model.dtype
    return "float32"


def require_model_folder(path: str | Path, option: str) -> Path:
    """The local model folder ``path`` names; ``option`` (the flag or key that gave it) is in the error."""
    where = Path(path)
    if not where.is_dir():
        raise SweSrlError(f"{option} {path}: no such model folder (a local save_pretrained folder)")
    return where


def load_model_and_tokenizer(model_cfg: ModelConfig, path: str = "", dtype: str = ""):
    """A local causal LM and its tokenizer (a LoRA adapter folder is merged onto its base)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    where = require_model_folder(path or model_cfg.path, "model.path")
    torch_type = torch_dtype(dtype or model_cfg.dtype)
    if is_adapter(where):
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(where, dtype=torch_type).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(where, dtype=torch_type)
    tokenizer = AutoTokenizer.from_pretrained(where)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def is_adapter(folder: str | Path) -> bool:
    return (Path(folder) / "adapter_config.json").is_file()


def load_for_training(config: TrainConfig, args, paths: RunPaths, path: str = ""):
    """The model to train, loaded after the distributed state exists (``args.device`` starts it).

    A LoRA run on top of an adapter folder (SFT with --lora, then SRL with --lora) saves the merged
    model to RUN/base first and names it as the new adapter's base, so the earlier adapter's weights
    are not lost when the new adapter is loaded later.
    """
    _ = args.device  # initialises the process group and DeepSpeed/FSDP state before any weights load
    source = path or config.model.path
    model, tokenizer = load_model_and_tokenizer(config.model, source, load_dtype(config, args))
    if config.lora.enabled and is_adapter(source):
        from accelerate import PartialState

        if is_main_process():
            model.save_pretrained(paths.merged_base)
            tokenizer.save_pretrained(paths.merged_base)
        PartialState().wait_for_everyone()
        model.name_or_path = model.config._name_or_path = str(paths.merged_base.resolve())
    return model, tokenizer


def launch_record(args, load: str) -> dict[str, Any]:
    """What this launch is: world size, distributed type, precision, versions (RUN/launch.json)."""
    import accelerate
    import torch
    import transformers
    import trl
    from accelerate import PartialState

    state = PartialState()
    return {
        "world_size": state.num_processes,
        "distributed_type": str(state.distributed_type).rsplit(".", 1)[-1],
        "process_group_before_model": torch.distributed.is_available() and torch.distributed.is_initialized(),
        "weights_dtype": load,
        "autocast": "bf16" if args.bf16 else "fp16" if args.fp16 else "none",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "trl": trl.__version__,
            "accelerate": accelerate.__version__,
        },
    }


def peft_config(lora: LoraConfig, *, for_vllm: bool = False):
    """A peft LoraConfig when LoRA is enabled, else None; ranks vLLM cannot serve are rounded up for vLLM."""
    if not lora.enabled:
        return None
    from peft import LoraConfig as PeftLoraConfig

    from swe_srl.serve.commands import ServeError, vllm_lora_rank

    try:
        rank = vllm_lora_rank(lora.r) if for_vllm else lora.r
    except ServeError as err:
        raise ConfigError(str(err), field_name="lora.r") from None
    return PeftLoraConfig(
        r=rank,
        lora_alpha=lora.alpha * rank // lora.r if rank != lora.r else lora.alpha,  # same alpha / r scaling
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        task_type="CAUSAL_LM",
    )


def save_model(trainer, folder: Path) -> None:
    """Save the trained model (or adapter) with every rank taking part; only the main process writes.

    Under FSDP with ``SHARDED_STATE_DICT`` (the checkpoint format that resumes fastest),
    ``Trainer.save_model`` writes nothing; the full state dict is gathered here instead.
    """
    plugin = getattr(trainer.accelerator.state, "fsdp_plugin", None)
    if plugin is not None and "FULL_STATE_DICT" not in str(plugin.state_dict_type):
        state_dict = trainer.accelerator.get_state_dict(trainer.model)
        if trainer.args.should_save:
            trainer._save(str(folder), state_dict=state_dict)
    else:
        trainer.save_model(str(folder))
    trainer.accelerator.wait_for_everyone()


def save_final(trainer, tokenizer, paths: RunPaths) -> Path:
    """Save the trained model (or adapter) and tokenizer to RUN/final."""
    save_model(trainer, paths.final)
    if is_main_process():
        tokenizer.save_pretrained(str(paths.final))
    return paths.final


def end_distributed() -> None:
    """Leave the process group once every process is done (a gloo group left to interpreter shutdown
    can abort the process, "terminate called without an active exception", after a finished run)."""
    import torch

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def announce(message: str) -> None:
    """One line for the person running the command (stderr, main process only)."""
    import sys

    if is_main_process():
        print(message, file=sys.stderr, flush=True)


def cap_train_prompts(
    dataset, model, tokenizer, config: TrainConfig, method: str, *, tools: list | None = None
):
    """The training rows whose prompt fits the model's context next to the completion budget."""
    from swe_srl.train.data import cap_prompt_length, prompt_limit

    trl = config.section(method).trl
    if method == "sft":  # the rows carry their completions: prompt + completion within max_length
        limit = int(trl.get("max_length") or 0)
    else:
        budget = int(trl.get("max_completion_length") or 0)
        context = trl.get("vllm_max_model_length") if trl.get("use_vllm") else None
        limit = prompt_limit(config.data, tokenizer, model.config, budget, context)
    kept, report = cap_prompt_length(dataset, tokenizer, limit)
    if report.trimmed or report.dropped:
        announce(
            f"prompt-length cap ({limit} tokens): trimmed {report.trimmed} and dropped {report.dropped} "
            f"of {report.rows} {method} rows"
        )
    if len(kept) == 0:
        raise ConfigError(
            f"every training prompt is over {limit} tokens (raise data.max_prompt_tokens or the context)",
            field_name="data.max_prompt_tokens",
        )
    return kept
