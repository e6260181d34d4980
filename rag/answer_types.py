"""Expected answer types: what kind of item a question asks for, and where a sentence has one.

``answer_type(question)`` names the type (when -> date, how many -> number, which form -> form,
who -> person, what is X called -> term, what does X stand for -> expansion, ...) with the
pattern of an answer of that type; ``cues(kind, sentence, question)`` gives the character spans
of such items in a sentence that are new (not words of the question, nor inside one: the "12"
of "K-12"). ``focus(question, kind)`` names the noun a number-like answer stands next to (the
counted noun of "how many genes", the quantity of "what was the prevalence"), ``near`` tells
whether a span has it close by. English and German question words.
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
# nouns naming a quantity: "what was the prevalence of ...", "what daily dose ..."
_MEASURES = ("rate|amount|number|limit|threshold|age|size|value|score|height|length|altitude|difference|distance|"
             "speed|weight|temperature|dose|dosage|prevalence|incidence|ratio|concentration|level|frequency|"
             "mean|median|average|sensitivity|specificity|yield|volume|density|population")
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
     r"months|years|hours)\b|\bwie lange\b", rf"{_NUM}(?:\s*(?:-|to)\s*\d+)?\s*(?:business\s+)?(?:second|"
     r"minute|hour|day|week|month|year|jahr|monat|tag|woche|stunde|(?:d|h|hr|min|wk|mo|yr|y)\b)"),
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
     rf"{_WH}(?:{_MEASURES})s?\b", _NUM),
    ("person", r"\b(?:who|whom|whose|wer|wem|wessen)\b", _PERSON),
    ("place", rf"\b(?:where|wo|wohin|woher)\b|{_WH}(?:city|cities|country|countries|airport|state|"
     r"place|town|location|regiment|address)\b", _NAME),
    ("title", rf"{_WH}(?:book|paper|article|film|movie|song|album|novel|title)\b|\bwelche[mnrs]? (?:buch|titel)\b",
     r"[„“\"«‘][^„“”\"«»\n]{3,80}[“”\"»’]"),
    ("expansion", r"\bstands? for\b|\bshort for\b|\babbreviat", r"\((?=[^)]*[A-Z])[^\W_][\w-]{1,9}\)"),
    ("term", r"\b(?:called|call|named|known as|term(?:ed)?|(?:another|other|alternative) names?)\b|\bwie (?:nennt|heißt|heißen|bezeichnet)\b|"
     r"\bgenannt\b", _NAMING),
)
_KINDS = tuple(
    (re.compile(question, re.I),
     Kind(name, re.compile(answer, 0 if name in ("person", "place", "form") else re.I),
          name in ("person", "place"), name in ("term", "expansion")))
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
        if found and found not in asked_words and (len(found) <= 3 or found not in asked) \
                and fold(_token_at(sentence, *match.span())).strip(" .,;:") not in asked_words:  # "12" of "K-12"
            spans.append(match.span())
    return spans


_COUNTED = re.compile(r"\bhow many\s+(?:more\s+|different\s+|of\s+(?:the|these|those|their|its)\s+)?"
                      r"([^\W\d_][\w'-]*)", re.I)
_MEASURE = re.compile(rf"\b({_MEASURES})s?\b", re.I)
_COMPOUND = re.compile(r"\w+(?:[-\u2010-\u2015./,']\w+)*")
_NOT_NOUNS = frozenset("of the a an do does did is are was were have has had times more".split())


def _token_at(text: str, start: int, end: int) -> str:
    """The whole word the span [start, end) starts in ("K-12" for the "12" of "K-12")."""
    found = next((m for m in _COMPOUND.finditer(text) if m.start() <= start < m.end()), None)
    return text[found.start() : max(found.end(), end)] if found else text[start:end]


def focus(question: str, kind: Kind | None) -> str | None:
    """The noun a number-like answer stands next to: the counted noun of "how many genes ...",
    or the quantity of "what was the prevalence of ..."; None for other questions."""
    if kind is None or kind.named or kind.marker:
        return None
    found = _COUNTED.search(question) or _MEASURE.search(question)
    word = found.group(1).casefold() if found else ""
    return word if word and word not in _NOT_NOUNS else None


def near(sentence: str, span: tuple[int, int], wanted, words: int = 4) -> bool:
    """Is a word of the span, or of the ``words`` words either side of it, ``wanted`` (a predicate)?"""
    start, end = span
    return any(map(wanted, _WORD.findall(sentence[:start])[-words:] + _WORD.findall(sentence[start:end])
                   + _WORD.findall(sentence[end:])[:words]))
