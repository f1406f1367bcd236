"""One simulated certification round on a demo course folder (called by ``course demo``).

After the chapters are graded: synthetic training, applicant and rating records
are written as CSV and imported through the same checks as real ones; each
level's learners get a paper (one nbgrader assignment per learner variant),
the simulated cohort answers and submits through nbgrader's exchange, papers
are autograded with ``workflow.autograde`` and their case answers hand-graded;
then the round runs (:mod:`course.certification.rounds`): decisions recorded, the Excel
results list, notices and certificates written.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from nbgrader.api import Gradebook
from tqdm import tqdm

from course import learners, workflow
from course import model as m
from course.analytics.roster import read_roster
from course.certification import eligibility, manifest, papers, ratings
from course.certification.certificates import LOCAL_VERIFY_URL
from course.certification.config import load_certification
from course.certification.csvfiles import Learners
from course.certification.rounds import run_round
from course.loader import Course
from course.nbconfig import course_config, db_url
from course.simulate import abilities, grade_by_rubric, item_parameters, p_correct, respond


@dataclass(frozen=True)
class DemoRound:
    excel: Path
    certificates_dir: Path
    certified: int
    learners: int
    papers: list[str]


def synthetic_records(course: Course, roster: pd.DataFrame, seed: int, folder: Path) -> tuple[Path, Path, Path]:
    """Training, applicant and rating CSVs for a simulated cohort (mostly meeting the defaults)."""
    cert = load_certification(course)
    rng = np.random.default_rng(seed + 7)
    levels = {lv.id: lv for lv in course.levels.levels}
    below = {lv.id: rule.requires_level for lv in course.levels.levels for rule in [cert.eligibility[lv.id]]}
    training, applicants, rated = [], [], []
    comp_levels = sorted(course.competencies.levels, key=lambda x: x.rank)
    # only values this course's certification.yaml ranks (a smaller course may know fewer)
    educations = [e for e in ("大专", "本科", "本科", "硕士", "高中") if e in cert.education.ranks]
    for learner, row in roster.iterrows():
        level = row["target_level"]
        total = levels[level].min_training_hours + int(rng.integers(-2, 12))
        for i, part in enumerate((0.5, 0.3, 0.2)):
            training.append({"learner_id": learner, "course": f"岗位技能培训第{i + 1}期",
                             "hours": round(total * part, 1),
                             "date": (dt.date.today() - dt.timedelta(days=90 - 30 * i)).isoformat()})
        held = below[level] if rng.random() < 0.9 else ""
        education = str(rng.choice(educations))
        applicants.append({"learner_id": learner, "years_in_post": int(rng.integers(1, 9)), "held_level": held or "",
                           "education": education})
        need = ratings.required_rank(course, cert, level)
        for item in ratings.rated_items(course):
            rank = int(np.clip(need + rng.choice([-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]), 1, len(comp_levels)))
            rated.append({"learner_id": learner, "competency": item, "level": comp_levels[rank - 1].title,
                          "rater": "模拟主管"})
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "demo-training.csv", folder / "demo-applicants.csv", folder / "demo-ratings.csv")
    for frame, path in zip((training, applicants, rated), paths, strict=True):
        pd.DataFrame(frame).to_csv(path, index=False, encoding="utf-8")
    return paths


def hand_grade_papers(root: Path, course: Course, manifests: list[dict], seed: int) -> int:
    """Play the instructor: a rubric score for every case answer of a paper awaiting a grade."""
    rng = np.random.default_rng(seed + 8)
    graded = 0
    with Gradebook(db_url(root), course_id=course_config(root).CourseDirectory.course_id) as gb:
        for data in manifests:
            for learner, variant in data["variants"].items():
                for qid in variant["skills"]:
                    q = course.by_id[qid]
                    assert isinstance(q, m.CaseAnalysis)
                    graded += grade_by_rubric(gb, q, variant["assignment"], learner, rng, met=0.75)
        gb.db.commit()
    return graded


PREPARED = 1.0  # simulated candidates sit the exam after their training: ability shifted up (logits)


def demo_round(root: Path, course: Course, *, paper_suffix: str = "demo", seed: int = 2026,
               progress: bool = True, round_id: str = "demo") -> DemoRound:
    """Run one certification round on ``root`` (which holds ``roster.csv``); return where the outputs are."""
    root = root.resolve()
    cert = load_certification(course)
    roster = read_roster(root / "roster.csv", course)
    store = eligibility.records_dir(root)
    for path in (eligibility.training_store(root), eligibility.applicant_store(root), ratings.ratings_store(root)):
        path.unlink(missing_ok=True)  # a demo round starts from its own synthetic records
    training_csv, applicants_csv, ratings_csv = synthetic_records(course, roster, seed, store / "demo-input")
    known = Learners({str(x) for x in roster.index}, False, root / "roster.csv")
    eligibility.import_training(root, training_csv, known)
    eligibility.import_applicants(root, applicants_csv, course, cert, known)
    ratings.import_ratings(root, ratings_csv, course, known)

    made = []
    for level in [lv.id for lv in course.levels.levels]:
        group = [str(x) for x in roster.index[roster["target_level"] == level]]
        paper_id = f"{level}-{paper_suffix}"
        if group and not manifest.manifest_path(root, paper_id).exists():
            papers.create_paper(course, cert, root, paper_id, level, f"{seed}", group)
        if group:
            made.append(paper_id)
    manifests = [manifest.read_manifest(manifest.manifest_path(root, p)) for p in made]
    assignments = [v["assignment"] for d in manifests for v in d["variants"].values()]
    workflow.generate(root, assignments)
    workflow.release(root, assignments)
    theta = abilities(roster, seed)
    params = item_parameters(course, seed)
    rng = np.random.default_rng(seed + 9)
    with tempfile.TemporaryDirectory(prefix="simulated-papers-") as homes:
        jobs = [(learner, v) for d in manifests for learner, v in d["variants"].items()]
        for learner, variant in tqdm(jobs, desc="papers answered", unit="nb", disable=not progress):
            if rng.random() < 0.05:
                continue  # absent from the exam
            home = Path(homes) / learner
            folder = learners.fetch(root, variant["assignment"], learner, home)
            answers = {}
            for qid in variant["theory"] + variant["skills"]:
                a, b = params[qid]
                answers[qid] = respond(course.by_id[qid], p_correct(theta[learner] + PREPARED, a, b), rng)
            learners.answer(folder, variant["assignment"], learner, answers)
            learners.submit(root, variant["assignment"], learner, home)
    workflow.collect(root, assignments)
    workflow.autograde(root, course, assignments, progress=progress)
    hand_grade_papers(root, course, manifests, seed)
    # a demonstration links its certificates to this machine's hub unless the office's address is set
    run = run_round(root, course, round_id, papers=made, title="演示批次",
                    verify_url=os.environ.get("COURSE_VERIFY_URL") or LOCAL_VERIFY_URL)
    certified = int((run.results["结论"] == "通过").sum())
    assert run.excel is not None  # a round's first run decides every learner
    return DemoRound(run.excel, root / "certificates", certified, len(roster), made)
