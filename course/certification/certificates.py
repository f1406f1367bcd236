"""Certificates as PDF: one page per register entry, with its number, validity, code, link and QR code.

**PDF and font.** The pages are drawn with matplotlib's PDF backend in the
project's CJK font, Noto Sans CJK SC from mplfonts, a CFF-based OpenType
(``OTTO``) file. With ``pdf.fonttype: 42`` matplotlib embeds that CFF file as
``FontFile2`` of a ``CIDFontType2`` font, which the PDF specification reserves
for TrueType outlines (measured with matplotlib 3.11: the embedded stream
starts with ``OTTO`` and holds a ``CFF `` table), so strict viewers may reject
it. With ``pdf.fonttype: 3`` matplotlib turns the glyph outlines into Type 3
glyph procedures, valid whatever the outline format, and writes a ToUnicode
map, so the Chinese text is both drawn from the shipped font and extractable.
Certificates therefore use Type 3 (tests check the font type, the font name and
the extracted text).

**Verification.** Each certificate prints its code and the link of the verification page
(:mod:`course.certification.verify_page`) with the code in it, as text and as a QR code
(segno), so a client checks it with a phone camera; the page shows the register's status of
that day. The page's public address is a required setting, ``COURSE_VERIFY_URL`` (see
:func:`verify_base`): without it nothing is issued, unless the office asks for this machine's own
hub address (``--local-link``, for a demonstration). Each issue records the address in the audit
trail; ``course certificate draw`` draws certificates again, under the address set now.

The PDF is drawn from the register row alone (and the name of the exam that counted, never its
id), so it can always be drawn again (:func:`draw_missing`) and says exactly what the register holds.
"""

from __future__ import annotations

import os
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import segno
import sqlalchemy as sa
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from course.analytics.fonts import use_cjk_font
from course.certification import register, store
from course.errors import CourseError, WorkflowError

ISSUER_NOTE = ("本证书由课程系统依据考核结果生成。扫描二维码或访问上方链接，"
               "可查询证书真伪及当前状态（有效、暂停、撤销、过期）。")
# where `course hub` serves the verification page on this machine (its default port 8000): --local-link
LOCAL_VERIFY_URL = "http://127.0.0.1:8000/services/certificates/"


def verify_base(local_link: bool = False) -> str:
    """The verification page's public address: :data:`LOCAL_VERIFY_URL` if asked for, else ``$COURSE_VERIFY_URL``."""
    if local_link:
        return LOCAL_VERIFY_URL
    url = os.environ.get("COURSE_VERIFY_URL", "").strip()
    if not url:
        raise WorkflowError(
            "the verification address is not set: set COURSE_VERIFY_URL to the public address of the office's "
            "verification page (e.g. https://cert.example.cn/services/certificates/; `course hub` serves the page at "
            f"/services/certificates/), or pass --local-link to link to this machine's hub ({LOCAL_VERIFY_URL}, for "
            "a demonstration only); nothing was decided, issued or drawn")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https") or not urllib.parse.urlsplit(url).netloc:
        raise WorkflowError(f"COURSE_VERIFY_URL '{url}' is not a web address: write it as "
                            "https://<host>/<path>/; nothing was decided, issued or drawn")
    return url


def verify_link(code: str, base: str) -> str:
    return f"{base}?{urllib.parse.urlencode({'code': code})}"


def qr_matrix(link: str) -> np.ndarray:
    """The QR code of ``link`` as a 0/1 array with its 4-module quiet zone (1 = dark)."""
    qr = segno.make(link, error="m", micro=False)
    return np.array([list(row) for row in qr.matrix_iter(scale=1, border=4)], dtype=np.uint8)


def certificate_figure(cert: dict[str, Any], link: str, course_title: str, exam: str) -> Figure:
    """The certificate of register row ``cert``; ``exam``: the name of the exam that counted."""
    use_cjk_font()
    fig = Figure(figsize=(11.69, 8.27))  # A4 landscape
    fig.patches.append(matplotlib.patches.Rectangle((0.03, 0.04), 0.94, 0.92, transform=fig.transFigure,
                                                    fill=False, linewidth=3, edgecolor="#8b1a1a"))
    renewal = f"（复审换发，原证书编号 {cert['renews']}）" if cert.get("renews") else ""
    text = [
        (0.86, "岗位技能认证证书", 34),
        (0.77, course_title, 16),
        (0.65, f"{cert['name']}（{cert['learner']}）", 26),
        (0.56, f"经考核合格，取得{cert['level_title']}证书。{renewal}", 17),
        (0.48, f"地区：{cert['region']}　部门：{cert['department']}", 13),
        (0.42, f"证书编号：{cert['number']}　认证批次：{cert['round_id']}　考试：{exam}", 13),
        (0.36, f"考试日期：{cert['exam_date']}　颁发日期：{cert['issue_date']}　有效期至：{cert['valid_until']}", 13),
        (0.28, f"验证码：{cert['code']}", 16),
        (0.22, link, 10),
        (0.09, ISSUER_NOTE, 10),
    ]
    for y, line, size in text:
        fig.text(0.44, y, line, ha="center", va="center", fontsize=size)
    qr = qr_matrix(link)
    side = 0.17  # of the page width; the page is 11.69 in wide, so a module is about 1.5 mm
    ax = fig.add_axes((0.78, 0.16, side, side * 11.69 / 8.27))
    ax.imshow(qr, cmap="gray_r", interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()
    fig.text(0.78 + side / 2, 0.13, "扫码核验", ha="center", va="center", fontsize=10)
    return fig


def write_pdf(fig: Figure, path: Path, title: str = "岗位技能认证证书") -> list[str]:
    """Save one page (Type 3 fonts, see the module docstring); return any glyph warnings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context({"pdf.fonttype": 3}):
        warnings.simplefilter("always")
        with PdfPages(tmp, metadata={"Title": title, "Creator": "kam-course"}) as pdf:
            pdf.savefig(fig)
    os.replace(tmp, path)
    return [str(w.message) for w in caught if "Glyph" in str(w.message) or "missing from font" in str(w.message)]


def draw(root: Path, cert: dict[str, Any], course_title: str, base: str, exams: dict[str, str]) -> Path:
    """Draw one certificate; ``exams``: paper id → its name (:func:`course.certification.outputs.paper_names`)."""
    path = register.pdf_path(root, cert["number"])
    figure = certificate_figure(cert, verify_link(cert["code"], base), course_title,
                                exams.get(cert["sitting"], cert["sitting"]))
    problems = write_pdf(figure, path)
    if problems:
        raise CourseError(f"{path}: the certificate font lacks glyphs ({problems[0]}): "
                          "check that mplfonts is installed")
    return path


def _rows(engine: sa.Engine, numbers: list[str] | None = None) -> list[dict[str, Any]]:
    query = sa.select(store.certificates).order_by(store.certificates.c.number)
    if numbers is not None:
        query = query.where(store.certificates.c.number.in_(numbers))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def draw_missing(root: Path, engine: sa.Engine, course_title: str, base: str, exams: dict[str, str]) -> list[Path]:
    """Draw the PDF of every certificate in the register that has none yet (after a run, or to repair)."""
    return [draw(root, cert, course_title, base, exams) for cert in _rows(engine)
            if not register.pdf_path(root, cert["number"]).exists()]


def redraw(root: Path, engine: sa.Engine, course_title: str, base: str, exams: dict[str, str],
           numbers: list[str] | None) -> list[Path]:
    """Draw the certificates ``numbers`` (None: all) again, under the address ``base``; audited."""
    from course.certification import audit

    rows = _rows(engine, numbers)
    unknown = sorted(set(numbers or []) - {c["number"] for c in rows})
    if unknown:
        raise WorkflowError(f"there is no certificate {', '.join(unknown)} in the register: see `course certificate "
                            "list`; nothing was drawn")
    paths = [draw(root, cert, course_title, base, exams) for cert in rows]
    with store.transaction(engine) as conn:
        for cert in rows:
            audit.record(conn, "draw", f"证书 {cert['number']}", round_id=cert["round_id"], learner=cert["learner"],
                         after={"核验地址": base})
    return paths
