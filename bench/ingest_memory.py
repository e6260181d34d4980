"""Peak memory of bulk ingestion: ``server.py ingest`` of the shared PDFs and of SciFact, each in one process.

    .venv/bin/python bench/ingest_memory.py [--cases pdfs,scifact[,scifact-x20]] [--runs 1] [--interval 0.02]
        [--json OUT.json] [--profile]

Each case ingests into a fresh temporary DATA_DIR in a child process while this process samples
the RSS of that process and of all its descendants (the PDF parser runs in a grandchild) every
``--interval`` seconds with psutil. Reported per case (the largest over ``--runs``):

* ``peak ingest`` — the ingest process alone, sampled;
* ``peak total`` — the ingest process plus its children, summed at each sample (what the bars
  are about: parsing a PDF in a child does not make its memory free);
* ``peak exact`` — the kernel's high-water mark (``ru_maxrss`` from ``wait4``) of the largest
  single process of the tree, which catches spikes shorter than the sampling interval.

MB here is MiB (2**20 bytes), as in the server's own RSS figures. ``--profile`` re-runs the
SciFact ingest in-process under tracemalloc and prints the top allocation sites at the peak of
Python-allocated memory.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
MIB = 2**20
SCIFACT = DATA / "beir" / "scifact" / "corpus.jsonl.gz"


def scifact_times(copies: int, scratch: Path) -> list[str]:
    """A corpus of ``copies`` copies of SciFact, written to ``scratch`` (ids suffixed ``-0``, ``-1``...):
    a collection 20 times as large, whose vocabulary is SciFact's."""
    path = scratch / f"scifact-x{copies}.jsonl.gz"
    with gzip.open(SCIFACT, "rt", encoding="utf-8") as source:
        records = [json.loads(line) for line in source]
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for copy in range(copies):
            out.writelines(json.dumps(dict(r, _id=f"{r['_id']}-{copy}")) + "\n" for r in records)
    return [str(path)]


CASES = {
    # name: (arguments after `ingest --data-dir DIR`, or a function of a scratch folder giving them; bar in MB)
    "pdfs": (["--pattern", "*.pdf", str(DATA / "pdfs")], 120.0),
    "scifact": ([str(SCIFACT)], 80.0),
    "scifact-x20": (partial(scifact_times, 20), None),  # no bar: how the peak grows with the collection
}
SUMMARY = re.compile(r"ingested (\d+) documents from (\d+) files \((\d+) already there\), (\d+) failed")


@dataclass
class Measure:
    case: str
    seconds: float
    peak_ingest_mb: float
    peak_total_mb: float
    peak_exact_mb: float
    samples: int
    max_children: int
    returncode: int
    summary: str
    command: list[str] = field(default_factory=list)


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return 0


def measure(case: str, interval: float) -> Measure:
    """One ingest of ``case`` into a fresh DATA_DIR, sampled from this process."""
    arguments, _ = CASES[case]
    with tempfile.TemporaryDirectory(prefix=f"ingest-memory-{case}-") as scratch:
        arguments = arguments(Path(scratch)) if callable(arguments) else arguments
        command = [PYTHON, "server.py", "ingest", "--data-dir", str(Path(scratch) / "data"), *arguments]
        log = Path(scratch) / "ingest.log"
        environment = {k: v for k, v in os.environ.items() if k != "DATA_DIR"}
        peak_ingest = peak_total = samples = max_children = 0
        stop = threading.Event()
        with open(log, "w") as out:
            started = time.perf_counter()
            child = subprocess.Popen(command, cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT)
            watched = psutil.Process(child.pid)

            def watch() -> None:
                nonlocal peak_ingest, peak_total, samples, max_children
                while not stop.is_set():
                    own = _rss(watched)
                    try:
                        children = watched.children(recursive=True)
                    except (psutil.NoSuchProcess, psutil.ZombieProcess):
                        children = []
                    total = own + sum(_rss(c) for c in children)
                    peak_ingest, peak_total = max(peak_ingest, own), max(peak_total, total)
                    max_children = max(max_children, len(children))
                    samples += 1
                    stop.wait(interval)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            # wait4 (not Popen.wait) to get the kernel's peak RSS of the tree's largest process
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)
            stop.set()
            watcher.join()
        text = log.read_text(errors="replace")
    found = SUMMARY.search(text)
    exact = usage.ru_maxrss * 1024 / MIB  # kilobytes on Linux
    return Measure(case, seconds, peak_ingest / MIB, peak_total / MIB, exact, samples, max_children,
                   child.returncode, found.group(0) if found else f"no summary (exit {child.returncode})", command)


def table(results: list[Measure], argv: list[str]) -> str:
    rows = [
        f"Made by `{' '.join(shlex.quote(a) for a in argv)}` on {platform.node() or 'this machine'}"
        f" ({psutil.cpu_count()} CPUs, Python {platform.python_version()}, load average"
        f" {os.getloadavg()[0]:.1f}).",
        "",
        "| case | what was ingested | seconds | peak ingest | peak total (with children) | peak exact (largest process)"
        " | bar | within |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for m in results:
        bar = CASES[m.case][1]
        within = "—" if bar is None else "yes" if m.peak_total_mb <= bar else "NO"
        rows.append(f"| {m.case} | {m.summary} | {m.seconds:.1f} | {m.peak_ingest_mb:.1f} MB | {m.peak_total_mb:.1f} MB"
                    f" | {m.peak_exact_mb:.1f} MB | {'—' if bar is None else f'≤ {bar:.0f} MB'} | {within} |")
    rows += ["", "MB = MiB. Sampled every ~20 ms with psutil from outside the ingest process; the commands:", ""]
    rows += [f"    {' '.join(shlex.quote(a) for a in m.command)}" for m in results]
    return "\n".join(rows)


def profile_scifact(top: int = 15) -> str:
    """Ingest SciFact in this process under tracemalloc; the biggest allocation sites at the traced peak."""
    import tracemalloc

    sys.path.insert(0, str(REPO))
    tracemalloc.start(8)
    from rag.cli import ingest_paths
    from rag.library import Library
    from rag.settings import Settings
    from store import open_store

    snapshot_at_peak: list = [None, 0]
    stop = threading.Event()

    def follow() -> None:  # keep the snapshot taken closest to the traced peak
        while not stop.is_set():
            current, _ = tracemalloc.get_traced_memory()
            if current > snapshot_at_peak[1] * 1.02:
                snapshot_at_peak[:] = [tracemalloc.take_snapshot(), current]
            stop.wait(0.25)

    with tempfile.TemporaryDirectory(prefix="ingest-memory-profile-") as scratch:
        settings = Settings(DATA_DIR=str(Path(scratch) / "data"))
        library = Library(open_store(settings.DATA_DIR), settings)
        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        with open(os.devnull, "w") as quiet:
            ingest_paths(library, CASES["scifact"][0], "*", quiet)
        stop.set()
        thread.join()
        _, peak = tracemalloc.get_traced_memory()
        library.store.close()
    snapshot, current = snapshot_at_peak
    lines = [f"tracemalloc: traced peak {peak / MIB:.1f} MB; snapshot at {current / MIB:.1f} MB;"
             f" top {top} sites (by line):", ""]
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        lines.append(f"  {stat.size / MIB:7.2f} MB {stat.count:9d} blocks  {frame.filename.replace(str(REPO) + '/', '')}"
                     f":{frame.lineno}")
    lines += ["", "by file:", ""]
    for stat in snapshot.statistics("filename")[:top]:
        lines.append(f"  {stat.size / MIB:7.2f} MB  {stat.traceback[0].filename.replace(str(REPO) + '/', '')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="pdfs,scifact")
    parser.add_argument("--runs", type=int, default=1, help="ingest each case this many times; report the largest")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between samples")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--profile", action="store_true", help="then profile the SciFact ingest with tracemalloc")
    args = parser.parse_args(argv)
    results = []
    for case in args.cases.split(","):
        runs = [measure(case, args.interval) for _ in range(args.runs)]
        results.append(max(runs, key=lambda m: m.peak_total_mb))
    print(table(results, ["python", "bench/ingest_memory.py", *(argv if argv is not None else sys.argv[1:])]))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(m) for m in results], indent=1))
    if args.profile:
        print()
        print(profile_scifact())
    return 0 if all(m.peak_total_mb <= (CASES[m.case][1] or float("inf")) for m in results) else 1


if __name__ == "__main__":
    sys.exit(main())
