"""Benchmark: `course autograde` (answers as data) against serial `nbgrader autograde` and against the floor.

Run:
    python -m tests.benchmarks.bench_autograde per-notebook [--learners 12] [--chapters jc01 jc02]
    python -m tests.benchmarks.bench_autograde cohort [--learners 46 1000] [--postgres]

per-notebook: the same collected submissions (learners × chapters) in two copies of one course
folder with a fresh gradebook, graded one after the other in one run: serial `nbgrader autograde`
with a kernel per notebook (one command per chapter), then `course autograde` (one command; both
times include the commands' start-up).

cohort: for each cohort size, learners × all 22 chapters, collected submissions (as `nbgrader
collect` leaves them: released notebook, answers file, timestamp) on a gradebook nbgrader's
`generate_assignment` made; first the floor (tests/benchmarks/floor.py: read each answers file,
insert the same rows with the driver's executemany, one process) on a copy of that gradebook,
then `course autograde`, each in a process of its own, side by side in one run. Prints
submissions per second of both, their ratio, peak memory of the writer and of the largest worker
(flat from the smallest to the largest cohort is the goal), the projection to 220,000 submissions
and the load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from course import workflow
from course.loader import load_course

BIN = Path(sys.executable).parent


def place_cohort(root: Path, chapters: list[str], learners: int, seed: int = 2026) -> int:
    """Collected submissions of a simulated 2PL cohort (hard links to the released notebook)."""
    from course.simulate import Settings
    from tests.benchmarks.gradebook import place_submissions

    n = place_submissions(root, load_course(), chapters, Settings(learners=learners, seed=seed, skip_chapter=0.0))
    os.sync()  # the disk has written them before anything is timed
    return n


def course_folder(path: Path) -> Path:
    from tests.conftest import make_course_dir

    return make_course_dir(path, content=load_course().root).root


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    full = {**os.environ, "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""), **(env or {})}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=full)
    return time.perf_counter() - start


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def per_notebook(learners: int, chapters: list[str], workers: int) -> None:
    print(f"load average before: {load()}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        kernel = course_folder(Path(tmp) / "kernel")
        workflow.generate(kernel, chapters)
        n = place_cohort(kernel, chapters, learners)
        mine = Path(tmp) / "course"
        shutil.copytree(kernel, mine, symlinks=True)
        t_kernel = sum(timed([str(BIN / "nbgrader"), "autograde", chapter], kernel,
                             {"COURSE_EXECUTE": "nbgrader"}) for chapter in chapters)
        t_course = timed([str(BIN / "course"), "autograde", *chapters, "-j", str(workers), "--no-progress"], mine)
    each = {c: len(load_course().questions_of(c)) for c in chapters}
    print(f"{n} submissions: {learners} learners x {', '.join(f'{c} ({q} questions)' for c, q in each.items())}")
    print(f"nbgrader autograde, serial, a kernel per notebook: {t_kernel:7.1f} s  {1000 * t_kernel / n:7.0f} ms per "
          f"notebook")
    print(f"course autograde, {workers} workers, no kernel:       {t_course:7.1f} s  {1000 * t_course / n:7.0f} ms per "
          f"notebook")
    print(f"ratio: x{t_kernel / t_course:.1f} (start-up of every command included)")
    print(f"load average after: {load()}")


# ---------------------------------------------------------------- national cohort
def grade_run(root: Path, workers: int) -> None:
    """In a process of its own: grade every submission of ``root``; print a JSON line."""
    course = load_course()
    start = time.perf_counter()
    report = workflow.autograde(root, course, None, workers=workers, progress=False)
    took = time.perf_counter() - start
    print(json.dumps({"submissions": len(report.graded), "failed": len(report.failed), "rows": report.rows_written,
                      "seconds": took, "writer_mb": peak_mb(),
                      "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def peak_mb() -> float:
    """This process's peak resident memory since it started its program (ru_maxrss would keep the peak of the
    process it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _json_run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _pg_copy(server_url: str, template: str, name: str) -> str:
    """A new PostgreSQL database ``name`` copied from ``template``; its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(server_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{template}' "
                             "AND pid <> pg_backend_pid()")
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def cohort(sizes: list[int], workers: int, postgres: bool) -> None:
    course = load_course()
    chapters = list(course.chapters)
    print(f"load average before: {load()}; {os.cpu_count()} cores; gradebook: "
          f"{'PostgreSQL (fsync off)' if postgres else 'SQLite'}; {workers} workers")
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_DB_URL", "COURSE_EXCHANGE")}
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if postgres:
            from tests.pg import Postgres

            server = Postgres()
            os.environ["COURSE_DB_URL"] = server.start()
        try:
            template = course_folder(Path(tmp) / "template")
            workflow.generate(template, chapters)
            workflow.nbgrader_api.cache_clear()
            print(f"{'submissions':>11} {'floor':>13} {'course autograde':>18} {'ratio':>6} {'writer':>8} "
                  f"{'worker':>8}  rows")
            for learners in sizes:
                root = Path(tmp) / f"cohort-{learners}"
                shutil.copytree(template, root, symlinks=True)
                if server is not None:
                    url = _pg_copy(os.environ["COURSE_DB_URL"], "gradebook", f"grade{learners}")
                    floor_url = _pg_copy(os.environ["COURSE_DB_URL"], "gradebook", f"floor{learners}")
                else:
                    url = f"sqlite:///{root / 'gradebook' / 'gradebook.db'}"
                    shutil.copy(root / "gradebook" / "gradebook.db", Path(tmp) / f"floor-{learners}.db")
                    floor_url = f"sqlite:///{Path(tmp) / f'floor-{learners}.db'}"
                n = place_cohort(root, chapters, learners)
                floor = _json_run(["tests.benchmarks.floor", str(root), floor_url], env)
                graded = _json_run(["tests.benchmarks.bench_autograde", "grade-run", str(root), str(workers)],
                                   {**env, **({"COURSE_DB_URL": url} if server else {})})
                assert graded["submissions"] == n and not graded["failed"], graded
                f_rate, g_rate = n / floor["seconds"], n / graded["seconds"]
                print(f"{n:>11,} {floor['seconds']:6.1f} s {f_rate:4.0f}/s {graded['seconds']:8.1f} s {g_rate:5.0f}/s "
                      f"{floor['seconds'] / graded['seconds']:6.2f} {graded['writer_mb']:5.0f} MB "
                      f"{graded['worker_mb']:5.0f} MB  {graded['rows']:,} (floor {floor['rows']:,} with students)")
                shutil.rmtree(root)
            print(f"projection to 220,000 submissions at the largest cohort's rate: {220_000 / g_rate / 60:.1f} min")
        finally:
            if server:
                server.stop()
                os.environ.pop("COURSE_DB_URL", None)
    print(f"load average after: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    a = sub.add_parser("per-notebook")
    a.add_argument("--learners", type=int, default=12)
    a.add_argument("--chapters", nargs="+", default=["jc01", "jc02"])
    a.add_argument("--workers", type=int, default=2)
    b = sub.add_parser("cohort")
    b.add_argument("--learners", type=int, nargs="+", default=[46, 1000])
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--postgres", action="store_true")
    c = sub.add_parser("grade-run")  # the cohort benchmark's grading process
    c.add_argument("root", type=Path)
    c.add_argument("workers", type=int)
    args = parser.parse_args()
    if args.what == "per-notebook":
        per_notebook(args.learners, args.chapters, args.workers)
    elif args.what == "cohort":
        cohort(args.learners, args.workers, args.postgres)
    else:
        grade_run(args.root, args.workers)


if __name__ == "__main__":
    main()
