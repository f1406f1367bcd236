"""Eligibility (申报条件): training hours against the level's 标准学时, and the configured further conditions.

Training records CSV (UTF-8)::

    learner_id,course,hours,date
    zhang.san,电信基础知识面授,6,2026-09-01

Applicant records CSV (optional; the further 申报条件 of certification.yaml)::

    learner_id,years_in_post,held_level
    zhang.san,3,L4

Imports check every row first and name every bad one (file, row, column, fix);
a file with any bad row imports nothing. Imported records are kept under
``<root>/certification/`` and written atomically.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from course.certification.config import Certification
from course.certification.csvfiles import number, read_checked, read_rows, write_atomic
from course.errors import InputFileError
from course.loader import Course

TRAINING_COLUMNS = ("learner_id", "course", "hours", "date")
APPLICANT_COLUMNS = ("learner_id", "years_in_post", "held_level")


def records_dir(root: Path) -> Path:
    return root / "certification"


def training_store(root: Path) -> Path:
    return records_dir(root) / "training.csv"


def applicant_store(root: Path) -> Path:
    return records_dir(root) / "applicants.csv"


def _level_ids(course: Course) -> dict[str, str]:
    return {lv.id: lv.id for lv in course.levels.levels} | {lv.title: lv.id for lv in course.levels.levels}


def read_training(path: Path) -> pd.DataFrame:
    """Training records, hours as float and date as ISO text; InputFileError naming every bad row."""

    def check(row: int, rec: dict[str, str]) -> list[str]:
        problems = []
        if not rec["learner_id"]:
            problems.append(f"row {row}, column learner_id: is empty: fill in the learner id")
        if not rec["course"]:
            problems.append(f"row {row}, column course: is empty: write the training course's name")
        hours, found = number(rec["hours"], row, "hours")
        problems += found
        if hours is not None:
            rec["hours"] = hours  # type: ignore[assignment]
        try:
            rec["date"] = dt.date.fromisoformat(rec["date"]).isoformat()
        except ValueError:
            problems.append(f"row {row}, column date: '{rec['date']}' is not a date: write YYYY-MM-DD")
        return problems

    frame = read_checked(path, TRAINING_COLUMNS, check)
    frame["hours"] = frame["hours"].astype(float)
    return frame


def read_applicants(path: Path, course: Course) -> pd.DataFrame:
    levels = _level_ids(course)
    seen: dict[str, int] = {}

    def check(row: int, rec: dict[str, str]) -> list[str]:
        problems = []
        learner = rec["learner_id"]
        if not learner:
            problems.append(f"row {row}, column learner_id: is empty: fill in the learner id")
        elif learner in seen:
            problems.append(f"row {row}, column learner_id: '{learner}' is listed again (first on row "
                            f"{seen[learner]}): keep one row")
        else:
            seen[learner] = row
        years, found = number(rec["years_in_post"], row, "years_in_post")
        problems += found
        if years is not None:
            rec["years_in_post"] = years  # type: ignore[assignment]
        held = rec["held_level"]
        if held and held not in levels:
            problems.append(f"row {row}, column held_level: '{held}' is not a level: use one of "
                            f"{', '.join(levels)} or leave it empty")
        elif held:
            rec["held_level"] = levels[held]
        return problems

    frame = read_checked(path, APPLICANT_COLUMNS, check)
    frame["years_in_post"] = frame["years_in_post"].astype(float)
    return frame.set_index("learner_id")


def import_training(root: Path, path: Path) -> pd.DataFrame:
    """Add ``path``'s records to the store; a row already imported is an error. Returns the whole store."""
    new = read_training(path)
    store = training_store(root)
    old = read_training(store) if store.exists() else new.iloc[0:0]
    key = ["learner_id", "course", "date"]
    known = {tuple(r) for r in old[key].itertuples(index=False)}
    numbers = [n for n, _ in read_rows(path, TRAINING_COLUMNS)]  # the file's row numbers, blank lines skipped
    dupes = [f"row {n}: {r.learner_id} {r.course} {r.date} is already imported: remove the row"
             for n, r in zip(numbers, new.itertuples(index=False), strict=True)
             if (r.learner_id, r.course, r.date) in known]
    if dupes:
        raise InputFileError(path, dupes)
    merged = pd.concat([old, new], ignore_index=True)
    write_atomic(merged, store)
    return merged


def import_applicants(root: Path, path: Path, course: Course) -> pd.DataFrame:
    """Replace the applicant records with ``path``'s (after every row is checked)."""
    frame = read_applicants(path, course)
    write_atomic(frame.reset_index(), applicant_store(root))
    return frame


def training_hours(training: pd.DataFrame) -> pd.Series:
    return training.groupby("learner_id")["hours"].sum()


def _holds(held: str, required: str, course: Course) -> bool:
    rank = {lv.id: lv.rank for lv in course.levels.levels}
    return bool(held) and rank.get(held, 0) >= rank[required]


def eligibility(course: Course, cert: Certification, targets: pd.Series, training: pd.DataFrame,
                applicants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per learner (``targets``: learner id -> target level id): hours, eligible, and the reasons if not."""
    levels = {lv.id: lv for lv in course.levels.levels}
    hours = training_hours(training)
    rows = []
    for learner, level in targets.items():
        got = float(hours.get(learner, 0.0))
        need = levels[level].min_training_hours
        reasons = []
        if got < need:
            reasons.append(f"培训学时不足（{got:g}/{need}学时）")
        rule = cert.eligibility[level]
        info = applicants.loc[learner] if applicants is not None and learner in applicants.index else None
        if rule.min_years_in_post > 0 or rule.requires_level:
            if info is None:
                reasons.append("缺少申报信息（任职年限、已获等级）")
            else:
                if float(info["years_in_post"]) < rule.min_years_in_post:
                    reasons.append(f"任职年限不足（{float(info['years_in_post']):g}/{rule.min_years_in_post:g}年）")
                if rule.requires_level and not _holds(str(info["held_level"] or ""), rule.requires_level, course):
                    reasons.append(f"未取得{levels[rule.requires_level].title}证书")
        rows.append({"learner": learner, "target_level": level, "hours": got, "eligible": not reasons,
                     "eligibility_reason": "；".join(reasons)})
    return pd.DataFrame(rows, columns=["learner", "target_level", "hours", "eligible", "eligibility_reason"])
