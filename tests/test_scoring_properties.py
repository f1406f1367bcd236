"""Do the scoring rules hold for every key and every response, not only the table's? (Hypothesis)"""

from __future__ import annotations

import os
import string
from typing import Any

from course_runtime.scoring import blank_matches, check_shape, classify, normalise_text, read_as, score
from hypothesis import assume, given, settings
from hypothesis import strategies as st

settings.register_profile("scoring", max_examples=150, deadline=None, derandomize=True)
settings.register_profile("mutation", max_examples=15, deadline=None, derandomize=True)  # python -m tests.mutation
settings.load_profile(os.environ.get("SCORING_HYPOTHESIS_PROFILE", "scoring"))

KEYS = list(string.ascii_uppercase[:8])
points = st.one_of(
    st.integers(1, 20).map(float), st.floats(0.01, 100, allow_nan=False), st.sampled_from([0.5, 1.5, 2.5])
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=6))
junk = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=8,
)
blank_text = st.one_of(
    st.text(max_size=8),
    st.from_regex(r"[+-]?[0-9]{1,4}(\.[0-9]{1,3})?( ?[%％])?", fullmatch=True),
    st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){2,3}", fullmatch=True),
    st.from_regex(r"(19|20)[0-9]{2}[-.年]0?[1-9][-.月][12]?[0-9]日?", fullmatch=True),
    st.sampled_from(["0.98", "098", "09.8", "98%", "98 ％", "98‰", "192.168.1.10", "5月17日", "IC卡", "基础电信业务"]),
)


@st.composite
def specs(draw: st.DrawFn, kind: str | None = None) -> dict[str, Any]:
    kind = kind or draw(st.sampled_from(["single", "multiple", "truefalse", "blank", "ordering", "matching"]))
    spec: dict[str, Any] = {"type": kind, "points": draw(points)}
    n = draw(st.integers(2, 6))
    if kind == "single":
        spec["answer"] = draw(st.sampled_from(KEYS[:n]))
    elif kind == "multiple":
        spec["answer"] = sorted(draw(st.sets(st.sampled_from(KEYS[:n]), min_size=1)))
        spec["scoring"] = draw(st.sampled_from(["partial", "all_or_nothing"]))
    elif kind == "truefalse":
        spec["answer"] = draw(st.booleans())
    elif kind == "ordering":
        spec["answer"] = draw(st.permutations(KEYS[:n]))
        spec["scoring"] = draw(st.sampled_from(["partial", "all_or_nothing"]))
    elif kind == "matching":
        spec["answer"] = {str(i): draw(st.sampled_from(KEYS[:n])) for i in range(1, n + 1)}
    else:
        spec["blanks"] = draw(
            st.lists(
                st.lists(blank_text.filter(lambda a: normalise_text(a) != ""), min_size=1, max_size=3),
                min_size=1,
                max_size=4,
            )
        )
        spec["any_order"] = draw(st.booleans())
    return spec


def key_response(spec: dict[str, Any]) -> Any:
    """What the widget saves when the learner gives the key."""
    if spec["type"] == "blank":
        return [alts[0] for alts in spec["blanks"]]
    return spec["answer"]


def near(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Responses of the right shape near the key (some values wrong)."""
    kind = spec["type"]
    near: st.SearchStrategy[Any]
    if kind == "single":
        near = st.sampled_from(KEYS)
    elif kind == "multiple":
        near = st.lists(st.sampled_from(KEYS), max_size=8)
    elif kind == "truefalse":
        near = st.booleans()
    elif kind == "ordering":
        near = st.lists(st.sampled_from([*KEYS, None]), min_size=len(spec["answer"]), max_size=len(spec["answer"]))
    elif kind == "matching":
        near = st.dictionaries(st.sampled_from([str(i) for i in range(1, 8)]), st.sampled_from([*KEYS, None]))
    else:
        width = len(spec["blanks"])
        alts = [a for b in spec["blanks"] for a in b]
        near = st.lists(st.one_of(st.sampled_from(alts), blank_text, st.none()), min_size=width, max_size=width)
    return near


def responses(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Responses near the key and arbitrary JSON values (wrong shapes)."""
    return st.one_of(near(spec), junk)


@given(st.data())
def test_a_score_is_within_0_and_the_points(data: st.DataObject) -> None:
    spec = data.draw(specs())
    got = score(spec, data.draw(responses(spec)))
    assert 0.0 <= got <= spec["points"]


@given(specs())
def test_the_key_earns_full_points(spec: dict[str, Any]) -> None:
    width = len(spec["blanks"]) if spec["type"] == "blank" else None
    assert check_shape(spec["type"], key_response(spec), width) is None
    assert score(spec, key_response(spec)) == spec["points"]


@given(st.data())
def test_any_permutation_of_a_multiple_choice_answer_scores_the_same(data: st.DataObject) -> None:
    spec = data.draw(specs("multiple"))
    chosen = data.draw(st.one_of(st.just(spec["answer"]), st.lists(st.sampled_from(KEYS), unique=True, max_size=6)))
    shuffled = data.draw(st.permutations(chosen))
    assert score(spec, shuffled) == score(spec, chosen)
    assert score(spec, data.draw(st.permutations(spec["answer"]))) == spec["points"]


@given(st.data())
def test_any_order_blanks_are_order_invariant(data: st.DataObject) -> None:
    spec = {**data.draw(specs("blank")), "any_order": True}
    response = data.draw(near(spec))
    assert score(spec, data.draw(st.permutations(response))) == score(spec, response)
    assert score(spec, data.draw(st.permutations(key_response(spec)))) == spec["points"]


@given(st.data())
def test_ordered_blanks_never_score_more_than_any_order(data: st.DataObject) -> None:
    spec = data.draw(specs("blank"))
    response = data.draw(responses(spec))
    assert score({**spec, "any_order": False}, response) <= score({**spec, "any_order": True}, response)


@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@given(blank_text)
def test_reading_a_blank_is_stable_and_an_alternative_matches_itself(text: str) -> None:
    kind = classify(text)
    assert kind in ("date", "dotted", "percent", "number", "text")
    value = read_as(kind, text)
    if value is not None:
        assert blank_matches(text, text)
        assert classify(text) == kind


@given(blank_text, st.sampled_from(["", " ", "\u3000"]))
def test_surrounding_spaces_never_change_a_blank(text: str, pad: str) -> None:
    assume(normalise_text(text))
    assert blank_matches(text, pad + text + pad)
