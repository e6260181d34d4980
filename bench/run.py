"""Benchmark our engine against peers on every BEIR collection, one process per run.

    .venv-bench/bin/python bench/run.py [--collections scifact,nfcorpus]
        [--systems ours,bm25s,rank_bm25,sklearn,fts5] [--variants FILE]
        [--out bench/out/results.json]

Runs each (collection, system) sequentially in its own subprocess, scores the run
with bench/metrics.py, writes the results JSON and prints a Markdown table.
A variants file is a JSON list of {"label": ..., "system": "ours", "env": {KEY: VALUE}}.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

from bench import metrics  # noqa: E402
from bench.env_info import environment  # noqa: E402
from bench.report import render  # noqa: E402

SYSTEMS = {
    "ours": "ours.py",
    "bm25s": "bm25s_peer.py",
    "rank_bm25": "rank_bm25_peer.py",
    "sklearn": "sklearn_tfidf_peer.py",
    "fts5": "fts5_peer.py",
}
DATA_ROOT = REPO.parent / "shared" / "data" / "beir"
MIB = 2**20
SPEED_KEYS = ("build_s", "docs_per_s", "p50_ms", "p95_ms", "mean_ms", "qps", "rss_mb",
              "cpu_ms_mean")


@dataclass(frozen=True)
class Entry:
    """One system configuration to benchmark."""

    label: str
    system: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Collection:
    """A BEIR collection folder."""

    name: str
    corpus: Path
    queries: Path
    qrels: Path


def find_collections(root: Path, names: list[str] | None) -> list[Collection]:
    """Every folder under root with a corpus, queries.jsonl and qrels/test.tsv."""
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        corpus = next((folder / n for n in ("corpus.jsonl.gz", "corpus.jsonl")
                       if (folder / n).exists()), None)
        queries, qrels = folder / "queries.jsonl", folder / "qrels" / "test.tsv"
        if corpus and queries.exists() and qrels.exists():
            found.append(Collection(folder.name, corpus, queries, qrels))
    if names:
        unknown = set(names) - {c.name for c in found}
        if unknown:
            raise SystemExit(f"unknown collections {sorted(unknown)} under {root}")
        found = [c for c in found if c.name in names]
    return found


def load_entries(systems: list[str], variants: Path | None) -> list[Entry]:
    """Plain systems first, then the variants from the JSON file."""
    entries = [Entry(name, name) for name in systems]
    if variants:
        for item in json.loads(variants.read_text(encoding="utf-8")):
            env = {str(k): str(v) for k, v in item.get("env", {}).items()}
            entries.append(Entry(item["label"], item.get("system", "ours"), env))
    for entry in entries:
        if entry.system not in SYSTEMS:
            raise SystemExit(f"unknown system {entry.system!r}; known: {', '.join(SYSTEMS)}")
    labels = [e.label for e in entries]
    if len(set(labels)) != len(labels):
        raise SystemExit(f"duplicate labels in {labels}")
    return entries


def command(entry: Entry, coll: Collection, paths: dict[str, Path], top_k: int) -> list[str]:
    """The subprocess command line for one run."""
    cmd = [sys.executable, str(REPO / "bench" / "systems" / SYSTEMS[entry.system]),
           "--corpus", str(coll.corpus), "--queries", str(coll.queries),
           "--top-k", str(top_k), "--run", str(paths["run"]), "--stats", str(paths["stats"]),
           "--workdir", str(paths["work"]), "--label", entry.label]
    if entry.system == "ours":
        cmd += [f"--env={k}={v}" for k, v in entry.env.items()]
    return cmd


def run_paths(out_dir: Path, coll: Collection, entry: Entry) -> dict[str, Path]:
    base = out_dir / "runs" / coll.name
    return {"run": base / f"{entry.label}.trec", "stats": base / f"{entry.label}.stats.json",
            "log": base / f"{entry.label}.log", "perquery": base / f"{entry.label}.perquery.json",
            "work": out_dir / "work" / coll.name / entry.label}


def execute(entry: Entry, coll: Collection, paths: dict[str, Path], args) -> str | None:
    """Run one system in its own process; None on success, else an error message."""
    for key in ("run", "stats"):
        paths[key].unlink(missing_ok=True)
    shutil.rmtree(paths["work"], ignore_errors=True)
    paths["run"].parent.mkdir(parents=True, exist_ok=True)
    paths["work"].mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **entry.env, "PYTHONHASHSEED": "0"}
    with open(paths["log"], "w", encoding="utf-8") as log:
        try:
            code = subprocess.run(command(entry, coll, paths, args.top_k), env=env, cwd=REPO,
                                  stdout=log, stderr=subprocess.STDOUT,
                                  timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            return f"timed out after {args.timeout} s"
    if code != 0 or not paths["stats"].exists() or not paths["run"].exists():
        tail = paths["log"].read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return f"exit {code}: " + (tail[-1] if tail else "no output")
    return None


def summarize(stats: dict, run: metrics.Run, qrels: metrics.Qrels) -> dict:
    """Quality and speed figures for one successful run."""
    lat = [float(x) for x in stats["latencies_ms"]]
    mean_ms = sum(lat) / len(lat) if lat else None
    index_bytes = stats.get("index_bytes")
    build_s = float(stats["build_s"])
    row = dict(metrics.evaluate(run, qrels))
    row.update({
        "n_docs": stats.get("n_docs"), "n_queries": len(lat),
        "queries_with_results": sum(1 for q in qrels if run.get(q)),
        "build_s": build_s,
        "docs_per_s": stats["n_docs"] / build_s if stats.get("n_docs") and build_s > 0 else None,
        "p50_ms": metrics.percentile(lat, 50) if lat else None,
        "p95_ms": metrics.percentile(lat, 95) if lat else None,
        "mean_ms": mean_ms, "qps": 1000.0 / mean_ms if mean_ms else None,
        "index_mb": index_bytes / MIB if index_bytes is not None else None,
        "rss_mb": stats.get("rss_mb_after_load"),
        "cpu_ms_mean": stats.get("search_cpu_ms_mean"),
    })
    extra = {k: v for k, v in stats.items() if k != "latencies_ms" and k not in row}
    row["stats"] = extra
    return row


def combine(summaries: list[dict]) -> dict:
    """One row from repeated runs: quality from the first, speed as the median."""
    row = dict(summaries[0])
    if len(summaries) == 1:
        return row
    spread = {key: [s.get(key) for s in summaries] for key in SPEED_KEYS}
    for key, values in spread.items():
        present = [v for v in values if v is not None]
        row[key] = statistics.median(present) if present else None
    row["repeat_values"] = spread
    row["quality_stable"] = all(
        s[m] == row[m] for s in summaries for m in metrics.METRICS)
    return row


def bench_one(entry: Entry, coll: Collection, qrels: metrics.Qrels, args) -> dict:
    """Run (args.repeat times), score and describe one (collection, entry) pair."""
    paths = run_paths(args.out.parent, coll, entry)
    base = {"collection": coll.name, "label": entry.label, "system": entry.system,
            "env": entry.env, "run_file": str(paths["run"]), "log_file": str(paths["log"]),
            "loadavg_1m": []}
    start = time.perf_counter()
    summaries, run = [], {}
    for _ in range(args.repeat):
        base["loadavg_1m"].append(os.getloadavg()[0])
        error = execute(entry, coll, paths, args)
        if error:
            return {**base, "wall_s": time.perf_counter() - start, "error": error}
        stats = json.loads(paths["stats"].read_text(encoding="utf-8"))
        run = metrics.read_run(paths["run"])
        summaries.append(summarize(stats, run, qrels))
    base["wall_s"] = time.perf_counter() - start
    base["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    scores = metrics.per_query(run, qrels)
    paths["perquery"].write_text(json.dumps(scores, indent=0) + "\n", encoding="utf-8")
    if not args.keep_work:
        shutil.rmtree(paths["work"], ignore_errors=True)
    return {**base, "repeats": len(summaries), **combine(summaries)}


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """Old rows with the same (collection, label) replaced by the new ones, sorted."""
    fresh = {(r["collection"], r["label"]): r for r in new}
    kept = [r for r in old if (r["collection"], r["label"]) not in fresh]
    order = list(SYSTEMS)
    return sorted(kept + new, key=lambda r: (r["collection"], order.index(r["system"])))


def warn_if_busy() -> None:
    """Timings are only comparable on an otherwise idle machine: say so when it is not."""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.5 * cpus:
        print(f"[bench] warning: 1-min load average {load:.2f} on {cpus} CPUs; "
              "latency and build figures will be inflated (see CPU ms/q)",
              file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=DATA_ROOT)
    parser.add_argument("--collections", default="", help="comma list (default: all found)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma list")
    parser.add_argument("--variants", type=Path, default=None, help="JSON list of variants")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "results.json")
    parser.add_argument("--top-k", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per system; speed figures are the median")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other rows of an existing --out file")
    parser.add_argument("--keep-work", action="store_true", help="keep index work dirs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n for n in args.collections.split(",") if n]
    collections = find_collections(args.data_root.resolve(), names or None)
    systems = [s for s in args.systems.split(",") if s]
    entries = load_entries(systems, args.variants)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    warn_if_busy()
    rows = []
    for coll in collections:
        qrels = metrics.read_qrels(coll.qrels)
        for entry in entries:
            print(f"[bench] {coll.name} / {entry.label} ...", file=sys.stderr, flush=True)
            row = bench_one(entry, coll, qrels, args)
            print(f"[bench]   {row.get('error') or 'ok'} ({row['wall_s']:.1f} s)",
                  file=sys.stderr, flush=True)
            rows.append(row)
    if args.merge and args.out.exists():
        rows = merge_rows(json.loads(args.out.read_text(encoding="utf-8"))["rows"], rows)
    results = {"meta": environment(REPO, args.data_root.resolve(), args.top_k), "rows": rows}
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(render(results))
    print(f"\nresults: {args.out}", file=sys.stderr)
    return 1 if any("error" in r for r in rows) and not any("error" not in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
