"""QA bench for the extractive answerer (no LLM), on the product's own retrieval.

Two question sets (bench/qa/dataset.py): ``pdfs`` -- bench/qa/questions.jsonl over the shared
PDFs -- and ``abstracts`` -- bench/qa/abstract_questions.jsonl over clean prose, 400 BEIR
abstracts (bench/qa/abstracts.py).

Retrieval is ``rag.library.Library.search(question, k)`` over an in-memory Library, for the unit
sets of bench/qa/units.py: ``chunks`` -- the QA PDFs ingested with ``add_file`` exactly as
uploads are, so the units are the server's 2000-character chunks (pdfs only) -- and
``paragraphs`` -- the set's paragraph pool as one corpus record each (for the abstracts this is
also what ingesting the corpus gives: every abstract fits one chunk). The same units also go to
bm25s (bench/qa_peer_bm25s.py, run with the bench venv in the same invocation) as the peer.

For each question, unit set and retriever, per split (dev/test):
  hit@k   a retrieved unit is from the question's file and page and contains the locator of the
          answer-bearing paragraph (its ``paragraph`` field);
  span@k  a retrieved unit holds an accepted answer with its context in that paragraph
          (see bench/qa/units.py: chunking may cut the paragraph between locator and answer);
  ours@400 / naive@400  the first 400 characters of the answer -- rag.extractive's, or a naive
          best-sentence baseline's (largest raw term overlap) -- contain an accepted answer
          (NFKC, case- and whitespace-insensitive);
  ours|span  ours@400 among the questions with a span hit (the extractor's own share).
Also the extractive answerer's time per answer on the chunk units.

  python -m bench.qa_eval [--sets pdfs,abstracts] [--split dev|test|all] [--k 5]
                          [--units chunks,paragraphs] [--peer-python .venv-bench/bin/python | none]
                          [--show-misses] [--by-file] [--save RUN.json] [--against RUN.json]

--by-file: ours@400 and naive@400 per document (abstracts: per corpus) on the answered runs
(pdfs: chunks, abstracts: paragraphs; our retrieval). --save writes every question's verdicts;
--against compares this run's ours@400 with a saved one, per split and document.

Tune only on dev; test is held out.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

from bench.qa.abstracts import build_abstract_pool  # noqa: E402
from bench.qa.dataset import ABSTRACT_QUESTIONS_PATH, QUESTIONS_PATH, answer_in, load_questions, locate  # noqa: E402
from bench.qa.paragraphs import build_pool  # noqa: E402
from bench.qa.units import Gold, Unit, chunk_library, judge, paragraph_library, passage_units  # noqa: E402
from rag.extractive import extractive_answer  # noqa: E402

WINDOW = 400
PEER_SCRIPT = REPO / "bench" / "qa_peer_bm25s.py"
DEFAULT_PEER_PYTHON = REPO / ".venv-bench" / "bin" / "python"
# question set -> (questions file, unit sets it is evaluated on); the answered run is the first
QA_SETS = {"pdfs": (QUESTIONS_PATH, ("chunks", "paragraphs")), "abstracts": (ABSTRACT_QUESTIONS_PATH, ("paragraphs",))}
_WORD = re.compile(r"\w+(?:[.,]\d+)*")
_STOP = frozenset(
    "a an the and or of to in on at by for with from is are was were be been it its this that "
    "what which who whom whose when where why how do does did i my me you your can could should "
    "would will as if not no der die das und ist wie wird ein eine".split()
)


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def naive_answer(question: str, passages: Sequence[str]) -> str:
    """Baseline: the single sentence with the largest raw term overlap with the question."""
    asked = set(words(question)) - _STOP
    best, best_key = "", (0, 0)
    for number, passage in enumerate(passages, start=1):
        for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", passage)):
            overlap = len(asked & set(words(sentence)))
            key = (overlap, -number)
            if overlap and key > best_key:
                best, best_key = f"{sentence.strip()} [{number}]", key
    return best


def peer_rankings(python: Path, units: dict[str, list[Unit]], questions: Sequence[dict], k: int) -> dict:
    """bm25s's top-k unit ids per unit set and question (bench/qa_peer_bm25s.py in the bench venv)."""
    with tempfile.TemporaryDirectory(prefix="qa-peer-") as tmp:
        units_path, questions_path = Path(tmp) / "units.jsonl", Path(tmp) / "questions.jsonl"
        with units_path.open("w", encoding="utf-8") as out:
            for name, members in units.items():
                for unit in members:
                    out.write(json.dumps({"set": name, "uid": unit.uid, "text": unit.text}) + "\n")
        with questions_path.open("w", encoding="utf-8") as out:
            for q in questions:
                out.write(json.dumps({"id": q["id"], "question": q["question"]}) + "\n")
        done = subprocess.run(
            [str(python), str(PEER_SCRIPT), "--units", str(units_path), "--questions", str(questions_path),
             "--k", str(k)], capture_output=True, text=True, check=False,
        )
    if done.returncode:
        raise SystemExit(f"bm25s peer failed ({python}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def evaluate(questions: Sequence[dict], runs: dict[tuple[str, str, str], dict[str, list[Unit]]],
             golds: dict[str, Gold], show: bool = False) -> tuple[dict, dict, list[tuple[float, float]]]:
    """Counters per run (question set, units, retriever) and split; each question's verdicts per run;
    the extractive answerer's (wall, CPU) seconds per answer on the answered runs."""
    stats: dict[tuple[str, str, str], dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    verdicts: dict[str, dict[str, dict]] = defaultdict(dict)
    timings: list[tuple[float, float]] = []
    by_set = defaultdict(list)
    for q in questions:
        by_set[q["set"]].append(q)
    for run, ranked in runs.items():
        qa_set, unit_set, retriever = run
        answered = (unit_set, retriever) == (QA_SETS[qa_set][1][0], "ours")
        for q in by_set[qa_set]:
            found, gold = ranked[q["id"]], golds[q["id"]]
            texts = [u.text for u in found]
            wall, cpu = time.perf_counter(), time.process_time()
            ours = extractive_answer(q["question"], texts).text
            if answered:
                timings.append((time.perf_counter() - wall, time.process_time() - cpu))
            naive = naive_answer(q["question"], texts)
            judged = [judge(gold, u) for u in found]
            row = {"n": 1, "hit": any(h for h, _ in judged), "span": any(s for _, s in judged),
                   "ours": answer_in(ours[:WINDOW], q["answers"]),
                   "naive": answer_in(naive[:WINDOW], q["answers"])}
            row["ours_span"] = row["span"] and row["ours"]
            for split in (q["split"], "all"):
                stats[run][split].update({key: int(v) for key, v in row.items()})
            verdicts["/".join(run)][q["id"]] = {**row, "split": q["split"], "file": q["file"]}
            if show and answered and not row["ours"]:
                print(f"\n--- {q['id']} [{q['split']}] span={row['span']} {q['question']} -> {q['answers']}")
                print(f"    ours : {ours[:WINDOW]!r}")
                print(f"    naive: {naive[:WINDOW]!r}")
    return stats, verdicts, timings


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def table(stats: dict, k: int, splits: Sequence[str]) -> str:
    head = (f"{'set':<9} {'units':<10} {'retriever':<9} {'split':<5} {'n':>4} {f'hit@{k}':>7} {f'span@{k}':>7}"
            f" {'ours@400':>9} {'naive@400':>10} {'ours|span':>10}")
    lines = [head, "-" * len(head)]
    for (qa_set, unit_set, retriever), by_split in stats.items():
        for split in splits:
            c = by_split[split]
            lines.append(
                f"{qa_set:<9} {unit_set:<10} {retriever:<9} {split:<5} {c['n']:>4} {_pct(c['hit'], c['n']):>7}"
                f" {_pct(c['span'], c['n']):>7} {_pct(c['ours'], c['n']):>9} {_pct(c['naive'], c['n']):>10}"
                f" {_pct(c['ours_span'], c['span']):>10}"
            )
    return "\n".join(lines)


def _group(file: str) -> str:
    """A document, or for the abstracts their corpus."""
    return file.split(":")[0]


def _answered(verdicts: dict) -> list[str]:
    return [run for run in verdicts if run.endswith("/ours") and run.split("/")[1] == QA_SETS[run.split("/")[0]][1][0]]


def by_file(verdicts: dict) -> str:
    """ours@400 and naive@400 per document and split, on the answered runs."""
    lines = [f"{'run':<22} {'document':<34} {'split':<5} {'n':>4} {'ours':>5} {'naive':>6}"]
    for run in _answered(verdicts):
        counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for v in verdicts[run].values():
            counts[(_group(v["file"]), v["split"])].update(n=1, ours=v["ours"], naive=v["naive"])
        for (doc, split), c in sorted(counts.items()):
            lines.append(f"{run:<22} {doc:<34} {split:<5} {c['n']:>4} {c['ours']:>5} {c['naive']:>6}")
    return "\n".join(lines)


def against(verdicts: dict, saved: dict) -> str:
    """Questions won and lost (ours@400) against a saved run, per answered run, split and document."""
    lines = [f"{'run':<22} {'document':<34} {'split':<5} {'won':>4} {'lost':>5} {'net':>4}"]
    for run in _answered(verdicts):
        changes: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for qid, v in verdicts[run].items():
            old = saved.get(run, {}).get(qid)
            if old is not None and bool(old["ours"]) != bool(v["ours"]):
                changes[(_group(v["file"]), v["split"])]["won" if v["ours"] else "lost"] += 1
        for (doc, split), c in sorted(changes.items()):
            lines.append(f"{run:<22} {doc:<34} {split:<5} {c['won']:>4} {c['lost']:>5} {c['won'] - c['lost']:>+4}")
    return "\n".join(lines)


def build_runs(qa_set: str, questions: list[dict], pool, unit_names: Sequence[str], args) -> tuple[dict, dict]:
    """Our retrieval's top-k units per unit set (and bm25s's, unless --peer-python none)."""
    unit_sets, runs = {}, {}
    for name in unit_names:
        started = time.perf_counter()
        if name == "chunks":
            library, units = chunk_library(args.pdf_dir)
            by_pid = None
        else:
            library, units = paragraph_library(pool)
            by_pid = {u.uid: u for u in units}
        unit_sets[name] = units
        runs[(qa_set, name, "ours")] = {q["id"]: passage_units(library, q["question"], args.k, by_pid) for q in questions}
        print(f"{qa_set} {name}: {len(units)} units, indexed and searched in {time.perf_counter() - started:.1f}s")
    if args.peer_python != "none":
        peer = peer_rankings(Path(args.peer_python), unit_sets, questions, args.k)
        print(f"bm25s {peer['version']} (PyStemmer {peer['pystemmer']}), {peer.get('params')}")
        for name, units in unit_sets.items():
            by_uid = {u.uid: u for u in units}
            runs[(qa_set, name, "bm25s")] = {qid: [by_uid[uid] for uid in uids] for qid, uids in peer["ranked"][name].items()}
    return unit_sets, runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sets", default="pdfs,abstracts", help="comma-separated: pdfs, abstracts")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--units", default="chunks,paragraphs", help="comma-separated: chunks, paragraphs")
    parser.add_argument("--pdf-dir", type=Path, default=None)
    parser.add_argument("--peer-python", default=str(DEFAULT_PEER_PYTHON),
                        help="python with bm25s and PyStemmer, or 'none' to skip the peer")
    parser.add_argument("--show-misses", action="store_true", help="print ours@400 misses of the answered runs")
    parser.add_argument("--by-file", action="store_true", help="ours@400 and naive@400 per document")
    parser.add_argument("--save", type=Path, help="write every question's verdicts to this JSON file")
    parser.add_argument("--against", type=Path, help="compare ours@400 with a run saved by --save")
    args = parser.parse_args(argv)

    wanted_units = set(args.units.split(","))
    questions, golds, runs = [], {}, {}
    for qa_set in args.sets.split(","):
        if qa_set not in QA_SETS:
            parser.error(f"unknown question set {qa_set!r}")
        path, unit_names = QA_SETS[qa_set]
        pool = build_abstract_pool() if qa_set == "abstracts" else build_pool(args.pdf_dir)
        chosen = [{**q, "set": qa_set} for q in load_questions(path) if args.split in ("all", q["split"])]
        golds.update({q["id"]: Gold.of(q, locate(q, pool)) for q in chosen})
        questions += chosen
        runs.update(build_runs(qa_set, chosen, pool, [u for u in unit_names if u in wanted_units], args)[1])
        print(f"{qa_set}: {len(pool)} paragraphs, {len(chosen)} questions")
    runs = dict(sorted(runs.items(), key=lambda item: item[0]))
    stats, verdicts, timings = evaluate(questions, runs, golds, args.show_misses)
    splits = ["dev", "test", "all"] if args.split == "all" else [args.split]
    print(f"k={args.k}")
    print(table(stats, args.k, splits))
    if timings:
        wall, cpu = (sorted(1000 * t[i] for t in timings) for i in (0, 1))
        print(f"extractive_answer on {args.k} units, per answer: wall mean {statistics.mean(wall):.1f} ms "
              f"(median {statistics.median(wall):.1f}, max {wall[-1]:.1f}); CPU mean {statistics.mean(cpu):.1f} ms "
              f"(median {statistics.median(cpu):.1f}, max {cpu[-1]:.1f})")
    if args.by_file:
        print(by_file(verdicts))
    if args.against:
        print(against(verdicts, json.loads(args.against.read_text(encoding="utf-8"))))
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(verdicts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
