"""``swe-srl train ... --dry-run``: what a configuration will do on a launch, before any GPU is touched.

``plan_run`` turns a config, a launch (processes, sharding) and the model's shape (read from its
``config.json``; no weights are loaded) into a :class:`RunPlan`: prompts and rollouts per optimizer
step, steps per epoch, tokens per step, a per-rank GPU memory estimate and the checkpoint disk the
run will need. ``check_plan`` lists the settings that cannot work. All estimates are pure arithmetic
(documented next to each term) meant to catch settings that are off by a factor, not to replace a
profiler: activation memory in particular depends on kernels (flash attention, fused losses).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.train.config import ConfigError, TrainConfig

GIB = 1024**3
BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


@dataclass(frozen=True)
class ModelShape:
    """The numbers of a decoder-only transformer that memory depends on."""

    hidden: int
    layers: int
    intermediate: int
    vocab: int
    heads: int
    kv_heads: int
    tied_embeddings: bool = False

    @property
    def params(self) -> int:
        head_dim = self.hidden // self.heads
        attention = 2 * self.hidden * self.hidden + 2 * self.hidden * self.kv_heads * head_dim
        per_layer = attention + 3 * self.hidden * self.intermediate + 2 * self.hidden
        embeddings = self.vocab * self.hidden * (1 if self.tied_embeddings else 2)
        return self.layers * per_layer + embeddings

    @classmethod
    def from_config(cls, data: dict) -> ModelShape:
        heads = data["num_attention_heads"]
        return cls(
            hidden=data["hidden_size"],
            layers=data["num_hidden_layers"],
            intermediate=data["intermediate_size"],
            vocab=data["vocab_size"],
            heads=heads,
            kv_heads=data.get("num_key_value_heads") or heads,
            tied_embeddings=bool(data.get("tie_word_embeddings", False)),
        )


@dataclass(frozen=True)
class Launch:
    """Processes and how the model is spread over them: none (DDP), zero3 (DeepSpeed) or fsdp."""

    processes: int = 1
    sharding: str = "none"
    gpu_memory_gb: float = 80.0

    @classmethod
    def from_accelerate_config(cls, path: Path, gpu_memory_gb: float = 80.0) -> Launch:
        import yaml

        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        kind = str(data.get("distributed_type", "NO")).upper()
        stage = int((data.get("deepspeed_config") or {}).get("zero_stage", 0) or 0)
        sharding = "zero3" if kind == "DEEPSPEED" and stage == 3 else "fsdp" if kind == "FSDP" else "none"
        return cls(int(data.get("num_processes", 1)), sharding, gpu_memory_gb)

    @classmethod
    def from_environment(cls, gpu_memory_gb: float = 80.0) -> Launch:
        """The launch this process is part of (``accelerate launch`` sets these variables)."""
        processes = int(os.environ.get("WORLD_SIZE", "1"))
        if os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true":
            stage = int(os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE", "3"))
            return cls(processes, "zero3" if stage == 3 else "none", gpu_memory_gb)
        if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true":
            return cls(processes, "fsdp", gpu_memory_gb)
        return cls(processes, "none", gpu_memory_gb)


@dataclass(frozen=True)
class RunPlan:
    method: str
    launch: Launch
    params: int
    trainable: int
    rollouts_per_step: int  # rows through the loss per optimizer step (all processes)
    prompts_per_step: int
    train_rows: int | None  # prompts (steps, tasks) in the training set, when it can be read
    steps_per_epoch: int | None
    total_steps: int | None
    tokens_per_step: int  # upper bound: every row at its prompt cap plus the full completion budget
    memory_gb: dict[str, float] = field(default_factory=dict)  # per rank, by term
    checkpoint_gb: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def memory_total_gb(self) -> float:
        return sum(self.memory_gb.values())

    @property
    def disk_total_gb(self) -> float:
        return sum(self.checkpoint_gb.values())


def _lora_params(config: TrainConfig, shape: ModelShape) -> int:
    if not config.lora.enabled:
        return shape.params
    head_dim = shape.hidden // shape.heads
    sizes = {
        "q_proj": (shape.hidden, shape.hidden),
        "o_proj": (shape.hidden, shape.hidden),
        "k_proj": (shape.hidden, shape.kv_heads * head_dim),
        "v_proj": (shape.hidden, shape.kv_heads * head_dim),
        "gate_proj": (shape.hidden, shape.intermediate),
        "up_proj": (shape.hidden, shape.intermediate),
        "down_proj": (shape.intermediate, shape.hidden),
    }
    per_layer = sum(
        config.lora.r * (a + b) for name, (a, b) in sizes.items() if name in config.lora.target_modules
    )
    return per_layer * shape.layers


def _train_rows(method: str, config: TrainConfig) -> int | None:
    """Rows of the training set, read cheaply (parquet metadata, JSONL lines, the task suite)."""
    try:
        if method == "rlvr":
            from swe_srl.tasks import load_tasks

            return len(load_tasks(config.rlvr.tasks))
        from swe_srl.train.data import split_file

        path = split_file(Path(config.data.path), "train")
    except Exception:  # no data at hand: the plan still says everything else
        return None
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(path).metadata.num_rows
    else:
        rows = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    limit = config.data.max_train_rows
    return min(rows, limit) if limit > 0 else rows


def _memory(
    config, method, launch, shape, trainable, micro_rows, seq_tokens, kept_tokens
) -> dict[str, float]:
    """Per-rank GPU memory (GiB) by term; see the module docstring for what these numbers are."""
    trl = config.section(method).trl
    shard = launch.processes if launch.sharding in ("zero3", "fsdp") else 1
    compute = BYTES[config.model.dtype]
    full = not config.lora.enabled
    # Weights: ZeRO-3 holds 16-bit shards; FSDP and DDP hold float32 master weights (autocast to 16 bit)
    weight_bytes = compute if (launch.sharding == "zero3" or not full) else 4
    memory = {"weights": shape.params * weight_bytes / shard}
    # Float32 master copy (DeepSpeed only: the others train the float32 weights themselves), gradients, AdamW
    memory["master_weights"] = trainable * 4 / shard if launch.sharding == "zero3" and full else 0.0
    memory["gradients"] = trainable * (compute if launch.sharding == "zero3" else 4) / shard
    memory["optimizer"] = trainable * 8 / shard
    # Activations of one micro-batch: with checkpointing one hidden state per layer plus one layer
    # recomputed (attention projections and the MLP's 3 intermediate tensors); without, ~34 hidden-
    # sized tensors per layer. Logits of the scored tokens in 16 bit plus a float32 log-softmax.
    tokens = micro_rows * seq_tokens
    if trl.get("gradient_checkpointing"):
        acts = (
            tokens * shape.hidden * 2 * shape.layers
            + tokens * (6 * shape.hidden + 3 * shape.intermediate) * 2
        )
    else:
        acts = tokens * (34 * shape.hidden + 5 * shape.intermediate) * 2 * shape.layers
    memory["activations"] = float(acts)
    memory["logits"] = micro_rows * kept_tokens * shape.vocab * (compute + 4)
    if trl.get("use_vllm") and trl.get("vllm_mode", "colocate") == "colocate":
        memory["vllm_colocate"] = (
            float(trl.get("vllm_gpu_memory_utilization", 0.3)) * launch.gpu_memory_gb * GIB
        )
    return {k: round(v / GIB, 1) for k, v in memory.items()}


def plan_run(
    method: str, config: TrainConfig, launch: Launch | None = None, shape: ModelShape | None = None
) -> RunPlan:
    """The plan of ``method`` with ``config`` on ``launch`` (default: this process's launch)."""
    launch = launch or Launch.from_environment()
    if shape is None:
        source = Path(config.rlvr.init or config.model.path if method == "rlvr" else config.model.path)
        if not (source / "config.json").is_file():
            raise ConfigError(
                "--dry-run needs the model's config.json (weights are not read)", field_name="model.path"
            )
        shape = ModelShape.from_config(json.loads((source / "config.json").read_text(encoding="utf-8")))
    trl = config.section(method).trl
    per_device = int(trl.get("per_device_train_batch_size", 8))
    accumulation = int(trl.get("gradient_accumulation_steps", 1))
    rollouts = per_device * accumulation * launch.processes
    group = int(trl.get("num_generations", 1)) if method != "sft" else 1
    completion = int(trl.get("max_completion_length") or 0) if method != "sft" else 0
    if method == "sft":
        sequence = int(trl.get("max_length") or 2048)
        prompt = sequence
    else:
        context = trl.get("vllm_max_model_length") or (completion + (config.data.max_prompt_tokens or 4096))
        prompt = config.data.max_prompt_tokens or max(1, int(context) - completion)
        sequence = prompt + completion
    rows = _train_rows(method, config)
    per_epoch = math.ceil(rows * group / rollouts) if rows else None
    max_steps = int(trl.get("max_steps", -1))
    epochs = float(trl.get("num_train_epochs", 1.0))
    total = max_steps if max_steps > 0 else (math.ceil(per_epoch * epochs) if per_epoch else None)
    trainable = _lora_params(config, shape)
    kept = completion if method != "sft" else sequence
    memory = _memory(config, method, launch, shape, trainable, per_device, sequence, kept)
    # Disk: a full checkpoint holds the weights as trained and the optimizer (and DeepSpeed's master copy);
    # model-only saves (final, best) hold the weights as trained (float32 unless DeepSpeed's 16-bit save).
    saved_bytes = BYTES[config.model.dtype] if launch.sharding == "zero3" or config.lora.enabled else 4
    model_gb = (shape.params if not config.lora.enabled else trainable) * saved_bytes / GIB
    full_gb = model_gb + trainable * (8 + (4 if launch.sharding == "zero3" else 0)) / GIB
    keep = int(trl.get("save_total_limit") or 0) if trl.get("save_steps") else 0
    disk = {
        "resumable checkpoints": round(full_gb * keep, 4),
        "best model snapshots": round(model_gb * config.eval.keep_best, 4),
        "final model": round(model_gb, 4),
    }
    return RunPlan(
        method,
        launch,
        shape.params,
        trainable,
        rollouts,
        rollouts // group,
        rows,
        per_epoch,
        total,
        rollouts * sequence,
        memory,
        disk,
    )


def check_plan(plan: RunPlan, config: TrainConfig) -> list[str]:
    """Settings that cannot work, each as one sentence naming the key."""
    trl = config.section(plan.method).trl
    problems = []
    if plan.method != "sft":
        group = int(trl.get("num_generations", 1))
        generation = (
            int(trl.get("per_device_train_batch_size", 8))
            * plan.launch.processes
            * int(trl.get("steps_per_generation") or trl.get("gradient_accumulation_steps", 1))
        )
        if generation % group:
            problems.append(
                f"{plan.method}.num_generations {group} does not divide the generation batch {generation} "
                "(per_device_train_batch_size x processes x steps_per_generation)"
            )
        length = trl.get("vllm_max_model_length")
        completion = int(trl.get("max_completion_length") or 0)
        if trl.get("use_vllm") and length and completion >= int(length):
            problems.append(
                f"{plan.method}.max_completion_length {completion} leaves no room for a prompt "
                f"in vllm_max_model_length {length}"
            )
        if config.lora.enabled and trl.get("use_vllm") and config.lora.r > 512:
            problems.append(f"lora.r {config.lora.r} is above the largest rank vLLM serves (512)")
    if plan.memory_total_gb > plan.launch.gpu_memory_gb:
        worst = max(plan.memory_gb, key=plan.memory_gb.get)
        problems.append(
            f"estimated {plan.memory_total_gb:.0f} GB per GPU exceeds {plan.launch.gpu_memory_gb:.0f} GB "
            f"(largest term: {worst}); lower per_device_train_batch_size and raise "
            "gradient_accumulation_steps, shard the model (ZeRO-3/FSDP) or use vLLM server mode"
        )
    if (
        plan.train_rows is not None
        and plan.train_rows * max(1, int(trl.get("num_generations", 1))) < plan.rollouts_per_step
        and plan.method != "sft"
    ):
        problems.append(f"the training set ({plan.train_rows} prompts) is smaller than one optimizer step")
    return problems


def render_plan(plan: RunPlan) -> str:
    """The plan as a few aligned lines."""
    launch = plan.launch
    lines = [
        f"{plan.method} on {launch.processes} process(es), sharding {launch.sharding}, "
        f"{launch.gpu_memory_gb:.0f} GB per GPU",
        f"model            {plan.params / 1e9:.2f} B parameters, {plan.trainable / 1e9:.3f} B trained",
        f"per step         {plan.prompts_per_step} prompts, {plan.rollouts_per_step} rows through the loss",
        f"steps            {plan.steps_per_epoch or '?'} per epoch over {plan.train_rows or '?'} "
        f"training prompts; {plan.total_steps or '?'} in total",
        f"tokens per step  up to {plan.tokens_per_step:,}",
        "GPU memory per rank (estimate, GB): "
        + ", ".join(f"{k} {v}" for k, v in plan.memory_gb.items())
        + f"; total {plan.memory_total_gb:.1f}",
        "checkpoint disk: "
        + ", ".join(f"{k} {_size(v)}" for k, v in plan.checkpoint_gb.items())
        + f"; total {_size(plan.disk_total_gb)}",
    ]
    return "\n".join(lines + plan.notes)


def _size(gb: float) -> str:
    return f"{gb:.1f} GB" if gb >= 1 else f"{gb * 1024:.1f} MB"


def plan_line(plan: RunPlan) -> str:
    """The plan in one line, printed when training starts."""
    disk = ", ".join(f"{k} {_size(v)}" for k, v in plan.checkpoint_gb.items())
    steps = f"{plan.total_steps} steps" if plan.total_steps else "steps unknown"
    return (
        f"plan: {plan.prompts_per_step} prompts / {plan.rollouts_per_step} rows per step on "
        f"{plan.launch.processes} process(es), {steps}; checkpoint disk ~{_size(plan.disk_total_gb)} ({disk})"
    )


def launch_of(args) -> Launch:
    """The launch a built TRL config runs in (processes and sharding from accelerate's environment)."""
    import torch

    memory = torch.cuda.get_device_properties(0).total_memory / GIB if torch.cuda.is_available() else 80.0
    launch = Launch.from_environment(memory)
    return Launch(int(args.world_size), launch.sharding, memory)
