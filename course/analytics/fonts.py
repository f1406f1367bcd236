"""A Chinese-capable font for every chart: Noto Sans CJK SC, shipped inside the ``mplfonts`` package.

Matplotlib's default DejaVu Sans has no Chinese glyphs, so labels would render
as empty boxes. We register the font file that mplfonts ships for this process
only instead of ``mplfonts init``, which copies files into matplotlib's own
folders. The file is registered under a family name of its own
(:data:`FAMILY`): a system copy of Noto Sans CJK (Debian's ``fonts-noto-cjk``
ships it as a ``.ttc`` with the same family name) can then never be chosen in
its place, so charts look the same on every machine.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from course.errors import CourseError

FONT_FILE = "NotoSansCJKsc-Regular.otf"
FAMILY = "KAM Noto Sans CJK SC"  # unique: only the file this project ships answers to it

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


def _register(path: Path) -> None:
    """Add the font file to matplotlib under :data:`FAMILY` (once per process)."""
    key = str(path)
    if any(entry.fname == key and entry.name == FAMILY for entry in font_manager.fontManager.ttflist):
        return
    entry = font_manager.ttfFontProperty(FT2Font(key))
    font_manager.fontManager.ttflist.append(dataclasses.replace(entry, name=FAMILY))
    font_manager.fontManager._findfont_cached.cache_clear()  # type: ignore[attr-defined]


def use_cjk_font() -> str:
    """Make the shipped Noto Sans CJK SC the first sans-serif font and return its family name.

    Safe to call before every chart: the file is registered once per process,
    the rcParams are re-applied each time (cheap) because a notebook may have
    reset them since.
    """
    path = font_path()
    key = str(path)
    if key not in _registered:
        if not path.is_file():
            raise FontMissingError(path)
        _register(path)
        _registered[key] = FAMILY
    family = _registered[key]
    rc = matplotlib.rcParams
    rc["font.family"] = ["sans-serif"]
    # keep the other fonts behind it: matplotlib falls back to them for glyphs Noto lacks
    rc["font.sans-serif"] = [family, *(name for name in rc["font.sans-serif"] if name != family)]
    # the Unicode minus (U+2212) is drawn from the CJK font's fallback chain; an ASCII hyphen always renders
    rc["axes.unicode_minus"] = False
    return family
