"""Classical item analysis per assignment (chapter): facility, discrimination, reliability, distractors.

Everything works on a learners × questions matrix of proportions (score ÷ points, 0..1), so a 2-point
question weighs the same as a 1-point one in the totals, as in the usual item-analysis tables. The
learner's "total" below is the row sum of that matrix.

* facility (difficulty, p-value): mean proportion correct of an item;
* discrimination: corrected item-total correlation, i.e. Pearson r of the item with the total of the
  OTHER items, so the item does not correlate with itself;
* upper-lower index: mean of the upper group − mean of the lower group (Kelley's 27 % groups);
* Cronbach's alpha of the whole assignment;
* distractor shares for single- and multiple-choice questions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

AUTO_GRADED_TYPES: tuple[str, ...] = ("single", "multiple", "truefalse", "blank", "ordering", "matching")
CHOICE_TYPES: tuple[str, ...] = ("single", "multiple")

TOO_HARD = "过难"
TOO_EASY = "过易"
POOR_DISCRIMINATION = "区分度差"
NEGATIVE_DISCRIMINATION = "负区分"


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs for flagging items, after the usual classical-test-theory rules of thumb.

    Facility: items answered correctly by fewer than 20 % or more than 90 % of learners carry little
    information about differences between learners (they sit outside the 0.20–0.90 band most
    item-analysis guides recommend).

    Discrimination, after Ebel's bands for the discrimination index (Ebel 1965; Ebel & Frisbie,
    *Essentials of Educational Measurement*, 1991): ≥ 0.40 very good; 0.30–0.39 reasonably good;
    0.20–0.29 marginal, usually needs improving; < 0.20 poor, revise or drop. A negative value means
    weaker learners do better than stronger ones: the key is likely wrong or the item misleading.
    The bands are applied here to the corrected item-total correlation, as is common practice.
    """

    too_hard: float = 0.20  # facility below this → 过难
    too_easy: float = 0.90  # facility above this → 过易
    poor_discrimination: float = 0.20  # discrimination below this → 区分度差
    negative_discrimination: float = 0.0  # discrimination below this → 负区分


DEFAULT_THRESHOLDS = Thresholds()


# ---------------------------------------------------------------- matrix
def score_matrix(scores: pd.DataFrame, chapter: str) -> pd.DataFrame:
    """Learners × questions of ``chapter``, values score ÷ points clipped to 0..1.

    Only auto-graded types are kept (``case`` is graded by hand, later and on another scale). A learner
    is kept when they have at least one non-NaN auto-graded score in the chapter, i.e. they submitted;
    any remaining NaN (a question not graded for a submitted learner, or no row at all) counts as 0,
    the same rule the gradebook applies to a missing answer, so every learner is compared on every
    item. Extra credit can push a score above its points, hence the clip.

    Rows are sorted by learner id, columns by question id; the axes are named ``learner``/``question``.
    """
    auto = scores[(scores["chapter"] == chapter) & scores["type"].isin(AUTO_GRADED_TYPES)]
    auto = auto[auto["points"] > 0]  # a 0-point question has no proportion
    submitted = auto.loc[auto["score"].notna(), "learner"].unique()
    kept = auto[auto["learner"].isin(submitted)]
    proportion = (kept["score"] / kept["points"]).clip(0.0, 1.0)
    matrix = (
        kept.assign(proportion=proportion)
        .pivot(index="learner", columns="question", values="proportion")
        .fillna(0.0)
        .sort_index()
        .sort_index(axis=1)
    )
    matrix.index.name, matrix.columns.name = "learner", "question"
    return matrix.astype(float)


# ---------------------------------------------------------------- item statistics
def facility(matrix: pd.DataFrame) -> pd.Series:
    """Mean proportion correct per item (difficulty index, p-value): 1 = everyone right."""
    return matrix.mean(axis=0).rename("facility")


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    # A constant vector has no correlation; checking the range (not the variance) is exact for floats.
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.dot(dx, dy) / math.sqrt(np.dot(dx, dx) * np.dot(dy, dy)))


def corrected_item_total(matrix: pd.DataFrame) -> pd.Series:
    """Pearson r of each item with the total of the other items; NaN for a zero-variance item (or rest)."""
    values = matrix.to_numpy(dtype=float)
    totals = values.sum(axis=1)
    r = [_pearson(values[:, j], totals - values[:, j]) for j in range(values.shape[1])]
    return pd.Series(r, index=matrix.columns, name="discrimination", dtype=float)


def group_size(n: int, fraction: float) -> int:
    """ceil(fraction × n), rounding away float noise first (0.27 × 100 is 27.000000000000004, not 28)."""
    return math.ceil(round(fraction * n, 9))


def upper_lower_index(matrix: pd.DataFrame, fraction: float = 0.27) -> pd.Series:
    """Mean proportion in the upper group − mean in the lower group, per item (range −1..1).

    Groups hold ``ceil(fraction × n)`` learners each. Tie rule: learners are stably sorted ascending
    by total, then by learner id; the lower group is the first g of that order and the upper group
    the last g. So among learners tied on total at a cut, the smaller ids fall lower. With
    ``fraction`` 0.5 and an odd n the middle learner sits in both groups.
    """
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction}")
    n = len(matrix)
    if n == 0:
        return pd.Series(math.nan, index=matrix.columns, name="ul_index", dtype=float)
    g = group_size(n, fraction)
    order = (
        pd.DataFrame({"total": matrix.sum(axis=1).to_numpy(), "learner": matrix.index.astype(str)})
        .sort_values(["total", "learner"], kind="stable")
        .index.to_numpy()
    )
    lower, upper = matrix.iloc[order[:g]], matrix.iloc[order[-g:]]
    return (upper.mean(axis=0) - lower.mean(axis=0)).rename("ul_index")


def cronbach_alpha(matrix: pd.DataFrame) -> float:
    """k/(k−1) × (1 − Σ item variances ÷ variance of totals), sample variances (ddof=1).

    NaN when it is undefined: fewer than 2 items or 2 learners, or every learner has the same total.
    """
    n, k = matrix.shape
    if k < 2 or n < 2:
        return math.nan
    total_variance = float(matrix.sum(axis=1).var(ddof=1))
    if total_variance == 0:
        return math.nan
    item_variances = float(matrix.var(axis=0, ddof=1).sum())
    return k / (k - 1) * (1 - item_variances / total_variance)


# ---------------------------------------------------------------- flags and the item table
def item_flags(facility_value: float, discrimination: float,
               thresholds: Thresholds = DEFAULT_THRESHOLDS) -> tuple[str, ...]:
    """Chinese flag labels of one item; a NaN statistic raises no flag (nothing was measured).

    A negative discrimination is also below the poor band, so it carries both 区分度差 and 负区分.
    """
    flags = []
    if facility_value < thresholds.too_hard:
        flags.append(TOO_HARD)
    if facility_value > thresholds.too_easy:
        flags.append(TOO_EASY)
    if discrimination < thresholds.poor_discrimination:
        flags.append(POOR_DISCRIMINATION)
    if discrimination < thresholds.negative_discrimination:
        flags.append(NEGATIVE_DISCRIMINATION)
    return tuple(flags)


def item_table(scores: pd.DataFrame, chapter: str, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """One row per auto-graded item of ``chapter``: question, facility, discrimination, ul_index, flags."""
    matrix = score_matrix(scores, chapter)
    table = pd.DataFrame({
        "question": matrix.columns.astype(str),
        "facility": facility(matrix).to_numpy(),
        "discrimination": corrected_item_total(matrix).to_numpy(),
        "ul_index": upper_lower_index(matrix).to_numpy(),
    })
    table["flags"] = [item_flags(p, r, thresholds) for p, r in zip(table["facility"], table["discrimination"],
                                                                    strict=True)]
    return table


# ---------------------------------------------------------------- distractors
def _chosen(kind: str, response: Any) -> set[str] | None:
    """The option keys a well-formed, non-empty answer chose; None for no (or a malformed) answer."""
    if kind == "single":
        return {response} if isinstance(response, str) and response.strip() else None
    # A multiple answer may come back as a list, tuple or numpy array (e.g. after a parquet round trip).
    if isinstance(response, str | bytes) or not isinstance(response, Sequence | np.ndarray | set):
        return None
    chosen = {x for x in response if isinstance(x, str) and x.strip()}
    return chosen or None


def distractors(responses: pd.DataFrame, options: Mapping[str, Mapping[str, str]],
                keys: Mapping[str, str | Sequence[str]]) -> pd.DataFrame:
    """Share of respondents choosing each option of every single/multiple question in ``responses``.

    Respondents (``n``) are learners with a well-formed, non-empty answer; unanswered rows do not
    dilute the shares. For multiple choice the share is of respondents whose selection includes
    the option, so shares of one question may add up to more than 1. Columns: question, option,
    text, share, is_key, n; questions sorted by id, options in their order in ``options``.
    """
    choice = responses[responses["type"].isin(CHOICE_TYPES)]
    rows = []
    for question, answers in choice.groupby("question", sort=True):
        if question not in options or question not in keys:
            raise KeyError(f"no options or key for {question}: pass the content version of these responses")
        kind = answers["type"].iloc[0]
        picks = [c for c in (_chosen(kind, r) for r in answers["response"]) if c is not None]
        key = keys[question]
        key_set = {key} if isinstance(key, str) else set(key)
        n = len(picks)
        for option, text in options[question].items():
            count = sum(option in chosen for chosen in picks)
            rows.append({"question": question, "option": option, "text": text,
                         "share": count / n if n else math.nan, "is_key": option in key_set, "n": n})
    return pd.DataFrame(rows, columns=["question", "option", "text", "share", "is_key", "n"])


def nonfunctional_distractors(distractor_frame: pd.DataFrame, min_share: float = 0.05) -> pd.DataFrame:
    """The distractor frame with a ``nonfunctional`` column: a wrong option chosen by < ``min_share``.

    Such an option attracts nobody, so it does not make the item harder to guess (Haladyna &
    Downing's 5 % rule). Keys and options of unanswered questions (share NaN) are never flagged.
    """
    flagged = ~distractor_frame["is_key"].astype(bool) & (distractor_frame["share"] < min_share)
    return distractor_frame.assign(nonfunctional=flagged.to_numpy(dtype=bool))
