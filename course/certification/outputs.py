"""A certification round's frames: read everything and decide (pure), and the formatted results workbook.

:func:`round_frames` reads nothing and decides everything; :func:`load_round` feeds it from a
course folder (what the manager notebook shows, as of now); :mod:`course.certification.rounds`
records the decisions and moves the register, and writes each run's workbook with
:func:`write_excel`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from wcwidth import wcswidth

from course.analytics.frames import read_grades
from course.analytics.roster import read_roster
from course.certification import decisions, eligibility, manifest, ratings
from course.certification.config import Certification, load_certification
from course.errors import WorkflowError
from course.loader import Course

SHEETS = {"results": "认证结果", "region": "按地区通过率", "department": "按部门通过率", "level": "按级别通过率",
          "missing": "缺交缺考"}


@dataclass(frozen=True)
class Round:
    cert: Certification
    roster: pd.DataFrame
    results: pd.DataFrame
    by_region: pd.DataFrame
    by_department: pd.DataFrame
    missing: pd.DataFrame
    ratings: pd.DataFrame
    competency: pd.DataFrame
    gaps: pd.DataFrame


def read_inputs(root: Path, course: Course, cert: Certification
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Training records, ratings and applicant records (or None) stored in a course folder."""
    t_store = eligibility.training_store(root)
    training = eligibility.read_training(t_store) if t_store.exists() else pd.DataFrame(
        columns=list(eligibility.TRAINING_COLUMNS)).astype({"hours": float})
    a_store = eligibility.applicant_store(root)
    applicants = eligibility.read_applicants(a_store, course, cert) if a_store.exists() else None
    r_store = ratings.ratings_store(root)
    rated = ratings.read_ratings(r_store, course) if r_store.exists() else pd.DataFrame(columns=list(ratings.COLUMNS))
    return training, rated, applicants


def round_frames(course: Course, cert: Certification, roster: pd.DataFrame, training: pd.DataFrame,
                 applicants: pd.DataFrame | None, rated: pd.DataFrame, grades: pd.DataFrame,
                 manifests: list[dict[str, Any]], chapters: list[str]) -> Round:
    """Every frame of a round from its inputs (pure: no files)."""
    targets = roster["target_level"]
    elig = eligibility.eligibility(course, cert, targets, training, applicants)
    sittings = decisions.sitting_scores(manifests, grades)
    comp = ratings.competency_check(course, cert, targets, rated)
    results = decisions.decide(course, cert, roster, elig, sittings, comp)
    return Round(cert, roster, results, decisions.pass_rates(results, "地区"), decisions.pass_rates(results, "部门"),
                 decisions.missing_work(roster, grades, chapters, manifests), rated, comp,
                 ratings.cohort_gaps(course, cert, targets, rated))


def load_round(root: Path, course: Course, roster_csv: Path | None = None,
               snapshot: Path | str | None = None) -> Round:
    """A round of the course folder ``root``: roster, stored records, paper manifests and the gradebook.

    ``snapshot``: a report run's gradebook snapshot (:mod:`course.analytics.snapshot`), read instead of the
    gradebook so a report reads the gradebook once.
    """
    root = root.resolve()
    roster_csv = roster_csv or root / "roster.csv"
    if not roster_csv.exists():
        raise WorkflowError(f"{roster_csv} does not exist: give the roster (learner_id,name,region,department,"
                            "target_level) with --roster")
    roster = read_roster(roster_csv, course)
    cert = load_certification(course)
    training, rated, applicants = read_inputs(root, course, cert)
    if snapshot:
        from course.analytics.snapshot import read_grades as snapshot_grades

        grades = snapshot_grades(snapshot)
    else:
        from course.nbconfig import course_config, db_url  # imports nbgrader: only when reading the gradebook

        grades = read_grades(db_url(root), course_config(root).CourseDirectory.course_id)
    manifests = manifest.manifests(root)
    # the chapters released to this cohort: those anyone submitted
    submitted = set(grades["chapter"].unique())
    chapters = [c for c in course.chapters if c in submitted]
    return round_frames(course, cert, roster, training, applicants, rated, grades, manifests, chapters)


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    return max(wcswidth(text), len(text))


def _format_sheet(sheet: Any, title: str, frame: pd.DataFrame, percent: tuple[str, ...] = (),
                  decimals: tuple[str, ...] = ()) -> None:
    """Title in row 1, header in row 2 frozen with the title, widths by display width, number formats."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.freeze_panes = "A3"
    for i, column in enumerate(frame.columns, start=1):
        cell = sheet.cell(row=2, column=i)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE5F0")
        cell.alignment = Alignment(horizontal="center")
        widest = max([_width(column), *(_width(v) for v in frame[column].head(2000))])
        sheet.column_dimensions[get_column_letter(i)].width = min(widest + 2, 60)
        fmt = "0.0%" if column in percent else ("0.0" if column in decimals else None)
        if fmt:
            for row in range(3, len(frame) + 3):
                sheet.cell(row=row, column=i).number_format = fmt
    if len(frame):
        sheet.auto_filter.ref = f"A2:{get_column_letter(len(frame.columns))}{len(frame) + 2}"


def _sheet_name(text: str, taken: set[str]) -> str:
    name = "".join("_" if ch in '[]:*?/\\' else ch for ch in text)[:31] or "_"
    while name in taken:
        name = name[:29] + "_" + str(len(taken))
    taken.add(name)
    return name


def write_excel(results: pd.DataFrame, missing: pd.DataFrame, path: Path, round_id: str, title: str,
                on: dt.date) -> Path:
    """The results list, pass rates by region, department and level, missing work, and one sheet per region.

    Every sheet: a title naming the round and the date in row 1, the header in row 2 (frozen with
    the title), columns as wide as their text, pass rates as percentages, scores to one decimal.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    heading = f"认证批次 {round_id}（{title}）　生成日期 {on.isoformat()}"
    sheets: list[tuple[str, pd.DataFrame, tuple[str, ...]]] = [
        (SHEETS["results"], results, ()),
        (SHEETS["region"], decisions.pass_rates(results, "地区"), ("通过率",)),
        (SHEETS["department"], decisions.pass_rates(results, "部门"), ("通过率",)),
        (SHEETS["level"], decisions.pass_rates(results, "目标级别"), ("通过率",)),
        (SHEETS["missing"], missing, ()),
    ]
    taken = {name for name, _, _ in sheets}
    for region, part in results.groupby("地区", sort=True):
        sheets.append((_sheet_name(f"地区-{region}", taken), part, ()))
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame, percent in sheets:
            frame.to_excel(writer, sheet_name=name, index=False, startrow=1)
            label = name if name != SHEETS["results"] else "认证结果名单"
            _format_sheet(writer.sheets[name], f"{label}　{heading}", frame, percent,
                          decimals=("培训学时", "理论", "技能"))
    return path


def read_excel_results(path: Path) -> pd.DataFrame:
    """The results sheet of an export, read back as the results frame's columns and types."""
    frame = pd.read_excel(path, sheet_name=SHEETS["results"], header=1, dtype={"学员编号": str})
    return frame[decisions.RESULT_COLUMNS]


@dataclass(frozen=True)
class ManagerView:
    course: Course
    round: Round
    results: pd.DataFrame  # filtered to the region, if one was given; papers by name
    missing: pd.DataFrame  # the same
    scope: str


def paper_names(course: Course, manifests: list[dict[str, Any]]) -> dict[str, str]:
    """Paper id → the name a manager reads instead: the level's exam or a re-sit.

    E.g. 四级认证考试, 四级补考（第 2 次考试）. A re-sit paper's number is its highest among its
    learners; :func:`learner_paper_names` gives each learner's own.
    """
    titles = {lv.id: lv.title for lv in course.levels.levels}
    return {d["paper"]: _paper_name(titles.get(d["level"], d["level"]), d, int(d.get("sitting", 1)))
            for d in manifests}


def learner_paper_names(course: Course, manifests: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(paper id, learner) → the name of that learner's sitting of it: 四级补考（第 2 次考试） for one who
    sits a re-sit paper for the second time, even when others sit it for the third."""
    titles = {lv.id: lv.title for lv in course.levels.levels}
    return {(d["paper"], learner): _paper_name(titles.get(d["level"], d["level"]), d,
                                               int(v.get("sitting", d.get("sitting", 1))))
            for d in manifests for learner, v in d["variants"].items()}


def _paper_name(title: str, data: dict[str, Any], sitting: int) -> str:
    resit = bool(data.get("resit", sitting > 1)) and sitting > 1
    return f"{title}补考（第 {sitting} 次考试）" if resit else f"{title}认证考试"


def papers_by_name(frame: pd.DataFrame, names: dict[str, str],
                   by_learner: dict[tuple[str, str], str] | None = None) -> pd.DataFrame:
    """The results or missing-work frame with paper ids replaced by ``paper_names`` (a page shows no ids);
    with ``by_learner`` (:func:`learner_paper_names`) and a 学员编号 column, each row's learner's own name."""
    out = frame.copy()
    learners = [str(x) for x in out["学员编号"]] if by_learner and "学员编号" in out.columns else [""] * len(out)

    def name(paper: str, learner: str) -> str:
        return (by_learner or {}).get((paper, learner)) or names.get(paper, paper)

    def named(text: str, learner: str) -> str:
        return _PAPER_IN_REASON.sub(lambda m: name(m.group(1), learner) if m.group(1) in names else m.group(0), text)

    if "原因" in out.columns:  # decisions write "试卷 <id>" inside a reason
        out["原因"] = [named(str(text), lr) for text, lr in zip(out["原因"], learners, strict=True)]
    if "计分考试" in out.columns:
        out["计分考试"] = [name(str(p), lr) for p, lr in zip(out["计分考试"], learners, strict=True)]
    if "缺考试卷" in out.columns:
        out["缺考试卷"] = ["、".join(name(p, lr) for p in str(text).split("、"))
                        for text, lr in zip(out["缺考试卷"], learners, strict=True)]
    return out


_PAPER_IN_REASON = re.compile(r"试卷 ([^\s）)，,；;、：:]+)")


def manager_view(course_root: Path | str, content: Path | str | None = None, roster_csv: Path | str | None = None,
                 region: str | None = None, snapshot: Path | str | None = None) -> ManagerView | str:
    """What the manager notebook shows, or the Chinese reason there is nothing to show yet."""
    from course.certification.config import FILE
    from course.loader import load_course

    course = load_course(Path(content) if content else None)
    root = Path(course_root).resolve()
    if not (course.root / FILE).exists():
        return "本课程未配置认证设置，没有认证结果。"
    roster = Path(roster_csv) if roster_csv else root / "roster.csv"
    if not roster.exists():
        return "没有学员名册（含每名学员的目标级别），无法判定认证结果：请讲师导入学员名册后重新生成报告。"
    rnd = load_round(root, course, roster, snapshot)
    found = manifest.manifests(root)
    names, by_learner = paper_names(course, found), learner_paper_names(course, found)
    results = rnd.results[rnd.results["地区"] == region] if region else rnd.results
    missing = rnd.missing[rnd.missing["地区"] == region] if region else rnd.missing
    return ManagerView(course, rnd, papers_by_name(results.reset_index(drop=True), names, by_learner),
                       papers_by_name(missing.reset_index(drop=True), names, by_learner),
                       f"（地区：{region}）" if region else "（全部地区）")
