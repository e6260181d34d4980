"""Expected answer types: what kind of item a question asks for, and where a sentence has one.

``answer_type(question)`` names the type (when -> date, how many -> number, which form -> form,
who -> person, what is X called -> term, ...) with the pattern of an answer of that type;
``cues(kind, sentence, question)`` gives the character spans of such items in a sentence
that are new (not words of the question). English and German question words.
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
_WORD = re.compile(r"\w+(?:[-./,']\w+)*")
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
# First [M.] Last, or a title and a name (transcripts: "MR. SEVILLA")
_PERSON = (r"\b[A-ZÄÖÜ][a-zäöüß'’-]+(?:\s+[A-Z]\.)?\s+[A-ZÄÖÜ][a-zäöüß'’-]+\b|"
           r"\b(?:M[rs]s?|Dr|Prof|Justice|Judge|Herr|Frau)\.?\s+[A-ZÄÖÜ][\w'’-]+")
# "what/which [is/was/are] [the] [one or two words] <noun>"
_WH = r"\b(?:what|which|by what|in what|welche[mnrs]?)\s+(?:is\s+|was\s+|are\s+)?(?:the\s+)?(?:[\w-]+\s+){0,2}"
_FORM = (r"\b(?i:forms?|schedule|pub\.?|publication|notice)\s+(?:[A-Z]{1,4}-?)?\d[\w-]*|"
         r"(?<![A-Z0-9-])[A-Z]{1,4}-\d{1,5}[A-Z]?\b")
_NAMING = (r"\b(?:called|known as|referred to as|termed|so-called|named|nennt man|genannt|heißt|heißen|"
           r"sogenannte[nmrs]?|bezeichnet|spricht man)\b")


class Kind(NamedTuple):
    name: str
    answer: re.Pattern[str]
    named: bool  # a name found by capitalisation (person, place), not a number-like item
    marker: bool  # the pattern marks where an answer is (a naming verb), not the answer itself


# (answer type, question pattern, pattern of an answer of that type); the first match wins.
_TABLE = (
    ("duration", r"\bhow (?:long|soon|quickly)\b|\bwithin how\b|\bhow many (?:business )?(?:days|weeks|"
     r"months|years|hours)\b|\bwie lange\b", rf"{_NUM}(?:\s*(?:-|to)\s*\d+)?\s+(?:business\s+)?(?:second|"
     r"minute|hour|day|week|month|year|jahr|monat|tag|woche|stunde)"),
    ("money", r"\bhow much\b.*\b(?:cost|pay|paid|charge|fee|price|owe|deduct|contribute|earn)|"
     rf"{_WH}(?:fee|cost|price|fine|penalty|salary|wage|amount|limit|exemption|deduction|credit)\b|"
     r"\bwas kostet\b", rf"[$€£]\s?\d|{_NUM}\s*(?:dollars?|cents?|euro|eur|usd)\b"),
    ("percent", rf"{_WH}(?:percentage|percent|share|fraction|proportion)\b|\bf-score\b|\baccura",
     r"\d+(?:[.,]\d+)?\s*(?:%|percent|prozent)"),
    ("time", r"\b(?:at )?what time\b|\bum wie ?viel uhr\b",
     r"\b\d{1,2}[:.]\d\d\b|\b\d{1,2}\s*(?:[ap]\.\s?m\b|[ap]m\b)|\buhr\b"),
    ("date", rf"\b(?:when|wann)\b|{_WH}(?:date|year|day|month|jahr|datum)\b|\bdeadline\b", _DATE),
    ("phone", r"\b(?:phone|telephone|fax|toll-free)\b|\bnumber\b.*\bcall\b|\bcall\b.*\bnumber\b",
     r"\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b|\b1-8\d\d-[\dA-Z]{3}-[\dA-Z]{4}\b"),
    ("form", rf"{_WH}(?:form|document|schedule|publication)s?\b|\bwelches formular\b", _FORM),
    ("number", r"\bhow (?:many|much|old|far|often|large|big|high|long is)\b|\bwie (?:viele?|hoch|oft|groß)\b|"
     rf"{_WH}(?:rate|amount|number|limit|threshold|age|size|value|score|height|length|altitude|"
     r"difference|distance|speed|weight|temperature)\b", _NUM),
    ("person", r"\b(?:who|whom|whose|wer|wem|wessen)\b", _PERSON),
    ("place", rf"\b(?:where|wo|wohin|woher)\b|{_WH}(?:city|cities|country|countries|airport|state|"
     r"place|town|location|regiment|address)\b", _NAME),
    ("title", rf"{_WH}(?:book|paper|article|film|movie|song|album|novel|title)\b|\bwelche[mnrs]? (?:buch|titel)\b",
     r"[„“\"«‘][^„“”\"«»\n]{3,80}[“”\"»’]"),
    ("term", rf"\b(?:called|call|named|known as|term(?:ed)?)\b|\bwie (?:nennt|heißt|heißen|bezeichnet)\b|"
     r"\bgenannt\b", _NAMING),
)
_KINDS = tuple(
    (re.compile(question, re.I),
     Kind(name, re.compile(answer, 0 if name in ("person", "place", "form") else re.I),
          name in ("person", "place"), name == "term"))
    for name, question, answer in _TABLE
)


def fold(text: str) -> str:
    """NFKC, one kind of dash, case-folded."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()


def answer_type(question: str) -> Kind | None:
    """The expected answer type of a question (None: no specific type)."""
    return next((kind for asks, kind in _KINDS if asks.search(question)), None)


def cues(kind: Kind | None, sentence: str, question: str, common: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """Character spans of new items of the expected type in the sentence.

    ``common``: words seen in lower case around the sentence; a capitalised phrase holding one
    ("Technical Support", "Federal Aviation") is not taken for a person's name.
    """
    if kind is None:
        return []
    asked = fold(question)
    asked_words = set(_WORD.findall(asked))
    spans = []
    for match in kind.answer.finditer(sentence):
        if kind.marker:
            spans.append(match.span())
            continue
        found = fold(match.group(0)).strip(" .")
        if kind.name == "place" and match.start() == 0:
            continue  # a sentence's first word is capitalised anyway
        if kind.name == "person":
            parts = _WORD.findall(found)
            if asked_words.intersection(parts) or common.intersection(parts[-2:]):
                continue  # a name from the question, or common words
        if found and found not in asked_words and (len(found) <= 3 or found not in asked):
            spans.append(match.span())
    return spans
