"""Plain text, Markdown and HTML become sections; tidy() normalises what every reader yields."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest import HTML, MARKDOWN, NDJSON, PLAIN, NoText, UnsupportedType, extract_sections
from ingest.sections import SECTION_TARGET
from ingest.tidy import tidy


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def sections(path: Path, media_type: str) -> list:
    return list(extract_sections(path, media_type))


def test_tidy() -> None:
    raw = "  exam-\nple  of\u00a0\ufb01ne   text\r\n\r\n\r\n\r\nNew-\nYork e\u0301 \x00x\u00adyz "
    assert tidy(raw) == "example of fine text\n\nNew-\nYork \u00e9 xyz"


def test_plain_text_keeps_paragraphs(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "First   paragraph\nline two.\n\n\n\nSecond paragraph.\n")
    [section] = sections(path, PLAIN)
    assert section.text == "First paragraph\nline two.\n\nSecond paragraph."
    assert section.page is None and section.heading is None


def test_long_text_is_cut_into_bounded_sections_at_paragraphs(tmp_path: Path) -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 60 for n in range(1000)]
    path = write(tmp_path, "long.txt", "\n\n".join(paragraphs))
    found = sections(path, PLAIN)
    assert len(found) > 10
    assert all(len(s.text) < 2 * SECTION_TARGET for s in found)
    assert [p.strip() for s in found for p in s.text.split("\n\n")] == [p.strip() for p in paragraphs]


def test_a_huge_single_line_is_bounded_and_no_word_is_cut(tmp_path: Path) -> None:
    words = [f"w{n}" for n in range(100_000)]
    found = sections(write(tmp_path, "line.txt", " ".join(words)), PLAIN)
    assert len(found) > 1 and all(len(s.text) <= 5 * SECTION_TARGET for s in found)
    assert " ".join(s.text.replace("\n", " ") for s in found).split() == words


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeffBOM text caf\u00e9".encode(), "BOM text caf\u00e9"),
        ("caf\u00e9 \u201cquoted\u201d \u20ac5".encode("cp1252"), "caf\u00e9 \u201cquoted\u201d \u20ac5"),
        (b"byte \x81 undefined in cp1252 \xe9", "byte undefined in cp1252 \u00e9"),
        ("wide text".encode("utf-16"), "wide text"),
    ],
)
def test_text_encodings(tmp_path: Path, data: bytes, expected: str) -> None:
    [section] = sections(write(tmp_path, "enc.txt", data), PLAIN)
    assert section.text == expected


def test_markdown_headings_head_the_text_below(tmp_path: Path) -> None:
    source = (
        "Preamble.\n\n# Title with [a link](http://x)\n\nIntro paragraph\ncontinues.\n\n"
        "Setext Heading\n==============\n\nUnder setext.\n\n```python\n# not a heading\n```\n\n"
        "## Sub ##\nUnder sub ![a diagram](d.png).\n\n---\n\nOther\n-----\nLast."
    )
    found = sections(write(tmp_path, "doc.md", source), MARKDOWN)
    assert [(s.heading, s.text) for s in found] == [
        (None, "Preamble."),
        ("Title with a link", "Intro paragraph\ncontinues."),
        ("Setext Heading", "Under setext.\n\n# not a heading"),
        ("Sub", "Under sub a diagram."),
        ("Other", "Last."),
    ]


def test_html_drops_scripts_and_keeps_structure(tmp_path: Path) -> None:
    source = (
        "<!DOCTYPE html><html><head><title>Page &amp; Title</title>"
        "<style>p { color: red }</style><script>var secret = 'SCRIPT';</script></head><body>"
        "<noscript>NOSCRIPT</noscript><template><p>TEMPLATE</p></template>"
        "<p>Caf&eacute; &lt;tags&gt; with <b>bold</b>\n   text.</p><p>Second.<br>Line two</p>"
        "<h1>First <em>Heading</em></h1><div>Under h1</div><svg><text>SVG</text></svg>"
        "<h2>Sub</h2><ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "</body></html>"
    )
    found = sections(write(tmp_path, "page.html", source), HTML)
    assert [(s.heading, s.text) for s in found] == [
        ("Page & Title", "Caf\u00e9 <tags> with bold text.\n\nSecond.\nLine two"),
        ("First Heading", "Under h1"),
        ("Sub", "one\n\ntwo\n\na\nb"),
    ]
    joined = " ".join(s.text for s in found)
    for hidden in ("SCRIPT", "color", "NOSCRIPT", "TEMPLATE", "SVG"):
        assert hidden not in joined


def test_html_unclosed_tags_do_not_lose_text(tmp_path: Path) -> None:
    found = sections(write(tmp_path, "broken.html", "<p>one<p>two<h2>dangling heading"), HTML)
    assert " ".join(s.text for s in found).split() == ["one", "two", "dangling", "heading"]


def test_html_without_visible_text(tmp_path: Path) -> None:
    path = write(tmp_path, "app.html", "<html><head><script>render()</script></head><body></body></html>")
    with pytest.raises(NoText, match="JavaScript"):
        sections(path, HTML)


def test_errors_name_the_uploaded_file_not_the_temporary_path(tmp_path: Path) -> None:
    path = write(tmp_path, "tmp8f3k2", "<script>only()</script>")
    with pytest.raises(NoText, match="^report.html: "):
        list(extract_sections(path, HTML, name="report.html"))
    with pytest.raises(UnsupportedType, match="^notes.jsonl: "):
        extract_sections(path, NDJSON, name="notes.jsonl")


def test_extract_sections_refuses_json_lines_and_unknown_types(tmp_path: Path) -> None:
    path = write(tmp_path, "data.jsonl", '{"_id": "1", "text": "a"}\n')
    with pytest.raises(UnsupportedType, match="iter_records"):
        extract_sections(path, NDJSON)
    with pytest.raises(UnsupportedType, match="'image/png' is not supported") as caught:
        extract_sections(path, "image/png")
    assert caught.value.status == 415
