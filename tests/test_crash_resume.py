"""The product promise, tested with real processes and real SIGKILLs:

    A SIGKILL at any moment during ingestion leaves store and index consistent;
    re-running the same ingest finishes the job.

``server.py ingest`` runs as a subprocess and is killed with SIGKILL after seeded random delays
(between 0.3 s and the duration of a clean ingest of the same input) three times over; after
every kill the data directory is checked as the kill left it, then the same ingest is re-run to
completion and the result is compared with a clean ingest in another directory: the same
documents, the same chunks, and (SciFact) the same top-10 with the same scores for every query.
Set CRASH_SEED to replay other kill points.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from rag.library import Library, file_sha256
from rag.settings import Settings
from store import open_store
from store.sqlite import DB_NAME, SNAPSHOT_NAME
from tfidf import load_index

REPO = Path(__file__).resolve().parents[1]
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
SEED = int(os.environ.get("CRASH_SEED", "20240611"))
KILLS = 3
MIN_DELAY = 0.3
STARTUP_S = 0.6  # roughly what a run spends on imports and opening the store before real work


# --- running the command line -------------------------------------------------------------------

def ingest_command(data_dir: Path, *paths: Path | str, pattern: str | None = None) -> list[str]:
    command = [PYTHON, "server.py", "ingest", "--data-dir", str(data_dir)]
    if pattern:
        command += ["--pattern", pattern]
    return command + [str(p) for p in paths]


def environment() -> dict[str, str]:
    """The test's environment minus settings that would change what an ingest makes."""
    return {k: v for k, v in os.environ.items() if k not in Settings._fields} | {"PYTHONUNBUFFERED": "1"}


def run(command: list[str], timeout: float = 300) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, env=environment(), capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - started


@dataclass
class Kill:
    delay: float
    killed: bool  # False: the process had already finished
    returncode: int | None
    children: list[psutil.Process] = field(default_factory=list)  # e.g. the PDF worker at the time of the kill
    output: str = ""


def run_and_kill(command: list[str], delay: float, log: Path) -> Kill:
    """Start ``command``, SIGKILL it after ``delay`` seconds (if it still runs)."""
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=REPO, env=environment(), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + delay
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))
        children, killed = [], False
        if process.poll() is None:
            try:
                children = psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        killed = process.returncode == -signal.SIGKILL
    return Kill(delay, killed, process.returncode, children, log.read_text(errors="replace"))


def assert_children_gone(kill: Kill, within: float = 15.0) -> None:
    """No worker outlives the killed ingest for long (the PDF child notices its parent is gone)."""
    gone, alive = psutil.wait_procs(kill.children, timeout=within)
    for process in alive:  # clean up before failing, so the orphan does not outlive the test run
        process.kill()
    assert not alive, f"worker processes outlived the killed ingest by {within} s: {alive}"


def run_search(data_dir: Path, queries: Path, run_file: Path, top_k: int = 10) -> dict[str, list[tuple[str, str]]]:
    """``server.py search`` for ``queries``; the run as {qid: [(docid, score-as-printed), ...]} in rank order."""
    done, _ = run([PYTHON, "server.py", "search", "--data-dir", str(data_dir), "--queries", str(queries),
                   "--top-k", str(top_k), "--run", str(run_file)])
    assert done.returncode == 0, done.stderr
    ranked: dict[str, list[tuple[str, str]]] = {}
    for line in run_file.read_text().splitlines():
        qid, _, doc, rank, score, _ = line.split()
        ranked.setdefault(qid, []).append((doc, score))
        assert int(rank) == len(ranked[qid])
    return ranked


# --- what is in a data directory -------------------------------------------------------------------

def stored_documents(data_dir: Path) -> list[tuple]:
    """(sha256, source_id, uid, name, chunks) of every document, by sha256."""
    with sqlite3.connect(data_dir / DB_NAME) as db:
        return sorted(db.execute("SELECT sha256, source_id, uid, name, chunks FROM documents"))


def chunks_digest(data_dir: Path) -> str:
    """A digest of every chunk (its document's hash, ordinal, page, heading, offsets, text)."""
    digest = hashlib.sha256()
    with sqlite3.connect(data_dir / DB_NAME) as db:
        rows = db.execute('SELECT d.sha256, c.ordinal, c.page, c.heading, c.start, c."end", c.text'
                          " FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY d.sha256, c.ordinal")
        for row in rows:
            digest.update(repr(row).encode())
    return digest.hexdigest()


def check_consistent(data_dir: Path, scratch: Path) -> int:
    """Check a data directory exactly as a kill left it; the number of documents in it.

    Works on a copy (database, WAL and snapshot as they are) so the next run sees the real thing.
    """
    if not (data_dir / DB_NAME).exists():
        return 0  # killed before the store was created
    copy = scratch / "copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(data_dir, copy)
    with sqlite3.connect(copy / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:  # killed inside the schema transaction: nothing was committed
            assert not {"documents", "chunks"} & tables
            return 0
        generation = int(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        # every document is whole: its chunk count is what the chunks table holds, and at least one
        mismatched = db.execute(
            "SELECT d.uid, d.chunks, COUNT(c.id) FROM documents d LEFT JOIN chunks c ON c.document_id = d.id"
            " GROUP BY d.id HAVING d.chunks != COUNT(c.id) OR COUNT(c.id) = 0").fetchall()
        assert mismatched == [], f"documents with missing chunks: {mismatched[:5]}"
        orphans = db.execute("SELECT COUNT(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)")
        assert orphans.fetchone()[0] == 0
        gaps = db.execute("SELECT d.uid FROM documents d JOIN chunks c ON c.document_id = d.id GROUP BY d.id"
                          " HAVING MIN(c.ordinal) != 0 OR MAX(c.ordinal) != COUNT(*) - 1").fetchall()
        assert gaps == [], f"documents with gaps in their chunks: {gaps[:5]}"
        stored = [tuple(row) for row in db.execute("SELECT id, document_id FROM chunks ORDER BY id")]
        documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    # the snapshot, if any, is whole and never ahead of the store
    snapshot = copy / SNAPSHOT_NAME
    if snapshot.exists():
        index, meta = load_index(snapshot.read_bytes())
        indexed = [(k, g) for k, g, a in zip(index.keys, index.groups, index.alive) if a]
        assert set(indexed) <= set(stored), "the saved index holds chunks the store does not"
        assert meta["generation"] <= generation
        if meta["generation"] == generation:
            assert indexed == stored, "a snapshot tagged as current differs from the store"
    # reopened, the library's index holds exactly the store's chunks, grouped by their documents
    library = Library(open_store(copy), Settings(DATA_DIR=str(copy)))
    try:
        index = library.index
        assert [(k, g) for k, g, a in zip(index.keys, index.groups, index.alive) if a] == stored
        if stored:
            assert library.search("the", 1) is not None  # a search runs (stopwords may give nothing)
    finally:
        library.store.close()
    shutil.rmtree(copy)
    return documents


def kill_three_times(command: list[str], data_dir: Path, clean_s: float, scratch: Path) -> list[Kill]:
    """SIGKILL ``command`` three times, after seeded random delays; check the directory after each.

    The first delay is drawn from [0.3 s, clean_s]; later ones from [0.3 s, what is probably left],
    the clean duration less the work earlier runs got done (their time beyond STARTUP_S), so that
    the kills land before a resumed run, which skips finished files, is over.
    """
    rng = random.Random(f"{SEED}:{command[-1]}")
    kills, left = [], clean_s
    for attempt in range(KILLS):
        delay = rng.uniform(MIN_DELAY, max(left, MIN_DELAY + STARTUP_S))
        kill = run_and_kill(command, delay, scratch / f"kill{attempt}.log")
        left -= max(0.0, delay - STARTUP_S)
        kills.append(kill)
        assert kill.killed or kill.returncode in (0, 1), kill.output
        assert_children_gone(kill)
        check_consistent(data_dir, scratch)
    print(f"kills after {describe(kills)} (clean run {clean_s:.2f}s, CRASH_SEED={SEED})")
    return kills


def describe(kills: list[Kill]) -> str:
    return ", ".join(f"{k.delay:.2f}s{'' if k.killed else ' (finished first)'}" for k in kills)


# --- SciFact: JSON Lines ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def scifact(shared_data: Path) -> Path:
    return shared_data / "beir" / "scifact"


def test_sigkill_three_times_during_a_corpus_ingest_then_resume_matches_a_clean_ingest(scifact, tmp_path):
    corpus, queries = scifact / "corpus.jsonl.gz", scifact / "queries.jsonl"
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    done, clean_s = run(ingest_command(clean, corpus))
    assert done.returncode == 0, done.stderr

    kills = kill_three_times(ingest_command(crashed, corpus), crashed, clean_s, tmp_path)
    assert sum(k.killed for k in kills) >= 2, f"most kills should land before the ingest ends: {describe(kills)}"

    resumed, _ = run(ingest_command(crashed, corpus))
    assert resumed.returncode == 0, resumed.stderr
    assert "0 failed" in resumed.stderr
    # and once more: nothing left to do, nothing added
    again, _ = run(ingest_command(crashed, corpus))
    assert again.returncode == 0 and "ingested 0 documents" in again.stderr, again.stderr

    assert check_consistent(crashed, tmp_path) == 5183
    assert stored_documents(crashed) == stored_documents(clean), describe(kills)
    assert chunks_digest(crashed) == chunks_digest(clean)
    expected = run_search(clean, queries, tmp_path / "clean.run")
    got = run_search(crashed, queries, tmp_path / "crashed.run")
    assert len(expected) == 300
    different = [qid for qid in expected if got.get(qid) != expected[qid]]
    assert not different, f"top-10 differs for {len(different)} queries, e.g. {different[:3]} (kills at {describe(kills)})"


def test_sigkill_while_the_index_snapshot_is_written(scifact, tmp_path):
    """Aimed at the one moment a random kill rarely hits: the snapshot's write and rename."""
    corpus, data_dir = scifact / "corpus.jsonl.gz", tmp_path / "data"
    command = ingest_command(data_dir, corpus)
    with open(tmp_path / "ingest.log", "w") as out:
        process = subprocess.Popen(command, cwd=REPO, env=environment(), stdout=out, stderr=subprocess.STDOUT)
        seen = None
        while process.poll() is None and seen is None:
            if data_dir.is_dir():
                with os.scandir(data_dir) as entries:
                    # the first snapshot (written on open, empty) is tiny; wait for the one after the records
                    seen = next((e.name for e in entries if e.name.startswith("index.tmp")
                                 and (data_dir / DB_NAME).stat().st_size > 1 << 20), None)
            time.sleep(0.0005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    if process.returncode != -signal.SIGKILL:
        pytest.skip("the snapshot was written before the kill could land (machine too fast or too busy)")
    assert check_consistent(data_dir, tmp_path) == 5183  # every record had been committed

    resumed, _ = run(command)
    assert resumed.returncode == 0, resumed.stderr
    assert check_consistent(data_dir, tmp_path) == 5183
    stray = sorted(p.name for p in data_dir.iterdir() if p.name.startswith("index.tmp"))
    print(f"killed while {seen} was being written; left over after the resume: {stray}")
    assert stray == [], "the killed writer's temporary snapshot (snapshot-sized) is never removed"


# --- PDFs: a folder, a parser child process, failures ----------------------------------------------

def readable_pdfs(pdf_dir: Path) -> dict[str, str]:
    """{file name: sha256} of the shared PDFs that hold extractable text, from manifest.tsv (not from us)."""
    readable = {}
    with open(pdf_dir / "manifest.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            note, chars = row["note"], 0
            for part in note.split(";"):
                if part.strip().startswith("pypdf_chars="):
                    chars = int(part.split("=")[1])
            opens = row["kind"] != "encrypted" or "pypdf-decrypt:''" in note
            if row["kind"] in ("text", "other", "encrypted", "corrupt") and opens and chars > 0:
                readable[row["file"]] = file_sha256(pdf_dir / row["file"])[0]
    return readable


def test_sigkill_three_times_during_a_pdf_folder_ingest_then_resume_has_every_readable_pdf_once(pdf_dir, tmp_path):
    readable = readable_pdfs(pdf_dir)
    assert len(readable) >= 12
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    done, clean_s = run(ingest_command(clean, pdf_dir, pattern="*.pdf"))
    assert done.returncode == 1, done.stderr  # some shared PDFs cannot be read

    kills = kill_three_times(ingest_command(crashed, pdf_dir, pattern="*.pdf"), crashed, clean_s, tmp_path)
    assert sum(k.killed for k in kills) >= 2, f"most kills should land before the ingest ends: {describe(kills)}"

    resumed, _ = run(ingest_command(crashed, pdf_dir, pattern="*.pdf"))
    assert resumed.returncode == 1, resumed.stderr
    assert check_consistent(crashed, tmp_path) == len(readable)
    documents = stored_documents(crashed)
    assert sorted((sha, name) for sha, _, _, name, _ in documents) == sorted((s, n) for n, s in readable.items())
    assert documents == stored_documents(clean)
    assert chunks_digest(crashed) == chunks_digest(clean)

    # the index answers for every one of them: a passage of its own text finds it among the first three
    queries, expected = tmp_path / "queries.jsonl", {}
    with sqlite3.connect(crashed / DB_NAME) as db, open(queries, "w") as out:
        for uid, name, text in db.execute(
                "SELECT d.uid, d.name, c.text FROM documents d JOIN chunks c ON c.document_id = d.id"
                " WHERE c.ordinal = d.chunks / 2"):
            words = text.split()
            middle = len(words) // 2
            out.write(json.dumps({"_id": uid, "text": " ".join(words[max(0, middle - 20):middle + 20])}) + "\n")
            expected[uid] = name
    ranked = run_search(crashed, queries, tmp_path / "pdfs.run", top_k=3)
    missing = {expected[uid]: ranked.get(uid) for uid in expected if uid not in [d for d, _ in ranked.get(uid, [])]}
    assert not missing, f"not found by a passage of their own text: {missing}"
