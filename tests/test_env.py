"""SweEnv against real sandboxes (bubblewrap, Docker), real git and real pytest."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from swe_srl.context import ContextConfig, build_messages
from swe_srl.env import ENV_ID, PARSE_ERROR_TOOL, SweEnv, UnicodeText, task_prompt
from swe_srl.episode import (
    SAMPLE_FIX_SCRIPT,
    Policy,
    ScriptedPolicy,
    ScriptEndedError,
    run_episode,
    run_sample_episode,
)
from swe_srl.eval.grader import SandboxGrader
from swe_srl.records import Action, Step, Task, Trajectory
from swe_srl.tasks import load_tasks

SANDBOXES = ["local", pytest.param("docker", marks=pytest.mark.docker)]


def bash(command: str, thought: str = "") -> str:
    return f"{thought}\n<function=bash>\n<parameter=command>{command}</parameter>\n</function>"


@pytest.fixture(scope="module")
def task() -> Task:
    return load_tasks("sample")[0]


@pytest.fixture
def env(task: Task):
    environment = SweEnv(task=task, sandbox="local", max_steps=10, step_timeout=30)
    yield environment
    environment.close()


def normalise_timing(text: str) -> str:
    """pytest prints its run time; everything else in an observation must match byte for byte."""
    return re.sub(r" in \d+\.\d+s", " in <t>s", text)


# ---------------------------------------------------------------------------------------------
# Conformance


def test_check_env_passes(env: SweEnv):
    check_env(env)


def test_check_env_passes_through_make(task: Task):
    made = gym.make(ENV_ID, task=task, sandbox="local")
    try:
        assert made.spec.id == ENV_ID and made.spec.nondeterministic
        check_env(made.unwrapped)
    finally:
        made.close()


def test_make_without_importing_the_module_first(tmp_path: Path):
    """Gymnasium 1.x imports a module named before the id ("module:id"), so no import is needed."""
    code = (
        "import gymnasium as gym, sys\n"
        "assert 'swe_srl.env' not in sys.modules\n"
        "env = gym.make('swe_srl.env:swe_srl/SWE-v0', tasks=[])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    # An empty pool is refused by SweEnv itself: proof that make() found and called it.
    assert "tasks must be a non-empty list" in proc.stderr


def test_spaces_accept_any_text():
    space = UnicodeText()
    assert "héllo ✓ \x00\n\t🙂" in space and "" in space
    assert 42 not in space
    sample = space.sample()
    assert isinstance(sample, str) and sample in space


def test_reset_returns_the_prompt(env: SweEnv, task: Task):
    observation, info = env.reset(seed=0)
    assert observation == task_prompt(task) == build_messages(task.problem_statement, [])[1]["content"]
    assert observation == f"<issue>\n{task.problem_statement}\n</issue>"
    assert info["instance_id"] == task.instance_id and info["sandbox"] == "local"
    assert "messages" not in info  # only with a context configuration


class RecordingPolicy(ScriptedPolicy):
    """A scripted policy that keeps the messages a chat policy with ``context`` would send."""

    def __init__(self, replies, context: ContextConfig):
        super().__init__(replies)
        self.context = context
        self.seen: list[list[dict[str, str]]] = []

    def act(self, problem_statement, history):
        self.seen.append(build_messages(problem_statement, history, self.context))
        return super().act(problem_statement, history)


def test_env_emits_the_messages_a_policy_sees(task: Task):
    """info["messages"] before each action equals the chat a policy builds from the same rounds."""
    context = ContextConfig(window=1, observation_budget=300)
    replies = [
        bash("printf 'x%.0s' $(seq 1 1000)", "Print a long line."),
        "no action here",
        bash("ls /testbed"),
        "<think>Done.</think>\n<function=submit>\n</function>",
    ]
    policy = RecordingPolicy(replies, context)
    environment = SweEnv(task=task, sandbox="local", max_steps=10, context=context)
    try:
        _, info = environment.reset(seed=0)
        emitted = [info["messages"]]
        history: list[Step] = []
        terminated = False
        while not terminated:  # the agent loop of swe_srl.episode.run_episode
            reply = policy.act(task.problem_statement, list(history))
            observation, _, terminated, _, info = environment.step(reply)
            history.append(Step(info["thought"], info["action"], observation))
            emitted.append(info["messages"])
    finally:
        environment.close()
    assert emitted[:-1] == policy.seen and len(policy.seen) == 4
    assert emitted[-1] == build_messages(task.problem_statement, history, context)
    before_last = emitted[3]  # one round shown, two counted
    assert [m["role"] for m in before_last] == ["system", "user", "assistant", "user"]
    assert "[2 earlier actions not shown]" in before_last[1]["content"]
    long_round = emitted[1][3]["content"]
    assert long_round.startswith("OBSERVATION:\n") and "characters truncated" in long_round


def test_sync_vector_env_steps(task: Task):
    envs = gym.vector.SyncVectorEnv([lambda: SweEnv(task=task, sandbox="local") for _ in range(2)])
    try:
        observations, _ = envs.reset(seed=1)
        assert len(observations) == 2 and observations[0] == observations[1] == task_prompt(task)
        actions = (bash("echo vector-$((20+22))"), "no action in here")
        observations, rewards, terminated, truncated, infos = envs.step(actions)
        assert observations[0].strip() == "vector-42"
        assert "No action found" in observations[1]
        assert list(infos["parse_error"]) == [False, True]
        assert list(infos["exit_code"]) == [0, -1]
        assert list(rewards) == [0.0, 0.0] and not terminated.any() and not truncated.any()
    finally:
        envs.close()


# ---------------------------------------------------------------------------------------------
# Episodes


def run_scripted_fix(task: Task, kind: str, grader=None):
    environment = SweEnv(task=task, sandbox=kind, max_steps=20, step_timeout=60, grader=grader)
    try:
        return run_episode(environment, ScriptedPolicy(SAMPLE_FIX_SCRIPT))
    finally:
        environment.close()


def apply_and_test(task: Task, patch: str, tmp_path: Path) -> dict[str, str]:
    """Outcomes of the task's tests after ``patch``, on a fresh copy of the base repository."""
    from swe_srl.sandbox.workspace import prepare_base_repo

    work = tmp_path / "check"
    shutil.copytree(prepare_base_repo(task), work)
    for diff in (patch, task.test_patch):
        subprocess.run(["git", "apply", "-"], cwd=work, input=diff, text=True, check=True)
    log = subprocess.run(
        ["/usr/bin/python3", "-m", "pytest", "-rA", "-p", "no:cacheprovider"],
        cwd=work,
        capture_output=True,
        text=True,
    ).stdout
    return {node: status for status, node in re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", log, re.M)}


@pytest.mark.parametrize("kind", SANDBOXES)
def test_scripted_fix_submits_the_gold_change(task: Task, kind: str, tmp_path: Path):
    trajectory = run_scripted_fix(task, kind)
    assert trajectory.metadata["exit_status"] == "submitted"
    assert len(trajectory.steps) == len(SAMPLE_FIX_SCRIPT)
    assert [s.action.tool for s in trajectory.steps] == [
        "bash",
        "str_replace_editor",
        "bash",
        "str_replace_editor",
        "str_replace_editor",
        "bash",
        "submit",
    ]
    assert "-1800.0" in trajectory.steps[2].observation  # the bug, reproduced
    assert "-300.0 -5400.0 -187200.0" in trajectory.steps[5].observation  # fixed
    assert "32 passed" in trajectory.steps[5].observation
    assert trajectory.final_patch == task.patch  # byte-identical to the gold fix
    outcomes = apply_and_test(task, trajectory.final_patch, tmp_path)
    assert all(outcomes.get(t) == "PASSED" for t in (*task.FAIL_TO_PASS, *task.PASS_TO_PASS))


@pytest.mark.docker
def test_local_and_docker_give_identical_observations(task: Task):
    local = run_scripted_fix(task, "local")
    docker = run_scripted_fix(task, "docker")
    assert [normalise_timing(s.observation) for s in local.steps] == [
        normalise_timing(s.observation) for s in docker.steps
    ]
    assert local.final_patch == docker.final_patch


def test_grader_decides_the_outcome_reward(task: Task):
    trajectory = run_sample_episode("local", grader=SandboxGrader("local"))
    assert trajectory.resolved is True and trajectory.metadata["reward"] == 1.0
    assert trajectory.model == "scripted-sample-fix" and trajectory.final_patch == task.patch

    environment = SweEnv(task=task, sandbox="local", grader=SandboxGrader("local"))
    try:
        environment.reset()
        _, reward, terminated, _, info = environment.step({"tool": "submit", "args": {}})
        assert terminated and reward == 0.0 and info["resolved"] is False
        assert info["eval"].status == "unresolved" and info["patch"] == ""
    finally:
        environment.close()


def test_no_grader_gives_zero_reward_and_unknown_resolution(env: SweEnv):
    env.reset()
    _, reward, terminated, truncated, info = env.step(Action("submit"))
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert info["exit_status"] == "submitted" and "resolved" not in info


def test_malformed_text_is_an_observation_and_the_episode_goes_on(env: SweEnv):
    env.reset()
    observation, reward, terminated, truncated, info = env.step("I think I should look around.")
    assert "No action found" in observation and "<function=bash>" in observation
    assert info["parse_error"] and info["action"].tool == PARSE_ERROR_TOOL and info["exit_code"] == -1
    assert (reward, terminated, truncated) == (0.0, False, False)
    for bad in (
        "<function=bash>\n<parameter=cmd>ls</parameter>\n</function>",  # wrong parameter name
        "<function=rm_rf>\n</function>",  # unknown tool
        {"args": {}},  # dict without a tool
        12345,  # not text at all
    ):
        observation, _, terminated, _, info = env.step(bad)
        assert info["parse_error"] and observation and not terminated
    observation, _, _, _, info = env.step(bash("echo still-alive"))
    assert observation.strip() == "still-alive" and not info["parse_error"] and info["step"] == 6


def test_step_limit_truncates(task: Task):
    environment = SweEnv(task=task, sandbox="local", max_steps=2)
    try:
        environment.reset()
        assert environment.step(bash("true"))[3] is False
        _, _, terminated, truncated, info = environment.step("garbage")
        assert (terminated, truncated) == (False, True) and info["exit_status"] == "step_limit"
        with pytest.raises(gym.error.ResetNeeded):
            environment.step(bash("true"))
        environment.reset(options={"max_steps": 1})  # per-episode override
        assert environment.step(bash("true"))[3] is True
    finally:
        environment.close()


def test_wall_clock_limit_truncates(task: Task):
    environment = SweEnv(task=task, sandbox="local", max_seconds=1.5)
    try:
        environment.reset()
        started = time.monotonic()
        _, _, terminated, truncated, info = environment.step(bash("sleep 30"))
        assert time.monotonic() - started < 10
        assert info["timed_out"] and not terminated and truncated and info["exit_status"] == "time_limit"
    finally:
        environment.close()


def test_hanging_command_is_cut_at_step_timeout_and_the_next_step_works(task: Task):
    environment = SweEnv(task=task, sandbox="local", step_timeout=1.0)
    try:
        environment.reset()
        started = time.monotonic()
        _, _, terminated, truncated, info = environment.step(bash("sleep 1000"))
        assert time.monotonic() - started < 10
        assert info["timed_out"] and not (terminated or truncated)
        observation, _, _, _, info = environment.step(bash("echo after-$((6*7))"))
        assert observation.strip() == "after-42" and not info["timed_out"] and info["exit_code"] == 0
    finally:
        environment.close()


def test_info_reports_patch_and_thought(env: SweEnv):
    env.reset()
    _, _, _, _, info = env.step(bash("echo '# note' >> durata/units.py", thought="Add a note."))
    assert info["thought"] == "Add a note." and info["exit_code"] == 0 and info["duration"] > 0
    assert "+# note" in info["patch"] and "durata/units.py" in info["patch"]


def test_reset_restores_the_workspace_and_reuses_the_sandbox(env: SweEnv):
    env.reset()
    first = env.sandbox
    env.step(bash("echo junk > /testbed/new_file.txt && rm durata/errors.py"))
    env.reset()
    assert env.sandbox is first
    observation, _, _, _, info = env.step(bash("git status --porcelain; ls durata"))
    assert "errors.py" in observation and "new_file" not in observation and info["patch"] == ""


def test_seed_picks_the_task_and_a_new_task_gets_a_new_sandbox(task: Task):
    twin = dataclasses.replace(task, instance_id=task.instance_id + "-twin")
    environment = SweEnv(tasks=[task, twin], sandbox="local")
    try:
        picks = {}
        for seed in range(8):
            environment.reset(seed=seed)
            picks[seed] = environment.task.instance_id
            environment.reset(seed=seed)
            assert environment.task.instance_id == picks[seed]
        assert set(picks.values()) == {task.instance_id, twin.instance_id}
        environment.reset(options={"task": task.instance_id})
        sandbox = environment.sandbox
        environment.reset(options={"task": twin})
        assert environment.task == twin and environment.sandbox is not sandbox
    finally:
        environment.close()


def test_bad_configuration_is_refused(task: Task):
    with pytest.raises(ValueError, match="max_steps"):
        SweEnv(task=task, max_steps=0)
    with pytest.raises(ValueError, match="sandbox"):
        SweEnv(task=task, sandbox="vm")
    with pytest.raises(ValueError, match="suite:instance_id"):
        SweEnv(task="no-colon")
    environment = SweEnv(task=task)
    with pytest.raises(gym.error.ResetNeeded):
        environment.step(bash("true"))
    with pytest.raises(ValueError, match="no task with instance_id"):
        environment.reset(options={"task": "nope"})


def test_scripted_policy_replays_in_order_and_then_stops():
    policy = ScriptedPolicy(["one", "two"], name="two-liner")
    assert isinstance(policy, Policy) and policy.name == "two-liner"
    assert [policy.act("issue", []), policy.act("issue", [])] == ["one", "two"]
    with pytest.raises(ScriptEndedError):
        policy.act("issue", [])
    policy.reset()
    assert policy.act("issue", []) == "one"


def test_run_episode_records_every_round(env: SweEnv, task: Task):
    policy = ScriptedPolicy(["no action here", bash("echo hi > greeting.txt", thought="Say hi.")])
    trajectory = run_episode(env, policy, task=task.instance_id, max_steps=2)
    assert trajectory.instance_id == task.instance_id and trajectory.model == "scripted"
    assert trajectory.metadata["exit_status"] == "step_limit" and trajectory.resolved is None
    first, second = trajectory.steps
    assert first.action.tool == PARSE_ERROR_TOOL and first.raw_action == "no action here"
    assert "No action found" in first.observation
    assert second.thought == "Say hi." and second.action == Action(
        "bash", {"command": "echo hi > greeting.txt"}
    )
    assert "+hi" in trajectory.final_patch and "greeting.txt" in trajectory.final_patch
    assert Trajectory.from_dict(trajectory.to_dict()) == trajectory


def test_patch_only_at_the_end_when_diffing_every_step_is_off(task: Task):
    environment = SweEnv(task=task, sandbox="local", max_steps=2, diff_every_step=False)
    try:
        environment.reset()
        _, _, _, _, info = environment.step(bash("echo '# x' >> durata/units.py"))
        assert info["patch"] == ""
        _, _, _, truncated, info = environment.step(bash("true"))
        assert truncated and "+# x" in info["patch"]
    finally:
        environment.close()


def test_tasks_by_suite_name_and_by_suite_instance_id(task: Task):
    default = gym.make(ENV_ID)  # the bundled sample suite
    by_id = SweEnv(task=f"sample:{task.instance_id}")
    by_suite = SweEnv(tasks="sample")
    try:
        assert default.unwrapped.tasks == by_id.tasks == by_suite.tasks == [task]
        with pytest.raises(ValueError, match="no task with instance_id"):
            SweEnv(task="sample:missing-1")
    finally:
        default.close()
