"""Training configuration: swe-srl's own options per component, and TRL's dataclasses passed through.

A YAML file holds one mapping per component (``model``, ``data``, ``lora``, ``sft``, ``srl``,
``rlvr``, ``eval``) and a top-level ``seed``; ``--set srl.learning_rate=1e-6`` overrides one key
(the value is parsed as YAML, so numbers, booleans and lists work).

The trainer sections hold two kinds of keys, kept apart in :class:`SectionOptions`:

- swe-srl's own options (``sft.mode``, ``srl.dynamic_sampling``, ``rlvr.tasks``, ...), each
  documented once by the comment beside its dataclass field below;
- any field of the TRL dataclass the section builds (``trl.SFTConfig`` for ``sft``,
  ``trl.GRPOConfig`` for ``srl`` and ``rlvr``, both ``transformers.TrainingArguments``), stored
  in ``section.trl`` and handed to that dataclass unchanged: ``learning_rate``,
  ``per_device_train_batch_size``, ``vllm_importance_sampling_correction``,
  ``vllm_server_host``, ``vllm_max_model_length``, ``mask_truncated_completions``, ... TRL's
  documentation is the reference for them; ``SECTION_DEFAULTS`` lists where swe-srl's defaults
  differ from TRL's.

Keys are checked against the real dataclasses (names and types); unknown keys, values of the wrong
type and keys swe-srl sets itself are errors that name the file and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
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
    dtype: str = "float32"  # compute dtype: float32 | bfloat16 | float16 (master weights stay float32)
    cpu_threads: int = 0  # torch intra-op threads on CPU (0 = torch's default; 1 avoids oversubscription)


@dataclass
class DataConfig:
    path: str = ""  # step-instance folder: train.parquet / validation.parquet (or .jsonl)
    max_train_rows: int = 0  # use only the first N training rows (0 = all)
    max_eval_rows: int = 64  # held-out rows scored by the evaluation callback (0 = all)
    max_message_chars: int = 0  # cut each prompt message to its last N characters (0 = keep whole)
    max_prompt_tokens: int = 0  # drop rows whose prompt is longer (0 = model context - completion budget)
    shuffle_seed: int = 0  # seed of the shuffle applied before max_train_rows is taken
    tools: list[str] = field(default_factory=list)  # keep only instances whose target uses these tools
    max_thought_chars: int = -1  # SFT: keep the first N characters of the expert monologue (-1 = all)


@dataclass
class LoraConfig:
    enabled: bool = False  # train a LoRA adapter instead of all weights
    r: int = 16  # adapter rank (rounded up to a rank vLLM serves when vLLM generates)
    alpha: int = 32  # scaling numerator (alpha / r)
    dropout: float = 0.05  # dropout on the adapter input
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class SectionOptions:
    """Base of a trainer section: ``trl`` holds the fields passed to the TRL dataclass as they are."""

    trl: dict[str, Any] = field(default_factory=dict)


@dataclass
class SftOptions(SectionOptions):
    mode: str = "steps"  # steps: prompt -> <think>thought</think> action | trajectories: whole conversations


@dataclass
class SrlOptions(SectionOptions):
    dynamic_sampling: bool = True  # keep only groups whose reward std exceeds the threshold
    dynamic_sampling_epsilon: float = 1e-4  # the std threshold (paper: epsilon)
    dynamic_sampling_max_rounds: int = 4  # generation rounds per batch before giving up on filling it


@dataclass
class RlvrOptions(SrlOptions):
    tasks: str = "sample"  # task suite name (swe_srl.tasks.load_tasks) or a tasks.jsonl path
    sandbox: str = "local"  # local (bubblewrap) | docker
    max_turns: int = 8  # tool calls per episode (TRL's max_tool_calling_iterations)
    command_timeout: float = 30.0  # seconds per tool call
    step_reward_weight: float = 0.0  # weight of per-step SRL shaping when the task has an expert trajectory
    grading_workers: int = 8  # finished episodes graded at once
    init: str = ""  # checkpoint to start from (SRL -> RLVR curriculum); empty = model.path


@dataclass
class EvalConfig:
    enabled: bool = True  # score held-out rows every eval_steps (0: once, at the end)
    max_new_tokens: int = 256  # greedy tokens per held-out prompt
    batch_size: int = 8  # prompts per generate() call and rank
    keep_best: int = 0  # model-only snapshots of the best held-out scores kept in RUN/best (0 = none)


@dataclass
class TrainConfig:
    seed: int = 0  # seeds torch, python and the samplers
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    sft: SftOptions = field(default_factory=SftOptions)
    srl: SrlOptions = field(default_factory=SrlOptions)
    rlvr: RlvrOptions = field(default_factory=RlvrOptions)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def section(self, method: str) -> SectionOptions:
        return getattr(self, method)

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the YAML layout (a section's TRL fields beside its own options)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, SectionOptions):
                own = {k: v for k, v in dataclasses.asdict(value).items() if k != "trl"}
                out[f.name] = {**own, **value.trl}
            elif dataclasses.is_dataclass(value):
                out[f.name] = dataclasses.asdict(value)
            else:
                out[f.name] = value
        return out


# ---------------------------------------------------------------------------------------------
# The TRL dataclass behind each section, and swe-srl's defaults where they differ from TRL's

TRL_CLASSES = {"sft": "SFTConfig", "srl": "GRPOConfig", "rlvr": "GRPOConfig"}

_COMMON_DEFAULTS: dict[str, Any] = {
    "num_train_epochs": 1.0,
    "max_steps": -1,
    "per_device_train_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "warmup_steps": 0.0,  # a float in [0, 1) is a share of the total steps
    "lr_scheduler_type": "constant",
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "logging_steps": 1,
    "save_steps": 0,  # 0: no intermediate checkpoints (the final model is always saved)
    "save_total_limit": 2,
    "eval_steps": 0,  # held-out evaluation cadence (0: once, at the end); see swe_srl.train.metrics
    "gradient_checkpointing": False,  # TRL defaults to True; the tiny CPU runs do not need it
    "dataloader_num_workers": 0,
    "ddp_find_unused_parameters": False,  # every trained parameter is used; True costs a graph walk per step
}

SECTION_DEFAULTS: dict[str, dict[str, Any]] = {
    "sft": {**_COMMON_DEFAULTS, "learning_rate": 1e-5, "max_length": 2048, "packing": False},
    "srl": {
        **_COMMON_DEFAULTS,
        "learning_rate": 5e-7,  # paper: 5e-7
        "num_generations": 8,  # G rollouts per prompt (paper: 8)
        "temperature": 1.0,  # paper: 1.0
        "top_p": 1.0,
        "max_completion_length": 512,
        "beta": 0.0,  # KL coefficient (paper: 0)
        "epsilon": 0.2,
        "loss_type": "grpo",
        "scale_rewards": "group",
        "use_vllm": False,
        "vllm_mode": "colocate",
        "vllm_gpu_memory_utilization": 0.3,
    },
}
SECTION_DEFAULTS["rlvr"] = {**SECTION_DEFAULTS["srl"], "learning_rate": 1e-6, "max_completion_length": 1024}

# TRL fields that swe-srl sets from its own options: setting them directly would be ignored or unsafe.
MANAGED_KEYS: dict[str, str] = {
    "output_dir": "the run folder is --out",
    "eval_strategy": "held-out evaluation runs in swe-srl's callback every eval_steps (set eval.enabled)",
    "max_tool_calling_iterations": "set rlvr.max_turns",
    "disable_tqdm": "swe-srl draws its own progress bar",
}


@functools.cache
def trl_fields(section: str) -> dict[str, Any]:
    """Field name -> type hint of the TRL dataclass behind ``section`` (imports trl once)."""
    import trl

    cls = getattr(trl, TRL_CLASSES[section])
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


# ---------------------------------------------------------------------------------------------
# Loading and validation


def _coerce(value: Any, hint: Any, where: str, source: str) -> Any:
    """Check ``value`` against a field's type hint; ints are accepted where floats are expected."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (types.UnionType, typing.Union):
        enums = [o for o in typing.get_args(hint) if isinstance(o, type) and issubclass(o, enum.Enum)]
        if enums and isinstance(value, str):  # ``SchedulerType | str``: the string must name a member
            return _coerce(value, enums[0], where, source)
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, where, source)
            except ConfigError:
                continue
        raise ConfigError(f"expected {hint}, got {value!r}", source=source, field_name=where)
    if origin is typing.Literal:
        if value in typing.get_args(hint):
            return value
        raise ConfigError(
            f"expected one of {typing.get_args(hint)}, got {value!r}", source=source, field_name=where
        )
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"expected a list, got {value!r}", source=source, field_name=where)
        (item,) = typing.get_args(hint) or (Any,)
        return [_coerce(v, item, f"{where}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"expected a mapping, got {value!r}", source=source, field_name=where)
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value).value
        except ValueError:
            raise ConfigError(
                f"expected one of {[m.value for m in hint]}, got {value!r}", source=source, field_name=where
            ) from None
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return value  # an int is a float here; kept as written (save_steps: 500, not 500.0)
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


def _unknown(where: str, known: list[str], source: str, extra: str = "") -> ConfigError:
    name = where.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return ConfigError(f"unknown key{hint}{extra}", source=source, field_name=where)


def _apply_section(obj: SectionOptions, data: dict[str, Any], prefix: str, source: str) -> None:
    """A trainer section: swe-srl's options by name, every other key checked against TRL's dataclass."""
    own = typing.get_type_hints(type(obj))
    own_names = [f.name for f in dataclasses.fields(obj) if f.name != "trl"]
    trl = trl_fields(prefix)
    for key, value in data.items():
        where = f"{prefix}.{key}"
        if key in own_names:
            setattr(obj, key, _coerce(value, own[key], where, source))
        elif key in MANAGED_KEYS:
            raise ConfigError(f"set by swe-srl: {MANAGED_KEYS[key]}", source=source, field_name=where)
        elif key in trl:
            obj.trl[key] = _coerce(value, trl[key], where, source)
        else:
            raise _unknown(
                where,
                own_names + list(trl),
                source,
                f": neither a swe-srl option ({', '.join(own_names)}) nor a trl.{TRL_CLASSES[prefix]} field",
            )


def _apply(obj: Any, data: dict[str, Any], prefix: str, source: str) -> None:
    """Set the fields of dataclass ``obj`` from ``data``, recursing into nested dataclasses."""
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping, got {data!r}", source=source, field_name=prefix or "<root>")
    if isinstance(obj, SectionOptions):
        _apply_section(obj, data, prefix, source)
        return
    hints = typing.get_type_hints(type(obj))
    names = [f.name for f in dataclasses.fields(obj)]
    for key, value in data.items():
        where = f"{prefix}.{key}" if prefix else str(key)
        if key not in names:
            raise _unknown(where, names, source, f" (known: {', '.join(sorted(names))})")
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
        ("model.dtype", config.model.dtype, ("float32", "bfloat16", "float16")),
        ("sft.mode", config.sft.mode, ("steps", "trajectories")),
        ("rlvr.sandbox", config.rlvr.sandbox, ("local", "docker")),
    ]
    for key, value, allowed in checks:
        if value not in allowed:
            raise ConfigError(
                f"invalid value {value!r}, expected {'|'.join(allowed)}", source=source, field_name=key
            )
    for name in ("srl", "rlvr"):
        section = config.section(name)
        if int(section.trl.get("num_generations") or 0) < 2:
            raise ConfigError(
                "at least 2 (GRPO needs a group)", source=source, field_name=f"{name}.num_generations"
            )
        if section.trl.get("vllm_mode") not in ("colocate", "server"):
            raise ConfigError("expected colocate|server", source=source, field_name=f"{name}.vllm_mode")
        if section.dynamic_sampling_max_rounds < 1:
            raise ConfigError("at least 1", source=source, field_name=f"{name}.dynamic_sampling_max_rounds")


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Defaults, then the YAML file (if any), then each ``key=value`` override in order."""
    config = TrainConfig()
    for name, defaults in SECTION_DEFAULTS.items():
        config.section(name).trl.update(defaults)
    source = str(path) if path else "<defaults>"
    if path:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError("config file not found", source=source) from None
        except yaml.YAMLError as err:
            raise ConfigError(f"not valid YAML: {err}", source=source) from None
        _apply(config, data, "", source)
    for assignment in overrides:
        set_override(config, assignment)
    validate(config, source)
    return config


def save_config(config: TrainConfig, path: Path) -> None:
    """Write the resolved configuration beside a run (``--config RUN/config.yaml`` reproduces it)."""
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
