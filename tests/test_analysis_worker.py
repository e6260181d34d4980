"""The analysis worker: a real forked process counting batches, its wire format, its failures, and bulk
ingestion with it giving the very index one process gives."""
from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from hypothesis import given, settings, strategies as st

from rag.bulk import BatchIndexer, new_batches
from rag.library import Library
from rag.settings import Settings
from rag.workers import AnalysisWorker, WorkerError, pack_strings, read_message, unpack_strings, write_message
from store import SQLiteStore, open_store
from tfidf import Analyzer, dump_index
from tfidf.batch import BatchCounter
from tfidf.weights import compute_weights

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the worker needs fork")
REPO = Path(__file__).resolve().parents[1]
CHUNKS = [(None, "T-cells divide; covid-19 spreads."), ("A title", "Cells grow\u2019s naïve 细胞分裂 \ud800 text"),
          ("", ""), (None, "the and of")]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text()))
def test_strings_survive_packing_surrogates_included(strings):
    assert unpack_strings(*pack_strings(strings)) == strings


def test_messages_cross_a_real_pipe_and_end_cleanly():
    reads, writes = os.pipe()
    with os.fdopen(writes, "wb") as out:
        write_message(out, [b"", b"abc", bytes(range(256))])
    with os.fdopen(reads, "rb") as inp:
        assert read_message(inp) == [b"", b"abc", bytes(range(256))]
        assert read_message(inp) is None


def test_a_worker_counts_what_a_batch_counter_counts_and_goes_when_closed():
    worker = AnalysisWorker("english")
    try:
        expected = BatchCounter(Analyzer())
        for boost in (0, 2):
            worker.submit(CHUNKS, boost)
            assert worker.receive() == expected.count(CHUNKS, boost)
            assert worker.seconds >= 0
        with pytest.raises(WorkerError):
            worker.receive()  # nothing submitted
    finally:
        worker.close()
    assert not psutil.pid_exists(worker.pid) or psutil.Process(worker.pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize("kill", [None, "before", "while weighing"])
def test_a_worker_weighs_half_the_lists_as_they_are_weighed_here(shared_data, kill):
    index, postings = indexed(shared_data, 300)
    params = index.params.scoring
    expected = compute_weights(postings, index.lens, index.alive, index.groups, params)
    worker = AnalysisWorker("english")
    try:
        if kill == "before":
            os.kill(worker.pid, signal.SIGKILL)
            worker.close()
        helper = worker if kill != "while weighing" else _KilledWhileWeighing(worker)
        assert compute_weights(postings, index.lens, index.alive, index.groups, params, helper) == expected
    finally:
        worker.close()


def test_a_weighing_worker_takes_no_batch_until_its_weights_are_read(shared_data):
    index, postings = indexed(shared_data, 50)
    worker = AnalysisWorker("english")
    try:
        handle = worker.weigh(postings, index.lens, index.groups, 50, 100.0, index.params.scoring, 1.0)
        assert worker.weigh(postings, index.lens, index.groups, 50, 100.0, index.params.scoring, 1.0) is None
        with pytest.raises(WorkerError, match="busy"):
            worker.submit(CHUNKS, 0)  # its reply would be read as the weighing's
        with pytest.raises(WorkerError, match="busy"):
            worker.reset()
        impacts, _, _ = handle.weights()
        assert len(impacts) == len(postings.docs)
        worker.submit(CHUNKS, 0)  # free again, in a fresh vocabulary
        assert worker.receive() == BatchCounter(Analyzer()).count(CHUNKS, 0)
    finally:
        worker.close()


class _KilledWhileWeighing:
    """The worker as a helper, killed once it has been asked to weigh: its weights never come."""

    def __init__(self, worker: AnalysisWorker) -> None:
        self.worker = worker

    def weigh(self, *args, **kwargs):
        handle = self.worker.weigh(*args, **kwargs)
        os.kill(self.worker.pid, signal.SIGKILL)
        return handle


def test_a_killed_worker_is_reported_not_waited_for():
    worker = AnalysisWorker("english")
    try:
        worker.submit(CHUNKS, 1)
        worker.receive()
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(WorkerError):
            worker.submit(CHUNKS * 20000, 1)  # a pipe with no reader
            worker.receive()
    finally:
        worker.close()


def indexed(shared_data: Path, count: int) -> tuple:
    """An index of the first ``count`` SciFact records, one chunk each, and its postings merged."""
    library = Library(SQLiteStore.memory(), Settings())
    library.index_chunks((key, key, (None, record.text)) for key, record in enumerate(records(shared_data, count), 1))
    index = library.index
    return index, index.postings.merged(len(index.vocabulary), len(index.keys), None)


def records(shared_data: Path, count: int) -> list:
    import ingest

    path = shared_data / "beir" / "scifact" / "corpus.jsonl.gz"
    if not path.is_file():
        pytest.skip("no SciFact corpus")
    return [record for _, record in zip(range(count), ingest.iter_records(path))]


def build(records: list, worker_plan: str) -> tuple[bytes, int]:
    """The index snapshot (bytes) and documents stored after ingesting ``records`` with the worker used as planned:
    'none', 'all', 'killed' (dies after the first batch), 'replaced' (a reconcile swaps the index midway)
    or 'limited' (batches with more text than it may be sent are counted here)."""
    library = Library(SQLiteStore.memory(), Settings())
    workers = []

    def start():
        workers.append(AnalysisWorker("english"))
        return workers[-1]

    limit = {"limited": 350_000}.get(worker_plan, 1 << 22)  # characters sent at once: some batches stay here
    indexer = BatchIndexer(library, None if worker_plan == "none" else start(), max_sent=limit)
    for number, batch in enumerate(b for b in new_batches(library.store, records, library.settings)):
        indexer.add(batch)
        if number == 0 and worker_plan == "killed":
            os.kill(workers[0].pid, signal.SIGKILL)
        if number == 1 and worker_plan == "replaced":
            from tfidf import load_index

            library.index.refresh()
            library.index = load_index(dump_index(library.index, {}))[0]
    indexer.finish()
    indexer.close()
    assert (len(workers) == 1) is (worker_plan != "none")
    if worker_plan in ("all", "limited"):
        assert not workers[0].closed  # left for the next ingestion
    library.refresh(helper=workers[0] if workers else None)  # weighed half there, as `server.py ingest` does
    for worker in workers:
        worker.close()
    return dump_index(library.index, {}), library.store.counts()[0]


@pytest.mark.parametrize("plan", ["all", "killed", "replaced", "limited"])
def test_ingesting_with_the_worker_builds_the_index_one_process_builds(shared_data, plan):
    corpus = records(shared_data, 1100)  # four full batches and a part
    expected, stored = build(corpus, "none")
    assert stored == 1100
    assert build(corpus, plan) == (expected, stored)


def test_the_command_line_ingest_is_byte_identical_with_and_without_the_worker(shared_data, tmp_path):
    """Two corpus files, each with a full batch: the worker joins in for both, with a fresh vocabulary each time."""
    corpus = records(shared_data, 800)
    parts = [tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"]
    for path, part in zip(parts, (corpus[:400], corpus[400:])):
        with gzip.open(path, "wt", encoding="utf-8") as out:
            for record in part:
                out.write(json.dumps({"_id": record.id, "title": record.title, "text": record.text}) + "\n")
    snapshots = []
    for flag in ("1", "0"):
        data_dir = tmp_path / f"data{flag}"
        env = dict(os.environ, INGEST_WORKER=flag)
        done = subprocess.run([sys.executable, "server.py", "ingest", "--data-dir", str(data_dir), *map(str, parts)],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "ingested 800 documents" in done.stderr, done.stderr
        store = open_store(data_dir)
        with store.load_snapshot() as snapshot:
            snapshots.append(snapshot.read())
        store.close()
    assert snapshots[0] == snapshots[1]


def test_the_command_line_wants_a_worker_only_where_it_reads_a_corpus(tmp_path):
    from rag.paths import any_corpus

    (tmp_path / "notes.txt").write_text("words")
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "records.JSONL.gz").write_bytes(b"")
    assert any_corpus([str(tmp_path)], "*")
    assert not any_corpus([str(tmp_path)], "*.txt")
    assert not any_corpus([str(tmp_path / "notes.txt")], "*")
    assert any_corpus([str(tmp_path / "notes.txt"), str(tmp_path / "deep" / "records.JSONL.gz")], "*.pdf")


def test_the_worker_needs_two_usable_cpus_a_container_quota_included(tmp_path):
    from rag.workers import cgroup_quota, usable_cpus

    assert cgroup_quota("max 100000\n") == float("inf")
    assert cgroup_quota("50000 100000\n") == 0.5
    assert cgroup_quota("200000 100000") == 2
    limited = tmp_path / "cpu.max"
    limited.write_text("50000 100000\n")
    assert usable_cpus(str(limited)) == 0.5
    assert usable_cpus(str(tmp_path / "absent")) >= 1


def test_ctrl_c_during_an_ingest_ends_both_processes_cleanly_and_a_rerun_goes_on(shared_data, tmp_path):
    corpus = shared_data / "beir" / "scifact" / "corpus.jsonl.gz"
    if not corpus.is_file():
        pytest.skip("no SciFact corpus")
    data_dir = tmp_path / "data"
    command = [sys.executable, "server.py", "ingest", "--data-dir", str(data_dir), str(corpus)]
    process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, start_new_session=True)
    files = [data_dir / "store.sqlite3", data_dir / "store.sqlite3-wal"]
    while process.poll() is None and sum(f.stat().st_size for f in files if f.exists()) < 1 << 20:
        time.sleep(0.01)  # until some batches are stored: the ingest is under way
    children = psutil.Process(process.pid).children() if process.poll() is None else []
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=30) == 130, stderr
    assert "interrupted: what was stored is kept" in stderr and "Traceback" not in stderr
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive
    rerun = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0 and "0 failed" in rerun.stderr, rerun.stderr
    store = open_store(data_dir)
    assert store.counts()[0] == 5183
    store.close()
