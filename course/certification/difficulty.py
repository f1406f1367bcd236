"""Item difficulty from evidence: what share of an item's points a learner of ability θ is expected to earn.

Every item gets two curves on one ability scale, the calibration cohort's abilities as a
standard normal (θ = 0 is its average learner):

* ``expected(θ)``: the expected proportion of its points, partial credit included (what a
  learner of ability θ scores on it);
* ``complete(θ)``: the probability of a complete answer from knowledge, part by part: for an
  item scored as a whole with partial credit (multiple choice, ordering) the probability of full
  credit, for multiple choice less what lucky guesses get (a floor estimated per format,
  :func:`guess_format`); for a matching item the share of its pairs right less what blind
  guessing gets right (one pair in as many as it has options: the classical correction for
  guessing); for the others the same as ``expected``. Partial credit for a near miss does not
  depend much on ability, so two items of the same expected score can differ in how much of it
  needs the knowledge; balancing both curves keeps variants alike in both.

Three sources, the best the data allow:

* ``grm``: items with at least ``difficulty.min_respondents_irt`` respondents are calibrated
  together with Samejima's graded response model by marginal maximum likelihood
  (``girth.grm_mml``); an all-or-nothing item has two categories, which is the 2PL. Score
  levels held by fewer than :data:`MIN_CATEGORY` respondents are merged with a neighbour; an
  item left with one level (all but a few answered it alike) keeps its facility.
* ``facility``: items with fewer respondents keep the classical facility (mean proportion
  of points), pulled towards the prior as if the prior were ``difficulty.prior_weight``
  respondents, on a logistic curve of the assumed ``difficulty.discrimination`` placed so
  that the cohort's average proportion is that facility.
* ``prior``: items nobody answered take the prior facility of their mastery level
  (certification.yaml ``difficulty.prior_facility``), on the same kind of curve.

The complete-answer curve of a calibrated item is ``floor + (1 − floor)·2PL`` fitted to its
complete answers by marginal maximum likelihood over each respondent's posterior ability
under the calibration (the item parameters fixed, as when new items are calibrated onto an
existing scale); the 2PL part is the curve. The floor is known for matching items (and 0 for
ordering) and, for multiple-choice items, one per format, the value that maximises the format's
items' summed profile likelihood (a three-parameter logistic model with a common lower
asymptote). With fewer respondents the curve is the shrunk complete-answer facility (no
floor for multiple choice: too few answers to tell luck from knowledge) on the
assumed discrimination; without data it is the expected curve.

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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize, minimize_scalar
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
    complete: tuple[float, float] | None = None  # (a, b) of the complete-answer curve; None: ``expected``'s
    guess: float = 0.0  # the complete answers' floor taken out of that curve (what guessing gets; see guess_format)

    def expected(self, theta: np.ndarray | float) -> np.ndarray:
        """Expected proportion of the item's points at ability ``theta``."""
        t = np.asarray(theta, dtype=float)
        steps = np.diff(np.asarray(self.values))
        return self.values[0] + sum(step * expit(self.a * (t - bk)) for step, bk in zip(steps, self.b, strict=True))

    def complete_share(self, theta: np.ndarray | float) -> np.ndarray:
        """Probability of a complete answer at ability ``theta`` (see the module docstring)."""
        if self.complete is None:
            return self.expected(theta)
        a, b = self.complete
        return expit(a * (np.asarray(theta, dtype=float) - b))


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


def _curve(source: Source, n: int, observed: float | None, share: float, a: float,
           complete: tuple[float, float] | None = None) -> ItemEstimate:
    return ItemEstimate(source, n, observed, a, (location_for(share, a),), (0.0, 1.0), complete)


def complete_answers(q: m.Question, proportion: np.ndarray) -> tuple[np.ndarray, float] | None:
    """An item's complete answers (1/0, or the share of its parts right) and the share blind guessing gets.

    None when a complete answer is simply the item's score (all-or-nothing items and fill-ins,
    whose blanks cannot be guessed from a list).
    """
    if isinstance(q, m.MultipleChoice | m.Ordering) and q.scoring != "all_or_nothing":
        return (proportion >= 1 - 1e-9).astype(float), 0.0
    if isinstance(q, m.Matching):
        return proportion, 1.0 / len(q.options)
    return None


def prior_estimate(q: m.Question, cert: Certification) -> ItemEstimate:
    d = cert.difficulty
    return _curve("prior", 0, None, d.prior_facility[q.mastery], d.discrimination)


def _shrunk(q: m.Question, cert: Certification, n: int, observed: float) -> float:
    d = cert.difficulty
    return (n * observed + d.prior_weight * d.prior_facility[q.mastery]) / (n + d.prior_weight)


def shrunk_estimate(q: m.Question, cert: Certification, n: int, observed: float,
                    complete: float | None = None) -> ItemEstimate:
    """Facility ``observed`` of ``n`` respondents pulled towards the prior; ``complete``: their complete-answer
    share (already corrected for guessing), pulled towards the same prior."""
    a = cert.difficulty.discrimination
    curve = None if complete is None else (a, location_for(_shrunk(q, cert, n, complete), a))
    return _curve("facility", n, observed, _shrunk(q, cert, n, observed), a, curve)


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


def _category_probabilities(a: float, b: tuple[float, ...]) -> np.ndarray:
    """Score levels × quadrature nodes: the graded response model's probability of each level."""
    above = np.vstack([np.ones_like(_NODES), *(expit(a * (_NODES - bk)) for bk in b), np.zeros_like(_NODES)])
    return np.clip(above[:-1] - above[1:], 1e-12, 1.0)


def _complete_fit(y: np.ndarray, floor: float, posterior: np.ndarray, start: tuple[float, float]) -> \
        tuple[float, float, float] | None:
    """(a, b, −log likelihood) of ``floor + (1 − floor)·expit(a(θ − b))`` fitted to ``y`` by marginal likelihood.

    ``posterior``: respondents × quadrature nodes, each respondent's ability posterior without
    this item. ``y`` is 1/0 or a share of parts right (quasi-likelihood).
    """
    def loss(x: np.ndarray) -> float:
        p = np.clip(floor + (1 - floor) * expit(x[0] * (_NODES - x[1])), 1e-9, 1 - 1e-9)
        like = np.exp(np.outer(y, np.log(p)) + np.outer(1 - y, np.log1p(-p)))  # respondents × nodes
        return float(-np.log((posterior * like).sum(axis=1) + 1e-300).sum())

    x0 = np.clip(np.array(start, dtype=float), [0.05, -8.0], [8.0, 8.0])
    res = minimize(loss, x0, method="L-BFGS-B", bounds=[(0.05, 8.0), (-8.0, 8.0)])
    # a line search that stops at the optimum reports failure; keep any finite point no worse than the start
    ok = np.all(np.isfinite(res.x)) and np.isfinite(res.fun) and (res.success or res.fun <= loss(x0))
    return (float(res.x[0]), float(res.x[1]), float(res.fun)) if ok else None


def _complete_curve(y: np.ndarray, floor: float, posterior: np.ndarray, start: tuple[float, float]) -> \
        tuple[float, float] | None:
    """(a, b) of :func:`_complete_fit`."""
    fit = _complete_fit(y, floor, posterior, start)
    return None if fit is None else (fit[0], fit[1])


MAX_FLOOR = 0.5  # a guessing floor above this would mean the format gives full credit to most guesses
MIN_FORMAT_ITEMS = 5  # calibrated items a format needs to fit its own floor; fewer join their type's group


def guess_format(q: m.Question) -> tuple[object, ...] | None:
    """The group whose items share one guessing floor for complete answers, or None when the floor is known.

    Full credit on a multiple-choice item (all keys, no distractor) can be reached by luck, at a
    rate that depends on how learners guess (keeping the keys they are sure of, adding a
    distractor or two), not only on the number of options: the rate is estimated, one per format
    (the item's keys and options), as a three-parameter logistic model with a common lower
    asymptote does; a floor per item would be far too noisy with a few hundred respondents.
    Matching items use the classical correction (one pair in as many as there are options). An
    ordering item has none: a guess is right once in k! orderings (1 in 24 for four entries),
    and a floor fitted there would only absorb misfit.
    """
    if isinstance(q, m.MultipleChoice):
        return ("multiple", len(q.answer), len(q.options))
    return None


def common_floor(items: list[tuple[np.ndarray, np.ndarray, tuple[float, float]]]) -> float:
    """The guessing floor in [0, MAX_FLOOR] that maximises the items' summed profile likelihood.

    ``items``: per item its complete answers, respondents' posteriors and a starting (a, b); at
    each floor every item keeps its own best (a, b).
    """
    def total(floor: float) -> float:
        fits = [_complete_fit(y, floor, posterior, start) for y, posterior, start in items]
        return float(sum(f[2] for f in fits if f is not None))

    res = minimize_scalar(total, bounds=(0.0, MAX_FLOOR), method="bounded", options={"xatol": 1e-3})
    # the bounded search never evaluates the ends; no floor at all is the common case for some formats
    return float(res.x) if total(float(res.x)) < total(0.0) else 0.0


def _calibrate(table: pd.DataFrame, ids: list[str], by_id: Mapping[str, m.Question]) -> dict[str, ItemEstimate]:
    """Graded-response calibration (girth) of ``ids``, with their complete-answer curves; failed fits are left out."""
    from girth import INVALID_RESPONSE, grm_mml  # scipy-only, but slow to import: only when calibrating

    respondents = sorted(table["respondent"].unique())
    col = {r: i for i, r in enumerate(respondents)}
    data = np.full((len(ids), len(respondents)), INVALID_RESPONSE, dtype=int)
    values: list[tuple[float, ...]] = []
    n: list[int] = []
    facility: list[float] = []
    answers: list[tuple[np.ndarray, np.ndarray]] = []  # per item: respondent columns, proportions
    for row, (_qid, g) in enumerate(table.set_index("question").loc[ids].groupby(level=0, sort=False)):
        codes, vals = _levels(g["proportion"].to_numpy())
        cols = np.array([col[r] for r in g["respondent"]])
        data[row, cols] = codes
        values.append(vals)
        n.append(len(g))
        facility.append(float(g["proportion"].mean()))
        answers.append((cols, g["proportion"].to_numpy()))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # girth's likelihood logs 0 for respondents far out; the fit is unaffected
        fit = grm_mml(data)
    out: dict[str, ItemEstimate] = {}
    fitted: dict[int, np.ndarray] = {}  # row -> log category probabilities at the nodes
    for row, qid in enumerate(ids):
        a = float(fit["Discrimination"][row])
        b = tuple(float(x) for x in fit["Difficulty"][row][: len(values[row]) - 1])
        if math.isfinite(a) and all(math.isfinite(x) for x in b):
            out[qid] = ItemEstimate("grm", n[row], facility[row], a, b, values[row])
            fitted[row] = np.log(_category_probabilities(a, b))
    # every respondent's log-likelihood at the nodes under the fitted items, then each complete-answer curve
    # against the posterior without its own item
    loglik = np.zeros((len(respondents), len(_NODES)))
    for row, logp in fitted.items():
        cols = answers[row][0]
        loglik[cols] += logp[data[row, cols]]
    pending: dict[str, tuple[np.ndarray, float, np.ndarray, tuple[float, float]]] = {}
    for row, qid in enumerate(ids):
        got = complete_answers(by_id[qid], answers[row][1])
        if qid not in out or got is None:
            continue
        cols = answers[row][0]
        own = loglik[cols] - fitted[row][data[row, cols]]
        posterior = np.exp(own - own.max(axis=1, keepdims=True)) * _WEIGHTS
        posterior /= posterior.sum(axis=1, keepdims=True)
        pending[qid] = (got[0], got[1], posterior, (out[qid].a, out[qid].b[-1]))
    for members, floor in _floors(pending, by_id):
        for qid in members:
            y, known, posterior, start = pending[qid]
            curve = _complete_curve(y, max(known, floor), posterior, start)
            if curve is not None:
                out[qid] = replace(out[qid], complete=curve, guess=max(known, floor))
    return out


def _floors(pending: Mapping[str, tuple[np.ndarray, float, np.ndarray, tuple[float, float]]],
            by_id: Mapping[str, m.Question]) -> list[tuple[list[str], float]]:
    """Items grouped by :func:`guess_format` with each group's floor (0 for a known floor: it is in the item's own)."""
    groups: dict[tuple[object, ...] | None, list[str]] = {}
    for qid in pending:
        groups.setdefault(guess_format(by_id[qid]), []).append(qid)
    for key in [k for k, v in groups.items() if k is not None and len(v) < MIN_FORMAT_ITEMS]:
        groups.setdefault((key[0],), []).extend(groups.pop(key))  # a rare format joins its type
    return [(members, 0.0 if key is None else common_floor([(pending[q][0], pending[q][2], pending[q][3])
                                                              for q in members]))
            for key, members in groups.items()]


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
            got = complete_answers(q, table.loc[table["question"] == q.id, "proportion"].to_numpy())
            share = None if got is None else min(max((float(got[0].mean()) - got[1]) / (1 - got[1]), 0.0), 1.0)
            items[q.id] = shrunk_estimate(q, cert, n, mean, share)
        else:
            items[q.id] = prior_estimate(q, cert)
    method = "facility"
    # an item whose answers leave one score level once levels under MIN_CATEGORY respondents merge (all but a
    # few right, or wrong) tells the model nothing: it keeps its facility
    levels = table.groupby("question")["proportion"].agg(lambda x: len(_levels(x.to_numpy())[1]))
    ready = [qid for qid in stats.index if stats.at[qid, "size"] >= cert.difficulty.min_respondents_irt
             and levels[qid] >= 2]
    if calibrate and len(ready) >= 2:
        calibrated = _calibrate(table[table["question"].isin(ready)], [str(x) for x in ready], by_id)
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


def _pair(value: Any) -> tuple[float, float] | None:
    if value is None:  # estimates written before complete-answer curves: complete = expected
        return None
    a, b = value
    return float(a), float(b)


def read_estimates(path: Path) -> Estimates:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = {k: ItemEstimate(v["source"], int(v["n"]), v["facility"], float(v["a"]), tuple(v["b"]),
                                 tuple(v["values"]), _pair(v.get("complete")), float(v.get("guess", 0.0)))
                 for k, v in data["items"].items()}
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


MEASURES = ("expected", "complete")  # what a variant is balanced on (ItemEstimate.expected, .complete_share)


def curves(est: Estimates | None, questions: Iterable[m.Question], cert: Certification,
           abilities: Iterable[float], measure: str = "expected") -> np.ndarray:
    """Items × abilities: each item's expected proportion of its points, or (``measure="complete"``) its
    probability of a complete answer (priors where ``est`` has no item)."""
    thetas = np.asarray(list(abilities), dtype=float)
    rows = []
    for q in questions:
        item = (est.items.get(q.id) if est is not None else None) or prior_estimate(q, cert)
        rows.append(item.expected(thetas) if measure == "expected" else item.complete_share(thetas))
    return np.asarray(rows, dtype=float).reshape(-1, len(thetas))
