"""Difficulty-balanced assembly of one paper variant, as a small integer program (automated test assembly).

One binary per eligible item (chosen or not), solved with HiGHS through ``scipy.optimize.milp``:

* every knowledge area holds exactly its 比重表 points, every question type exactly its points;
* no two near-duplicates together (``x_i + x_j <= 1``); excluded items are not candidates;
* in every column k (a measure at a balancing ability: the expected score, and the expected
  complete-answer points, at each θ), the variant's Σ points_i · f_ik lies within
  ``tolerance`` of the paper's target;
* the objective is a random weight per point of each item, drawn from the learner's own
  random stream: among the variants that satisfy everything, a random one (the draw stays
  random and is reproducible from the paper seed and the learner id).

When no variant meets the tolerance, the same program minimises the largest distance from
the target instead, and the draw reports how far it got and which 比重表 cell (area × type)
is furthest from the bank's average for its items (:class:`Miss`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

# HiGHS stops at the first solution within this relative gap of the best random objective:
# the draw needs a random feasible variant, not the optimum of random weights (10 ms against 60).
MIP_GAP = 0.5
SHORTLIST = 0.5


@dataclass(frozen=True)
class Problem:
    """The candidates of one draw and what every variant must hold (arrays over candidates)."""

    points: np.ndarray  # float, per candidate
    area: np.ndarray  # int index into area_points
    qtype: np.ndarray  # int index into type_points
    expected: np.ndarray  # candidates × columns: proportion of the points (a measure at an ability)
    area_points: np.ndarray
    type_points: np.ndarray
    clashes: list[tuple[int, int]]  # near-duplicate pairs (candidate indices)
    target: np.ndarray  # per column: the paper's target
    cell: np.ndarray  # int per candidate: its 比重表 cell (area × type)
    cell_mean: np.ndarray  # cells × columns: the bank's points-weighted mean proportion in each cell


@dataclass(frozen=True)
class Miss:
    """A variant that could not meet the tolerance: its distance from the target and the worst cell."""

    distance: float  # largest |score − target| over the columns, points
    column: int  # where it is furthest off
    cell: int  # the cell whose items are furthest from the bank's mean for that cell, in that column
    cell_distance: float  # signed points: Σ points_i (f_i − the cell's mean) over the variant's items there


def _equalities(p: Problem) -> LinearConstraint:
    n = len(p.points)
    rows = np.concatenate([p.area, len(p.area_points) + p.qtype])
    cols = np.concatenate([np.arange(n), np.arange(n)])
    data = np.concatenate([p.points, p.points])
    shape = (len(p.area_points) + len(p.type_points), n)
    rhs = np.concatenate([p.area_points, p.type_points])
    return LinearConstraint(csr_matrix(coo_matrix((data, (rows, cols)), shape=shape)), rhs, rhs)


def _clashes(p: Problem, extra: int = 0) -> list[LinearConstraint]:
    if not p.clashes:
        return []
    n = len(p.points)
    pairs = np.asarray(p.clashes)
    k = len(pairs)
    rows = np.repeat(np.arange(k), 2)
    matrix = coo_matrix((np.ones(2 * k), (rows, pairs.ravel())), shape=(k, n + extra))
    return [LinearConstraint(csr_matrix(matrix), 0, 1)]


def _padded(c: LinearConstraint, extra: int) -> LinearConstraint:
    a = c.A.tocoo()
    return LinearConstraint(csr_matrix(coo_matrix((a.data, (a.row, a.col)), shape=(a.shape[0], a.shape[1] + extra))),
                            c.lb, c.ub)


def solve(p: Problem, weights: np.ndarray, tolerance: float) -> tuple[np.ndarray | None, Miss | None]:
    """The chosen candidates (bool mask) and, when the tolerance was out of reach, how far it got.

    Returns ``(None, None)`` when no variant can hold the areas' and types' points at all.
    """
    n = len(p.points)
    score = p.points[:, None] * p.expected  # candidates × abilities
    balance = LinearConstraint(score.T, p.target - tolerance, p.target + tolerance)
    cost = -weights * p.points
    # first among the half of the candidates with the highest weights (a random half: a small, fast
    # program), then among all
    for upper in (np.where(weights >= np.quantile(weights, 1 - SHORTLIST), 1.0, 0.0), np.ones(n)):
        res = milp(cost, constraints=[_equalities(p), balance, *_clashes(p)], integrality=np.ones(n),
                   bounds=Bounds(0, upper), options={"mip_rel_gap": MIP_GAP})
        if res.x is not None:
            return res.x > 0.5, None
    # minimise the largest distance d: -d <= score·x - target <= d (the weights only break ties)
    k = len(p.target)
    dist = np.concatenate([score.T, -score.T])
    d_col = -np.ones((2 * k, 1))
    upper = LinearConstraint(np.hstack([dist, d_col]), -np.inf, np.concatenate([p.target, -p.target]))
    cost2 = np.concatenate([cost * 1e-6, [1.0]])
    res = milp(cost2, constraints=[_padded(_equalities(p), 1), upper, *_clashes(p, 1)],
               integrality=np.concatenate([np.ones(n), [0]]), bounds=Bounds(0, np.concatenate([np.ones(n), [np.inf]])),
               options={"mip_rel_gap": 1e-4})
    if res.x is None:
        return None, None
    chosen = res.x[:n] > 0.5
    got = score[chosen].sum(axis=0)
    worst = int(np.argmax(np.abs(got - p.target)))
    off = np.bincount(p.cell[chosen], weights=(p.points * (p.expected[:, worst] - p.cell_mean[p.cell, worst]))[chosen],
                      minlength=len(p.cell_mean))
    cell = int(np.argmax(np.abs(off)))
    return chosen, Miss(float(np.abs(got - p.target).max()), worst, cell, float(off[cell]))
