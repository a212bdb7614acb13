"""``swe-srl doctor``: what is installed, which accelerators are visible, which training features work here.

Versions are read from package metadata (nothing heavy is imported to find them); the GPU count
comes from torch. Each feature names the packages and hardware it needs and says why it is not
usable when it is not, including version ranges the pinned stack requires (TRL 1.16 drives vLLM
0.22-0.31; vLLM 0.31 needs transformers < 5.18, which the ``gpu`` extra installs).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import Version

# Package -> the versions swe-srl's training code is written against (pyproject.toml's train/gpu extras).
VLLM_TRANSFORMERS = ">=5.10.4,<5.18"  # vLLM 0.31's own requirement (its wheel's metadata)
SUPPORTED: dict[str, str] = {
    "torch": "==2.13.0",
    "transformers": ">=5.10.4,<6",
    "trl": ">=1.16,<1.17",
    "accelerate": ">=1.10",
    "peft": ">=0.17",
    "datasets": ">=3.0",
    "tensorboard": ">=2.15",
    "deepspeed": ">=0.18.6",
    "vllm": ">=0.22,<=0.31",
    "wandb": ">=0.17",
}


@dataclass(frozen=True)
class Package:
    name: str
    version: str | None  # None: not installed
    supported: str

    @property
    def ok(self) -> bool:
        return self.version is not None and Version(self.version).release in _release_range(self)

    @property
    def status(self) -> str:
        if self.version is None:
            return "not installed"
        return "ok" if self.ok else f"outside {self.supported}"


def _release_range(package: Package):
    class _Contains:  # a local build suffix (2.13.0+cpu) still satisfies ==2.13.0
        def __contains__(self, release) -> bool:
            plain = ".".join(str(part) for part in release)
            return SpecifierSet(package.supported).contains(plain, prereleases=True)

    return _Contains()


@dataclass(frozen=True)
class Feature:
    name: str
    usable: bool
    reason: str  # what is missing, or what it runs on


@dataclass(frozen=True)
class Diagnosis:
    packages: list[Package]
    gpus: list[str]
    features: list[Feature]


def installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def visible_gpus() -> list[str]:
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def features(packages: dict[str, Package], gpus: list[str]) -> list[Feature]:
    """Which training features this machine can run, each with the reason."""

    def need(*names: str) -> str:
        missing = [f"{n} ({packages[n].status})" for n in names if not packages[n].ok]
        return "; ".join(missing)

    core = need("torch", "transformers", "trl", "accelerate", "peft", "datasets")
    gpu = f"{len(gpus)} GPU(s)" if gpus else ""
    found = [
        Feature("train sft|srl|rlvr on CPU", not core, core or "the tiny model and small runs"),
        Feature(
            "several processes on CPU (gloo)",
            not core,
            core or "accelerate launch --multi_gpu --num_processes N (each rank on CPU)",
        ),
        Feature("TensorBoard logging", not need("tensorboard"), need("tensorboard") or "RUN/tensorboard"),
        Feature("W&B logging", not need("wandb"), need("wandb") or "set WANDB_PROJECT to enable"),
    ]
    version = packages["transformers"].version
    transformers_for_vllm = (
        ""
        if version is None or Package("transformers", version, VLLM_TRANSFORMERS).ok
        else f"transformers {version} (vLLM 0.31 needs {VLLM_TRANSFORMERS}: pip install -e '.[train,gpu]')"
    )
    for name, packs, minimum in (
        ("multi-GPU DDP / FSDP (accelerate launch)", (), 2),
        ("DeepSpeed ZeRO-3", ("deepspeed",), 2),
        ("vLLM generation (colocate or server)", ("vllm",), 1),
    ):
        extra = transformers_for_vllm if "vllm" in packs else ""
        missing = "; ".join(part for part in (core, need(*packs), extra) if part)
        if len(gpus) < minimum:
            missing = "; ".join(
                part for part in (missing, f"needs {minimum}+ CUDA GPU(s), found {len(gpus)}") if part
            )
        found.append(Feature(name, not missing, missing or gpu))
    return found


def diagnose() -> Diagnosis:
    packages = {name: Package(name, installed(name), spec) for name, spec in SUPPORTED.items()}
    gpus = visible_gpus()
    return Diagnosis(list(packages.values()), gpus, features(packages, gpus))


def render(diagnosis: Diagnosis) -> str:
    lines = ["packages:"]
    width = max(len(p.name) for p in diagnosis.packages)
    for package in diagnosis.packages:
        lines.append(f"  {package.name:<{width}}  {package.version or '-':<14} {package.status}")
    lines.append(
        f"GPUs: {len(diagnosis.gpus)}" + "".join(f"\n  {i}: {g}" for i, g in enumerate(diagnosis.gpus))
    )
    lines.append("features:")
    for feature in diagnosis.features:
        mark = "yes" if feature.usable else "no "
        lines.append(f"  [{mark}] {feature.name}: {feature.reason}")
    return "\n".join(lines)
