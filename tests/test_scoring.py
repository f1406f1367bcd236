"""Does every answer form earn exactly the points it should? (course_runtime.scoring, no nbgrader involved)

One table per question type: ``(id, spec, response, expected points)``. Expected values are
worked out by hand from the rules in the docstring of :mod:`course_runtime.scoring`; a few rows are
generated (every permutation, every subset) with the rule written out next to them.
"""

from __future__ import annotations

import re
from itertools import permutations, product
from typing import Any

import pytest
from course_runtime.scoring import (
    arrange_blanks,
    blank_matches,
    check_shape,
    classify,
    is_answered,
    normalise_text,
    read_as,
    score,
    visible,
)

Row = Any  # a pytest.param


def slug(value: Any) -> str:
    """A plain-ASCII test id (mutmut passes ids back to pytest on the command line)."""
    text = value.encode("ascii", "backslashreplace").decode() if isinstance(value, str) else ascii(value)
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "empty"


def plain(table: list[Row]) -> list[Row]:
    return [p._replace(id=slug(p.id)) for p in table]


def rows(spec: dict[str, Any], cases: list[tuple[str, Any, float]], prefix: str = "") -> list[Row]:
    return [pytest.param(spec, response, want, id=f"{prefix}{name}") for name, response, want in cases]


def check(spec: dict[str, Any], response: Any, want: float) -> None:
    got = score(spec, response)
    assert got == want, f"{response!r} earned {got}, expected {want}"
    assert isinstance(got, float)


# ---------------------------------------------------------------- single
SINGLE = {"type": "single", "points": 2, "answer": "B"}
SINGLE_FORMS: list[tuple[str, Any, float]] = [
    ("key", "B", 2.0),
    ("wrong-A", "A", 0.0),
    ("wrong-C", "C", 0.0),
    ("wrong-D", "D", 0.0),
    ("lower-case-not-a-key", "b", 0.0),
    ("full-width-not-a-key", "Ｂ", 0.0),
    ("spaced-not-a-key", " B", 0.0),
    ("two-keys", "BC", 0.0),
    ("empty", "", 0.0),
    ("spaces-only", "  ", 0.0),
    ("none", None, 0.0),
    ("list-shape", ["B"], 0.0),
    ("bool-shape", True, 0.0),
    ("int-shape", 2, 0.0),
    ("dict-shape", {"B": True}, 0.0),
    ("float-shape", 1.0, 0.0),
    ("unknown-key", "Z", 0.0),
    ("chinese-text", "乙", 0.0),
    ("key-with-dot-not-a-key", "B.", 0.0),
    ("bracketed-not-a-key", "(B)", 0.0),
]
SINGLE_ROWS = (
    rows(SINGLE, SINGLE_FORMS)
    + [
        pytest.param(
            {"type": "single", "points": p, "answer": k}, r, p if r == k else 0.0, id=f"{p:g}pt-key-{k}-got-{r}"
        )
        for p, k, r in product((0.5, 1, 1.5, 3, 5), "ACD", "ABCDE")
    ]
    + [
        pytest.param({"type": "single", "points": 4, "answer": "B"}, r, 0.0, id=f"4pt-shape-{name}")
        for name, r in (
            ("list", ["B", "C"]),
            ("empty-list", []),
            ("empty-dict", {}),
            ("false", False),
            ("zero", 0),
            ("float", 2.5),
        )
    ]
)


@pytest.mark.parametrize(("spec", "response", "want"), plain(SINGLE_ROWS))
def test_single(spec: dict[str, Any], response: Any, want: float) -> None:
    check(spec, response, want)


# ---------------------------------------------------------------- multiple
MULTI = {"type": "multiple", "points": 3, "answer": ["A", "C", "D"], "scoring": "partial"}
MULTI_AON = {**MULTI, "scoring": "all_or_nothing"}
MULTI_FORMS: list[tuple[str, Any, float]] = [
    ("key", ["A", "C", "D"], 3.0),
    ("key-unsorted", ["D", "A", "C"], 3.0),
    ("two-of-three", ["A", "C"], 2.0),
    ("one-of-three", ["D"], 1.0),
    ("one-wrong-with-all-keys", ["A", "B", "C", "D"], 0.0),
    ("only-wrong", ["B"], 0.0),
    ("every-option", ["A", "B", "C", "D", "E"], 0.0),
    ("empty-list", [], 0.0),
    ("none", None, 0.0),
    ("none-element", ["A", None], 0.0),
    ("only-none", [None], 0.0),
    ("empty-key", ["A", ""], 0.0),
    ("space-key", ["A", " "], 0.0),
    ("repeated-key", ["A", "A"], 0.0),
    ("repeated-key-full", ["A", "A", "C", "D"], 0.0),
    ("string-shape", "A,C,D", 0.0),
    ("dict-shape", {"A": True}, 0.0),
    ("int-element", ["A", 1], 0.0),
    ("bool-shape", True, 0.0),
    ("lower-case-is-not-a-key", ["a", "c", "d"], 0.0),
    ("unknown-key", ["A", "Z"], 0.0),
]
OPTIONS = "ABCDE"
SUBSETS = [[k for k, on in zip(OPTIONS, mask, strict=True) if on] for mask in product((0, 1), repeat=5)]


def _partial(chosen: list[str], key: list[str], points: float) -> float:
    """The partial rule written out: any wrong option → 0, else points × right ÷ keys."""
    return 0.0 if set(chosen) - set(key) else round(points * len(chosen) / len(key), 2)


MULTI_ROWS = (
    rows(MULTI, MULTI_FORMS, "partial-")
    + rows(MULTI_AON, [(n, r, 3.0 if w == 3.0 else 0.0) for n, r, w in MULTI_FORMS], "all-or-nothing-")
    + [
        pytest.param(MULTI, s, _partial(s, MULTI["answer"], 3), id=f"partial-subset-{''.join(s) or 'none'}")
        for s in SUBSETS
    ]
    + [
        pytest.param(
            MULTI_AON, s, 3.0 if s == ["A", "C", "D"] else 0.0, id=f"all-or-nothing-subset-{''.join(s) or 'none'}"
        )
        for s in SUBSETS
    ]
    + [
        pytest.param(
            {"type": "multiple", "points": 2, "answer": ["A", "B", "C"], "scoring": "partial"},
            s,
            w,
            id=f"thirds-{''.join(s)}",
        )
        for s, w in ((["A"], 0.67), (["A", "B"], 1.33), (["A", "B", "C"], 2.0), (["C"], 0.67))
    ]
)


@pytest.mark.parametrize(("spec", "response", "want"), plain(MULTI_ROWS))
def test_multiple(spec: dict[str, Any], response: Any, want: float) -> None:
    check(spec, response, want)


# ---------------------------------------------------------------- true/false
TF_FORMS: list[tuple[str, Any]] = [
    ("true", True),
    ("false", False),
    ("str-true", "true"),
    ("str-dui", "对"),
    ("str-cuo", "错"),
    ("int-1", 1),
    ("int-0", 0),
    ("none", None),
    ("list", [True]),
    ("empty-str", ""),
]
TF_ROWS = [
    pytest.param(
        {"type": "truefalse", "points": p, "answer": key}, r, p if r is key else 0.0, id=f"{p:g}pt-key-{key}-got-{name}"
    )
    for p, key in product((1, 2, 0.5, 1.5, 3), (True, False))
    for name, r in TF_FORMS
]


@pytest.mark.parametrize(("spec", "response", "want"), plain(TF_ROWS))
def test_truefalse(spec: dict[str, Any], response: Any, want: float) -> None:
    check(spec, response, want)


# ---------------------------------------------------------------- blank
# One blank, 1 point: (accepted alternative, response, matches?)
ONE_BLANK: list[tuple[str, str, str, bool]] = [
    # numbers: value and form, not digits with punctuation stripped
    ("number-key", "0.98", "0.98", True),
    ("number-098", "0.98", "098", False),
    ("number-09.8", "0.98", "09.8", False),
    ("number-trailing-zero", "0.98", "0.980", True),
    ("number-chinese-full-stop", "0.98", "0。98", True),
    ("number-full-width", "0.98", "０．９８", True),
    ("number-spaces-around", "0.98", " 0.98 ", True),
    ("number-percent-is-not-a-number", "0.98", "0.98%", False),
    ("number-98", "0.98", "98", False),
    ("number-dot-98", "0.98", ".98", False),
    ("number-4.0-is-not-40", "40", "4.0", False),
    ("number-40", "40", "40", True),
    ("number-40.0", "40", "40.0", True),
    ("number-040", "40", "040", False),
    ("number-full-width-40", "40", "４０", True),
    ("number-25-is-not-2.5", "2.5", "25", False),
    ("number-2.50", "2.5", "2.50", True),
    ("number-2。5", "2.5", "2。5", True),
    ("number-1.580-is-not-1580", "1580", "1.580", False),
    ("number-1580%-is-not-1580", "1580", "1580%", False),
    ("number-thousands", "1580", "1,580", True),
    ("number-full-width-thousands", "1580", "1，580", True),
    ("number-bad-grouping", "1580", "15,80", False),
    ("number-inner-space", "1580", "15 80", False),
    ("number-space-thousands", "1580", "1 580", True),
    ("number-space-millions", "2000000", "2 000 000", True),
    ("number-space-bad-grouping", "15800", "1 5800", False),
    ("number-full-stop-after", "20", "20。", True),
    ("number-dot-after", "20", "20.", True),
    ("number-comma-after", "20", "20，", True),
    ("number-chinese-quotes", "20", "“20”", True),
    ("number-corner-quotes", "20", "「20」", True),
    ("number-quotes-and-full-stop", "1580", "“1 580”。", True),
    ("number-full-stop-inside-quotes", "20", "“20。”", True),
    ("number-unit-full-stop-after", "20天", "20天。", True),
    ("number-two-full-stops", "20", "20。。", True),
    ("number-quote-only", "20", "“”", False),
    ("number-letters-around-are-kept", "20", "X20X", False),
    ("number-letter-after-is-a-unit", "20", "20X", False),
    ("number-unit-not-asked", "1580", "1580元", False),
    ("number-letters-not-asked", "5", "5xxxx", False),
    ("number-plus-sign", "5", "+5", True),
    ("number-negative", "-5", "-5", True),
    ("number-negative-is-not-positive", "5", "-5", False),
    ("number-words", "40", "四十", False),
    ("number-chinese-full-stop-in-text-key", "IC卡", "IC卡。", True),
    # numbers with a unit
    ("unit-key", "1mm", "1mm", True),
    ("unit-space", "1mm", "1 mm", True),
    ("unit-case", "1mm", "1MM", True),
    ("unit-full-width", "1mm", "１ｍｍ", True),
    ("unit-value", "1mm", "1.0mm", True),
    ("unit-missing", "1mm", "1", False),
    ("unit-other", "1mm", "1cm", False),
    ("unit-wrong-value", "1mm", "10mm", False),
    ("unit-chinese", "17908卡", "17908 卡", True),
    ("unit-chinese-dropped-digit", "17908卡", "1790卡", False),
    # percentages
    ("percent-key", "98%", "98%", True),
    ("percent-space", "98%", "98 %", True),
    ("percent-full-width", "98%", "98％", True),
    ("percent-full-width-space", "98%", "98 ％", True),
    ("percent-full-width-digits", "98%", "９８％", True),
    ("percent-98.0", "98%", "98.0%", True),
    ("percent-permille", "98%", "98‰", False),
    ("percent-9.8", "98%", "9.8%", False),
    ("percent-no-sign", "98%", "98", False),
    ("percent-as-fraction", "98%", "0.98", False),
    ("percent-words", "98%", "百分之九十八", False),
    ("percent-chinese-full-stop", "2.5%", "2。5%", True),
    ("percent-full-stop-after", "98%", "98%。", True),
    ("percent-quotes", "98%", "“98%”", True),
    ("percent-key-full-width", "98％", "98%", True),
    # dates
    ("date-iso", "2000-09-25", "2000-09-25", True),
    ("date-no-zero", "2000-09-25", "2000-9-25", True),
    ("date-chinese", "2000-09-25", "2000年9月25日", True),
    ("date-chinese-hao", "2000-09-25", "2000年9月25号", True),
    ("date-dots", "2000-09-25", "2000.9.25", True),
    ("date-slashes", "2000-09-25", "2000/09/25", True),
    ("date-spaces", "2000-09-25", "2000 年 9 月 25 日", True),
    ("date-full-stop-after", "2000-09-25", "2000年9月25日。", True),
    ("date-quotes", "2000-09-25", "“2000年9月25日”", True),
    ("date-dots-dot-after", "2000-09-25", "2000.9.25.", True),
    ("date-full-width", "2000-09-25", "２０００－０９－２５", True),
    ("date-other-day", "2000-09-25", "2000-09-26", False),
    ("date-other-year", "2000-09-25", "2001年9月25日", False),
    ("date-no-separators", "2000-09-25", "20000925", False),
    ("date-mixed-separators", "2000-09-25", "2000-09.25", False),
    ("date-month-day", "5月17日", "5月17号", True),
    ("date-month-day-zero", "5月17日", "05月17日", True),
    ("date-month-day-is-not-other", "5月17日", "5月18日", False),
    ("date-month-day-other-month", "5月17日", "6月17日", False),
    ("date-month-day-is-not-a-full-date", "5月17日", "2000年5月17日", False),
    ("date-year-month", "2002年5月", "2002年05月", True),
    ("date-year-month-other", "2002年5月", "2002年6月", False),
    ("date-year-month-other-year", "2002年5月", "2003年5月", False),
    ("date-invalid-month-is-text", "2000年13月1日", "2000年13月1日", True),
    ("date-first-day", "2000.1.1", "2000-1-1", True),
    ("date-last-day", "2000.1.31", "2000-1-31", True),
    ("date-last-month", "2000.12.1", "2000-12-1", True),
    ("date-day-0-is-not-a-date", "2000.1.0", "2000-1-0", False),
    ("date-day-32-is-not-a-date", "2000.1.32", "2000-1-32", False),
    ("date-month-0-is-not-a-date", "2000.0.1", "2000-0-1", False),
    ("date-month-13-is-not-a-date", "2000.13.1", "2000-13-1", False),
    ("date-month-day-32-is-text", "5月32日", "5月32号", False),
    ("date-year-month-13-is-text", "2002年13月", "2002年13月", True),
    # dotted addresses: only as written
    ("ip-key", "192.168.1.10", "192.168.1.10", True),
    ("ip-regrouped", "192.168.1.10", "19.21.68.110", False),
    ("ip-no-dots", "192.168.1.10", "192168110", False),
    ("ip-full-width-dots", "192.168.1.10", "192．168．1．10", True),
    ("ip-spaces", "192.168.1.10", " 192.168.1.10 ", True),
    ("ip-inner-spaces", "192.168.1.10", "192. 168 .1.10", True),
    ("ip-three-groups", "192.168.1.10", "192.168.110", False),
    ("ip-chinese-full-stop-is-not-a-dot", "192.168.1.10", "192。168。1。10", False),
    ("ip-full-stop-after", "192.168.1.10", "192.168.1.10。", True),
    ("ip-mask", "255.255.255.192", "255.255.255.192", True),
    ("ip-mask-other", "255.255.255.192", "255.255.255.128", False),
    ("ip-leading-zero-is-another-form", "192.168.1.10", "192.168.001.010", False),
    # text: width, case, spaces and punctuation ignored
    ("text-key", "基础电信业务", "基础电信业务", True),
    ("text-spaces", "基础电信业务", " 基础 电信 业务 ", True),
    ("text-punctuation", "基础电信业务", "基础电信业务。", True),
    ("text-chinese-punctuation", "基础电信业务", "“基础电信业务”", True),
    ("text-hyphen", "基础电信业务", "基础-电信-业务", True),
    ("text-other", "基础电信业务", "增值电信业务", False),
    ("text-part", "基础电信业务", "基础电信", False),
    ("text-empty", "基础电信业务", "", False),
    ("text-punctuation-only", "基础电信业务", "。", False),
    ("text-latin-case", "CDMA2000", "cdma2000", True),
    ("text-latin-space", "CDMA2000", "CDMA 2000", True),
    ("text-latin-full-width", "CDMA2000", "ＣＤＭＡ２０００", True),
    ("text-latin-hyphen", "CDMA2000", "CDMA-2000", True),
    ("text-latin-other", "CDMA2000", "WCDMA", False),
    ("text-brackets", "卤代烷（1211）", "卤代烷1211", True),
    ("text-brackets-half-width", "卤代烷（1211）", "卤代烷(1211)", True),
    ("text-ic-card", "IC卡", "ic 卡", True),
    ("text-co2", "CO2", "co₂", True),
    ("text-key-without-letters", "——", "——", False),
    # invisible format characters (Unicode Cf) count for nothing: the answer compares as it looks
    ("invisible-zero-width-space", "基础电信业务", "基础\u200b电信业务", True),
    ("invisible-joiners", "基础电信业务", "\u200c基础\u200d电信\u2060业务", True),
    ("invisible-byte-order-mark", "基础电信业务", "\ufeff基础电信业务", True),
    ("invisible-soft-hyphen", "CDMA2000", "CDMA\u00ad2000", True),
    ("invisible-bidi-mark", "基础电信业务", "基础电信业务\u200f", True),
    ("invisible-only", "基础电信业务", "\u200b\u200b", False),
    ("invisible-in-date", "5月17日", "5月\u200b17日", True),
    ("invisible-in-full-date", "2000-09-25", "2000-09\u200b-25", True),
    ("invisible-in-number", "1580", "1\u200b580", True),
    ("invisible-before-unit", "1mm", "1\u200bmm", True),
    ("invisible-in-percent", "98%", "98\u200b%", True),
    ("invisible-in-address", "192.168.1.10", "192.168\u200b.1.10", True),
    ("invisible-does-not-make-a-wrong-answer-right", "5月17日", "5月\u200b18日", False),
    # and the other default-ignorable code points, which are not Cf but are drawn as nothing too
    ("invisible-variation-selector", "基础电信业务", "基础\ufe0f电信业务", True),
    ("invisible-variation-selector-supplement", "基础电信业务", "基础电信\U000e0100业务", True),
    ("invisible-grapheme-joiner", "基础电信业务", "基础\u034f电信业务", True),
    ("invisible-hangul-filler", "基础电信业务", "基础\u3164电信业务", True),
    ("invisible-half-width-hangul-filler", "基础电信业务", "基础电信业务\uffa0", True),
    ("invisible-mongolian-selector", "基础电信业务", "基础\u180b电信业务", True),
    ("invisible-in-number-variation-selector", "1580", "15\ufe0e80", True),
    ("invisible-ignorable-only", "基础电信业务", "\u3164\ufe0f", False),
]
BLANK_ROWS = [
    pytest.param({"type": "blank", "points": 1, "blanks": [[alt]]}, [response], 1.0 if ok else 0.0, id=name)
    for name, alt, response, ok in ONE_BLANK
]
TWO = {"type": "blank", "points": 2, "blanks": [["0.98"], ["40"]]}
CARDS = [["IC", "IC卡"], ["300", "300卡"], ["201", "201卡"]]
ORDERED = {"type": "blank", "points": 3, "blanks": CARDS, "any_order": False}
UNORDERED = {**ORDERED, "any_order": True}
OVERLAP = {"type": "blank", "points": 2, "blanks": [["甲", "乙"], ["甲"]], "any_order": True}
AS_TEXT = {"type": "blank", "points": 1, "blanks": [["5.17"]], "compare": "text"}
BLANK_ROWS += rows(
    TWO,
    [
        ("both", ["0.98", "40"], 2.0),
        ("first", ["0.98", "4.0"], 1.0),
        ("second", ["098", "40"], 1.0),
        ("swapped", ["40", "0.98"], 0.0),
        ("none", None, 0.0),
        ("empty", ["", ""], 0.0),
        ("none-elements", [None, None], 0.0),
        ("one-none", [None, "40"], 1.0),
        ("too-few", ["0.98"], 0.0),
        ("too-many", ["0.98", "40", "x"], 0.0),
        ("string-shape", "0.98|40", 0.0),
        ("int-element", [0.98, 40], 0.0),
    ],
    "two-blanks-",
)
BLANK_ROWS += rows(
    ORDERED,
    [
        ("in-order", ["IC", "300", "201"], 3.0),
        ("in-order-with-card", ["IC卡", "300卡", "201卡"], 3.0),
        ("swapped-scores-only-placed", ["IC", "201", "300"], 1.0),
        ("reversed", ["201", "300", "IC"], 1.0),
        ("rotated", ["300", "201", "IC"], 0.0),
        ("repeated", ["IC", "IC", "IC"], 1.0),
    ],
    "ordered-",
)
BLANK_ROWS += rows(
    UNORDERED,
    [
        ("in-order", ["IC", "300", "201"], 3.0),
        ("swapped", ["IC", "201", "300"], 3.0),
        ("reversed", ["201", "300", "IC"], 3.0),
        ("rotated", ["300", "201", "IC"], 3.0),
        ("rotated-with-card", ["300卡", "201", "ic卡"], 3.0),
        ("repeated-counts-once", ["IC", "IC", "IC"], 1.0),
        ("two-repeated", ["300", "300", "201"], 2.0),
        ("one-wrong", ["300", "998", "IC"], 2.0),
        ("empty-one", ["", "201", "IC"], 2.0),
    ],
    "any-order-",
)
BLANK_ROWS += rows(
    OVERLAP,
    [
        ("best-assignment-either-way-a", ["甲", "乙"], 2.0),
        ("best-assignment-either-way-b", ["乙", "甲"], 2.0),
        ("same-twice", ["甲", "甲"], 2.0),
        ("other-twice", ["乙", "乙"], 1.0),
    ],
    "overlap-",
)
BLANK_ROWS += rows(
    AS_TEXT,
    [
        ("key", ["5.17"], 1.0),
        ("punctuation-ignored", ["5，17"], 1.0),
        ("digits-only", ["517"], 1.0),
        ("other", ["5.18"], 0.0),
    ],
    "compare-text-",
)
BLANK_ROWS += (
    [
        pytest.param(
            {"type": "blank", "points": 1, "blanks": [["2000-09-25", "2000年9月25日"]]},
            [r],
            1.0,
            id=f"date-alts-{slug(r)}",
        )
        for r in ("2000-09-25", "2000年9月25日", "2000.09.25")
    ]
    + [
        pytest.param(
            {"type": "blank", "points": 1, "blanks": [["5.17", "5月17日"]]}, [r], w, id=f"number-or-date-{slug(r)}"
        )
        for r, w in (("5.17", 1.0), ("5月17日", 1.0), ("5月17号", 1.0), ("5.170", 1.0), ("517", 0.0), ("5-17", 0.0))
    ]
    + [
        pytest.param({"type": "blank", "points": 3, "blanks": [["a"], ["b"], ["c"]]}, r, w, id=f"thirds-{''.join(r)}")
        for r, w in ((["a", "x", "x"], 1.0), (["a", "b", "x"], 2.0), (["x", "x", "x"], 0.0))
    ]
    + [
        pytest.param(
            {"type": "blank", "points": 2, "blanks": [["a"], ["b"], ["c"]]}, r, w, id=f"2pt-thirds-{''.join(r)}"
        )
        for r, w in ((["a", "x", "x"], 0.67), (["a", "b", "x"], 1.33), (["a", "b", "c"], 2.0))
    ]
)


@pytest.mark.parametrize(("spec", "response", "want"), plain(BLANK_ROWS))
def test_blank(spec: dict[str, Any], response: Any, want: float) -> None:
    check(spec, response, want)


# ---------------------------------------------------------------- ordering
ORDER = {"type": "ordering", "points": 4, "answer": ["B", "A", "C", "D"], "scoring": "partial"}
ORDER_AON = {**ORDER, "scoring": "all_or_nothing"}


def _placed(order: tuple[str, ...] | list[str], key: list[str]) -> int:
    return sum(1 for got, want in zip(order, key, strict=True) if got == want)


ORDER_SHAPES: list[tuple[str, Any, float]] = [
    ("same-item-four-times", ["B", "B", "B", "B"], 0.0),
    ("same-item-twice", ["B", "A", "B", "D"], 0.0),
    ("one-repeat-rest-right", ["B", "A", "C", "C"], 0.0),
    ("repeat-with-unset", ["B", None, "B", None], 0.0),
    ("unset-rest-right", ["B", "A", None, None], 2.0),
    ("all-unset", [None, None, None, None], 0.0),
    ("too-short", ["B", "A", "C"], 0.0),
    ("too-long", ["B", "A", "C", "D", "E"], 0.0),
    ("none", None, 0.0),
    ("string-shape", "B,A,C,D", 0.0),
    ("dict-shape", {"1": "B"}, 0.0),
    ("int-element", ["B", "A", "C", 4], 0.0),
    ("empty-list", [], 0.0),
    ("unknown-item", ["B", "A", "C", "Z"], 3.0),
    ("lower-case", ["b", "a", "c", "d"], 0.0),
]
ORDER_ROWS = (
    [
        pytest.param(ORDER, list(p), float(_placed(p, ORDER["answer"])), id=f"partial-{''.join(p)}")
        for p in permutations("ABCD")
    ]
    + [
        pytest.param(ORDER_AON, list(p), 4.0 if list(p) == ORDER["answer"] else 0.0, id=f"all-or-nothing-{''.join(p)}")
        for p in permutations("ABCD")
    ]
    + rows(ORDER, ORDER_SHAPES, "partial-")
    + rows(ORDER_AON, [(n, r, 0.0) for n, r, _ in ORDER_SHAPES], "all-or-nothing-")
    + [
        pytest.param(ORDER, list(r), 0.0, id=f"repeats-never-earn-{''.join(r)}")
        for r in product("BACD", repeat=4)
        if r[0] == "B" and len(set(r)) < 4
    ]
    + [
        pytest.param(
            {"type": "ordering", "points": 3, "answer": ["C", "A", "B"], "scoring": "partial"},
            list(p),
            float(_placed(p, ["C", "A", "B"])),
            id=f"three-{''.join(p)}",
        )
        for p in permutations("ABC")
    ]
    + [
        pytest.param(
            {"type": "ordering", "points": 2, "answer": ["C", "A", "B"], "scoring": "partial"},
            list(p),
            w,
            id=f"2pt-three-{''.join(p)}",
        )
        for p, w in ((("C", "B", "A"), 0.67), (("C", "A", "B"), 2.0), (("A", "B", "C"), 0.0))
    ]
)


@pytest.mark.parametrize(("spec", "response", "want"), plain(ORDER_ROWS))
def test_ordering(spec: dict[str, Any], response: Any, want: float) -> None:
    check(spec, response, want)


# ---------------------------------------------------------------- matching
MATCH = {"type": "matching", "points": 3, "answer": {"1": "B", "2": "A", "3": "C"}}
MATCH_FORMS: list[tuple[str, Any, float]] = [
    ("key", {"1": "B", "2": "A", "3": "C"}, 3.0),
    ("key-other-order", {"3": "C", "1": "B", "2": "A"}, 3.0),
    ("two-unset", {"1": "B", "2": None, "3": None}, 1.0),
    ("missing-prompts", {"1": "B"}, 1.0),
    ("extra-prompt", {"1": "B", "2": "A", "3": "C", "4": "D"}, 3.0),
    ("all-unset", {"1": None}, 0.0),
    ("empty-dict", {}, 0.0),
    ("none", None, 0.0),
    ("list-shape", ["B", "A", "C"], 0.0),
    ("string-shape", "1=B,2=A,3=C", 0.0),
    ("int-value", {"1": 2, "2": "A"}, 0.0),
    ("lower-case", {"1": "b"}, 0.0),
    ("same-option-everywhere", {"1": "B", "2": "B", "3": "B"}, 1.0),
    ("empty-value", {"1": "", "2": "A"}, 1.0),
    ("int-key-shape", {1: "B"}, 0.0),
    ("unknown-option", {"1": "Z", "2": "A", "3": "C"}, 2.0),
]
MATCH_EMPTY_KEY = [
    pytest.param({"type": "matching", "points": 2, "answer": {}}, {"1": "B"}, 0.0, id="empty-key-earns-0")
]
MATCH_ROWS = (
    rows(MATCH, MATCH_FORMS)
    + [
        pytest.param(
            MATCH, {"1": a, "2": b, "3": c}, float((a == "B") + (b == "A") + (c == "C")), id=f"assign-{a}{b}{c}"
        )
        for a, b, c in product("ABCD", repeat=3)
    ]
    + [
        pytest.param(
            MATCH,
            {"1": a, "2": b, "3": c},
            float((a == "B") + (b == "A") + (c == "C")),
            id=f"unset-{a or '_'}{b or '_'}{c or '_'}",
        )
        for a, b, c in product(("B", "A", None), repeat=3)
        if None in (a, b, c)
    ]
    + [
        pytest.param({"type": "matching", "points": 2, "answer": {"1": "B", "2": "A", "3": "C"}}, r, w, id=f"2pt-{w}")
        for r, w in (({"1": "B"}, 0.67), ({"1": "B", "2": "A"}, 1.33))
    ]
)


@pytest.mark.parametrize(("spec", "response", "want"), plain(MATCH_ROWS + MATCH_EMPTY_KEY))
def test_matching(spec: dict[str, Any], response: Any, want: float) -> None:
    check(spec, response, want)


# ---------------------------------------------------------------- case, unknown
@pytest.mark.parametrize("response", ["先倾听客户需求。", "", None], ids=["answered", "empty", "none"])
def test_case_is_hand_graded_never_scored_here(response: Any) -> None:
    assert score({"type": "case", "points": 10}, response) == 0.0


def test_an_unknown_type_scores_0_and_is_named_by_the_shape_rule() -> None:
    assert score({"type": "essay", "points": 1, "answer": "x"}, "x") == 0.0
    assert check_shape("essay", "x") == "unknown question type 'essay'"


# ---------------------------------------------------------------- the table's size
@pytest.mark.parametrize(
    ("kind", "table"),
    [
        ("single", SINGLE_ROWS),
        ("multiple", MULTI_ROWS),
        ("truefalse", TF_ROWS),
        ("blank", BLANK_ROWS),
        ("ordering", ORDER_ROWS),
        ("matching", MATCH_ROWS),
    ],
)
def test_each_type_has_a_table_of_at_least_100_forms(kind: str, table: list[Row]) -> None:
    assert len(table) >= 100
    assert len({p.id for p in table}) == len(table), "ids must be unique"
    assert all(p.values[0]["type"] == kind for p in table)


# ---------------------------------------------------------------- the shape rule
@pytest.mark.parametrize(
    ("kind", "response", "width", "problem"),
    [
        ("single", "B", None, None),
        ("single", None, None, None),
        ("single", ["B"], None, "a single answer cannot be list ['B']"),
        ("case", 3, None, "a case answer cannot be int 3"),
        ("truefalse", True, None, None),
        ("truefalse", "对", None, "a truefalse answer cannot be str '对'"),
        ("truefalse", 1, None, "a truefalse answer cannot be int 1"),
        ("multiple", ["A", "C"], 4, None),
        ("multiple", ["A", "B", "C", "D", "E"], 2, None),
        ("multiple", ["A", None], None, "a multiple answer cannot hold an empty or None key: ['A', None]"),
        ("multiple", ["A", ""], None, "a multiple answer cannot hold an empty or None key: ['A', '']"),
        ("multiple", [" "], None, "a multiple answer cannot hold an empty or None key: [' ']"),
        ("multiple", ["A", "A", "C", "C"], None, "a multiple answer cannot repeat A, C: ['A', 'A', 'C', 'C']"),
        ("multiple", ["A", "C", "C"], None, "a multiple answer cannot repeat C: ['A', 'C', 'C']"),
        ("ordering", ["B", "A", "B"], 3, "a ordering answer cannot repeat B: ['B', 'A', 'B']"),
        ("multiple", "A", None, "a multiple answer cannot be str 'A'"),
        ("multiple", ["A", 1], None, "a multiple answer cannot be list ['A', 1]"),
        ("ordering", ["B", "A", "C"], 3, None),
        ("ordering", ["B", None, None], 3, None),
        ("ordering", ["B", "B", "B", "B"], 4, "a ordering answer cannot repeat B: ['B', 'B', 'B', 'B']"),
        ("ordering", ["B", None, "B"], 3, "a ordering answer cannot repeat B: ['B', None, 'B']"),
        ("ordering", ["B", "A"], 3, "a ordering answer must have 3 entries, not 2: ['B', 'A']"),
        ("ordering", ["B", "A"], None, None),
        ("blank", ["x", "x"], 2, None),
        ("blank", ["x", None], 2, None),
        ("blank", ["x"], 2, "a blank answer must have 2 entries, not 1: ['x']"),
        ("blank", "x", 1, "a blank answer cannot be str 'x'"),
        ("matching", {"1": "B", "2": None}, None, None),
        ("matching", {"1": "B", "2": "B"}, None, None),
        ("matching", {"1": 2}, None, "a matching answer cannot be dict {'1': 2}"),
        ("matching", ["B"], None, "a matching answer cannot be list ['B']"),
        ("poll", "x", None, "unknown question type 'poll'"),
    ],
    ids=lambda v: slug(v) if not isinstance(v, str) or len(v) < 40 else "problem",
)
def test_one_shape_rule_for_widgets_and_grader(
    kind: str, response: Any, width: int | None, problem: str | None
) -> None:
    assert check_shape(kind, response, width) == problem


@pytest.mark.parametrize(
    ("response", "answered"),
    [
        (None, False),
        ("", False),
        ("  ", False),
        ("x", True),
        ([], False),
        ([None, ""], False),
        ([" "], False),
        (["", "x"], True),
        ({}, False),
        ({"1": None}, False),
        ({"1": ""}, False),
        ({"1": "B"}, True),
        (True, True),
        (False, True),
        (0, True),
    ],
    ids=slug,
)
def test_is_answered(response: Any, answered: bool) -> None:
    assert is_answered(response) is answered


# ---------------------------------------------------------------- the classifier
@pytest.mark.parametrize(
    ("alternative", "kind"),
    [
        ("0.98", "number"),
        ("40", "number"),
        ("1,580", "number"),
        ("1mm", "number"),
        ("17908卡", "number"),
        ("802.11", "number"),
        ("-5", "number"),
        ("98%", "percent"),
        ("98％", "percent"),
        ("2000-09-25", "date"),
        ("2000.9.25", "date"),
        ("2000/9/25", "date"),
        ("2000年9月25日", "date"),
        ("5月17日", "date"),
        ("2002年5月", "date"),
        ("2000.13.25", "dotted"),
        ("192.168.1.10", "dotted"),
        ("1.2.3", "dotted"),
        ("基础电信业务", "text"),
        ("IC卡", "text"),
        ("CDMA 2000", "text"),
        ("CO2", "text"),
        ("098", "text"),
        ("98‰", "text"),
        ("——", "text"),
        ("", "text"),
    ],
    ids=slug,
)
def test_an_alternative_decides_how_it_is_compared(alternative: str, kind: str) -> None:
    assert classify(alternative) == kind


def test_read_as_names_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown comparison kind 'money': use one of date, dotted, percent"):
        read_as("money", "5")


def test_a_blank_only_matches_text() -> None:
    assert not blank_matches("40", 40)
    assert not blank_matches("40", None)


def test_a_blank_compares_by_kind_unless_asked_for_text() -> None:
    assert not blank_matches("0.98", "098")
    assert blank_matches("0.98", "098", as_text=True)
    assert not blank_matches("0.98", "0.980", as_text=True)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("基础 电信，业务。", "基础电信业务"),
        ("ＡＢＣ", "abc"),
        ("A-B_C", "abc"),
        ("“引号”", "引号"),
        ("（括号）", "括号"),
        ("Tab\tand\u3000space", "tabandspace"),
        ("98%", "98"),
        ("1.58", "158"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("", ""),
    ],
    ids=slug,
)
def test_normalise_text_ignores_width_case_spaces_and_punctuation(text: str, normal: str) -> None:
    assert normalise_text(text) == normal


@pytest.mark.parametrize(
    ("text", "shown"),
    [("基础\u200b电信", "基础电信"), ("a\u00adb\u2060c", "abc"), ("plain", "plain"), ("全角　空格", "全角　空格")],
    ids=slug,
)
def test_visible_drops_only_invisible_format_characters(text: str, shown: str) -> None:
    assert visible(text) == shown


@pytest.mark.parametrize(
    ("blanks", "response", "arranged"),
    [
        (CARDS, ["IC", "300", "201"], ["IC", "300", "201"]),
        (CARDS, ["201", "IC卡", "300"], ["IC卡", "300", "201"]),
        (CARDS, ["300", "998", "IC"], ["IC", "300", "998"]),
        (CARDS, ["998", "", "201"], ["998", "", "201"]),
        (CARDS, ["IC", "IC", "IC"], ["IC", "IC", "IC"]),
        (CARDS, [None, "IC", None], ["IC", None, None]),
        ([["甲", "乙"], ["甲"]], ["甲", "乙"], ["乙", "甲"]),
    ],
    ids=slug,
)
def test_any_order_blanks_are_shown_in_the_place_of_the_blank_they_fill(
        blanks: list[list[str]], response: list[Any], arranged: list[Any]) -> None:
    """Does each right answer stand beside its key, whatever order the learner wrote them in?"""
    assert arrange_blanks(blanks, response) == arranged
    spec = {"type": "blank", "points": 3, "blanks": blanks, "any_order": True}
    assert score(spec, arranged) == score(spec, response)  # arranging never changes the score
