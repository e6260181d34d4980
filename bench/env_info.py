"""What machine and software a benchmark ran on, recorded in the results JSON."""
from __future__ import annotations

import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ("bm25s", "PyStemmer", "rank-bm25", "scikit-learn", "numpy", "scipy",
            "psutil", "pytrec_eval-terrier")
# A bare interpreter's RSS, measured as each side measures itself: the peers' harness imports psutil
# (~4 MiB); our search command reads /proc/self/statm and imports nothing for it.
RSS_PROBE = "import psutil; print(psutil.Process().memory_info().rss)"
STATM_BYTES = "int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')"  # an expression (os)
BARE_RSS_PROBE = f"import os; print({STATM_BYTES})"


def package_versions() -> dict[str, str | None]:
    """Versions of the peer packages in the interpreter running the benchmark."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo, else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    """Total memory in GiB (Linux), else None."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None
    return pages * size / 2**30


def baseline_rss_mb(python: Path | str, probe: str = RSS_PROBE) -> float | None:
    """RSS of a bare interpreter that ran only ``probe`` (by default: imported psutil), in MiB."""
    try:
        out = subprocess.run([str(python), "-c", probe], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        return int(out.strip()) / 2**20
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def fts5_available() -> bool:
    """Whether the stdlib sqlite3 was compiled with FTS5."""
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    return True


def git_commit(repo: Path) -> str | None:
    """HEAD commit of the repository, if any."""
    try:
        return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def environment(repo: Path, data_root: Path, top_k: int) -> dict:
    """Everything needed to interpret the numbers later."""
    ours_python = repo / ".venv" / "bin" / "python"
    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(repo),
        "data_root": str(data_root),
        "top_k": top_k,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gib": memory_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "sqlite": sqlite3.sqlite_version,
        "fts5": fts5_available(),
        "baseline_rss_mb": {
            "bench_python": baseline_rss_mb(sys.executable),
            "ours_python": baseline_rss_mb(ours_python, BARE_RSS_PROBE) if ours_python.exists() else None,
        },
        "notes": [
            "MB = 2^20 bytes. RSS once the index is ready: peers, psutil's in the process that built it, "
            "after gc; ours, /proc/self/statm's in the search process after loading (psutil not imported).",
            "Latency = one query at a time, top-k results, tokenisation included.",
            "Peers drop hits with score <= 0 (documents sharing no term with the query).",
            "nDCG@10 / R@100 / MRR@10 averaged over all qrels queries (missing = 0).",
        ],
    }
