"""Summary tables of the content, printed by ``course validate``."""

from __future__ import annotations

import pandas as pd
from wcwidth import wcswidth

from course.loader import Course
from course.model import QUESTION_TYPES, TYPE_TITLES


def bank_frame(course: Course) -> pd.DataFrame:
    """One row per question with its place in the syllabus and its area."""
    rows = [
        {
            "question": q.id,
            "part": course.part_of[q.chapter].title,
            "chapter": q.chapter,
            "section": q.section,
            "type": q.type,
            "area": course.area_of(q),
            "points": q.points,
            "levels": tuple(course.levels_of(q)),
            "source": q.provenance.source,
        }
        for q in course.questions
    ]
    return pd.DataFrame(rows)


def per_chapter(course: Course) -> pd.DataFrame:
    bank = bank_frame(course)
    table = pd.crosstab(bank["chapter"], bank["type"]).reindex(columns=list(QUESTION_TYPES), fill_value=0)
    table.columns = [TYPE_TITLES[t] for t in table.columns]
    table.insert(0, "章", [course.chapters[c].title for c in table.index])
    table["题数"] = bank.groupby("chapter").size()
    table["分值"] = bank.groupby("chapter")["points"].sum()
    order = [c for c in course.chapters if c in table.index]
    return table.loc[order]


def per_type(course: Course) -> pd.DataFrame:
    bank = bank_frame(course)
    table = bank.groupby("type").agg(题数=("question", "size"), 分值=("points", "sum"))
    table = table.reindex([t for t in QUESTION_TYPES if t in table.index])
    table.index = [TYPE_TITLES[t] for t in table.index]
    return table


def per_area(course: Course) -> pd.DataFrame:
    bank = bank_frame(course)
    table = bank.groupby("area").agg(题数=("question", "size"), 分值=("points", "sum"))
    table = table.reindex(list(course.leaf_areas), fill_value=0)
    table.insert(0, "知识领域", [f"{course.top_area_of[a].title}/{course.leaf_areas[a].title}" for a in table.index])
    return table


def points_against_weights(course: Course) -> pd.DataFrame:
    """Per level and area: the bank's share of points (%) next to the 比重表 weight (%)."""
    bank = bank_frame(course).explode("levels")
    rows = []
    for level in course.levels.levels:
        served = bank[bank["levels"] == level.id]
        total = served["points"].sum()
        for area, weight in course.weights.tables[level.id].items():
            points = served.loc[served["area"] == area, "points"].sum()
            rows.append({
                "level": level.title, "area": course.leaf_areas[area].title, "points": points,
                "share_pct": round(100 * points / total, 1) if total else 0.0, "weight_pct": weight,
            })
    return pd.DataFrame(rows)


def _level_table(course: Course) -> pd.DataFrame:
    """Per area and level: "the bank's share % / the 比重表 weight %"."""
    frame = points_against_weights(course)
    levels = [lv.title for lv in sorted(course.levels.levels, key=lambda lv: lv.rank)]
    frame["cell"] = [f"{s:g} / {w:g}" for s, w in zip(frame["share_pct"], frame["weight_pct"], strict=True)]
    table = frame.pivot(index="area", columns="level", values="cell").reindex(columns=levels)
    table.columns = [f"{level} 占比%/比重%" for level in table.columns]
    return table.rename_axis("知识领域")


def width(text: str) -> int:
    """Columns a string takes in a terminal (a Chinese character takes two)."""
    return max(wcswidth(text), len(text))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_table(table: pd.DataFrame, index: str | None = None) -> str:
    """A DataFrame as text columns aligned by display width; numbers right-aligned, text left-aligned."""
    header = [index or str(table.index.name or ""), *map(str, table.columns)]
    rows = [[_cell(i), *(_cell(v) for v in row)] for i, row in zip(table.index, table.to_numpy(), strict=True)]
    numeric = [False, *(pd.api.types.is_numeric_dtype(t) for t in table.dtypes)]
    widths = [max(width(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        out = []
        for c, text in enumerate(cells):
            pad = " " * (widths[c] - width(text))
            out.append(pad + text if numeric[c] else text + pad)
        return "  ".join(out).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def render(course: Course) -> str:
    parts = [
        f"题库共 {len(course.questions)} 题，{len(course.chapters)} 章。",
        "== 各章题数 ==", format_table(per_chapter(course), "章编号"),
        "== 各题型 ==", format_table(per_type(course), "题型"),
        "== 各知识领域 ==", format_table(per_area(course), "领域编号"),
        f"== 各级别分值占比与比重表（{course.weights.status}：{course.weights.note}）==",
        format_table(_level_table(course)),
    ]
    return "\n".join(parts)
