"""Differential item functioning: Mantel–Haenszel by region and by department, with the ETS A/B/C classes.

For one item and one focal group (a region, or a department) against everyone else (the
reference group), learners are matched on their total score in the item's chapter, cut into
at most :data:`STRATA` quantile bands (a cohort of a few hundred is too thin for one stratum per
score). With exactly two groups only the smaller is analysed as the focal group (the other way
round is the same tables turned round). In each stratum k a 2×2 table: A reference right, B
reference wrong, C focal right, D focal wrong (right = full marks: a partial-credit item counts
as wrong unless fully right). Then

* α_MH = Σ(A·D/T) ÷ Σ(B·C/T), Δ_MH = −2.35·ln α_MH (negative: the item is harder for the focal group);
* the MH χ² with continuity correction, (|ΣA − ΣE(A)| − ½)² ÷ ΣVar(A);
* SE(Δ) = 2.35·SE(ln α_MH), Robins–Breslow–Greenland;
* ETS classes (Zwick 2012): A when |Δ| < 1 or the χ² is not significant at 5 %; C when |Δ| ≥ 1.5
  and |Δ| is significantly above 1 (one-sided 5 %); B otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2 as chi2_dist
from scipy.stats import norm

STRATA = 5
MIN_GROUP = 30  # learners a focal group needs for its items to be analysed


@dataclass(frozen=True)
class MantelHaenszel:
    alpha: float
    delta: float
    chi2: float
    p: float
    se_delta: float
    ets: str  # A, B or C ("" when undefined)


def mantel_haenszel(tables: np.ndarray) -> MantelHaenszel:
    """The MH statistics of K 2×2 tables, shape (K, 2, 2): [[A, B], [C, D]] (reference row first)."""
    t = np.asarray(tables, dtype=float).reshape(-1, 2, 2)
    t = t[t.sum(axis=(1, 2)) >= 2]
    a, b, c, d = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1]
    n = a + b + c + d
    r, s = a * d / n, b * c / n
    nan = math.nan
    if len(t) == 0 or r.sum() == 0 or s.sum() == 0:
        return MantelHaenszel(nan, nan, nan, nan, nan, "")
    alpha = float(r.sum() / s.sum())
    delta = -2.35 * math.log(alpha)
    n_ref, n_foc, right, wrong = a + b, c + d, a + c, b + d
    expected = n_ref * right / n
    var = n_ref * n_foc * right * wrong / (n ** 2 * (n - 1))
    chi2 = float((abs(a.sum() - expected.sum()) - 0.5) ** 2 / var.sum()) if var.sum() > 0 else nan
    p = float(chi2_dist.sf(chi2, 1)) if math.isfinite(chi2) else nan
    big_p, big_q = (a + d) / n, (b + c) / n
    var_log = ((big_p * r).sum() / (2 * r.sum() ** 2) + (big_p * s + big_q * r).sum() / (2 * r.sum() * s.sum())
               + (big_q * s).sum() / (2 * s.sum() ** 2))
    se = 2.35 * math.sqrt(var_log)
    return MantelHaenszel(alpha, delta, chi2, p, se, ets_class(delta, se, p))


def ets_class(delta: float, se: float, p: float) -> str:
    if not (math.isfinite(delta) and math.isfinite(p)):
        return ""
    if abs(delta) < 1 or p >= 0.05:
        return "A"
    if abs(delta) >= 1.5 and (abs(delta) - 1) / se > norm.ppf(0.95):
        return "C"
    return "B"


def _strata(totals: pd.Series) -> pd.Series:
    """Quantile bands of the chapter totals (ties kept together)."""
    ranks = totals.rank(method="dense")
    bands = min(STRATA, int(ranks.max()))
    return pd.qcut(ranks, bands, labels=False, duplicates="drop") if bands > 1 else ranks * 0


def dif_items(scores: pd.DataFrame, by: str, min_group: int = MIN_GROUP) -> pd.DataFrame:
    """Per auto-graded item and focal group of ``by`` (region or department) with MH statistics.

    ``scores`` is the tidy scores frame (learner, chapter, question, type, points, score and the
    roster column ``by``); only submitted answers count. Columns: question, chapter, group, n_focal,
    n_reference, delta, se, chi2, p, ets.
    """
    from course.analytics.items import AUTO_GRADED_TYPES

    kept = scores[scores["type"].isin(AUTO_GRADED_TYPES) & scores["score"].notna() & (scores["points"] > 0)]
    rows = []
    for chapter, g in kept.groupby("chapter", observed=True, sort=True):
        totals = g.groupby("learner", observed=True)["score"].sum()
        band = _strata(totals)
        group = g.groupby("learner", observed=True)[by].first().astype(str)
        right = (g["score"] >= g["points"]).to_numpy()
        frame = pd.DataFrame({"question": g["question"].astype(str).to_numpy(), "learner": g["learner"].to_numpy(),
                              "right": right})
        frame["band"] = frame["learner"].map(band).to_numpy()
        frame["group"] = frame["learner"].map(group).to_numpy()
        sizes = group.value_counts()
        focals = sorted(sizes.index[(sizes >= min_group) & (len(group) - sizes >= min_group)])
        if len(sizes) == 2:  # the larger group against the smaller is the same tables turned round
            focals = [g for g in focals if g == min(sizes.index, key=lambda x: (sizes[x], str(x)))]
        for focal in focals:
            is_focal = frame["group"] == focal
            for qid, q in frame.groupby("question", sort=True):
                f = is_focal[q.index]
                tables = np.zeros((STRATA, 2, 2))
                for k in range(STRATA):
                    in_k = (q["band"] == k).to_numpy()
                    ref, foc = in_k & ~f.to_numpy(), in_k & f.to_numpy()
                    tables[k] = [[q["right"].to_numpy()[ref].sum(), (~q["right"].to_numpy()[ref]).sum()],
                                 [q["right"].to_numpy()[foc].sum(), (~q["right"].to_numpy()[foc]).sum()]]
                mh = mantel_haenszel(tables)
                rows.append({"question": qid, "chapter": str(chapter), "group": focal, "n_focal": int(f.sum()),
                             "n_reference": int((~f).sum()), "delta": mh.delta, "se": mh.se_delta,
                             "chi2": mh.chi2, "p": mh.p, "ets": mh.ets})
    return pd.DataFrame(rows, columns=["question", "chapter", "group", "n_focal", "n_reference", "delta", "se",
                                       "chi2", "p", "ets"])
