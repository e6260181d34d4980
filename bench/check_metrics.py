"""Cross-check bench/metrics.py against pytrec_eval (trec_eval) on real runs.

    .venv-bench/bin/python bench/check_metrics.py [--results bench/out/results.json]
        [--tolerance 1e-6]

For every successful row of the results JSON, scores its run file with both and
compares per query and on the mean. Each run is also checked in a tie-heavy form
(scores rounded to one decimal) to exercise trec_eval's tie order. MRR@10 is
compared with trec_eval's recip_rank on the run cut to its top 10.
Exits 1 if any difference exceeds the tolerance.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytrec_eval

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

from bench import metrics  # noqa: E402

TREC_NAMES = {"ndcg@10": "ndcg_cut_10", "recall@100": "recall_100", "mrr@10": "recip_rank"}


def cut(run: metrics.Run, k: int) -> metrics.Run:
    """Each query's top k in trec_eval order."""
    return {q: {d: docs[d] for d in metrics.trec_order(docs)[:k]} for q, docs in run.items()}


def trec_eval_scores(run: metrics.Run, qrels: metrics.Qrels) -> dict[str, dict[str, float]]:
    """Per-query scores from pytrec_eval; qrels queries absent from the run get 0."""
    main = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(cut(run, 10))
    scores = {}
    for qid in qrels:
        got = {**main.get(qid, {}), **mrr.get(qid, {})}
        scores[qid] = {ours: float(got.get(theirs, 0.0)) for ours, theirs in TREC_NAMES.items()}
    return scores


def max_diff(a: dict[str, dict[str, float]], b: dict[str, dict[str, float]]) -> dict[str, float]:
    """Largest per-query absolute difference for each metric."""
    return {m: max((abs(a[q][m] - b[q][m]) for q in a), default=0.0) for m in metrics.METRICS}


def rounded(run: metrics.Run, digits: int = 1) -> metrics.Run:
    """The run with coarse scores, so that many documents tie."""
    return {q: {d: round(s, digits) for d, s in docs.items()} for q, docs in run.items()}


def compare(run: metrics.Run, qrels: metrics.Qrels) -> dict:
    """Our scorer vs trec_eval: means and worst per-query gaps."""
    ours = metrics.per_query(run, qrels)
    theirs = trec_eval_scores(run, qrels)
    mean_ours, mean_theirs = metrics.mean_metrics(ours), metrics.mean_metrics(theirs)
    per_query = max_diff(ours, theirs)
    mean_gap = {m: abs(mean_ours[m] - mean_theirs[m]) for m in metrics.METRICS}
    worst = max(list(per_query.values()) + list(mean_gap.values()))
    return {"ours": mean_ours, "trec_eval": mean_theirs, "max_query_diff": per_query,
            "worst": worst}


def describe(name: str, result: dict) -> str:
    parts = [f"{m} {result['ours'][m]:.6f}/{result['trec_eval'][m]:.6f}" for m in metrics.METRICS]
    return f"{name:<34} ours/trec_eval {'  '.join(parts)}  max |diff| {result['worst']:.1e}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "out" / "results.json")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    data_root = Path(results["meta"]["data_root"])
    worst, checked = 0.0, 0
    for row in results["rows"]:
        if "error" in row:
            continue
        qrels = metrics.read_qrels(data_root / row["collection"] / "qrels" / "test.tsv")
        run = metrics.read_run(row["run_file"])
        for kind, variant in (("", run), (" (ties)", rounded(run))):
            result = compare(variant, qrels)
            print(describe(f"{row['collection']}/{row['label']}{kind}", result))
            worst, checked = max(worst, result["worst"]), checked + 1
    if not checked:
        print("no successful runs to check; run bench/run.py first")
        return 1
    verdict = "OK" if worst <= args.tolerance else "MISMATCH"
    print(f"{verdict}: {checked} runs, worst |diff| {worst:.2e} (tolerance {args.tolerance:g})")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
