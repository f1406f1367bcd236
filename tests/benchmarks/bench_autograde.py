"""Benchmark: `course autograde` (answers as data) against serial `nbgrader autograde` (a kernel per notebook).

Run:
    python -m tests.benchmarks.bench_autograde per-notebook [--submissions 100]
    python -m tests.benchmarks.bench_autograde cohort [--learners 1000] [--postgres]

per-notebook: the same collected submissions of jc01 in two copies of one
course folder, graded one after the other in one run.
cohort: learners × all 22 chapters, collected submissions (as `nbgrader
collect` leaves them: released notebook, answers file, timestamp) to the
gradebook; prints seconds per 1,000 submissions, peak memory and the
projection to a national cohort of 220,000 submissions.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course import workflow
from course.loader import load_course
from course.simulate import Settings
from tests.benchmarks.gradebook import place_submissions
from tests.conftest import make_course_dir


def place_cohort(root: Path, chapters: list[str], learners: int, seed: int = 2026) -> int:
    """Collected submissions of a simulated 2PL cohort (hard links to the released notebook)."""
    return place_submissions(root, load_course(), chapters, Settings(learners=learners, seed=seed, skip_chapter=0.0))


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    bindir = str(Path(sys.executable).parent)
    full = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), **(env or {})}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=full)
    return time.perf_counter() - start


def per_notebook(submissions: int, workers: int) -> None:
    chapter = "jc01"
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        kernel = make_course_dir(Path(tmp) / "kernel", content=load_course().root)
        workflow.generate(kernel.root, [chapter])
        n = place_cohort(kernel.root, [chapter], submissions)
        mine = Path(tmp) / "course"
        shutil.copytree(kernel.root, mine, symlinks=True)
        t_kernel = timed([str(bindir / "nbgrader"), "autograde", chapter], kernel.root, {"COURSE_EXECUTE": "nbgrader"})
        t_course = timed([str(bindir / "course"), "autograde", chapter, "-j", str(workers)], mine)
    print(f"{n} submissions of {chapter} ({len(load_course().questions_of(chapter))} questions each)")
    print(f"nbgrader autograde, serial, a kernel per notebook: {t_kernel:7.1f} s  {n / t_kernel:8.2f} submissions/s")
    print(f"course autograde, {workers} workers, no kernel:       {t_course:7.1f} s  {n / t_course:8.2f} submissions/s")
    print(f"ratio: x{t_kernel / t_course:.1f}")


def cohort(learners: int, workers: int, postgres: bool) -> None:
    course = load_course()
    chapters = list(course.chapters)
    with tempfile.TemporaryDirectory() as tmp:
        cd = make_course_dir(Path(tmp) / "course", content=course.root)
        server = None
        if postgres:
            from tests.pg import Postgres

            server = Postgres()
            os.environ["COURSE_DB_URL"] = server.start()
        try:
            workflow.generate(cd.root, chapters)
            start = time.perf_counter()
            n = place_cohort(cd.root, chapters, learners)
            t_place = time.perf_counter() - start
            start = time.perf_counter()
            report = workflow.autograde(cd.root, course, chapters, workers=workers, progress=False)
            t_grade = time.perf_counter() - start
        finally:
            if server:
                server.stop()
                os.environ.pop("COURSE_DB_URL", None)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rate = n / t_grade
    print(f"gradebook: {'PostgreSQL' if postgres else 'SQLite'}; {learners} learners x {len(chapters)} chapters "
          f"= {n} submissions ({t_place:.0f} s to place them)")
    print(f"graded {len(report.graded)}, failed {len(report.failed)}, {report.rows_written:,} rows written, "
          f"{workers} workers")
    print(f"{t_grade:.1f} s: {1000 / rate:.2f} s per 1,000 submissions, {rate:.0f} submissions/s")
    print(f"peak memory: {peak_self:.0f} MB (writer), {peak_workers:.0f} MB (largest worker)")
    print(f"projection to 220,000 submissions: {220_000 / rate / 60:.1f} min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    a = sub.add_parser("per-notebook")
    a.add_argument("--submissions", type=int, default=100)
    a.add_argument("--workers", type=int, default=2)
    b = sub.add_parser("cohort")
    b.add_argument("--learners", type=int, default=1000)
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if args.what == "per-notebook":
        per_notebook(args.submissions, args.workers)
    else:
        cohort(args.learners, args.workers, args.postgres)


if __name__ == "__main__":
    main()
