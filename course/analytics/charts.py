"""Charts for the cohort reports: frames in, ``matplotlib.figure.Figure`` out, Chinese titles and labels.

Figures are built with ``Figure()`` rather than pyplot, so nothing lands in
pyplot's global figure list (no memory growth over a long notebook session, no
backend needed to save a PNG); Jupyter displays a returned Figure inline.

Units follow the frames of ``course.analytics.weighting`` and ``items``:
cohort mastery and weights in percent (0–100), learner mastery, pass rates,
facility and discrimination as proportions (0–1), weighted scores on 0–100.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import cast

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from matplotlib.transforms import Bbox

from course.analytics.fonts import use_cjk_font
from course.analytics.items import DEFAULT_THRESHOLDS

MASTERY_COLOR = "#2f6db5"
WEIGHT_COLOR = "#f0a030"
ALERT_COLOR = "#c0392b"
NEUTRAL_COLOR = "#7f8c8d"
MISSING_COLOR = "#d9d9d9"
NO_DATA = "无数据"

# the item-analysis thresholds are the ones items.py flags with
FACILITY_LOW = DEFAULT_THRESHOLDS.too_hard
FACILITY_HIGH = DEFAULT_THRESHOLDS.too_easy
DISCRIMINATION_MIN = DEFAULT_THRESHOLDS.poor_discrimination
MAX_ITEM_LABELS = 30  # beyond this many flagged items, only the 30 lowest discriminations are numbered
# placing an item's number (distances in points): around its point at growing distances, 8 directions
LABEL_RADII = (1.0, 4.0, 9.0, 16.0, 26.0, 40.0, 60.0, 90.0)
LABEL_ANGLES = tuple(np.radians([45, 135, 315, 225, 90, 270, 0, 180]))
LABEL_MARGIN = 2.0  # between a number and the axes' edge
LEADER_MIN = 3.0  # a number farther than this from its point gets a leader line
MARKER_RADIUS = 2.8  # a scatter point of size 30 (points²)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}")


def _in_range(values: pd.Series | np.ndarray, low: float, high: float, name: str) -> None:
    # catches a proportion passed where a percentage is expected (and vice versa) before it draws a wrong chart
    array = np.asarray(values, dtype=float)
    bad = array[~np.isnan(array) & ((array < low) | (array > high))]
    if bad.size:
        raise ValueError(f"{name} must lie in {low:g}..{high:g}, got {bad[0]:g}")


def _no_data(ax: Axes, title: str) -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, "暂无数据", ha="center", va="center", transform=ax.transAxes, color=NEUTRAL_COLOR)
    ax.set_axis_off()


def mastery_vs_weight(area_frame: pd.DataFrame, level_title: str) -> Figure:
    """Per area: cohort mastery (%) bar next to the level's 比重表 weight (%) bar.

    ``area_frame`` columns: area_title, mastery (0–100, NaN when not measured), weight (0–100).
    """
    use_cjk_font()
    _require(area_frame, ["area_title", "mastery", "weight"], "area_frame")
    _in_range(area_frame["mastery"], 0, 100, "mastery (percent)")
    _in_range(area_frame["weight"], 0, 100, "weight (percent)")
    n = len(area_frame)
    fig = Figure(figsize=(max(6.0, 0.9 * n + 2), 4.8), layout="constrained")
    ax = fig.subplots()
    title = f"{level_title}：各知识领域掌握度与比重"
    if n == 0:
        _no_data(ax, title)
        return fig
    x = np.arange(n)
    mastery = area_frame["mastery"].to_numpy(dtype=float)
    bars = ax.bar(x - 0.2, np.nan_to_num(mastery), width=0.4, color=MASTERY_COLOR, label="学员掌握度（%）")
    weights = ax.bar(x + 0.2, area_frame["weight"].to_numpy(dtype=float), width=0.4, color=WEIGHT_COLOR,
                     label="比重表权重（%）")
    # an unmeasured area must not look like 0 % mastery
    ax.bar_label(bars, labels=["未测" if np.isnan(v) else f"{v:.0f}" for v in mastery], fontsize=8, padding=2)
    ax.bar_label(weights, fmt="%.0f", fontsize=8, padding=2)
    ax.set_xticks(x, area_frame["area_title"].astype(str).tolist(), rotation=30, ha="right")
    ax.set_ylim(0, 110)
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.set_ylabel("百分比")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=9)
    return fig


def priority_pareto(priority_frame: pd.DataFrame) -> Figure:
    """Training priority per area, largest first, with the cumulative share line (Pareto chart).

    ``priority_frame`` columns: area_title, priority (weight × (1 − mastery), ≥ 0).
    """
    use_cjk_font()
    _require(priority_frame, ["area_title", "priority"], "priority_frame")
    frame = priority_frame.sort_values("priority", ascending=False, kind="stable", ignore_index=True)
    n = len(frame)
    fig = Figure(figsize=(max(6.0, 0.8 * n + 2), 4.8), layout="constrained")
    ax = fig.subplots()
    title = "培训优先级（帕累托图）"
    if n == 0:
        _no_data(ax, title)
        return fig
    priority = frame["priority"].to_numpy(dtype=float)
    total = priority.sum()
    cumulative = 100 * np.cumsum(priority) / total if total > 0 else np.zeros(n)
    x = np.arange(n)
    ax.bar(x, priority, color=MASTERY_COLOR, label="培训优先级")
    ax.set_xticks(x, frame["area_title"].astype(str).tolist(), rotation=30, ha="right")
    ax.set_ylabel("培训优先级（权重 ×（1 − 掌握度））")
    ax.set_title(title)
    share = ax.twinx()
    share.plot(x, cumulative, color=ALERT_COLOR, marker="o", label="累计占比")
    share.axhline(80, color=NEUTRAL_COLOR, linestyle="--", linewidth=1)
    share.set_ylim(0, 105)
    share.yaxis.set_major_formatter(PercentFormatter(100))
    share.set_ylabel("累计占比")
    handles = ax.get_legend_handles_labels()[0] + share.get_legend_handles_labels()[0]
    # above the axes (outside them), so it can never cover a bar or the line
    fig.legend(handles, [str(h.get_label()) for h in handles], loc="outside upper right", ncols=2, fontsize=9,
               frameon=False)
    return fig


def score_distribution(weighted: pd.Series, pass_mark: float, level_title: str) -> Figure:
    """Histogram of weighted scores (0–100, 5-point bins) with the pass line and the pass rate.

    A learner passes with a score ≥ ``pass_mark``; NaN scores are left out.
    """
    use_cjk_font()
    scores = pd.Series(weighted, dtype=float).dropna()
    _in_range(scores, 0, 100, "weighted score")
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.subplots()
    title = f"{level_title}：加权成绩分布"
    if scores.empty:
        _no_data(ax, title)
        return fig
    ax.hist(scores, bins=list(range(0, 105, 5)), color=MASTERY_COLOR, edgecolor="white")
    ax.axvline(pass_mark, color=ALERT_COLOR, linestyle="--", linewidth=2, label=f"合格线 {pass_mark:g} 分")
    passed = int((scores >= pass_mark).sum())
    ax.text(0.02, 0.95, f"合格率 {passed / len(scores):.1%}（{passed}/{len(scores)} 人）", transform=ax.transAxes,
            va="top", fontsize=11, bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": NEUTRAL_COLOR})
    ax.set_xlim(0, 100)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("加权成绩（分）")
    ax.set_ylabel("人数")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=9)
    return fig


def pass_rate_by_group(rate_frame: pd.DataFrame, group_label: str) -> Figure:
    """Horizontal bars of the pass rate (合格率) per group, highest on top, each labelled with its head count.

    ``rate_frame`` columns: group, pass_rate (0–1), n; ``group_label`` names the grouping, e.g. 地区.
    """
    use_cjk_font()
    _require(rate_frame, ["group", "pass_rate", "n"], "rate_frame")
    _in_range(rate_frame["pass_rate"], 0, 1, "pass_rate (proportion)")
    frame = rate_frame.sort_values("pass_rate", ascending=False, kind="stable", ignore_index=True)
    n = len(frame)
    fig = Figure(figsize=(7.0, max(2.5, 0.45 * n + 1.2)), layout="constrained")
    ax = fig.subplots()
    title = f"各{group_label}合格率"
    if n == 0:
        _no_data(ax, title)
        return fig
    y = np.arange(n)
    rates = 100 * frame["pass_rate"].to_numpy(dtype=float)
    bars = ax.barh(y, rates, color=MASTERY_COLOR)
    ax.bar_label(bars, fmt="%.1f%%", fontsize=8, padding=2)
    ax.set_yticks(y, [f"{g}（n={int(k)}）" for g, k in zip(frame["group"], frame["n"], strict=True)])
    ax.invert_yaxis()  # first (highest) row on top
    ax.set_xlim(0, 110)
    ax.xaxis.set_major_formatter(PercentFormatter(100))
    ax.set_xlabel("合格率")
    ax.set_ylabel(group_label)
    ax.set_title(title)
    return fig


def heatmap(matrix: pd.DataFrame, title: str, *, row_label: str, max_rows: int = 60) -> Figure:
    """Mastery heatmap, rows (``row_label``: 学员, 地区, ...) × areas, values 0–1 written in every cell.

    A cell without data is grey and says 无数据. Beyond ``max_rows`` rows only the first
    ``max_rows`` are drawn and a note says so; sort the matrix first to choose which rows show.
    """
    use_cjk_font()
    values = matrix.to_numpy(dtype=float)
    _in_range(values, 0, 1, "mastery (proportion)")
    total = len(matrix)
    shown = matrix.iloc[:max_rows]
    rows, cols = shown.shape
    few = rows <= 12  # a few rows (regions) get taller rows and larger type than a list of learners
    fig = Figure(figsize=(min(7.5, max(6.0, 0.9 * cols + 2.5)), max(3.0, (0.42 if few else 0.22) * rows + 2.2)),
                 layout="constrained")
    ax = fig.subplots()
    if rows == 0 or cols == 0:
        _no_data(ax, title)
        return fig
    cells = shown.to_numpy(dtype=float)
    cmap = colormaps["RdYlGn"].with_extremes(bad=MISSING_COLOR)
    image = ax.imshow(np.ma.masked_invalid(cells), cmap=cmap, vmin=0, vmax=1, aspect="auto",
                      interpolation="nearest")
    # small type once many rows share the height; 60 rows at 6 pt stay readable
    font = 9 if few else 8 if rows <= 30 else 6
    for (row, col), value in np.ndenumerate(cells):
        text = NO_DATA if np.isnan(value) else f"{value:.0%}"
        ax.text(col, row, text, ha="center", va="center", fontsize=font, color=_ink_on(cmap(value)))
    ax.set_yticks(np.arange(rows), shown.index.astype(str).tolist(), fontsize=font)
    ax.set_xticks(np.arange(cols), shown.columns.astype(str).tolist(), rotation=30, ha="right",
                  fontsize=9 if few else 8)
    ax.set_xlabel("知识领域")
    ax.set_ylabel(row_label)
    ax.set_title(title)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("掌握度")
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1))
    if total > rows:
        unit = "名" if row_label == "学员" else "个"
        fig.supxlabel(f"注：仅显示前 {rows} {unit}{row_label}（共 {total} {unit}）", x=0.01, ha="left", fontsize=8,
                      color=NEUTRAL_COLOR)
    return fig


def _ink_on(background: Sequence[float] | np.ndarray) -> str:
    """Black or white, whichever reads better on ``background`` (relative luminance, WCAG)."""
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in background[:3])
    return "black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.18 else "white"


def radar(learner_values: Sequence[float], cohort_values: Sequence[float], labels: Sequence[str],
          title: str) -> Figure:
    """Polar radar of one learner's mastery per area (0–1) against the cohort mean; needs 3 or more areas.

    An area without data (NaN) is not drawn as 0 %: the line breaks there, the polygon is not
    filled and the area's label says 无数据.
    """
    use_cjk_font()
    learner = np.asarray(learner_values, dtype=float)
    cohort = np.asarray(cohort_values, dtype=float)
    if not len(learner) == len(cohort) == len(labels):
        raise ValueError(f"radar needs as many values as labels: learner {len(learner)}, cohort {len(cohort)}, "
                         f"labels {len(labels)}")
    if len(labels) < 3:
        raise ValueError(f"a radar needs at least 3 areas, got {len(labels)}; use a bar chart instead")
    _in_range(learner, 0, 1, "learner mastery (proportion)")
    _in_range(cohort, 0, 1, "cohort mastery (proportion)")
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False)
    closed = np.append(angles, angles[0])  # repeat the first point to close the polygon
    fig = Figure(figsize=(6.0, 6.0), layout="constrained")
    ax = cast(PolarAxes, fig.add_subplot(projection="polar"))
    ax.set_theta_offset(np.pi / 2)  # first area at the top, then clockwise
    ax.set_theta_direction(-1)
    for values, color, name in ((cohort, NEUTRAL_COLOR, "学员平均"), (learner, MASTERY_COLOR, "本人")):
        ring = np.append(values, values[0])
        ax.plot(closed, ring, color=color, linewidth=2, label=name, marker="o", markersize=3)
        if not np.isnan(values).any():
            ax.fill(closed, ring, color=color, alpha=0.15)
    missing = np.isnan(learner) | np.isnan(cohort)
    ax.set_thetagrids(np.degrees(angles), [f"{label}\n（无数据）" if gap else str(label)
                                           for label, gap in zip(labels, missing, strict=True)], fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.2, 0.4, 0.6, 0.8, 1.0])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0%}"))
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title, pad=28)  # room for the top axis label
    ax.legend(loc="lower right", bbox_to_anchor=(1.12, -0.08), fontsize=9)  # clear of the title
    return fig


def _has_flags(flags: object) -> bool:
    if isinstance(flags, str):
        return bool(flags.strip())
    if isinstance(flags, tuple | list | set | frozenset):
        return len(flags) > 0
    return False  # None / NaN: no flags


def item_scatter(item_frame: pd.DataFrame, *, facility_low: float = FACILITY_LOW,
                 facility_high: float = FACILITY_HIGH, discrimination_min: float = DISCRIMINATION_MIN) -> Figure:
    """Facility (x) against discrimination (y) per item, threshold lines drawn, flagged items red and numbered.

    ``item_frame`` columns: facility (0–1), discrimination (−1–1, NaN when the item has no
    variance), flags (tuple or str of Chinese flag labels, empty when fine) and number (the
    item's number in the page's table of flagged items, NA when it has none; see
    ``tables.flag_numbers``). A flagged item's number is drawn next to its point, inside the
    axes, with a leader line when it had to move away; at most ``MAX_ITEM_LABELS`` are drawn
    (the lowest discriminations). In SVG output each label is the group ``item-label-<number>``
    and the plotting area ``item-axes``, so a page can be checked in the browser.
    """
    use_cjk_font()
    _require(item_frame, ["facility", "discrimination", "flags", "number"], "item_frame")
    _in_range(item_frame["facility"], 0, 1, "facility (proportion)")
    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
    ax = fig.subplots()
    title = "题目分析：难度与区分度"
    if item_frame.empty:
        _no_data(ax, title)
        return fig
    flagged = item_frame["flags"].map(_has_flags).to_numpy()
    measurable = item_frame["discrimination"].notna().to_numpy()
    for mask, color, name in ((~flagged, MASTERY_COLOR, "正常"), (flagged, ALERT_COLOR, "需复核（数字为下表编号）")):
        part = item_frame[mask & measurable]
        if len(part):
            ax.scatter(part["facility"], part["discrimination"], color=color, s=30, label=name, zorder=3)
    for x in (facility_low, facility_high):
        ax.axvline(x, color=NEUTRAL_COLOR, linestyle="--", linewidth=1)
    ax.axhline(discrimination_min, color=NEUTRAL_COLOR, linestyle="--", linewidth=1,
               label=f"标记线（得分率 {facility_low:.0%}、{facility_high:.0%}；区分度 {discrimination_min:.2f}）")
    ax.axhline(0, color=ALERT_COLOR, linestyle=":", linewidth=1, label="区分度 0（负区分）")
    labelled = item_frame[flagged & measurable & item_frame["number"].notna().to_numpy()]
    if len(labelled) > MAX_ITEM_LABELS:  # keep the chart legible: number the weakest discriminators only
        labelled = labelled.nsmallest(MAX_ITEM_LABELS, "discrimination")
    low = item_frame["discrimination"].min()
    ax.set_xlim(0, 1)
    ax.set_ylim(min(-0.2, low - 0.05) if pd.notna(low) else -0.2, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    ax.set_xlabel("难度（得分率，越高越容易）")
    ax.set_ylabel("区分度（校正题总相关）")
    ax.set_title(title)
    ax.patch.set_gid("item-axes")
    notes = []
    unmeasured = int((~measurable).sum())
    if unmeasured:
        notes.append(f"另有 {unmeasured} 题无法计算区分度（得分无差异），未画出")
    if int((flagged & measurable).sum()) > len(labelled):
        notes.append(f"图中只标出区分度最低的 {len(labelled)} 道被标记题目的编号，全部见下表")
    # under the axes, where it can cover neither a point nor a number; the notes head it
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False, title="；".join(notes) or None,
               title_fontsize=8, alignment="left")
    _number_points(fig, ax, labelled, item_frame[measurable])
    return fig


def _number_points(fig: Figure, ax: Axes, labelled: pd.DataFrame, points: pd.DataFrame) -> None:
    """Each number next to its point: clear of the other numbers and of every point, inside the axes.

    A small greedy search instead of adjustText, which keeps labels inside the axes and off the
    points only approximately (it left numbers on top of their red point and, before, flung
    labels far outside the axes). Candidates lie around the point at growing distances; the
    nearest free one wins, else the one covering least. A number not touching its point gets a
    leader line. The layout is computed once and then frozen, so the positions measured here are
    the ones saved (constrained layout would move the axes again at each draw).
    """
    if labelled.empty:
        return
    canvas = FigureCanvasAgg(fig)  # text extents need a renderer; a bare Figure has none
    canvas.draw()
    fig.set_layout_engine("none")
    renderer = canvas.get_renderer()
    px = fig.dpi / 72  # display units per point
    area = ax.get_window_extent(renderer).padded(-LABEL_MARGIN * px)
    dots = ax.transData.transform(points[["facility", "discrimination"]].to_numpy(dtype=float))
    mine = ax.transData.transform(labelled[["facility", "discrimination"]].to_numpy(dtype=float))
    marker = MARKER_RADIUS * px
    placed: list[Bbox] = []
    leaders = []
    # the most crowded points choose first: they have the fewest free places
    crowd = [int((np.hypot(*(dots - p).T) < 20 * px).sum()) for p in mine]
    for i in sorted(range(len(mine)), key=lambda k: (-crowd[k], k)):
        number = int(labelled["number"].iloc[i])
        text = ax.text(0, 0, str(number), fontsize=8, color=ALERT_COLOR, ha="center", va="center",
                       gid=f"item-label-{number}", zorder=4)
        width, height = text.get_window_extent(renderer).size
        point = mine[i]
        best, best_cost = None, np.inf
        for radius in LABEL_RADII:
            for angle in LABEL_ANGLES:
                # the box's near corner (or edge) sits ``radius`` beyond the point's edge
                dx, dy = np.cos(angle), np.sin(angle)
                reach = marker + radius * px
                cx = point[0] + dx * reach + np.sign(round(dx, 6)) * width / 2
                cy = point[1] + dy * reach + np.sign(round(dy, 6)) * height / 2
                box = Bbox.from_bounds(cx - width / 2, cy - height / 2, width, height)
                if not (area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1):
                    continue
                grown = box.padded(marker)
                covered = int(((dots[:, 0] > grown.x0) & (dots[:, 0] < grown.x1) & (dots[:, 1] > grown.y0)
                               & (dots[:, 1] < grown.y1)).sum())
                cost = 10 * sum(box.overlaps(other) for other in placed) + covered
                if cost < best_cost:
                    best, best_cost = box, cost
            if best_cost == 0:
                break
        if best is None:  # no candidate inside at all (a tiny axes): at the point, clipped to the axes
            best = Bbox.from_bounds(float(np.clip(point[0] - width / 2, area.x0, area.x1 - width)),
                                    float(np.clip(point[1] - height / 2, area.y0, area.y1 - height)), width, height)
        placed.append(best)
        x, y = ax.transData.inverted().transform(((best.x0 + best.x1) / 2, (best.y0 + best.y1) / 2))
        text.set_position((float(x), float(y)))
        nearest = np.clip(point, [best.x0, best.y0], [best.x1, best.y1])
        gap = float(np.hypot(*(nearest - point)))
        if gap > marker + LEADER_MIN * px:
            start = point + (nearest - point) * (marker / gap)
            leaders.append(ax.transData.inverted().transform([start, nearest]))
    if leaders:
        ax.add_collection(LineCollection(leaders, colors=ALERT_COLOR, linewidths=0.6, gid="item-leaders", zorder=2))


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element to place in a page (glyphs as paths: no font needed to show it).

    A page shows a chart inline as SVG where its text positions must be checkable in the browser
    (the item scatter's numbers; an SVG given as an image keeps its inside from the page). It also
    keeps the figure's size: the PNG that Jupyter makes is cropped to fit every artist, so its size
    on the page would depend on where the labels land.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "kam-course"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # without the XML declaration and doctype, which belong to a file
