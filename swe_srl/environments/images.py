"""Docker images of environments: one per environment, a thin layer (or none) per task.

``swe-srl/env.<name>:<build key>`` is ``dockerfiles/environment.Dockerfile``: the base image plus the
built virtual environment and ``/testbed`` at the environment's source tree (a git repository with
the fixed identity). A task over it needs only its setup patch committed on top: the Docker sandbox
does that when a container starts (``setup_script``), and ``build_task_layer`` bakes it into a thin
image for tools that need one image per task (swebench's harness). Images build with ``--network
none``: everything they hold was built before.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from swe_srl.environments.build import locked
from swe_srl.environments.mount import TaskEnvironment
from swe_srl.records import Task
from swe_srl.sandbox.base import SandboxError
from swe_srl.sandbox.workspace import GIT_ENV, prepare_base_repo

DOCKERFILES = Path(__file__).resolve().parents[2] / "dockerfiles"
KEY_LABEL = "swe-srl.env-key"
_TAG_CHARS = re.compile(r"[^a-z0-9_.-]+")


class ImageError(SandboxError):
    """An environment or task image could not be built or is missing."""


def _clean(part: str) -> str:
    return re.sub(r"[.]{2,}", ".", _TAG_CHARS.sub("-", part.lower()).strip("._-")) or "x"


def env_image_name(env: TaskEnvironment) -> str:
    return f"swe-srl/env.{_clean(env.spec.name)}:{env.built.key}"


def image_exists(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def source_task(env: TaskEnvironment) -> Task:
    """The environment's source tree as a task with no setup patch (what the image holds at /testbed)."""
    spec = env.spec
    return Task(
        instance_id=f"env.{spec.name}",
        repo=spec.repo,
        base_commit="",
        problem_statement=f"environment {spec.name}",
        repo_dir=spec.repo_dir,
    )


def _docker_build(context: Path, image: str, build_args: dict[str, str], label: str) -> None:
    argv = ["docker", "build", "--network", "none", "-q", "-t", image, "--label", label]
    for key, value in build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    proc = subprocess.run([*argv, str(context)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ImageError(f"docker build of {image} failed: {proc.stderr.strip()[-2000:]}")


def build_env_image(env: TaskEnvironment, *, force: bool = False) -> str:
    """Build the environment's image unless it exists; return its name (one build at a time per image)."""
    image = env_image_name(env)
    if not force and image_exists(image):
        return image
    with locked(env.built.path.parent / f".{env.built.key}.image.lock"):
        if force or not image_exists(image):
            _build_env_image(env, image)
    return image


def _build_env_image(env: TaskEnvironment, image: str) -> None:
    repo = prepare_base_repo(source_task(env))
    with tempfile.TemporaryDirectory(prefix="swe-srl-envimage-") as tmp:
        context = Path(tmp)
        shutil.copytree(env.built.venv, context / "venv", symlinks=True)
        shutil.copytree(repo, context / "testbed", symlinks=True)
        dockerfile = (DOCKERFILES / "environment.Dockerfile").read_text()
        variables = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.variables.items())
        (context / "Dockerfile").write_text(f"{dockerfile}ENV {variables}\n")
        _docker_build(context, image, {"BASE_IMAGE": env.spec.base_image}, f"{KEY_LABEL}={env.built.key}")


def setup_script(task: Task) -> str:
    """Bash that commits ``task.setup_patch`` on /testbed exactly as ``prepare_base_repo`` does."""
    git_env = " ".join(f"{k}={shlex.quote(v)}" for k, v in GIT_ENV.items())
    lines = ["set -euo pipefail", "cd /testbed", f"export {git_env}"]
    if task.setup_patch.strip():
        patch = task.setup_patch if task.setup_patch.endswith("\n") else task.setup_patch + "\n"
        delimiter = "EOF_SWE_SRL_SETUP"
        while delimiter in patch:
            delimiter += "_"
        lines.append(f"git apply --whitespace=nowarn - <<'{delimiter}'\n{patch}{delimiter}")
        lines.append("git add -A --force")
        lines.append("git commit -q --allow-empty --no-verify --no-gpg-sign -m 'swe-srl: setup patch'")
    lines.append("git rev-parse HEAD")
    return "\n".join(lines) + "\n"


def _label(image: str) -> str | None:
    argv = ["docker", "image", "inspect", "--format", f'{{{{index .Config.Labels "{KEY_LABEL}"}}}}', image]
    proc = subprocess.run(argv, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def build_task_layer(env: TaskEnvironment, task: Task, image: str, *, force: bool = False) -> bool:
    """A thin image ``image`` over the environment's: only the task's setup commit differs.

    Returns whether it was built (False: an image with the same environment and setup was there).
    """
    script = setup_script(task)
    key = f"{env.built.key}.{hashlib.sha256(script.encode()).hexdigest()[:12]}"
    if not force and _label(image) == key:
        return False
    base = build_env_image(env)
    with tempfile.TemporaryDirectory(prefix="swe-srl-taskimage-") as tmp:
        context = Path(tmp)
        shutil.copyfile(DOCKERFILES / "task.Dockerfile", context / "Dockerfile")
        (context / "setup.sh").write_text(script)
        _docker_build(context, image, {"ENV_IMAGE": base}, f"{KEY_LABEL}={key}")
    return True
