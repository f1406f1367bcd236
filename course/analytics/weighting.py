"""Knowledge-weight scoring against the 比重表 of each certification level.

* mastery of a learner in an area = earned ÷ possible points of the area's
  graded questions that serve the level;
* weighted score of a learner for a level = Σ weight(area) × mastery(area),
  with the level's 比重表 in percent, so the score is on 0–100;
* training priority of an area = weight × (1 − cohort mastery), the cohort
  mastery pooled over learners (Σ earned ÷ Σ possible).

A question awaiting a manual grade (score NaN) counts in neither earned nor
possible; an area a learner has no graded question in has mastery 0 for
the weighted score (unmeasured knowledge earns no credit) and is marked.

Extra credit (nbgrader's ``extra_credit``, added to the score) is stated, not hidden:
``area_mastery`` keeps it, so a mastery may exceed 1 and shows where it came from;
it counts toward the weighted score (making up for points lost elsewhere, as in
nbgrader's own total), but the weighted score is capped at ``MAX_WEIGHTED_SCORE``
= 100: however much extra credit, no one scores above full marks (two areas at
double credit give 100, not 200). A training priority never goes below 0.
"""

from __future__ import annotations

import pandas as pd

from course.loader import Course

MAX_WEIGHTED_SCORE = 100.0


def area_mastery(scores: pd.DataFrame, level: str) -> pd.DataFrame:
    """Per learner × area: earned, possible, mastery for questions serving ``level``."""
    keep = scores["levels"].map(lambda lv: level in lv) & scores["score"].notna()
    served = scores.loc[keep, ["learner", "area", "score", "points"]]  # only these columns: 4 of 18, millions of rows
    grouped = served.groupby(["learner", "area"], as_index=False).agg(
        earned=("score", "sum"), possible=("points", "sum"))
    grouped["mastery"] = grouped["earned"] / grouped["possible"]
    return grouped


def weights_frame(course: Course, level: str) -> pd.DataFrame:
    """The level's 比重表, areas in the content's order (the one order of every page), whatever the table's."""
    table = course.weights.tables[level]
    areas = [a for a in course.leaf_areas if a in table]
    return pd.DataFrame({
        "area": areas,
        "area_title": [course.leaf_areas[a].title for a in areas],
        "weight": [float(table[a]) for a in areas],
    })


def weighted_scores(scores: pd.DataFrame, course: Course, level: str) -> pd.DataFrame:
    """Per learner: the weighted score (0–100) for ``level`` and whether every weighted area was measured.

    Σ weight × mastery, clipped to 0..``MAX_WEIGHTED_SCORE`` (extra credit cannot lift it past 100).
    """
    mastery = area_mastery(scores, level)
    weights = weights_frame(course, level)
    learners = pd.Index(sorted(scores["learner"].unique()), name="learner")
    wide = mastery.pivot(index="learner", columns="area", values="mastery").reindex(
        index=learners, columns=weights["area"])
    measured = wide.notna() | (weights.set_index("area")["weight"] == 0)
    score = (wide.fillna(0) * weights.set_index("area")["weight"]).sum(axis=1).clip(0.0, MAX_WEIGHTED_SCORE)
    return pd.DataFrame({"learner": learners, "level": level, "weighted_score": score.to_numpy(),
                         "complete": measured.all(axis=1).to_numpy()})


def all_levels(scores: pd.DataFrame, course: Course) -> pd.DataFrame:
    """Weighted scores of every learner for every level, long format."""
    return pd.concat([weighted_scores(scores, course, lv.id) for lv in course.levels.levels], ignore_index=True)


def pass_status(weighted: pd.DataFrame, pass_mark: float) -> pd.DataFrame:
    out = weighted.copy()
    out["passed"] = out["weighted_score"] >= pass_mark
    return out


def cohort_mastery(scores: pd.DataFrame, course: Course, level: str) -> pd.DataFrame:
    """Per area: pooled cohort mastery next to the level's weight (both 0–100)."""
    mastery = area_mastery(scores, level)
    pooled = mastery.groupby("area")[["earned", "possible"]].sum()
    weights = weights_frame(course, level)
    weights["mastery"] = (pooled["earned"] / pooled["possible"]).reindex(weights["area"]).to_numpy() * 100
    return weights


def training_priority(scores: pd.DataFrame, course: Course, level: str) -> pd.DataFrame:
    """Per area: weight × (1 − cohort mastery), largest first — where training pays most.

    A mastery above 100 (extra credit) counts as 100, so the priority is never negative.
    """
    frame = cohort_mastery(scores, course, level)
    frame["priority"] = frame["weight"] * (1 - frame["mastery"].fillna(0).clip(upper=100) / 100)
    return frame.sort_values("priority", ascending=False, ignore_index=True)


def pass_rates(passed: pd.DataFrame, roster_scores: pd.DataFrame, by: str) -> pd.DataFrame:
    """Pass rate and n per group (``by`` a roster column: region, department, target_level)."""
    groups = roster_scores.drop_duplicates("learner").set_index("learner")[by]
    joined = passed.set_index("learner").join(groups)
    out = joined.groupby(by)["passed"].agg(pass_rate="mean", n="size").reset_index()
    return out.rename(columns={by: "group"}).sort_values("pass_rate", ascending=False, ignore_index=True)
