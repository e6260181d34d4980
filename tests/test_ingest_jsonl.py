"""JSON-lines corpora: ids, optional titles, and bad lines named by number."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ingest import CorruptFile, Record, iter_records


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_ids_titles_and_text(tmp_path: Path) -> None:
    lines = (
        '{"_id": "d1", "title": "One", "text": "first"}\n\n'
        '{"id": "d2", "text": "second", "extra": [1]}\n'
        '{"_id": 7, "title": null, "text": "third"}\n'
    )
    assert list(iter_records(write(tmp_path, "c.jsonl", lines))) == [
        Record("d1", "One", "first"), Record("d2", "", "second"), Record("7", "", "third"),
    ]


def test_gzip_is_detected_by_magic_not_name(tmp_path: Path) -> None:
    path = write(tmp_path, "corpus.data", gzip.compress('{"_id": "x", "text": "caf\u00e9"}\n'.encode()))
    assert list(iter_records(path)) == [Record("x", "", "caf\u00e9")]


def test_real_beir_corpus(shared_data: Path) -> None:
    records = list(iter_records(shared_data / "beir" / "scifact" / "corpus.jsonl.gz"))
    assert len(records) == 5183 and len({r.id for r in records}) == 5183
    assert records[0].id == "4983" and records[0].title.startswith("Microstructural development")
    queries = iter_records(shared_data / "beir" / "scifact" / "queries.jsonl")
    assert next(queries) == Record("1", "", "0-dimensional biomaterials show inductive properties.")


@pytest.mark.parametrize(
    ("third_line", "phrase"),
    [
        ('{"_id": "3", "text": "unterminated', "line 3: not valid JSON"),
        ('["_id", "3"]', "line 3: a JSON list, not an object"),
        ('{"title": "no id", "text": "t"}', "line 3: id None is missing"),
        ('{"_id": ["3"], "text": "t"}', "line 3: id \\['3'\\] is missing or not a string"),
        ('{"_id": "3", "title": "no text"}', 'line 3: no "text" field'),
        ('{"_id": "3", "text": 42}', 'line 3: "text" is int 42, not a string'),
    ],
)
def test_bad_line_is_named(tmp_path: Path, third_line: str, phrase: str) -> None:
    good = '{"_id": "1", "text": "a"}\n{"_id": "2", "text": "b"}\n'
    records = iter_records(write(tmp_path, "c.jsonl", good + third_line + "\n"))
    assert [next(records).id, next(records).id] == ["1", "2"]
    with pytest.raises(CorruptFile, match=f"c.jsonl {phrase}") as caught:
        next(records)
    assert caught.value.status == 422


def test_name_labels_errors(tmp_path: Path) -> None:
    with pytest.raises(CorruptFile, match="^corpus.jsonl line 1: not valid JSON"):
        list(iter_records(write(tmp_path, "upload-tmp", "{oops\n"), name="corpus.jsonl"))


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", b'{"_id": "1", "text": "a"}\n{"_id": "2", "text": "\xff"}\n')
    with pytest.raises(CorruptFile, match="line 2: not UTF-8"):
        list(iter_records(path))


def test_truncated_gzip_is_corrupt(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b'{"_id": "%d", "text": "t"}\n' % n for n in range(5000)))
    with pytest.raises(CorruptFile, match="unreadable"):
        list(iter_records(write(tmp_path, "c.jsonl.gz", data[: len(data) // 2])))
