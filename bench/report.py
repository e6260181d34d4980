"""Render a bench results JSON as Markdown (so BENCHMARKS.md can be regenerated).

    python bench/report.py bench/out/results.json [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COLUMNS = (
    ("nDCG@10", "ndcg@10", "{:.4f}"),
    ("R@100", "recall@100", "{:.4f}"),
    ("MRR@10", "mrr@10", "{:.4f}"),
    ("build s", "build_s", "{:.2f}"),
    ("docs/s", "docs_per_s", "{:,.0f}"),
    ("p50 ms", "p50_ms", "{:.2f}"),
    ("p95 ms", "p95_ms", "{:.2f}"),
    ("mean ms", "mean_ms", "{:.2f}"),
    ("QPS", "qps", "{:,.1f}"),
    ("index MB", "index_mb", "{:.1f}"),
    ("RSS MB", "rss_mb", "{:.0f}"),
    ("CPU ms/q", "cpu_ms_mean", "{:.2f}"),
)


def cell(value: object, fmt: str) -> str:
    """Format a number, or an em dash when there is none."""
    if value is None:
        return "—"
    return fmt.format(value)


def table_row(row: dict) -> str:
    """One Markdown table line for a result row (error rows say why)."""
    head = [row["collection"], row["label"]]
    if "error" in row:
        message = row["error"].replace("|", "\\|")[:120]
        body = [f"error: {message}"] + [""] * (len(COLUMNS) - 1)
    else:
        body = [cell(row.get(key), fmt) for _title, key, fmt in COLUMNS]
    return "| " + " | ".join(head + body) + " |"


def table(rows: list[dict]) -> str:
    """The results table: collection, system, quality, build, latency, size."""
    titles = ["collection", "system"] + [title for title, _key, _fmt in COLUMNS]
    lines = ["| " + " | ".join(titles) + " |",
             "|" + "|".join(["---"] * 2 + ["---:"] * len(COLUMNS)) + "|"]
    lines += [table_row(row) for row in rows]
    return "\n".join(lines)


def meta_lines(meta: dict) -> list[str]:
    """A short description of the machine and software versions."""
    packages = ", ".join(f"{k} {v}" for k, v in meta.get("packages", {}).items() if v)
    rss = meta.get("baseline_rss_mb", {})
    lines = [
        f"- Run {meta.get('date_utc')} at commit {str(meta.get('git_commit'))[:10]}; "
        f"top-k {meta.get('top_k')}.",
        f"- Machine: {meta.get('cpu')} ({meta.get('cpu_count')} CPUs), "
        f"{cell(meta.get('memory_gib'), '{:.0f}')} GiB; {meta.get('platform')}; "
        f"Python {meta.get('python')}.",
        f"- Peers: {packages}; SQLite {meta.get('sqlite')} (FTS5 {'yes' if meta.get('fts5') else 'no'}).",
        f"- Bare interpreter RSS, measured as each side measures itself: bench env (python + psutil, as the "
        f"peers' harness) {cell(rss.get('bench_python'), '{:.1f}')} MB, ours (python alone, from /proc/self/statm, "
        f"as our search command) {cell(rss.get('ours_python'), '{:.1f}')} MB.",
    ]
    return lines + [f"- {note}" for note in meta.get("notes", [])]


def variant_lines(rows: list[dict]) -> list[str]:
    """Which environment each variant label ran with."""
    seen: dict[str, dict] = {}
    for row in rows:
        if row.get("env"):
            seen.setdefault(row["label"], row["env"])
    return [f"- `{label}`: " + " ".join(f"{k}={v}" for k, v in env.items())
            for label, env in seen.items()]


def run_lines(rows: list[dict]) -> list[str]:
    """How many runs the speed figures come from, and how busy the machine was."""
    ok = [row for row in rows if "error" not in row]
    if not ok:
        return []
    repeats = sorted({row.get("repeats", 1) for row in ok})
    loads = [load for row in rows for load in row.get("loadavg_1m", [])]
    line = f"- Speed figures: median of {'/'.join(map(str, repeats))} run(s) per system"
    if loads:
        line += f"; 1-min load average before each run {min(loads):.2f}–{max(loads):.2f}"
    return [line + ". CPU ms/q = process CPU time of the query loop / queries (peers only)."]


def render(results: dict) -> str:
    """Markdown for a whole results JSON."""
    parts = [table(results.get("rows", []))]
    variants = variant_lines(results.get("rows", []))
    if variants:
        parts.append("Variants:\n" + "\n".join(variants))
    if results.get("meta"):
        lines = run_lines(results.get("rows", [])) + meta_lines(results["meta"])
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render bench results JSON as Markdown")
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="write here instead of stdout")
    args = parser.parse_args(argv)
    text = render(json.loads(args.results.read_text(encoding="utf-8")))
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
