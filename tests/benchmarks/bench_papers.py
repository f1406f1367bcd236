"""Benchmark: how equally hard are the learners' paper variants, before and after difficulty balancing?

Run:
    python -m tests.benchmarks.bench_papers [--learners 300] [--variants 300]

Repeats the table of issue 26 with the same simulator (``course.simulate``, seed 2026): a
simulated cohort answers every chapter (answers from ``simulate.answers_for``, placed as
``nbgrader collect`` leaves them, graded by ``course autograde``'s own function, case answers
scored as a grader would), ``course paper estimate``'s estimates are taken from that gradebook,
and per level ``--variants`` variants are drawn twice: without balancing (tolerance off) and
balanced (the shipped tolerance). Each variant is scored as the expected theory score of a
learner of ability θ under the simulator's own 2PL parameters (the truth the estimates never
see): Σ points × P(θ). Printed: mean, sd and range per level and θ, side by side, the 比重表
check of every variant, and the acceptance (sd at θ = 0 ≤ 0.75, range ≤ 3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

from course import workflow
from course.analytics.frames import read_grades
from course.certification import papers
from course.certification.blueprint import blueprint
from course.certification.config import load_certification
from course.certification.difficulty import estimate, responses_from_grades
from course.loader import load_course
from course.nbconfig import course_config, db_url
from course.simulate import Settings, item_parameters, p_correct
from tests.benchmarks.gradebook import hand_grade_cases, place_submissions
from tests.conftest import make_course_dir

THETAS = (-1.0, 0.0, 1.0)
SEED = 2026


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--variants", type=int, default=300)
    args = parser.parse_args()
    course = load_course()
    cert = load_certification(course)
    chapters = list(course.chapters)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cd = make_course_dir(Path(tmp) / "course", content=course.root)
        workflow.generate(cd.root, chapters)
        n = place_submissions(cd.root, course, chapters, Settings(learners=args.learners, seed=SEED))
        workflow.autograde(cd.root, course, chapters, progress=False)
        cases = hand_grade_cases(cd.root, course, SEED)
        t1 = time.perf_counter()
        grades = read_grades(db_url(cd.root), course_config(cd.root).CourseDirectory.course_id)
        as_of = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        est = estimate(course.questions, cert, responses_from_grades(grades, {}), as_of)
        t2 = time.perf_counter()
    sources = {s: sum(1 for i in est.items.values() if i.source == s) for s in ("grm", "facility", "prior")}
    print(f"cohort: {args.learners} learners × {len(chapters)} chapters = {n} graded submissions "
          f"({cases} case answers hand-scored), {t1 - t0:.0f} s")
    print(f"estimates from that gradebook: {est.respondents} respondents; graded response model {sources['grm']}, "
          f"facility {sources['facility']}, prior {sources['prior']} items; {t2 - t1:.0f} s")
    params = item_parameters(course, SEED)
    clash = papers.near_duplicates(list(course.questions), cert.near_duplicate_threshold)
    unbalanced = cert.model_copy(update={"balance": replace_tolerance(cert, 1e9)})
    print(f"\n{args.variants} variants per level; expected theory score (of 100) under the simulator's 2PL, "
          "mean / sd / range")
    print(f"{'level':5} {'θ':>4}  {'unbalanced':^30}  {'balanced (±' + f'{cert.balance.tolerance:g})':^30}")
    verdict = []
    for level in course.weights.tables:
        plan = blueprint(course, cert, level)
        rows = {}
        exact = True
        t3 = time.perf_counter()
        for name, c in (("unbalanced", unbalanced), ("balanced", cert)):
            scores = []
            for i in range(args.variants):
                v = papers.draw(course, c, plan, f"{level}-bench", str(SEED), f"learner{i:04d}", (), est, clash)
                areas: dict[str, float] = {}
                for qid in v.theory:
                    q = course.by_id[qid]
                    areas[course.area_of(q)] = areas.get(course.area_of(q), 0.0) + q.points
                exact &= areas == plan.area_points
                scores.append([sum(course.by_id[q].points * p_correct(t, *params[q]) for q in v.theory)
                               for t in THETAS])
            rows[name] = np.array(scores)
        per_draw = (time.perf_counter() - t3) / (2 * args.variants)
        for k, t in enumerate(THETAS):
            cells = []
            for name in ("unbalanced", "balanced"):
                s = rows[name][:, k]
                cells.append(f"{s.mean():5.1f} / {s.std(ddof=1):4.2f} / {s.min():5.1f}–{s.max():5.1f}")
            print(f"{level:5} {t:+4.0f}  {cells[0]:^30}  {cells[1]:^30}")
        zero = rows["balanced"][:, THETAS.index(0.0)]
        sd, rng = zero.std(ddof=1), np.ptp(zero)
        ok = sd <= 0.75 and rng <= 3 and exact
        verdict.append(ok)
        print(f"{level:5} θ=0 balanced: sd {sd:.2f} (≤ 0.75), range {rng:.2f} (≤ 3); 比重表 exact on every variant: "
              f"{'yes' if exact else 'NO'}; {per_draw * 1000:.0f} ms a draw → {'met' if ok else 'NOT MET'}")
    print(f"\nacceptance: {'met at every level' if all(verdict) else 'NOT met'}")


def replace_tolerance(cert: object, tolerance: float) -> object:
    balance = cert.balance  # type: ignore[attr-defined]
    return balance.model_copy(update={"tolerance": tolerance})


if __name__ == "__main__":
    main()
