"""Floors: per term, its k-th best impact among distinct groups, a lower bound search prunes with.

A single term's k-th best is a lower bound on a query's k-th best score, so
search can prune from the first list on instead of waiting for candidates.
"""
from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from itertools import compress, repeat
from operator import eq, itemgetter, le, ne, sub

FLOOR_DEPTHS = (10, 100)  # k values for which each term keeps its k-th best impact


def list_lengths(offsets: array) -> array:
    """Each term's document frequency (the length of its list)."""
    return array("I", map(sub, offsets[1:], offsets))


def term_floors(postings, impacts: array, groups: array, upper: array | None = None,
                lengths: array | None = None) -> dict[int, array]:
    """Per term and depth k, the k-th best impact among distinct groups (0 if fewer groups).

    A single term's k-th best is a lower bound on a query's k-th best score, so
    search can prune from the first list on instead of waiting for candidates.
    ``upper`` (each list's largest impact, as in Weights) and ``lengths`` (each list's) only save
    finding them again.
    """
    floors = {depth: array("H", bytes(2 * postings.n_terms)) for depth in FLOOR_DEPTHS}
    ranker, offsets = _GroupRanker(postings, impacts, groups), postings.offsets
    lengths = list_lengths(offsets) if lengths is None else lengths
    long_enough = map(le, repeat(min(FLOOR_DEPTHS)), lengths)
    for term in compress(range(postings.n_terms), long_enough):
        start, end = offsets[term], offsets[term + 1]
        top = upper[term] if upper is not None else max(impacts[start:end])
        ranked, n_groups = ranker.ranked(start, end, top >> 8)
        for depth, floor in floors.items():
            if n_groups >= depth:
                floor[term] = ranked[depth - 1]
    return floors


class _GroupRanker:
    """A posting list's groups ranked by their best impacts, as deep as its floors need.

    Candidates: a long list's floors lie among its top impacts, so it is first cut down to the
    postings whose impact's high byte reaches a level (found by byte-wide C scans) at which
    enough groups remain.  Exact: every group with an impact at or above the level keeps its
    best one there, and those outrank all the others.

    Groups: each document is labelled with the first document of its group.  When every group's
    documents are consecutive numbers (the chunks of one document, added together), a group's
    postings are neighbours in a list, so comparing neighbouring labels finds the few repeats,
    and each run keeps its best impact (the others become 0, which no floor counts); otherwise
    a dict of labels keeps each group's best.
    """

    MARGIN = 1.5  # candidates sought per group needed: groups often hold several of a list's best postings

    def __init__(self, postings, impacts: array, groups: array) -> None:
        self.impacts, self.docs = impacts, postings.docs
        self.high = impacts.tobytes()[1 if sys.byteorder == "little" else 0 :: 2]  # each impact >> 8
        first: dict[int, int] = {}
        self.label_of = list(map(first.setdefault, groups, range(len(groups))))
        self.shared = len(first) < len(groups)  # some group holds several documents
        self.consecutive = 1 + sum(map(ne, groups, groups[1:])) == len(first)  # one run of numbers per group
        # per level, a byte table: byte >= level -> 1, else 0 (made here, not at import: searching never needs it)
        self.at_least = [bytes(level) + b"\x01" * (256 - level) for level in range(256)]

    def ranked(self, start: int, end: int, top_level: int) -> tuple[list[int], int]:
        """The group maxima of the list at start:end (and zeros), best first, and how many groups they are:
        all of them, or at least as many as the deepest floor the list is long enough for."""
        want = FLOOR_DEPTHS[bisect_right(FLOOR_DEPTHS, end - start) - 1]
        need = int(want * self.MARGIN)
        while True:
            cut = end - start >= 2 * need  # worth it only where at least half the list can go
            level = self._level(start, end, need, top_level) if cut else 0
            values, docs = self._at_least(start, end, level)
            found = len(values)
            values, n_groups = self._group_maxima(docs, values) if self.shared else (values, found)
            if n_groups >= want or not level:
                return sorted(values, reverse=True), n_groups
            need = found + 2 * (want - n_groups)  # groups shared too many candidates: go deeper

    def _level(self, start: int, end: int, need: int, top_level: int) -> int:
        """The highest level (high byte) that at least ``need`` impacts of the list reach, by bisection."""
        high, low, above = self.high[start:end], 0, top_level + 1  # every impact reaches 0, none top_level + 1
        while above - low > 1:
            middle = (low + above) // 2
            if high.translate(self.at_least[middle]).count(1) >= need:
                low = middle
            else:
                above = middle
        return low

    def _at_least(self, start: int, end: int, level: int) -> tuple:
        """Impacts and documents of the list's postings whose high byte reaches ``level``."""
        if not level:
            return self.impacts[start:end], self.docs[start:end]
        places = list(compress(range(start, end), self.high[start:end].translate(self.at_least[level])))
        return list(map(self.impacts.__getitem__, places)), list(map(self.docs.__getitem__, places))

    def _group_maxima(self, docs, values) -> tuple:
        """Each group's best of ``values`` (with 0 for the rest of a group's), and the number of groups."""
        labels = list(map(self.label_of.__getitem__, docs))
        if not self.consecutive:
            if len(set(labels)) == len(labels):
                return values, len(values)
            best = dict(sorted(zip(labels, values), key=itemgetter(1)))  # a group's last, so largest, impact
            return list(best.values()), len(best)
        repeat_at, n_groups = bytes(map(eq, labels, labels[1:])).find, len(values)
        at = repeat_at(1)
        while at >= 0:  # posting ``at`` shares a group with the next: pass the better impact on
            if values[at] > values[at + 1]:
                values[at + 1] = values[at]
            values[at], n_groups, at = 0, n_groups - 1, repeat_at(1, at + 1)
        return values, n_groups
