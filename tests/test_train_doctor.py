"""``swe-srl doctor`` and the GPU packaging: one tested-consistent set of versions.

vLLM cannot be installed here (it needs CUDA to run), so its requirement that matters to the rest
of the set is written down from its published metadata (vLLM 0.31: ``transformers>=5.10.4,<5.18``,
``torch==2.13.0``) and checked against pyproject.toml, TRL's own metadata and what is installed.
The training tests pass on transformers 5.17 (the GPU set) and on the newest 5.x (CPU installs).
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
VLLM_031_REQUIRES = {"transformers": SpecifierSet(">=5.10.4,<5.18.0"), "torch": SpecifierSet("==2.13.0")}


def _extra(name: str) -> dict[str, SpecifierSet]:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"][name]
    return {Requirement(r).name: Requirement(r).specifier for r in extras}


def test_gpu_extra_pins_deepspeed_and_the_vllm_range_trl_drives():
    gpu = _extra("gpu")
    assert set(gpu) == {"vllm", "deepspeed", "transformers"}
    trl_vllm = next(
        Requirement(r).specifier
        for r in metadata.requires("trl")
        if Requirement(r).name == "vllm" and 'extra == "vllm"' in r
    )
    assert gpu["vllm"] == trl_vllm or set(gpu["vllm"]) == set(SpecifierSet(">=0.22,<=0.31"))
    for version in ("0.22.0", "0.31.0"):
        assert version in gpu["vllm"] and version in trl_vllm
    assert "0.32.0" not in gpu["vllm"]
    assert "0.18.6" in gpu["deepspeed"]


def test_gpu_extra_holds_transformers_where_vllm_031_and_the_train_extra_meet():
    """GPU nodes get a transformers that vLLM 0.31 accepts and the training code supports; the same
    training code is what CPU installs (CI) run, on the newest 5.x."""
    train, gpu = _extra("train"), _extra("gpu")
    probes = ("5.10.3", "5.10.4", "5.13.0", "5.17.0", "5.17.9", "5.18.0", "5.24.0", "6.0.0")
    for probe in probes:
        assert (probe in gpu["transformers"]) == (probe in VLLM_031_REQUIRES["transformers"]), probe
        if probe in gpu["transformers"]:
            assert probe in train["transformers"], probe
    assert train["torch"] == VLLM_031_REQUIRES["torch"]
    assert Version(metadata.version("transformers")) in train["transformers"]
    assert "tensorboard" in train


def test_doctor_table_matches_pyproject():
    from swe_srl.train.doctor import SUPPORTED, VLLM_TRANSFORMERS

    train, gpu = _extra("train"), _extra("gpu")
    for name in ("torch", "transformers", "trl", "tensorboard"):
        assert SpecifierSet(SUPPORTED[name]) == train[name], name
    for name in ("vllm", "deepspeed"):
        assert SpecifierSet(SUPPORTED[name]) == gpu[name], name
    assert SpecifierSet(VLLM_TRANSFORMERS) == gpu["transformers"]


def test_doctor_reports_packages_gpus_and_features():
    from typer.testing import CliRunner

    from swe_srl.cli import app

    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"transformers  {metadata.version('transformers')}" in out
    assert "GPUs: 0" in out  # this machine has none
    assert "[yes] train sft|srl|rlvr on CPU" in out
    assert "[yes] several processes on CPU (gloo)" in out
    vllm = next(line.strip() for line in out.splitlines() if "vLLM generation (colocate or server)" in line)
    assert vllm.startswith("[no ] vLLM generation (colocate or server): vllm (not installed); ")
    assert vllm.endswith("needs 1+ CUDA GPU(s), found 0")
    installed = metadata.version("transformers")
    # A transformers outside vLLM 0.31's range (CPU installs take the newest 5.x) is named, with the fix.
    outside = Version(installed) not in VLLM_031_REQUIRES["transformers"]
    assert (f"transformers {installed} (vLLM 0.31 needs >=5.10.4,<5.18" in vllm) == outside
    assert "[no ] DeepSpeed ZeRO-3:" in out
