"""Charts render Chinese without missing glyphs and draw what the frames say."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure

from course.analytics import charts, fonts
from course.errors import CourseError

AREAS = ["电信基础知识", "客户关系管理", "市场营销"]


@pytest.fixture(autouse=True)
def _restore_rcparams() -> Iterator[None]:
    # use_cjk_font changes global rcParams; keep other test files unaffected
    with matplotlib.rc_context():
        yield


def glyph_warnings(fig: Figure) -> list[str]:
    """Render to PNG and return the missing-glyph warnings (the ones that mean boxes on screen)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(BytesIO(), format="png")
    messages = [str(w.message) for w in caught]
    return [m for m in messages if "Glyph" in m or "missing from font" in m]


def texts(ax: matplotlib.axes.Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


# ---------------------------------------------------------------- fonts


def test_use_cjk_font_sets_noto_first() -> None:
    """Does use_cjk_font make the shipped Noto Sans CJK SC file the first sans-serif font, with an ASCII minus?

    It must hold with a system copy of Noto Sans CJK installed too (Debian's fonts-noto-cjk).
    """
    family = fonts.use_cjk_font()
    assert family == fonts.FAMILY
    assert matplotlib.rcParams["font.family"] == ["sans-serif"]
    assert matplotlib.rcParams["font.sans-serif"][0] == fonts.FAMILY
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    chosen = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]), fallback_to_default=False)
    assert Path(chosen) == fonts.font_path()


def test_use_cjk_font_is_idempotent() -> None:
    """Does a second call neither register the file again nor repeat the family in the font list?"""
    fonts.use_cjk_font()
    path = str(fonts.font_path())
    entries = sum(entry.fname == path for entry in font_manager.fontManager.ttflist)
    fonts.use_cjk_font()
    assert sum(entry.fname == path for entry in font_manager.fontManager.ttflist) == entries
    assert matplotlib.rcParams["font.sans-serif"].count(fonts.FAMILY) == 1


def test_missing_font_file_names_path_and_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Does a missing font file raise a CourseError naming the path and `pip install mplfonts`?"""
    missing = tmp_path / fonts.FONT_FILE
    monkeypatch.setattr(fonts, "font_path", lambda: missing)
    with pytest.raises(fonts.FontMissingError) as info:
        fonts.use_cjk_font()
    assert isinstance(info.value, CourseError)
    assert str(missing) in str(info.value)
    assert "pip install mplfonts" in str(info.value)


def test_glyph_check_detects_boxes() -> None:
    """Would the glyph check fail a chart drawn with a font that lacks Chinese (so it proves something)?"""
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        fig = Figure()
        fig.subplots().set_title("掌握度")
        assert glyph_warnings(fig)


# ---------------------------------------------------------------- charts


def test_mastery_vs_weight() -> None:
    """Are there two bars per area, mastery and weight in percent, an unmeasured area marked 未测?"""
    frame = pd.DataFrame({"area_title": AREAS, "mastery": [72.5, 40.0, np.nan], "weight": [50.0, 30.0, 20.0]})
    fig = charts.mastery_vs_weight(frame, "三级（中级）")
    assert glyph_warnings(fig) == []
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    mastery_bars, weight_bars = ax.containers
    assert [b.get_height() for b in mastery_bars] == [72.5, 40.0, 0.0]
    assert [b.get_height() for b in weight_bars] == [50.0, 30.0, 20.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == AREAS
    assert texts(ax) == ["72", "40", "未测", "50", "30", "20"]
    assert ax.get_title() == "三级（中级）：各知识领域掌握度与比重"


def test_priority_pareto() -> None:
    """Are the bars sorted largest first and does the cumulative line run 50 %, 80 %, 100 %?"""
    frame = pd.DataFrame({"area_title": AREAS, "priority": [2.0, 5.0, 3.0]})
    fig = charts.priority_pareto(frame)
    assert glyph_warnings(fig) == []
    bars_ax, share_ax = fig.axes
    assert [b.get_height() for b in bars_ax.patches] == [5.0, 3.0, 2.0]
    assert [t.get_text() for t in bars_ax.get_xticklabels()] == ["客户关系管理", "市场营销", "电信基础知识"]
    assert share_ax.lines[0].get_ydata().tolist() == [50.0, 80.0, 100.0]
    assert bars_ax.get_title() == "培训优先级（帕累托图）"


def test_score_distribution() -> None:
    """Is the pass line at the pass mark, the rate 3 of 5 (score ≥ mark passes, NaN left out)?"""
    weighted = pd.Series([30.0, 55.0, 60.0, 75.0, 90.0, np.nan])
    fig = charts.score_distribution(weighted, 60, "四级")
    assert glyph_warnings(fig) == []
    ax = fig.axes[0]
    assert len(ax.patches) == 20  # 5-point bins over 0..100
    assert sum(b.get_height() for b in ax.patches) == 5
    pass_line = ax.lines[0]
    assert list(pass_line.get_xdata()) == [60, 60]
    assert pass_line.get_label() == "及格线 60 分"
    assert texts(ax) == ["通过率 60.0%（3/5 人）"]
    assert ax.get_title() == "四级：加权成绩分布"


def test_pass_rate_by_group() -> None:
    """Is one bar per group drawn, highest rate on top, each label carrying its n?"""
    frame = pd.DataFrame({"group": ["华南", "华东"], "pass_rate": [0.5, 0.75], "n": [4, 8]})
    fig = charts.pass_rate_by_group(frame, "地区")
    assert glyph_warnings(fig) == []
    ax = fig.axes[0]
    assert [b.get_width() for b in ax.patches] == [75.0, 50.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["华东（n=8）", "华南（n=4）"]
    assert ax.yaxis_inverted()
    assert texts(ax) == ["75.0%", "50.0%"]
    assert ax.get_title() == "各地区通过率"


def test_pass_rate_rejects_percentages() -> None:
    """Is a pass rate given in percent refused instead of drawn 100 times too long?"""
    frame = pd.DataFrame({"group": ["华东"], "pass_rate": [75.0], "n": [8]})
    with pytest.raises(ValueError, match="pass_rate"):
        charts.pass_rate_by_group(frame, "地区")


def test_pass_rate_empty_frame_says_no_data() -> None:
    """Does an empty frame give a figure saying 暂无数据 rather than an error?"""
    frame = pd.DataFrame({"group": [], "pass_rate": [], "n": []})
    fig = charts.pass_rate_by_group(frame, "部门")
    assert glyph_warnings(fig) == []
    assert texts(fig.axes[0]) == ["暂无数据"]


def test_heatmap() -> None:
    """Does the heatmap show every cell, mask a NaN, add a colour bar and no truncation note?"""
    matrix = pd.DataFrame([[0.1, 0.9], [np.nan, 0.5], [1.0, 0.0]], index=["张三", "李四", "王五"],
                          columns=AREAS[:2])
    fig = charts.heatmap(matrix, "学员 × 知识领域掌握度")
    assert glyph_warnings(fig) == []
    ax, colorbar = fig.axes
    data = ax.images[0].get_array()
    assert data.shape == (3, 2)
    assert data.mask.tolist() == [[False, False], [True, False], [False, False]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["张三", "李四", "王五"]
    assert colorbar.get_ylabel() == "掌握度"
    assert fig.texts == []


def test_heatmap_truncates_beyond_max_rows() -> None:
    """Beyond max_rows, are only the first rows drawn with a note giving the total?"""
    matrix = pd.DataFrame(np.full((5, 2), 0.5), index=[f"学员{i}" for i in range(5)], columns=AREAS[:2])
    fig = charts.heatmap(matrix, "掌握度", max_rows=2)
    assert glyph_warnings(fig) == []
    assert fig.axes[0].images[0].get_array().shape == (2, 2)
    assert [t.get_text() for t in fig.texts] == ["注：仅显示前 2 名学员（共 5 名）"]


def test_heatmap_sixty_rows_get_every_label() -> None:
    """Do 60 learners each keep a readable (6 pt) row label?"""
    matrix = pd.DataFrame(np.full((60, 3), 0.5), index=[f"学员{i:02d}" for i in range(60)], columns=AREAS)
    fig = charts.heatmap(matrix, "掌握度")
    assert glyph_warnings(fig) == []
    labels = fig.axes[0].get_yticklabels()
    assert len(labels) == 60
    assert {label.get_fontsize() for label in labels} == {6}


def test_radar() -> None:
    """Is the radar polar, closed, one spoke per area, learner and cohort both drawn?"""
    fig = charts.radar([0.8, 0.4, 0.6], [0.5, 0.5, 0.7], AREAS, "张三：各知识领域掌握度")
    assert glyph_warnings(fig) == []
    ax = fig.axes[0]
    assert ax.name == "polar"
    cohort, learner = ax.lines
    assert learner.get_ydata().tolist() == [0.8, 0.4, 0.6, 0.8]
    assert cohort.get_ydata().tolist() == [0.5, 0.5, 0.7, 0.5]
    assert [t.get_text() for t in ax.get_xticklabels()] == AREAS
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["学员平均", "本人"]
    assert ax.get_title() == "张三：各知识领域掌握度"


def test_radar_rejects_mismatched_lengths() -> None:
    """Are values and labels of different lengths refused?"""
    with pytest.raises(ValueError, match="as many values as labels"):
        charts.radar([0.8, 0.4], [0.5, 0.5, 0.7], AREAS, "张三")


def test_item_scatter() -> None:
    """Are the threshold lines at 0.20/0.90 and 0.20/0, and only flagged items labelled?"""
    frame = pd.DataFrame({
        "question": ["jc01-001", "jc01-002", "jc01-003", "jc01-004", "jc01-005"],
        "facility": [0.95, 0.5, 0.15, 0.6, 1.0],
        "discrimination": [0.1, 0.45, 0.3, -0.12, np.nan],
        "flags": [("过易", "区分度差"), (), ("过难",), ("区分度差", "负区分"), ("过易",)],
    })
    fig = charts.item_scatter(frame)
    assert glyph_warnings(fig) == []
    ax = fig.axes[0]
    normal, flagged = ax.collections
    assert normal.get_offsets().tolist() == [[0.5, 0.45]]
    assert flagged.get_offsets().tolist() == [[0.95, 0.1], [0.15, 0.3], [0.6, -0.12]]
    vertical = [line.get_xdata()[0] for line in ax.lines if line.get_xdata()[0] == line.get_xdata()[1]]
    horizontal = [line.get_ydata()[0] for line in ax.lines if line.get_ydata()[0] == line.get_ydata()[1]]
    assert vertical == [0.2, 0.9]
    assert horizontal == [0.2, 0]
    assert texts(ax) == ["jc01-001", "jc01-003", "jc01-004", "另有 1 题无法计算区分度（得分无差异）"]
