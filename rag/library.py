"""The library: documents in, passages out.

It joins the store (documents and chunk text on disk), the index (in memory)
and analysis.  Ingestion runs one document at a time (a lock) and stays
all-or-nothing: a document's chunks are written in one transaction while its
text streams in, then added to the index together, so a search sees all of a
document or none of it.
"""
from __future__ import annotations

import threading
import time
from collections import namedtuple
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from store import NewChunk, NewDocument, Store
from tfidf import Analyzer, TermCounter

from .indexing import open_index, reconcile, save_index
from .settings import Settings

TYPE_CHECKING = False  # (not typing's: a search process need not load it, nor the ingestion modules)
if TYPE_CHECKING:
    from tfidf.batch import CountedBatch, IdMap

    from .workers import AnalysisWorker

CHECKPOINT_SECONDS = 30.0  # a long ingest saves the index this often, so a killed run resumes fast


class Passage(namedtuple("Passage", "document_id document_name page heading score text source_id",
                         defaults=(None,))):
    """A retrieved chunk with what a citation needs."""

    __slots__ = ()

    def public(self) -> dict:
        return {"document_id": self.document_id, "document_name": self.document_name, "page": self.page,
                "heading": self.heading, "score": round(self.score, 6), "text": self.text}


class Added(namedtuple("Added", "document duplicate", defaults=(False,))):
    """A document the library took in, or found already there (duplicate)."""

    __slots__ = ()

    def public(self) -> dict:
        return self.document.public() | {"duplicate": self.duplicate}


def file_sha256(path: str | Path) -> tuple[str, int]:
    """Hex SHA-256 and size of a file, read in blocks."""
    import hashlib  # OpenSSL costs ~3.6 MB: loaded only when something is ingested

    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


class Library:
    """Store + index + analyzer, shared by the server and the command line."""

    def __init__(self, store: Store, settings: Settings, *, checkpoint_seconds: float = CHECKPOINT_SECONDS,
                 analysis_worker: AnalysisWorker | None = None) -> None:
        """``analysis_worker``: a process that bulk ingestion shares the counting of terms with (the
        command line forks one; a threaded server does not)."""
        self.store, self.settings = store, settings
        self.checkpoint_seconds = checkpoint_seconds
        self.analysis_worker = analysis_worker
        self.analyzer = Analyzer(settings.LANGUAGE)
        self._index_lock = threading.RLock()  # guards the index: adds, refreshes, searches
        self._ingest_lock = threading.Lock()  # one ingestion at a time
        self._counter: TermCounter | None = None  # token -> term id cache of the ingestion under way
        self.index, self._generation, self._dirty = open_index(store, settings, self.analyzer)
        self._saved_at = time.monotonic()
        if self._dirty and not store.read_only:
            self.save()

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def _term_counter(self) -> TermCounter:
        """Text -> term-id counts for the current index, kept while one ingestion lasts."""
        if self._counter is None or self._counter.vocabulary is not self.index.vocabulary:
            self._counter = self.index.term_counter(self.analyzer)
        return self._counter

    def search(self, query: str, top_k: int = 5, *, by_document: bool = False) -> list[Passage]:
        """The best passages for ``query`` (or the best passage of each of the best documents)."""
        self.catch_up_if_idle()
        terms = self.analyzer.terms(query)
        with self._index_lock:  # the last refreshed state: a search never waits for a refresh
            hits = self.index.search(terms, top_k, by_group=by_document, stale_ok=True)
        chunks = self.store.chunks(h.key for h in hits)
        documents = self.store.documents_by_key({c.document_key for c in chunks.values()})
        passages = []
        for hit in hits:
            chunk = chunks.get(hit.key)
            document = documents.get(chunk.document_key) if chunk else None
            if document is not None:
                passages.append(Passage(document.uid, document.name, chunk.page, chunk.heading, hit.score,
                                        chunk.text, document.source_id))
        return passages

    def search_keys(self, terms: list[str], top_k: int) -> list:
        """Raw document-level hits for analysed ``terms`` (the command line's fast path)."""
        with self._index_lock:
            return self.index.search(terms, top_k, by_group=True)

    def add_file(self, path: str | Path, name: str) -> list[Added]:
        """Ingest one file; JSON Lines files give one document per record."""
        import ingest  # the readers load on the first ingestion, not for searching

        sha, size = file_sha256(path)
        with self._ingesting():
            existing = self.store.document_by_sha(sha)
            if existing is not None:
                return [Added(existing, duplicate=True)]
            media_type = ingest.sniff(path, name)
            if media_type == ingest.NDJSON:
                return self._add_corpus_file(path, name)
            document = NewDocument(uid=sha[:16], name=name, media_type=media_type, sha256=sha, bytes=size)
            sections = ingest.extract_sections(path, media_type, time_limit=self.settings.PDF_TIME_LIMIT, name=name)
            record, _ = self.store.add_document(document, self._chunks(sections, name))
            self.index_chunks((c.key, record.key, (c.heading, c.text)) for c in self.store.document_chunks(record.key))
            self._committed()
            return [Added(record)]

    def _add_corpus_file(self, path: str | Path, name: str) -> list[Added]:
        """An uploaded JSON Lines file: checked whole first (size, every line), so a bad one stores nothing."""
        import ingest

        limit = int(self.settings.MAX_UPLOAD_MB * 2**20)
        for _ in ingest.iter_records(path, name=name, max_bytes=limit):
            pass
        return list(self._add_records(ingest.iter_records(path, name=name, max_bytes=limit)))

    def _chunks(self, sections: Iterable, name: str) -> Iterator[NewChunk]:
        """Chunks as the store consumes them; no chunk at all means nothing to search."""
        import ingest

        count = 0
        size, overlap = self.settings.CHUNK_SIZE, self.settings.CHUNK_OVERLAP
        for chunk in ingest.chunk_sections(sections, size, overlap):
            count += 1
            yield NewChunk(chunk.text, chunk.page, chunk.heading, chunk.start, chunk.end)
        if not count:
            raise ingest.NoText(f"{name}: no extractable text to index; upload a file with readable words in it")

    def add_records(self, records: Iterable) -> Iterator[Added]:
        """Ingest corpus records (JSON Lines), skipping those already stored; resumable."""
        with self._ingesting():
            yield from self._add_records(records)

    @contextmanager
    def _ingesting(self) -> Iterator[None]:
        """The ingest lock, held for one ingestion; the token cache it filled is let go after."""
        with self._ingest_lock:
            try:
                yield
            finally:
                self._counter = None

    def _add_records(self, records: Iterable) -> Iterator[Added]:
        from .bulk import BatchIndexer, new_batches  # ingestion's: a search process never loads it

        worker = self.analysis_worker
        indexer = BatchIndexer(self, worker if worker is not None and not worker.closed else None)
        try:
            for item in new_batches(self.store, records, self.settings):
                if isinstance(item, list):
                    yield from map(Added, indexer.add(item))
                else:  # a document stored before
                    yield Added(item, duplicate=True)
            yield from map(Added, indexer.finish())
        finally:
            indexer.close()

    def index_chunks(self, chunks: Iterable[tuple[int, int, tuple[str | None, str]]]) -> None:
        """Analyse and index (key, group, (heading, text)) chunks in key order, one at a time, so memory
        holds one chunk's counts (a 40 MB record would otherwise stage hundreds of MB of them).
        Ingestion's: the ingest lock is held."""
        counter, boost = self._term_counter(), self.settings.TITLE_BOOST
        with self._index_lock:
            for key, group, (heading, text) in chunks:
                self.index.add_counts(key, counter.counts(text, heading, boost), group=group)

    def index_counted(self, keys: list[int], groups: list[int], counted: CountedBatch, ids: IdMap) -> None:
        """Index chunks the analysis worker counted (ingest lock held)."""
        with self._index_lock:
            ids.add(counted, keys, groups)

    def batch_indexed(self) -> None:
        """A stored batch is wholly in the index: account for its commit, and save if it is time
        (ingest lock held)."""
        self._committed()
        if time.monotonic() - self._saved_at > self.checkpoint_seconds:
            self._save_locked()

    def delete(self, uid: str) -> bool:
        """Remove a document from store and index; False if there was none."""
        with self._ingest_lock:
            keys = self.store.delete_document(uid)
            if keys is None:
                return False
            with self._index_lock:
                for key in keys:
                    self.index.delete(key)
                self._committed()
            return True

    def _committed(self) -> None:
        """Account for this process's own commit; anything else committed meanwhile needs a resync.
        (The generation and the dirty flag are the ingest lock's: every caller holds it.)"""
        self._dirty = True
        if self.store.committed == self._generation + 1:
            self._generation = self.store.committed
        else:
            self._generation = -1  # another process wrote too: reconcile before trusting the index

    def catch_up_if_idle(self) -> None:
        """Unless an ingestion is under way: take in other processes' changes and fold pending ones in."""
        if not self._ingest_lock.acquire(blocking=False):
            return  # the ingestion refreshes when it is done; searches meanwhile read the last state
        try:
            if not self.read_only:
                self._sync()
            if self.index.stale:
                self._refresh_locked()
        finally:
            self._ingest_lock.release()

    def _sync(self) -> None:
        """Catch up with documents other processes (the command line) added or deleted; ingest lock held."""
        generation = self.store.generation()
        if generation == self._generation:
            return
        with self._index_lock:
            self.index, changed = reconcile(self.index, self.store, self.settings, self.analyzer)
            self._generation = generation
            self._dirty = self._dirty or changed

    def refresh(self, helper=None, *, dense: bool = True) -> None:
        """Fold pending changes into the index, built aside while searches go on; then swap it in.
        ``helper``: a process to weigh half the index meanwhile (bulk ingestion's worker); ``dense=False``
        leaves the dense vectors to the first search (a process that only saves the index needs none)."""
        with self._ingest_lock:  # no adds or deletes while it is built
            self._refresh_locked(helper, dense=dense)

    def _refresh_locked(self, helper=None, *, dense: bool = True) -> None:
        if not self.index.stale:
            return
        prepared = self.index.prepare(helper, dense=dense)
        with self._index_lock:
            self.index.apply(prepared)

    def save(self) -> None:
        """Persist the index snapshot if it changed (no-op when read-only)."""
        if self.read_only:
            return
        with self._ingest_lock:
            self._save_locked()

    def checkpoint(self) -> None:
        """Save if the last save is older than ``checkpoint_seconds`` (bulk ingestion calls this)."""
        if time.monotonic() - self._saved_at > self.checkpoint_seconds:
            self.save()

    def _save_locked(self) -> None:
        self._sync()
        self._saved_at = time.monotonic()
        if not self._dirty:
            return
        if self.index.stale:  # fold changes in aside, not inside dump_index under the index lock
            self._refresh_locked()
        with self._index_lock:
            save_index(self.index, self.store, self.settings, self._generation)
            self._dirty = False

    def stats(self) -> dict:
        documents, chunks = self.store.counts()
        with self._index_lock:
            vocabulary = len(self.index.vocabulary)
        return {"documents": documents, "chunks": chunks, "vocabulary": vocabulary}
