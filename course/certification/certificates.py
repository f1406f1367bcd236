"""Certificates: one PDF per certified learner, each with a verification code that ``course certificate verify`` checks.

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

**Verification codes.** A registry ``certificates/registry.json`` maps each code
to what the certificate states (learner, name, level, date, paper); the code is
an HMAC-SHA256 of that record under a secret key kept in the course folder
(``certificates/.secret``, mode 600, never committed). Verification needs both:
the registry answers "which certificate is this" (and allows revocation by
deleting an entry), the HMAC makes an edited registry entry or an invented code
fail. A bare HMAC without a registry could not tell a manager whom a code
belongs to; a bare registry could be edited unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from course.analytics.fonts import use_cjk_font
from course.errors import CourseError

ISSUER_NOTE = "本证书由课程系统依据考核结果生成，可使用验证码核验真伪。"


def cert_dir(root: Path) -> Path:
    return root / "certificates"


def registry_path(root: Path) -> Path:
    return cert_dir(root) / "registry.json"


def _secret(root: Path, create: bool) -> bytes:
    path = cert_dir(root) / ".secret"
    if not path.exists():
        if not create:
            raise CourseError(f"{path} is missing: no certificates were issued in this course folder "
                              "(run `course certificate issue` there)")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def code_for(secret: bytes, record: dict[str, Any]) -> str:
    """A 20-character code: base32 of the first 100 bits of HMAC-SHA256(record), in groups of 4."""
    digest = hmac.new(secret, _canonical(record), hashlib.sha256).digest()
    text = base64.b32encode(digest).decode()[:20]
    return "-".join(text[i:i + 4] for i in range(0, 20, 4))


def read_registry(root: Path) -> dict[str, dict[str, Any]]:
    path = registry_path(root)
    if not path.exists():
        return {}
    try:
        data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CourseError(f"{path}: is not valid JSON ({exc}): restore it from a backup") from None
    return data


@dataclass(frozen=True)
class Verification:
    valid: bool
    message: str
    record: dict[str, Any] | None = None


def verify(root: Path, code: str) -> Verification:
    """Whether ``code`` is a certificate issued in this course folder, and what it certifies."""
    code = code.strip().upper()
    record = read_registry(root).get(code)
    if record is None:
        return Verification(False, f"验证码 {code} 无效：未找到该证书。")
    if not hmac.compare_digest(code_for(_secret(root, create=False), record), code):
        return Verification(False, f"验证码 {code} 无效：证书记录已被改动。")
    return Verification(True, f"验证码 {code} 有效：{record['name']}，{record['level_title']}，"
                              f"{record['date']} 颁发（试卷 {record['paper']}）。", record)


def certificate_figure(record: dict[str, Any], code: str, course_title: str) -> Figure:
    use_cjk_font()
    fig = Figure(figsize=(11.69, 8.27))  # A4 landscape
    fig.patches.append(matplotlib.patches.Rectangle((0.03, 0.04), 0.94, 0.92, transform=fig.transFigure,
                                                    fill=False, linewidth=3, edgecolor="#8b1a1a"))
    text = [
        (0.80, "岗位技能认证证书", 34),
        (0.70, course_title, 16),
        (0.56, f"{record['name']}（{record['learner']}）", 26),
        (0.46, f"经考核合格，取得{record['level_title']}证书。", 18),
        (0.36, f"地区：{record['region']}　部门：{record['department']}", 14),
        (0.26, f"颁发日期：{record['date']}　试卷：{record['paper']}", 14),
        (0.16, f"验证码：{code}", 16),
        (0.09, ISSUER_NOTE, 11),
    ]
    for y, line, size in text:
        fig.text(0.5, y, line, ha="center", va="center", fontsize=size)
    return fig


def write_pdf(fig: Figure, path: Path) -> list[str]:
    """Save one certificate page (Type 3 fonts, see the module docstring); return any glyph warnings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context({"pdf.fonttype": 3}):
        warnings.simplefilter("always")
        with PdfPages(path, metadata={"Title": "岗位技能认证证书", "Creator": "kam-course"}) as pdf:
            pdf.savefig(fig)
    return [str(w.message) for w in caught if "Glyph" in str(w.message) or "missing from font" in str(w.message)]


def issue(root: Path, records: list[dict[str, Any]], course_title: str) -> list[tuple[str, Path]]:
    """Register and draw one certificate per record; return (code, pdf path). Re-issuing is idempotent."""
    secret = _secret(root, create=True)
    registry = read_registry(root)
    out = []
    for record in records:
        code = code_for(secret, record)
        path = cert_dir(root) / f"{record['paper']}-{record['learner']}.pdf"
        problems = write_pdf(certificate_figure(record, code, course_title), path)
        if problems:
            raise CourseError(f"{path}: the certificate font lacks glyphs ({problems[0]}): "
                              "check that mplfonts is installed")
        registry[code] = record
        out.append((code, path))
    target = registry_path(root)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(registry, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return out
