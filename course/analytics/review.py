"""The item-review loop: items the statistics of the latest cohort flag, with the start of their stems.

``course validate --review`` prints :func:`render_review` of :func:`review_items`. "The latest cohort"
is the gradebook as it stands: nbgrader keeps one submission per learner and chapter, the latest, so
every learner who has submitted a chapter counts once with their latest answers.

An item is listed when the statistics raise one of :data:`REVIEW_FLAGS`: a negative or poor
discrimination (Ebel's bands, :class:`course.analytics.items.Thresholds`), too hard or too easy
(facility outside 0.20–0.90), or a non-functional distractor (a wrong option chosen by fewer than 5 %
of at least 20 respondents). Its other flags (Moodle's, 样本量小) are shown beside them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import cast

import pandas as pd
from wcwidth import wcswidth

from course.analytics import items
from course.analytics.frames import Cohort, choice_options
from course.errors import WorkflowError
from course.model import TYPE_TITLES

REVIEW_FLAGS: tuple[str, ...] = (items.NEGATIVE_DISCRIMINATION, items.POOR_DISCRIMINATION, items.TOO_HARD,
                                 items.TOO_EASY, items.NONFUNCTIONAL)
STEM_WIDTH = 30  # display columns of the stem shown (a CJK character is 2)
REVIEW_COLUMNS: tuple[str, ...] = ("chapter", "question", "type", "n", "facility", "discrimination", "ul_index",
                                   "flags", "stem")
HEADERS: dict[str, str] = {"chapter": "章节", "question": "题号", "type": "题型", "n": "人数", "facility": "通过率",
                           "discrimination": "区分度", "ul_index": "高低分组差", "flags": "问题", "stem": "题干"}


def stem_start(text: str, width: int = STEM_WIDTH) -> str:
    """The first words of a stem on one line, cut to ``width`` display columns with "…" when longer."""
    flat = " ".join(text.split())
    if wcswidth(flat) <= width:
        return flat
    out, used = "", 0
    for ch in flat:
        w = max(wcswidth(ch), 0)
        if used + w > width - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


def _distractor_flags(cohort: Cohort, min_share: float, min_n: int) -> dict[str, tuple[str, ...]]:
    """Per choice question: 干扰项无效（C、D） and/or 样本量小（…） naming the options concerned."""
    options, keys = choice_options(cohort.course)
    frame = items.nonfunctional_distractors(items.distractors(cohort.responses, options, keys), min_share, min_n)
    flags: dict[str, tuple[str, ...]] = {}
    for question, rows in frame.groupby("question", sort=True):
        found = []
        for column, label in (("nonfunctional", items.NONFUNCTIONAL), ("small_sample", items.SMALL_SAMPLE)):
            chosen = rows.loc[rows[column], "option"].tolist()
            if chosen:
                found.append(f"{label}（{'、'.join(chosen)}）")
        if found:
            flags[str(question)] = tuple(found)
    return flags


def review_items(cohort: Cohort, thresholds: items.Thresholds = items.DEFAULT_THRESHOLDS, *,
                 min_share: float = 0.05, min_n: int = items.MIN_DISTRACTOR_RESPONDENTS) -> pd.DataFrame:
    """One row per flagged item of the cohort (:data:`REVIEW_COLUMNS`), by chapter and question id.

    ``flags`` holds every flag of the item: :func:`items.item_statistics` (on raw marks) and the
    distractor flags; an item is kept when one of them starts with a :data:`REVIEW_FLAGS` label.
    """
    distractor_flags = _distractor_flags(cohort, min_share, min_n)
    questions = {q.id: q for q in cohort.course.questions}
    rows = []
    for chapter in sorted(cohort.scores["chapter"].unique()):
        table = items.item_statistics(cohort.scores, chapter, thresholds)
        for row in table.itertuples(index=False):
            flags = tuple(row.flags) + distractor_flags.get(row.question, ())
            if not any(flag.startswith(REVIEW_FLAGS) for flag in flags):
                continue
            q = questions[row.question]
            rows.append({"chapter": chapter, "question": row.question, "type": q.type, "n": row.n,
                         "facility": row.facility, "discrimination": row.discrimination,
                         "ul_index": row.ul_index, "flags": flags, "stem": stem_start(q.stem)})
    return pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))


def _cell(column: str, value: object) -> str:
    if column in ("facility", "discrimination", "ul_index"):
        number = float(value)  # type: ignore[arg-type]
        if math.isnan(number):
            return "—"
        return f"{number:.0%}" if column == "facility" else f"{number:.2f}"
    if column == "type":
        return TYPE_TITLES.get(str(value), str(value))
    if column == "flags":
        return "、".join(cast("tuple[str, ...]", value))
    return str(value)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - wcswidth(text))
    return gap + text if right else text + gap


def render_table(table: pd.DataFrame) -> str:
    """The review table as plain text: Chinese headers, columns aligned by display width (wcwidth)."""
    columns = list(REVIEW_COLUMNS)
    cells = [[HEADERS[c] for c in columns]] + [[_cell(c, row[c]) for c in columns] for _, row in table.iterrows()]
    widths = [max(wcswidth(line[i]) for line in cells) for i in range(len(columns))]
    numeric = {"n", "facility", "discrimination", "ul_index"}
    lines = []
    for line in cells:
        parts = [_pad(text, widths[i], columns[i] in numeric) for i, text in enumerate(line)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def render_review(cohort: Cohort, table: pd.DataFrame, min_n: int = items.MIN_DISTRACTOR_RESPONDENTS) -> str:
    """A one-line summary of the cohort and the flagged items, then the table (or that none is flagged)."""
    scores = cohort.scores
    learners = scores["learner"].nunique()
    latest = pd.to_datetime(scores["submitted_at"]).max()
    when = f"，最新提交 {latest:%Y-%m-%d %H:%M}" if pd.notna(latest) else ""
    chapters = scores["chapter"].nunique()
    lines = [f"题目复核：成绩库中 {learners} 名学员的最新提交，{chapters} 章{when}；"
             f"{len(table)} 道题需要复核。"]
    responses = cohort.responses
    per_chapter = responses[responses["response"].notna()].groupby("chapter")["learner"].nunique()
    few = sorted(per_chapter[per_chapter < min_n].index)
    if few:
        lines.append(f"注意：{'、'.join(few)} 的作答人数少于 {min_n}，干扰项比例仅供参考（{items.SMALL_SAMPLE}）。")
    lines.append(render_table(table) if len(table) else "没有需要复核的题目。")
    return "\n".join(lines)


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def load_review_cohort(root: Path, content: Path | None = None) -> Cohort:
    """The cohort for the review, or a one-line WorkflowError saying what to run when there is nothing to review."""
    from course.analytics.frames import load_cohort
    from course.nbconfig import db_url

    path = _sqlite_path(db_url(root.resolve()))
    if path is not None and not path.is_file():
        raise WorkflowError(f"没有成绩库 {path}：先运行 `course autograde`（或用 `course demo` 生成模拟数据），"
                            "再运行 `course validate --review`")
    cohort = load_cohort(root, content=content)
    graded = cohort.scores[cohort.scores["type"].isin(items.AUTO_GRADED_TYPES) & cohort.scores["score"].notna()]
    if graded.empty:
        raise WorkflowError("成绩库里还没有已评分的作答：先运行 `course collect` 和 `course autograde`，"
                            "再运行 `course validate --review`")
    return cohort


DIF_BY = {"region": "地区", "department": "部门"}


def render_dif(cohort: Cohort, roster: pd.DataFrame | None) -> str:
    """Items with ETS class B or C DIF by region and by department (Mantel–Haenszel), with their stems."""
    from course.analytics.dif import MIN_GROUP, dif_items

    if roster is None:
        return "差异题目功能（DIF）：没有学员名册（roster.csv），无法按地区和部门分组分析。"
    questions = {q.id: q for q in cohort.course.questions}
    scores = cohort.scores.drop(columns=[c for c in DIF_BY if c in cohort.scores.columns])
    learners = scores["learner"].astype(str)
    for column in DIF_BY:
        scores[column] = learners.map(roster[column].astype(str)).fillna("未登记").to_numpy()
    lines = ["差异题目功能（DIF，Mantel–Haenszel，ETS 分级；各组与其余学员比较，按章总分分层，"
             f"每组至少 {MIN_GROUP} 人）："]
    for column, title in DIF_BY.items():
        table = dif_items(scores, column)
        flagged = table[table["ets"].isin(["B", "C"])].sort_values(["ets", "question"], ascending=[False, True])
        lines.append(f"按{title}：分析 {table['question'].nunique()} 题 × {table['group'].nunique()} 组，"
                     f"B 级 {int((table['ets'] == 'B').sum())}、C 级 {int((table['ets'] == 'C').sum())}。")
        for r in flagged.itertuples(index=False):
            side = "对该组偏难" if r.delta < 0 else "对该组偏易"
            q = questions[r.question]
            lines.append(f"  {r.ets} 级  {r.question}  {TYPE_TITLES.get(q.type, q.type)}  {title}={r.group}"
                         f"（{r.n_focal} 人，对照 {r.n_reference} 人）  Δ_MH {r.delta:+.2f}，{side}  "
                         f"{stem_start(q.stem)}")
    return "\n".join(lines)


def review_report(root: Path, content: Path | None = None) -> str:
    """Everything ``course validate --review`` prints, from the gradebook under ``root``."""
    cohort = load_review_cohort(root, content)
    roster_csv = root / "roster.csv"
    roster = None
    if roster_csv.is_file():
        from course.analytics.roster import read_roster

        roster = read_roster(roster_csv, cohort.course)
    return render_review(cohort, review_items(cohort)) + "\n" + render_dif(cohort, roster)
