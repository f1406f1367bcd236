"""Certificates: the register entry in Chinese from the shipped CJK font, extractable, and a QR code that reads back."""

from __future__ import annotations

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
from course.errors import WorkflowError

RECORD = {"number": "2026A-0001", "code": "ABCD-EFGH-IJKL-MNOP-QRST", "learner": "zhang.san", "name": "张三丰",
          "region": "华东", "department": "政企客户部", "level": "L3", "level_title": "岗位技能三级（中级）",
          "round_id": "2026A", "sitting": "L3-2026a", "exam_date": "2026-11-20", "issue_date": "2026-12-01",
          "valid_until": "2029-11-30", "renews": None, "decision_id": 1, "key_id": "0123456789abcdef"}
LINK = "https://cert.example.cn/verify/?code=ABCD-EFGH-IJKL-MNOP-QRST"
EXAM = "三级认证考试"  # the paper L3-2026a's name (course.certification.outputs.paper_names)


@pytest.fixture(autouse=True)
def _restore_rcparams() -> Iterator[None]:
    with matplotlib.rc_context():
        yield


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "c.pdf"
    figure = certificates.certificate_figure(RECORD, LINK, "政企客户经理岗位技能认证", EXAM)
    assert certificates.write_pdf(figure, path) == []
    return path


def test_the_certificate_states_the_register_entry(pdf: Path) -> None:
    from pypdf import PdfReader

    text = PdfReader(pdf).pages[0].extract_text()
    for value in ("张三丰", "岗位技能三级（中级）", "证书编号：2026A-0001", "认证批次：2026A", "考试：三级认证考试",
                  "考试日期：2026-11-20", "颁发日期：2026-12-01", "有效期至：2029-11-30", RECORD["code"], LINK):
        assert value in text


def test_the_qr_code_on_the_pdf_decodes_to_the_verification_link(pdf: Path) -> None:
    """Rasterised as a phone camera would see the printed page (150 dpi), the QR code reads back the link."""
    import pypdfium2
    import zxingcpp

    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=150 / 72).to_pil()
    found = zxingcpp.read_barcodes(image)
    assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.QRCode, LINK)]


def test_a_recertification_names_the_certificate_it_renews(tmp_path: Path) -> None:
    from pypdf import PdfReader

    path = tmp_path / "r.pdf"
    certificates.write_pdf(certificates.certificate_figure(dict(RECORD, renews="2023A-0007"), LINK, "测试", EXAM), path)
    assert "（复审换发，原证书编号 2023A-0007）" in PdfReader(path).pages[0].extract_text()


def test_the_link_carries_the_code_under_the_configured_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """Is the address the one set, the local hub's only when asked for, and never a silent default?"""
    monkeypatch.setenv("COURSE_VERIFY_URL", "https://cert.example.cn/verify/")
    assert certificates.verify_link("AB-CD", certificates.verify_base()) == "https://cert.example.cn/verify/?code=AB-CD"
    assert certificates.verify_base(local_link=True) == "http://127.0.0.1:8000/services/certificates/"
    monkeypatch.delenv("COURSE_VERIFY_URL")
    with pytest.raises(WorkflowError, match=r"^the verification address is not set: set COURSE_VERIFY_URL"):
        certificates.verify_base()


def test_the_font_is_the_shipped_noto_cjk_as_type3_glyphs(pdf: Path) -> None:
    """Type 3 glyph procedures drawn from Noto Sans CJK SC's CFF outlines, with a ToUnicode map."""
    from pypdf import PdfReader

    fonts = [f.get_object() for f in PdfReader(pdf).pages[0]["/Resources"]["/Font"].values()]
    assert fonts and all(f["/Subtype"] == "/Type3" for f in fonts)
    assert all("NotoSansCJKsc-Regular" in str(f["/BaseFont"]) and "/ToUnicode" in f for f in fonts)


def test_drawing_a_certificate_warns_of_no_missing_glyph(tmp_path: Path) -> None:
    fig = certificates.certificate_figure(RECORD, LINK, "政企客户经理岗位技能认证", EXAM)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert certificates.write_pdf(fig, tmp_path / "c.pdf") == []
    assert not [w for w in caught if "Glyph" in str(w.message) or "missing from font" in str(w.message)]


def test_type42_would_embed_the_cff_font_as_truetype(tmp_path: Path) -> None:
    """Why certificates use Type 3: matplotlib's Type 42 puts the CFF ('OTTO') file in FontFile2 (TrueType only)."""
    from pypdf import PdfReader

    fig = certificates.certificate_figure(RECORD, LINK, "测试", EXAM)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig.savefig(tmp_path / "t42.pdf")
    font = next(iter(PdfReader(tmp_path / "t42.pdf").pages[0]["/Resources"]["/Font"].values())).get_object()
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert descriptor["/FontFile2"].get_object().get_data()[:4] == b"OTTO"


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

