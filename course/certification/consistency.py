"""Decision consistency of the theory pass/fail decision (Livingston & Lewis 1995), and the SEM at the pass mark.

Every learner sits their own variant, so no item is answered by all: the reliability is
Cronbach's α over the **area part-scores** (every variant gives each knowledge area exactly
its 比重表 points, so the parts are comparable across variants). α over heterogeneous parts
is a lower bound of the reliability, so the consistency reported here errs on the low side.

Livingston–Lewis with a two-parameter beta true-score distribution:

1. effective test length n = ((μ − lo)(hi − μ) − r·σ²) / (σ²·(1 − r)), rounded, at least 1;
2. true proportion τ ~ Beta(a, b) with mean (μ − lo)/(hi − lo) and variance r·σ²/(hi − lo)²;
3. a score on a parallel form is Binomial(n, τ) on the effective scale, the cut at
   n·(cut − lo)/(hi − lo), a pass being at least the smallest whole number ≥ it;
4. agreement = E[P(pass|τ)² + P(fail|τ)²], κ = (agreement − chance)/(1 − chance) with chance
   = p² + (1 − p)² for the model's pass rate p; accuracy = P(observed decision = true decision).

The SEM is σ·√(1 − r); at the pass mark, the binomial error of the effective scale,
(hi − lo)·√(τc(1 − τc)/n) with τc the cut as a proportion (the binomial error model's SEM at
the true cut; Lord's conditional SEM of an observed score divides by n − 1 instead).

Per level, each learner counts once, with their latest sitting of the level's papers: a
re-sitter's failed first sitting would otherwise count twice and weigh the failed group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate
from scipy.stats import beta as beta_dist
from scipy.stats import binom

from course.analytics.items import cronbach_alpha
from course.certification.config import Certification
from course.loader import Course


@dataclass(frozen=True)
class Consistency:
    n: int  # learners
    mean: float
    sd: float
    reliability: float
    effective_length: int
    agreement: float  # P(same decision on a parallel form)
    kappa: float
    accuracy: float
    pass_rate: float  # the model's
    sem: float
    sem_at_cut: float


def effective_length(mean: float, var: float, reliability: float, lo: float, hi: float) -> int:
    """Livingston–Lewis effective test length, rounded to a whole number (at least 1)."""
    n = ((mean - lo) * (hi - mean) - reliability * var) / (var * (1 - reliability))
    return max(1, round(n))


def true_score_beta(mean: float, var: float, reliability: float, lo: float, hi: float) -> tuple[float, float]:
    """Beta parameters (a, b) of the true proportion, by the method of moments."""
    m = (mean - lo) / (hi - lo)
    v = reliability * var / (hi - lo) ** 2
    common = m * (1 - m) / v - 1
    return m * common, (1 - m) * common


def livingston_lewis(scores: Sequence[float], reliability: float, cut: float, lo: float, hi: float) -> Consistency:
    """Decision consistency and accuracy of ``score >= cut`` for scores on [lo, hi] with this reliability.

    NaN fields when the data cannot support it: fewer than two scores, no variance, a reliability
    outside (0, 1), or a true-score variance the beta cannot take.
    """
    x = np.asarray(scores, dtype=float)
    x = x[np.isfinite(x)]
    nan = math.nan
    if len(x) < 2 or not 0 < reliability < 1 or np.ptp(x) == 0:
        return Consistency(len(x), nan, nan, reliability, 0, nan, nan, nan, nan, nan, nan)
    mean, var = float(x.mean()), float(x.var())
    a, b = true_score_beta(mean, var, reliability, lo, hi)
    sd = math.sqrt(var)
    sem = sd * math.sqrt(1 - reliability)
    if not (a > 0 and b > 0):
        return Consistency(len(x), mean, sd, reliability, 0, nan, nan, nan, nan, sem, nan)
    n = effective_length(mean, var, reliability, lo, hi)
    tc = (cut - lo) / (hi - lo)
    k = math.ceil(n * tc - 1e-9)  # smallest passing score on the effective scale
    g = beta_dist(a, b).pdf

    def p_pass(t: float) -> float:
        return float(binom.sf(k - 1, n, t))

    def integral(f: Callable[[float], float], lo_t: float = 0.0, hi_t: float = 1.0) -> float:
        inner = [tc] if lo_t < tc < hi_t else None
        return float(integrate.quad(lambda t: f(t) * g(t), lo_t, hi_t, limit=200, points=inner)[0])

    agreement = integral(lambda t: p_pass(t) ** 2 + (1 - p_pass(t)) ** 2)
    rate = integral(p_pass)
    chance = rate ** 2 + (1 - rate) ** 2
    kappa = (agreement - chance) / (1 - chance) if chance < 1 else math.nan
    accuracy = integral(lambda t: 1 - p_pass(t), 0.0, tc) + integral(p_pass, tc, 1.0)
    sem_cut = (hi - lo) * math.sqrt(tc * (1 - tc) / n)
    return Consistency(len(x), mean, sd, reliability, n, agreement, kappa, accuracy, rate, sem, sem_cut)


# ---------------------------------------------------------------- from the gradebook
def part_scores(course: Course, manifests: list[dict[str, Any]], grades: pd.DataFrame) -> pd.DataFrame:
    """One row per learner × paper sat: paper, level, theory on 100, and the raw points of every area."""
    assignments = {v["assignment"] for d in manifests for v in d["variants"].values()}
    sat = grades[grades["chapter"].isin(assignments)]
    by = {key: g.set_index("question")["score"] for key, g in sat.groupby(["learner", "chapter"], observed=True)}
    rows = []
    for data in manifests:
        for learner, v in data["variants"].items():
            scores = by.get((learner, v["assignment"]))
            if scores is None:
                continue
            theory = scores.reindex(v["theory"]).fillna(0.0)
            row: dict[str, Any] = {"learner": learner, "paper": data["paper"], "level": data["level"],
                                   "sitting": int(data.get("sitting", 1)),
                                   "theory": float(theory.sum()) / float(data["theory_max"]) * 100}
            for qid, s in theory.items():
                area = course.area_of(course.by_id[str(qid)])
                row[area] = row.get(area, 0.0) + float(s)
            rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.fillna(0.0) if len(frame) else pd.DataFrame(columns=["learner", "paper", "level", "sitting",
                                                                       "theory"])


def decision_table(course: Course, cert: Certification, manifests: list[dict[str, Any]],
                   grades: pd.DataFrame) -> pd.DataFrame:
    """Per paper, then per level (all its papers, each learner's latest sitting): consistency of the theory
    decision at the pass mark."""
    parts = part_scores(course, manifests, grades)
    areas = [a for a in course.leaf_areas if a in parts.columns]
    rows = []
    latest = parts.sort_values(["sitting", "paper"], kind="stable").drop_duplicates(["learner", "level"], keep="last")
    groups = [("paper", p, g) for p, g in parts.groupby("paper", sort=True)] + [
        ("level", lv, g) for lv, g in latest.groupby("level", sort=True)]
    for kind, key, g in groups:
        alpha = cronbach_alpha(g[areas].astype(float)) if areas else math.nan
        c = livingston_lewis(g["theory"].to_numpy(), alpha, cert.pass_marks.theory, 0.0, 100.0)
        rows.append({"kind": kind, "key": key, **asdict(c)})
    return pd.DataFrame(rows, columns=["kind", "key", *Consistency.__dataclass_fields__])
