"""Score one response against one answer key — pure, standard library only.

This module is embedded verbatim in every generated notebook (the widgets
check answer shapes with it, and the hidden tests score with it when nbgrader
runs a kernel) and imported by the grader (:mod:`course.grading`), so all use
exactly the same rules. It must not import the package.

A key spec is a dict: ``{"type", "points", "answer", ...}`` (see ``key_spec``
in :mod:`course.build`). A response is the JSON value saved by the widget:

========== ==================================== ===================================
type       response                             rule
========== ==================================== ===================================
single     ``"B"``                              all or nothing
multiple   ``["A", "C"]`` distinct keys         partial: any wrong option → 0, else
                                                points × right ÷ keys
truefalse  ``true`` / ``false``                 all or nothing
blank      ``["text", ...]`` one per blank       points ÷ blanks per right blank
ordering   ``["C", "A", ...]`` by position,     partial: points × right places ÷ n
           no item twice (``None``: unset)
matching   ``{"1": "B", ...}``                  points ÷ prompts per right pair
case       ``"text"``                           graded by hand (not scored here)
========== ==================================== ===================================

A response of the wrong shape scores 0 and is reported by :func:`check_shape`,
the one shape rule of the widgets and the grader.

Blanks: each accepted alternative decides how a response is compared
(:func:`classify`):

======== ============================ ==========================================
kind     alternative looks like       a response matches when
======== ============================ ==========================================
date     ``2031-03-08``, ``2031.3.8``, it is a date of the same year, month, day
         ``2031年3月8日``, ``3月8日``   (any of these forms; 号 for 日)
dotted   ``10.20.30.40`` (3+ groups)   its digit groups are exactly these
percent  ``37%``                       it is a percent of the same value
                                       (``37 %``, ``37％``; not ``3.7%``, ``37‰``)
number   ``0.37``, ``4,250``, ``7mm``  it is a number of the same value and the
                                       same unit (``0.370``, ``0。37``, ``7 mm``;
                                       not ``037``, ``03.7``, ``37%``)
text     anything else                 equal ignoring width, case, spaces and
                                       punctuation (:func:`normalise_text`)
======== ============================ ==========================================

Width is normalised (NFKC) for every kind and invisible characters (Unicode
category Cf: zero-width space, joiners, soft hyphen, byte-order mark; and every
Default_Ignorable_Code_Point: variation selectors, the combining grapheme
joiner, Hangul fillers) are dropped, so an answer compares as it looks; the Chinese 。 is read as a
decimal point only in numbers and percentages. A number, date or address may be
written as in a sentence: in quotes, followed by a full stop or comma, with
spaces grouping thousands (``“7 350”。`` is ``7350``; ``73 50`` is not). A
question may force text comparison for all its blanks with ``"compare": "text"``.
When blanks may be filled in any order (``"any_order": true``),
:func:`arrange_blanks` puts each response in the place of the blank it fills,
for feedback.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

_NUMBER = r"[+-]?(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)(?:\.\d+)?"
_PERCENT_RE = re.compile(rf"({_NUMBER})\s*%")
_NUMBER_RE = re.compile(rf"({_NUMBER})\s*([^\W\d_].*)?")
_DOTTED_RE = re.compile(r"\d+(?:\.\d+){2,}")
_YMD_RE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})|(\d{4})年(\d{1,2})月(\d{1,2})[日号]")
_MD_RE = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")
_YM_RE = re.compile(r"(\d{4})年(\d{1,2})月")
KINDS: tuple[str, ...] = ("date", "dotted", "percent", "number", "text")
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.1): drawn as nothing. Not all are
# format characters (Cf): variation selectors and the combining grapheme joiner are marks, Hangul fillers letters.
_IGNORABLE_RE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                           "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
                           "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def visible(text: str) -> str:
    """``text`` without invisible characters (category Cf, Default_Ignorable_Code_Point), which no reader can see."""
    if text.isascii():
        return text
    return "".join(ch for ch in _IGNORABLE_RE.sub("", text) if unicodedata.category(ch) != "Cf")


def normalise_text(text: str) -> str:
    """Compare blanks ignoring width, case, spaces, punctuation and invisible characters (NFKC first).

    One pass can leave a string that a second pass changes (``"A¯"``: NFKC makes the macron a
    space and a combining mark; dropping the space lets them compose), so passes repeat until
    nothing changes; a few suffice for any text.
    """
    for _ in range(4):
        step = _IGNORABLE_RE.sub("", unicodedata.normalize("NFKC", text).casefold())
        step = "".join(ch for ch in step if not ch.isspace() and _kept(unicodedata.category(ch)))
        if step == text:
            break
        text = step
    return text


def _kept(category: str) -> bool:
    return not category.startswith("P") and category != "Cf"


def _date(text: str) -> tuple[int | None, int, int | None] | None:
    """(year, month, day) of a date written as 2031-03-08, 2031/3/8, 2031.3.8, 2031年3月8日, 3月8日, 2031年3月."""
    if m := _YMD_RE.fullmatch(text):
        year, month, day = (m[1], m[3], m[4]) if m[1] else (m[5], m[6], m[7])
        value: tuple[int | None, int, int | None] = (int(year), int(month), int(day))
    elif m := _MD_RE.fullmatch(text):
        value = (None, int(m[1]), int(m[2]))
    elif m := _YM_RE.fullmatch(text):
        value = (int(m[1]), int(m[2]), None)
    else:
        return None
    day = value[2]
    return value if 1 <= value[1] <= 12 and (day is None or 1 <= day <= 31) else None


def _decimal(number: str) -> Decimal:
    return Decimal(number.replace(",", ""))


_AROUND = "\"'“”‘’「」『』 "  # quotes and spaces around a value
_AFTER = "。.，,；;！!？?"  # the punctuation ending the sentence it was written in
_SPACED_THOUSANDS = re.compile(r"(?<=\d)\s+(?=\d{3}(?!\d))")


def _as_a_value(text: str) -> str:
    """A number, date or address as written in a sentence: without quotes around it, the full stop after
    it, or the spaces grouping its thousands (``“7 350”。`` reads ``7350``)."""
    text = text.strip(_AROUND).rstrip(_AFTER).strip(_AROUND)
    return _SPACED_THOUSANDS.sub("", text)


@functools.lru_cache(maxsize=16_384)  # pure; a cohort's answers repeat (every right answer is the same text)
def read_as(kind: str, text: str) -> Any:
    """The value of ``text`` read as ``kind`` (see the module table), or None if it is not one."""
    text = unicodedata.normalize("NFKC", visible(text)).strip()
    if kind == "text":
        return normalise_text(text) or None
    text = _as_a_value(text)
    if kind == "date":
        return _date("".join(text.split()))
    if kind == "dotted":
        text = "".join(text.split())
        return text if _DOTTED_RE.fullmatch(text) else None
    text = text.replace("。", ".")  # a Chinese full stop is a decimal point only where a number is expected
    if kind == "percent":
        m = _PERCENT_RE.fullmatch(text)
        return _decimal(m[1]) if m else None
    if kind == "number":
        m = _NUMBER_RE.fullmatch(text)
        return (_decimal(m[1]), normalise_text(m[2] or "")) if m else None
    raise ValueError(f"unknown comparison kind {kind!r}: use one of {', '.join(KINDS)}")


def classify(alternative: str) -> str:
    """How responses are compared with this accepted alternative: the first kind that reads it."""
    return next((kind for kind in KINDS if read_as(kind, alternative) is not None), "text")


def blank_matches(alternative: str, response: Any, as_text: bool = False) -> bool:
    """True when ``response`` fills a blank whose accepted answer is ``alternative`` (compared as text if asked)."""
    return blank_key(((alternative,),), as_text).fits([response])[0][0]


class BlankKey:
    """Every blank's accepted answers read once, as (kind, value): the matcher of one question.

    A response is read once per kind its blanks use, however many alternatives there are.
    """

    def __init__(self, blanks: Sequence[Sequence[str]], as_text: bool = False) -> None:
        def accepted(alternative: str) -> tuple[str, Any]:
            kind = "text" if as_text else classify(alternative)
            return kind, read_as(kind, alternative)

        self.blanks = tuple(tuple(accepted(a) for a in alts) for alts in blanks)

    def fits(self, response: Sequence[Any]) -> list[list[bool]]:
        """``fits[i][j]``: response ``i`` fills blank ``j``."""
        out = []
        for given in response:
            if not isinstance(given, str):
                out.append([False] * len(self.blanks))
                continue
            read: dict[str, Any] = {}
            row = []
            for alts in self.blanks:
                hit = False
                for kind, want in alts:
                    if kind not in read:
                        read[kind] = read_as(kind, given)
                    if read[kind] is not None and read[kind] == want:
                        hit = True
                        break
                row.append(hit)
            out.append(row)
        return out


@functools.lru_cache(maxsize=1024)
def _blank_key(blanks: tuple[tuple[str, ...], ...], as_text: bool) -> BlankKey:
    return BlankKey(blanks, as_text)


def blank_key(blanks: Sequence[Sequence[str]], as_text: bool = False) -> BlankKey:
    """The matcher of a question's blanks, built once per process and question."""
    return _blank_key(tuple(tuple(alts) for alts in blanks), as_text)


def check_shape(kind: str, response: Any, width: int | None = None) -> str | None:
    """Return why ``response`` is not a valid answer of ``kind``, or None if it is (None: not answered)."""
    if response is None:
        return None
    if kind in ("single", "case"):
        ok = isinstance(response, str)
    elif kind == "truefalse":
        ok = isinstance(response, bool)
    elif kind in ("multiple", "blank", "ordering"):
        ok = isinstance(response, list) and all(x is None or isinstance(x, str) for x in response)
        if ok and width is not None and kind != "multiple" and len(response) != width:
            return f"a {kind} answer must have {width} entries, not {len(response)}: {response!r}"
        if ok and kind == "multiple" and any(x is None or not x.strip() for x in response):
            return f"a multiple answer cannot hold an empty or None key: {response!r}"
        chosen = [x for x in response if x is not None] if ok else []
        if ok and kind in ("multiple", "ordering") and len(set(chosen)) != len(chosen):
            twice = sorted({x for x in chosen if chosen.count(x) > 1})
            return f"a {kind} answer cannot repeat {', '.join(twice)}: {response!r}"
    elif kind == "matching":
        ok = isinstance(response, dict) and all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in response.items()
        )
    else:
        return f"unknown question type {kind!r}"
    return None if ok else f"a {kind} answer cannot be {type(response).__name__} {response!r}"


def frozen(value: Any) -> Any:
    """A hashable stand-in for a saved answer (a JSON value) that tells apart what ``==`` mixes up: True, 1, 1.0."""
    if isinstance(value, list):
        return ("[", *map(frozen, value))
    if isinstance(value, dict):
        return ("{", *sorted((str(k), frozen(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def is_answered(response: Any) -> bool:
    """True when the learner has given any answer at all."""
    if response is None:
        return False
    if isinstance(response, str):
        return bool(response.strip())
    if isinstance(response, list):
        return any(x is not None and (not isinstance(x, str) or x.strip()) for x in response)
    if isinstance(response, dict):
        return any(v not in (None, "") for v in response.values())
    return True


def score(spec: dict[str, Any], response: Any) -> float:
    """Points earned by ``response`` under ``spec`` (0 for no or malformed answer)."""
    return scorer(spec)(response)


def scorer(spec: dict[str, Any]) -> Scorer:
    """:func:`score` with ``spec`` read once: the grader builds one per question and calls it per learner."""
    return Scorer(spec)


class Scorer:
    """One question's key, read once (its blanks' accepted answers included); call it with a response."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.kind, self.points = spec["type"], float(spec["points"])
        self.key: Any = spec.get("answer")
        self.width = len(self.key) if isinstance(self.key, list) else len(spec.get("blanks") or []) or None
        self.all_or_nothing = spec.get("scoring") == "all_or_nothing"
        self.keys: set[Any] = set(spec["answer"]) if self.kind == "multiple" else set()
        self.blanks = blank_key(spec["blanks"], spec.get("compare") == "text") if self.kind == "blank" else None
        self.any_order = bool(spec.get("any_order"))

    def __call__(self, response: Any) -> float:
        if self.kind == "case" or not is_answered(response) or check_shape(self.kind, response, self.width):
            return 0.0
        return self.of_checked(response)

    def of_checked(self, response: Any) -> float:
        """The score of an answered response whose shape :func:`check_shape` found right (not a case answer)."""
        kind, points, key = self.kind, self.points, self.key
        if kind in ("single", "truefalse"):
            return points if response == key else 0.0
        if kind == "multiple":
            chosen = set(response)
            if chosen - self.keys:
                return 0.0
            if self.all_or_nothing:
                return points if chosen == self.keys else 0.0
            return _part(points, len(chosen), len(key))
        if kind == "ordering":
            right = sum(1 for got, want in zip(response, key, strict=True) if got == want)
            if self.all_or_nothing:
                return points if right == len(key) else 0.0
            return _part(points, right, len(key))
        if kind == "matching":
            right = sum(1 for prompt, want in key.items() if response.get(prompt) == want)
            return _part(points, right, len(key))
        assert self.blanks is not None  # the last type check_shape knows
        fits = self.blanks.fits(response)
        right = len(_matching(fits)) if self.any_order else sum(1 for i, row in enumerate(fits) if row[i])
        return _part(points, right, len(self.blanks.blanks))


def arrange_blanks(blanks: list[list[str]], response: list[Any], as_text: bool = False) -> list[Any]:
    """The responses of an any-order blank question, each in the place of the blank it fills.

    The same matching that scores them: a response that fills a blank stands at that blank's
    place; the others keep their order in the places left. A learner who wrote the right
    answers in another order sees them beside the key's, not "swapped".
    """
    owner = _matching(blank_key(blanks, as_text).fits(response))
    used = set(owner.values())
    rest = iter(r for i, r in enumerate(response) if i not in used)
    return [response[owner[b]] if b in owner else next(rest, None) for b in range(len(blanks))]


def _matching(fits: list[list[bool]]) -> dict[int, int]:
    """Most blanks filled when each response may fill any one blank it fits (augmenting paths).

    Returns blank -> the response filling it.
    """
    owner: dict[int, int] = {}  # blank -> response filling it

    def place(given: int, tried: set[int]) -> bool:
        for blank, fit in enumerate(fits[given]):
            if fit and blank not in tried:
                tried.add(blank)
                if blank not in owner or place(owner[blank], tried):
                    owner[blank] = given
                    return True
        return False

    for given in range(len(fits)):
        place(given, set())
    return owner


def _part(points: float, right: int, total: int) -> float:
    if not total:
        return 0.0
    return points if right == total else min(points, round(points * right / total, 2))
