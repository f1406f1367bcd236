"""Classical item analysis per assignment (chapter), with the definitions of Moodle's quiz statistics.

Two views of a chapter's learners × questions matrix:

* **marks** (:func:`mark_matrix`, the default of :func:`item_statistics`): raw marks, 0..points. The
  learner's total is the sum of marks, the score they are actually given, so a 2-point question weighs
  twice a 1-point one. This is what Moodle's quiz statistics use (question/classes/statistics/questions/
  calculator.php works on ``fraction × maxmark``; https://docs.moodle.org/dev/Quiz_statistics_calculations).
* **proportions** (:func:`score_matrix`): score ÷ points, 0..1, every item weighing the same. Kept as a
  labelled option (``basis="proportions"``); its α describes an equal-weight composite nobody is scored on.

Item statistics (Moodle's names in brackets; values are fractions, Moodle prints them ×100 as %):

* facility [facility index]: mean mark ÷ points;
* discrimination [discrimination index]: corrected item-total correlation, Pearson r of the item's
  marks with the total of the OTHER items (Moodle: covariance ÷ √(markvariance × othermarkvariance));
* discriminative efficiency: cov(item, rest) ÷ the largest covariance the two marginal distributions
  allow (both sorted), Moodle's ``covariance / covariancemax``;
* upper-lower index: mean proportion of the upper 27 % group − that of the lower 27 % group (Kelley
  1939), the group size rounded half up and learners tied at a cut sharing the remaining places;
* Cronbach's α [coefficient of internal consistency, CIC], α if the item is deleted;
* intended weight (points ÷ total points) and effective weight (√cov(item, total) ÷ Σ √cov);
* random guess score: the mean fraction a uniformly random answer earns;
* distractor shares for single- and multiple-choice questions.

A value that is undefined is NaN, never 0: one learner, an item or total without variance.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from course.model import Question

AUTO_GRADED_TYPES: tuple[str, ...] = ("single", "multiple", "truefalse", "blank", "ordering", "matching")
CHOICE_TYPES: tuple[str, ...] = ("single", "multiple")

TOO_HARD = "过难"
TOO_EASY = "过易"
POOR_DISCRIMINATION = "区分度差"
NEGATIVE_DISCRIMINATION = "负区分"
# Moodle's flags (see MoodleThresholds)
ZERO_VARIANCE = "无变异"
DUBIOUS = "区分效率低"
CHECK_VERY_LIKELY = "需复核（很可能）"
CHECK_LIKELY = "需复核（可能）"
ALPHA_RISES = "删题后α升高"
# distractors
NONFUNCTIONAL = "干扰项无效"
SMALL_SAMPLE = "样本量小"

Basis = Literal["marks", "proportions"]


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


@dataclass(frozen=True)
class MoodleThresholds:
    """Moodle's published cut-offs, as fractions (Moodle prints the same values ×100 as %).

    * ``dubious_efficiency`` 0.15: Moodle's quiz statistics table marks a question "dubious" when its
      discriminative efficiency is below 15 (``quiz_statistics_table::is_dubious_question``,
      mod/quiz/report/statistics/statistics_table.php) → 区分效率低;
    * ``check_very_likely`` 0.30 and ``check_likely`` 0.50: the question bank's "Needs checking?"
      column says "Very likely" below a discrimination index of 30 and "Likely" below 50
      (``NEED_FOR_REVISION_LOWER_THRESHOLD`` / ``_UPPER_THRESHOLD`` in
      question/bank/statistics/classes/helper.php, Moodle 4.0+) → 需复核（很可能） / 需复核（可能）;
    * α rising when the item is deleted (the item lowers the internal consistency) → 删题后α升高;
    * zero variance (everyone has the same mark: nothing is measured) → 无变异.
    """

    dubious_efficiency: float = 0.15
    check_very_likely: float = 0.30
    check_likely: float = 0.50


MOODLE_THRESHOLDS = MoodleThresholds()


# ---------------------------------------------------------------- matrices
def _auto_graded(scores: pd.DataFrame, chapter: str) -> pd.DataFrame:
    auto = scores[(scores["chapter"] == chapter) & scores["type"].isin(AUTO_GRADED_TYPES)]
    auto = auto[auto["points"] > 0]  # a 0-point question has no proportion
    submitted = auto.loc[auto["score"].notna(), "learner"].unique()
    return auto[auto["learner"].isin(submitted)]


def _pivot(kept: pd.DataFrame, values: pd.Series) -> pd.DataFrame:
    matrix = (
        kept.assign(value=values)
        .pivot(index="learner", columns="question", values="value")
        .fillna(0.0)
        .sort_index()
        .sort_index(axis=1)
    )
    matrix.index.name, matrix.columns.name = "learner", "question"
    return matrix.astype(float)


def score_matrix(scores: pd.DataFrame, chapter: str) -> pd.DataFrame:
    """Learners × questions of ``chapter``, values score ÷ points clipped to 0..1 (the equal-weight view).

    Only auto-graded types are kept (``case`` is graded by hand, later and on another scale). A learner
    is kept when they have at least one non-NaN auto-graded score in the chapter, i.e. they submitted;
    any remaining NaN (a question not graded for a submitted learner, or no row at all) counts as 0,
    the same rule the gradebook applies to a missing answer, so every learner is compared on every
    item. Extra credit can push a score above its points, hence the clip.

    Rows are sorted by learner id, columns by question id; the axes are named ``learner``/``question``.
    """
    kept = _auto_graded(scores, chapter)
    return _pivot(kept, (kept["score"] / kept["points"]).clip(0.0, 1.0))


def mark_matrix(scores: pd.DataFrame, chapter: str) -> pd.DataFrame:
    """Learners × questions of ``chapter``, raw marks clipped to 0..points (Moodle's view).

    The same learners, items and NaN rule as :func:`score_matrix`; the row sum is the learner's
    auto-graded total. Extra credit is clipped to the question's points, so no item statistic can
    be pushed outside the item's range.
    """
    kept = _auto_graded(scores, chapter)
    return _pivot(kept, kept["score"].clip(lower=0.0).clip(upper=kept["points"]))


def item_points(scores: pd.DataFrame, chapter: str) -> pd.Series:
    """Points (maximum mark) of every auto-graded item of ``chapter``, in :func:`mark_matrix` column order."""
    kept = _auto_graded(scores, chapter)
    points = kept.groupby("question")["points"].first().sort_index().astype(float)
    points.index.name = "question"
    return points.rename("points")


# ---------------------------------------------------------------- item statistics
def facility(matrix: pd.DataFrame, points: pd.Series | None = None) -> pd.Series:
    """Mean mark ÷ points per item (difficulty index, p-value; Moodle's facility index): 1 = everyone right.

    ``points`` is needed for a mark matrix; a proportion matrix is already on 0..1.
    """
    mean = matrix.mean(axis=0)
    if points is not None:
        mean = mean / points.reindex(matrix.columns)
    return mean.rename("facility")


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    # A constant vector has no correlation; checking the range (not the variance) is exact for floats.
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.dot(dx, dy) / math.sqrt(np.dot(dx, dx) * np.dot(dy, dy)))


def corrected_item_total(matrix: pd.DataFrame) -> pd.Series:
    """Pearson r of each item with the total of the other items; NaN for a zero-variance item (or rest).

    On a mark matrix this is Moodle's discrimination index (÷ 100): ``covariance /
    sqrt(markvariance × othermarkvariance)``, ``othermark`` being the total minus the item.
    """
    values = matrix.to_numpy(dtype=float)
    totals = values.sum(axis=1)
    r = [_pearson(values[:, j], totals - values[:, j]) for j in range(values.shape[1])]
    return pd.Series(r, index=matrix.columns, name="discrimination", dtype=float)


def discriminative_efficiency(matrix: pd.DataFrame) -> pd.Series:
    """cov(item, rest) ÷ cov(sorted item, sorted rest) per item: Moodle's discriminative efficiency ÷ 100.

    The denominator is the largest covariance an item and a rest score with these marginal
    distributions can have (both sorted ascending and paired), so the ratio says how much of the
    discrimination the item's difficulty allows it actually achieves. NaN where the maximum is 0
    (an item or rest without variance) or with fewer than 2 learners, as Moodle leaves it empty.
    """
    values = matrix.to_numpy(dtype=float)
    totals = values.sum(axis=1)
    out = []
    for j in range(values.shape[1]):
        x, rest = values[:, j], totals - values[:, j]
        if len(x) < 2:
            out.append(math.nan)
            continue
        cov = float(np.dot(x - x.mean(), rest - rest.mean()))
        cov_max = float(np.dot(np.sort(x) - x.mean(), np.sort(rest) - rest.mean()))
        out.append(cov / cov_max if cov_max > 0 else math.nan)
    return pd.Series(out, index=matrix.columns, name="discriminative_efficiency", dtype=float)


def group_size(n: int, fraction: float) -> int:
    """Learners in each of the upper and lower groups: ``fraction × n`` rounded to the nearest, halves up.

    Kelley (1939, "The selection of upper and lower groups for the validation of test items",
    *J. Educ. Psychol.* 30, 17–24) takes 27 % of the learners at each end; the usual rule rounds
    that count to the nearest learner (ceil over-fills the groups: 2 of 5 instead of 1, 6 of 20
    instead of 5). Convention used: round half away from zero (``decimal.ROUND_HALF_UP``: "rounds
    to nearest with ties going away from zero"), the 四舍五入 of school arithmetic and of
    spreadsheet ``ROUND``. GB/T 8170-2008 and IEEE 754 (Python's ``round``) send halves to the even
    neighbour instead; the two differ only when 0.27·n ends in exactly .5, first at n = 150
    (40.5 → 41 here, 40 with ``round``). The product is taken in decimal arithmetic, so 0.27 × 100
    is exactly 27 (in floats 27.000000000000004). n = 1 gives 0: no groups.
    """
    exact = Decimal(str(fraction)) * n
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _bottom_weights(totals: np.ndarray, g: int) -> np.ndarray:
    """Membership (0..1) of each learner in the g lowest totals; learners tied at the cut share equally."""
    weights = np.zeros(len(totals))
    if g <= 0:
        return weights
    cut = np.sort(totals)[g - 1]
    below, tied = totals < cut, totals == cut
    weights[below] = 1.0
    weights[tied] = (g - below.sum()) / tied.sum()
    return weights


def group_weights(totals: Sequence[float] | np.ndarray, fraction: float = 0.27) -> tuple[np.ndarray, np.ndarray]:
    """Fractional membership of every learner in the lower and the upper group (each sums to g).

    A learner strictly below the cut is in the lower group with weight 1. The learners tied on the
    cut total share the places left: 3 learners tied for the last 2 places get 2/3 each. The groups
    therefore depend on the totals only, never on the order or the ids of the learners. Totals are
    compared after rounding to 9 decimals, so float noise in a sum does not break a tie.
    """
    values = np.round(np.asarray(totals, dtype=float), 9)
    g = group_size(len(values), fraction)
    return _bottom_weights(values, g), _bottom_weights(-values, g)


def upper_lower_index(matrix: pd.DataFrame, fraction: float = 0.27, *,
                      points: pd.Series | None = None) -> pd.Series:
    """Mean proportion in the upper group − mean in the lower group, per item (range −1..1).

    Learners are ranked by their total (the row sum of ``matrix``); the groups hold
    :func:`group_size` learners each, with fractional membership for ties at the cut
    (:func:`group_weights`). For a mark matrix pass ``points`` so the group means are proportions.
    With ``fraction`` 0.5 and an odd n the middle learner sits half in each group.

    NaN when it is undefined: no group (fewer than 2 learners at 27 %) or every learner with the
    same total, so that upper and lower cannot be told apart.
    """
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction}")
    totals = matrix.sum(axis=1).to_numpy(dtype=float)
    g = group_size(len(matrix), fraction)
    if g == 0 or np.ptp(np.round(totals, 9)) == 0:
        return pd.Series(math.nan, index=matrix.columns, name="ul_index", dtype=float)
    lower, upper = group_weights(totals, fraction)
    values = matrix.to_numpy(dtype=float)
    index = pd.Series((upper - lower) @ values / g, index=matrix.columns, name="ul_index", dtype=float)
    if points is not None:
        index = index / points.reindex(matrix.columns).to_numpy(dtype=float)
    return index


def cronbach_alpha(matrix: pd.DataFrame) -> float:
    """k/(k−1) × (1 − Σ item variances ÷ variance of totals), sample variances (ddof=1).

    On a mark matrix this is Moodle's coefficient of internal consistency (CIC ÷ 100):
    ``p/(p−1) × (1 − sumofmarkvariance / k2)`` in mod/quiz/report/statistics/classes/calculator.php.
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


def alpha_if_deleted(matrix: pd.DataFrame) -> pd.Series:
    """Cronbach's α of the other items, per item (NaN where that α is undefined)."""
    values = [cronbach_alpha(matrix.drop(columns=[item])) for item in matrix.columns]
    return pd.Series(values, index=matrix.columns, name="alpha_if_deleted", dtype=float)


def intended_weight(points: pd.Series) -> pd.Series:
    """Points ÷ total points per item: Moodle's intended weight ÷ 100 (the weight the paper sets)."""
    total = float(points.sum())
    return (points / total if total > 0 else points * math.nan).rename("intended_weight")


def effective_weight(matrix: pd.DataFrame) -> pd.Series:
    """√cov(item, total) ÷ Σ √cov(item, total) per item: Moodle's effective weight ÷ 100.

    The share of the spread of totals an item actually contributes (covariances with ddof=1,
    the total including the item). As in Moodle's question calculator, an item with a negative
    covariance gets no effective weight (NaN) and is left out of the sum; with fewer than
    2 learners, or no positive covariance at all, every value is NaN.
    """
    n = len(matrix)
    if n < 2:
        return pd.Series(math.nan, index=matrix.columns, name="effective_weight", dtype=float)
    values = matrix.to_numpy(dtype=float)
    totals = values.sum(axis=1)
    cov = (values - values.mean(axis=0)).T @ (totals - totals.mean()) / (n - 1)
    root = np.where(cov >= 0, np.sqrt(np.clip(cov, 0, None)), np.nan)
    total = float(np.nansum(root))
    weights = root / total if total > 0 else np.full(len(root), math.nan)
    return pd.Series(weights, index=matrix.columns, name="effective_weight", dtype=float)


# ---------------------------------------------------------------- random guess score
MAX_GUESS_RESPONSES = 100_000  # beyond this many possible responses the guess score is not enumerated (NaN)


def _possible_responses(q: Question) -> list[Any] | None:
    from course import model as m

    if isinstance(q, m.SingleChoice):
        return list(q.options)
    if isinstance(q, m.TrueFalse):
        return [True, False]
    if isinstance(q, m.MultipleChoice):
        keys = list(q.options)
        if 2 ** len(keys) - 1 > MAX_GUESS_RESPONSES:
            return None
        return [list(c) for r in range(1, len(keys) + 1) for c in itertools.combinations(keys, r)]
    if isinstance(q, m.Ordering):
        if math.factorial(len(q.items)) > MAX_GUESS_RESPONSES:
            return None
        return [list(p) for p in itertools.permutations(q.items)]
    if isinstance(q, m.Matching):
        if len(q.options) ** len(q.prompts) > MAX_GUESS_RESPONSES:
            return None
        return [dict(zip(q.prompts, combo, strict=True))
                for combo in itertools.product(q.options, repeat=len(q.prompts))]
    return None


def random_guess_score(q: Question) -> float:
    """The mean fraction of the points a uniformly random answer earns (Moodle's random guess score).

    Every well-formed answer is equally likely and scored by the project's own rule
    (:func:`course_runtime.scoring.score`): one option of a single choice (1/k for one key, as Moodle's
    multichoice), 对 or 错 (0.5, as Moodle's truefalse), any non-empty set of options of a multiple
    choice, any permutation of an ordering, any option for each matching prompt independently.
    A fill-in blank scores 0 (Moodle's shortanswer without a ``*`` answer); a case question, or a
    question with more than :data:`MAX_GUESS_RESPONSES` possible answers, is NaN.
    """
    from course_runtime.scoring import score

    from course.specs import key_spec

    responses = _possible_responses(q)
    if responses is None:
        return 0.0 if q.type == "blank" else math.nan
    spec = key_spec(q)
    return float(np.mean([score(spec, r) for r in responses])) / float(q.points)


def random_guess_scores(questions: Iterable[Question]) -> dict[str, float]:
    """:func:`random_guess_score` of every question, by id (the ``guess`` of :func:`item_statistics`)."""
    return {q.id: random_guess_score(q) for q in questions}


# ---------------------------------------------------------------- flags and the item tables
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


def moodle_flags(*, sd: float, discrimination: float, efficiency: float, alpha_without: float, alpha: float,
                 thresholds: MoodleThresholds = MOODLE_THRESHOLDS) -> tuple[str, ...]:
    """Moodle's flags of one item (see :class:`MoodleThresholds`); a NaN statistic raises no flag.

    ``sd`` is the item's standard deviation (0 → 无变异). The two "Needs checking?" grades exclude
    each other: below 0.30 is 很可能, 0.30 to below 0.50 可能.
    """
    flags = []
    if sd == 0:
        flags.append(ZERO_VARIANCE)
    if efficiency < thresholds.dubious_efficiency:
        flags.append(DUBIOUS)
    if discrimination < thresholds.check_very_likely:
        flags.append(CHECK_VERY_LIKELY)
    elif discrimination < thresholds.check_likely:
        flags.append(CHECK_LIKELY)
    if alpha_without > alpha:
        flags.append(ALPHA_RISES)
    return tuple(flags)


def _matrix_and_points(scores: pd.DataFrame, chapter: str, basis: Basis) -> tuple[pd.DataFrame, pd.Series]:
    if basis == "marks":
        return mark_matrix(scores, chapter), item_points(scores, chapter)
    if basis == "proportions":
        matrix = score_matrix(scores, chapter)
        return matrix, pd.Series(1.0, index=matrix.columns, name="points")
    raise ValueError(f"basis must be 'marks' or 'proportions', got {basis!r}")


def item_table(scores: pd.DataFrame, chapter: str, thresholds: Thresholds = DEFAULT_THRESHOLDS, *,
               basis: Basis = "marks") -> pd.DataFrame:
    """One row per auto-graded item of ``chapter``: question, facility, discrimination, ul_index, flags.

    Discrimination and the 27 % groups are on raw marks by default, as Moodle's; ``basis="proportions"``
    gives the equal-weight view. The flags are the facility band and Ebel's bands (:func:`item_flags`);
    :func:`item_statistics` has every Moodle statistic and flag.
    """
    stats = item_statistics(scores, chapter, thresholds, basis=basis)
    table = stats[["question", "facility", "discrimination", "ul_index"]].copy()
    table["flags"] = [item_flags(p, r, thresholds) for p, r in zip(table["facility"], table["discrimination"],
                                                                    strict=True)]
    return table


ITEM_STATISTICS_COLUMNS: tuple[str, ...] = (
    "question", "n", "points", "facility", "sd", "random_guess", "intended_weight", "effective_weight",
    "discrimination", "discriminative_efficiency", "ul_index", "alpha_if_deleted", "flags",
)


def item_statistics(scores: pd.DataFrame, chapter: str, thresholds: Thresholds = DEFAULT_THRESHOLDS, *,
                    moodle: MoodleThresholds = MOODLE_THRESHOLDS, basis: Basis = "marks",
                    guess: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Moodle's question statistics for every auto-graded item of ``chapter``, one row per item.

    Columns (:data:`ITEM_STATISTICS_COLUMNS`): n learners; points; facility; sd of mark ÷ points
    (ddof=1, Moodle's "standard deviation"); random_guess (from ``guess``, e.g. :func:`random_guess_score`
    per question, else NaN); intended and effective weight; discrimination (corrected item-total r);
    discriminative_efficiency; ul_index (27 % groups); alpha_if_deleted; flags = :func:`item_flags`
    followed by :func:`moodle_flags`. All shares are fractions (Moodle shows them ×100 as %).
    """
    matrix, points = _matrix_and_points(scores, chapter, basis)
    proportions = matrix / points.to_numpy(dtype=float) if len(matrix.columns) else matrix
    alpha = cronbach_alpha(matrix)
    n = len(matrix)
    table = pd.DataFrame({
        "question": matrix.columns.astype(str),
        "n": n,
        "points": points.to_numpy(dtype=float),
        "facility": proportions.mean(axis=0).to_numpy(dtype=float),
        "sd": proportions.std(axis=0, ddof=1).to_numpy(dtype=float) if n > 1 else math.nan,
        "random_guess": [float(guess.get(q, math.nan)) if guess else math.nan for q in matrix.columns],
        "intended_weight": intended_weight(points).to_numpy(dtype=float),
        "effective_weight": effective_weight(matrix).to_numpy(),
        "discrimination": corrected_item_total(matrix).to_numpy(),
        "discriminative_efficiency": discriminative_efficiency(matrix).to_numpy(),
        "ul_index": upper_lower_index(matrix, points=points).to_numpy(),
        "alpha_if_deleted": alpha_if_deleted(matrix).to_numpy(),
    })
    table["flags"] = [
        item_flags(row.facility, row.discrimination, thresholds)
        + moodle_flags(sd=row.sd, discrimination=row.discrimination, efficiency=row.discriminative_efficiency,
                       alpha_without=row.alpha_if_deleted, alpha=alpha, thresholds=moodle)
        for row in table.itertuples(index=False)
    ]
    return table[list(ITEM_STATISTICS_COLUMNS)]


# ---------------------------------------------------------------- test (quiz) level statistics
QUIZ_STATISTICS_FIELDS: tuple[str, ...] = (
    "n", "items", "max_total", "mean", "median", "sd", "skewness", "kurtosis", "alpha", "error_ratio",
    "standard_error",
)


def quiz_statistics(marks: pd.DataFrame, points: pd.Series | None = None) -> pd.Series:
    """Moodle's test statistics of one chapter from its mark matrix (totals = row sums).

    Definitions of mod/quiz/report/statistics/classes/calculator.php
    (https://docs.moodle.org/dev/Quiz_statistics_calculations#Test_statistics), with S learners,
    m_r = Σ(T − T̄)^r / S:

    * mean and median of the totals; sd = √(Σ(T − T̄)² / (S − 1)), NaN for S < 2;
    * skewness = k3 / k2^(3/2), k2 = S·m2/(S − 1), k3 = S²·m3/((S − 1)(S − 2)), for S > 2
      (the adjusted Fisher–Pearson G1, ``scipy.stats.skew(bias=False)``);
    * kurtosis = k4 / k2², k4 = S²((S + 1)m4 − 3(S − 1)m2²)/((S − 1)(S − 2)(S − 3)), for S > 3
      (excess kurtosis G2, ``scipy.stats.kurtosis(bias=False)``);
    * alpha: Cronbach's α on marks (Moodle's CIC ÷ 100);
    * error_ratio = √(1 − α) (Moodle's ER ÷ 100): the share of the SD that is measurement error;
    * standard_error = error_ratio × sd: the standard error of measurement, in marks.

    Skewness and kurtosis are NaN when k2 is 0 (every total equal), as Moodle leaves them unset.
    (Moodle computes CIC only from 3 attempts on; α here is defined from 2 learners, as pingouin's.)
    The totals are the auto-graded marks only: case questions are graded by hand, later.
    ``max_total`` is Σ points when ``points`` is given (else NaN); Moodle prints the marks as % of it.
    """
    totals = marks.sum(axis=1).to_numpy(dtype=float)
    s = len(totals)
    nan = math.nan
    out: dict[str, float] = dict.fromkeys(QUIZ_STATISTICS_FIELDS, nan)
    out.update(n=s, items=marks.shape[1], max_total=float(points.sum()) if points is not None else nan)
    if s == 0:
        return pd.Series(out, dtype=float)
    out.update(mean=float(totals.mean()), median=float(np.median(totals)))
    if s > 1:
        d = totals - totals.mean()
        m2, m3, m4 = (float(np.mean(d ** r)) for r in (2, 3, 4))
        out["sd"] = math.sqrt(float(np.sum(d ** 2)) / (s - 1))
        k2 = s * m2 / (s - 1)
        if s > 2 and k2 > 0:
            out["skewness"] = s * s * m3 / ((s - 1) * (s - 2)) / k2 ** 1.5
            if s > 3:
                k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
                out["kurtosis"] = k4 / (k2 * k2)
    alpha = cronbach_alpha(marks)
    out["alpha"] = alpha
    if not math.isnan(alpha):
        out["error_ratio"] = math.sqrt(1 - alpha)
        out["standard_error"] = out["error_ratio"] * out["sd"]
    return pd.Series(out, dtype=float)


def quiz_table(scores: pd.DataFrame, chapters: Sequence[str] | None = None, *,
               basis: Basis = "marks") -> pd.DataFrame:
    """:func:`quiz_statistics` of every chapter in ``scores`` (or ``chapters``), one row per chapter."""
    selected = list(chapters) if chapters is not None else sorted(scores["chapter"].unique())
    rows = []
    for chapter in selected:
        matrix, points = _matrix_and_points(scores, chapter, basis)
        rows.append({"chapter": chapter, **quiz_statistics(matrix, points).to_dict()})
    return pd.DataFrame(rows, columns=["chapter", *QUIZ_STATISTICS_FIELDS])


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
        values = answers["response"].tolist()
        # Each answer object is read once: the snapshot decodes every distinct answer once and shares
        # the object, so millions of answers are a few hundred objects. Unshared objects count alone.
        objects = dict(zip(map(id, values), values, strict=True))
        n, chose = 0, Counter[str]()
        for obj, count in Counter(map(id, values)).items():
            chosen = _chosen(kind, objects[obj])
            if chosen is not None:
                n += count
                chose.update(dict.fromkeys(chosen, count))
        key = keys[question]
        key_set = {key} if isinstance(key, str) else set(key)
        for option, text in options[question].items():
            rows.append({"question": question, "option": option, "text": text,
                         "share": chose[option] / n if n else math.nan, "is_key": option in key_set, "n": n})
    return pd.DataFrame(rows, columns=["question", "option", "text", "share", "is_key", "n"])


MIN_DISTRACTOR_RESPONDENTS = 20


def nonfunctional_distractors(distractor_frame: pd.DataFrame, min_share: float = 0.05,
                              min_n: int = MIN_DISTRACTOR_RESPONDENTS) -> pd.DataFrame:
    """The distractor frame with ``nonfunctional`` and ``small_sample`` columns.

    A wrong option chosen by fewer than ``min_share`` of the respondents attracts nobody, so it does
    not make the item harder to guess: it is non-functional (Haladyna & Downing 1993's 5 % rule).
    The share is only trusted from ``min_n`` respondents on: with fewer (default 20, where one
    respondent is already 5 %), a rarely chosen wrong option is marked ``small_sample`` (样本量小)
    instead, since one more learner would move it across the line. Keys and options of unanswered
    questions (share NaN) are never flagged.
    """
    wrong_and_rare = ~distractor_frame["is_key"].astype(bool) & (distractor_frame["share"] < min_share)
    enough = distractor_frame["n"] >= min_n
    return distractor_frame.assign(nonfunctional=(wrong_and_rare & enough).to_numpy(dtype=bool),
                                   small_sample=(wrong_and_rare & ~enough).to_numpy(dtype=bool))
