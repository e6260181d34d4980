"""Fast pure-Python Snowball English ("Porter2") stemmer.

``stem(word)`` returns exactly what ``snowballstemmer.stemmer('english').stemWord(word)``
returns for snowballstemmer 3.1.x (generated from ``english.sbl`` by Snowball 3.1.1),
for any input string, but several times faster: the generated code spends most of its
time in the generic ``find_among`` binary search and cursor bookkeeping, whereas this
module uses ``str`` methods, suffix tables keyed by the last two letters and one
compiled regex for the R1/R2 regions.

Snowball 3 rules implemented here that differ from the 2.x algorithm most descriptions
document:

* R1 exceptional prefixes: ``arsen commun emerg gener inter later organ past univers``;
* Step 1b: ``-ing`` after exactly ``even cann inn earr herr out`` is kept
  (evening, canning, inning, earring, herring, outing); ``Cying`` (one non-vowel + y)
  becomes ``Cie`` (dying, lying, tying); ``-eed``/``-eedly`` after exactly
  ``succ proc exc`` is kept; the "short word" test is *R1 starts exactly at the end of
  the stem*; a short syllable may be ``past``;
* Step 2: ``-ogist`` -> ``og`` and ``-ogi`` -> ``og`` (after ``l``);
* the exceptional-words list no longer holds dying/lying/tying or the post-Step-1a
  invariants (those are handled by the rules above).

Characters are compared exactly like the generated code: only ``a e i o u y`` are
vowels, everything else (digits, accented letters, apostrophes, upper case) is a
non-vowel, and ``y`` after a vowel (or at the start) is treated as the consonant ``Y``
and turned back into ``y`` at the end.  Words shorter than three code points are
returned unchanged.

The function is pure and keeps no cache; callers cache.
"""
from __future__ import annotations

import re
from types import MappingProxyType

__all__ = ["stem"]

_V = "aeiouy"  # g_v
_V_WXY = "Yaeiouwxy"  # g_v_WXY
_VALID_LI = "cdeghkmnrt"  # g_valid_LI

# One pass computes: group 1 = leading non-vowels (its end is the first vowel's index,
# or len(word) if there is none), group 2 = up to the start of R1, group 3 = the part
# between R1 and R2.  A group that did not participate reports end() == -1.
_REGIONS = re.compile(
    r"(?=([^aeiouy]*+))"
    r"(?:(arsen|commun|emerg|gener|inter|later|organ|past|univers"
    r"|[^aeiouy]*+[aeiouy]++[^aeiouy])"
    r"([^aeiouy]*+[aeiouy]++[^aeiouy])?)?"
)

_EXCEPTIONS = MappingProxyType({
    "skis": "ski",
    "skies": "sky",
    "idly": "idl",
    "gently": "gentl",
    "ugly": "ugli",
    "early": "earli",
    "only": "onli",
    "singly": "singl",
    "sky": "sky",
    "news": "news",
    "howe": "howe",
    "atlas": "atlas",
    "cosmos": "cosmos",
    "bias": "bias",
    "andes": "andes",
})
_EXCEPTION_WORDS = frozenset(_EXCEPTIONS)

_EED_KEEP = frozenset(("succ", "proc", "exc"))
_ING_KEEP = frozenset(("even", "cann", "inn", "earr", "herr", "out"))
_ADD_E = frozenset(("at", "bl", "iz"))
_DOUBLES = frozenset(("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt"))


def _by_last_two(entries):
    """Group (suffix, ...) entries by their last two letters, longest suffix first.

    Every suffix has at least two letters, so the first entry of a group that the word
    ends with is the longest suffix of the table that the word ends with (what
    ``find_among_b`` selects).
    """
    groups: dict[str, list] = {}
    for entry in entries:
        suffix = entry[0]
        assert len(suffix) >= 2
        groups.setdefault(suffix[-2:], []).append((suffix, len(suffix)) + tuple(entry[1:]))
    return MappingProxyType({
        key: tuple(sorted(group, key=lambda e: -e[1])) for key, group in groups.items()
    })


# Step 2 (R1): (suffix, replacement, required preceding letters or None).
_STEP2 = _by_last_two((
    ("tional", "tion", None),
    ("enci", "ence", None),
    ("anci", "ance", None),
    ("abli", "able", None),
    ("entli", "ent", None),
    ("izer", "ize", None),
    ("ization", "ize", None),
    ("ational", "ate", None),
    ("ation", "ate", None),
    ("ator", "ate", None),
    ("alism", "al", None),
    ("aliti", "al", None),
    ("alli", "al", None),
    ("fulness", "ful", None),
    ("fulli", "ful", None),
    ("ousli", "ous", None),
    ("ousness", "ous", None),
    ("iveness", "ive", None),
    ("iviti", "ive", None),
    ("biliti", "ble", None),
    ("bli", "ble", None),
    ("ogist", "og", None),
    ("ogi", "og", "l"),
    ("lessli", "less", None),
    ("li", "", _VALID_LI),
))

# Step 3 (R1): (suffix, replacement, also needs R2).
_STEP3 = _by_last_two((
    ("tional", "tion", False),
    ("ational", "ate", False),
    ("alize", "al", False),
    ("icate", "ic", False),
    ("iciti", "ic", False),
    ("ical", "ic", False),
    ("ful", "", False),
    ("ness", "", False),
    ("ative", "", True),
))

# Step 4 (R2, delete): (suffix, required preceding letters or None).
_STEP4 = _by_last_two((
    ("al", None), ("ance", None), ("ence", None), ("er", None), ("ic", None),
    ("able", None), ("ible", None), ("ant", None), ("ement", None), ("ment", None),
    ("ent", None), ("ism", None), ("ate", None), ("iti", None), ("ous", None),
    ("ive", None), ("ize", None), ("ion", "st"),
))


def _short_v(w: str, end: int) -> bool:
    """Snowball ``shortv`` evaluated at the end of ``w[:end]``."""
    if end >= 3:
        if w[end - 1] not in _V_WXY and w[end - 2] in _V and w[end - 3] not in _V:
            return True
    elif end == 2:
        if w[1] not in _V and w[0] in _V:
            return True
    return w.endswith("past", 0, end)


def stem(word: str) -> str:
    """Stem one (lower-cased) word exactly like snowballstemmer 3's English stemmer."""
    if len(word) < 3:
        return word
    if word in _EXCEPTION_WORDS:
        return _EXCEPTIONS[word]

    # --- prelude: leading apostrophe, y -> Y as a consonant
    w = word[1:] if word[0] == "'" else word
    y_found = False
    if "y" in w:
        if w[0] == "y":
            w = "Y" + w[1:]
            y_found = True
        i = w.find("y", 1)
        while i > 0:
            if w[i - 1] in _V:
                w = w[:i] + "Y" + w[i + 1:]
                y_found = True
            i = w.find("y", i + 1)

    # --- regions (all indices stay valid: later steps only change the end of w, and
    # after Step 1a w is always a prefix of the marked word)
    m = _REGIONS.match(w)
    first_vowel = m.end(1)
    p1 = m.end(2)
    if p1 < 0:
        p1 = len(w)
    p2 = m.end(3)
    if p2 < 0:
        p2 = len(w)

    # --- Step 1a
    if "'" in w:
        if w.endswith("'s'"):
            w = w[:-3]
        elif w.endswith("'s"):
            w = w[:-2]
        elif w.endswith("'"):
            w = w[:-1]
    last = w[-1:]
    if last == "s":
        if w.endswith("sses"):
            w = w[:-2]
        elif w.endswith("ies"):
            w = w[:-2] if len(w) > 4 else w[:-1]
        elif w.endswith("ss") or w.endswith("us"):
            pass
        elif first_vowel < len(w) - 2:  # a vowel before the letter preceding the s
            w = w[:-1]
    elif last == "d" and w.endswith("ied"):
        w = w[:-2] if len(w) > 4 else w[:-1]

    # --- Step 1b
    last = w[-1:]
    kind = 0
    if last == "d":
        if w.endswith("eed"):
            kind, start = 1, len(w) - 3
        elif w.endswith("ed"):
            kind, start = 2, len(w) - 2
    elif last == "g":
        if w.endswith("ing"):
            kind, start = 3, len(w) - 3
    elif last == "y" and w.endswith("ly"):
        if w.endswith("eedly"):
            kind, start = 1, len(w) - 5
        elif w.endswith("edly"):
            kind, start = 2, len(w) - 4
        elif w.endswith("ingly"):
            kind, start = 2, len(w) - 5
    if kind == 1:
        if p1 <= start:
            s = w[:start]
            if s not in _EED_KEEP:
                w = s + "ee"
    elif kind:
        s = w[:start]
        delete = True
        if kind == 3:
            if s in _ING_KEEP:
                delete = False
            elif start == 2 and s[1] == "y" and s[0] not in _V:
                w = s[0] + "ie"
                delete = False
        if delete and first_vowel < start:
            w = s
            end2 = s[-2:]
            if end2 in _ADD_E:
                w = s + "e"
            elif end2 in _DOUBLES:
                if not (start == 3 and s[0] in "aeo"):
                    w = s[:-1]
            elif start == p1 and _short_v(s, start):
                w = s + "e"

    # --- Step 1c
    if len(w) >= 3 and w[-1] in "yY" and w[-2] not in _V:
        w = w[:-1] + "i"

    # --- Step 2
    group = _STEP2.get(w[-2:])
    if group is not None:
        for suffix, k, repl, before in group:
            if w.endswith(suffix):
                start = len(w) - k
                if p1 <= start and (before is None or (start > 0 and w[start - 1] in before)):
                    w = w[:start] + repl
                break

    # --- Step 3
    group = _STEP3.get(w[-2:])
    if group is not None:
        for suffix, k, repl, needs_r2 in group:
            if w.endswith(suffix):
                start = len(w) - k
                if p1 <= start and (not needs_r2 or p2 <= start):
                    w = w[:start] + repl
                break

    # --- Step 4
    group = _STEP4.get(w[-2:])
    if group is not None:
        for suffix, k, before in group:
            if w.endswith(suffix):
                start = len(w) - k
                if p2 <= start and (before is None or (start > 0 and w[start - 1] in before)):
                    w = w[:start]
                break

    # --- Step 5
    last = w[-1:]
    if last == "e":
        end = len(w) - 1
        if p2 <= end or (p1 <= end and not _short_v(w, end)):
            w = w[:end]
    elif last == "l":
        end = len(w) - 1
        if p2 <= end and w.endswith("ll"):
            w = w[:end]

    # --- postlude
    if y_found:
        w = w.replace("Y", "y")
    return w
