"""Media types come from the bytes; names only break ties between text kinds."""
from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from ingest import (
    HTML,
    MARKDOWN,
    NDJSON,
    PDF,
    PLAIN,
    CorruptFile,
    EmptyFile,
    UnsupportedType,
    sniff,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("doc.bin", b"\x00garbage" * 20 + b"%PDF-1.7\n", PDF),
        ("page.txt", "<!DOCTYPE html><html><body><p>Hi</p></body></html>", HTML),
        ("page", "  <div>fragment</div>", HTML),
        ("page.html", "Hello <b>world</b>", HTML),
        ("notes.txt", "# Title\n\nSome text.", MARKDOWN),
        ("notes.txt", "Title\n=====\n\nSome text.", MARKDOWN),
        ("notes.txt", "See [the docs](http://example.com).", MARKDOWN),
        ("notes.txt", "- one\n- two\n", MARKDOWN),
        ("notes.md", "Just a sentence.", MARKDOWN),
        ("notes.txt", "Just a sentence. 3 < 4 and 5 > 2.", PLAIN),
        ("data.jsonl", '{"_id": "1", "text": "a"}\n\n{"_id": "2", "text": "b"}\n', NDJSON),
        ("data.txt", '{"_id": "1", "text": "a"}\n', NDJSON),
        ("list.txt", '{"_id": "1"}\n[1, 2]\n', PLAIN),
        ("cafe.txt", "caf\u00e9 na\u00efve \u2014 \u201cquoted\u201d".encode("cp1252"), PLAIN),
        ("bom.txt", "\ufeff# Heading".encode(), MARKDOWN),
        ("utf16.txt", "plain words".encode("utf-16"), PLAIN),
    ],
)
def test_sniff_text_kinds(tmp_path: Path, name: str, data: bytes | str, expected: str) -> None:
    assert sniff(write(tmp_path, name, data)) == expected


def test_pdf_magic_must_be_in_the_first_kilobyte(tmp_path: Path) -> None:
    path = write(tmp_path, "late.bin", b"x" * 2000 + b"%PDF-1.4")
    assert sniff(path) == PLAIN


def test_name_argument_overrides_the_path(tmp_path: Path) -> None:
    path = write(tmp_path, "upload-1234", "Just text.")
    assert sniff(path, name="readme.md") == MARKDOWN
    with pytest.raises(CorruptFile, match="claims to be a PDF but is not .* looks like text"):
        sniff(path, name="report.pdf")


@pytest.mark.parametrize(("name", "looks_like"), [("fake.pdf", "a PNG image"), ("random-bytes.pdf", "binary data")])
def test_shared_files_named_pdf_that_are_not(pdf_dir: Path, name: str, looks_like: str) -> None:
    with pytest.raises(CorruptFile) as caught:
        sniff(pdf_dir / name)
    assert caught.value.status == 422
    assert "claims to be a PDF but is not" in caught.value.message and looks_like in caught.value.message


def test_every_real_pdf_sniffs_as_pdf(pdf_dir: Path) -> None:
    for path in pdf_dir.glob("*.pdf"):
        if path.name not in {"fake.pdf", "random-bytes.pdf", "empty.pdf"}:
            assert sniff(path) == PDF, path.name


def test_empty_files(tmp_path: Path, pdf_dir: Path) -> None:
    with pytest.raises(EmptyFile, match="empty"):
        sniff(pdf_dir / "empty.pdf")
    with pytest.raises(EmptyFile, match="whitespace"):
        sniff(write(tmp_path, "blank.txt", " \n\t\n"))


@pytest.mark.parametrize(
    ("name", "data", "looks_like"),
    [
        ("smile.png", PNG, "a PNG image"),
        ("photo", b"\xff\xd8\xff\xe0" + bytes(100), "a JPEG image"),
        ("report.docx", b"PK\x03\x04" + bytes(100), "ZIP archive"),
        ("noise.txt", random.Random(7).randbytes(4096), "binary data"),
        ("nul.txt", b"text with a \x00 NUL byte", "binary data"),
    ],
)
def test_binary_content_is_unsupported(tmp_path: Path, name: str, data: bytes, looks_like: str) -> None:
    with pytest.raises(UnsupportedType) as caught:
        sniff(write(tmp_path, name, data))
    assert caught.value.status == 415 and looks_like in caught.value.message and name in caught.value.message


def test_a_few_bad_bytes_in_utf8_are_tolerated(tmp_path: Path) -> None:
    data = ("Plain words here. " * 300).encode() + b"\xff" + ("more words " * 50).encode()
    assert sniff(write(tmp_path, "mostly.txt", data)) == PLAIN


def test_jsonl_cut_off_inside_the_sample(tmp_path: Path) -> None:
    lines = "".join(f'{{"_id": "{n}", "text": "{"word " * 30}"}}\n' for n in range(200))
    assert sniff(write(tmp_path, "big.jsonl", lines)) == NDJSON


def test_gzip_json_lines(tmp_path: Path, shared_data: Path) -> None:
    assert sniff(shared_data / "beir" / "scifact" / "corpus.jsonl.gz") == NDJSON
    path = write(tmp_path, "corpus.gz", gzip.compress(b'{"id": "a", "text": "t"}\n'))
    assert sniff(path) == NDJSON


def test_gzip_of_anything_else_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedType, match="gzip-compressed text .* only accepted when it holds JSON lines"):
        sniff(write(tmp_path, "notes.txt.gz", gzip.compress(b"just some text\n")))


def test_broken_gzip_is_corrupt(tmp_path: Path) -> None:
    with pytest.raises(CorruptFile, match="damaged gzip"):
        sniff(write(tmp_path, "bad.jsonl.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 64))
