"""Benchmark: `course autograde` (parallel workers + trusted re-scoring) against serial `nbgrader autograde`.

Run: python -m tests.benchmarks.bench_autograde [--learners 16] [--workers 2]

One simulated cohort answers chapter jc01 through the real exchange; the
course folder is then copied, so both commands grade the very same
submissions from the same starting gradebook, one after the other in one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course.loader import load_course
from course.simulate import Settings, simulate
from tests.conftest import make_course_dir

CHAPTER = "jc01"


def timed(cmd: list[str], cwd: Path) -> float:
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        serial = make_course_dir(Path(tmp) / "serial", content=load_course().root)
        simulate(serial.root, serial.course, [CHAPTER], Settings(learners=args.learners, skip_chapter=0.0),
                 progress=False)
        parallel = Path(tmp) / "parallel"
        shutil.copytree(serial.root, parallel, symlinks=True)
        n = len(list((serial.root / "submitted").glob(f"*/{CHAPTER}")))
        t_serial = timed([str(bindir / "nbgrader"), "autograde", CHAPTER], serial.root)
        t_course = timed([str(bindir / "course"), "autograde", CHAPTER, "--workers", str(args.workers)], parallel)
    print(f"{n} notebooks of {CHAPTER} ({len(load_course().questions_of(CHAPTER))} questions each)")
    print(f"nbgrader autograde (serial):        {t_serial:6.1f} s  {n / t_serial:5.2f} notebooks/s")
    print(f"course autograde ({args.workers} workers + trusted): {t_course:6.1f} s  {n / t_course:5.2f} notebooks/s")
    print(f"ratio course/nbgrader throughput: x{t_serial / t_course:.2f}")


if __name__ == "__main__":
    main()
