"""CLI command ``serve``: one supervised OpenAI-compatible model server (see swe_srl/cli/__init__.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def serve_command(
    model: str = typer.Argument(..., help="Model folder (or a LoRA adapter folder), or a hub name."),
    engine: str = typer.Option("auto", "--engine", help="auto | vllm | transformers (auto: vllm on a GPU)"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="0: a free port."),
    lora: str = typer.Option("", "--lora", help="LoRA adapter folder served on top of MODEL."),
    max_model_len: int = typer.Option(0, "--max-model-len", min=0, help="Context length (0: the model's)."),
    tensor_parallel_size: int = typer.Option(1, "--tensor-parallel-size", "-tp", min=1),
    data_parallel_size: int = typer.Option(1, "--data-parallel-size", "-dp", min=1),
    served_model_name: str = typer.Option("", "--served-model-name", help="Name clients ask for (vllm)."),
    seed: int = typer.Option(None, "--seed", help="Server-wide seed."),
    kv_cache_tokens: int = typer.Option(
        0, "--kv-cache-tokens", min=0, help="transformers: KV cache size in tokens (0: 16 full contexts)."
    ),
    cpu_threads: int = typer.Option(0, "--cpu-threads", min=0, help="Torch threads on CPU (0: torch's)."),
    log: Path = typer.Option(None, "--log", help="Server log file (default: in the temp folder)."),
    startup_timeout: float = typer.Option(900.0, "--startup-timeout", help="Seconds to become healthy."),
) -> None:
    """Start an OpenAI-compatible server (vllm serve / transformers serve), keep it up until Ctrl-C."""
    from swe_srl.serve.process import ManagedServer, SupervisorConfig
    from swe_srl.serve.run import serve_until_stopped, server_spec

    spec = server_spec(
        model,
        engine=engine,
        lora=lora or None,
        host=host,
        port=port,
        max_model_len=max_model_len or None,
        tensor_parallel_size=tensor_parallel_size,
        data_parallel_size=data_parallel_size,
        served_name=served_model_name,
        seed=seed,
        kv_cache_tokens=kv_cache_tokens or None,
        cpu_threads=cpu_threads or None,
    )
    server = ManagedServer(spec, log, SupervisorConfig(startup_timeout=startup_timeout))

    def ready(running: ManagedServer) -> None:
        where = f"{running.base_url} (engine {spec.engine}, pid {running.pid})"
        typer.echo(f"serving {running.model_name} at {where}")
        typer.echo(f"log: {running.log_path}")
        typer.echo(f"use: --policy 'openai:{running.model_name}@{running.base_url}'  (Ctrl-C stops)")

    serve_until_stopped(server, ready)
    typer.echo(f"stopped {spec.model_name} (log: {server.log_path})")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("serve")(serve_command)
