"""Docker images per task: ``swe-srl/<suite>.<instance_id>:latest`` (``dockerfiles/suite.Dockerfile``).

Each image is the shared base image (``swe-srl/base:bookworm``, built offline by
``dockerfiles/build-base.sh``) plus ``/testbed`` holding the task's prepared base repository, so
``HEAD`` inside the image is the same commit the local sandbox starts from. Images are labelled
with the prepared repository's cache key and rebuilt only when it changes. Builds run with
``--network none``: nothing is pulled.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from swe_srl.eval.evalscript import image_name
from swe_srl.records import SweSrlError, Task

DOCKERFILE = Path(__file__).resolve().parents[2] / "dockerfiles" / "suite.Dockerfile"
BASE_IMAGE = "swe-srl/base:bookworm"
KEY_LABEL = "swe-srl.base-key"


class ImageBuildError(SweSrlError):
    """A task image could not be built; the message names the instance."""


@dataclass(frozen=True)
class TaskImage:
    instance_id: str
    image: str
    action: str  # "built" | "up-to-date"


def suite_name(spec: str) -> str:
    """The suite's name for image tags: the directory holding its tasks file, or the name given."""
    path = Path(spec)
    if path.is_file():
        return path.parent.name if path.name == "tasks.jsonl" else path.stem
    return path.name


def _image_label(image: str) -> str | None:
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", f'{{{{index .Config.Labels "{KEY_LABEL}"}}}}', image],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def image_built(image: str) -> bool:
    """Whether the local Docker engine has ``image``."""
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def build_task_image(
    task: Task, suite: str, *, base_image: str = BASE_IMAGE, force: bool = False
) -> TaskImage:
    """Build (or keep, when up to date) the image of one task.

    A task over an environment gets a thin layer over the environment's image (its setup commit
    only); any other task a copy of its prepared repository over the base image.
    """
    from swe_srl.environments.mount import task_environment
    from swe_srl.sandbox.workspace import cache_key, prepare_base_repo

    image = image_name(suite, task.instance_id)
    environment = task_environment(task)
    if environment is not None:
        from swe_srl.environments.images import build_task_layer

        built = build_task_layer(environment, task, image, force=force)
        return TaskImage(task.instance_id, image, "built" if built else "up-to-date")
    key = cache_key(task)
    if not force and _image_label(image) == key:
        return TaskImage(task.instance_id, image, "up-to-date")
    repo = prepare_base_repo(task)
    with tempfile.TemporaryDirectory(prefix="swe-srl-image-") as tmp:
        context = Path(tmp)
        shutil.copytree(repo, context / "testbed", symlinks=True)
        shutil.copyfile(DOCKERFILE, context / "Dockerfile")
        argv = [
            "docker", "build", "--network", "none", "-q", "-t", image,
            "--build-arg", f"BASE_IMAGE={base_image}", "--label", f"{KEY_LABEL}={key}", str(context),
        ]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ImageBuildError(
            f"task {task.instance_id}: docker build of {image} failed: {proc.stderr.strip()[-2000:]}"
        )
    return TaskImage(task.instance_id, image, "built")


def with_image(task: Task, suite: str) -> Task:
    """``task`` with ``image`` set to its per-task image name."""
    return dataclasses.replace(task, image=image_name(suite, task.instance_id))


def build_suite_images(
    spec: str, *, instances: tuple[str, ...] = (), export: Path | None = None, force: bool = False
) -> list[TaskImage]:
    """Build every task's image of suite ``spec``; optionally export the swebench dataset too."""
    from swe_srl.tasks.loader import read_tasks

    load = read_tasks(spec)
    if load.errors:
        reasons = "; ".join(str(r.error) for r in load.errors[:3])
        raise ImageBuildError(f"suite {spec} has malformed rows: {reasons}")
    tasks = [t for t in load.tasks if not instances or t.instance_id in instances]
    suite = suite_name(spec)
    built = [build_task_image(task, suite, force=force) for task in tasks]
    if export is not None:
        from swe_srl.eval.swebench_export import export_dataset

        export_dataset([with_image(t, suite) for t in tasks], export)
    return built
