"""Extractive answers without an LLM: the most relevant sentences of the retrieved passages.

Each answer sentence ends with its citation marker ``[n]`` (n = 1-based number of the passage
it came from). The best sentence comes first, then the next best sentences that add something
new (MMR), within ``max_chars`` and ``max_sentences``.

A sentence's score, computed over the candidate pool (all sentences of the given passages):
BM25 with idf over the pool on stemmed terms (Snowball English, cached), bigram overlap with
the question, coverage of the question's idf mass, a prior for the passage's retrieval rank,
a bonus for holding a new item of the expected answer type (when -> a date, how many -> a
number, how long -> a duration, who -> a name, ...), a share of the previous sentence's score
(answers often follow the sentence that names the topic), and penalties for questions,
fragments, overlong, formula-like or number-heavy sentences. Weights were tuned on the dev
half of bench/qa (see bench/qa_eval.py).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import snowballstemmer

K1, B = 1.2, 0.75
W_BIGRAM, W_COVER, W_RANK, W_TYPE, W_PREV = 0.35, 0.6, 0.25, 0.5, 0.3
PEN_QUESTION, PEN_SHORT, PEN_LONG, PEN_NOISE = 0.5, 0.4, 0.15, 0.4
MMR_LAMBDA, MAX_OVERLAP, MIN_RELATIVE = 0.7, 0.6, 0.35
MAX_SENTENCE_CHARS = 300

_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
_ABBREV = frozenset(
    "e.g i.e etc al vs cf dr mr mrs ms prof sr jr st no nos fig figs eq sec vol pp ca approx inc ltd co "
    "corp dept est jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n a.m p.m ph.d z.b d.h "
    "bzw vgl nr usw ggf u.a resp min max art abs".split()
)
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
_BULLET = re.compile(r"^(?:[•▪●◦‣∙·*!■□➢►-]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\([ivx]+\))\s+")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9ÄÖÜÀ-Ý•])")
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|jan|"
           "feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|januar|februar|märz|juni|juli|oktober|dezember")
_NUMWORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
             "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
             "hundred|thousand|million|billion|dozens?|half|twice|zwei|drei|vier|fünf|sechs|sieben|acht|"
             "neun|zehn|hundert|tausend|einen")
_NUM = rf"(?:\d[\d.,/]*|\b(?:{_NUMWORDS})\b)"
_DATE = (rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\.?\s+(?:{_MONTHS})\b|"
         r"\b(?:1[5-9]|20)\d\d\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
_NAME = r"\b[A-ZÄÖÜ][\w'’.-]+(?:\s+(?:[A-Z]\.\s*)?[A-ZÄÖÜ][\w'’-]+)*"
_WH = r"\b(?:what|which|by what|in what|welche[mnrs]?)\s+(?:is\s+|was\s+|are\s+)?(?:the\s+)?(?:\w+\s+)?"
_NAMED = ("person", "place")  # answer types found by capitalisation (case-sensitive pattern)
# (answer type, question pattern, pattern of an answer of that type); the first match wins.
_QTYPES = tuple(
    (name, re.compile(question, re.I), re.compile(answer, 0 if name in _NAMED else re.I))
    for name, question, answer in (
        ("duration", r"\bhow (?:long|soon|quickly)\b|\bwithin how\b|\bhow many (?:days|weeks|months|years|"
         r"hours)\b|\bwie lange\b", rf"{_NUM}(?:\s*(?:-|–|to)\s*\d+)?\s+(?:business\s+)?(?:second|minute|"
         r"hour|day|week|month|year|jahr|monat|tag|woche|stunde)"),
        ("money", r"\bhow much\b.*\b(?:cost|pay|paid|charge|fee|price|owe|deduct|contribute|earn)|"
         rf"{_WH}(?:fee|cost|price|fine|penalty|salary|wage|amount|limit)\b|\bwas kostet\b",
         rf"[$€£]\s?\d|{_NUM}\s*(?:dollars?|cents?|euro|eur|usd)\b"),
        ("percent", rf"{_WH}(?:percentage|percent|share|fraction|proportion)\b|\bf-score\b|\baccura",
         r"\d+(?:[.,]\d+)?\s*(?:%|percent|prozent)"),
        ("date", rf"\b(?:when|wann)\b|{_WH}(?:date|year|day|month|jahr|datum)\b|\bdeadline\b", _DATE),
        ("number", r"\bhow (?:many|much|old|far|often|large|big|high)\b|\bwie (?:viele?|hoch|oft|groß)\b|"
         rf"{_WH}(?:rate|amount|number|limit|threshold|age|size|value|score|height|length)\b", _NUM),
        ("person", r"\b(?:who|whom|whose|wer|wem|wessen)\b", _NAME),
        ("place", rf"\b(?:where|wo|wohin|woher)\b|{_WH}(?:city|cities|country|countries|airport|state|"
         r"place|town|location|regiment)\b", _NAME),
    )
)


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


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # A fresh stemmer per cache miss: Snowball stemmer objects keep state, so sharing one
    # between threads is unsafe; creating one costs about as much as one stemWord call.
    return snowballstemmer.stemmer("english").stemWord(word) if word.isalpha() and len(word) > 3 else word


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()


def terms(text: str) -> list[str]:
    """Stemmed content terms of a text (stopwords dropped; hyphen/slash compounds also split)."""
    out: list[str] = []
    for token in _TOKEN.findall(_fold(text)):
        token = token.strip(".,'")
        for word in [token, *(re.split(r"[-/]", token) if re.search(r"[-/]", token) else [])]:
            if word and word not in _STOP and (len(word) > 1 or word.isdigit()):
                out.append(_stem(word))
    return out


def _clean(text: str) -> str:
    """Display form: ligatures expanded, words re-joined across line-end hyphens, one space."""
    text = re.sub(r"(?<=[^\W\d_])-\s*\n\s*(?=[a-zäöüß])", "", text.translate(_LIGATURES))
    return re.sub(r"\s+", " ", text).strip()


def _is_heading(line: str, before: str, after: str) -> bool:
    """A short title-like line between a finished sentence and a capitalised line."""
    words = line.split()
    long_words = [w for w in words if w[0].isalpha() and len(w) > 3]
    if not long_words or len(words) > 8 or "," in line or line[-1] in ".;:!?-–—0123456789":
        return False
    if not after[:1].isupper() or (before and before[-1] not in ".!?:"):
        return False
    return sum(w[0].isupper() for w in long_words) >= 0.75 * len(long_words)


def _blocks(passage: str) -> list[str]:
    """Blank-line, bullet-item and heading separated blocks of a passage."""
    lines = [line.strip() for line in passage.splitlines()]
    blocks: list[list[str]] = [[]]
    heading = False
    for i, line in enumerate(lines):
        after = lines[i + 1] if i + 1 < len(lines) else ""
        was_heading, heading = heading, bool(line) and _is_heading(line, lines[i - 1] if i else "", after)
        if not line or heading or was_heading or _BULLET.match(line):
            blocks.append([])
        if line:
            blocks[-1].append(re.sub(r"^[•▪●◦‣∙·*!■□➢►]\s+", "", line))
    return [_clean("\n".join(b)) for b in blocks if b]


def _no_boundary(segment: str) -> bool:
    """Does the period ending this segment belong to an abbreviation, initial or leader?"""
    last = segment.rstrip("\"'”’)]").rsplit(None, 1)[-1] if segment.strip() else ""
    word = last.rstrip(".!?").lstrip("(\"'“‘").casefold()
    if not last.endswith(".") or last.endswith(".."):
        return last.endswith("..")  # dot leaders of contents and cost tables
    if last.startswith("(") and word.isdigit():  # "(2. Auflage)"
        return True
    return word in _ABBREV or (len(word) == 1 and word.isalpha()) or bool(re.fullmatch(r"(?:\w\.)+\w", word))


def _chunk(sentence: str, limit: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Cut an overlong 'sentence' (merged columns, tables) at a clause break or a space."""
    pieces: list[str] = []
    while len(sentence) > limit:
        window = sentence[: limit + 1]
        cut = max(window.rfind("; "), window.rfind(": "))
        cut = cut if cut > limit // 3 else window.rfind(", ")
        cut = cut if cut > limit // 3 else window.rfind(" ")
        cut = cut + 1 if cut > 0 else limit
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    return pieces + ([sentence] if sentence else [])


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, aware of abbreviations, decimals, PDF line breaks and bullets."""
    sentences: list[str] = []
    for block in _blocks(text or ""):
        start = 0
        for match in _BOUNDARY.finditer(block):
            segment = block[start : match.start()]
            if not _no_boundary(segment) and len(_TOKEN.findall(segment)) >= 2:
                sentences.append(segment.strip())
                start = match.end()
        sentences.append(block[start:].strip())
    return [piece for s in sentences if s for piece in _chunk(s)]


def _answer_type(question: str) -> tuple[str, re.Pattern[str]] | None:
    return next(((name, answer) for name, asks, answer in _QTYPES if asks.search(question)), None)


def _has_cue(kind: tuple[str, re.Pattern[str]] | None, sentence: str, question: str) -> bool:
    """Does the sentence hold a new (not in the question) item of the expected answer type?"""
    if kind is None:
        return False
    asked, asked_words = _fold(question), set(_TOKEN.findall(_fold(question)))
    for match in kind[1].finditer(sentence):
        found = _fold(match.group(0)).strip(" .")
        if kind[0] in _NAMED and match.start() == 0:
            continue  # a sentence's first word is capitalised anyway
        if found not in asked_words and (len(found) <= 3 or found not in asked):
            return True
    return False


def _penalty(sentence: _Sentence, numeric: bool, cue: bool) -> float:
    text = sentence.text
    visible = [c for c in text if not c.isspace()] or [" "]
    letters = sum(c.isalpha() for c in visible) / len(visible)
    junk = sum(not (c.isalnum() or c in _PLAIN) for c in visible) / len(visible)
    pen = PEN_QUESTION if text.rstrip(" \"'”)").endswith("?") else 0.0
    pen += PEN_SHORT if not cue and (len(sentence.terms) < 3 or len(text) < 25) else 0.0
    pen += PEN_LONG if len(text) > MAX_SENTENCE_CHARS * 0.9 else 0.0
    pen += PEN_NOISE if junk > 0.08 else 0.0  # formulas, rules, symbol soup
    return pen + (PEN_NOISE if letters < 0.5 and not numeric else 0.0)


def _bigrams(seq: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(seq, seq[1:]))


def _scores(question: str, sentences: list[_Sentence]) -> list[float]:
    """Relevance of each sentence to the question (0 if neither it nor its predecessor match)."""
    asked = terms(question)
    q_terms, q_bigrams = list(dict.fromkeys(asked)), _bigrams(asked)
    n = len(sentences)
    df = Counter(t for s in sentences for t in set(s.terms))
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in q_terms}
    q_mass, avg_len = sum(idf.values()) or 1.0, sum(len(s.terms) for s in sentences) / max(n, 1) or 1.0
    kind = _answer_type(question)
    numeric = kind is not None and kind[0] not in _NAMED
    raw = []
    for s in sentences:
        tf, norm = Counter(s.terms), K1 * (1 - B + B * len(s.terms) / avg_len)
        raw.append(sum(idf[t] * tf[t] * (K1 + 1) / (tf[t] + norm) for t in q_terms if tf[t]))
    top = max(raw, default=0.0) or 1.0
    cues = [_has_cue(kind, s.text, question) for s in sentences]
    base = []
    for s, bm25, cue in zip(sentences, raw, cues):
        if bm25 <= 0:
            base.append(0.0)
            continue
        cover = sum(idf[t] for t in q_terms if t in s.terms) / q_mass
        bigram = min(len(q_bigrams & _bigrams(s.terms)), 2) / 2
        score = bm25 / top + W_COVER * cover + W_BIGRAM * bigram + W_RANK / s.passage + W_TYPE * cue
        base.append(max(score - _penalty(s, numeric, cue), 1e-6))
    follows = [i > 0 and sentences[i - 1].passage == s.passage for i, s in enumerate(sentences)]
    return [b + W_PREV * (1.0 if cue else 0.5) * (base[i - 1] if follows[i] else 0.0)
            for i, (b, cue) in enumerate(zip(base, cues))]


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
    sentences = [
        _Sentence(text, number, tuple(terms(text)))
        for number, passage in enumerate(passages or (), start=1)
        for text in split_sentences(passage if isinstance(passage, str) else "")
    ]
    chosen = [sentences[i] for i in _select(sentences, _scores(question, sentences), max_chars, max_sentences)]
    first = _fit(chosen[0], max_chars) if chosen else ""
    if not first:
        return ExtractiveAnswer()
    text = " ".join([first, *(_render(s) for s in chosen[1:])])
    return ExtractiveAnswer(text=text, cited=list(dict.fromkeys(s.passage for s in chosen)))
