"""The SRL reward: exact parity with difflib, the step reward, the TRL function and the batch API."""

from __future__ import annotations

import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swe_srl import reward
from swe_srl.actions import action_from_tool_call, render_action
from swe_srl.records import Action

REPO_ROOT = Path(__file__).resolve().parent.parent
_FENCE = re.compile(r"```mswea_bash_command[ \t]*\n(.*?)\n?```", re.DOTALL)


def fixture_actions(fixtures_dir: Path) -> list[str]:
    """Every action of the fixture trajectories: canonical renderings plus the sources' own texts."""
    actions: list[str] = []
    for path in sorted(fixtures_dir.glob("*.traj")):
        data = json.loads(path.read_text())
        for message in data["history"]:
            for call in message.get("tool_calls") or []:
                function = call["function"]
                actions.append(render_action(action_from_tool_call(function["name"], function["arguments"])))
        actions.extend(step["action"] for step in data["trajectory"])
    for message in json.loads((fixtures_dir / "mini_github_issue.traj.json").read_text()):
        if message["role"] == "assistant":
            for command in _FENCE.findall(message["content"]):
                actions.append(render_action(Action("bash", {"command": command})))
    return actions


def can_build_extension() -> bool:
    """A C compiler and the Python headers exist, so ``pip install -e .`` builds ``_seqmatch``."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return shutil.which(compiler) is not None and headers.is_file()


def seqmatch() -> ModuleType:
    """The C extension; a missing one fails the test where it could have been built."""
    try:
        from swe_srl import _seqmatch
    except ImportError:
        if can_build_extension():
            pytest.fail("swe_srl._seqmatch is not built although a compiler exists: run pip install -e .")
        pytest.skip("no C compiler or Python headers: the pure-Python backend is in use")
    return _seqmatch


def reference_ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def reference_blocks(a: str, b: str) -> list[tuple[int, int, int]]:
    return [tuple(m) for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()]


@pytest.fixture(scope="module")
def actions(fixtures_dir: Path) -> list[str]:
    found = fixture_actions(fixtures_dir)
    assert len(found) > 60, "the fixtures should hold dozens of actions"
    return found


def test_extension_is_built_and_used():
    # setup.py builds the extension; a silent fall back to difflib where it can be built is a bug.
    extension = seqmatch()
    assert reward.BACKEND == "c"
    assert reward.similarity is extension.ratio


@pytest.mark.slow
def test_parity_on_every_fixture_action_pair(actions: list[str]):
    _seqmatch = seqmatch()
    distinct = sorted(set(actions))
    for a in distinct:
        for b in distinct:
            expected = reference_blocks(a, b)
            assert _seqmatch.matching_blocks(a, b) == expected, (a[:60], b[:60])
            assert reward.similarity(a, b) == reference_ratio(a, b)
            assert _seqmatch.matching_characters(a, b) == sum(k for _, _, k in expected)


_ALPHABETS = st.sampled_from(["a", "ab", "abc", " \n\tx", "aé€", "a\U0001f600b", "ab\ud800"])
_SMALL_ALPHABET_TEXT = _ALPHABETS.flatmap(lambda alphabet: st.text(alphabet=alphabet, max_size=80))
_ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)
_REPEATED = st.builds(lambda char, n: char * n, st.characters(), st.integers(0, 50))
_STRINGS = st.one_of(_SMALL_ALPHABET_TEXT, _ANY_TEXT, _REPEATED, st.just(""))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=_STRINGS, b=_STRINGS)
def test_parity_on_generated_strings(a: str, b: str):
    _seqmatch = seqmatch()
    assert _seqmatch.matching_blocks(a, b) == reference_blocks(a, b)
    assert reward.similarity(a, b) == reference_ratio(a, b)


@settings(max_examples=500, deadline=None)
@given(
    base=_SMALL_ALPHABET_TEXT,
    edits=st.lists(st.tuples(st.integers(0, 80), _SMALL_ALPHABET_TEXT), max_size=4),
)
def test_parity_on_near_copies(base: str, edits: list[tuple[int, str]]):
    # Similar strings (the usual case for a student imitating an expert) recurse the most.
    other = base
    for at, text in edits:
        cut = at % (len(other) + 1)
        other = other[:cut] + text + other[cut + len(text) // 2 :]
    assert reward.similarity(base, other) == reference_ratio(base, other)
    assert reward.similarity(other, base) == reference_ratio(other, base)


def test_empty_strings_follow_difflib():
    assert reward.similarity("", "") == 1.0
    assert reward.similarity("", "abc") == 0.0
    assert reward.similarity("abc", "") == 0.0


def test_arguments_must_be_strings():
    _seqmatch = seqmatch()
    with pytest.raises(TypeError):
        _seqmatch.ratio("a", b"a")
    with pytest.raises(TypeError):
        _seqmatch.ratio("a")


def test_results_identical_across_threads(actions: list[str]):
    # The extension releases the GIL on long pairs and keeps per-thread buffers.
    rng = random.Random(7)
    long_actions = [a for a in actions if len(a) > 400] or actions
    pairs = [(rng.choice(long_actions), rng.choice(actions)) for _ in range(60)]
    expected = [reward.similarity(a, b) for a, b in pairs]
    results: dict[int, list[float]] = {}

    def work(n: int) -> None:
        results[n] = [reward.similarity(a, b) for a, b in pairs]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[n] == expected for n in range(4))


def test_very_long_wide_strings_and_buffer_release():
    # 1.2M astral code points: the hashed symbol table, and buffers past the keep limit are freed.
    rng = random.Random(3)
    text = "".join(chr(rng.randrange(0x10000, 0x10FFFF)) for _ in range(1_200_000))
    assert reward.similarity(text, text) == 1.0
    head = text[:1000]
    assert reward.similarity(head + "x", head) == reference_ratio(head + "x", head)


def test_pure_python_fallback_imports_without_warnings_and_matches():
    script = (
        "import sys; sys.modules['swe_srl._seqmatch'] = None\n"
        "from swe_srl import reward\n"
        "assert reward.BACKEND == 'python', reward.BACKEND\n"
        "print(reward.similarity('kitten sitting', 'sitting kitten'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert float(done.stdout) == reference_ratio("kitten sitting", "sitting kitten")


# ---------------------------------------------------------------------------------------------
# step_reward, srl_reward, batch_step_rewards

TARGET = render_action(Action("bash", {"command": "grep -rn 'def read_sql' /testbed/pandas/io/sql.py"}))


def completion(action_text: str, thought: str = "Look for the function.") -> str:
    return f"<think>\n{thought}\n</think>\n{action_text}"


def test_step_reward_exact_action_scores_one():
    assert reward.step_reward(completion(TARGET), TARGET) == 1.0


def test_step_reward_is_similarity_of_rendered_action():
    student = Action("bash", {"command": "grep -rn 'read_sql' /testbed/pandas/io/"})
    expected = reference_ratio(render_action(student), TARGET)
    assert 0.5 < expected < 1.0
    assert reward.step_reward(completion(render_action(student)), TARGET) == expected


def test_step_reward_format_error_is_penalty():
    assert reward.step_reward("no think, no call", TARGET) == reward.FORMAT_PENALTY == -1.0


def test_step_reward_with_think_opened_by_the_prompt():
    text = f"Look for the function.\n</think>\n{TARGET}"
    assert reward.step_reward(text, TARGET, think_opened=True) == 1.0
    assert reward.step_reward(text, TARGET) == -1.0


def test_srl_reward_reads_strings_and_conversations_and_logs_format_errors():
    logged: dict[str, float] = {}
    good = completion(TARGET)
    completions = [
        good,
        [{"role": "assistant", "content": good}],
        [{"role": "assistant", "content": [{"type": "text", "text": good}]}],
        [{"role": "assistant", "content": "<think>x</think>"}],
    ]
    rewards = reward.srl_reward(
        completions=completions,
        target=[TARGET] * 4,
        prompts=["p"] * 4,
        completion_ids=[[1]] * 4,
        log_metric=lambda name, value: logged.__setitem__(name, value),
    )
    assert rewards == [1.0, 1.0, 1.0, -1.0]
    assert logged == {"srl/format_error_rate": 0.25}
    assert reward.srl_reward.__name__ == "srl_reward"


def test_srl_reward_two_assistant_messages_count_as_two_actions():
    good = completion(TARGET)
    messages = [{"role": "assistant", "content": good}, {"role": "assistant", "content": TARGET}]
    assert reward.srl_reward([messages], target=[TARGET]) == [-1.0]


def test_batch_pool_and_serial_results_are_identical(actions: list[str]):
    rng = random.Random(11)
    n = reward.PARALLEL_MIN_PAIRS * 2 + 17
    targets = [rng.choice(actions) for _ in range(n)]
    students = [rng.choice(actions) for _ in range(n)]
    texts = [completion(s) if k % 5 else s for k, s in enumerate(students)]  # every 5th breaks the format
    serial = reward.batch_step_rewards(texts, targets, processes=1)
    pooled = reward.batch_step_rewards(texts, targets, processes=2)
    assert 2 in reward._POOLS, "a batch this size should have gone to the 2-process pool"
    assert pooled == serial
    assert serial == [reward.step_reward(t, g) for t, g in zip(texts, targets, strict=True)]
    assert serial.count(-1.0) >= n // 5


def test_batch_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 completions but 1 expert actions"):
        reward.batch_step_rewards(["a", "b"], ["a"])


# The long run is `make fuzz` (pytest -m fuzz); the default run deselects the `fuzz` marker.
FUZZ_EXAMPLES = int(os.environ.get("SWE_SRL_FUZZ_EXAMPLES", "2000"))


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(a=_STRINGS, b=_STRINGS)
def test_parity_fuzz(a: str, b: str):
    assert seqmatch().matching_blocks(a, b) == reference_blocks(a, b)
