"""Append-only JSON Lines logs: a torn last line is skipped, then cut before the next append."""

from __future__ import annotations

import pytest

from swe_srl.jsonl import append_record, cut_torn_tail, read_records
from swe_srl.records import RecordError


def test_a_last_line_without_its_newline_is_torn_even_when_it_parses(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}')  # the writer died before the newline
    assert read_records(path) == [(1, {"step": 1})]  # a reader and the next append agree on it
    append_record(path, {"step": 3})
    assert path.read_text() == '{"step": 1}\n{"step": 3}\n'


def test_damage_before_the_last_line_names_file_and_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1}\n{"ste\n{"step": 3}\n')
    with pytest.raises(RecordError, match=r"log\.jsonl.*line 2"):
        read_records(path)


def test_cut_torn_tail_leaves_complete_files_alone(tmp_path):
    path = tmp_path / "log.jsonl"
    assert not cut_torn_tail(path) and read_records(path) == []
    path.write_text('{"a": 1}\n')
    assert not cut_torn_tail(path) and path.read_text() == '{"a": 1}\n'
