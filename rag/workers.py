"""Text analysis in a second process during bulk ingestion, where the platform can fork.

Analysis is most of an ingest's work; reading, chunking, SQLite and the index
the rest.  An :class:`AnalysisWorker` is a child forked at the start of
``server.py ingest`` (while the parent is small, so little of it is shared)
that imports only tfidf and counts with a :class:`~tfidf.batch.BatchCounter`:
the parent sends it most of a batch's chunks down one pipe and, while it
counts them, stores the batch, counts the rest and indexes the batch before
(:mod:`rag.bulk`); the counts come back down another pipe.  The parent always
reads a batch's counts before it sends the next, so neither side ever blocks
writing while the other does.  At the end the child also weighs half the
index's posting lists while the parent weighs the other half
(:meth:`AnalysisWorker.weigh`).  The child ends when its pipe closes, so it goes
with its parent however that ends.

A message is a count of parts, their lengths and the parts (8-byte unsigned
integers in the machine's order: both ends are the same machine).
"""
from __future__ import annotations

import os
import signal
import sys
import time
from array import array
from collections.abc import Sequence
from itertools import accumulate

TYPE_CHECKING = False  # (not typing's: a search process need not load it)
if TYPE_CHECKING:  # tfidf is imported after the fork, in each process: the child is forked small
    from tfidf.batch import CountedBatch

STEM_CACHE = 8192  # words; each distinct token is analysed once anyway (the counter caches its ids)
PIPE_BYTES = 1 << 20
RESET = b"reset"  # a one-part request: start a new vocabulary (a new ingestion); no reply
WEIGH = b"weigh"  # a request's first part: weigh these posting lists (see AnalysisWorker.weigh)


class WorkerError(RuntimeError):
    """The analysis worker ended or answered out of turn; the caller analyses in-process instead."""


def start_worker(language: str) -> AnalysisWorker | None:
    """A forked analysis worker, or None where processes cannot be forked (or the fork fails) or
    fewer than two CPUs are usable (two processes on one would only add the hand-over's cost)."""
    if not hasattr(os, "fork") or usable_cpus() < 2:
        return None
    try:
        return AnalysisWorker(language)
    except OSError:
        return None


def usable_cpus(cgroup_file: str = "/sys/fs/cgroup/cpu.max") -> float:
    """CPUs this process may run on: its affinity, capped by a cgroup v2 quota (a container's limit)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        with open(cgroup_file) as handle:
            return min(cpus, cgroup_quota(handle.read()))
    except OSError:
        return cpus


def cgroup_quota(text: str) -> float:
    """CPUs a cgroup v2 ``cpu.max`` allows ("quota period", or "max period": no limit)."""
    quota, _, period = text.strip().partition(" ")
    return float("inf") if quota == "max" or not period else int(quota) / int(period)


def pack_strings(strings: Sequence[str]) -> list[bytes]:
    """Strings as two message parts: their UTF-8 end to end, and where each ends (in characters)."""
    return ["".join(strings).encode("utf-8", "surrogatepass"), array("Q", accumulate(map(len, strings))).tobytes()]


def unpack_strings(blob: bytes, ends: bytes) -> list[str]:
    """The strings :func:`pack_strings` packed."""
    text, stops = blob.decode("utf-8", "surrogatepass"), array("Q", ends)
    return list(map(text.__getitem__, map(slice, [0, *stops[:-1]], stops)))


def write_message(stream, parts: list[bytes]) -> None:
    stream.write(array("Q", [len(parts), *map(len, parts)]).tobytes())
    for part in parts:
        stream.write(part)
    stream.flush()


def read_message(stream) -> list[bytes] | None:
    """The next message's parts; None at a clean end of stream."""
    head = stream.read(8)
    if not head:
        return None
    lengths = array("Q", _exactly(stream, 8 * array("Q", _whole(head, 8))[0]))
    return [_exactly(stream, length) for length in lengths]


def _whole(data: bytes, size: int) -> bytes:
    if len(data) != size:
        raise WorkerError(f"message cut short: {len(data)} of {size} bytes")
    return data


def _exactly(stream, size: int) -> bytes:
    return _whole(stream.read(size), size)


class AnalysisWorker:
    """A forked child that counts chunks' term ids, one batch at a time, in a vocabulary of its own."""

    def __init__(self, language: str) -> None:
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        for fd in (parent_writes, child_writes):
            _widen(fd)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the child would repeat what the parent had buffered
        self.pid = os.fork()
        if self.pid == 0:
            os.close(parent_writes)
            os.close(parent_reads)
            _child(language, child_reads, child_writes)
        os.close(child_reads)
        os.close(child_writes)
        self._requests, self._replies = os.fdopen(parent_writes, "wb"), os.fdopen(parent_reads, "rb")
        self.busy = self.closed = False
        self.seconds = 0.0  # how long the child took to count the last batch received

    def reset(self) -> None:
        """Start counting in a new vocabulary (ids from 0), for a new ingestion."""
        if self.busy:
            raise WorkerError("the worker is busy (a batch or a weighing): read its answer first")
        self._send([RESET])

    def submit(self, chunks: Sequence[tuple[str | None, str]], boost: int) -> None:
        """Send a batch of (heading, text) to be counted; its counts are :meth:`receive`'s."""
        if self.busy:
            raise WorkerError("the worker is busy (a batch or a weighing): read its answer first")
        headings = [heading or "" for heading, _ in chunks]
        self._send([*pack_strings(headings), *pack_strings([text for _, text in chunks]), b"%d" % boost])
        self.busy = True

    def receive(self) -> CountedBatch:
        """The counts of the batch last submitted (waits for them)."""
        if not self.busy:
            raise WorkerError("no batch was submitted")
        parts = self._reply()
        self.busy = False
        self.seconds = float(parts[-1])
        return _counted(parts[:-1])

    def weigh(self, postings, lens: array, groups: array, n_docs: int, avg_len: float, params,
              step: float) -> RemoteWeighing | None:
        """Have the child weigh these posting lists under BM25 at ``step`` (a ``helper`` of
        :func:`tfidf.weights.compute_weights`); None if it cannot (it is busy, ended or gone).
        An ingestion's last step: the child drops its vocabulary first, as a :meth:`reset` does.
        The worker stays busy (takes no batch) until the handle has read the weights or given up."""
        if self.busy or self.closed:
            return None
        numbers = array("d", [n_docs, avg_len, params.k1, params.b, step]).tobytes()
        arrays = (postings.offsets, postings.docs, postings.tfs, lens, groups)
        try:
            self._send([WEIGH, numbers, *(part for a in arrays for part in _wire(a))])
        except WorkerError:
            return None
        self.busy = True
        return RemoteWeighing(self)

    def _send(self, parts: list[bytes]) -> None:
        try:
            write_message(self._requests, parts)
        except OSError as exc:  # BrokenPipeError: the child is gone
            raise WorkerError(f"the analysis worker is gone: {exc}") from exc

    def _reply(self) -> list[bytes]:
        """The child's next message (waits for it); WorkerError if it ended or its pipe failed."""
        try:
            parts = read_message(self._replies)
        except OSError as exc:
            raise WorkerError(f"the analysis worker's pipe failed: {exc}") from exc
        if parts is None:
            raise WorkerError("the analysis worker ended")
        return parts

    def close(self) -> None:
        """End the child (closing its pipe ends it) and reap it."""
        if self.closed:
            return
        self.closed = True
        for stream in (self._requests, self._replies):
            try:
                stream.close()
            except OSError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:  # reaped already
            pass


def _wire(values: array | memoryview) -> tuple[bytes, memoryview]:
    """An array's (or an array view's) type code and its bytes, as a message carries them (no copy)."""
    code = values.typecode if isinstance(values, array) else values.format
    return code.encode(), memoryview(values).cast("B")


class RemoteWeighing:
    """The parent's handle on posting lists the child weighs."""

    def __init__(self, worker: AnalysisWorker) -> None:
        self._worker = worker

    def weights(self) -> tuple[array, array, dict[int, array]] | None:
        """What :meth:`tfidf.weights.WeighingPart.quantise` gives, from the child (waits for it); None if it failed."""
        from tfidf.floors import FLOOR_DEPTHS

        try:
            parts = self._worker._reply()
        except WorkerError:
            return None
        self._worker.busy = False  # its reply: the child waits for requests again
        impacts, upper, *floors = (array("H", part) for part in parts)
        return impacts, upper, dict(zip(FLOOR_DEPTHS, floors))


def _widen(fd: int) -> None:
    """Give a pipe a buffer a whole batch fits in, where the platform allows (Linux: up to 1 MiB), so a
    message goes in a few writes rather than one 64 KiB piece per switch to the reader."""
    import fcntl

    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError):  # not Linux, or above /proc/sys/fs/pipe-max-size
        pass


def _counted(parts: list[bytes]) -> CountedBatch:
    from tfidf.batch import CountedBatch

    blob, ends, ids, counts, chunk_ends = parts
    return CountedBatch(unpack_strings(blob, ends), array("I", ids), array("I", counts), array("I", chunk_ends))


def _child(language: str, requests_fd: int, replies_fd: int) -> None:
    """The child's whole life: count batches until the parent closes the pipe, then exit."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; its exit ends us
        _serve(os.fdopen(requests_fd, "rb"), os.fdopen(replies_fd, "wb"), language)
        status = 0
    except BrokenPipeError:
        pass  # the parent went away mid-answer
    except BaseException:  # noqa: BLE001 - reported, then the parent sees the pipe close
        import traceback

        traceback.print_exc()
    finally:
        os._exit(status)  # no atexit handlers, no flushing the parent's buffers, no closing its SQLite


def _serve(requests, replies, language: str) -> None:
    from tfidf import Analyzer
    from tfidf.batch import BatchCounter

    counter = None  # made at the first batch, anew after a reset
    while (parts := read_message(requests)) is not None:
        if parts == [RESET]:
            counter = None
            continue
        if parts[0] == WEIGH:  # an ingestion's last step: its vocabulary goes first (~3 MB)
            counter = None
            _weigh(parts[1:], replies)
            continue
        if counter is None:
            counter = BatchCounter(Analyzer(language, cache_size=STEM_CACHE))
        started = time.perf_counter()
        headings, texts = unpack_strings(*parts[0:2]), unpack_strings(*parts[2:4])
        batch = counter.count(zip(headings, texts), int(parts[4]))
        write_message(replies, [*pack_strings(batch.new_terms), batch.ids.tobytes(), batch.counts.tobytes(),
                                batch.ends.tobytes(), b"%.6f" % (time.perf_counter() - started)])


def _weigh(parts: list[bytes], replies) -> None:
    """Weigh the posting lists a :data:`WEIGH` request holds, and send their impacts, ceilings and floors."""
    from tfidf.floors import FLOOR_DEPTHS
    from tfidf.postings import Postings
    from tfidf.scoring import ScoringParams
    from tfidf.weights import bm25_part

    n_docs, avg_len, k1, b, step = array("d", parts[0])
    offsets, docs, tfs, lens, groups = (array(code.decode(), data) for code, data in zip(parts[1::2], parts[2::2]))
    part = bm25_part(Postings(offsets=offsets, docs=docs, tfs=tfs), lens, int(n_docs), avg_len,
                     ScoringParams("bm25", k1, b))
    impacts, upper, floors = part.quantise(step, groups)
    weights = (impacts, upper, *(floors[depth] for depth in FLOOR_DEPTHS))
    write_message(replies, [memoryview(a).cast("B") for a in weights])  # their bytes, not copies of them
