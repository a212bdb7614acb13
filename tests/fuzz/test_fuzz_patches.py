"""Patch handling on garbage patches: unidiff checks, the grader's binary check and ``git apply``
in a real sandbox. Only typed errors may escape, and a refused patch leaves the tree untouched.
"""

from __future__ import annotations

import contextlib

import pytest
from fuzzing import EXAMPLE_COUNTS, run_fuzz
from hypothesis import strategies as st
from sandbox_cases import SETUP_PATCH, make_tiny_task

from swe_srl.eval.grader import apply_model_patch, binary_patch_reason
from swe_srl.records import SweSrlError
from swe_srl.sandbox import make_sandbox
from swe_srl.tasks.schema import RowRef, check_patch

FIX = SETUP_PATCH.replace("-    return a + b\n+    return a - b", "-    return a - b\n+    return a + b")
NEW_FILE = (
    "diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hi\n"
)
LINES = [
    "diff --git a/calc/ops.py b/calc/ops.py", "--- a/calc/ops.py", "+++ b/calc/ops.py", "--- /dev/null",
    "+++ b/../../etc/evil", "+++ b//etc/evil", "@@ -1,2 +1,2 @@", "@@ -0,0 +1 @@", "@@ -1 +1 @@",
    "@@ -99999999999,1 +1 @@", " def add(a, b):", "-    return a - b", "+    return a + b",
    "+x", "-", "+", " ",
    "\\ No newline at end of file", "new file mode 100644", "deleted file mode 100644",
    "new file mode 120000", "rename from calc/ops.py", "rename to ../x", "similarity index 90%",
    "index 0000000..1111111 100644", "GIT binary patch", "literal 5", "Binary files a/x and b/x differ",
    "old mode 100644", "new mode 100755", "",
]  # fmt: skip
STRUCTURED = st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=12)), max_size=25).map("\n".join)


@st.composite
def damaged(draw) -> str:
    text = draw(st.sampled_from([SETUP_PATCH, FIX, NEW_FILE, FIX + NEW_FILE]))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.one_of(st.sampled_from(LINES), st.text(max_size=4)))
            + text[at + draw(st.integers(0, 6)) :]
        )
    return text


PATCHES = st.one_of(st.text(max_size=200), STRUCTURED, damaged())


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_fuzz_patch_checks(examples):
    def check(text: str) -> None:
        assert isinstance(binary_patch_reason(text), str)
        check_patch(text, RowRef("fuzz.jsonl", "line 1"), {"instance_id": "x"}, "patch")

    run_fuzz(PATCHES, check, examples)


@pytest.fixture(scope="module")
def patch_sandbox(tmp_path_factory):
    task = make_tiny_task(tmp_path_factory.mktemp("src"), instance_id="fuzz__patches-1")
    box = make_sandbox("local", task, cache_root=tmp_path_factory.mktemp("cache"))
    yield box
    box.close()


@pytest.mark.parametrize("examples", [pytest.param(60, id="quick"), *EXAMPLE_COUNTS[1:]])
def test_fuzz_git_apply_in_sandbox(examples, patch_sandbox):
    """``apply_model_patch`` answers "" or git's complaint; a refused patch changes nothing."""
    box = patch_sandbox

    def check(text: str) -> None:
        complaint = ""
        with contextlib.suppress(SweSrlError):
            complaint = apply_model_patch(box, text)
            assert isinstance(complaint, str)
            if complaint:
                assert box.diff() == "", (text, complaint)
        box.reset()
        assert box.diff() == ""

    # Each example runs git in the sandbox (~50 ms): the long pass uses a twentieth of the count.
    run_fuzz(PATCHES, check, examples // 20 if examples > 1000 else examples)
