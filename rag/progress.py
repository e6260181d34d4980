"""Progress for bulk ingestion: a redrawn line on a terminal, plain lines otherwise."""
from __future__ import annotations

import os
import time
from pathlib import Path


def rss_mb() -> float:
    """This process's resident memory in MB (what psutil reports: on Linux, read from /proc directly)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError, AttributeError):
        import psutil  # ~12-25 ms to import: paid where /proc is missing (macOS, Windows)

        return psutil.Process().memory_info().rss / (1024 * 1024)


def peak_rss_mb() -> float | None:
    """This process's peak resident memory in MB since it started (Linux's VmHWM), None where /proc is missing."""
    try:
        with open("/proc/self/status", "rb") as status:
            line = next(line for line in status if line.startswith(b"VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError, StopIteration):
        return None


class Progress:
    """Counts files, documents, pages and bytes; reports rate and RSS."""

    def __init__(self, out, every: float = 2.0) -> None:
        self.out, self.every = out, every
        self.tty = out.isatty()
        self.started = self.shown = time.monotonic()
        self.files = self.documents = self.already = self.pages = self.failures = 0
        self.bytes = 0
        self._counted = 0  # this file's documents already counted one by one (corpus records)
        self.peak_rss = rss_mb()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.peak_rss = max(self.peak_rss, rss_mb())
        return (f"{self.files} files, {self.documents} documents, {self.already} already there, {self.pages} pages,"
                f" {self.bytes / 1e6:.1f} MB,"
                f" {self.documents / elapsed:.0f} docs/s, {self.failures} failed, RSS {self.peak_rss:.0f} MB")

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.shown < (0.2 if self.tty else self.every):
            return
        self.shown = now
        if self.tty:
            print(f"\r\x1b[K{self.line()}", end="", file=self.out, flush=True)
        else:
            print(self.line(), file=self.out, flush=True)

    def record_done(self) -> None:
        self.documents += 1
        self._counted += 1
        self._show()

    def file_done(self, path: Path, new: int, already: int = 0, pages: int = 0) -> None:
        """A file is finished: ``new`` documents added, ``already`` there before, ``pages`` added."""
        self.files += 1
        self.documents += new - self._counted  # corpus records were counted one by one
        self.already += already
        self.pages += pages
        self._counted = 0
        self.bytes += path.stat().st_size
        self._show()

    def failed(self, path: Path, reason: Exception) -> None:
        self.files += 1
        self.failures += 1
        self._counted = 0
        if self.tty:
            print("\r\x1b[K", end="", file=self.out)
        print(f"failed: {path}: {reason}", file=self.out, flush=True)
        self._show()

    def finish(self) -> None:
        self._show(force=True)
        if self.tty:
            print(file=self.out)
