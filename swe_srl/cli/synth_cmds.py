"""CLI commands making tasks from real projects: ``tasks synth`` and ``tasks mine`` (see cli/__init__.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from swe_srl.cli.tasks_cmds import tasks_app


def _config(requirement: str, repo: str, tests: list[str], sources: list[str], **extra: object):
    from swe_srl.records import RecordError
    from swe_srl.tasks.synth.project import project_from_dict

    name, sep, version = requirement.partition("==")
    if not sep or not name or not version:
        raise RecordError(f"expected NAME==VERSION, got {requirement!r}", source="command line")
    data = {"name": name, "version": version, "repo": repo or f"{name}/{name}", "test_paths": tests}
    data.update({"source_paths": sources, **{k: v for k, v in extra.items() if v not in (None, [], "")}})
    return project_from_dict(data, source="command line")


_REQ = typer.Argument(..., help="The project on the package index, pinned: NAME==VERSION.")
_OUT = typer.Option(..., "--out", "-o", help="Suite folder (repos/, environments.jsonl, tasks.jsonl).")
_REPO = typer.Option("", "--repo", help="owner/name of its source repository (for task ids).")
_TESTS = typer.Option(["tests"], "--tests", help="Test paths inside the sdist (repeatable).")
_SOURCES = typer.Option([], "--sources", help="Where bugs may go (repeatable; default: all non-test code).")
_PKGS = typer.Option([], "--test-package", help="Pinned package the tests need (repeatable).")
_SHA = typer.Option("", "--sha256", help="The sdist's sha256 (checked by pip).")
_CMD = typer.Option("", "--test-cmd", help="Test command (default: pytest with -rA, no colour).")
_PARSER = typer.Option("", "--log-parser", help="swebench log parser (pytest, django, ...).")
_PLUGINS = typer.Option(
    [], "--pytest-plugin", help="pytest plugin module the tests need (pytest_cov for --cov; repeatable)."
)


@tasks_app.command("synth")
def tasks_synth(
    requirement: str = _REQ,
    out: Path = _OUT,
    repo: str = _REPO,
    tests: list[str] = _TESTS,
    sources: list[str] = _SOURCES,
    test_package: list[str] = _PKGS,
    sha256: str = _SHA,
    test_cmd: str = _CMD,
    log_parser: str = _PARSER,
    pytest_plugin: list[str] = _PLUGINS,
    count: int = typer.Option(10, "--count", "-n", min=1, help="Tasks wanted."),
    max_candidates: int = typer.Option(60, "--max-candidates", help="Mutations tried at most."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same tasks."),
    sandbox: str = typer.Option("local", "--sandbox", help="Sandbox kind the tests run in."),
) -> None:
    """Inject bugs into a PyPI project that its own tests catch (SWE-smith style), as tasks."""
    from swe_srl.tasks.synth.suite import build_project

    options = {
        "test_packages": test_package,
        "sha256": sha256,
        "test_cmd": test_cmd,
        "log_parser": log_parser,
        "pytest_plugins": pytest_plugin,
    }
    config = _config(requirement, repo, tests, sources, synth=count, max_candidates=max_candidates, **options)
    rows = build_project(config, out, seed=seed, sandbox_kind=sandbox, mine=False, progress=typer.echo)
    typer.echo(f"{len(rows)} task(s) written to {out / 'tasks.jsonl'}")
    if not rows:
        raise typer.Exit(code=1)


@tasks_app.command("mine")
def tasks_mine(
    requirement: str = _REQ,
    previous: str = typer.Option(
        ..., "--from", help="The earlier release whose fixes up to VERSION are mined."
    ),
    out: Path = _OUT,
    repo: str = _REPO,
    tests: list[str] = _TESTS,
    test_package: list[str] = _PKGS,
    sha256: str = _SHA,
    test_cmd: str = _CMD,
    log_parser: str = _PARSER,
    pytest_plugin: list[str] = _PLUGINS,
    sandbox: str = typer.Option("local", "--sandbox", help="Sandbox kind the tests run in."),
) -> None:
    """Real fixes between two consecutive releases: a source change as gold, its tests as test patch."""
    from swe_srl.environments.build import build_environment
    from swe_srl.tasks.synth.mine import mine_fixes
    from swe_srl.tasks.synth.project import prepare_project
    from swe_srl.tasks.synth.suite import default_download_cache, merge_rows, with_base_commit

    config = _config(requirement, repo, tests, [], test_packages=test_package, sha256=sha256,
                     test_cmd=test_cmd, log_parser=log_parser, pytest_plugins=pytest_plugin)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    spec = prepare_project(config, out, default_download_cache())
    build_environment(spec)
    found = mine_fixes(config, spec, previous, out, cache=default_download_cache(), sandbox_kind=sandbox,
                       progress=typer.echo)  # fmt: skip
    rows = [with_base_commit(r, spec) for r in found]
    merge_rows(out, spec.name, rows, "mined")
    typer.echo(f"{len(rows)} task(s) written to {out / 'tasks.jsonl'}")
    if not rows:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """The commands hang under ``tasks`` (registered by tasks_cmds)."""
