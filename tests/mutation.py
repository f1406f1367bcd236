"""Mutation run: ``python -m tests.mutation [--report-only] [course/grading/rows.py ...]`` (not part of CI).

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

# course.analytics.items
_I = "course.analytics.items.x_"
_POINTS_NAME = ("the proportions' points Series is used only by value (to_numpy, sum, reindex; intended_weight "
                "renames it), so its name is never seen")
_FLOAT_AS_NONE = "astype(None): numpy reads dtype None as float64 (np.dtype(None) is float64), so it is astype(float)"
_ZIP_PRODUCT = ("zip(strict=True) → {}: product(options, repeat=len(prompts)) yields tuples of exactly "
                "len(prompts) options, so strictness never applies")
_NAN_FROM_NONE = ("pd.Series(..., dtype=float) stores None (or no data) as NaN, the value math.nan gives")
_FLOAT_INFERRED = ("dtype=float dropped: the data is already float ({}), and pandas infers float64 from it "
                   "(also for an empty index)")
_ROUNDING = ("{}: equal in exact arithmetic, since Σ(v − mean(v)) = 0, so the added 2·mean × Σ(deviations) "
             "is 0; in floats the numerator cov differs only by the rounding of that zero sum (about 1e-16; "
             "the NaN case depends on cov_max alone, and an exact 0 may read 1e-16, below every flag "
             "threshold and tolerance). The sibling mutants of cov_max, where the residue decided NaN or "
             "not, are killed by a test with non-binary means")
_SCALE = ("cov {} instead of ÷ (n − 1): a positive factor common to every item, which cancels in "
          "root ÷ Σ root (the sign test cov >= 0 is unchanged); equal up to float rounding")
_DEFAULT = "{} dropped: it is pandas' default ({}), so the call is the same"
_SD_SINGLE = ("pandas' std(ddof=1) of a single row (or none) is NaN for every item, the value the else "
              "branch gives, so computing it for n = 1 changes nothing")
_TO_NUMPY_FLOAT = ("to_numpy(dtype=None) of a Series that is float64 already ({}): the same array")
_ITERTUPLES = ("itertuples(index={}): the rows are read by field name only (row.facility, row.sd, ...), so an "
               "extra Index field in front (or none) changes nothing")
_ITEM_TABLE_STRICT = ("zip(strict=True) → {}: facility and discrimination are two columns of one frame, so "
                      "they always have the same length")
_QUIZ_NONE = ("{}: the fields left unset go through pd.Series(out, dtype=float), which stores None as NaN, "
              "and no unset field is used in arithmetic (standard_error needs α, hence n ≥ 2, hence sd)")
_QUIZ_DTYPE = ("pd.Series(out) without dtype=float: out always holds float values (NaN or computed) next to "
               "the int n and items, so pandas infers float64 anyway")
_BOOL_NUMPY = ("to_numpy(dtype=None) of a bool Series (& of two bool Series, also when empty) is the same "
               "bool array")
ITEMS_EQUIVALENT: dict[str, str] = {
    **{f"{_I}_matrix_and_points__mutmut_{n}": _POINTS_NAME for n in (22, 25, 27, 28)},
    f"{_I}_pivot__mutmut_24": _FLOAT_AS_NONE,
    f"{_I}item_points__mutmut_7": _FLOAT_AS_NONE,
    f"{_I}_possible_responses__mutmut_18": ("range(1, len + 2): combinations(keys, len(keys) + 1) yields "
                                           "nothing, so the extra size adds no response"),
    f"{_I}_possible_responses__mutmut_32": _ZIP_PRODUCT.format("strict=None"),
    f"{_I}_possible_responses__mutmut_35": _ZIP_PRODUCT.format("no strict"),
    f"{_I}_possible_responses__mutmut_36": _ZIP_PRODUCT.format("strict=False"),
    f"{_I}cronbach_alpha__mutmut_19": _DEFAULT.format("var(axis=0)", "DataFrame.var's axis is 0"),
    f"{_I}cronbach_alpha__mutmut_20": _DEFAULT.format("var(ddof=1)", "DataFrame.var's ddof is 1"),
    f"{_I}discriminative_efficiency__mutmut_13": f"out.append(None) for n < 2: {_NAN_FROM_NONE}",
    f"{_I}discriminative_efficiency__mutmut_21": _ROUNDING.format("cov with x + mean(x)"),
    f"{_I}discriminative_efficiency__mutmut_22": _ROUNDING.format("cov with rest + mean(rest)"),
    f"{_I}distractors__mutmut_9": _DEFAULT.format("groupby(sort=True)", "groupby sorts by default"),
    **{f"{_I}distractors__mutmut_{n}": (f"zip(strict=True) → {strict}: the ids and the answers zipped are "
                                         "map(id, values) and values, one list, so they have the same length")
       for n, strict in ((28, "strict=None"), (31, "no strict"), (36, "strict=False"))},
    f"{_I}effective_weight__mutmut_4": f"Series(None, ...) for n < 2: {_NAN_FROM_NONE}",
    f"{_I}effective_weight__mutmut_8": f"Series(index=...) without data for n < 2: {_NAN_FROM_NONE}",
    f"{_I}effective_weight__mutmut_53": f"np.full(len, None) for no positive covariance: {_NAN_FROM_NONE}",
    f"{_I}effective_weight__mutmut_7": _FLOAT_INFERRED.format("a NaN scalar"),
    f"{_I}effective_weight__mutmut_11": _FLOAT_INFERRED.format("a NaN scalar"),
    f"{_I}effective_weight__mutmut_59": _FLOAT_INFERRED.format("a float numpy array"),
    f"{_I}effective_weight__mutmut_63": _FLOAT_INFERRED.format("a float numpy array"),
    f"{_I}effective_weight__mutmut_20": _SCALE.format("× (n − 1)"),
    f"{_I}effective_weight__mutmut_25": _SCALE.format("÷ (n + 1)"),
    f"{_I}group_size__mutmut_11": ("quantize(Decimal(2)): quantize takes only the exponent of its argument, "
                                   "and Decimal(1) and Decimal(2) both have exponent 0"),
    f"{_I}intended_weight__mutmut_9": "points / NaN instead of points × NaN: both are NaN for every value",
    f"{_I}item_statistics__mutmut_12": ("the proportions division also for 0 items: an n × 0 frame divided by "
                                        "an empty array is the same n × 0 frame"),
    f"{_I}item_statistics__mutmut_14": _TO_NUMPY_FLOAT.format("item_points is astype(float), the proportions' "
                                                             "points are 1.0"),
    f"{_I}item_statistics__mutmut_27": _TO_NUMPY_FLOAT.format("item_points is astype(float), the proportions' "
                                                             "points are 1.0"),
    f"{_I}item_statistics__mutmut_30": _TO_NUMPY_FLOAT.format("the mean of the float proportions"),
    f"{_I}item_statistics__mutmut_37": _TO_NUMPY_FLOAT.format("the std of the float proportions"),
    f"{_I}item_statistics__mutmut_57": _TO_NUMPY_FLOAT.format("intended_weight of float points"),
    f"{_I}item_statistics__mutmut_36": _SD_SINGLE,
    f"{_I}item_statistics__mutmut_44": _SD_SINGLE,
    f"{_I}item_statistics__mutmut_40": _DEFAULT.format("std(axis=0)", "DataFrame.std's axis is 0"),
    f"{_I}item_statistics__mutmut_41": _DEFAULT.format("std(ddof=1)", "DataFrame.std's ddof is 1"),
    f"{_I}item_statistics__mutmut_99": _ITERTUPLES.format("None"),
    f"{_I}item_statistics__mutmut_100": _ITERTUPLES.format("True"),
    f"{_I}item_table__mutmut_10": ("item_statistics without the thresholds: item_table keeps only question, "
                                   "facility, discrimination and ul_index, which do not depend on them (they "
                                   "set only the flags, which item_table computes again with the thresholds)"),
    f"{_I}item_table__mutmut_32": _ITEM_TABLE_STRICT.format("strict=None"),
    f"{_I}item_table__mutmut_35": _ITEM_TABLE_STRICT.format("no strict"),
    f"{_I}item_table__mutmut_40": _ITEM_TABLE_STRICT.format("strict=False"),
    f"{_I}nonfunctional_distractors__mutmut_19": _BOOL_NUMPY,
    f"{_I}nonfunctional_distractors__mutmut_21": _BOOL_NUMPY,
    f"{_I}quiz_statistics__mutmut_6": _QUIZ_NONE.format("nan = None"),
    f"{_I}quiz_statistics__mutmut_9": _QUIZ_NONE.format("dict.fromkeys(..., None)"),
    f"{_I}quiz_statistics__mutmut_11": _QUIZ_NONE.format("dict.fromkeys(...) (None)"),
    **{f"{_I}quiz_statistics__mutmut_{n}": _QUIZ_DTYPE for n in (26, 28, 133, 135)},
    f"{_I}quiz_statistics__mutmut_2": ("to_numpy(dtype=None) of the row sums: for every numeric dtype (float, "
                                       "int, bool, Decimal objects, nullable Int64/Float64, whose row sums skip "
                                       "a missing mark) numpy's mean, median and powers give the same values "
                                       "(tests/test_item_statistics.py checks int64, Int64, Float64, Decimal, "
                                       "bool)"),
    f"{_I}upper_lower_index__mutmut_28": f"Series(None, ...) when undefined: {_NAN_FROM_NONE}",
    f"{_I}upper_lower_index__mutmut_32": f"Series(index=...) without data when undefined: {_NAN_FROM_NONE}",
    f"{_I}upper_lower_index__mutmut_31": _FLOAT_INFERRED.format("a NaN scalar"),
    f"{_I}upper_lower_index__mutmut_35": _FLOAT_INFERRED.format("a NaN scalar"),
    f"{_I}upper_lower_index__mutmut_49": _FLOAT_INFERRED.format("a float numpy array (float weights @ float marks)"),
    f"{_I}upper_lower_index__mutmut_53": _FLOAT_INFERRED.format("a float numpy array (float weights @ float marks)"),
}
EQUIVALENT: dict[str, str] = {
    "course.analytics.weighting.x_area_mastery__mutmut_25": "groupby(as_index=False) → as_index=None: pandas "
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
    **ITEMS_EQUIVALENT,
    "course.runtime.course_runtime.scoring.x_normalise_text__mutmut_2": "range(4) → range(5): the passes stop "
    "as soon as nothing changes; no text needs more than two",
    "course.runtime.course_runtime.scoring.x__date__mutmut_8": "if m[1] → if m[2]: groups 1 (year) and 2 "
    "(separator) are in the same alternative of the regex, so both are set or both are None",
    "course.runtime.course_runtime.scoring.x_score__mutmut_71": f"zip(strict=True) → strict=None: {_STRICT}",
    "course.runtime.course_runtime.scoring.x_score__mutmut_74": f"zip(strict=True) → no strict: {_STRICT}",
    "course.runtime.course_runtime.scoring.x_score__mutmut_75": f"zip(strict=True) → strict=False: {_STRICT}",
}


def modules() -> list[str]:
    """The module paths to mutate, from pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["mutmut"]["only_mutate"])


def dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def module_of(mutant: str, names: list[str]) -> str:
    """course.grading.rows.x_plan__mutmut_3 -> course.grading.rows (the longest listed module prefix)."""
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
