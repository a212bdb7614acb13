"""CLI commands of the environment area: sandboxes (see swe_srl/cli/__init__.py)."""

from __future__ import annotations

import typer

sandbox_app = typer.Typer(help="Manage sandboxes (local bubblewrap workspaces and Docker containers).")


@sandbox_app.command("gc")
def sandbox_gc(
    older_than: float = typer.Option(
        3600.0, "--older-than", help="Only remove sandboxes older than SECONDS."
    ),
    docker: bool = typer.Option(True, "--docker/--no-docker", help="Also sweep labelled Docker containers."),
    snapshots_unused_for: float = typer.Option(
        7 * 86400.0,
        "--snapshots-unused-for",
        help="Remove overlay snapshots of repositories (<cache>/lower) no sandbox used for SECONDS.",
    ),
) -> None:
    """Remove leftover sandboxes: labelled containers, stale local workspaces and their cgroups.

    Sandboxes whose owning process still runs on this host are kept (for up to a day). One that
    cannot be removed is reported and the sweep goes on; the exit status is then 1. The overlay
    workspace's snapshots of base repositories are removed once unused for a week (by default)
    unless an overlay has one mounted.
    """
    from swe_srl.sandbox.gc import gc_containers, gc_snapshots, gc_workspaces
    from swe_srl.sandbox.limits import gc_cgroups

    removed = gc_workspaces(older_than)
    for cgroup in gc_cgroups():
        typer.echo(f"removed cgroup {cgroup}")
    if docker:
        try:
            removed += gc_containers(older_than)
        except Exception as exc:  # no engine: local clean-up still counts
            typer.echo(f"docker: skipped ({exc.__class__.__name__}: {exc})", err=True)
    snapshots = gc_snapshots(snapshots_unused_for, older_than)
    for item in removed + snapshots:
        if item.error:
            typer.echo(f"could not remove {item.kind} {item.name}: {item.error}", err=True)
        else:
            typer.echo(f"removed {item.kind} {item.name} (age {item.age_seconds:.0f}s)")
    failed = sum(1 for item in removed if item.error)
    typer.echo(f"{len(removed) - failed} sandbox(es) removed")
    if failed:
        typer.echo(f"{failed} sandbox(es) could not be removed", err=True)
    stuck = sum(1 for item in snapshots if item.error)
    if snapshots:
        typer.echo(f"{len(snapshots) - stuck} snapshot(s) removed")
    if stuck:
        typer.echo(f"{stuck} snapshot(s) could not be removed", err=True)
    if failed or stuck:  # every other leftover was still swept; the exit status says that some remain
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(sandbox_app, name="sandbox")
