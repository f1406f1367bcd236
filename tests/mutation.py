"""Mutation run: ``python -m tests.mutation [--report-only] [course/scoring.py ...]`` (not part of CI).

Runs mutmut over the modules listed in ``[tool.mutmut] only_mutate`` of ``pyproject.toml``
(or the ones given), against the fast unit tests listed there in
``pytest_add_cli_args_test_selection``, then prints per module the killed and surviving
mutants and the killed percentage. To add a module (the grading step, say), add its path to
``only_mutate`` and its unit tests to ``pytest_add_cli_args_test_selection``.

mutmut copies the tree into ``mutants/`` (git-ignored) and caches results there; delete
the folder for a run from scratch. Hypothesis tests run with the small ``mutation`` profile
(``SCORING_HYPOTHESIS_PROFILE``) so one mutant costs seconds, not minutes.

A surviving mutant is either killed by a new test or listed in :data:`EQUIVALENT` with the
reason it cannot change any result; the report marks each survivor accordingly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# mutant name -> why it is equivalent (no input can tell it from the original)
_STRICT = ("the ordering response has exactly len(key) entries (check_shape rejects any other length first), "
           "so zip's strictness never applies")
_OLD_TIMESTAMP = ("the old-value dict of the submission's timestamp update is read only when the timestamps "
                  "already differ (the branch's own condition), so its key cannot change what is written")
_FINAL_FLAG = ("final_rows feed only the late-penalty score (_grade_score), which reads manual_score, "
               "auto_score and extra_credit, never needs_manual_grade")
_LEARNER_INDEX_NAME = ("the name of the learners index only names the index of the intermediate wide, "
                       "measured and score frames (reindex aligns by label, not by name); all three are "
                       "turned into arrays with to_numpy(), and the result's learner column is named by "
                       "its dict key")
_STUDENT_NULL = ("a misspelt key in a new student row names no column, and SQLAlchemy's INSERT takes only the "
                 "keys that name columns, so that column is left out and gets NULL: nbgrader's student table "
                 "has no default for first_name, last_name, email or lms_user_id, and NULL is the value the "
                 "row gives it anyway")
_JOIN_ON = ("join(..., None) / join() without ON: SQLAlchemy infers the ON clause from the only foreign key "
            "between the two tables ({table}.id → base_cell.id), which is exactly the condition written")
EQUIVALENT: dict[str, str] = {
    "course.analytics.weighting.x_area_mastery__mutmut_16": "groupby(as_index=False) → as_index=None: pandas "
    "reads as_index only for its truth value (`if self.as_index` / `if not self.as_index`), so None is False",
    "course.analytics.weighting.x_weighted_scores__mutmut_13": f"Index name='learner' → name=None: "
    f"{_LEARNER_INDEX_NAME}",
    "course.analytics.weighting.x_weighted_scores__mutmut_15": f"Index name='learner' → no name: "
    f"{_LEARNER_INDEX_NAME}",
    "course.analytics.weighting.x_weighted_scores__mutmut_19": f"Index name='learner' → 'XXlearnerXX': "
    f"{_LEARNER_INDEX_NAME}",
    "course.analytics.weighting.x_weighted_scores__mutmut_20": f"Index name='learner' → 'LEARNER': "
    f"{_LEARNER_INDEX_NAME}",
    "course.analytics.weighting.x_weighted_scores__mutmut_56": "wide.fillna(0) → fillna(None) (a no-op): "
    "the row sum that follows skips NaN and sums an all-NaN row to 0 (skipna, min_count=0), so an "
    "unmeasured area adds 0 either way; completeness is read from wide before the fill",
    "course.grading.rows.x_plan__mutmut_33": _OLD_TIMESTAMP,
    "course.grading.rows.x_plan__mutmut_34": _OLD_TIMESTAMP,
    **{f"course.grading.rows.x_ensure_students__mutmut_{n}": _STUDENT_NULL for n in range(18, 26)},
    **{f"course.grading.rows.x_read_layout__mutmut_{n}": _JOIN_ON.format(table=table)
       for n, table in ((34, "grade_cells"), (36, "grade_cells"), (41, "solution_cells"), (43, "solution_cells"),
                        (49, "task_cells"), (51, "task_cells"))},
    "course.grading.rows.x__plan_notebook__mutmut_90": _FINAL_FLAG,
    "course.grading.rows.x__plan_notebook__mutmut_91": _FINAL_FLAG,
    "course.scoring.x_normalise_text__mutmut_2": "range(4) → range(5): the passes stop as soon as nothing changes; "
    "no text needs more than two",
    "course.scoring.x__date__mutmut_8": "if m[1] → if m[2]: groups 1 (year) and 2 (separator) are in the same "
    "alternative of the regex, so both are set or both are None",
    "course.scoring.x_score__mutmut_71": f"zip(strict=True) → strict=None: {_STRICT}",
    "course.scoring.x_score__mutmut_74": f"zip(strict=True) → no strict: {_STRICT}",
    "course.scoring.x_score__mutmut_75": f"zip(strict=True) → strict=False: {_STRICT}",
}


def modules() -> list[str]:
    """The module paths to mutate, from pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["mutmut"]["only_mutate"])


def dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def module_of(mutant: str, names: list[str]) -> str:
    """course.scoring.x_score__mutmut_3 -> course.scoring (the longest listed module prefix)."""
    return max((n for n in names if mutant.startswith(n + ".")), key=len, default=mutant.rsplit(".", 1)[0])


def results() -> dict[str, str]:
    """Every mutant's status as mutmut reports it (killed, survived, timeout, no tests, ...)."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=ROOT, text=True,
                         capture_output=True, check=True).stdout
    return {m[1]: m[2] for m in re.finditer(r"^\s*([\w.ǁ]+): (.+?)\s*$", out, re.MULTILINE)}


def report(statuses: dict[str, str], names: list[str]) -> list[str]:
    """The printed summary: per module counts and killed %, then each survivor with its reason."""
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for mutant, status in sorted(statuses.items()):
        module = module_of(mutant, names)
        if module not in names:
            continue
        by_module[module][status] += 1
        if status != "killed":
            survivors[module].append(mutant)
    lines = []
    for module in names:
        counts = by_module.get(module, Counter())
        total = sum(counts.values())
        killed = counts["killed"] + counts["timeout"]
        equivalent = sum(1 for s in survivors[module] if s in EQUIVALENT)
        share = 100 * killed / total if total else 0.0
        net = 100 * killed / (total - equivalent) if total - equivalent else 0.0
        others = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in ("killed", "timeout"))
        lines.append(f"{module}: {total} mutants, {killed} killed ({share:.1f} %; {net:.1f} % of the "
                     f"non-equivalent), {others or 'none survived'}")
        for mutant in survivors[module]:
            if statuses[mutant] == "no tests":
                continue  # counted above: no fast unit test runs this code at all
            reason = EQUIVALENT.get(mutant, "NOT EXPLAINED: kill it with a test or list it in EQUIVALENT")
            lines.append(f"    {statuses[mutant]:<10} {mutant}: {reason}")
    return lines


def main(argv: list[str]) -> int:
    """``[--report-only] [module paths]``: run mutmut (unless --report-only), then print the summary."""
    report_only = "--report-only" in argv
    names = [dotted(p) for p in ([a for a in argv if a != "--report-only"] or modules())]
    if not report_only:
        env = {**os.environ, "SCORING_HYPOTHESIS_PROFILE": "mutation"}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        children = str(os.cpu_count() or 1)
        run = [sys.executable, "-m", "mutmut", "run", "--max-children", children, *(f"{n}.*" for n in names)]
        done = subprocess.run(run, cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL)
        if done.returncode:
            print(f"mutmut run failed (exit {done.returncode}); its error is above", file=sys.stderr)
            return done.returncode
    for line in report(results(), names):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
