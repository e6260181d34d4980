"""Peak memory (this process plus the PDF worker) and time per file over the shared PDFs.

Run with ``pytest -s tests/test_ingest_resources.py`` to see the figures.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
import pytest

from ingest import IngestError, chunk_sections, extract_sections, sniff

MB = 1024 * 1024


class PeakRss:
    """Samples the resident memory of this process and its children every 20 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.peak_child = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            child = sum(_rss(c) for c in self.process.children())
            self.peak_child = max(self.peak_child, child)
            self.peak = max(self.peak, _rss(self.process) + child)


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def ingest_file(path: Path) -> str:
    try:
        chunks = list(chunk_sections(extract_sections(path, sniff(path), time_limit=60.0)))
    except IngestError as exc:
        return type(exc).__name__
    return f"{len(chunks)} chunks"


def test_peak_memory_and_time_per_pdf(pdf_dir: Path) -> None:
    before = psutil.Process().memory_info().rss
    rows = []
    with PeakRss() as overall:
        for path in sorted(pdf_dir.glob("*.pdf")):
            with PeakRss() as peak:
                started = time.perf_counter()
                outcome = ingest_file(path)
                rows.append((path.name, time.perf_counter() - started, peak.peak_child, outcome))
    after = psutil.Process().memory_info().rss
    print(f"\n{'file':36} {'seconds':>8} {'child MB':>9}  outcome")
    for name, seconds, child, outcome in rows:
        print(f"{name:36} {seconds:8.2f} {child / MB:9.1f}  {outcome}")
    print(f"peak RSS parent+child {overall.peak / MB:.1f} MB (child alone {overall.peak_child / MB:.1f} MB); "
          f"parent RSS {before / MB:.1f} -> {after / MB:.1f} MB; total {sum(r[1] for r in rows):.1f} s")
    assert overall.peak < 1024 * MB
    assert after - before < 64 * MB, "the parent must not keep pypdf's memory"
    assert max(seconds for _, seconds, _, _ in rows) < 30


if __name__ == "__main__":
    pytest.main(["-s", __file__])
