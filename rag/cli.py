"""The command line's work: bulk ingestion and batch search (TREC runs)."""
from __future__ import annotations

import json
import sys
import time
from array import array
from bisect import bisect_left
from itertools import repeat
from operator import itemgetter, sub
from pathlib import Path

from store import StoreError, open_store

from .library import Library
from .paths import is_corpus, walk
from .progress import Progress, peak_rss_mb, rss_mb
from .settings import Settings

TYPE_CHECKING = False  # (not typing's: a search process need not load it)
if TYPE_CHECKING:
    from .workers import AnalysisWorker


class IngestReport:
    """What a bulk ingest did: files seen, documents added, duplicates, failures with reasons."""

    def __init__(self) -> None:
        self.files = self.documents = self.duplicates = 0
        self.failures: list[tuple[str, str]] = []


def ingest_paths(library: Library, paths: list[str], pattern: str, out) -> IngestReport:
    """Ingest every file; failures are collected, never fatal."""
    import ingest

    report, progress = IngestReport(), Progress(out)
    for path in walk(paths, pattern):
        report.files += 1
        try:
            new, already, pages = _ingest_one(library, path, progress)
        except (ingest.IngestError, OSError) as exc:
            report.failures.append((str(path), str(exc)))
            progress.failed(path, exc)
            continue
        report.documents += new
        report.duplicates += already
        progress.file_done(path, new, already, pages)
        library.checkpoint()
    library.store.fold_in_background()  # the disk's part of the ingest, while the index is refreshed
    worker = library.analysis_worker
    library.refresh(helper=worker, dense=False)  # a worker weighs half the lists meanwhile; nothing searches here
    if worker is not None:
        worker.close()
    library.save()
    progress.finish()
    return report


def _ingest_one(library: Library, path: Path, progress: Progress) -> tuple[int, int, int]:
    """Documents ``path`` added, documents it holds that were already stored, pages added."""
    import ingest

    limit = library.settings.MAX_UPLOAD_MB * 1024 * 1024
    if not is_corpus(path) and path.stat().st_size > limit:
        raise ingest.TooLarge(f"{path.name} is larger than MAX_UPLOAD_MB={library.settings.MAX_UPLOAD_MB:g}")
    if is_corpus(path):
        read = new = 0

        def counted(records):
            nonlocal read
            for record in records:
                read += 1
                yield record

        for added in library.add_records(counted(ingest.iter_records(path))):  # counted, not kept: flat memory
            if not added.duplicate:
                new += 1
                progress.record_done()
        return new, read - new, 0  # the library skips the records it already holds, silently
    added = library.add_file(path, path.name)
    fresh = [a for a in added if not a.duplicate]
    return len(fresh), len(added) - len(fresh), sum(a.document.pages or 0 for a in fresh)


def print_summary(report: IngestReport, out) -> int:
    """The closing summary; the exit status (1 if any file failed)."""
    print(f"ingested {report.documents} documents from {report.files} files"
          f" ({report.duplicates} already there), {len(report.failures)} failed", file=out)
    for path, reason in report.failures:
        print(f"  FAILED {path}: {reason}", file=out)
    return 1 if report.failures else 0


def run_ingest(settings: Settings, paths: list[str], pattern: str, worker: AnalysisWorker | None = None) -> int:
    """``worker``: an analysis worker to share the counting with (ended here)."""
    try:
        return _ingest(settings, paths, pattern, worker)
    except KeyboardInterrupt:  # every stored document is whole: the same command picks up from there
        print("\ninterrupted: what was stored is kept; run the same command again to go on", file=sys.stderr)
        return 130
    finally:
        if worker is not None:
            worker.close()


def _ingest(settings: Settings, paths: list[str], pattern: str, worker: AnalysisWorker | None) -> int:
    try:
        library = Library(open_store(settings.DATA_DIR), settings, analysis_worker=worker)
    except (StoreError, OSError) as exc:  # OSError: DATA_DIR is a file, or cannot be created
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        report = ingest_paths(library, paths, pattern, sys.stderr)
    finally:
        library.store.close()
    return print_summary(report, sys.stderr)


def read_queries(path: str) -> list[tuple[str, str]]:
    """(id, text) pairs from a JSON Lines file of {"_id", "text"} objects."""
    queries = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                queries.append(_query(line, f"{path} line {number}"))
    return queries


def _query(line: str, where: str) -> tuple[str, str]:
    try:
        item = json.loads(line)
        qid, text = item.get("_id", item.get("id")), item["text"]
        if not isinstance(text, str):
            raise TypeError(f'"text" is {type(text).__name__}')
    except (ValueError, KeyError, AttributeError, TypeError) as exc:  # not JSON, not an object, no text
        raise ValueError(f'{where} is not a query ({exc!r}): a line is a JSON object with "_id" and "text"') from None
    return str(qid), text


class NameTable:
    """Document key -> its record id, packed in one string (a dict of them costs ~0.7 MB for SciFact)."""

    def __init__(self, rows) -> None:
        self.keys, self._starts, parts, end = array("q"), array("I"), [], 0
        for key, name in rows:  # ascending keys
            self.keys.append(key)
            self._starts.append(end)
            parts.append(name)
            end += len(name)
        self._stops = self._starts[1:] + array("I", [end])
        self._text = "".join(parts)
        first, count = (self.keys[0], len(self.keys)) if self.keys else (0, 0)
        self._first = first if count and self.keys[-1] - first == count - 1 else None  # keys first..first+count-1

    def __getitem__(self, key: int) -> str:
        return self.names([key])[0]

    def names(self, keys: list[int]) -> list[str]:
        """The record ids of ``keys``, looked up in C; KeyError for a key not in the table."""
        places = self._places(keys)
        starts, stops = _pick(self._starts, places), _pick(self._stops, places)
        return list(map(self._text.__getitem__, map(slice, starts, stops)))

    def _places(self, keys: list[int]) -> list[int]:
        first = self._first
        if not keys or (first is not None and first <= min(keys) and max(keys) - first < len(self.keys)):
            return list(map(sub, keys, repeat(first)))  # contiguous keys: no search
        places = list(map(bisect_left, repeat(self.keys), keys))
        if max(places) >= len(self.keys) or _pick(self.keys, places) != keys:
            raise KeyError(next(k for k, p in zip(keys, places) if p >= len(self.keys) or self.keys[p] != k))
        return places


def _pick(values, places: list[int]) -> list:
    """``[values[p] for p in places]``, in C."""
    return list(itemgetter(*places)(values)) if len(places) > 1 else [values[p] for p in places]


def run_search(settings: Settings, queries_path: str, top_k: int, run_path: str, stats_path: str | None,
               tag: str) -> int:
    """Rank documents for each query, one at a time, and write a TREC run."""
    started = time.perf_counter()
    library = _open_for_search(settings)
    if library is None:
        return 2
    names = NameTable(library.store.document_names())
    library.refresh()
    load_s, rss_loaded = time.perf_counter() - started, rss_mb()
    try:
        queries, run = read_queries(queries_path), open(run_path, "w", encoding="utf-8")
    except (OSError, ValueError) as exc:  # a file missing or unwritable, a line that is not a query
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with run:  # written as it goes: memory stays the index's
        cpu_started = time.process_time()
        latencies = [_search_one(library, names, qid, text, top_k, tag, run) for qid, text in queries]
        cpu_ms = (time.process_time() - cpu_started) * 1000 / max(len(queries), 1)
    stats = {"load_s": load_s, "latencies_ms": latencies, "rss_mb_after_load": rss_loaded, "rss_mb_end": rss_mb(),
             "rss_mb_peak": peak_rss_mb(), "queries": len(latencies),
             "mean_ms": sum(latencies) / len(latencies) if latencies else 0.0, "search_cpu_ms_mean": cpu_ms}
    if stats_path:
        Path(stats_path).write_text(json.dumps(stats))
    print(f"{len(latencies)} queries, mean {stats['mean_ms']:.3f} ms, load {load_s * 1000:.0f} ms,"
          f" RSS {rss_loaded:.1f} MB", file=sys.stderr)
    return 0


def _open_for_search(settings: Settings) -> Library | None:
    """The library in DATA_DIR, or None (the reason printed) if there is none to search."""
    if not Path(settings.DATA_DIR).is_dir():  # not an empty run from a mistyped --data-dir
        print(f"error: no data directory {settings.DATA_DIR}; build it with `python server.py ingest`",
              file=sys.stderr)
        return None
    try:
        return Library(open_store(settings.DATA_DIR, read_only=settings.READ_ONLY or None), settings)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _search_one(library: Library, names: NameTable, qid: str, text: str, top_k: int, tag: str, run) -> float:
    """Rank documents for one query and write its lines; the milliseconds the ranking took."""
    started = time.perf_counter()
    hits = library.search_keys(library.analyzer.terms(text), top_k)
    ranked = zip(names.names([h.group for h in hits]), [h.score for h in hits])
    elapsed = (time.perf_counter() - started) * 1000
    run.writelines(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n" for rank, (doc, score) in enumerate(ranked, 1))
    return elapsed
