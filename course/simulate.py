"""``course simulate``: a synthetic cohort answering through the real nbgrader pipeline.

Learners answer by a two-parameter logistic (2PL) model: learner ability θ
(normal, shifted a little by region and department) against item difficulty
b (from the question's mastery level: 了解 easy … 熟练掌握 hard) and
discrimination a, P(correct) = 1 / (1 + exp(−1.7·a·(θ − b))). Wrong answers
pick plausible distractors; some learners skip whole chapters or single
questions. Answers are saved exactly as the widgets save them, then fetched,
submitted and collected through nbgrader's exchange. Case questions are
answered in text; :func:`hand_grade` then plays the instructor in formgrader.

All names are synthetic; no real person or figure is involved.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm

from course import learners, workflow
from course import model as m
from course.analytics.roster import COLUMNS, write_roster
from course.loader import Course
from course.nbconfig import course_config, db_url

REGIONS = {"华东": 0.25, "华南": 0.1, "华北": 0.0, "西南": -0.15, "西北": -0.25, "东北": -0.1}
DEPARTMENTS = {"政企客户部": 0.15, "行业拓展部": 0.0, "商业客户部": -0.1}
DIFFICULTY = {"了解": -1.0, "熟悉": -0.4, "掌握": 0.2, "熟练掌握": 0.7}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


@dataclass(frozen=True)
class Settings:
    learners: int = 30
    seed: int = 2026
    skip_chapter: float = 0.05  # chance a learner submits nothing for a chapter
    skip_question: float = 0.03  # chance a single question is left unanswered


def make_roster(course: Course, settings: Settings) -> pd.DataFrame:
    rng = np.random.default_rng(settings.seed)
    levels = [lv.id for lv in course.levels.levels]
    rows = []
    for i in range(settings.learners):
        name = SURNAMES[rng.integers(len(SURNAMES))] + GIVEN[rng.integers(len(GIVEN))]
        rows.append({"learner_id": f"sim{i + 1:04d}", "name": name,
                     "region": list(REGIONS)[rng.integers(len(REGIONS))],
                     "department": list(DEPARTMENTS)[rng.integers(len(DEPARTMENTS))],
                     "target_level": levels[rng.integers(len(levels))]})
    return pd.DataFrame(rows, columns=list(COLUMNS)).set_index("learner_id")


def abilities(roster: pd.DataFrame, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed + 1)
    return {
        learner: float(rng.normal(0.3, 1.0) + REGIONS[row.region] + DEPARTMENTS[row.department])
        for learner, row in roster.iterrows()
    }


def item_parameters(course: Course, seed: int) -> dict[str, tuple[float, float]]:
    """(a, b) per question: discrimination and difficulty."""
    rng = np.random.default_rng(seed + 2)
    return {q.id: (float(rng.lognormal(0.0, 0.3)), DIFFICULTY[q.mastery] + float(rng.normal(0, 0.6)))
            for q in course.questions}


def p_correct(theta: float, a: float, b: float) -> float:
    return 1.0 / (1.0 + math.exp(-1.7 * a * (theta - b)))


def respond(q: m.Question, p: float, rng: np.random.Generator) -> Any:
    """One simulated answer in the form the widget saves."""
    right = bool(rng.random() < p)
    if isinstance(q, m.SingleChoice):
        wrong = [k for k in q.options if k != q.answer]
        # Distractors are not equally attractive: the first listed draws most.
        weights = np.array([2.0 ** -i for i in range(len(wrong))])
        return q.answer if right else wrong[rng.choice(len(wrong), p=weights / weights.sum())]
    if isinstance(q, m.MultipleChoice):
        if right:
            return sorted(q.answer)
        keep = [k for k in q.answer if rng.random() < 0.6]
        extra = [k for k in q.options if k not in q.answer and rng.random() < 0.3]
        return sorted(set(keep + extra)) or [next(iter(q.options))]
    if isinstance(q, m.TrueFalse):
        return q.answer if right else not q.answer
    if isinstance(q, m.FillBlank):
        return [alts[0] if rng.random() < p else "不清楚" for alts in q.blanks]
    if isinstance(q, m.Ordering):
        order = list(q.answer)
        if not right:
            i, j = rng.choice(len(order), size=2, replace=False)
            order[i], order[j] = order[j], order[i]
        return order
    if isinstance(q, m.Matching):
        keys = list(q.options)
        return {p_: (k if rng.random() < p else keys[rng.integers(len(keys))]) for p_, k in q.answer.items()}
    return (q.reference or "我的分析：先了解客户需求，再提出方案并跟进。") if right else "先联系客户再说。"


def answers_for(course: Course, chapter: str, theta: float, params: dict[str, tuple[float, float]],
                settings: Settings, rng: np.random.Generator) -> dict[str, Any]:
    out = {}
    for q in course.questions_of(chapter):
        if rng.random() < settings.skip_question:
            continue
        a, b = params[q.id]
        out[q.id] = respond(q, p_correct(theta, a, b), rng)
    return out


def simulate(root: Path, course: Course, chapters: list[str], settings: Settings,
             progress: bool = True) -> pd.DataFrame:
    """Release ``chapters``, have the cohort answer and submit, collect; return the roster."""
    root = root.resolve()
    roster = make_roster(course, settings)
    theta = abilities(roster, settings.seed)
    params = item_parameters(course, settings.seed)
    rng = np.random.default_rng(settings.seed + 3)
    workflow.generate(root, chapters)
    workflow.release(root, chapters)
    with tempfile.TemporaryDirectory(prefix="simulated-homes-") as homes:
        jobs = [(s, c) for s in roster.index for c in chapters]
        for student, chapter in tqdm(jobs, desc="learners answer", unit="nb", disable=not progress):
            if rng.random() < settings.skip_chapter:
                continue
            home = Path(homes) / student
            folder = learners.fetch(root, chapter, student, home)
            learners.answer(folder, chapter, student, answers_for(course, chapter, theta[student], params,
                                                                  settings, rng))
            learners.submit(root, chapter, student, home)
    workflow.collect(root, chapters)
    write_roster(roster, root / "roster.csv")
    return roster


def grade_by_rubric(gb: Gradebook, q: m.CaseAnalysis, assignment: str, learner: str,
                    rng: np.random.Generator, met: float) -> bool:
    """Play a grader on one case answer: each rubric criterion met with chance ``met``.

    Only an answer waiting for a person is scored; a grade someone gave is never replaced.
    Returns whether a score was given.
    """
    try:
        grade = gb.find_grade(q.id, assignment, assignment, learner)
    except MissingEntry:
        return False
    if not grade.needs_manual_grade or grade.manual_score is not None:
        return False
    grade.manual_score = float(sum(r.points for r in q.rubric if rng.random() < met))
    grade.needs_manual_grade = False
    return True


def hand_grade(root: Path, course: Course, chapters: Iterable[str], seed: int = 2026) -> int:
    """Play the instructor in formgrader: give every case answer no one has graded yet a rubric score.

    A grade a person gave is never replaced, so running the demo in a real course folder is safe.
    """
    rng = np.random.default_rng(seed + 4)
    cases = [q for c in chapters for q in course.questions_of(c) if isinstance(q, m.CaseAnalysis)]
    graded = 0
    config = course_config(root)
    with Gradebook(db_url(root), course_id=config.CourseDirectory.course_id) as gb:
        for q in cases:
            for student in gb.students:
                graded += grade_by_rubric(gb, q, q.chapter, student.id, rng, met=0.6)
        gb.db.commit()
    return graded
