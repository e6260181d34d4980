"""The inverted index: add and delete documents at any time, search in between.

Documents are identified by a caller's integer key (increasing: the store's
row ids) and may belong to a group (the document a chunk came from), so a
search can rank groups by their best member.  Changes are cheap to make and
are folded into the compact arrays on the next search or save.
"""
from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter, namedtuple
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import compress, repeat
from operator import ge

from .counter import TermCounter
from .dense import NO_VECTORS, build_dense
from .errors import SettingsError
from .postings import Postings
from .scoring import ScoringParams
from .search import Hit, search_index
from .vocabulary import make_vocabulary
from .weights import Weights, compute_weights


class IndexParams(namedtuple("IndexParams", "scoring max_features")):
    """How the index weighs terms, and how large its vocabulary may grow.

    ``max_features``: None keeps every term; a number hashes terms into that many buckets.
    """

    __slots__ = ()

    def __new__(cls, scoring: ScoringParams = ScoringParams(), max_features: int | None = None) -> "IndexParams":
        if max_features is not None and max_features < 1:
            raise SettingsError(f"max_features must be a positive number or None, got {max_features}")
        return super().__new__(cls, scoring, max_features)


class IndexStats(namedtuple("IndexStats", "documents terms postings bytes dense_bytes")):
    """Sizes of an index: live documents, vocabulary, postings, bytes of its arrays (what a
    snapshot holds), and bytes of the dense vectors derived from them in memory."""

    __slots__ = ()

    @property
    def bytes_per_posting(self) -> float:
        return self.bytes / self.postings if self.postings else 0.0


class InvertedIndex:
    """A BM25 / TF-IDF index over term lists, held in compact arrays."""

    def __init__(self, params: IndexParams = IndexParams()) -> None:
        self.params = params
        self.vocabulary = make_vocabulary(params.max_features)
        self.postings = Postings(len(self.vocabulary) if params.max_features else 0)
        self.keys = array("q")  # document number -> caller's key
        self.groups = array("q")  # document number -> group key
        self.lens = array("I")  # document number -> length in terms
        self.alive = bytearray()  # document number -> 1 while not deleted
        self._dense = NO_VECTORS  # derived with the weights, replaced with them (None: at the next search)
        self._deleted = 0  # deletions not yet folded into the postings
        self._weights: Weights | None = None
        self._stale = True  # changes made since the weights were derived
        self._max_group = 1

    def __len__(self) -> int:
        return sum(self.alive)

    def __contains__(self, key: int) -> bool:
        return self._number(key) is not None

    def add(self, key: int, terms: Iterable[str] | Mapping[str, int], group: int | None = None) -> None:
        """Index a document given its terms (already analysed), or their counts."""
        self._append(key, *self._term_counts(terms), group)

    def add_counts(self, key: int, counts: Mapping[int, int], group: int | None = None) -> None:
        """Index a document given its term ids' counts, from this index's :meth:`term_counter`."""
        self._append(key, counts.keys(), counts.values(), group)

    def add_to_lists(self, keys: Sequence[int], groups: Sequence[int], lists: list[array], counts: Sequence[int],
                     ends: Sequence[int]) -> None:
        """Index several documents at once given their terms' pending lists in this index's postings
        (``postings.lists``, good until the next refresh) and the terms' counts, end to end; ``ends``:
        where each document's lists and counts end (bulk indexing's fast path: no term id is looked up)."""
        if keys and ((self.keys and keys[0] <= self.keys[-1]) or any(map(ge, keys, keys[1:]))):
            last = self.keys[-1] if self.keys else None
            raise SettingsError(f"document keys must increase: got {list(keys[:3])}... after {last}")
        number, start, append_to = len(self.keys), 0, self.postings.append_to
        for end in ends:
            part = counts[start:end]
            append_to(lists[start:end], number, part)
            self.lens.append(sum(part))
            number, start = number + 1, end
        self.keys.extend(keys)
        self.groups.extend(groups)
        self.alive.extend(repeat(1, len(keys)))
        self._stale = True

    def term_counter(self, analyzer) -> TermCounter:
        """Text -> term-id counts for :meth:`add_counts` (bulk indexing's fast path)."""
        return TermCounter(analyzer, self.vocabulary)

    def _append(self, key: int, ids: Collection[int], counts: Collection[int], group: int | None) -> None:
        if self.keys and key <= self.keys[-1]:
            raise SettingsError(f"document keys must increase: {key} after {self.keys[-1]}")
        self.postings.append(len(self.keys), ids, counts)
        self.keys.append(key)
        self.groups.append(key if group is None else group)
        self.lens.append(sum(counts))
        self.alive.append(1)
        self._stale = True

    def _term_counts(self, terms: Iterable[str] | Mapping[str, int]) -> tuple[list[int], list[int]]:
        """Distinct term ids and their counts (terms sharing a hashed bucket are added up)."""
        counts = terms if isinstance(terms, Mapping) else Counter(terms)
        if not self.vocabulary.capped:
            return self.vocabulary.add_all(counts), list(counts.values())
        by_id: Counter = Counter()
        for term, count in counts.items():
            by_id[self.vocabulary.add(term)] += count
        return list(by_id), list(by_id.values())

    def delete(self, key: int) -> bool:
        """Remove a document; False if it was not there."""
        number = self._number(key)
        if number is None:
            return False
        self.alive[number] = 0
        self._deleted += 1
        self._stale = True
        return True

    def _number(self, key: int) -> int | None:
        number = bisect_left(self.keys, key)
        if number < len(self.keys) and self.keys[number] == key and self.alive[number]:
            return number
        return None

    @property
    def stale(self) -> bool:
        """Whether changes wait to be folded in by :meth:`refresh`."""
        return self._stale or self._weights is None

    def refresh(self) -> Weights:
        """Fold pending changes into the arrays and derive the weights (if stale)."""
        if self._stale or self._weights is None:
            self.apply(self.prepare())
        return self._weights

    def prepare(self, helper=None, *, dense: bool = True) -> tuple:
        """The merged postings and derived weights (dense vectors too), built aside: what searches read is untouched.

        The caller must make no changes until it hands the result to :meth:`apply`. ``helper``: something
        that weighs half the lists in another process meanwhile (see :func:`~tfidf.weights.compute_weights`).
        ``dense=False`` leaves the dense vectors to the first search (a process that only saves needs none).
        """
        n_terms, postings = len(self.vocabulary), self.postings
        if postings.pending or self._deleted or n_terms != postings.n_terms:
            postings = postings.merged(n_terms, len(self.keys), self.alive if self._deleted else None)
        weights = compute_weights(postings, self.lens, self.alive, self.groups, self.params.scoring, helper,
                                  while_away=self.vocabulary.prepare_table)
        max_group = max(Counter(compress(self.groups, self.alive)).values(), default=1)
        return postings, weights, max_group, build_dense(postings, weights.impacts, len(self.keys)) if dense else None

    def apply(self, prepared: tuple) -> None:
        """Adopt what :meth:`prepare` built (cheap: a few assignments)."""
        self.postings, self._weights, self._max_group, self._dense = prepared
        self._deleted, self._stale = 0, False
        self.vocabulary.compact()

    def restore(self, weights: Weights, max_group: int) -> None:
        """Adopt weights saved with the postings (by the codec): nothing to recompute but dense vectors."""
        self._weights, self._max_group, self._deleted, self._stale = weights, max_group, 0, False
        self._dense = build_dense(self.postings, weights.impacts, len(self.keys))

    @property
    def dense_vectors(self):
        """The dense vectors of the last refresh's weights (built now if it left them to the first search)."""
        if self._dense is None:
            self._dense = build_dense(self.postings, self._weights.impacts, len(self.keys))
        return self._dense

    def max_group_size(self) -> int:
        """The most documents any one group holds (as of the last refresh)."""
        return self._max_group

    def search(self, terms: list[str], k: int = 10, *, by_group: bool = False, dense: bool | None = None,
               stale_ok: bool = False) -> list[Hit]:
        """The ``k`` best documents (or groups, by their best document) for a query's terms.

        ``dense`` forces one of the two accumulators (both exact; tests use it). ``stale_ok``
        searches the last refreshed state instead of refreshing first (documents added since
        are not found yet, deleted ones are left out), so a search never waits for a refresh.
        """
        weights = self._weights if stale_ok and self._weights is not None else self.refresh()
        span = self.postings.span
        ids = [tid for tid in map(self.vocabulary.get, terms) if tid is not None and span(tid)[0] != span(tid)[1]]
        alive = self.alive if self._stale else None
        return search_index(self, weights, ids, k, by_group=by_group, dense=dense, alive=alive,
                            vectors=self.dense_vectors)

    def stats(self) -> IndexStats:
        """Sizes, with bytes counting postings, weights, per-document arrays and vocabulary."""
        weights = self.refresh()
        vocab_bytes = self.vocabulary.nbytes()
        doc_bytes = sum(len(a) * a.itemsize for a in (self.keys, self.groups, self.lens)) + len(self.alive)
        weight_arrays = (weights.impacts, weights.upper, weights.idf, *weights.floors.values())
        weight_bytes = sum(len(a) * a.itemsize for a in weight_arrays)
        total = self.postings.nbytes() + doc_bytes + weight_bytes + vocab_bytes
        dense = self.dense_vectors.nbytes()
        return IndexStats(len(self), len(self.vocabulary), len(self.postings.docs), total, dense)
