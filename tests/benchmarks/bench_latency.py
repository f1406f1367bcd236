"""Benchmark: how soon every `course` command answers — its --help, its most common error, a one-learner regrade.

Run:
    python -m tests.benchmarks.bench_latency [--runs 5]

Each command line runs ``--runs`` times as its own process in a new course folder as
``course build`` and ``course generate jc01`` leave it (source notebooks, nbgrader's gradebook,
nothing released, submitted or graded), with the validated content already cached as after
any first command; the table shows the median wall time next to ``python -c pass`` on the same
machine in the same run, and the first line each error printed, so a fast answer is seen to be
the right one. Then the same folder with one learner's submission of jc01, graded once: the
median of ``course autograde --student <learner> jc01`` (a regrade of one learner with one
submission). The load average is printed before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LEARNER = "sim0001"

# The most common way each command is stopped before it does anything (see README, "A command that would
# find nothing..."); every one must exit non-zero with an `Error:` line (or typer's usage error).
ERRORS: dict[str, list[str]] = {
    "validate": ["validate", "--content", "no-such-folder"],
    "build": ["build", "nosuchchapter"],
    "generate": ["generate", "nosuchchapter"],
    "release": ["release", "jc02"],
    "collect": ["collect"],
    "autograde": ["autograde", "nosuchchapter"],
    "feedback": ["feedback"],
    "import-answers": ["import-answers", "no-such-answers.csv"],
    "simulate": ["simulate", "nosuchchapter"],
    "hand-grade": ["hand-grade"],
    "report": ["report", "--roster", "no-such-roster.csv"],
    "demo": ["demo", "--learners", "0"],
    "hub": ["hub", "--home", "no-such-home"],
    "paper create": ["paper", "create", "L4", "--paper", "L4-bench"],
    "paper report": ["paper", "report", "no-such-paper"],
    "paper estimate": ["paper", "estimate", "--root", "no-such-folder"],
    "certify import-training": ["certify", "import-training", "no-such-file.csv"],
    "certify import-applicants": ["certify", "import-applicants", "no-such-file.csv"],
    "certify import-ratings": ["certify", "import-ratings", "no-such-file.csv"],
    "certify rating-notebook": ["certify", "rating-notebook", "--roster", "no-such-roster.csv"],
    "certify results": ["certify", "results", "--round", "2026A", "--local-link"],
    "certify appeal": ["certify", "appeal", "sim0001", "--round", "2026A", "--reason", " "],
    "certify audit": ["certify", "audit"],
    "certificate verify": ["certificate", "verify", "NOSUCHCODE"],
    "certificate list": ["certificate", "list"],
    "certificate suspend": ["certificate", "suspend", "2026A-0001", "--reason", "bench"],
    "certificate reinstate": ["certificate", "reinstate", "2026A-0001", "--reason", "bench"],
    "certificate revoke": ["certificate", "revoke", "2026A-0001", "--reason", "bench"],
    "certificate draw": ["certificate", "draw", "--all", "--local-link"],
    "certificate serve": ["certificate", "serve", "--port", "-1"],
    "sitting create": ["sitting", "create", "no-such-paper", "--opens", "2026-12-10 09:00", "--closes",
                       "2026-12-10 12:00", "--minutes", "90"],
    "sitting list": ["sitting", "list", "--root", "no-such-folder"],
    "sitting report": ["sitting", "report", "no-such-sitting"],
    "sitting reopen": ["sitting", "reopen", "no-such-sitting", "--learner", "sim0001", "--reason", "bench"],
    "sitting serve": ["sitting", "serve", "--port", "-1"],
}


def commands() -> list[str]:
    """Every command of the `course` app, groups first-level and their commands, as typed."""
    import typer

    from course.cli import app

    def walk(group: object, prefix: str) -> list[str]:
        out = []
        for name, cmd in sorted(getattr(group, "commands", {}).items()):
            if getattr(cmd, "commands", None):
                out += walk(cmd, f"{prefix}{name} ")
            else:
                out.append(f"{prefix}{name}")
        return out

    return walk(typer.main.get_command(app), "")


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done


def median(argv: list[str], cwd: Path, env: dict[str, str],
           runs: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    times, last = [], None
    for _ in range(runs):
        took, last = run(argv, cwd, env)
        times.append(took)
    assert last is not None
    return statistics.median(times), last


def first_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
    line = next((ln for ln in lines if ln.startswith("Error") or "Invalid value" in ln), lines[-1] if lines else "")
    line = line.strip(" │╭╰─")
    return f"[exit {done.returncode}] {line[:90]}"


def course_folder(base: Path) -> Path:
    """A course folder with every source notebook built and jc01 generated (nbgrader's gradebook exists)."""
    from course import workflow
    from course.build import write_sources
    from course.loader import load_course

    base.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", base / "nbgrader_config.py")
    write_sources(load_course(), base / "source")
    workflow.generate(base, ["jc01"])
    return base


def regrade_folder(base: Path, env: dict[str, str]) -> Path:
    """The course folder with one learner's submission of jc01, collected and graded once."""
    from course.loader import load_course
    from course.simulate import Settings
    from tests.benchmarks.gradebook import place_submissions

    root = Path(shutil.copytree(base.parent / "course", base, symlinks=True))
    place_submissions(root, load_course(), ["jc01"], Settings(learners=1, seed=2026, skip_chapter=0.0))
    _, done = run([str(BIN / "course"), "autograde", "jc01", "--no-progress"], root, env)
    assert done.returncode == 0, done.stderr
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               "COURSE_CACHE_DIR": str(Path(tmp) / "cache"), "JUPYTER_CONFIG_DIR": str(Path(tmp) / "jupyter")}
        for key in ("COURSE_DB_URL", "COURSE_EXCHANGE", "COURSE_CONTENT"):
            env.pop(key, None)
        os.environ.update({k: env[k] for k in ("COURSE_CACHE_DIR", "JUPYTER_CONFIG_DIR")})
        root = course_folder(Path(tmp) / "course")
        course = [str(BIN / "course")]
        run([*course, "validate", "-q"], root, env)  # the cache, as after any first command
        floor, _ = median([sys.executable, "-c", "pass"], root, env, args.runs)
        print(f"python -c pass: {floor:.3f} s (median of {args.runs})\n")
        print(f"{'command':28} {'--help':>8} {'error':>8}  the error")
        worst = {"help": 0.0, "error": 0.0}
        for name in commands():
            t_help, done = median([*course, *name.split(), "--help"], root, env, args.runs)
            assert done.returncode == 0, (name, done.stderr)
            worst["help"] = max(worst["help"], t_help)
            if name in ERRORS:
                t_err, done = median([*course, *ERRORS[name]], root, env, args.runs)
                if done.returncode == 0:
                    print(f"{name:28} {t_help:7.3f}s {t_err:7.3f}s  NOT AN ERROR: {done.stdout.strip()[:80]}")
                    continue
                worst["error"] = max(worst["error"], t_err)
                print(f"{name:28} {t_help:7.3f}s {t_err:7.3f}s  {first_error(done)}")
            else:
                print(f"{name:28} {t_help:7.3f}s {'—':>8}  (no error path listed)")
        print(f"\nslowest --help: {worst['help']:.3f} s; slowest error: {worst['error']:.3f} s "
              f"(python -c pass: {floor:.3f} s)")
        graded = regrade_folder(Path(tmp) / "regrade", env)
        t_one, done = median([*course, "autograde", "--student", LEARNER, "jc01", "--no-progress"], graded, env,
                             args.runs)
        print(f"course autograde --student {LEARNER} jc01 (one learner, one submission, a regrade): {t_one:.3f} s "
              f"(median of {args.runs}); it said: {done.stdout.strip().splitlines()[0][:80]}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
