"""Our engine, through its command-line contract (run with the repo's .venv python):

    server.py ingest --data-dir DIR CORPUS.jsonl.gz                 (build_s = its wall time)
    server.py search --data-dir DIR --queries Q.jsonl --top-k K --run OUT.trec --stats S.json

The search command writes load_s, latencies_ms, rss_mb_after_load and rss_mb_end to
S.json; they are merged here. index_bytes is the total size of DIR. ``--env KEY=VALUE``
(repeatable) goes into both commands' environment, for variants.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import build_parser, iter_jsonl, tree_bytes, write_stats

REPO = Path(__file__).resolve().parents[2]
REQUIRED = ("latencies_ms", "rss_mb_after_load")


def parse_env(pairs: list[str]) -> dict[str, str]:
    """['A=1', 'B=x=y'] -> {'A': '1', 'B': 'x=y'}."""
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env expects KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def run_logged(cmd: list[str], env: dict[str, str], log: Path) -> float:
    """Run cmd with its output appended to log; wall seconds; exit on failure."""
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(cmd)}\n")
        handle.flush()
        start = time.perf_counter()
        code = subprocess.run(cmd, env=env, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT).returncode
        wall = time.perf_counter() - start
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
        sys.stderr.write("\n".join(tail) + "\n")
        last = tail[-1].strip() if tail else "no output"
        raise SystemExit(f"server.py {cmd[2]} exited with {code}: {last} (log: {log})")
    return wall


def main() -> None:
    parser = build_parser(__doc__)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--repo", type=Path, default=REPO)
    args = parser.parse_args()
    python = args.repo / ".venv" / "bin" / "python"
    server = args.repo / "server.py"
    for needed in (python, server):
        if not needed.exists():
            raise SystemExit(f"ours: {needed} does not exist (our CLI is not there yet)")
    workdir = args.workdir or args.stats.parent / "ours-work"
    data_dir = workdir / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    variant = parse_env(args.env)
    env = {**os.environ, **variant}
    log = workdir / "ours.log"
    log.unlink(missing_ok=True)
    ingest = [str(python), str(server), "ingest", "--data-dir", str(data_dir), str(args.corpus)]
    build_s = run_logged(ingest, env, log)
    search_stats = workdir / "search_stats.json"
    search_stats.unlink(missing_ok=True)
    search = [str(python), str(server), "search", "--data-dir", str(data_dir),
              "--queries", str(args.queries), "--top-k", str(args.top_k),
              "--run", str(args.run), "--stats", str(search_stats)]
    search_wall_s = run_logged(search, env, log)
    reported = json.loads(search_stats.read_text(encoding="utf-8"))
    missing = [key for key in REQUIRED if key not in reported]
    if missing:
        raise SystemExit(f"ours: search stats lack {missing}")
    computed = {
        "system": "ours",
        "label": args.label or "ours",
        "env": variant,
        "n_docs": sum(1 for _ in iter_jsonl(args.corpus)),
        "n_queries": sum(1 for _ in iter_jsonl(args.queries)),
        "top_k": args.top_k,
        "build_s": build_s,
        "search_wall_s": search_wall_s,
        "index_bytes": tree_bytes(data_dir),  # the whole DATA_DIR: SQLite with the chunk text, and the index
        "index_file_bytes": (data_dir / "index.tfidx").stat().st_size,  # the index alone
    }
    write_stats(args.stats, {**reported, **computed})


if __name__ == "__main__":
    main()
