"""Item difficulty from evidence: what share of an item's points a learner of ability θ is expected to earn.

Every item gets a curve ``expected(θ)``, the expected proportion of its points, on one
ability scale: the calibration cohort's abilities as a standard normal (θ = 0 is its
average learner). Three sources, the best the data allow:

* ``grm``: items with at least ``difficulty.min_respondents_irt`` respondents are calibrated
  together with Samejima's graded response model by marginal maximum likelihood
  (``girth.grm_mml``); an all-or-nothing item has two categories, which is the 2PL. Score
  levels held by fewer than :data:`MIN_CATEGORY` respondents are merged with a neighbour.
* ``facility``: items with fewer respondents keep the classical facility (mean proportion
  of points), pulled towards the prior as if the prior were ``difficulty.prior_weight``
  respondents, on a logistic curve of the assumed ``difficulty.discrimination`` placed so
  that the cohort's average proportion is that facility.
* ``prior``: items nobody answered take the prior facility of their mastery level
  (certification.yaml ``difficulty.prior_facility``), on the same kind of curve.

Respondents: each learner's chapter practice is one respondent (one ability across the
chapters), and each paper sitting another (a learner sits an exam after training).
Estimates are stored, never overwritten, as ``papers/estimates/<time>.json`` with the time,
the number of respondents and every item's source and n; a paper records which file it
was balanced with.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from course import model as m
from course.certification.config import Certification
from course.errors import CourseError

Source = Literal["grm", "facility", "prior"]
MIN_CATEGORY = 10  # respondents a score level needs to keep its own threshold
# Gauss-Hermite nodes for the cohort's average over a standard normal ability
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(41)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


@dataclass(frozen=True)
class ItemEstimate:
    """One item's curve: thresholds ``b`` (increasing) between score levels worth ``values`` of its points."""

    source: Source
    n: int  # respondents behind it (0: prior)
    facility: float | None  # observed mean proportion of points (None: no data)
    a: float
    b: tuple[float, ...]
    values: tuple[float, ...]  # proportion of the points at each score level, len(b) + 1

    def expected(self, theta: np.ndarray | float) -> np.ndarray:
        """Expected proportion of the item's points at ability ``theta``."""
        t = np.asarray(theta, dtype=float)
        steps = np.diff(np.asarray(self.values))
        return self.values[0] + sum(step * expit(self.a * (t - bk)) for step, bk in zip(steps, self.b, strict=True))


@dataclass(frozen=True)
class Estimates:
    """Item estimates as of one gradebook reading."""

    as_of: str  # ISO time of the gradebook reading
    respondents: int
    method: str
    items: dict[str, ItemEstimate]
    name: str = ""  # file name under papers/estimates/ ("" for priors only)


@functools.lru_cache(maxsize=4096)
def location_for(facility: float, a: float) -> float:
    """The location b at which a logistic curve of slope ``a`` averages ``facility`` over N(0, 1) abilities."""
    f = min(max(facility, 1e-4), 1 - 1e-4)
    return float(brentq(lambda b: float(_WEIGHTS @ expit(a * (_NODES - b))) - f, -40, 40))


def _curve(source: Source, n: int, observed: float | None, share: float, a: float) -> ItemEstimate:
    return ItemEstimate(source, n, observed, a, (location_for(share, a),), (0.0, 1.0))


def prior_estimate(q: m.Question, cert: Certification) -> ItemEstimate:
    d = cert.difficulty
    return _curve("prior", 0, None, d.prior_facility[q.mastery], d.discrimination)


def shrunk_estimate(q: m.Question, cert: Certification, n: int, observed: float) -> ItemEstimate:
    d = cert.difficulty
    share = (n * observed + d.prior_weight * d.prior_facility[q.mastery]) / (n + d.prior_weight)
    return _curve("facility", n, observed, share, d.discrimination)


def priors(questions: Iterable[m.Question], cert: Certification) -> Estimates:
    return Estimates("", 0, "prior", {q.id: prior_estimate(q, cert) for q in questions})


# ---------------------------------------------------------------- from the gradebook
def responses_from_grades(grades: pd.DataFrame, paper_assignments: Mapping[str, str]) -> pd.DataFrame:
    """Per respondent × question, the proportion of the points earned (graded answers only).

    ``grades`` is :func:`course.analytics.frames.read_grades`'s frame; ``paper_assignments``
    maps each paper variant's assignment id to its paper id. A learner's chapters are one
    respondent (the learner id); each paper sitting is another (``<learner>@<paper>``).
    """
    kept = grades[grades["score"].notna() & (grades["max_score"] > 0) & (grades["question"] != "setup")]
    chapter = kept["chapter"].astype(str)
    learner = kept["learner"].astype(str)
    paper = chapter.map(paper_assignments)
    paper = paper.astype(object)
    respondent = learner.where(paper.isna(), learner + "@" + paper.fillna("").astype(str))
    proportion = (kept["score"].astype(float) / kept["max_score"].astype(float)).clip(0.0, 1.0)
    return pd.DataFrame({"respondent": respondent.to_numpy(), "question": kept["question"].astype(str).to_numpy(),
                         "proportion": proportion.to_numpy()})


def _levels(values: np.ndarray) -> tuple[np.ndarray, tuple[float, ...]]:
    """Score levels (category codes 0..K-1) with at least MIN_CATEGORY respondents each, and their values."""
    levels, codes = np.unique(np.round(values, 4), return_inverse=True)
    counts = np.bincount(codes).astype(float)
    sums = np.bincount(codes, weights=values)
    groups = [[i] for i in range(len(levels))]
    while len(groups) > 1:
        sizes = [sum(counts[i] for i in g) for g in groups]
        k = int(np.argmin(sizes))
        if sizes[k] >= MIN_CATEGORY:
            break
        # merge with the smaller neighbour (the only one at an end)
        j = k - 1 if k == len(groups) - 1 or (k > 0 and sizes[k - 1] <= sizes[k + 1]) else k + 1
        lo, hi = min(j, k), max(j, k)
        groups[lo:hi + 1] = [groups[lo] + groups[hi]]
    code_of = np.empty(len(levels), dtype=int)
    for c, g in enumerate(groups):
        code_of[g] = c
    values_of = tuple(float(sum(sums[i] for i in g) / sum(counts[i] for i in g)) for g in groups)
    return code_of[codes], values_of


def _calibrate(table: pd.DataFrame, ids: list[str]) -> dict[str, ItemEstimate]:
    """Graded-response calibration (girth) of ``ids``; items whose fit fails are left out."""
    from girth import INVALID_RESPONSE, grm_mml  # scipy-only, but slow to import: only when calibrating

    respondents = sorted(table["respondent"].unique())
    col = {r: i for i, r in enumerate(respondents)}
    data = np.full((len(ids), len(respondents)), INVALID_RESPONSE, dtype=int)
    values: list[tuple[float, ...]] = []
    n: list[int] = []
    facility: list[float] = []
    for row, (_qid, g) in enumerate(table.set_index("question").loc[ids].groupby(level=0, sort=False)):
        codes, vals = _levels(g["proportion"].to_numpy())
        data[row, [col[r] for r in g["respondent"]]] = codes
        values.append(vals)
        n.append(len(g))
        facility.append(float(g["proportion"].mean()))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # girth's likelihood logs 0 for respondents far out; the fit is unaffected
        fit = grm_mml(data)
    out: dict[str, ItemEstimate] = {}
    for row, qid in enumerate(ids):
        a = float(fit["Discrimination"][row])
        b = tuple(float(x) for x in fit["Difficulty"][row][: len(values[row]) - 1])
        if math.isfinite(a) and all(math.isfinite(x) for x in b):
            out[qid] = ItemEstimate("grm", n[row], facility[row], a, b, values[row])
    return out


def estimate(questions: Iterable[m.Question], cert: Certification, responses: pd.DataFrame,
             as_of: str, calibrate: bool = True) -> Estimates:
    """Every item's estimate from ``responses`` (:func:`responses_from_grades`), the best the data allow."""
    qs = list(questions)
    by_id = {q.id: q for q in qs}
    table = responses[responses["question"].isin(by_id)]
    stats = table.groupby("question")["proportion"].agg(["size", "mean", "std"])
    items: dict[str, ItemEstimate] = {}
    for q in qs:
        if q.id in stats.index:
            n, mean = int(stats.at[q.id, "size"]), float(stats.at[q.id, "mean"])
            items[q.id] = shrunk_estimate(q, cert, n, mean)
        else:
            items[q.id] = prior_estimate(q, cert)
    method = "facility"
    ready = [qid for qid in stats.index if stats.at[qid, "size"] >= cert.difficulty.min_respondents_irt
             and stats.at[qid, "std"] > 0]
    if calibrate and len(ready) >= 2:
        calibrated = _calibrate(table[table["question"].isin(ready)], [str(x) for x in ready])
        items.update(calibrated)
        method = "grm" if calibrated else method
    return Estimates(as_of, int(table["respondent"].nunique()), method, items)


# ---------------------------------------------------------------- stored estimates
def estimates_dir(root: Path) -> Path:
    return root / "papers" / "estimates"


def _to_json(est: Estimates) -> dict[str, Any]:
    return {"as_of": est.as_of, "respondents": est.respondents, "method": est.method,
            "items": {k: asdict(v) for k, v in sorted(est.items.items())}}


def write_estimates(root: Path, est: Estimates) -> Estimates:
    """Store ``est`` as a new file (never overwriting one); returns it with its file name."""
    folder = estimates_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.fromisoformat(est.as_of).strftime("%Y%m%dT%H%M%SZ")
    path, k = folder / f"{stamp}.json", 1
    while path.exists():
        k += 1
        path = folder / f"{stamp}-{k}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_to_json(est), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return Estimates(est.as_of, est.respondents, est.method, est.items, path.name)


def read_estimates(path: Path) -> Estimates:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = {k: ItemEstimate(v["source"], int(v["n"]), v["facility"], float(v["a"]), tuple(v["b"]),
                                 tuple(v["values"])) for k, v in data["items"].items()}
        return Estimates(str(data["as_of"]), int(data["respondents"]), str(data["method"]), items, path.name)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CourseError(f"{path}: cannot be read as item estimates ({exc}): run `course paper estimate` "
                          "again") from None


def latest_estimates(root: Path) -> Estimates | None:
    """The newest stored estimates, or None when there are none."""
    def order(path: Path) -> tuple[str, int]:  # <time>.json, then <time>-2.json, <time>-3.json ...
        stamp, _, k = path.stem.partition("-")
        return stamp, int(k) if k.isdigit() else 1

    found = sorted(estimates_dir(root).glob("*.json"), key=order)
    return read_estimates(found[-1]) if found else None


def curves(est: Estimates | None, questions: Iterable[m.Question], cert: Certification,
           abilities: Iterable[float]) -> np.ndarray:
    """Items × abilities: expected proportion of each item's points (prior where ``est`` has no item)."""
    thetas = np.asarray(list(abilities), dtype=float)
    rows = []
    for q in questions:
        item = est.items.get(q.id) if est is not None else None
        rows.append((item or prior_estimate(q, cert)).expected(thetas))
    return np.asarray(rows, dtype=float).reshape(-1, len(thetas))
