"""Fast pure-Python Snowball English ("Porter2") stemmer.

``stem(word)`` returns exactly what ``snowballstemmer.stemmer('english').stemWord(word)``
returns for snowballstemmer 3.1.x (generated from ``english.sbl`` by Snowball 3.1.1),
for any input string, but several times faster: the generated code spends most of its
time in the generic ``find_among`` binary search and cursor bookkeeping, whereas this
module uses ``str`` methods, suffix tables keyed by the last two letters and one
compiled regex for the R1/R2 regions.  Most of a corpus vocabulary needs none of that:
a word whose ending no step acts on (``_MAY_CHANGE``) is returned at once.

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

# One match computes: end(1) = the first vowel's index (len(word) if none), end(2) =
# the start of R1 and end() = the start of R2 (each len(word) if there is none: the
# ".*" alternatives then run to the end).
_REGIONS = re.compile(
    r"(?s)(?=([^aeiouy]*+))"
    r"(arsen|commun|emerg|gener|inter|later|organ|past|univers"
    r"|[^aeiouy]*+[aeiouy]++[^aeiouy]|.*)"
    r"(?:[^aeiouy]*+[aeiouy]++[^aeiouy]|.*)"
)

_EXCEPTIONS = MappingProxyType({
    "skis": "ski", "skies": "sky", "idly": "idl", "gently": "gentl", "ugly": "ugli",
    "early": "earli", "only": "onli", "singly": "singl", "sky": "sky", "news": "news",
    "howe": "howe", "atlas": "atlas", "cosmos": "cosmos", "bias": "bias",
    "andes": "andes",
})
_EXCEPTION_WORDS = frozenset(_EXCEPTIONS)

_EED_KEEP = frozenset(("succ", "proc", "exc"))
_ING_KEEP = frozenset(("even", "cann", "inn", "earr", "herr", "out"))
_ADD_E = frozenset(("at", "bl", "iz"))
_DOUBLES = frozenset(("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt"))

# Steps 2, 3 and 4: (suffix, replacement, needs R2 (else R1), required preceding letters
# or None).
_STEP2 = tuple((suffix, repl, False, None) for suffix, repl in (
    ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("abli", "able"),
    ("entli", "ent"), ("izer", "ize"), ("ization", "ize"), ("ational", "ate"),
    ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("aliti", "al"), ("alli", "al"),
    ("fulness", "ful"), ("fulli", "ful"), ("ousli", "ous"), ("ousness", "ous"),
    ("iveness", "ive"), ("iviti", "ive"), ("biliti", "ble"), ("bli", "ble"),
    ("ogist", "og"), ("lessli", "less"),
)) + (("ogi", "og", False, "l"), ("li", "", False, _VALID_LI))
_STEP3 = tuple((suffix, repl, False, None) for suffix, repl in (
    ("tional", "tion"), ("ational", "ate"), ("alize", "al"), ("icate", "ic"),
    ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""),
)) + (("ative", "", True, None),)
_STEP4 = tuple((suffix, "", True, None) for suffix in (
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
    "ism", "ate", "iti", "ous", "ive", "ize",
)) + (("ion", "", True, "st"),)


def _by_last_two(*steps) -> dict:
    """{last two letters: ((suffix, len(suffix), plan), ...)} for Steps 2 to 4.

    The suffixes are all those of the steps' tables that end with the two letters,
    longest first, so the first one a word ends with is the longest it ends with; every
    step's longest suffix that the word ends with (what ``find_among_b`` selects) is then
    a suffix of that one, and ``plan`` lists them in step order as (step, len(suffix),
    replacement, needs R2, preceding letters).  A two-letter suffix always matches.
    """
    table: dict[str, list] = {}
    suffixes = {e[0] for step in steps for e in step}
    for suffix in sorted(suffixes, key=lambda suffix: (-len(suffix), suffix)):
        plan = []
        for number, step in enumerate(steps, 2):
            found = [e for e in step if suffix.endswith(e[0])]
            if found:
                e = max(found, key=lambda e: len(e[0]))
                plan.append((number, len(e[0])) + e[1:])
        table.setdefault(suffix[-2:], []).append((suffix, len(suffix), tuple(plan)))
    return {key: tuple(group) for key, group in table.items()}


_TAILS = _by_last_two(_STEP2, _STEP3, _STEP4)


def _may_change() -> dict:
    """{last letter: the endings with it that some step acts on, or True for any}.

    No step acts on a word with another ending, so such a word is returned as is --
    unless it starts with an apostrophe (removed) or holds a Y (the postlude lowers
    every Y if it marked a y).  (The exceptional words all end with s, y or e.)
    """
    endings = {"'", "s", "ed", "ing", "y", "Y", "e", "ll"}  # Steps 1 and 5
    for suffix, _, _, before in _STEP2 + _STEP3 + _STEP4:
        endings.update([suffix] if before is None else [b + suffix for b in before])
    table: dict[str, list] = {}
    for e in sorted(endings):
        if not any(e != other and e.endswith(other) for other in endings):
            table.setdefault(e[-1], []).append(e)
    return {last: True if last in ends else tuple(ends) for last, ends in table.items()}


_MAY_CHANGE = _may_change()


def _short_v(w: str, end: int) -> bool:
    """Snowball ``shortv`` evaluated at the end of ``w[:end]``."""
    if end >= 3:
        if w[end - 1] not in _V_WXY and w[end - 2] in _V and w[end - 3] not in _V:
            return True
    elif end == 2:
        if w[1] not in _V and w[0] in _V:
            return True
    return w.endswith("past", 0, end)


def _mark_y(w: str) -> tuple[str, bool]:
    """Prelude: an initial y and every y after a vowel become the consonant Y."""
    found = False
    if w[0] == "y":
        w = "Y" + w[1:]
        found = True
    i = w.find("y", 1)
    while i > 0:
        if w[i - 1] in _V:  # (a y just turned into Y is no vowel)
            w = w[:i] + "Y" + w[i + 1:]
            found = True
        i = w.find("y", i + 1)
    return w, found


def _step1(w: str, first_vowel: int, p1: int) -> str:
    """Steps 1a, 1b and 1c, for a word ending with one of ' s d g y Y."""
    # --- Step 1a
    last = w[-1]
    if "'" in w:
        if w.endswith("'s'"):
            w = w[:-3]
        elif w.endswith("'s"):
            w = w[:-2]
        elif last == "'":
            w = w[:-1]
        last = w[-1:]
    if last == "s":
        prev = w[-2:-1]
        if prev == "s" or prev == "u" or not prev:
            return w  # -ss and -us are kept (and Steps 1b and 1c need other endings)
        if prev == "e" and w.endswith("ies"):
            w = w[:-2] if len(w) > 4 else w[:-1]
        elif prev == "e" and w.endswith("sses"):
            w = w[:-2]
        elif first_vowel < len(w) - 2:  # a vowel before the letter preceding the s
            w = w[:-1]
        last = w[-1]
    elif last == "d" and w.endswith("ied"):
        w = w[:-2] if len(w) > 4 else w[:-1]
        last = w[-1]
    if last not in "dgyY":
        return w

    # --- Step 1b
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
    return w


def _steps_2_to_4(w: str, tails: tuple, p1: int, p2: int, first: int = 2) -> str:
    """Steps ``first`` to 4, given ``tails = _TAILS[w[-2:]]``."""
    for suffix, length, plan in tails:
        if length == 2 or w.endswith(suffix):
            for step, k, repl, needs_r2, before in plan:
                start = len(w) - k
                # (R2 lies within R1, and start >= p1 >= 2 once the region test passes)
                if step < first or (p2 if needs_r2 else p1) > start or (
                        before is not None and w[start - 1] not in before):
                    continue  # (a step whose suffix is found but not removed is done)
                if step == 4:
                    return w[:start]
                w = w[:start] + repl
                tails = _TAILS.get(w[-2:])
                return w if tails is None else _steps_2_to_4(w, tails, p1, p2, step + 1)
            return w
    return w


def stem(word: str) -> str:
    """Stem one (lower-cased) word exactly like snowballstemmer 3's English stemmer."""
    if len(word) < 3:
        return word
    last = word[-1]
    ends = _MAY_CHANGE.get(last)
    if (ends is not True and (ends is None or not word.endswith(ends))
            and word[0] != "'" and "Y" not in word):
        return word
    if word in _EXCEPTION_WORDS:
        return _EXCEPTIONS[word]

    # --- prelude: leading apostrophe, y -> Y as a consonant
    w = word[1:] if word[0] == "'" else word
    y_found = False
    if "y" in w:
        w, y_found = _mark_y(w)

    # --- regions (all indices stay valid: later steps only change the end of w, and
    # after Step 1a w is always a prefix of the marked word)
    m = _REGIONS.match(w)
    p1 = m.end(2)
    p2 = m.end()

    if last in "'sdgyY":  # (Step 1 acts on no other ending; w ends like word, or with Y)
        w = _step1(w, m.end(1), p1)
    tails = _TAILS.get(w[-2:])
    if tails is not None:
        w = _steps_2_to_4(w, tails, p1, p2)

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
