"""bench/metrics.py on small cases whose expected values were worked out by hand."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import metrics

LOG2_3 = math.log2(3)  # discount of rank 2


def test_binary_ndcg_recall_mrr():
    # Relevant: d1, d3, d5. Ranked: d1 (rel), d2, d3 (rel).
    # DCG = 1/log2(2) + 0 + 1/log2(4) = 1.5
    # IDCG (three relevant) = 1 + 1/log2(3) + 1/2 = 2.1309297535714575
    rels = {"d1": 1, "d3": 1, "d5": 1}
    run = {"d1": 3.0, "d2": 2.0, "d3": 1.0}
    got = metrics.score_query(run, rels)
    assert got["ndcg@10"] == pytest.approx(1.5 / (1.5 + 1 / LOG2_3))
    assert got["ndcg@10"] == pytest.approx(0.7039180890341347, abs=1e-12)
    assert got["recall@100"] == pytest.approx(2 / 3)
    assert got["mrr@10"] == 1.0


def test_graded_gains_and_judged_nonrelevant():
    # a: gain 2, b: gain 1, c: judged 0 (not relevant). Ranked b, c, a.
    # DCG = 1/1 + 0/log2(3) + 2/log2(4) = 2.0; IDCG = 2/1 + 1/log2(3).
    rels = {"a": 2, "b": 1, "c": 0}
    got = metrics.score_query({"b": 5.0, "c": 4.0, "a": 3.0}, rels)
    assert got["ndcg@10"] == pytest.approx(0.7601875334318685, abs=1e-12)
    assert got["recall@100"] == 1.0
    assert got["mrr@10"] == 1.0
    # Only c retrieved: nothing relevant.
    assert metrics.score_query({"c": 9.0}, rels) == {
        "ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}


def test_ties_break_on_docid_descending():
    assert metrics.trec_order({"a": 1.0, "x": 1.0, "m": 1.0, "b": 2.0}) == ["b", "x", "m", "a"]
    # x and z tie; z sorts first, so the relevant x is at rank 2.
    got = metrics.score_query({"x": 1.0, "z": 1.0}, {"x": 1})
    assert got["mrr@10"] == 0.5
    assert got["ndcg@10"] == pytest.approx(1 / LOG2_3)
    # Byte order, as strcmp: "B" (0x42) < "a" (0x61), so "a" comes first.
    assert metrics.trec_order({"B": 0.0, "a": 0.0}) == ["a", "B"]


def test_cutoffs():
    # The only relevant doc is at rank 11: outside @10, inside @100.
    run = {f"n{i:02d}": 100.0 - i for i in range(10)}
    run["rel"] = 1.0
    got = metrics.score_query(run, {"rel": 1})
    assert got == {"ndcg@10": 0.0, "recall@100": 1.0, "mrr@10": 0.0}
    # Rank 101 is outside @100.
    run = {f"n{i:03d}": 1000.0 - i for i in range(100)}
    run["rel"] = 1.0
    assert metrics.score_query(run, {"rel": 1})["recall@100"] == 0.0


def test_ideal_dcg_is_cut_at_k():
    # 12 relevant docs; the top 10 are all relevant, so nDCG@10 = 1 while recall = 10/12.
    rels = {f"r{i:02d}": 1 for i in range(12)}
    run = {f"r{i:02d}": 50.0 - i for i in range(10)}
    got = metrics.score_query(run, rels)
    assert got["ndcg@10"] == pytest.approx(1.0)
    assert got["recall@100"] == pytest.approx(10 / 12)
    assert got["mrr@10"] == 1.0


def test_mean_counts_missing_queries_as_zero_and_ignores_unjudged():
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    run = {"q1": {"d1": 1.0}, "q9": {"d2": 1.0}}
    got = metrics.evaluate(run, qrels)
    assert got == {"ndcg@10": 0.5, "recall@100": 0.5, "mrr@10": 0.5}


def test_readers_ignore_rank_column(tmp_path: Path):
    qrels_file = tmp_path / "test.tsv"
    qrels_file.write_text("query-id\tcorpus-id\tscore\nq1\tA\t2\nq1\tB\t1\nq2\tC\t1\n")
    assert metrics.read_qrels(qrels_file) == {"q1": {"A": 2, "B": 1}, "q2": {"C": 1}}
    run_file = tmp_path / "run.trec"
    # Rank column says B first, but scores say A first: scores win.
    run_file.write_text("q1 Q0 B 1 0.5 t\nq1 Q0 A 2 0.9 t\n\nq2 Q0 C 1 -1.25 t\n")
    run = metrics.read_run(run_file)
    assert run == {"q1": {"B": 0.5, "A": 0.9}, "q2": {"C": -1.25}}
    got = metrics.evaluate(run, metrics.read_qrels(qrels_file))
    # q1: A (2) then B (1) is ideal -> 1.0; q2: C at rank 1 -> 1.0.
    assert got == {"ndcg@10": pytest.approx(1.0), "recall@100": 1.0, "mrr@10": 1.0}
    with pytest.raises(ValueError):
        metrics.parse_run_lines(["q1 Q0 A"])


def test_percentile_interpolates():
    assert metrics.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert metrics.percentile([7.0], 95) == 7.0
