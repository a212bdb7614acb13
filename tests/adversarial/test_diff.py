"""The harness's diff, taken after every step and on submit: no content of the workspace may make it
raise (the step would fail as if the sandbox had broken), only leave out what git cannot read.
"""

from __future__ import annotations

from attacks import TEST_LIMITS

from swe_srl.env import SweEnv
from swe_srl.records import Action
from swe_srl.sandbox import gitops, make_sandbox


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


def _env(backend, tiny_task, cache_root) -> SweEnv:
    return SweEnv(
        task=tiny_task,
        sandbox=lambda t: make_sandbox(backend, t, cache_root=cache_root, limits=TEST_LIMITS),
        max_steps=10,
    )


_HEAD_AND_STATUS = "git rev-parse HEAD; git status --porcelain --ignored"


def _base_commit(env: SweEnv) -> str:
    """The commit a fresh episode starts from, read through the agent's own tool."""
    observation, _, _, _, info = env.step(_bash(_HEAD_AND_STATUS))
    assert len(observation) == 40 and info["patch"] == "", observation
    return observation


def _assert_clean_episode(env: SweEnv, base_commit: str) -> None:
    """``reset()`` after the attack gives the base commit's tree and a repository git can diff."""
    env.reset()
    observation, _, _, _, info = env.step(_bash(_HEAD_AND_STATUS))
    assert observation == base_commit and info["patch"] == "", observation
    _, _, _, _, info = env.step(_bash("echo again >> README.md"))
    assert "+again" in info["patch"]


def _break_repository(backend, tiny_task, cache_root, breakage: str) -> None:
    """One command that breaks ``.git`` made every later step (and submit) raise: git cannot diff."""
    env = _env(backend, tiny_task, cache_root)
    try:
        env.reset()
        base_commit = _base_commit(env)
        _, _, _, _, info = env.step(_bash("echo fixed >> README.md"))
        assert "+fixed" in info["patch"]
        observation, _, terminated, _, info = env.step(_bash(f"{breakage}; echo broken"))
        assert observation == "broken" and not terminated and info["patch"] == ""
        observation, _, _, _, info = env.step(_bash("echo next"))
        assert observation.startswith("next") and "git cannot diff" in observation, observation
        observation, _, terminated, _, info = env.step(Action("submit", {}))
        assert terminated and info["patch"] == "" and "git" in observation, observation
        _assert_clean_episode(env, base_commit)
    finally:
        env.close()


def test_rm_rf_git_does_not_crash_step(backend, tiny_task, cache_root):
    _break_repository(backend, tiny_task, cache_root, "rm -rf .git")


def test_corrupt_head_does_not_crash_step(backend, tiny_task, cache_root):
    _break_repository(backend, tiny_task, cache_root, "echo garbage > .git/HEAD")


def test_corrupt_index_does_not_crash_step(backend, tiny_task, cache_root):
    _break_repository(backend, tiny_task, cache_root, "echo x > .git/index")


def test_removed_objects_do_not_crash_step(backend, tiny_task, cache_root):
    _break_repository(backend, tiny_task, cache_root, "rm -rf .git/objects/pack .git/objects/??")


def test_replaced_repository_does_not_crash_step(backend, tiny_task, cache_root):
    """A repository of the agent's own lacks the base commit the harness diffs against."""
    breakage = "rm -rf .git && git init -q && git add -A && git -c user.name=a -c user.email=a@b commit -qm m"
    _break_repository(backend, tiny_task, cache_root, breakage)


def test_background_fork_bomb_does_not_crash_step_or_reset(backend, tiny_task, cache_root):
    """A fork bomb left in the background holds every process slot when the harness's git runs."""
    env = _env(backend, tiny_task, cache_root)
    try:
        env.reset()
        base_commit = _base_commit(env)
        observation, _, _, _, info = env.step(_bash("echo fixed >> README.md; :(){ :|:& };:"))
        assert "+fixed" in info["patch"]
        observation, _, _, _, info = env.step(_bash("echo next"))
        assert observation.startswith("next") and "+fixed" in info["patch"], observation
        env.step(_bash(":(){ :|:& };: ; echo bombed"))  # and one still running when reset() comes
        _assert_clean_episode(env, base_commit)
    finally:
        env.close()


def test_shell_killed_during_the_diff(backend, tiny_task, cache_root):
    """A background process kills the shell the moment the harness's git runs in it."""
    watcher = (  # builtins only: it sees the diff's temporary index or its git within microseconds
        "( while :; do for p in /proc/[0-9]*/comm /run/swe-srl/index.*; do "
        "[[ $p == /run/* && -e $p ]] && kill -9 $$; [[ $p == /proc/* ]] && read -r c < $p && "
        "[[ $c == git ]] && kill -9 $$; done 2>/dev/null; done ) >/dev/null 2>&1 &"
    )
    env = _env(backend, tiny_task, cache_root)
    try:
        env.reset()
        observation, _, _, _, info = env.step(_bash(f"echo fixed >> README.md; {watcher} echo watching"))
        assert observation == "watching" and "+fixed" in info["patch"]
        observation, _, _, _, info = env.step(_bash("echo next"))
        assert observation.startswith("next") and "every process" in observation, observation
    finally:
        env.close()


def _without_long_waits(monkeypatch) -> None:
    """A diff that hangs fails within seconds here, not after 2 x 300 s (the attack's whole cost)."""
    monkeypatch.setattr(gitops, "DIFF_TIMEOUT", 20.0)


def test_fifo_in_git_dir_hangs_every_diff(backend, tiny_task, cache_root, monkeypatch):
    """git opens `.git/HEAD`, `config`, `index`, alternates as they are: a FIFO there blocked every diff
    until its timeout, twice, and then the step raised."""
    _without_long_waits(monkeypatch)
    for name in ("HEAD", "config", "index", "objects/info/alternates"):
        _break_repository(backend, tiny_task, cache_root, f"rm -f .git/{name} && mkfifo .git/{name}")
    moved = "mv .git .g && ln -s .g .git && rm .g/config && mkfifo .g/config"
    _break_repository(backend, tiny_task, cache_root, moved)  # `.git` itself a link to such a folder


def test_fifo_gitignore_hangs_every_diff(backend, tiny_task, cache_root, monkeypatch):
    """A `.gitignore` that is a FIFO (or a link to one, or to a device) blocked or fed `git add` forever."""
    _without_long_waits(monkeypatch)
    _break_repository(backend, tiny_task, cache_root, "mkdir -p sub && mkfifo sub/.gitignore")
    _break_repository(backend, tiny_task, cache_root, "ln -s /dev/zero .gitattributes")
