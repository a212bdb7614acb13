"""Launching training with several processes on CPU, as ``accelerate launch`` does on a GPU node.

``launch(args, processes=2)`` runs ``accelerate launch --multi_gpu --num_processes N`` (torchrun
underneath; with no CUDA device every rank trains on CPU and the process group uses gloo: the
trainers set ``use_cpu``). ``accelerate launch --cpu --num_processes N`` would start one process
only: accelerate 1.15 sends ``--cpu`` to its single-process launcher.

``fsdp=True`` launches with an FSDP2 config (``configs/accelerate/fsdp.yaml`` with two processes and
no mixed precision) through this file's ``__main__``: accelerate 1.15 routes FSDP only for GPU
device types (``AcceleratorState`` keeps ``MULTI_CPU`` on CPU), while torch's FSDP2 itself runs on
CPU with gloo. The only change below is that routing: ``AcceleratorState`` is told the launch is
FSDP; the sharding, state dicts and checkpoints are accelerate's, transformers' and torch's own.
"""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
ACCELERATE = Path(sys.executable).parent / "accelerate"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fsdp_cpu_config(folder: Path, processes: int) -> Path:
    """The shipped FSDP config for ``processes`` CPU ranks (no bf16 autocast on CPU)."""
    config = yaml.safe_load((REPO / "configs" / "accelerate" / "fsdp.yaml").read_text())
    config.update(num_processes=processes, mixed_precision="no", use_cpu=True)
    config["fsdp_config"]["fsdp_cpu_ram_efficient_loading"] = False
    path = folder / "fsdp_cpu.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def launch(
    args: list[str],
    tmp: Path,
    *,
    processes: int = 2,
    fsdp: bool = False,
    script: bool = False,
    module: str = "swe_srl.cli",
    env: dict[str, str] | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess:
    """``accelerate launch`` of ``python -m MODULE ARGS`` (default: swe-srl; ``script``: this file's
    ``__main__``) on CPU ranks, with ``env`` added to the environment."""
    command = [str(ACCELERATE), "launch", "--num_machines", "1", "--main_process_port", str(free_port())]
    command += ["--num_processes", str(processes), "--dynamo_backend", "no"]
    if fsdp:
        command += ["--config_file", str(fsdp_cpu_config(tmp, processes)), __file__]
    else:
        command += ["--multi_gpu", "--mixed_precision", "no"]
        command += [__file__] if script else ["-m", module]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "tests")])
    return subprocess.run(
        command + args, env=environment, cwd=str(REPO), capture_output=True, text=True, timeout=timeout
    )


def _route_fsdp_on_cpu() -> None:
    import accelerate.state as state

    original = state.AcceleratorState.__init__

    def init(
        self,
        mixed_precision=None,
        cpu=False,
        dynamo_plugin=None,
        deepspeed_plugin=None,
        fsdp_plugin=None,
        **kw,
    ):
        original(self, mixed_precision, cpu, dynamo_plugin, deepspeed_plugin, fsdp_plugin, **kw)
        if self.distributed_type == state.DistributedType.MULTI_CPU and fsdp_plugin is not None:
            self.distributed_type = state.DistributedType.FSDP
            self.fsdp_plugin = fsdp_plugin
            state.PartialState._shared_state["distributed_type"] = self.distributed_type

    state.AcceleratorState.__init__ = init


def dynamic_sampling_ranks(model_dir: str, out: str) -> None:
    """A rank of the launch in test_dynamic_sampling: rank 1's groups all have one reward (none kept).

    Rank 0 rewards each group's two rollouts 0 and 1 (kept); rank 1 rewards every rollout 0.5. Each
    rank writes what reached its loss and the size of the kept pool at each step to ``out``.
    """
    import json

    from accelerate import PartialState
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    from swe_srl.train.common import checkpointing_field
    from swe_srl.train.dynamic_sampling import DynamicSamplingGRPOTrainer

    args = GRPOConfig(
        output_dir=out,
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=6,
        max_steps=2,
        learning_rate=1e-3,
        use_cpu=True,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        seed=0,
        disable_tqdm=True,
        ddp_find_unused_parameters=False,
        **{checkpointing_field(GRPOConfig): False},
    )
    state = PartialState()
    seen: dict[str, list] = {"advantages": [], "pool": [], "rounds": []}

    def reward(completions, **kwargs):
        if state.process_index == 1:
            return [0.5] * len(completions)
        return [float(i % 2) for i in range(len(completions))]

    class Spy(DynamicSamplingGRPOTrainer):
        def _assemble(self, pool, local_rows, stats):
            seen["pool"].append(len(pool))
            seen["rounds"].append(stats.rounds)
            return super()._assemble(pool, local_rows, stats)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            seen["advantages"].append(inputs["advantages"].tolist())
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    rows = [{"prompt": [{"role": "user", "content": f"fix the parser {i}"}]} for i in range(16)]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    trainer = Spy(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        reward_funcs=[reward],
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        dynamic_epsilon=1e-4,
        dynamic_max_rounds=3,
    )
    trainer.train()
    Path(out, f"rank{state.process_index}.json").write_text(json.dumps(seen))
    from swe_srl.train.common import end_distributed

    end_distributed()


if __name__ == "__main__":
    if sys.argv[1] == "dynamic-sampling-ranks":
        dynamic_sampling_ranks(*sys.argv[2:])
    else:  # a rank of an FSDP-on-CPU launch: swe-srl with FSDP routed
        _route_fsdp_on_cpu()
        sys.argv = ["swe-srl", *sys.argv[1:]]
        runpy.run_module("swe_srl.cli", run_name="__main__")
