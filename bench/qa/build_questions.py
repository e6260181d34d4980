"""Builder for the QA sets: bench/qa/questions.jsonl ("pdfs") and abstract_questions.jsonl
("abstracts").

The questions themselves were written by hand from the paragraph dump; this script
produces that dump, checks every question against the paragraph pool, and assigns the
dev/test split deterministically (never commit the dump: it is extracted text).

  python -m bench.qa.build_questions dump    # bench/out/qa_paragraphs.txt, for reading
  python -m bench.qa.build_questions check   # validate all questions, exit 1 on problems
  python -m bench.qa.build_questions split   # validate, set the split (pdfs: by question hash,
                                             # abstracts: by paragraph), rewrite
  python -m bench.qa.build_questions check --set abstracts
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.qa.abstracts import build_abstract_pool  # noqa: E402
from bench.qa.dataset import (  # noqa: E402
    ABSTRACT_QUESTIONS_PATH,
    QUESTIONS_PATH,
    assign_splits,
    assign_splits_by_source,
    load_questions,
    problems,
    write_questions,
)
from bench.qa.paragraphs import Paragraph, build_pool  # noqa: E402

DUMP_PATH = Path(__file__).resolve().parents[1] / "out" / "qa_paragraphs.txt"


def dump(pool: list[Paragraph], path: Path = DUMP_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for p in pool:
            out.write(f"\n##### [{p.pid}] {p.file} p{p.page}\n{p.text}\n")
    print(f"{len(pool)} paragraphs -> {path}")


def check(questions: list[dict], pool: list[Paragraph]) -> int:
    """Print every problem; return how many questions have one."""
    bad = 0
    seen: Counter[str] = Counter(q["question"] for q in questions)
    for q in questions:
        issues = problems(q, pool)
        if seen[q["question"]] > 1:
            issues.append("duplicate question")
        if issues:
            bad += 1
            print(f"{q.get('id', '?')} {q['file']} p{q['page']}: {q['question']!r}: {'; '.join(issues)}")
    splits = Counter(q.get("split", "-") for q in questions)
    files = Counter(q["file"] for q in questions)
    print(f"{len(questions)} questions, {bad} with problems; splits {dict(splits)}")
    print("per file: " + ", ".join(f"{f}={n}" for f, n in files.most_common(12)) + (" ..." if len(files) > 12 else ""))
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("action", choices=("dump", "check", "split"))
    parser.add_argument("--set", choices=("pdfs", "abstracts"), default="pdfs", dest="qa_set")
    parser.add_argument("--questions", type=Path, default=None)
    parser.add_argument("--pdf-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    abstracts = args.qa_set == "abstracts"
    pool = build_abstract_pool() if abstracts else build_pool(args.pdf_dir)
    path = args.questions or (ABSTRACT_QUESTIONS_PATH if abstracts else QUESTIONS_PATH)
    if args.action == "dump":
        dump(pool, DUMP_PATH.with_name(f"qa_{args.qa_set}.txt") if abstracts else DUMP_PATH)
        return 0
    questions = load_questions(path)
    if check(questions, pool):
        return 1
    if args.action == "split":
        write_questions(assign_splits_by_source(questions) if abstracts else assign_splits(questions), path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
