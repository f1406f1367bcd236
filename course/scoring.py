"""Score one response against one answer key — pure, standard library only.

This module is embedded verbatim in every generated notebook (the hidden
tests call it in the grading kernel) and imported by the trusted re-scoring
step, so both use exactly the same rules. It must not import the package.

A key spec is a dict: ``{"type", "points", "answer", ...}`` (see ``key_spec``
in :mod:`course.build`). A response is the JSON value saved by the widget:

========== ==================================== ===================================
type       response                             rule
========== ==================================== ===================================
single     ``"B"``                              all or nothing
multiple   ``["A", "C"]``                       partial: any wrong option → 0, else
                                                points × right ÷ keys
truefalse  ``true`` / ``false``                 all or nothing
blank      ``["text", ...]`` one per blank       points ÷ blanks per right blank
ordering   ``["C", "A", ...]`` by position       partial: points × right places ÷ n
matching   ``{"1": "B", ...}``                  points ÷ prompts per right pair
case       ``"text"``                           graded by hand (not scored here)
========== ==================================== ===================================

A response of the wrong shape scores 0 and is reported by :func:`check_shape`.
"""

from __future__ import annotations

import unicodedata
from typing import Any


def normalise_text(text: str) -> str:
    """Compare blanks ignoring width, case, spaces and punctuation (NFKC first)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def check_shape(kind: str, response: Any, width: int | None = None) -> str | None:
    """Return why ``response`` is not a valid answer of ``kind``, or None if it is."""
    if response is None:
        return None
    if kind in ("single", "case"):
        ok = isinstance(response, str)
    elif kind == "truefalse":
        ok = isinstance(response, bool)
    elif kind in ("multiple", "blank", "ordering"):
        ok = isinstance(response, list) and all(x is None or isinstance(x, str) for x in response)
        ok = ok and (width is None or kind == "multiple" or len(response) == width)
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
        return any(x not in (None, "") and (not isinstance(x, str) or x.strip()) for x in response)
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
    if kind == "blank":
        return _part(points, _right_blanks(spec["blanks"], response, bool(spec.get("any_order"))), len(spec["blanks"]))
    raise ValueError(f"unknown question type {kind!r}")


def _right_blanks(blanks: list[list[str]], response: list[Any], any_order: bool) -> int:
    given = [normalise_text(x) if isinstance(x, str) else "" for x in response]
    accepted = [{normalise_text(a) for a in alts} for alts in blanks]
    if not any_order:
        return sum(1 for g, ok in zip(given, accepted, strict=True) if g and g in ok)
    # Unordered list: each given text may fill one still-unmatched blank.
    free = list(accepted)
    right = 0
    for g in given:
        for i, ok in enumerate(free):
            if g and g in ok:
                right += 1
                del free[i]
                break
    return right


def _part(points: float, right: int, total: int) -> float:
    return round(points * right / total, 2) if total else 0.0
