"""nbgrader's gradebook -> tidy pandas frames, read with one SQL query over nbgrader's schema.

Per-object ORM calls cost a round trip per grade; one join returns every
grade of the course at once, on SQLite or PostgreSQL alike (the URL comes
from the course configuration). Scores follow nbgrader's own rule: the
manual score if an instructor gave one, else the auto score, plus extra credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from course import model as m
from course.analytics.roster import UNREGISTERED
from course.errors import CourseError, SubmissionError
from course.grading.answers import answers_path, read_answers_file
from course.loader import Course

GRADES_SQL = sa.text("""
SELECT st.id            AS learner,
       a.name           AS chapter,
       bc.name          AS question,
       gc.max_score     AS max_score,
       g.auto_score     AS auto_score,
       g.manual_score   AS manual_score,
       g.extra_credit   AS extra_credit,
       g.needs_manual_grade AS needs_manual_grade,
       sa.timestamp     AS submitted_at
FROM grade g
JOIN grade_cells gc          ON gc.id = g.cell_id
JOIN base_cell bc            ON bc.id = g.cell_id
JOIN submitted_notebook sn   ON sn.id = g.notebook_id
JOIN submitted_assignment sa ON sa.id = sn.assignment_id
JOIN assignment a            ON a.id = sa.assignment_id
JOIN student st              ON st.id = sa.student_id
WHERE a.course_id = :course_id
""")


def read_grades(db_url: str, course_id: str) -> pd.DataFrame:
    """Every grade of the course, one row per learner × graded cell, as nbgrader stores it."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            frame = pd.read_sql(GRADES_SQL, conn, params={"course_id": course_id})
    except sa.exc.OperationalError as exc:
        raise CourseError(f"cannot read the gradebook at {db_url}: {exc.orig}; "
                          "run `course autograde` first or check COURSE_DB_URL") from None
    finally:
        engine.dispose()
    manual, auto = frame["manual_score"], frame["auto_score"]
    frame["score"] = manual.where(manual.notna(), auto) + frame["extra_credit"].fillna(0)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"])
    return frame


def question_frame(course: Course) -> pd.DataFrame:
    """One row per question with its place in the syllabus (the content side of the join)."""
    rows = []
    for q in course.questions:
        area = course.area_of(q)
        rows.append({
            "question": q.id, "chapter": q.chapter, "section": q.section, "type": q.type,
            "area": area, "area_title": course.leaf_areas[area].title,
            "top_area": course.top_area_of[area].title, "mastery": q.mastery,
            "points": float(q.points), "levels": tuple(course.levels_of(q)),
        })
    return pd.DataFrame(rows)


def scores_frame(grades: pd.DataFrame, course: Course, roster: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy scores: one row per learner × question, with content and roster columns."""
    questions = question_frame(course)
    graded = grades[grades["question"] != "setup"]
    unknown = sorted(set(graded["question"]) - set(questions["question"]))
    if unknown:
        raise CourseError(f"the gradebook has grades for questions not in the content: {', '.join(unknown[:10])}; "
                          "load the content version these assignments were generated from (--content)")
    frame = graded.drop(columns=["chapter"]).merge(questions, on="question", how="inner", validate="many_to_one")
    frame = _with_roster(frame, roster)
    cols = ["learner", "chapter", "question", "section", "type", "area", "area_title", "top_area", "mastery",
            "points", "score", "needs_manual_grade", "submitted_at", "levels", "name", "region", "department",
            "target_level"]
    return frame[cols].sort_values(["learner", "question"], ignore_index=True)


def _with_roster(frame: pd.DataFrame, roster: pd.DataFrame | None) -> pd.DataFrame:
    if roster is None:
        roster = pd.DataFrame(columns=["name", "region", "department", "target_level"]).rename_axis("learner_id")
    joined = frame.merge(roster, left_on="learner", right_index=True, how="left")
    for column in ("name", "region", "department"):
        joined[column] = joined[column].fillna(UNREGISTERED)
    return joined


def responses_frame(root: Path, course: Course, learners_chapters: list[tuple[str, str]]) -> pd.DataFrame:
    """Learners' raw answers to choice questions, read from the submitted answers files.

    Used for distractor analysis. A damaged file is left out of this frame
    only; its learner already scored 0 and was reported at autograde.
    """
    rows = []
    for learner, chapter in learners_chapters:
        try:
            answers = read_answers_file(answers_path(root / "submitted" / learner / chapter, chapter), chapter)
        except SubmissionError:
            continue
        for q in course.questions_of(chapter):
            if isinstance(q, m.SingleChoice | m.MultipleChoice | m.TrueFalse):
                rows.append({"learner": learner, "chapter": chapter, "question": q.id, "type": q.type,
                             "response": answers.get(q.id)})
    return pd.DataFrame(rows, columns=["learner", "chapter", "question", "type", "response"])


def choice_options(course: Course) -> tuple[dict[str, dict[str, str]], dict[str, str | list[str]]]:
    """Option texts and keys of choice questions (the instructor side only)."""
    options: dict[str, dict[str, str]] = {}
    keys: dict[str, str | list[str]] = {}
    for q in course.questions:
        if isinstance(q, m.SingleChoice | m.MultipleChoice):
            options[q.id] = dict(q.options)
            keys[q.id] = q.answer if isinstance(q, m.SingleChoice) else list(q.answer)
    return options, keys


@dataclass(frozen=True)
class Cohort:
    """Everything the analytics notebooks read, already filtered."""

    course: Course
    scores: pd.DataFrame
    responses: pd.DataFrame
    roster: pd.DataFrame | None


def filter_scores(scores: pd.DataFrame, *, region: str | None = None, since: str | None = None,
                  until: str | None = None, chapters: list[str] | None = None) -> pd.DataFrame:
    """Restrict to one region (cohort), a submission date range and some chapters."""
    keep = np.ones(len(scores), dtype=bool)
    if region:
        keep &= (scores["region"] == region).to_numpy()
    if since:
        keep &= (scores["submitted_at"] >= pd.Timestamp(since)).to_numpy()
    if until:
        keep &= (scores["submitted_at"] < pd.Timestamp(until) + pd.Timedelta(days=1)).to_numpy()
    if chapters:
        keep &= scores["chapter"].isin(chapters).to_numpy()
    return scores[keep].reset_index(drop=True)


def load_cohort(root: Path | str = ".", *, content: Path | str | None = None, roster_csv: Path | str | None = None,
                region: str | None = None, since: str | None = None, until: str | None = None,
                chapters: list[str] | None = None) -> Cohort:
    """The one call an analytics notebook makes: gradebook + content + roster, filtered."""
    from course.analytics.roster import read_roster
    from course.loader import load_course
    from course.nbconfig import course_config, db_url

    root = Path(root).resolve()
    course = load_course(Path(content) if content else None)
    roster = read_roster(Path(roster_csv), course) if roster_csv else None
    course_id = course_config(root).CourseDirectory.course_id
    scores = scores_frame(read_grades(db_url(root), course_id), course, roster)
    scores = filter_scores(scores, region=region, since=since, until=until, chapters=chapters)
    pairs = sorted(set(zip(scores["learner"], scores["chapter"], strict=True)))
    return Cohort(course, scores, responses_frame(root, course, pairs), roster)
