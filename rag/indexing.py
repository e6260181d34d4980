"""The index's life beside the store: load the snapshot, reconcile it, save it.

The store is the truth; the snapshot is a cache tagged with the store
generation it reflects and the settings that shaped it.  On open a current
snapshot is used as is (milliseconds); a stale one is reconciled (chunks the
store lost are deleted, chunks it gained are analysed and added); one made
with other settings is rebuilt from the stored chunk text.
"""
from __future__ import annotations

from itertools import compress

from store import Store
from tfidf import Analyzer, IndexFormatError, IndexParams, InvertedIndex, ScoringParams, dump_parts, load_index
from tfidf.weights import WEIGHTS_VERSION

from .settings import Settings

ANALYSIS_VERSION = 3  # bump when tokenisation or stemming changes what terms a text gives


def _log(message: str, *args) -> None:
    import logging  # loaded only when there is something to say

    logging.getLogger("rag.index").info(message, *args)


def index_params(settings: Settings) -> IndexParams:
    scoring = ScoringParams(settings.SCORING, settings.BM25_K1, settings.BM25_B)
    return IndexParams(scoring, settings.MAX_FEATURES or None)


def signature(settings: Settings) -> dict:
    """What must match for a saved index to be reused."""
    return {"analysis": ANALYSIS_VERSION, "weights": WEIGHTS_VERSION, "language": settings.LANGUAGE,
            "title_boost": settings.TITLE_BOOST, "scoring": settings.SCORING, "k1": settings.BM25_K1,
            "b": settings.BM25_B, "max_features": settings.MAX_FEATURES}


def open_index(store: Store, settings: Settings, analyzer: Analyzer) -> tuple[InvertedIndex, int, bool]:
    """The index for ``store``, the store generation it reflects, and whether it differs from the snapshot."""
    index, meta = _load(store, settings)
    generation = store.generation()
    if meta.get("generation") == generation:
        return index, generation, False
    index, changed = reconcile(index, store, settings, analyzer)
    return index, generation, changed or meta.get("generation") is None


def _load(store: Store, settings: Settings) -> tuple[InvertedIndex, dict]:
    data = store.load_snapshot()
    if data:
        try:
            index, meta = load_index(data)  # arrays read into place; the file is closed below
        except IndexFormatError as exc:
            _log("ignoring the saved index (%s); rebuilding it from the store", exc)
        else:
            if meta.get("signature") == signature(settings):
                return index, meta
            _log("settings changed since the index was saved; rebuilding it from the store")
        finally:
            if hasattr(data, "close"):
                data.close()
    return InvertedIndex(index_params(settings)), {}


def reconcile(index: InvertedIndex, store: Store, settings: Settings,
              analyzer: Analyzer) -> tuple[InvertedIndex, bool]:
    """An index holding exactly the store's chunks (``index`` updated, or rebuilt), and whether it changed.

    Chunks another process committed below the last indexed key cannot be
    added in key order, so then the index is rebuilt from the store.
    """
    stored = store.chunk_keys()
    indexed = list(compress(index.keys, index.alive))
    last = indexed[-1] if indexed else 0
    missing = set(stored).difference(indexed)
    if missing and min(missing) < last:
        _log("the store gained chunks this index cannot append; rebuilding it from the store")
        return _add_chunks(InvertedIndex(index_params(settings)), store, 0, settings, analyzer), True
    gone = set(indexed).difference(stored)
    for key in gone:
        index.delete(key)
    if gone or missing:
        _log("index reconciled with the store: %d chunks removed, %d added", len(gone), len(missing))
    return _add_chunks(index, store, last, settings, analyzer), bool(gone or missing)


def _add_chunks(index: InvertedIndex, store: Store, after: int, settings: Settings,
                analyzer: Analyzer) -> InvertedIndex:
    counter, boost = index.term_counter(analyzer), settings.TITLE_BOOST
    for chunk in store.iter_chunks(after=after):
        index.add_counts(chunk.key, counter.counts(chunk.text, chunk.heading, boost), group=chunk.document_key)
    return index


def save_index(index: InvertedIndex, store: Store, settings: Settings, generation: int) -> None:
    """Write the snapshot (atomically, by the store) tagged with ``generation``."""
    with dump_parts(index, {"generation": generation, "signature": signature(settings)}) as parts:
        store.save_snapshot(parts)  # views of the index's arrays: no second copy of it in memory
