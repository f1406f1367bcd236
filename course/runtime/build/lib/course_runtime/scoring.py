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
date     ``2031-03-08``, ``2031.3.8``,   it is a date of the same year, month, day
         ``2031年3月8日``, ``3月8日``     (any of these forms; 号 for 日)
dotted   ``192.168.1.10`` (3+ groups)  its digit groups are exactly these
percent  ``98%``                       it is a percent of the same value
                                       (``98 %``, ``98％``; not ``9.8%``, ``98‰``)
number   ``0.98``, ``1,580``, ``1mm``   it is a number of the same value and the
                                       same unit (``0.980``, ``0。98``, ``1 mm``;
                                       not ``098``, ``09.8``, ``98%``)
text     anything else                 equal ignoring width, case, spaces and
                                       punctuation (:func:`normalise_text`)
======== ============================ ==========================================

Width is normalised (NFKC) for every kind; the Chinese 。 is read as a decimal
point only in numbers and percentages. A question may force text comparison
for all its blanks with ``"compare": "text"``.
"""

from __future__ import annotations

import re
import unicodedata
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


def normalise_text(text: str) -> str:
    """Compare blanks ignoring width, case, spaces and punctuation (NFKC first).

    One pass can leave a string that a second pass changes (``"A¯"``: NFKC makes the macron a
    space and a combining mark; dropping the space lets them compose), so passes repeat until
    nothing changes; a few suffice for any text.
    """
    for _ in range(4):
        step = unicodedata.normalize("NFKC", text).casefold()
        step = "".join(ch for ch in step if not ch.isspace() and not unicodedata.category(ch).startswith("P"))
        if step == text:
            break
        text = step
    return text


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


def read_as(kind: str, text: str) -> Any:
    """The value of ``text`` read as ``kind`` (see the module table), or None if it is not one."""
    text = unicodedata.normalize("NFKC", text).strip()
    if kind == "text":
        return normalise_text(text) or None
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
    if not isinstance(response, str):
        return False
    kind = "text" if as_text else classify(alternative)
    got = read_as(kind, response)
    return got is not None and got == read_as(kind, alternative)


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
    kind, points = spec["type"], float(spec["points"])
    key: Any = spec.get("answer")
    width = len(key) if isinstance(key, list) else len(spec.get("blanks") or []) or None
    if kind == "case" or not is_answered(response) or check_shape(kind, response, width):
        return 0.0
    if kind in ("single", "truefalse"):
        return points if response == key else 0.0
    if kind == "multiple":
        chosen = set(response)
        if chosen - set(key):
            return 0.0
        if spec.get("scoring") == "all_or_nothing":
            return points if chosen == set(key) else 0.0
        return _part(points, len(chosen), len(key))
    if kind == "ordering":
        right = sum(1 for got, want in zip(response, key, strict=True) if got == want)
        if spec.get("scoring") == "all_or_nothing":
            return points if right == len(key) else 0.0
        return _part(points, right, len(key))
    if kind == "matching":
        right = sum(1 for prompt, want in key.items() if response.get(prompt) == want)
        return _part(points, right, len(key))
    blanks = spec["blanks"]  # the last type check_shape knows
    right = _right_blanks(blanks, response, bool(spec.get("any_order")), spec.get("compare") == "text")
    return _part(points, right, len(blanks))


def _right_blanks(blanks: list[list[str]], response: list[Any], any_order: bool, as_text: bool) -> int:
    fits = [[any(blank_matches(a, given, as_text) for a in alts) for alts in blanks] for given in response]
    if not any_order:
        return sum(1 for i, row in enumerate(fits) if row[i])
    return _matching_size(fits)


def _matching_size(fits: list[list[bool]]) -> int:
    """Most blanks filled when each response may fill any one blank it fits (augmenting paths)."""
    owner: dict[int, int] = {}  # blank -> response filling it

    def place(given: int, tried: set[int]) -> bool:
        for blank, fit in enumerate(fits[given]):
            if fit and blank not in tried:
                tried.add(blank)
                if blank not in owner or place(owner[blank], tried):
                    owner[blank] = given
                    return True
        return False

    return sum(1 for given in range(len(fits)) if place(given, set()))


def _part(points: float, right: int, total: int) -> float:
    if not total:
        return 0.0
    return points if right == total else min(points, round(points * right / total, 2))
