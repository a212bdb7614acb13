"""The harness's diff, taken after every step and on submit: no content of the workspace may make it
raise (the step would fail as if the sandbox had broken), only leave out what git cannot read.
"""

from __future__ import annotations

from attacks import TEST_LIMITS

from swe_srl.env import SweEnv
from swe_srl.records import Action
from swe_srl.sandbox import make_sandbox


def _bash(command: str) -> Action:
    return Action("bash", {"command": command})


def test_unreadable_file_breaks_every_step(backend, tiny_task, cache_root):
    """Root inside holds no capability: a file or directory made unreadable stopped `git add`."""
    env = SweEnv(
        task=tiny_task,
        sandbox=lambda t: make_sandbox(backend, t, cache_root=cache_root, limits=TEST_LIMITS),
        max_steps=10,
    )
    try:
        env.reset()
        for command in (
            "echo kept > kept.txt; echo secret > secret.txt; chmod 000 secret.txt",
            "mkdir locked && echo x > locked/inside.txt && chmod 000 locked",
            "mkdir -p deep/er && echo y > deep/er/f.txt && chmod 300 deep/er",
            "echo more >> README.md",
        ):
            observation, _, terminated, _, info = env.step(_bash(command))
            assert not terminated and info["exit_code"] == 0, observation
        assert "+kept" in info["patch"] and "+more" in info["patch"]
        _, _, terminated, _, info = env.step(Action("submit", {}))
        assert terminated and "+kept" in info["patch"] and "+more" in info["patch"]
    finally:
        env.close()
