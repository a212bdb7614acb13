"""Training configuration: one dataclass per component, loaded from YAML plus ``--set`` overrides.

Each field is documented once, by the comment beside it. A YAML file holds one mapping per
component (``model``, ``data``, ``lora``, ``sft``, ``srl``, ``rlvr``, ``eval``) and a top-level
``seed``; ``--set srl.learning_rate=1e-6`` overrides a single key (the value is parsed as YAML, so
numbers, booleans and lists work). Unknown keys and values of the wrong type are errors that name
the file and the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from swe_srl.records import RecordError


class ConfigError(RecordError):
    """A configuration file or override is invalid; the message names the file and the key."""


@dataclass
class ModelConfig:
    path: str = ""  # local directory of a causal LM saved with save_pretrained (never a hub id)
    dtype: str = "float32"  # float32 | bfloat16 | float16 (bf16 on GPU in the paper)
    gradient_checkpointing: bool = False  # trade compute for memory on long prompts
    cpu_threads: int = 0  # torch intra-op threads on CPU (0 = torch's default; 1 avoids oversubscription)


@dataclass
class DataConfig:
    path: str = ""  # step-instance folder: train.parquet / validation.parquet (or .jsonl)
    max_train_rows: int = 0  # use only the first N training rows (0 = all)
    max_eval_rows: int = 64  # held-out rows scored by the evaluation callback (0 = all)
    max_message_chars: int = 0  # cut each prompt message to its last N characters (0 = keep whole)
    shuffle_seed: int = 0  # seed of the shuffle applied before max_train_rows is taken
    tools: list[str] = field(default_factory=list)  # keep only instances whose target uses these tools
    max_thought_chars: int = (
        -1
    )  # SFT: keep the first N characters of the expert monologue (-1 = all, 0 = none)


@dataclass
class LoraConfig:
    enabled: bool = False  # train a LoRA adapter instead of all weights
    r: int = 16  # adapter rank
    alpha: int = 32  # scaling numerator (alpha / r)
    dropout: float = 0.05  # dropout on the adapter input
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class OptimConfig:
    learning_rate: float = 1e-5  # peak learning rate
    epochs: float = 1.0  # passes over the training rows
    max_steps: int = -1  # optimizer steps; overrides epochs when > 0
    per_device_batch_size: int = 8  # rows per forward pass
    gradient_accumulation_steps: int = 1  # forward passes per optimizer step
    warmup_ratio: float = 0.0  # share of steps spent warming the learning rate up
    lr_scheduler: str = "constant"  # transformers scheduler name
    weight_decay: float = 0.0  # AdamW weight decay
    max_grad_norm: float = 1.0  # gradient clipping
    logging_steps: int = 1  # log every N optimizer steps
    save_steps: int = 0  # checkpoint every N steps (0 = only at the end)
    save_total_limit: int = 2  # checkpoints kept on disk
    eval_steps: int = 0  # held-out evaluation every N steps (0 = only at the end)


@dataclass
class SftConfig(OptimConfig):
    learning_rate: float = 1e-5
    mode: str = "steps"  # steps: prompt -> <think>thought</think> action | trajectories: whole conversations
    max_length: int = 2048  # tokens per example; longer ones are cut


@dataclass
class SrlConfig(OptimConfig):
    learning_rate: float = 5e-7  # paper: 5e-7
    num_generations: int = 8  # G rollouts per prompt (paper: 8)
    temperature: float = 1.0  # sampling temperature (paper: 1.0)
    top_p: float = 1.0  # nucleus sampling
    max_completion_length: int = 512  # tokens per rollout
    beta: float = 0.0  # KL coefficient (paper: 0)
    epsilon: float = 0.2  # PPO-style clip range
    loss_type: str = "grpo"  # TRL loss aggregation (grpo | dapo | dr_grpo | bnpo)
    scale_rewards: str = "group"  # group-normalised advantages as in GRPO
    dynamic_sampling: bool = True  # keep only groups whose reward std exceeds the threshold
    dynamic_sampling_epsilon: float = 1e-4  # the std threshold (paper: epsilon)
    dynamic_sampling_max_rounds: int = 4  # generation rounds per batch before giving up on filling it
    use_vllm: bool = False  # generate with vLLM (GPU only)
    vllm_mode: str = "colocate"  # colocate | server
    vllm_gpu_memory_utilization: float = 0.3  # share of GPU memory vLLM may take in colocate mode
    log_completions: bool = False  # print sampled completions as a table


@dataclass
class RlvrConfig(SrlConfig):
    learning_rate: float = 1e-6
    tasks: str = "sample"  # task suite name (swe_srl.tasks.load_tasks) or a tasks.jsonl path
    sandbox: str = "local"  # local (bubblewrap) | docker
    max_turns: int = 8  # tool calls per episode
    max_completion_length: int = 1024  # tokens across all turns of one episode
    command_timeout: float = 30.0  # seconds per tool call
    step_reward_weight: float = 0.0  # weight of per-step SRL shaping when the task has an expert trajectory
    init: str = ""  # checkpoint to start from (SRL -> RLVR curriculum); empty = model.path


@dataclass
class EvalConfig:
    max_new_tokens: int = 256  # greedy tokens per held-out prompt
    batch_size: int = 8  # prompts per generate() call


@dataclass
class TrainConfig:
    seed: int = 0  # seeds torch, python and the samplers
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    sft: SftConfig = field(default_factory=SftConfig)
    srl: SrlConfig = field(default_factory=SrlConfig)
    rlvr: RlvrConfig = field(default_factory=RlvrConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------
# Loading and validation


def _coerce(value: Any, hint: Any, where: str, source: str) -> Any:
    """Check ``value`` against a field's type hint; ints are accepted where floats are expected."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, where, source)
            except ConfigError:
                continue
        raise ConfigError(f"expected {hint}, got {value!r}", source=source, field_name=where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"expected a list, got {value!r}", source=source, field_name=where)
        (item,) = typing.get_args(hint)
        return [_coerce(v, item, f"{where}[{i}]", source) for i, v in enumerate(value)]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):  # YAML 1.1 reads "3e-3" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if hint is type(None) and value is None:
        return None
    if isinstance(hint, type) and isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    raise ConfigError(
        f"expected {getattr(hint, '__name__', hint)}, got {value!r}", source=source, field_name=where
    )


def _apply(obj: Any, data: dict[str, Any], prefix: str, source: str) -> None:
    """Set the fields of dataclass ``obj`` from ``data``, recursing into nested dataclasses."""
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping, got {data!r}", source=source, field_name=prefix or "<root>")
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in data.items():
        where = f"{prefix}.{key}" if prefix else str(key)
        if key not in names:
            raise ConfigError(
                f"unknown key (known: {', '.join(sorted(names))})", source=source, field_name=where
            )
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            _apply(current, value, where, source)
        else:
            setattr(obj, key, _coerce(value, hints[key], where, source))


def set_override(config: TrainConfig, assignment: str) -> None:
    """Apply one ``a.b=value`` override; the value is parsed as YAML."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override must look like key=value, got {assignment!r}", source="--set")
    nested: dict[str, Any] = {}
    cursor = nested
    parts = key.strip().split(".")
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = yaml.safe_load(raw) if raw.strip() else ""
    _apply(config, nested, "", "--set")


def validate(config: TrainConfig, source: str) -> None:
    """Cross-field checks that the types alone cannot express."""
    checks = [
        ("model.dtype", config.model.dtype in ("float32", "bfloat16", "float16"), "float32|bfloat16|float16"),
        ("sft.mode", config.sft.mode in ("steps", "trajectories"), "steps|trajectories"),
        ("srl.num_generations", config.srl.num_generations >= 2, "at least 2 (GRPO needs a group)"),
        ("srl.vllm_mode", config.srl.vllm_mode in ("colocate", "server"), "colocate|server"),
        ("rlvr.sandbox", config.rlvr.sandbox in ("local", "docker"), "local|docker"),
        ("srl.dynamic_sampling_max_rounds", config.srl.dynamic_sampling_max_rounds >= 1, "at least 1"),
    ]
    for key, ok, expected in checks:
        if not ok:
            section, name = key.split(".")
            value = getattr(getattr(config, section), name)
            raise ConfigError(f"invalid value {value!r}, expected {expected}", source=source, field_name=key)


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Defaults, then the YAML file (if any), then each ``key=value`` override in order."""
    config = TrainConfig()
    source = str(path) if path else "<defaults>"
    if path:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read YAML: {exc}", source=source) from exc
        _apply(config, data, "", source)
    for assignment in overrides:
        set_override(config, assignment)
    validate(config, source)
    return config


def save_config(config: TrainConfig, path: Path) -> None:
    """Write the resolved configuration beside a run so it can be reproduced."""
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
