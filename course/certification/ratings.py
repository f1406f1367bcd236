"""Competency ratings: managers rate each learner on the model's items at four levels (初级/中级/高级/资深).

CSV (UTF-8 or GBK) or .xlsx, one row per learner × item; ``competency`` is an item id or its
title, ``level`` a competency level id or its title, ``rater`` who rated (never empty)::

    learner_id,competency,level,rater
    zhang.san,成就导向,中级,李经理

Only items with ``assessed_by: rating`` are rated (the exam-assessed item is
measured by the theory paper). Every bad row is named; nothing is half-imported. A later
rating of a learner's item replaces the earlier one, and the audit trail keeps both.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from course.certification.config import Certification
from course.certification.csvfiles import Learners, duplicate, not_empty, read_checked, write_atomic
from course.certification.imports import record_import
from course.csvrows import key
from course.loader import Course

COLUMNS = ("learner_id", "competency", "level", "rater")


def rated_items(course: Course) -> list[str]:
    return [c.id for c in course.competencies.items if c.assessed_by == "rating"]


def level_rank(course: Course) -> dict[str, int]:
    return {lv.id: lv.rank for lv in course.competencies.levels}


def ratings_store(root: Path) -> Path:
    return root / "certification" / "ratings.csv"


def read_ratings(path: Path, course: Course, learners: Learners | None = None) -> pd.DataFrame:
    """Ratings frame (learner_id, competency id, level id, rater); InputFileError naming every bad row."""
    items = {c.id: c for c in course.competencies.items}
    names = {key(c.id): c.id for c in items.values()} | {key(c.title): c.id for c in items.values()}
    levels = {key(lv.id): lv.id for lv in course.competencies.levels} | {
        key(lv.title): lv.id for lv in course.competencies.levels}
    first: dict[tuple[str, ...], int] = {}
    who = learners or Learners(None, True, None)

    def check(row: int, rec: dict[str, str]) -> list[str]:
        problems = who.check(rec["learner_id"], row)
        item = names.get(rec["competency"])
        if item is None:
            problems.append(f"row {row}, column competency: '{rec['competency']}' is not an item of the "
                            "competency model: use an id or title from competencies.yaml (e.g. 成就导向)")
        elif items[item].assessed_by != "rating":
            problems.append(f"row {row}, column competency: '{rec['competency']}' is assessed by the exam, "
                            "not rated: remove the row")
        else:
            rec["competency"] = item
            problems += duplicate(first, (rec["learner_id"], item), row,
                                  f"the rating of {rec['learner_id']} on {items[item].title}", "keep one row")
        if rec["level"] not in levels:
            problems.append(f"row {row}, column level: '{rec['level']}' is not a competency level: use one of "
                            f"{', '.join(lv.title for lv in course.competencies.levels)}")
        else:
            rec["level"] = levels[rec["level"]]
        problems += not_empty(rec, row, "rater", "write who rated (e.g. 李经理)")
        return problems

    return read_checked(path, COLUMNS, check)[list(COLUMNS)]


def import_ratings(root: Path, path: Path, course: Course, learners: Learners | None = None) -> pd.DataFrame:
    """Merge ``path``'s ratings into the store (a new rating of a learner's item replaces the old one)."""
    new = read_ratings(path, course, learners)
    store = ratings_store(root)
    old = read_ratings(store, course) if store.exists() else new.iloc[0:0]
    before = {(r.learner_id, r.competency): (r.level, r.rater) for r in old.itertuples(index=False)}
    titles = {c.id: c.title for c in course.competencies.items}
    changes = [(r.learner_id, f"能力素质评定 {r.learner_id} {titles[r.competency]}",
                {"级别": before[k][0], "评定人": before[k][1]}, {"级别": r.level, "评定人": r.rater})
               for r in new.itertuples(index=False)
               if (k := (r.learner_id, r.competency)) in before and before[k] != (r.level, r.rater)]
    merged = pd.concat([old, new], ignore_index=True).drop_duplicates(["learner_id", "competency"], keep="last")
    merged = merged.sort_values(["learner_id", "competency"], ignore_index=True)
    record_import(root, path, "ratings", lambda: write_atomic(merged, store),
                  {"行数": len(new), "新增": len(merged) - len(old), "更新": len(changes)}, changes)
    return merged


def profiles(ratings: pd.DataFrame, course: Course) -> pd.DataFrame:
    """Learner × rated item, the rank (1–4) of the rating; NaN where not rated."""
    rank = level_rank(course)
    wide = ratings.assign(rank=ratings["level"].map(rank)).pivot(
        index="learner_id", columns="competency", values="rank")
    return wide.reindex(columns=rated_items(course)).astype(float)


def required_rank(course: Course, cert: Certification, level: str) -> int:
    return level_rank(course)[cert.competency[level].min_level]


def competency_check(course: Course, cert: Certification, targets: pd.Series,
                     ratings: pd.DataFrame) -> pd.DataFrame:
    """Per learner: whether the profile meets the target level's requirement, and why not.

    Met: every rated item at or above the required level, except at most
    ``items_below`` items exactly one level lower. Unrated items fail.
    """
    wide = profiles(ratings, course)
    titles = {c.id: c.title for c in course.competencies.items}
    rows = []
    for learner, level in targets.items():
        need = required_rank(course, cert, level)
        allowed = cert.competency[level].items_below
        profile = wide.loc[learner] if learner in wide.index else pd.Series(dtype=float)
        missing = [i for i in rated_items(course) if pd.isna(profile.get(i))]
        low = [i for i in rated_items(course) if i not in missing and profile[i] < need]
        far = [i for i in low if profile[i] < need - 1]
        if len(missing) == len(rated_items(course)):
            met, reason = None, "能力素质未评定"
        elif missing:
            met, reason = False, f"能力素质未评完（缺{len(missing)}项：{'、'.join(titles[i] for i in missing[:3])}）"
        elif far or len(low) > allowed:
            met, reason = False, (f"能力素质未达标（{len(low)}项低于要求：{'、'.join(titles[i] for i in low[:3])}"
                                  f"{'等' if len(low) > 3 else ''}）")
        else:
            met, reason = True, ""
        rows.append({"learner": learner, "competency_met": met, "competency_reason": reason,
                     "items_below": len(low)})
    return pd.DataFrame(rows, columns=["learner", "competency_met", "competency_reason", "items_below"])


def cohort_gaps(course: Course, cert: Certification, targets: pd.Series, ratings: pd.DataFrame) -> pd.DataFrame:
    """Per rated item: mean gap (required − rated rank, 0 when met) and share of learners below requirement."""
    wide = profiles(ratings, course).reindex(index=list(targets.index))
    need = pd.Series({x: required_rank(course, cert, lv) for x, lv in targets.items()}, dtype=float)
    gap = (-wide.sub(need, axis=0)).clip(lower=0)
    titles = {c.id: c.title for c in course.competencies.items}
    return pd.DataFrame({
        "competency": wide.columns, "title": [titles[c] for c in wide.columns],
        "mean_gap": gap.mean().to_numpy(), "share_below": (gap > 0).sum().to_numpy() / max(len(wide), 1),
        "rated": wide.notna().sum().to_numpy(),
    }).sort_values("mean_gap", ascending=False, ignore_index=True)
