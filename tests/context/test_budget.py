"""Token counting with a real tokenizer and the trimming policy for prompts over a token limit."""

from __future__ import annotations

import pytest

from swe_srl.context import ContextConfig, TokenCounter, build_messages, trim_messages
from swe_srl.records import Action, Step
from swe_srl.train.tiny_model import train_tokenizer


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    corpus = ["def parse(text):\n    return text.split()\n", "OBSERVATION: Traceback (most recent call last)"]
    return TokenCounter(train_tokenizer(corpus * 20, vocab_size=400))


def _rounds(count: int, length: int) -> list[Step]:
    return [
        Step("", Action("bash", {"command": f"cat file{i}.py"}), f"round {i} " + "word " * length)
        for i in range(count)
    ]


def _prompt(steps: list[Step]) -> list[dict[str, str]]:
    return build_messages("Fix the parser.", steps, ContextConfig(window=None, observation_budget=None))


def test_counts_the_chat_as_the_template_renders_it(counter):
    messages = _prompt(_rounds(2, 10))
    ids = counter.tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
    ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
    assert counter(messages) == len(ids)
    assert counter.text("cat file1.py") == len(
        counter.tokenizer("cat file1.py", add_special_tokens=False)["input_ids"]
    )


def test_a_prompt_within_the_limit_is_left_alone(counter):
    messages = _prompt(_rounds(2, 10))
    out, report = trim_messages(messages, counter(messages) + 5, counter)
    assert out == messages and not report.trimmed and report.fits


def test_oldest_observation_is_shortened_first(counter):
    messages = _prompt(_rounds(3, 300))
    before = counter(messages)
    limit = before - 200
    out, report = trim_messages(messages, limit, counter)
    assert report.fits and report.tokens == counter(out) <= limit and report.tokens_before == before
    assert report.observations_trimmed == 1 and report.rounds_dropped == 0
    assert "characters truncated" in out[3]["content"] and out[3]["content"].startswith("OBSERVATION:\n")
    assert out[5:] == messages[5:]  # the newer rounds are untouched
    assert messages[3]["content"] != out[3]["content"]  # the input was not modified...
    assert "characters truncated" not in messages[3]["content"]  # ...in place


def test_rounds_are_dropped_oldest_first_and_counted_in_the_note(counter):
    messages = _prompt(_rounds(4, 300))
    fixed = counter(messages[:2] + messages[-2:])
    out, report = trim_messages(messages, fixed + 150, counter)
    assert report.fits and report.rounds_dropped >= 1 and report.observations_trimmed >= 1
    kept_rounds = (len(out) - 2) // 2
    assert kept_rounds == 4 - report.rounds_dropped
    assert out[1]["content"].endswith(f"[{report.rounds_dropped} earlier actions not shown]")
    assert out[-2:] == messages[-2:]  # the newest round is kept whole
    assert "round 0 " not in "".join(m["content"] for m in out)


def test_note_of_a_windowed_prompt_keeps_counting(counter):
    steps = _rounds(5, 300)
    messages = build_messages("Fix the parser.", steps, ContextConfig(window=3, observation_budget=None))
    assert messages[1]["content"].endswith("[2 earlier actions not shown]")
    out, report = trim_messages(messages, counter(messages[:2] + messages[-2:]) + 100, counter)
    assert report.rounds_dropped >= 1
    assert out[1]["content"].endswith(f"[{2 + report.rounds_dropped} earlier actions not shown]")


def test_a_prompt_whose_issue_alone_is_too_long_does_not_fit(counter):
    messages = build_messages("word " * 2000, _rounds(2, 50))
    out, report = trim_messages(messages, 100, counter)
    assert not report.fits and report.tokens == counter(out) > 100
    assert report.rounds_dropped == 1 and len(out) == 4  # as short as the policy goes
    assert "characters truncated" in out[-1]["content"]  # the newest observation too, at the end


def test_tokenizer_without_chat_template_counts_texts(counter):
    plain = TokenCounter(train_tokenizer(["abc def"] * 10, vocab_size=300))
    plain.tokenizer.chat_template = None
    plain.has_template = False
    messages = [{"role": "system", "content": "abc"}, {"role": "user", "content": "def abc"}]
    assert plain(messages) == plain.text("abc") + plain.text("def abc") + 8


def test_byte_bound_never_undercounts(counter):
    for rounds, length in ((0, 0), (2, 10), (3, 300)):
        messages = _prompt(_rounds(rounds, length))
        assert counter.byte_bound(messages) >= counter(messages)
    unicode = [{"role": "system", "content": "héllo ✓ 🙂"}, {"role": "user", "content": "naïve"}]
    assert counter.byte_bound(unicode) >= counter(unicode)
