"""Bulk ingestion of corpus records: batches stored, then indexed in order.

With an :class:`~rag.workers.AnalysisWorker`, most of a batch's text is counted
in the worker while this process stores that batch, counts the rest and
indexes the batch before, so the two overlap (one batch in flight).  Without
one, or once it fails, each batch is stored and analysed here in turn.  Either
way every stored batch is indexed before the next one is stored, chunks go in
in key order, and an index built with the worker is byte-identical to one
built without.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from store import DocumentRecord, NewChunk, NewDocument
from tfidf.batch import CountedBatch, IdMap

from .settings import Settings
from .workers import AnalysisWorker, WorkerError

BULK_BATCH = 256  # documents stored in one transaction (and counted by the worker at a time)
MAX_SHARE = 0.6  # of a batch's chunks counted in this process when there is a worker
FIRST_SHARE = 0.4  # counted here from the first batch, before timings exist: both sides start cold
MAX_SENT_CHARS = 1 << 22  # of text sent to the worker at once (~10 SciFact batches); more is counted here

Batch = list[tuple[NewDocument, list[NewChunk]]]


def record_sha256(record) -> str:
    import hashlib  # OpenSSL costs ~3.6 MB: loaded only when something is ingested

    return hashlib.sha256("\x1f".join((record.id, record.title, record.text)).encode()).hexdigest()


def record_document(record, sha: str, settings: Settings) -> tuple[NewDocument, list[NewChunk]]:
    """A corpus record as a new document and its chunks."""
    import ingest

    document = NewDocument(uid=sha[:16], name=record.title or record.id, media_type=ingest.NDJSON,
                           sha256=sha, bytes=len(record.text.encode()), source_id=record.id,
                           title=record.title or None)
    text, heading = record.text, record.title or None  # one section: chunk_sections' chunks, made directly
    chunks = [NewChunk(text[start:end], None, heading, start, end)
              for start, end in ingest.chunk_spans(text, settings.CHUNK_SIZE, settings.CHUNK_OVERLAP)]
    return document, chunks


def new_batches(store, records: Iterable, settings: Settings) -> Iterator[Batch | DocumentRecord]:
    """Batches of the records not stored yet, as new documents; the stored document of each record
    stored before (a repeat within this run is just skipped)."""
    known = store.known_hashes()
    batch: Batch = []
    for record in records:
        sha = record_sha256(record)
        if sha in known:
            existing = store.document_by_sha(sha)
            if existing is not None:
                yield existing
            continue
        known.add(sha)
        batch.append(record_document(record, sha, settings))
        if len(batch) >= BULK_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class BatchIndexer:
    """Stores batches through ``library`` and indexes them in order, sharing the counting with ``worker``.

    The worker joins in at the first full batch (small ingests stay in one process), with a fresh
    vocabulary.  The first ``share`` of a batch's chunks is then counted here and the rest there,
    the share chosen from the last batch's timings so that both processes finish together
    (:meth:`_rebalance`).  The library's ingest lock is held throughout.
    """

    def __init__(self, library, worker: AnalysisWorker | None = None, *, store=None,
                 max_sent: int = MAX_SENT_CHARS) -> None:
        """``store``: where batches are stored (default: the library's); ``max_sent``: the most text
        (characters) sent to the worker at once (a batch of huge records is counted here instead)."""
        self._library, self._spare, self._max_sent = library, worker, max_sent
        self._store = library.store if store is None else store
        self._worker: AnalysisWorker | None = None  # the worker, once it has joined in
        self._ids: IdMap | None = None  # the worker's term ids -> the index's
        self._in_flight: tuple | None = None  # (keys, groups, chunks, records) of the chunks the worker counts
        self.share = FIRST_SHARE
        self._sent_at, self._here = 0.0, (0, 0.0)  # when the worker's chunks went; chunks counted here, seconds

    def add(self, batch: Batch) -> list[DocumentRecord]:
        """Store ``batch``; the documents wholly indexed by the time this returns."""
        if self._spare is not None and len(batch) >= BULK_BATCH:
            self._join()
        chunks = [(chunk.heading, chunk.text) for _, chunks in batch for chunk in chunks]
        done = self._take()
        here = self._hand_out(chunks)
        indexed = self._finish(done)
        if self._worker is None:  # it failed or was dropped just now: count every chunk here
            here = len(chunks)
        stored = self._store.add_documents(batch)
        keys = [key for _, chunk_keys in stored for key in chunk_keys]
        groups = [record.key for record, chunk_keys in stored for _ in chunk_keys]
        self._count_here(keys[:here], groups[:here], chunks[:here])
        records = [record for record, _ in stored]
        if here == len(chunks):  # nothing left for the worker
            self._library.batch_indexed()
            return indexed + records
        self._in_flight = (keys[here:], groups[here:], chunks[here:], records)
        return indexed

    def finish(self) -> list[DocumentRecord]:
        """Index the chunks still being counted; the documents that completes."""
        return self._finish(self._take())

    def close(self) -> None:
        """Stop using the worker; it is ended if it was counting (what it counted is dropped)."""
        if self._worker is not None and (self._in_flight is not None or self._worker.busy):
            self._worker.close()
        self._worker = self._in_flight = None

    def _drop(self) -> None:
        """End the worker for good: it failed, or its ids no longer map."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def _join(self) -> None:
        worker, self._spare = self._spare, None
        try:
            worker.reset()
        except WorkerError:
            worker.close()
            return
        self._worker, self._ids = worker, IdMap(self._library.index)

    def _take(self) -> tuple[tuple, CountedBatch | None] | None:
        """The chunks in flight with their counts (None if the worker failed: it is then closed)."""
        if self._in_flight is None:
            return None
        in_flight, self._in_flight = self._in_flight, None
        elapsed = time.perf_counter() - self._sent_at
        try:
            counted = self._worker.receive()
        except WorkerError:
            self._drop()
            return in_flight, None
        self._rebalance(elapsed, len(in_flight[2]))
        return in_flight, counted

    def _rebalance(self, elapsed: float, sent: int) -> None:
        """Choose the share so that, at the last batch's rates, this process's work (its other work and
        the chunks it counts) takes as long as the worker's counting of the rest."""
        here, seconds = self._here
        per_chunk = self._worker.seconds / max(sent, 1)  # the worker's
        per_chunk_here = seconds / here if here >= 8 else per_chunk
        chunks = sent + here
        balanced = (chunks * per_chunk - (elapsed - seconds)) / (per_chunk_here + per_chunk) / max(chunks, 1)
        self.share = (self.share + min(MAX_SHARE, max(0.0, balanced))) / 2  # halfway: timings are noisy

    def _hand_out(self, chunks: list[tuple[str | None, str]]) -> int:
        """Send the worker its part of a batch; how many chunks (the first) are left to count here."""
        here = round(self.share * len(chunks)) if self._worker is not None else len(chunks)
        if here == len(chunks) or sum(len(text) for _, text in chunks[here:]) > self._max_sent:
            return len(chunks)
        self._send(chunks[here:])
        return here

    def _count_here(self, keys: list[int], groups: list[int], chunks: list[tuple[str | None, str]]) -> None:
        started = time.perf_counter()
        self._library.index_chunks(zip(keys, groups, chunks))
        self._here = (len(chunks), time.perf_counter() - started)

    def _send(self, chunks: list[tuple[str | None, str]]) -> None:
        try:
            self._worker.submit(chunks, self._library.settings.TITLE_BOOST)
        except WorkerError:
            self._drop()
        self._sent_at = time.perf_counter()

    def _finish(self, done: tuple[tuple, CountedBatch | None] | None) -> list[DocumentRecord]:
        """Index the chunks the worker counted (or count them here if it could not); their batch is done."""
        if done is None:
            return []
        (keys, groups, chunks, records), counted = done
        library = self._library
        if counted is not None and self._ids.index is library.index:
            library.index_counted(keys, groups, counted, self._ids)
        else:
            if counted is not None:  # a reconcile replaced the index: the ids map to the old one
                self._drop()
            library.index_chunks(zip(keys, groups, chunks))
        library.batch_indexed()
        return records
