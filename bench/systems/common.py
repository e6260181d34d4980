"""Shared plumbing for the system scripts: CLI, corpus/query reading, timing, outputs.

Every system script has the same command line:
    --corpus corpus.jsonl[.gz] --queries queries.jsonl --top-k 100
    --run OUT.trec --stats OUT.json [--workdir DIR]
"""
from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

Hits = list[tuple[str, float]]
SearchFn = Callable[[str], Hits]


@dataclass(frozen=True)
class Doc:
    """One corpus document."""

    docid: str
    title: str
    text: str

    @property
    def body(self) -> str:
        """What every peer indexes: title + " " + text."""
        return f"{self.title} {self.text}".strip()


def build_parser(description: str) -> argparse.ArgumentParser:
    """The command line shared by every system script."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--queries", required=True, type=Path)
    parser.add_argument("--top-k", type=int, default=100)
    parser.add_argument("--run", required=True, type=Path)
    parser.add_argument("--stats", required=True, type=Path)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--label", default=None, help="run tag (defaults to the system name)")
    return parser


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_jsonl(path: Path) -> Iterator[dict]:
    """Rows of a JSON-lines file, gzipped or not."""
    with _open_text(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def read_corpus(path: Path) -> list[Doc]:
    """BEIR corpus rows {"_id","title","text"}."""
    return [Doc(str(r["_id"]), r.get("title") or "", r.get("text") or "") for r in iter_jsonl(path)]


def read_queries(path: Path) -> list[tuple[str, str]]:
    """BEIR query rows {"_id","text"} as (qid, text) in file order."""
    return [(str(r["_id"]), r.get("text") or "") for r in iter_jsonl(path)]


def rss_mb() -> float:
    """Resident set size of this process in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settled_rss_mb() -> float:
    """RSS after a full garbage collection, i.e. what the ready index holds."""
    gc.collect()
    return rss_mb()


def tree_bytes(path: Path) -> int:
    """Total apparent size of the files under path (or of path itself)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        total += sum((Path(root) / name).stat().st_size for name in files)
    return total


def timed_search(queries: list[tuple[str, str]], search: SearchFn) -> tuple[dict[str, Hits], list[float], float]:
    """Run the queries one at a time, as a user sends them.

    Returns the hits, per-query wall ms, and the process CPU seconds of the whole loop
    (less sensitive than wall time to other load on the machine).
    """
    results: dict[str, Hits] = {}
    latencies: list[float] = []
    cpu_start = time.process_time()
    for qid, text in queries:
        start = time.perf_counter()
        hits = search(text)
        latencies.append((time.perf_counter() - start) * 1000.0)
        results[qid] = hits
    return results, latencies, time.process_time() - cpu_start


def write_run(path: Path, results: dict[str, Hits], tag: str) -> None:
    """Write a TREC run file; hits with score <= 0 (no matching term) are dropped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for qid, hits in results.items():
            kept = [(d, s) for d, s in hits if s > 0]
            for rank, (docid, score) in enumerate(kept, 1):
                handle.write(f"{qid} Q0 {docid} {rank} {float(score)!r} {tag}\n")


def write_stats(path: Path, stats: dict) -> None:
    """Write the stats JSON (keys documented in bench/README.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")


def top_k(scores, k: int, docids: list[str]) -> Hits:
    """Top-k (docid, score) from a dense numpy score vector, best first."""
    import numpy as np

    k = min(k, len(scores))
    if k <= 0:
        return []
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.argsort(-scores[part], kind="stable")]
    return [(docids[i], float(scores[i])) for i in order]


def version_of(dist: str) -> str | None:
    """Installed version of a distribution, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


Builder = Callable[[list[Doc], Path, int], tuple[SearchFn, dict]]


def run_system(name: str, build: Builder, description: str) -> None:
    """Build the index (timed, corpus reading included), then search and write outputs.

    ``build(docs, workdir, top_k)`` returns the per-query search function and a dict
    of extra stats (e.g. index_bytes, version, params) merged into the stats JSON.
    """
    args = build_parser(description).parse_args()
    workdir = args.workdir or args.stats.parent / f"{name}-work"
    workdir.mkdir(parents=True, exist_ok=True)
    rss_imports = rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    docs = read_corpus(args.corpus)
    search, extra = build(docs, workdir, args.top_k)
    build_s, build_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    n_docs = len(docs)
    del docs
    rss_ready = settled_rss_mb()
    queries = read_queries(args.queries)
    results, latencies, search_cpu_s = timed_search(queries, search)
    write_run(args.run, results, args.label or name)
    stats = {
        "system": name,
        "n_docs": n_docs,
        "n_queries": len(queries),
        "top_k": args.top_k,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "search_cpu_ms_mean": search_cpu_s * 1000.0 / max(len(queries), 1),
        "index_bytes": None,
        "rss_mb_imports": rss_imports,
        "rss_mb_after_load": rss_ready,
        "rss_mb_end": rss_mb(),
        "rss_mb_peak": peak_rss_mb(),
        "latencies_ms": latencies,
    }
    stats.update(extra)
    write_stats(args.stats, stats)
