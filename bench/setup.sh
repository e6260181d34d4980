#!/usr/bin/env bash
# Create .venv-bench at the repo root with the peer systems and pytrec_eval.
# Usage: bash bench/setup.sh   (idempotent; re-run to upgrade)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$REPO/.venv-bench"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q -r "$REPO/bench/requirements.txt"

# pytrec_eval only does the cross-check; fall back to ir-measures if it fails to build.
if ! "$VENV/bin/python" -c "import pytrec_eval" 2>/dev/null; then
  echo "pytrec_eval unavailable; installing ir-measures instead" >&2
  "$VENV/bin/pip" install -q "ir-measures>=0.3,<1"
fi

"$VENV/bin/python" - <<'PY'
import sqlite3
con = sqlite3.connect(":memory:")
try:
    con.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter')")
except sqlite3.OperationalError as exc:
    raise SystemExit(f"SQLite {sqlite3.sqlite_version} lacks FTS5: {exc}")
import bm25s, rank_bm25, sklearn, psutil, Stemmer  # noqa: F401
from importlib.metadata import version
names = ["bm25s", "PyStemmer", "rank-bm25", "scikit-learn", "numpy", "psutil"]
print("bench env ready:", ", ".join(f"{n} {version(n)}" for n in names),
      f"sqlite {sqlite3.sqlite_version} (FTS5 ok)")
PY
