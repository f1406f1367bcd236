"""Benchmark: the national cohort — 10,000 learners × all 22 chapters — read, framed and reported.

Run: python -m tests.benchmarks.bench_frames [--learners 10000] [--cut 1000] [--cache DIR]

The gradebooks are built by ``tests.benchmarks.gradebook.build_gradebook`` from real graded
submissions: nbgrader's ``generate_assignment`` creates the assignments, a simulated cohort's
answers are placed as ``nbgrader collect`` leaves them, ``course autograde`` grades them and a
grader's rubric scores are given to most case answers. Building takes a quarter of an hour at
10,000 learners, so each gradebook is cached under ``--cache`` (default
``~/.cache/kam-course/bench``) and reused while the content and the builder are unchanged.

Printed in one run, side by side:

* grade rows, seconds and peak resident memory of ``read_grades`` + ``scores_frame`` on the
  full cohort (measured in a fresh process, so the peak is that of the read alone);
* seconds of ``course report`` (all pages) on the full cohort: a first run that takes the
  snapshot, a second that reuses it, and a third after a write to the gradebook (a new
  snapshot that reads only answers files changed since the last one);
* on the cut: the SQLite read against the generic SQLAlchemy join (the path a PostgreSQL
  gradebook takes) and against ``nbgrader export``, with the ratios. ``nbgrader export`` writes
  about two submissions a second here (hours for the cut), so it is stopped after
  ``--export-budget`` seconds and its rate over the rows it wrote is printed with the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

from course.loader import load_course
from course.nbconfig import db_url

BUILDER_VERSION = "2"  # real graded submissions


def _content_hash() -> str:
    root = Path(load_course().root)
    digest = hashlib.sha256(BUILDER_VERSION.encode())
    for path in sorted(root.rglob("*.yaml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cached_course(cache: Path, learners: int) -> tuple[Path, float | None]:
    """A course folder with a built gradebook of ``learners`` × every chapter; build seconds if built now."""
    from tests.benchmarks.gradebook import build_gradebook
    from tests.conftest import make_course_dir

    folder = cache / f"national-{learners}x22-{_content_hash()}"
    if (folder / "BUILT").exists():
        return folder, None
    shutil.rmtree(folder, ignore_errors=True)
    cd = make_course_dir(folder, content=Path(load_course().root))
    start = time.perf_counter()
    rows = build_gradebook(folder, cd.course, list(cd.course.chapters), learners)
    seconds = time.perf_counter() - start
    (folder / "BUILT").write_text(json.dumps({"grade_rows": rows, "seconds": seconds}), encoding="utf-8")
    return folder, seconds


def measure_frames(root: Path) -> dict[str, float]:
    """In this (fresh) process: time and peak memory of read_grades + scores_frame."""
    import resource

    from course.analytics import frames
    from course.analytics.roster import read_roster

    course = load_course()
    roster = read_roster(root / "roster.csv", course)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, cpu = time.perf_counter(), time.process_time()
    grades = frames.read_grades(db_url(root), "kam-cert")
    t_read = time.perf_counter() - start
    scores = frames.scores_frame(grades, course, roster)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"grade_rows": len(grades), "score_rows": len(scores), "read_s": t_read, "seconds": seconds, "cpu_s": cpu,
            "base_mb": base, "peak_mb": peak, "frame_mb": scores.memory_usage(deep=True).sum() / 2**20}


def _fresh(func: str, root: Path) -> dict[str, float]:
    code = f"import json, sys; from tests.benchmarks.bench_frames import {func}; " \
           f"print(json.dumps({func}(__import__('pathlib').Path(sys.argv[1]))))"
    out = subprocess.run([sys.executable, "-c", code, str(root)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_report(root: Path) -> tuple[float, float]:
    """Wall seconds of `course report` and the CPU seconds of it and its kernels."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "course", "report", "--root", str(root), "--learner", "sim0001",
                    "--out", str(root / "reports" / "bench")], check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def touch_gradebook(root: Path) -> None:
    """Two writes to the gradebook that cancel out: as far as a report can tell, grades changed."""
    import sqlite3

    con = sqlite3.connect(db_url(root).removeprefix("sqlite:///"))
    (gid, extra) = con.execute("SELECT id, extra_credit FROM grade ORDER BY id LIMIT 1").fetchone()
    for value in ((extra or 0) + 1, extra):  # SQLite skips a write that changes nothing, so change and restore
        with con:
            con.execute("UPDATE grade SET extra_credit = ? WHERE id = ?", (value, gid))
    con.close()


def _export(root: Path) -> None:
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    warnings.filterwarnings("ignore", category=SAWarning)
    with Gradebook(db_url(root), course_id="kam-cert") as gb, contextlib.redirect_stderr(io.StringIO()):
        CsvExportPlugin(to=str(root / "grades.csv")).export(gb)


def time_export(root: Path, budget: float) -> tuple[float, int, int]:
    """Seconds `nbgrader export` ran (at most ``budget``), submissions it wrote, submissions there are.

    The export writes one CSV row per submission as it goes, so a run stopped at the budget
    still gives its rate; the benchmark prints the full time only when it finished.
    """
    import sqlite3

    out = root / "grades.csv"
    out.unlink(missing_ok=True)
    code = "import sys, pathlib; from tests.benchmarks.bench_frames import _export; _export(pathlib.Path(sys.argv[1]))"
    start = time.perf_counter()
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", code, str(root)], timeout=budget, capture_output=True)
    seconds = time.perf_counter() - start
    written = max(0, len(out.read_text(encoding="utf-8").splitlines()) - 1) if out.exists() else 0
    con = sqlite3.connect(db_url(root).removeprefix("sqlite:///"))
    (total,) = con.execute("SELECT count(*) FROM submitted_assignment").fetchone()
    con.close()
    return seconds, written, total


def compare_cut(root: Path) -> dict[str, float]:
    """SQLite read vs the generic SQLAlchemy join, same gradebook, one process."""
    import pandas as pd
    import sqlalchemy as sa

    from course.analytics import frames

    course = load_course()
    start = time.perf_counter()
    scores = frames.scores_frame(frames.read_grades(db_url(root), "kam-cert"), course)
    t_sql = time.perf_counter() - start
    start = time.perf_counter()
    engine = sa.create_engine(db_url(root))
    with engine.connect() as conn:
        generic = pd.read_sql(frames.GRADES_SQL, conn, params={"course_id": "kam-cert"})
    engine.dispose()
    generic_scores = frames.scores_frame(frames._compact(generic), course)
    t_generic = time.perf_counter() - start
    assert generic_scores.equals(scores)
    return {"grade_rows": len(generic), "sql_s": t_sql, "generic_s": t_generic}


def main() -> None:
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own ORM notices, not ours
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--cut", type=int, default=1_000)
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                        / "kam-course" / "bench")
    parser.add_argument("--export-budget", type=float, default=300.0,
                        help="seconds nbgrader export may run on the cut (it is stopped after that)")
    parser.add_argument("--cut-only", action="store_true", help="only the comparison on the cut")
    args = parser.parse_args()

    if not args.cut_only:
        national(args)
    cut_comparison(args)


def national(args: argparse.Namespace) -> None:
    full, built = cached_course(args.cache, args.learners)
    note = f"built in {built:.0f} s" if built is not None else "cached"
    first, f = _fresh("measure_frames", full), _fresh("measure_frames", full)
    print(f"national cohort {args.learners:,} learners × 22 chapters ({note}): {int(f['grade_rows']):,} grade rows")
    print(f"  frames (read_grades + scores_frame): {f['seconds']:.2f} s (read {f['read_s']:.2f} s), "
          f"{f['grade_rows'] / f['seconds']:,.0f} rows/s, CPU {f['cpu_s']:.2f} s (all threads); "
          f"peak RSS {f['peak_mb']:,.0f} MB "
          f"(interpreter and imports {f['base_mb']:,.0f} MB); scores frame {f['frame_mb']:,.0f} MB "
          f"[the run before, which may have read the gradebook file from disk: {first['seconds']:.2f} s, "
          f"CPU {first['cpu_s']:.2f} s]")
    shutil.rmtree(full / "reports", ignore_errors=True)
    (cold, cold_cpu), (warm, warm_cpu) = time_report(full), time_report(full)
    touch_gradebook(full)
    changed, changed_cpu = time_report(full)
    print(f"  course report (all pages): {cold:.1f} s for the first report (a new snapshot reading every answers "
          f"file; CPU {cold_cpu:.0f} s), {warm:.1f} s reusing the snapshot (CPU {warm_cpu:.0f} s), "
          f"{changed:.1f} s after the gradebook changed (a new snapshot, unchanged answers files not read again; "
          f"CPU {changed_cpu:.0f} s)")


def cut_comparison(args: argparse.Namespace) -> None:
    cut, _ = cached_course(args.cache, args.cut)
    c = compare_cut(cut)
    line = (f"cut {args.cut:,} learners × 22 chapters: {int(c['grade_rows']):,} grade rows | SQLite read "
            f"{c['sql_s']:.2f} s | generic SQLAlchemy join {c['generic_s']:.2f} s (×{c['generic_s'] / c['sql_s']:.1f})")
    seconds, written, total = time_export(cut, args.export_budget)
    if written >= total:
        line += f" | nbgrader export {seconds:.1f} s (×{seconds / c['sql_s']:.0f})"
    elif written:
        rate = written / seconds
        line += (f" | nbgrader export stopped after {seconds:.0f} s with {written:,} of {total:,} submissions "
                 f"({rate:.1f}/s; the whole export at that rate ≈ {total / rate:,.0f} s, "
                 f"×{total / rate / c['sql_s']:,.0f})")
    else:
        line += f" | nbgrader export: nothing written in {seconds:.0f} s"
    print(line)


if __name__ == "__main__":
    main()
