"""The command line, run as the user runs it: ``python server.py ingest|search`` in a subprocess.

ingest: folders walked with --pattern, progress (plain lines off a terminal, one redrawn line on
one), resuming without redoing finished files, the closing summary of failures and their reasons,
the exit status. search: a valid TREC run and the --stats JSON. And one DATA_DIR format for
everything: the server finds what the command line ingested, and the other way round.
"""
from __future__ import annotations

import csv
import gzip
import json
import os
import pty
import random
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
PROGRESS = re.compile(r"^\d+ files, \d+ documents, \d+ already there, \d+ pages, [\d.]+ MB, \d+ docs/s,"
                      r" \d+ failed, RSS \d+ MB$")
SUMMARY = re.compile(r"^ingested (\d+) documents from (\d+) files \((\d+) already there\), (\d+) failed$", re.M)


def environment() -> dict[str, str]:
    """The test's environment without settings (DATA_DIR, READ_ONLY, ...) that would change the outcome."""
    from rag.settings import Settings

    return {k: v for k, v in os.environ.items() if k not in Settings._fields} | {"PYTHONUNBUFFERED": "1"}


@dataclass
class Run:
    returncode: int
    out: str  # stdout and stderr together, as a user sees them
    seconds: float

    def summary(self) -> tuple[int, int, int, int]:
        """(documents, files, already there, failed) from the closing line."""
        found = SUMMARY.findall(self.out)
        assert len(found) == 1, self.out
        return tuple(int(n) for n in found[0])

    def failures(self) -> dict[str, str]:
        """{file name: reason} from the summary's FAILED lines."""
        return {Path(m[0]).name: m[1] for m in re.findall(r"^  FAILED (.+?): (.+)$", self.out, re.M)}


def cli(*args: str | Path, timeout: float = 300) -> Run:
    started = time.monotonic()
    done = subprocess.run([PYTHON, "server.py", *map(str, args)], cwd=REPO, env=environment(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return Run(done.returncode, done.stdout, time.monotonic() - started)


def on_a_terminal(*args: str | Path, timeout: float = 120) -> Run:
    """Run with stdout and stderr on a pseudo-terminal; the raw bytes it wrote."""
    leader, follower = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen([PYTHON, "server.py", *map(str, args)], cwd=REPO, env=environment(),
                               stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    process.wait(timeout=timeout)
    return Run(process.returncode, b"".join(chunks).decode(), time.monotonic() - started)


def screen(raw: str) -> list[str]:
    """What a terminal shows after ``raw``: carriage returns, erase-line and newlines applied."""
    lines, line, col = [], "", 0
    for token in re.findall(r"\x1b\[K|\r\n|\r|\n|[^\r\n\x1b]+|\x1b", raw):
        if token == "\x1b[K":
            line = line[:col]
        elif token in ("\n", "\r\n"):
            lines.append(line)
            line, col = "", 0
        elif token == "\r":
            col = 0
        else:
            line = line[:col] + token + line[col + len(token):]
            col += len(token)
    return lines + ([line] if line else [])


def stored(data_dir: Path) -> list[tuple]:
    """(name, source_id, media_type) of each stored document, in the order they were added."""
    with sqlite3.connect(data_dir / "store.sqlite3") as db:
        return db.execute("SELECT name, source_id, media_type FROM documents ORDER BY id").fetchall()


def write_corpus(path: Path, records: list[dict]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(r) + "\n" for r in records)
    return path


def synthetic_records(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    words = [f"w{i:03d}" for i in range(400)]
    return [{"_id": f"doc{i}", "title": f"Title {i}", "text": " ".join(rng.choices(words, k=60))} for i in range(n)]


# --- ingest: folders and --pattern -----------------------------------------------------------------

@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "top.md").write_text("# Top\n\nMarkdown at the top about heliotropes.\n")
    (root / "sub" / "middle.md").write_text("# Middle\n\nMarkdown in a subfolder about marmosets.\n")
    (root / "sub" / "deeper" / "bottom.md").write_text("# Bottom\n\nMarkdown two levels down about quasars.\n")
    (root / "notes.txt").write_text("Plain text about zeppelins.\n")
    (root / "sub" / "other.txt").write_text("More plain text about walruses.\n")
    return root


def test_ingest_walks_folders_recursively_and_takes_only_files_matching_pattern(tree, tmp_path):
    data = tmp_path / "data"
    run = cli("ingest", "--data-dir", data, "--pattern", "*.md", tree)
    assert run.returncode == 0, run.out
    assert run.summary() == (3, 3, 0, 0)
    assert sorted(name for name, _, _ in stored(data)) == ["bottom.md", "middle.md", "top.md"]

    # the default pattern takes everything; files named on the command line are taken whatever their name
    run = cli("ingest", "--data-dir", data, tree, "--pattern", "*.none")
    assert run.summary() == (0, 0, 0, 0) and run.returncode == 0
    run = cli("ingest", "--data-dir", data, "--pattern", "*.none", tree / "notes.txt")
    assert run.summary() == (1, 1, 0, 0)
    run = cli("ingest", "--data-dir", data, tree)
    assert run.returncode == 0 and run.summary() == (1, 5, 4, 0), run.out
    assert len(stored(data)) == 5


def test_ingest_off_a_terminal_prints_plain_progress_lines(tree, tmp_path):
    run = cli("ingest", "--data-dir", tmp_path / "data", tree, tree / "missing.txt")
    assert "\r" not in run.out and "\x1b" not in run.out
    progress = [line for line in run.out.splitlines() if line[:1].isdigit()]
    assert progress and all(PROGRESS.match(line) for line in progress), run.out
    assert progress[-1].startswith("6 files, 5 documents, 0 already there, 0 pages,") and " 1 failed," in progress[-1]
    assert run.out.splitlines()[-3:-1] == [progress[-1], "ingested 5 documents from 6 files (0 already there), 1 failed"]
    assert re.search(r"^failed: .*missing\.txt: ", run.out, re.M)


def test_ingest_on_a_terminal_redraws_one_progress_line(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", synthetic_records(12000))
    (tmp_path / "empty.md").write_bytes(b"")
    run = on_a_terminal("ingest", "--data-dir", tmp_path / "data", corpus, tmp_path / "empty.md")
    assert run.returncode == 1, run.out
    redraws = run.out.count("\r\x1b[K")
    assert redraws >= 3, f"expected the line redrawn several times in {run.seconds:.1f} s: {run.out!r}"
    # between redraws no new line is started: the count grows in place
    drawn = [part.split("\r")[0] for part in run.out.split("\r\x1b[K")[1:]]
    counts = [int(m.group(1)) for m in map(re.compile(r"^\d+ files, (\d+) documents").match, drawn) if m]
    assert counts == sorted(counts) and counts[-1] == 12000 and len(set(counts)) >= 2, drawn
    # what stays on the screen: the failure on a line of its own, one progress line, the summary
    shown = screen(run.out)
    assert shown[0].startswith("failed: ") and "empty.md" in shown[0], shown
    assert PROGRESS.match(shown[1]) and shown[1].startswith("2 files, 12000 documents"), shown
    assert shown[2] == "ingested 12000 documents from 2 files (0 already there), 1 failed", shown
    assert shown[3].startswith("  FAILED ") and len(shown) == 4, shown


# --- ingest: resuming, failures, exit status (the shared PDFs) -------------------------------------

@dataclass
class PdfIngest:
    data: Path
    first: Run
    second: Run


@pytest.fixture(scope="module")
def pdf_ingest(pdf_dir, tmp_path_factory) -> PdfIngest:
    data = tmp_path_factory.mktemp("pdfs") / "data"
    first = cli("ingest", "--data-dir", data, "--pattern", "*.pdf", pdf_dir)
    second = cli("ingest", "--data-dir", data, "--pattern", "*.pdf", pdf_dir)
    return PdfIngest(data, first, second)


@pytest.fixture(scope="module")
def manifest(pdf_dir) -> dict[str, dict]:
    with open(pdf_dir / "manifest.tsv", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


def unreadable(row: dict) -> bool:
    """From the manifest (not from us): a file with no text pypdf can get at without a password."""
    chars = re.search(r"pypdf_chars=(\d+)", row["note"])
    opens = row["kind"] != "encrypted" or "pypdf-decrypt:''" in row["note"]
    return row["kind"] in ("image-only", "not-pdf") or not opens or not chars or int(chars.group(1)) == 0


def test_ingest_ends_with_a_summary_of_failures_and_their_reasons(pdf_ingest, manifest):
    run = pdf_ingest.first
    expected = {name for name, row in manifest.items() if unreadable(row)}
    documents, files, already, failed = run.summary()
    assert (files, already, failed) == (len(manifest), 0, len(expected)), run.out
    assert documents == len(manifest) - len(expected) == len(stored(pdf_ingest.data))
    failures = run.failures()
    assert set(failures) == expected
    reasons = {"encrypted": "password", "image-only": "no extractable text", "not-pdf": "not",
               "corrupt": "damaged|empty"}
    for name, reason in failures.items():
        assert reason.startswith(name + ": "), reason  # names the file, then says why
        assert re.search(reasons[manifest[name]["kind"]], reason), (name, reason)
    # the summary comes last, after the last progress line
    tail = run.out.splitlines()[-(len(expected) + 2):]
    assert PROGRESS.match(tail[0]) and SUMMARY.match(tail[1]) and all(t.startswith("  FAILED ") for t in tail[2:])


def test_ingest_exits_non_zero_if_any_file_failed_and_zero_otherwise(pdf_ingest, pdf_dir, tmp_path):
    assert pdf_ingest.first.returncode == 1 and pdf_ingest.second.returncode == 1
    good = cli("ingest", "--data-dir", tmp_path / "data", pdf_dir / "crazyones.pdf", pdf_dir / "multicolumn.pdf")
    assert good.returncode == 0 and good.summary() == (2, 2, 0, 0), good.out
    one_bad = cli("ingest", "--data-dir", tmp_path / "data", pdf_dir / "crazyones.pdf", pdf_dir / "fake.pdf")
    assert one_bad.returncode == 1 and one_bad.summary() == (0, 2, 1, 1), one_bad.out
    missing = cli("ingest", "--data-dir", tmp_path / "data", tmp_path / "no-such-file.txt")
    assert missing.returncode == 1 and "no-such-file.txt" in missing.failures()
    (tmp_path / "a-file").write_text("not a directory")
    unusable = cli("ingest", "--data-dir", tmp_path / "a-file", pdf_dir / "crazyones.pdf")
    assert unusable.returncode == 2 and unusable.out.startswith("error: ") and "Traceback" not in unusable.out


def test_ingest_again_skips_finished_files_reports_them_as_already_there_and_is_fast(pdf_ingest, manifest):
    first, second = pdf_ingest.first, pdf_ingest.second
    documents = first.summary()[0]
    assert second.summary() == (0, len(manifest), documents, first.summary()[3]), second.out
    assert set(second.failures()) == set(first.failures())  # failed files are tried again, and fail again
    assert len(stored(pdf_ingest.data)) == documents
    assert second.seconds < first.seconds / 2, (first.seconds, second.seconds)


def test_ingest_again_skips_corpus_records_already_stored(tmp_path):
    records = synthetic_records(600)
    corpus = write_corpus(tmp_path / "corpus.jsonl.gz", records[:400])
    data = tmp_path / "data"
    assert cli("ingest", "--data-dir", data, corpus).summary() == (400, 1, 0, 0)
    again = cli("ingest", "--data-dir", data, corpus)
    assert again.returncode == 0 and again.summary() == (0, 1, 400, 0), again.out
    assert "0 documents, 400 already there" in again.out
    write_corpus(corpus, records)  # the corpus grew: only the new records are added
    grown = cli("ingest", "--data-dir", data, corpus)
    assert grown.summary() == (200, 1, 400, 0), grown.out
    assert [source for _, source, _ in stored(data)] == [r["_id"] for r in records]


# --- search: TREC run and stats --------------------------------------------------------------------

@pytest.fixture(scope="module")
def scifact_data(shared_data, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("scifact") / "data"
    run = cli("ingest", "--data-dir", data, shared_data / "beir" / "scifact" / "corpus.jsonl.gz")
    assert run.returncode == 0 and run.summary() == (5183, 1, 0, 0), run.out
    return data


def test_search_writes_a_valid_trec_run_and_stats(scifact_data, shared_data, tmp_path):
    scifact = shared_data / "beir" / "scifact"
    run_file, stats_file = tmp_path / "run.trec", tmp_path / "stats.json"
    run = cli("search", "--data-dir", scifact_data, "--queries", scifact / "queries.jsonl", "--top-k", "100",
              "--run", run_file, "--stats", stats_file, "--tag", "mytag")
    assert run.returncode == 0, run.out
    with gzip.open(scifact / "corpus.jsonl.gz", "rt") as handle:
        corpus_ids = {json.loads(line)["_id"] for line in handle}
    with open(scifact / "queries.jsonl") as handle:
        query_ids = [json.loads(line)["_id"] for line in handle if line.strip()]

    ranked: dict[str, list[tuple[str, int, float]]] = {}
    for line in run_file.read_text().splitlines():
        fields = line.split(" ")
        assert len(fields) == 6, line
        qid, q0, doc, rank, score, tag = fields
        assert q0 == "Q0" and tag == "mytag" and doc in corpus_ids, line
        ranked.setdefault(qid, []).append((doc, int(rank), float(score)))
    assert set(ranked) <= set(query_ids) and len(ranked) >= 0.99 * len(query_ids)
    assert list(ranked) == [q for q in query_ids if q in ranked]  # queries in file order
    for qid, hits in ranked.items():
        assert [r for _, r, _ in hits] == list(range(1, len(hits) + 1)), qid
        scores = [s for _, _, s in hits]
        assert scores == sorted(scores, reverse=True) and scores[-1] > 0, qid
        assert len({d for d, _, _ in hits}) == len(hits) <= 100, qid
    assert sum(len(h) == 100 for h in ranked.values()) >= 0.9 * len(ranked)

    # the ids are the corpus's own: the judged documents are found (BM25 finds ~90% in the top 100)
    with open(scifact / "qrels" / "test.tsv") as handle:
        judged = [line.split("\t")[:2] for line in handle.read().splitlines()[1:]]
    found = sum(doc in {d for d, _, _ in ranked.get(qid, [])} for qid, doc in judged)
    assert found / len(judged) > 0.8

    stats = json.loads(stats_file.read_text())
    assert {"load_s", "latencies_ms", "rss_mb_after_load", "rss_mb_end", "rss_mb_peak"} <= set(stats)
    assert 0 < stats["load_s"] < 60
    assert len(stats["latencies_ms"]) == len(query_ids) and all(x >= 0 for x in stats["latencies_ms"])
    assert 5 < stats["rss_mb_after_load"] <= stats["rss_mb_end"] + 5 and stats["rss_mb_end"] < 1000
    highest = max(stats["rss_mb_end"], stats["rss_mb_after_load"])
    assert stats["rss_mb_peak"] is None or stats["rss_mb_peak"] >= highest - 0.5  # the peak: VmHWM, in pages


def test_search_refuses_a_missing_or_broken_data_dir(tmp_path, shared_data):
    queries = shared_data / "beir" / "scifact" / "queries.jsonl"
    missing = cli("search", "--data-dir", tmp_path / "nowhere", "--queries", queries, "--run", tmp_path / "r")
    assert missing.returncode == 2 and missing.out.startswith("error: ") and not (tmp_path / "nowhere").exists()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "store.sqlite3").write_bytes(b"this is not a database" * 100)
    broken = cli("search", "--data-dir", tmp_path / "broken", "--queries", queries, "--run", tmp_path / "r")
    assert broken.returncode == 2 and broken.out.startswith("error: ") and "Traceback" not in broken.out


def test_search_refuses_missing_or_malformed_queries_and_an_unwritable_run(scifact_data, shared_data, tmp_path):
    queries = shared_data / "beir" / "scifact" / "queries.jsonl"
    (tmp_path / "bad.jsonl").write_text('{"_id": "1", "text": "cells"}\n{"_id": "2"}\n')
    (tmp_path / "null.jsonl").write_text('{"_id": "1", "text": "cells"}\n\n{"_id": "3", "text": null}\n')
    cases = [(tmp_path / "none.jsonl", tmp_path / "r", "none.jsonl"),
             (tmp_path / "bad.jsonl", tmp_path / "r", "line 2"), (tmp_path / "null.jsonl", tmp_path / "r", "line 3"),
             (queries, tmp_path / "no-dir" / "r", "no-dir")]
    for queries_path, run_path, named in cases:
        run = cli("search", "--data-dir", scifact_data, "--queries", queries_path, "--run", run_path)
        assert run.returncode == 2 and run.out.startswith("error: ") and named in run.out, run.out
        assert "Traceback" not in run.out and not (tmp_path / "r").exists()


# --- one DATA_DIR format for the command line and the server ---------------------------------------

def test_the_server_finds_what_the_cli_ingested_and_the_cli_finds_what_the_server_took(tree, tmp_path):
    from starlette.testclient import TestClient

    from rag.settings import Settings
    from server import create_app

    data = tmp_path / "data"
    corpus = write_corpus(tmp_path / "corpus.jsonl", [
        {"_id": "c1", "title": "Axolotl regeneration", "text": "Axolotls regrow limbs after amputation."},
        {"_id": "c2", "title": "Tardigrade survival", "text": "Tardigrades survive desiccation for decades."}])
    assert cli("ingest", "--data-dir", data, corpus, tree / "top.md").returncode == 0

    with TestClient(create_app(Settings(DATA_DIR=str(data)))) as client:
        found = client.post("/search", json={"query": "axolotl limbs", "top_k": 3}).json()["results"]
        assert found[0]["document_name"] == "Axolotl regeneration"
        found = client.post("/search", json={"query": "heliotropes", "top_k": 3}).json()["results"]
        assert found[0]["document_name"] == "top.md"
        note = b"# Uploaded\n\nA note about narwhal tusks, sent through the HTTP API.\n"
        response = client.post("/documents", files={"file": ("narwhal.md", note, "text/markdown")})
        assert response.status_code == 201, response.text
        uid = response.json()["documents"][0]["id"]

    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"_id": "q1", "text": "narwhal tusks"}) + "\n"
                       + json.dumps({"_id": "q2", "text": "tardigrades desiccation"}) + "\n")
    run = cli("search", "--data-dir", data, "--queries", queries, "--top-k", "2", "--run", tmp_path / "run")
    assert run.returncode == 0, run.out
    first = {line.split()[0]: line.split()[2] for line in (tmp_path / "run").read_text().splitlines()
             if line.split()[3] == "1"}
    assert first == {"q1": uid, "q2": "c2"}
    # and the command line sees the upload, and the corpus, as already there
    (tmp_path / "narwhal.md").write_bytes(note)
    again = cli("ingest", "--data-dir", data, tmp_path / "narwhal.md", corpus)
    assert again.returncode == 0 and again.summary() == (0, 2, 3, 0), again.out


def test_documents_the_cli_ingests_while_the_server_runs_are_found_after_a_restart(tmp_path):
    """The server's later saves must not mark an index without the command line's documents as current."""
    from starlette.testclient import TestClient

    from rag.settings import Settings
    from server import create_app

    data, note = tmp_path / "data", tmp_path / "xylophone.md"
    note.write_text("# Xylophones\n\nA note about xylophones, ingested from the command line.\n")
    with TestClient(create_app(Settings(DATA_DIR=str(data)))) as client:
        assert client.post("/documents", files={"file": ("a.md", b"# A\n\nabout bananas\n")}).status_code == 201
        assert cli("ingest", "--data-dir", data, note).returncode == 0  # while the server runs
        assert client.post("/documents", files={"file": ("b.md", b"# B\n\nabout yaks\n")}).status_code == 201
    with TestClient(create_app(Settings(DATA_DIR=str(data)))) as client:  # restarted
        assert client.get("/health").json()["documents"] == 3
        found = client.post("/search", json={"query": "xylophones"}).json()["results"]
        assert [r["document_name"] for r in found] == ["xylophone.md"]


def test_the_name_table_maps_each_document_key_to_its_record_id_and_refuses_unknown_keys():
    from rag.cli import NameTable

    table = NameTable([(1, "doc-a"), (4, ""), (9, "ünïcode id"), (10, "x")])
    assert [table[k] for k in (1, 4, 9, 10)] == ["doc-a", "", "ünïcode id", "x"]
    for missing in (0, 2, 11):
        with pytest.raises(KeyError):
            table[missing]


def test_rss_is_read_without_psutil_and_agrees_with_it():
    """The search command and /health read RSS from /proc where it exists: importing psutil (~4 MB) would
    add to the very figure the memory bar is about."""
    if not Path("/proc/self/statm").exists():
        pytest.skip("no /proc here: psutil is the fallback")
    code = ("import sys; from rag.progress import rss_mb; mb = rss_mb(); assert 'psutil' not in sys.modules;"
            " import psutil; print(mb, psutil.Process().memory_info().rss / 2**20)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    ours, theirs = map(float, out.split())
    assert 5 < ours <= theirs < ours + 8  # psutil's own import comes on top of the first reading
