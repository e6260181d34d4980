"""Index build speed: documents per second, in memory and end to end, for each BEIR collection.

    .venv/bin/python bench/build_speed.py [--collections scifact,nfcorpus] [--repeat 5] [--data DIR]

For each collection (every folder of ``--data``, default ``../shared/data/beir``, with a
``corpus.jsonl.gz``), each of ``--repeat`` runs in a fresh subprocess, so no cache carries over:

* **build**: the records already read into memory, then chunked, analysed and added to an
  ``InvertedIndex`` and refreshed (merged, weighted: searchable), the way the library does it
  (a ``TermCounter``, the default settings' chunk size, title boost and BM25). The peers'
  build time measures the same thing (tokenise + index, from documents in memory). The phases
  are timed too: chunk, analyse (term ids counted), add (to the index), refresh.
* **build with worker**: the same build the way ``server.py ingest`` runs it (``BatchIndexer``),
  its counting shared with a forked analysis worker, with no SQLite (the fork is timed too).
* **ingest**: ``server.py ingest --data-dir TMP corpus.jsonl.gz`` wall time, from process
  start to exit (reading, chunking, SQLite, index, saved snapshot), and its peak RSS (the
  kernel's ``ru_maxrss`` from ``wait4``: the largest process, the worker being smaller).

Medians are printed as a Markdown table; MB is MiB.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "beir"
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable


def build_once(corpus: Path) -> dict:
    """One in-memory build (run inside a fresh child): seconds per phase, documents and chunks."""
    sys.path.insert(0, str(REPO))
    import ingest
    from rag.library import Library
    from rag.settings import Settings
    from store import SQLiteStore

    settings = Settings()
    records = list(ingest.iter_records(corpus))
    library = Library(SQLiteStore.memory(), settings)  # its analyzer, settings and a fresh, empty index
    index, size, overlap = library.index, settings.CHUNK_SIZE, settings.CHUNK_OVERLAP
    started = time.perf_counter()
    chunks = [(number, chunk) for number, record in enumerate(records, 1)
              for chunk in ingest.chunk_sections([ingest.Section(record.text, None, record.title or None)],
                                                 size, overlap)]
    chunked = time.perf_counter()
    counter, boost = index.term_counter(library.analyzer), settings.TITLE_BOOST
    counts = [counter.counts(chunk.text, chunk.heading, boost) for _, chunk in chunks]
    analysed = time.perf_counter()
    for key, ((number, _), terms) in enumerate(zip(chunks, counts), 1):
        index.add_counts(key, terms, group=number)
    added = time.perf_counter()
    index.refresh()
    done = time.perf_counter()
    return {"docs": len(records), "chunks": len(chunks), "chunk_s": chunked - started,
            "analyse_s": analysed - chunked, "add_s": added - analysed, "refresh_s": done - added,
            "build_s": done - started}


_Numbered = namedtuple("_Numbered", "key")


class _Keys:
    """A store that only numbers documents and chunks: the build without SQLite."""

    def __init__(self) -> None:
        self.documents = self.chunks = 0

    def add_documents(self, batch: list) -> list:
        stored = []
        for _, chunks in batch:
            self.documents += 1
            stored.append((_Numbered(self.documents), list(range(self.chunks + 1, self.chunks + 1 + len(chunks)))))
            self.chunks += len(chunks)
        return stored


def build_with_worker_once(corpus: Path) -> dict:
    """One in-memory build the way ``server.py ingest`` runs it: batches of ``BULK_BATCH`` records chunked
    here, their text counted in the analysis worker and here (``BatchIndexer``), with no SQLite."""
    sys.path.insert(0, str(REPO))
    import ingest
    from rag.bulk import BULK_BATCH, BatchIndexer, record_document
    from rag.library import Library
    from rag.settings import Settings
    from rag.workers import start_worker
    from store import SQLiteStore

    settings = Settings()
    records = list(ingest.iter_records(corpus))
    library = Library(SQLiteStore.memory(), settings)
    started = time.perf_counter()
    worker = start_worker(settings.LANGUAGE)
    indexer = BatchIndexer(library, worker, store=_Keys())
    for first in range(0, len(records), BULK_BATCH):
        indexer.add([record_document(record, "0" * 64, settings) for record in records[first : first + BULK_BATCH]])
    indexer.finish()
    added = time.perf_counter()
    library.refresh(helper=worker)  # half the lists weighed in the worker, as `server.py ingest` does
    worker.close()
    done = time.perf_counter()
    return {"worker_build_s": done - started, "worker_refresh_s": done - added, "worker_share": indexer.share}


def build_in_child(corpus: Path) -> dict:
    row = {}
    for flag in ("--child-build", "--child-worker-build"):
        out = subprocess.run([PYTHON, __file__, flag, str(corpus)], check=True, capture_output=True,
                             text=True, cwd=REPO)
        row |= json.loads(out.stdout)
    return row


def ingest_in_child(corpus: Path) -> dict:
    """Wall seconds and peak RSS (MiB) of one ``server.py ingest`` into a fresh data directory."""
    with tempfile.TemporaryDirectory(prefix="build-speed-") as data_dir:
        started = time.perf_counter()
        child = subprocess.Popen([PYTHON, "server.py", "ingest", "--data-dir", data_dir, str(corpus)], cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stderr = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"ingest of {corpus} failed: {stderr.decode(errors='replace')[-500:]}")
    return {"ingest_s": seconds, "rss_mb": usage.ru_maxrss / 1024}


def measure(corpus: Path, repeat: int) -> dict:
    """Medians of ``repeat`` builds and ingests (alternating, so machine noise hits both alike)."""
    builds, ingests = [], []
    for _ in range(repeat):
        builds.append(build_in_child(corpus))
        ingests.append(ingest_in_child(corpus))
    row = {key: statistics.median(b[key] for b in builds) for key in builds[0] if key.endswith(("_s", "_share"))}
    row |= {"ingest_s": statistics.median(i["ingest_s"] for i in ingests),
            "rss_mb": max(i["rss_mb"] for i in ingests), "docs": builds[0]["docs"], "chunks": builds[0]["chunks"]}
    return row


def table(rows: dict[str, dict], repeat: int) -> str:
    lines = [f"Medians of {repeat} runs, each in a fresh process. build = chunk + analyse + add + refresh, "
             "from records in memory, in one process; with worker = the same build the way ingest runs it, "
             "counting shared with the analysis worker (share here: the last batch's share counted in "
             "this process); ingest = `server.py ingest` wall time.", "",
             "| collection | docs | chunks | chunk s | analyse s | add s | refresh s | build s | build docs/s "
             "| with worker: build s | docs/s | share here | ingest s | ingest docs/s | ingest peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['docs']:,} | {r['chunks']:,} | {r['chunk_s']:.3f} | {r['analyse_s']:.3f} "
                     f"| {r['add_s']:.3f} | {r['refresh_s']:.3f} | {r['build_s']:.3f} "
                     f"| {r['docs'] / r['build_s']:,.0f} | {r['worker_build_s']:.3f} "
                     f"| {r['docs'] / r['worker_build_s']:,.0f} | {r['worker_share']:.0%} "
                     f"| {r['ingest_s']:.2f} | {r['docs'] / r['ingest_s']:,.0f} "
                     f"| {r['rss_mb']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--collections", help="comma-separated names (default: every collection in --data)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--child-build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-worker-build", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_build:
        print(json.dumps(build_once(args.child_build)))
        return 0
    if args.child_worker_build:
        print(json.dumps(build_with_worker_once(args.child_worker_build)))
        return 0
    names = args.collections.split(",") if args.collections else sorted(
        p.name for p in args.data.iterdir() if (p / "corpus.jsonl.gz").is_file())
    rows = {}
    for name in names:
        rows[name] = measure(args.data / name / "corpus.jsonl.gz", args.repeat)
        print(f"{name}: build {rows[name]['build_s']:.3f} s, ingest {rows[name]['ingest_s']:.2f} s", file=sys.stderr)
    print(table(rows, args.repeat))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
