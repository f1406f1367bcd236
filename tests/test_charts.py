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

from course.analytics import charts, fonts, tables
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
    assert pass_line.get_label() == "合格线 60 分"
    assert texts(ax) == ["合格率 60.0%（3/5 人）"]
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
    assert ax.get_title() == "各地区合格率"


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
    """Does the heatmap show every cell with its value (无数据 where missing), its rows named, and no note?"""
    matrix = pd.DataFrame([[0.1, 0.9], [np.nan, 0.5], [1.0, 0.0]], columns=AREAS[:2],
                          index=["华东（3 人）", "华南（1 人）", "华北（2 人）"])
    fig = charts.heatmap(matrix, "各地区掌握度", row_label="地区")
    assert glyph_warnings(fig) == []
    ax, colorbar = fig.axes
    data = ax.images[0].get_array()
    assert data.shape == (3, 2)
    assert data.mask.tolist() == [[False, False], [True, False], [False, False]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["华东（3 人）", "华南（1 人）", "华北（2 人）"]
    assert ax.get_ylabel() == "地区" and ax.get_xlabel() == "知识领域"
    assert [(t.get_position(), t.get_text()) for t in ax.texts] == [
        ((0, 0), "10%"), ((1, 0), "90%"), ((0, 1), "无数据"), ((1, 1), "50%"), ((0, 2), "100%"), ((1, 2), "0%")]
    # the darkest cells (red 0 % and 10 %, deep green 100 %) get white figures; the rest, grey included, black
    assert [t.get_color() for t in ax.texts] == ["white", "black", "black", "black", "white", "white"]
    assert colorbar.get_ylabel() == "掌握度"
    assert [t.get_text() for t in fig.texts if t.get_text()] == []


def test_heatmap_truncates_beyond_max_rows() -> None:
    """Beyond max_rows, are only the first rows drawn with a note giving the total?"""
    matrix = pd.DataFrame(np.full((5, 2), 0.5), index=[f"学员{i}" for i in range(5)], columns=AREAS[:2])
    fig = charts.heatmap(matrix, "掌握度", row_label="学员", max_rows=2)
    assert glyph_warnings(fig) == []
    assert fig.axes[0].images[0].get_array().shape == (2, 2)
    assert [t.get_text() for t in fig.texts if t.get_text()] == ["注：仅显示前 2 名学员（共 5 名）"]


def test_heatmap_sixty_rows_get_every_label() -> None:
    """Do 60 learners each keep a readable (6 pt) row label and value?"""
    matrix = pd.DataFrame(np.full((60, 3), 0.5), index=[f"学员{i:02d}" for i in range(60)], columns=AREAS)
    fig = charts.heatmap(matrix, "掌握度", row_label="学员")
    assert glyph_warnings(fig) == []
    labels = fig.axes[0].get_yticklabels()
    assert len(labels) == 60
    assert {label.get_fontsize() for label in labels} == {6}
    assert {t.get_fontsize() for t in fig.axes[0].texts} == {6}


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
    """Are the threshold lines at 0.20/0.90 and 0.20/0, and only flagged items numbered, by their table number?"""
    frame = pd.DataFrame({
        "question": ["jc01-001", "jc01-002", "jc01-003", "jc01-004", "jc01-005"],
        "facility": [0.95, 0.5, 0.15, 0.6, 1.0],
        "discrimination": [0.1, 0.45, 0.3, -0.12, np.nan],
        "flags": [("过易", "区分度差"), (), ("过难",), ("区分度差", "负区分"), ("过易",)],
    })
    frame["number"] = tables.flag_numbers(frame)
    assert frame["number"].tolist() == [1, pd.NA, 2, 3, 4]
    fig = charts.item_scatter(frame)
    assert glyph_warnings(fig) == []
    ax = fig.axes[0]
    normal, flagged = ax.collections[:2]
    assert normal.get_offsets().tolist() == [[0.5, 0.45]]
    assert flagged.get_offsets().tolist() == [[0.95, 0.1], [0.15, 0.3], [0.6, -0.12]]
    vertical = [line.get_xdata()[0] for line in ax.lines if line.get_xdata()[0] == line.get_xdata()[1]]
    horizontal = [line.get_ydata()[0] for line in ax.lines if line.get_ydata()[0] == line.get_ydata()[1]]
    assert vertical == [0.2, 0.9]
    assert horizontal == [0.2, 0]
    # jc01-005 has no discrimination: not drawn, so its number 4 is not either, and the legend says why
    assert sorted((t.get_text(), t.get_gid()) for t in ax.texts) == [
        ("1", "item-label-1"), ("2", "item-label-2"), ("3", "item-label-3")]
    assert fig.legends[0].get_title().get_text() == "另有 1 题无法计算区分度（得分无差异），未画出"


def _label_boxes(fig: Figure) -> tuple[object, dict[str, object], np.ndarray]:
    """The axes box, each number's box and every drawn point, in display units of the saved figure."""
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    points = np.concatenate([c.get_offsets() for c in ax.collections[:2]])
    return (ax.get_window_extent(renderer), {t.get_text(): t.get_window_extent(renderer) for t in ax.texts},
            ax.transData.transform(points))


def test_item_labels_do_not_overlap() -> None:
    """Do the numbers of flagged items that sit close together end up apart, off every point, inside the axes?"""
    frame = pd.DataFrame({
        "question": [f"jc01-{i:03d}" for i in range(6)],
        "facility": [0.95, 0.951, 0.952, 0.953, 0.15, 0.151],
        "discrimination": [0.1, 0.101, 0.102, 0.103, 0.05, 0.051],
        "flags": [("过易",)] * 4 + [("过难",)] * 2,
    })
    frame["number"] = tables.flag_numbers(frame)
    fig = charts.item_scatter(frame)
    assert glyph_warnings(fig) == []
    area, boxes, points = _label_boxes(fig)
    assert sorted(boxes) == ["1", "2", "3", "4", "5", "6"]
    listed = list(boxes.values())
    assert not any(a.overlaps(b) for i, a in enumerate(listed) for b in listed[i + 1:])
    assert all(area.contains(b.x0, b.y0) and area.contains(b.x1, b.y1) for b in listed)
    assert not any(b.contains(x, y) for b in listed for x, y in points)


def test_crowded_numbers_stay_inside_the_axes_with_leader_lines() -> None:
    """Forty flagged items packed in the corner: is every number inside the axes, and tied to its point?

    A number that could not sit next to its point has a leader line from the point's edge to the
    number's box; the SVG names each number and the plotting area, for the page test in the browser.
    """
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"question": [f"q{i}" for i in range(40)], "facility": rng.uniform(0.95, 1.0, 40),
                          "discrimination": rng.uniform(-0.3, -0.2, 40), "flags": [("过易", "负区分")] * 40})
    frame["number"] = tables.flag_numbers(frame)
    fig = charts.item_scatter(frame)
    svg = charts.to_svg(fig)
    area, boxes, _ = _label_boxes(fig)
    assert len(boxes) == charts.MAX_ITEM_LABELS  # the 30 lowest discriminations
    assert all(area.contains(b.x0, b.y0) and area.contains(b.x1, b.y1) for b in boxes.values())
    ax = fig.axes[0]
    (leaders,) = [c for c in ax.collections if c.get_gid() == "item-leaders"]
    segments = [ax.transData.transform(seg) for seg in leaders.get_segments()]
    px = fig.dpi / 72
    for number, box in boxes.items():
        row = frame[frame["number"] == int(number)].iloc[0]
        point = ax.transData.transform((row["facility"], row["discrimination"]))
        near = np.clip(point, [box.x0, box.y0], [box.x1, box.y1])
        if np.hypot(*(near - point)) <= (charts.MARKER_RADIUS + charts.LEADER_MIN) * px:
            continue  # next to its point
        assert any(np.hypot(*(s[0] - point)) == pytest.approx(charts.MARKER_RADIUS * px)
                   and np.allclose(s[1], near) for s in segments), number
    assert svg.count('id="item-label-') == charts.MAX_ITEM_LABELS and 'id="item-axes"' in svg
    assert "图中只标出区分度最低的 30 道被标记题目的编号，全部见下表" in fig.legends[0].get_title().get_text()


def test_radar_marks_an_area_without_data() -> None:
    """Is an unmeasured area labelled 无数据 and left out of the line, instead of drawn at 0 %?"""
    fig = charts.radar([0.8, np.nan, 0.6], [0.5, 0.5, 0.7], AREAS, "张三")
    assert glyph_warnings(fig) == []
    ax = fig.axes[0]
    _, learner = ax.lines
    assert np.isnan(learner.get_ydata()[1])
    assert [t.get_text() for t in ax.get_xticklabels()] == [AREAS[0], f"{AREAS[1]}\n（无数据）", AREAS[2]]
    assert len(ax.patches) == 1  # only the cohort polygon is filled


def test_pareto_legend_sits_outside_the_bars() -> None:
    """Is the Pareto legend placed above the axes, where it cannot cover a bar?"""
    frame = pd.DataFrame({"area_title": AREAS, "priority": [9.0, 8.5, 8.0]})
    fig = charts.priority_pareto(frame)
    fig.canvas.draw()
    bars_ax = fig.axes[0]
    (legend,) = fig.legends
    assert bars_ax.get_legend() is None
    assert legend.get_window_extent().y0 >= bars_ax.get_window_extent().y1 - 1


# ---------------------------------------------------------------- certification charts
def test_the_cohort_gap_bars_say_each_share_even_zero() -> None:
    """Does each competency item carry its share below the requirement, 0 % included (a bar one cannot see)?"""
    from course.certification.charts import cohort_gap_bars

    gaps = pd.DataFrame({"competency": ["a", "b"], "title": ["成就导向", "执行能力"], "mean_gap": [0.5, 0.0],
                         "share_below": [0.5, 0.0], "rated": [2, 2]})
    ax = cohort_gap_bars(gaps).axes[0]
    assert [t.get_text() for t in ax.texts] == ["0%", "50%"]  # 执行能力 (0 %) at the bottom, the largest on top


def test_the_competency_radar_names_its_levels_between_the_spokes() -> None:
    """Is the top level's name (资深) inside the frame and off the item labels' spokes?"""
    from course.certification.charts import competency_radar

    labels = [f"能力{i}" for i in range(15)]
    ax = competency_radar(pd.Series([2.0] * 15), 2, labels, ["初级", "中级", "高级", "资深"], "张三").axes[0]
    assert ax.get_ylim() == (0, 4.4)
    assert ax.get_rlabel_position() == pytest.approx(12.0)  # half of the 24° between two spokes
