"""成绩通知单: one printable A4 page per learner and run, in Chinese, drawn like the certificates.

What the learner is told: the round, their target level, each condition with the standard it
is measured against (training hours, 文化程度 and 申报条件, theory and skills with their pass marks,
the competency ratings), the conclusion with every reason, and the certificate number if one
was issued, or, for a learner who no longer passes, the status of the certificate they hold (撤销
with its date). Exams are named, never by their ids. No learner id of anyone else, no file names,
no codes of the system.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from course.analytics.fonts import use_cjk_font
from course.certification.certificates import write_pdf
from course.certification.config import Certification
from course.errors import CourseError
from course.loader import Course


def _score(value: float | None) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def notice_lines(course: Course, cert: Certification, row: pd.Series, number: str | None,
                 held: str | None = None) -> list[tuple[str, str]]:
    """(label, value) rows of the notice, in order; ``held``: the status of a certificate the learner holds of the
    round without passing now (e.g. 证书 2026A-0002 已撤销（2026-11-05）)."""
    level = next(lv for lv in course.levels.levels if lv.title == row["目标级别"])
    marks = cert.pass_marks
    lines = [
        ("姓名", f"{row['姓名']}（{row['学员编号']}）"),
        ("地区 / 部门", f"{row['地区']} / {row['部门']}"),
        ("目标级别", str(level.full_title)),
        ("培训学时", f"{row['培训学时']:g} 学时（标准 {level.min_training_hours} 学时）"),
        ("文化程度", str(row["文化程度"])),
        ("申报资格", str(row["资格"])),
        ("理论成绩", f"{_score(row['理论'])}（合格线 {marks.theory:g}）"),
        ("技能成绩（案例分析）", f"{_score(row['技能'])}（合格线 {marks.skills:g}）"),
        ("能力素质评定", str(row["能力素质"])),
        ("认证结论", str(row["结论"])),
        ("说明", str(row["原因"])),
    ]
    if number:
        lines.append(("证书编号", number))
    elif held:
        lines.append(("证书状态", held))
    return lines


def notice_figure(course: Course, cert: Certification, round_id: str, round_title: str, on: dt.date,
                  row: pd.Series, number: str | None, held: str | None = None) -> Figure:
    use_cjk_font()
    fig = Figure(figsize=(8.27, 11.69))  # A4 portrait
    fig.text(0.5, 0.93, "成绩通知单", ha="center", va="center", fontsize=26)
    fig.text(0.5, 0.885, course.settings.title, ha="center", va="center", fontsize=13)
    fig.text(0.5, 0.855, f"认证批次：{round_id}（{round_title}）", ha="center", va="center", fontsize=12)
    y = 0.8
    for label, value in notice_lines(course, cert, row, number, held):
        wrapped = textwrap.wrap(value, 30) or [""]
        fig.text(0.1, y, label, ha="left", va="top", fontsize=12, color="#444444")
        for part in wrapped:
            fig.text(0.38, y, part, ha="left", va="top", fontsize=12)
            y -= 0.03
        y -= 0.012
    for i, line in enumerate(("各项标准中，培训学时与文化程度依据认证标准；合格线、任职年限等为本认证办公室的设置。",
                              "如对结果有异议，可向认证办公室申请复核。")):
        fig.text(0.1, 0.11 - 0.022 * i, line, ha="left", va="top", fontsize=9)
    fig.text(0.9, 0.05, f"通知日期：{on.isoformat()}", ha="right", va="center", fontsize=11)
    return fig


def write_notice(path: Path, course: Course, cert: Certification, round_id: str, round_title: str, on: dt.date,
                 row: pd.Series, number: str | None, held: str | None = None) -> Path:
    problems = write_pdf(notice_figure(course, cert, round_id, round_title, on, row, number, held), path,
                         title="成绩通知单")
    if problems:
        raise CourseError(f"{path}: the notice font lacks glyphs ({problems[0]}): check that mplfonts is installed")
    return path
