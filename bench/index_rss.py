"""What holding an index costs in RSS: a bare interpreter, a process holding only the index, and our search command.

    .venv/bin/python bench/index_rss.py --data-dir DIR --queries QUERIES.jsonl [--runs 5]

Each figure comes from a fresh process, the three kinds alternated. The current RSS is read from
``/proc/self/statm`` (what psutil reads on Linux) with nothing imported for it; the peak is
the child's own ``VmHWM`` (what ``/usr/bin/time -v`` reports as its maximum resident set size):

- bare: ``python -c`` that only reads its RSS;
- index: ``tfidf`` loading ``DIR/index.tfidx`` as the store hands it over (an open file, its arrays
  read into place) and an ``Analyzer``, then every query searched (top 100, by document); no SQLite,
  no record ids, no command line;
- search: ``server.py search`` on the same ``DIR`` (SQLite opened, record ids loaded, argparse and
  pathlib imported), its ``rss_mb_after_load`` and ``rss_mb_end``.

Prints medians (MiB) and the differences from bare, and a Markdown row for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

from bench.env_info import STATM_BYTES  # noqa: E402

STATM = f"{STATM_BYTES} / 2**20"
# The peak since exec (a forked child's ru_maxrss would count its parent's pages before the exec).
HWM = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024"
BARE_PROBE = f"import os; print({STATM}, {HWM})"
# Only what holding and searching the index needs is imported before the first reading.
INDEX = f"""
import os, sys
sys.path.insert(0, {str(REPO)!r})
from tfidf import Analyzer, load_index
with open(sys.argv[1], "rb") as snapshot:
    index, _ = load_index(snapshot)
analyzer = Analyzer()
loaded = {STATM}
import json
with open(sys.argv[2], encoding="utf-8") as lines:
    texts = [json.loads(line)["text"] for line in lines if line.strip()]
hits = sum(len(index.search(analyzer.terms(text), 100, by_group=True)) for text in texts)
print(loaded, {STATM}, {HWM}, hits)
"""


def measured(command: list[str]) -> str:
    """A child's standard output."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{command[:3]} failed: {done.stderr[-500:]}")
    return done.stdout


def bare(python: str) -> tuple[float, float]:
    rss, peak = measured([python, "-c", BARE_PROBE]).split()
    return float(rss), float(peak)


def index_only(python: str, data_dir: Path, queries: Path) -> tuple[float, float, float]:
    loaded, end, peak, hits = measured([python, "-c", INDEX, str(data_dir / "index.tfidx"), str(queries)]).split()
    if int(hits) == 0:
        raise SystemExit("the index process found nothing: is DIR a built DATA_DIR?")
    return float(loaded), float(end), float(peak)


def search_command(python: str, data_dir: Path, queries: Path) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        stats = Path(scratch) / "stats.json"
        measured([python, str(REPO / "server.py"), "search", "--data-dir", str(data_dir), "--queries", str(queries),
                  "--top-k", "100", "--run", str(Path(scratch) / "run.trec"), "--stats", str(stats)])
        reported = json.loads(stats.read_text())
    return reported["rss_mb_after_load"], reported["rss_mb_end"], reported["rss_mb_peak"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"))
    args = parser.parse_args()
    figures: dict[str, list] = {"bare": [], "index": [], "search": []}
    for _ in range(args.runs):
        figures["bare"].append(bare(args.python))
        figures["index"].append(index_only(args.python, args.data_dir, args.queries))
        figures["search"].append(search_command(args.python, args.data_dir, args.queries))
    base = statistics.median(f[0] for f in figures["bare"])
    base_peak = statistics.median(f[1] for f in figures["bare"])
    print(f"bare interpreter: {base:.2f} MiB, peak {base_peak:.2f} (medians of {args.runs})")
    row = [f"{base:.2f}"]
    for kind in ("index", "search"):
        loaded, end, peak = (statistics.median(f[i] for f in figures[kind]) for i in range(3))
        print(f"{kind:6s}: after load {loaded:.2f} MiB (+{loaded - base:.2f}), after the queries {end:.2f} "
              f"(+{end - base:.2f}), peak {peak:.2f} (+{peak - base_peak:.2f} over the bare peak)")
        row += [f"{loaded:.2f} (+{loaded - base:.2f})", f"{end:.2f} (+{end - base:.2f})",
                f"{peak:.2f} (+{peak - base_peak:.2f})"]
    print("| " + " | ".join(row) + " |")

if __name__ == "__main__":
    sys.exit(main())
