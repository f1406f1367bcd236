"""Certification charts: a learner's competency radar against the target level, the cohort's gaps per item."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes

from course.analytics.fonts import use_cjk_font

REQUIRED_COLOR = "#c0392b"
RATED_COLOR = "#2f6db5"


def competency_radar(rated: pd.Series, required: float, labels: list[str], level_titles: list[str],
                     title: str) -> Figure:
    """One learner's rating rank per item (1..n levels; NaN: not rated) against the required rank."""
    use_cjk_font()
    if len(rated) != len(labels) or len(labels) < 3:
        raise ValueError(f"a radar needs one value per label and at least 3 items, got {len(rated)} values "
                         f"and {len(labels)} labels")
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False)
    closed = np.append(angles, angles[0])
    fig = Figure(figsize=(7.0, 7.0), layout="constrained")
    ax = cast(PolarAxes, fig.add_subplot(projection="polar"))
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    values = np.nan_to_num(np.asarray(rated, dtype=float))
    need = np.full(len(labels), float(required))
    for ring, color, name in ((need, REQUIRED_COLOR, "目标级别要求"), (values, RATED_COLOR, "评定结果")):
        loop = np.append(ring, ring[0])
        ax.plot(closed, loop, color=color, linewidth=2, label=name)
        ax.fill(closed, loop, color=color, alpha=0.12)
    ax.set_thetagrids(np.degrees(angles), labels, fontsize=8)
    # the top level's ring inside the frame and its name between two spokes, clear of the item labels
    ax.set_ylim(0, len(level_titles) + 0.4)
    ax.set_yticks(range(1, len(level_titles) + 1), level_titles, fontsize=7)
    ax.set_rlabel_position(180 / len(labels))
    ax.set_title(title, pad=28)
    ax.legend(loc="lower right", bbox_to_anchor=(1.15, -0.08), fontsize=9)
    return fig


def cohort_gap_bars(gaps: pd.DataFrame, title: str = "能力素质差距（按项目）") -> Figure:
    """Per item: the share of learners below their target level's requirement (gaps: ratings.cohort_gaps)."""
    use_cjk_font()
    fig = Figure(figsize=(8.0, 0.35 * max(len(gaps), 3) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    if gaps.empty:
        ax.set_title(title)
        ax.text(0.5, 0.5, "暂无评定数据", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    ordered = gaps.sort_values("share_below")  # the largest gap on top
    bars = ax.barh(ordered["title"], ordered["share_below"] * 100, color=REQUIRED_COLOR)
    ax.bar_label(bars, fmt="%.0f%%", fontsize=8, padding=2)  # a 0 % item has no bar: the label says 0 %
    ax.set_xlim(0, 100)
    ax.set_xlabel("低于目标级别要求的学员占比（%）")
    ax.set_title(title)
    return fig
