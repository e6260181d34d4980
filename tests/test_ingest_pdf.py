"""PDF extraction on the shared real-world files, and the worker process's limits."""
from __future__ import annotations

import csv
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from ingest import (
    PDF,
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    IngestError,
    NoText,
    Section,
    TimedOut,
    TooLarge,
    extract_sections,
    sniff,
)
from ingest.pdf import extract_pdf
from ingest.pdf_worker import failure
from ingest.tidy import tidy

LIMIT = 60.0  # generous: the slowest file takes a few seconds; no test can hang past it

# file -> (error class, or a phrase the extracted text must contain)
EXPECTED: dict[str, type[IngestError] | str] = {
    "naacl06-shinyama.pdf": "Preemptive Information Extraction using Unrestricted Relation Discovery",
    "irs-i1040nr-instructions.pdf": "Schedule D (Form 1040)",
    "federal-register-2020-17221.pdf": "This section of the FEDERAL REGISTER",
    "GeoTopo-komprimiert.pdf": "Einführung in die\nGeometrie und Topologie",
    "pdflatex-4-pages.pdf": "Hello, here is some text without a meaning.",
    "multicolumn.pdf": "Two-Column Document with Lorem Ipsum",
    "scotus-transcript-p1.pdf": "IN THE SUPREME COURT OF THE UNITED STATES",
    "crazyones.pdf": "Heres to the crazy ones. The misfits.",
    "lorem-ipsum-2p.pdf": "Consectetur quisquam dolor porro neque.",
    "google-doc-document.pdf": "Beautiful is better than ugly.",
    "habibi-arabic.pdf": "habibi",
    "siege-of-vicksburg-scan-ocr.pdf": "THE SIEGE OF VICKSBURG.",
    "git-logo-image-only.pdf": NoText,
    "grayscale-image.pdf": NoText,
    "scan-175.pdf": NoText,
    "r6-empty-password.pdf": "pdf encryption test",
    "r4-aes-user-password.pdf": EncryptedFile,
    "libreoffice-writer-password.pdf": EncryptedFile,
    "dmca-encrypted-empty-user-pw.pdf": "THE DIGITAL MILLENNIUM COPYRIGHT ACT OF 1998",
    "empty.pdf": EmptyFile,
    "zen_of_python_corrupted.pdf": "Explicit is better than implicit.",
    "bad-xref.pdf": CorruptFile,
    "append-xref-loop.pdf": "Potato 29",
    "unreadablemetadata.pdf": CorruptFile,
    "truncated-nics.pdf": CorruptFile,
    "fake.pdf": CorruptFile,
    "random-bytes.pdf": CorruptFile,
}


Outcome = list[Section] | IngestError


def manifest(pdf_dir: Path) -> dict[str, dict[str, str]]:
    with open(pdf_dir / "manifest.tsv", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


@pytest.fixture(scope="module")
def extracted(pdf_dir: Path) -> Callable[[str], Outcome]:
    """Extract each shared PDF once per module: its sections, or the IngestError it raised."""
    outcomes: dict[str, Outcome] = {}

    def outcome(name: str) -> Outcome:
        if name not in outcomes:
            try:
                outcomes[name] = list(extract_pdf(pdf_dir / name, time_limit=LIMIT))
            except IngestError as exc:
                outcomes[name] = exc
        return outcomes[name]

    return outcome


def text_of(outcome: Outcome) -> str:
    assert isinstance(outcome, list), f"expected text, got {outcome!r}"
    return "\n".join(section.text for section in outcome)


def test_every_manifest_file_has_an_expectation(pdf_dir: Path) -> None:
    assert sorted(manifest(pdf_dir)) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_manifest_file(pdf_dir: Path, extracted: Callable[[str], Outcome], name: str) -> None:
    row, expected, outcome = manifest(pdf_dir)[name], EXPECTED[name], extracted(name)
    if isinstance(expected, str):
        assert expected in text_of(outcome)
        pages = [section.page for section in outcome]
        assert pages == sorted(set(pages)) and pages[0] >= 1 and pages[-1] <= int(row["pages"])
        assert all(section.heading is None and section.text.strip() for section in outcome)
    else:
        assert type(outcome) is expected, outcome
        assert name in outcome.message and outcome.status == 422


def test_kinds_agree_with_the_manifest(pdf_dir: Path) -> None:
    errors_by_kind = {"image-only": {NoText}, "not-pdf": {CorruptFile}, "text": {str}, "other": {str}}
    for name, row in manifest(pdf_dir).items():
        outcome = EXPECTED[name] if isinstance(EXPECTED[name], type) else str
        assert outcome in errors_by_kind.get(row["kind"], {outcome}), name
        if "pypdf-decrypt:''" in row["note"]:
            assert outcome is str, f"{name} opens with the empty password"
        elif "pypdf-decrypt:" in row["note"]:
            assert outcome is EncryptedFile, name


def test_every_page_of_a_long_document_in_order(extracted: Callable[[str], Outcome]) -> None:
    sections = extracted("GeoTopo-komprimiert.pdf")
    assert [section.page for section in sections] == list(range(1, 118))
    assert "Zwischenwertsatz" in sections[-1].text


def test_text_matches_pypdf_ground_truth(pdf_dir: Path, extracted: Callable[[str], Outcome]) -> None:
    truth = (pdf_dir / "groundtruth" / "crazyones.txt").read_text(encoding="utf-8")
    assert text_of(extracted("crazyones.pdf")) == tidy(truth)
    assert "misfits" in tidy(truth) and "\ufb01" in truth  # the ligature is expanded


@pytest.mark.parametrize(
    ("name", "truth", "share"),
    [("scotus-transcript-p1.pdf", "scotus-transcript-p1.txt", 1.0),
     ("multicolumn.pdf", "multicolumn-lorem-ipsum.txt", 0.9)],
)
def test_words_match_layout_ground_truth(
    pdf_dir: Path, extracted: Callable[[str], Outcome], name: str, truth: str, share: float
) -> None:
    expected = Counter(re.findall(r"\w+", (pdf_dir / "groundtruth" / truth).read_text().lower()))
    found = Counter(re.findall(r"\w+", extracted(name)[0].text.lower()))
    assert sum((expected & found).values()) >= share * sum(expected.values())


def test_hyphenated_line_breaks_are_joined(extracted: Callable[[str], Outcome]) -> None:
    text = text_of(extracted("naacl06-shinyama.pdf"))
    assert "Existing IE systems" in text and "without human intervention" in text
    assert "Ex-\nisting" not in text and "  " not in text


def test_arabic_text_comes_through(extracted: Callable[[str], Outcome]) -> None:
    assert "حَبيبي" in text_of(extracted("habibi-arabic.pdf"))


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("scan-175.pdf", "no extractable text — scanned PDFs need OCR, which this server does not do"),
        ("r4-aes-user-password.pdf", "password-protected PDF: remove the password and upload again"),
        ("fake.pdf", "claims to be a PDF but is not"),
        ("random-bytes.pdf", "claims to be a PDF but is not"),
        ("truncated-nics.pdf", "Stream has ended unexpectedly"),
    ],
)
def test_messages_carry_the_fix(extracted: Callable[[str], Outcome], name: str, phrase: str) -> None:
    assert phrase in extracted(name).message


def test_extract_sections_dispatches_pdf(pdf_dir: Path) -> None:
    path = pdf_dir / "crazyones.pdf"
    assert sniff(path) == PDF
    assert "The Crazy Ones" in next(iter(extract_sections(path, PDF, time_limit=LIMIT))).text


def test_errors_name_the_uploaded_file(pdf_dir: Path) -> None:
    with pytest.raises(NoText, match="^Scan of my passport.pdf: no extractable text"):
        list(extract_sections(pdf_dir / "scan-175.pdf", PDF, name="Scan of my passport.pdf"))


def test_importing_ingest_does_not_import_pypdf() -> None:
    code = "import sys, ingest; assert 'pypdf' not in sys.modules, 'pypdf imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_time_limit_kills_a_hung_worker(tmp_path: Path, pdf_dir: Path) -> None:
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    started = time.monotonic()
    with pytest.raises(TimedOut, match="per-document limit"):
        list(extract_pdf(pdf_dir / "crazyones.pdf", time_limit=2.0, worker=[sys.executable, "-c", code]))
    assert time.monotonic() - started < 10
    assert not psutil.pid_exists(int(pid_file.read_text()))


def test_time_limit_stops_the_real_parser(pdf_dir: Path) -> None:
    with pytest.raises(TimedOut):
        list(extract_pdf(pdf_dir / "GeoTopo-komprimiert.pdf", time_limit=0.3))


def test_cpu_limit_stops_the_parser_while_the_caller_is_busy(pdf_dir: Path) -> None:
    """Waiting time stays tiny when the caller is slow, but the parser's CPU time does not."""
    with pytest.raises(TimedOut):
        for _ in extract_pdf(pdf_dir / "GeoTopo-komprimiert.pdf", time_limit=1.0):
            time.sleep(0.1)


def test_worker_dies_of_its_cpu_limit_on_its_own(pdf_dir: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ingest.pdf_worker", "--max-cpu", "1", str(pdf_dir / "GeoTopo-komprimiert.pdf")],
        capture_output=True, cwd=Path(__file__).parents[1], timeout=LIMIT,
    )
    assert run.returncode == -signal.SIGXCPU


def test_pages_stream_before_a_worker_hangs(pdf_dir: Path) -> None:
    code = 'import time; print(\'{"page": 1, "text": "first page"}\', flush=True); time.sleep(60)'
    pages = extract_pdf(pdf_dir / "crazyones.pdf", time_limit=2.0, worker=[sys.executable, "-c", code])
    assert next(pages).text == "first page"
    with pytest.raises(TimedOut):
        next(pages)


def test_abandoning_extraction_kills_the_worker(tmp_path: Path, pdf_dir: Path) -> None:
    pid_file = tmp_path / "pid"
    code = (f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "print('{\"page\": 1, \"text\": \"x\"}', flush=True); time.sleep(60)")
    pages = extract_pdf(pdf_dir / "crazyones.pdf", time_limit=LIMIT, worker=[sys.executable, "-c", code])
    next(pages)
    pages.close()
    assert not psutil.pid_exists(int(pid_file.read_text()))


@pytest.mark.parametrize(
    ("code", "error", "phrase"),
    [("import os; os.abort()", CorruptFile, "stopped without finishing"),
     ("print('not json')", CorruptFile, "garbage"),
     ('print(\'{"error": "too-large", "reason": "MemoryError"}\')', TooLarge, "memory"),
     ('print(\'{"error": "encrypted", "reason": "x"}\')', EncryptedFile, "password"),
     ('print(\'{"end": 3, "failed": 3}\')', CorruptFile, "every page failed")],
)
def test_worker_failures_map_to_errors(pdf_dir: Path, code: str, error: type, phrase: str) -> None:
    with pytest.raises(error, match=phrase):
        list(extract_pdf(pdf_dir / "crazyones.pdf", time_limit=LIMIT, worker=[sys.executable, "-c", code]))


def test_too_large_answers_413() -> None:
    assert failure(MemoryError())["error"] == "too-large" and TooLarge("x").status == 413


def test_worker_output_is_json_lines_and_quiet(pdf_dir: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ingest.pdf_worker", str(pdf_dir / "append-xref-loop.pdf")],
        capture_output=True, text=True, cwd=Path(__file__).parents[1], timeout=LIMIT,
    )
    lines = run.stdout.splitlines()
    assert len(lines) == 31 and lines[-1] == '{"end": 30, "failed": 0}'
    assert run.stderr == ""  # pypdf's "Object N 0 found" warnings are silenced
