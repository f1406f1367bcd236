"""Eligibility (申报条件): training hours, 文化程度, and the configured further conditions.

Training records (CSV in UTF-8 or GBK, or .xlsx; :mod:`course.certification.csvfiles`)::

    learner_id,course,hours,date
    zhang.san,电信基础知识面授,6,2026-09-01

Applicant records (申报信息)::

    learner_id,years_in_post,held_level,education
    zhang.san,3,L4,大专

**What the seed gives.** 7.1 培训期限: the minimum training hours per level (levels.yaml);
6. 基本文化程度: 大专以上或同等学历（已有工作经验的人员可适当放低标准）. certification.yaml's
``education`` applies that rule (its waiver for experienced staff is a default) and its
``eligibility`` adds default conditions (years in post, holding the level below).

Imports check every row first and name every bad one (file, row, column, fix); a file with any
bad row imports nothing: unknown learner ids (unless ``allow_new``), a row given twice, hours
that are not a finite number between 0 and 1,000, dates that are not dates or lie in the future.
Training rows are added (a row already imported is refused); applicants are merged by learner
id (a newer row replaces that learner's record) unless ``replace``. Stores live under
``<root>/certification/``, written atomically; every import is audited
(:mod:`course.certification.imports`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from course.certification.config import Certification, Education
from course.certification.csvfiles import (
    Learners,
    date,
    duplicate,
    not_empty,
    number,
    read_checked,
    write_atomic,
)
from course.certification.imports import record_import, records_dir
from course.csvrows import key
from course.errors import InputFileError
from course.loader import Course

TRAINING_COLUMNS = ("learner_id", "course", "hours", "date")
APPLICANT_COLUMNS = ("learner_id", "years_in_post", "held_level", "education")
MAX_HOURS = 1000  # no single training record holds more; a larger value is a typing slip
MAX_YEARS = 60


def training_store(root: Path) -> Path:
    return records_dir(root) / "training.csv"


def applicant_store(root: Path) -> Path:
    return records_dir(root) / "applicants.csv"


def level_lookup(course: Course) -> dict[str, str]:
    """Level ids and titles (as a file's cells read: NFKC) → level id."""
    return {key(lv.id): lv.id for lv in course.levels.levels} | {key(lv.title): lv.id for lv in course.levels.levels}


def read_training(path: Path, learners: Learners | None = None, today: dt.date | None = None) -> pd.DataFrame:
    """Training records, hours as float and date as ISO text; InputFileError naming every bad row."""
    today = today or dt.date.today()
    who = learners or Learners(None, True, None)
    seen: dict[tuple[str, ...], int] = {}

    def check(row: int, rec: dict[str, str]) -> list[str]:
        problems = who.check(rec["learner_id"], row)
        problems += not_empty(rec, row, "course", "write the training course's name")
        hours, found = number(rec["hours"], row, "hours", maximum=MAX_HOURS, unit=" hours")
        problems += found
        if hours is not None:
            rec["hours"] = hours  # type: ignore[assignment]
        day, found = date(rec["date"], row, "date", today)
        problems += found
        if day is not None:
            rec["date"] = day
            problems += duplicate(seen, (rec["learner_id"], rec["course"], day), row,
                                  f"{rec['learner_id']} {rec['course']} {day}",
                                  "remove one of the rows; two sessions of one course on one day need different "
                                  "course names (e.g. 面授一（上午）)")
        return problems

    frame = read_checked(path, TRAINING_COLUMNS, check)
    frame["hours"] = frame["hours"].astype(float)
    return frame


def read_applicants(path: Path, course: Course, cert: Certification, learners: Learners | None = None
                    ) -> pd.DataFrame:
    """Applicant records indexed by learner id; InputFileError naming every bad row."""
    levels = level_lookup(course)
    ranks = {key(name): name for name in cert.education.ranks}
    seen: dict[tuple[str, ...], int] = {}
    who = learners or Learners(None, True, None)

    def check(row: int, rec: dict[str, str]) -> list[str]:
        learner = rec["learner_id"]
        problems = who.check(learner, row)
        if learner:
            problems += duplicate(seen, (learner,), row, f"learner '{learner}'", "keep one row per learner")
        years, found = number(rec["years_in_post"], row, "years_in_post", maximum=MAX_YEARS, unit=" years")
        problems += found
        if years is not None:
            rec["years_in_post"] = years  # type: ignore[assignment]
        held = rec["held_level"]
        if held and held not in levels:
            problems.append(f"row {row}, column held_level: '{held}' is not a level: use one of "
                            f"{', '.join(lv.id for lv in course.levels.levels)}, "
                            f"{', '.join(lv.title for lv in course.levels.levels)} or leave it empty")
        elif held:
            rec["held_level"] = levels[held]
        education = rec["education"]
        if not education:
            problems.append(f"row {row}, column education: is empty: write the highest 文化程度 "
                            f"(one of {', '.join(cert.education.ranks)})")
        elif education not in ranks:
            problems.append(f"row {row}, column education: '{education}' is not a 文化程度 of certification.yaml: "
                            f"use one of {', '.join(cert.education.ranks)}")
        else:
            rec["education"] = ranks[education]
        return problems

    frame = read_checked(path, APPLICANT_COLUMNS, check)
    frame["years_in_post"] = frame["years_in_post"].astype(float)
    return frame.set_index("learner_id")


@dataclass(frozen=True)
class Imported:
    """What an import did: rows in the file, records added, records replaced, records in the store now."""

    rows: int
    added: int
    replaced: int
    total: int


def _store_frame(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return frame.reset_index()[list(columns)] if frame.index.name else frame[list(columns)]


def import_training(root: Path, path: Path, learners: Learners, today: dt.date | None = None) -> Imported:
    """Add ``path``'s records to the store; a row already imported is refused. Nothing is imported on any problem."""
    new = read_training(path, learners, today)
    store = training_store(root)
    old = read_training(store) if store.exists() else new.iloc[0:0]
    known = {(r.learner_id, r.course, r.date) for r in old.itertuples(index=False)}
    dupes = [f"row {r.row}: {r.learner_id} {r.course} {r.date} is already imported: remove the row"
             for r in new.itertuples(index=False) if (r.learner_id, r.course, r.date) in known]
    if dupes:
        raise InputFileError(path, dupes)
    merged = pd.concat([_store_frame(old, TRAINING_COLUMNS), _store_frame(new, TRAINING_COLUMNS)], ignore_index=True)
    result = Imported(len(new), len(new), 0, len(merged))
    record_import(root, path, "training", lambda: write_atomic(merged, store),
                  {"行数": result.rows, "新增": result.added, "合计学时": float(new["hours"].sum())}, [])
    return result


def import_applicants(root: Path, path: Path, course: Course, cert: Certification, learners: Learners,
                      replace: bool = False) -> Imported:
    """Merge ``path``'s applicants into the store by learner id (``replace``: the file becomes the whole store)."""
    new = read_applicants(path, course, cert, learners)
    store = applicant_store(root)
    old = read_applicants(store, course, cert) if store.exists() else new.iloc[0:0]
    fields = ["years_in_post", "held_level", "education"]
    changes = []
    for learner in new.index.intersection(old.index):
        before, after = old.loc[learner, fields].to_dict(), new.loc[learner, fields].to_dict()
        if before != after:
            changes.append((str(learner), f"申报信息 {learner}", before, after))
    if replace:
        merged = new
        dropped = [str(x) for x in old.index.difference(new.index)]
        changes += [(x, f"申报信息 {x}（--replace 删除）", old.loc[x, fields].to_dict(), None) for x in dropped]
    else:
        merged = pd.concat([old[~old.index.isin(new.index)], new])
    merged = merged.sort_index()
    added = len(new.index.difference(old.index))
    result = Imported(len(new), added, len(changes), len(merged))
    record_import(root, path, "applicants", lambda: write_atomic(_store_frame(merged, APPLICANT_COLUMNS), store),
                  {"行数": result.rows, "新增": added, "更新": len(new) - added, "方式": "替换" if replace else "合并"},
                  changes)
    return result


def training_hours(training: pd.DataFrame) -> pd.Series:
    return training.groupby("learner_id")["hours"].sum()


def _holds(held: str, required: str, course: Course) -> bool:
    rank = {lv.id: lv.rank for lv in course.levels.levels}
    return bool(held) and rank.get(held, 0) >= rank[required]


def education_rule(rule: Education) -> str:
    """The rule in words, as every 未通过 for it quotes it."""
    text = f"要求{rule.minimum}以上或同等学历"
    if rule.waiver:
        text += f"；任职满{rule.waiver.min_years_in_post:g}年者可放宽至{rule.waiver.minimum}以上"
    return text


def education_problem(rule: Education, education: str, years: float) -> str:
    """Why ``education`` does not meet the rule (empty: it does)."""
    rank = rule.ranks[education]
    if rank >= rule.ranks[rule.minimum]:
        return ""
    if rule.waiver and years >= rule.waiver.min_years_in_post and rank >= rule.ranks[rule.waiver.minimum]:
        return ""
    return f"文化程度不符合申报条件（{education}；{education_rule(rule)}）"


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
        education = ""
        if info is None:
            reasons.append("缺少申报信息（文化程度、任职年限、已获等级）")
        else:
            education = str(info["education"])
            years = float(info["years_in_post"])
            problem = education_problem(cert.education, education, years)
            if problem:
                reasons.append(problem)
            if years < rule.min_years_in_post:
                reasons.append(f"任职年限不足（{years:g}/{rule.min_years_in_post:g}年）")
            if rule.requires_level and not _holds(str(info["held_level"] or ""), rule.requires_level, course):
                reasons.append(f"未取得{levels[rule.requires_level].title}证书")
        rows.append({"learner": learner, "target_level": level, "hours": got, "education": education,
                     "eligible": not reasons, "eligibility_reason": "；".join(reasons)})
    return pd.DataFrame(rows, columns=["learner", "target_level", "hours", "education", "eligible",
                                       "eligibility_reason"])
