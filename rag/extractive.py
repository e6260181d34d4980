"""Extractive answers without an LLM: the most relevant sentences of the retrieved passages.

Each answer sentence ends with its citation marker ``[n]`` (n = 1-based number of the passage
it came from). The best sentence comes first, then the next best sentences that add something
new (MMR), within ``max_chars`` and ``max_sentences``.

A sentence's score, computed over the candidate pool (all sentences of the given passages):
BM25 with idf over the pool on stemmed terms (tfidf.porter2 -- the Snowball English stemmer --
with a per-answer cache), bigram overlap with the question, coverage of the question's idf
mass, a prior for the passage's retrieval rank, a bonus for holding a new item of the expected
answer type (rag.answer_types: when -> a date, how many -> a number, which form -> a form
number, who -> a name, ...; for "how many genes" or "what was the prevalence", only items next to
that noun count, where there are such) plus the share of the question's idf mass found within
``PROX_WINDOW`` terms of that item (the passage's term stream, across sentence ends, so
"... must send Form W-2 no later than" credits the next "January 31, 2008."), a share of the
previous sentence's score (answers often follow the sentence that names the topic), and
penalties for questions, fragments, long, formula-like or number-heavy sentences. Weights were
tuned on the dev splits of bench/qa (PDF and clean-prose sets) with the server's retrieval (see
bench/qa_eval.py).
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Sequence

from tfidf.analysis import cjk_split
from tfidf.porter2 import stem as porter2

from .answer_types import Kind, answer_type, cues, fold, focus, near
from .sentences import split_sentences

K1, B = 1.2, 0.75
W_BIGRAM, W_COVER, W_RANK, W_TYPE, W_PROX, W_PREV = 0.35, 0.6, 0.5, 1.0, 1.0, 0.3
PROX_WINDOW = 30
PEN_QUESTION, PEN_SHORT, PEN_LONG, PEN_NOISE = 0.5, 0.4, 0.15, 0.4
MMR_LAMBDA, MAX_OVERLAP, MIN_RELATIVE = 0.7, 0.6, 0.35
LONG_SENTENCE_CHARS = 135
TOKEN_CACHE = 50_000  # distinct tokens one answer caches the terms of before starting over

_STOP = frozenset(
    "a an the and or but if of at by for with about against between into through during before after "
    "above below to from up down in out on off over under again further then once here there all any "
    "both each few more most other some such nor not only own same so than too very can will just "
    "should now is are was were be been being have has had having do does did doing i me my we our "
    "you your he him his she her it its they them their what which who whom whose this that these "
    "those am would could may might must shall when where why how many much also per der die das den "
    "dem des ein eine einer eines einem und oder ist sind wird werden wie was wer wo wann welche "
    "welcher welches im auf mit von zu zum zur auch man es sich nicht hat haben wurde wurden kann "
    "können soll nach bei für über durch nur noch dann wenn als am an aus um vom beim diese dieser "
    "dieses sie er wir ich du".split()
)
_PLAIN = frozenset(".,;:!?'\"()[]%$€£&/-–—’‘“”„«»§@#*+")
_TOKEN = re.compile(r"\w+(?:[-./,']\w+)*")
_GLUED = re.compile(r"(?<=[a-zäöüß])(?=[A-ZÄÖÜ])")  # "theRevenue": words run together by PDF columns


@dataclass(frozen=True)
class ExtractiveAnswer:
    """The answer text (sentences, each ending with its [n]) and the passages it cites."""

    text: str = ""
    cited: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Sentence:
    text: str
    passage: int  # 1-based number of the passage
    terms: tuple[str, ...]
    offset: int = 0  # position of its first term among all terms of its passage


class _Terms:
    """Stemmed content terms of texts (Porter2 for English words); one instance per answer caches
    each distinct token's terms (at most ``limit`` tokens, then the cache starts over)."""

    def __init__(self, limit: int = TOKEN_CACHE) -> None:
        self._tokens: dict[str, tuple[str, ...]] = {}
        self._limit = limit

    @staticmethod
    def _analyse(token: str) -> tuple[str, ...]:
        token = token.strip(".,'")
        pieces = cjk_split(token)
        if len(pieces) > 1 or pieces[0] != token:  # CJK: character bigrams, as retrieval indexes them
            return tuple(pieces)
        words = [token, *re.split(r"[-/]", token)] if "-" in token or "/" in token else [token]
        return tuple(porter2(w) if w.isalpha() and len(w) > 3 else w
                     for w in words if w and w not in _STOP and (len(w) > 1 or w.isdigit()))

    def __call__(self, text: str) -> list[str]:
        cache, out = self._tokens, []
        for token in _TOKEN.findall(fold(_GLUED.sub(" ", text))):
            found = cache.get(token)
            if found is None:
                if len(cache) >= self._limit:
                    cache.clear()
                found = cache[token] = self._analyse(token)
            out.extend(found)
        return out


def terms(text: str) -> list[str]:
    """Stemmed content terms of a text (stopwords dropped; hyphen/slash compounds also split)."""
    return _Terms()(text)


def _penalty(sentence: _Sentence, numeric: bool, cue: bool) -> float:
    text = sentence.text
    visible = "".join(text.split()) or " "
    letters = sum(map(str.isalpha, visible)) / len(visible)
    junk = (len(visible) - sum(map(str.isalnum, visible)) - sum(map(_PLAIN.__contains__, visible))) / len(visible)
    pen = PEN_QUESTION if text.rstrip(" \"'”)").endswith("?") else 0.0
    pen += PEN_SHORT if not cue and (len(sentence.terms) < 3 or len(text) < 25) else 0.0
    pen += PEN_LONG if len(text) > LONG_SENTENCE_CHARS else 0.0
    pen += PEN_NOISE if junk > 0.08 else 0.0  # formulas, rules, symbol soup
    return pen + (PEN_NOISE if letters < 0.5 and not numeric else 0.0)


def _bigrams(seq: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(seq, seq[1:]))


class _Question:
    """What scoring needs of the question: its terms, bigrams, expected answer type."""

    def __init__(self, question: str, analyse: _Terms) -> None:
        asked = analyse(question)
        self.text, self.terms, self.bigrams = question, list(dict.fromkeys(asked)), _bigrams(asked)
        self.kind: Kind | None = answer_type(question)
        noun = focus(question, self.kind)
        self.focus = frozenset(analyse(noun)) if noun else frozenset()


def _positions(sentences: list[_Sentence], wanted: set[str]) -> dict[tuple[int, str], list[int]]:
    """(passage, term) -> positions of the term in the passage's term stream."""
    where: dict[tuple[int, str], list[int]] = defaultdict(list)
    for s in sentences:
        for i, t in enumerate(s.terms):
            if t in wanted:
                where[(s.passage, t)].append(s.offset + i)
    return where


def _proximity(q: _Question, s: _Sentence, spans, idf, where, analyse: _Terms) -> float:
    """Share of the question's idf mass found near the sentence's best answer-type item."""
    best = 0.0
    for start, end in spans:
        head = s.offset + len(analyse(s.text[:start]))
        tail = max(head + 1, s.offset + len(analyse(s.text[:end])))
        near = 0.0
        for t in q.terms:
            gaps = [head - p if p < head else max(p - tail + 1, 0) for p in where.get((s.passage, t), ())]
            if gaps:
                near += idf[t] * max(0.0, 1 - min(gaps) / PROX_WINDOW)
        best = max(best, near)
    return best


def _scores(q: _Question, sentences: list[_Sentence], analyse: _Terms) -> list[float]:
    """Relevance of each sentence to the question (0 if neither it nor its predecessor match)."""
    n = len(sentences)
    df = Counter(t for s in sentences for t in set(s.terms))
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in q.terms}
    q_mass, avg_len = sum(idf.values()) or 1.0, sum(len(s.terms) for s in sentences) / max(n, 1) or 1.0
    numeric = q.kind is not None and not q.kind.named
    raw = []
    for s in sentences:
        tf, norm = Counter(s.terms), K1 * (1 - B + B * len(s.terms) / avg_len)
        raw.append(sum(idf[t] * tf[t] * (K1 + 1) / (tf[t] + norm) for t in q.terms if tf[t]))
    top = max(raw, default=0.0) or 1.0
    common = frozenset()
    if q.kind is not None and q.kind.name == "person":  # words seen in lower case are no names
        common = frozenset(w for s in sentences for w in _TOKEN.findall(s.text) if w.islower())
    spans = [cues(q.kind, s.text, q.text, common) for s in sentences]
    if q.focus:  # items next to the noun asked about ("how many genes": "4288 genes"), where there are such
        def wanted(word: str) -> bool:
            return not q.focus.isdisjoint(analyse(word))
        bound = [[span for span in found if near(s.text, span, wanted)] for s, found in zip(sentences, spans)]
        spans = bound if any(bound) else spans
    where = _positions(sentences, set(q.terms)) if W_PROX and q.kind else {}
    base = []
    for s, bm25, found in zip(sentences, raw, spans):
        prox = _proximity(q, s, found, idf, where, analyse) / q_mass if where and found else 0.0
        if bm25 <= 0 and prox <= 0:
            base.append(0.0)
            continue
        cover = sum(idf[t] for t in q.terms if t in s.terms) / q_mass
        bigram = min(len(q.bigrams & _bigrams(s.terms)), 2) / 2
        score = (bm25 / top + W_COVER * cover + W_BIGRAM * bigram + W_RANK / s.passage
                 + W_TYPE * bool(found) + W_PROX * prox)
        base.append(max(score - _penalty(s, numeric, bool(found)), 1e-6))
    follows = [i > 0 and sentences[i - 1].passage == s.passage for i, s in enumerate(sentences)]
    return [b + W_PREV * (1.0 if found else 0.5) * (base[i - 1] if follows[i] else 0.0)
            for i, (b, found) in enumerate(zip(base, spans))]


def _overlap(a: _Sentence, b: _Sentence) -> float:
    sa, sb = set(a.terms), set(b.terms)
    return len(sa & sb) / max(min(len(sa), len(sb)), 1)


def _select(sentences: list[_Sentence], scores: list[float], room: int, max_sentences: int) -> list[int]:
    """Best sentence first, then MMR picks of relevant, non-redundant sentences that fit."""
    ranked = sorted((i for i, sc in enumerate(scores) if sc > 0), key=lambda i: (-scores[i], i))
    if not ranked:
        return []
    best, chosen = scores[ranked[0]], ranked[:1]
    used = len(_render(sentences[ranked[0]]))
    pool = [i for i in ranked[1:] if scores[i] >= MIN_RELATIVE * best]
    while pool and len(chosen) < max_sentences:
        redundancy = {i: max(_overlap(sentences[i], sentences[j]) for j in chosen) for i in pool}
        pick = max(pool, key=lambda i: MMR_LAMBDA * scores[i] / best - (1 - MMR_LAMBDA) * redundancy[i])
        pool.remove(pick)
        size = len(_render(sentences[pick])) + 1
        if redundancy[pick] <= MAX_OVERLAP and used + size <= room:
            chosen.append(pick)
            used += size
    return chosen


def _render(sentence: _Sentence) -> str:
    return f"{sentence.text} [{sentence.passage}]"


def _fit(sentence: _Sentence, max_chars: int) -> str:
    """The rendered sentence, cut at a word boundary if it alone exceeds max_chars ('' if no room)."""
    rendered, marker = _render(sentence), f" [{sentence.passage}]"
    if len(rendered) <= max_chars:
        return rendered
    room = max_chars - len(marker) - 1  # one for the ellipsis
    if room < 1:
        return ""
    cut = sentence.text[:room].rsplit(" ", 1)[0] or sentence.text[:room]
    return f"{cut}…{marker}"


def extractive_answer(
    question: str, passages: Sequence[str], *, max_chars: int = 600, max_sentences: int = 4
) -> ExtractiveAnswer:
    """Answer from the passages' most relevant sentences, best first, each followed by its [n]."""
    if not isinstance(question, str) or not question.strip() or max_sentences <= 0:
        return ExtractiveAnswer()
    analyse = _Terms()
    sentences: list[_Sentence] = []
    for number, passage in enumerate(passages or (), start=1):
        offset = 0
        for text in split_sentences(passage if isinstance(passage, str) else ""):
            found = tuple(analyse(text))
            sentences.append(_Sentence(text, number, found, offset))
            offset += len(found)
    scores = _scores(_Question(question, analyse), sentences, analyse)
    chosen = [sentences[i] for i in _select(sentences, scores, max_chars, max_sentences)]
    first = _fit(chosen[0], max_chars) if chosen else ""
    if not first:
        return ExtractiveAnswer()
    text = " ".join([first, *(_render(s) for s in chosen[1:])])
    return ExtractiveAnswer(text=text, cited=list(dict.fromkeys(s.passage for s in chosen)))
