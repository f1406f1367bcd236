"""Certificates: Chinese text embedded from the shipped CJK font, extractable, no missing glyph; codes that verify."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure

from course.certification import certificates
from course.certification.charts import cohort_gap_bars, competency_radar

RECORD = {"learner": "zhang.san", "name": "张三丰", "region": "华东", "department": "政企客户部", "level": "L3",
          "level_title": "岗位技能三级（中级）", "date": "2026-12-01", "paper": "L3-2026a"}


@pytest.fixture(autouse=True)
def _restore_rcparams() -> Iterator[None]:
    with matplotlib.rc_context():
        yield


@pytest.fixture
def issued(tmp_path: Path) -> tuple[Path, str, Path]:
    [(code, path)] = certificates.issue(tmp_path, [RECORD], "政企客户经理岗位技能认证")
    return tmp_path, code, path


def test_the_certificate_text_holds_the_chinese_name_and_level(issued: tuple[Path, str, Path]) -> None:
    from pypdf import PdfReader

    _, code, path = issued
    text = PdfReader(path).pages[0].extract_text()
    assert "张三丰" in text and "岗位技能三级（中级）" in text and code in text


def test_the_font_is_the_shipped_noto_cjk_as_type3_glyphs(issued: tuple[Path, str, Path]) -> None:
    """Type 3 glyph procedures drawn from Noto Sans CJK SC's CFF outlines, with a ToUnicode map."""
    from pypdf import PdfReader

    fonts = [f.get_object() for f in PdfReader(issued[2]).pages[0]["/Resources"]["/Font"].values()]
    assert fonts and all(f["/Subtype"] == "/Type3" for f in fonts)
    assert all("NotoSansCJKsc-Regular" in str(f["/BaseFont"]) and "/ToUnicode" in f for f in fonts)


def test_drawing_a_certificate_warns_of_no_missing_glyph(tmp_path: Path) -> None:
    fig = certificates.certificate_figure(RECORD, "ABCD-EFGH-IJKL-MNOP-QRST", "政企客户经理岗位技能认证")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert certificates.write_pdf(fig, tmp_path / "c.pdf") == []
    assert not [w for w in caught if "Glyph" in str(w.message) or "missing from font" in str(w.message)]


def test_type42_would_embed_the_cff_font_as_truetype(tmp_path: Path) -> None:
    """Why certificates use Type 3: matplotlib's Type 42 puts the CFF ('OTTO') file in FontFile2 (TrueType only)."""
    from pypdf import PdfReader

    fig = certificates.certificate_figure(RECORD, "X", "测试")
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig.savefig(tmp_path / "t42.pdf")
    font = next(iter(PdfReader(tmp_path / "t42.pdf").pages[0]["/Resources"]["/Font"].values())).get_object()
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert descriptor["/FontFile2"].get_object().get_data()[:4] == b"OTTO"


def test_an_issued_code_verifies_and_names_the_certificate(issued: tuple[Path, str, Path]) -> None:
    root, code, _ = issued
    result = certificates.verify(root, code.lower())
    assert result.valid and result.message == (
        f"验证码 {code} 有效：张三丰，岗位技能三级（中级），2026-12-01 颁发（试卷 L3-2026a）。")


def test_an_unknown_code_is_invalid(issued: tuple[Path, str, Path]) -> None:
    result = certificates.verify(issued[0], "AAAA-BBBB-CCCC-DDDD-EEEE")
    assert not result.valid and result.message == "验证码 AAAA-BBBB-CCCC-DDDD-EEEE 无效：未找到该证书。"


def test_an_edited_registry_entry_fails_verification(issued: tuple[Path, str, Path]) -> None:
    root, code, _ = issued
    path = certificates.registry_path(root)
    registry = json.loads(path.read_text(encoding="utf-8"))
    registry[code]["level_title"] = "岗位技能一级（资深）"
    path.write_text(json.dumps(registry, ensure_ascii=False), encoding="utf-8")
    assert certificates.verify(root, code).message == f"验证码 {code} 无效：证书记录已被改动。"


def test_codes_are_unique_per_certificate(tmp_path: Path) -> None:
    other = dict(RECORD, learner="li.si", name="李四")
    issued = certificates.issue(tmp_path, [RECORD, other], "测试")
    assert len({code for code, _ in issued}) == 2
    assert len(json.loads(certificates.registry_path(tmp_path).read_text(encoding="utf-8"))) == 2


def test_the_secret_key_is_private_to_the_owner(issued: tuple[Path, str, Path]) -> None:
    assert (certificates.cert_dir(issued[0]) / ".secret").stat().st_mode & 0o077 == 0


# ---------------------------------------------------------------- charts
def glyph_warnings(fig: Figure) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(BytesIO(), format="png")
    return [str(w.message) for w in caught if "Glyph" in str(w.message) or "missing from font" in str(w.message)]


def test_the_competency_radar_draws_the_requirement_and_the_ratings_in_chinese() -> None:
    fig = competency_radar(pd.Series([2.0, 3.0, float("nan")]), 2, ["成就导向", "沟通倾听能力", "执行能力"],
                           ["初级", "中级", "高级", "资深"], "张三：能力素质（目标：三级）")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["目标级别要求", "评定结果"]
    assert list(ax.get_lines()[1].get_ydata()) == [2.0, 3.0, 0.0, 2.0]
    assert glyph_warnings(fig) == []


def test_the_cohort_gap_bars_are_in_chinese_and_handle_no_data() -> None:
    gaps = pd.DataFrame({"competency": ["a", "b"], "title": ["成就导向", "执行能力"], "mean_gap": [0.5, 0.0],
                         "share_below": [0.5, 0.0], "rated": [2, 2]})
    fig = cohort_gap_bars(gaps)
    assert [p.get_width() for p in fig.axes[0].patches] == [0.0, 50.0]
    assert glyph_warnings(fig) == []
    assert glyph_warnings(cohort_gap_bars(gaps.iloc[0:0])) == []

