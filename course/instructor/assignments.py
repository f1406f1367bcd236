"""Which nbgrader assignments an instructor's command means: chapters and exam papers alike.

An id on the command line is a chapter (``jc01``), a paper (``L4-2026a``: every learner's variant
of it) or one variant (``L4-2026a-zhang.san``). With no id a command covers every chapter and every
paper variant of the course folder. Papers are read from their manifests (``papers/<paper>.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from course.certification.manifest import manifests
from course.errors import WorkflowError
from course.loader import Course


@dataclass(frozen=True)
class Selection:
    chapters: list[str] = field(default_factory=list)
    papers: dict[str, list[str]] = field(default_factory=dict)  # paper id → its variants' assignment ids

    @property
    def assignments(self) -> list[str]:
        return self.chapters + [a for variants in self.papers.values() for a in variants]

    @property
    def variants(self) -> list[str]:
        return [a for variants in self.papers.values() for a in variants]


def paper_variants(root: Path) -> dict[str, list[str]]:
    """Every paper of the course folder → its variants' assignment ids, in the order papers were created."""
    return {d["paper"]: sorted(v["assignment"] for v in d["variants"].values()) for d in manifests(root)}


def select(root: Path, course: Course, ids: list[str] | None, *, papers: bool = True) -> Selection:
    """The assignments ``ids`` name (all chapters and, with ``papers``, all paper variants if none)."""
    known = paper_variants(root) if papers else {}
    if not ids:
        return Selection(list(course.chapters), known)
    by_variant = {a: p for p, variants in known.items() for a in variants}
    chapters: list[str] = []
    chosen: dict[str, list[str]] = {}
    unknown = []
    for name in ids:
        if name in course.chapters:
            chapters.append(name)
        elif name in known:
            chosen.setdefault(name, []).extend(a for a in known[name] if a not in chosen.get(name, []))
        elif name in by_variant:
            chosen.setdefault(by_variant[name], []).append(name)
        else:
            unknown.append(name)
    if unknown:
        paper_list = f"; papers: {', '.join(known)}" if known else ""
        raise WorkflowError(f"unknown chapter(s) or paper(s) {', '.join(unknown)}: use chapter ids from "
                            f"syllabus.yaml ({', '.join(course.chapters)}){paper_list}")
    return Selection(chapters, chosen)
