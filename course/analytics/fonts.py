"""A Chinese-capable font for every chart: Noto Sans CJK SC, shipped inside the ``mplfonts`` package.

Matplotlib's default DejaVu Sans has no Chinese glyphs, so labels would render
as empty boxes. We register the font file that mplfonts ships for this process
only (``fontManager.addfont``) instead of ``mplfonts init``, which copies files
into matplotlib's own folders.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
from matplotlib import font_manager

from course.errors import CourseError

FONT_FILE = "NotoSansCJKsc-Regular.otf"

# font file path -> family name, so repeat calls skip parsing and registering the file
_registered: dict[str, str] = {}


class FontMissingError(CourseError):
    """The Chinese font file is not where mplfonts should have installed it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        where = f"the Chinese chart font {path} does not exist" if path else "the package mplfonts is not installed"
        super().__init__(f"{where}, so Chinese chart labels would render as boxes; "
                         "fix: `pip install mplfonts` in the Python environment that runs the notebooks")


def font_path() -> Path:
    """Where mplfonts keeps Noto Sans CJK SC (found without importing mplfonts)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise FontMissingError(None)
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE


def use_cjk_font() -> str:
    """Make Noto Sans CJK SC the first sans-serif font and return its family name.

    Safe to call before every chart: the file is registered once per process,
    the rcParams are re-applied each time (cheap) because a notebook may have
    reset them since.
    """
    path = font_path()
    key = str(path)
    if key not in _registered:
        if not path.is_file():
            raise FontMissingError(path)
        if not any(entry.fname == key for entry in font_manager.fontManager.ttflist):
            font_manager.fontManager.addfont(key)
        _registered[key] = font_manager.FontProperties(fname=key).get_name()
    family = _registered[key]
    rc = matplotlib.rcParams
    rc["font.family"] = ["sans-serif"]
    # keep the other fonts behind it: matplotlib falls back to them for glyphs Noto lacks
    rc["font.sans-serif"] = [family, *(name for name in rc["font.sans-serif"] if name != family)]
    # the Unicode minus (U+2212) is drawn from the CJK font's fallback chain; an ASCII hyphen always renders
    rc["axes.unicode_minus"] = False
    return family
