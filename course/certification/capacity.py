"""Bank capacity: how many disjoint papers (a first sitting and its re-sits) the bank can fill at each level.

Measured the way re-sits are drawn: a learner's papers are drawn one after another,
each leaving out every item of the earlier ones and every near-duplicate of them,
until the blueprint can no longer be filled. The draw is random, so a few learners
(:data:`PROBES`) go through it and the smallest count is reported. Items are weighed
by their priors: capacity is a property of the content, not of a cohort.
"""

from __future__ import annotations

from dataclasses import dataclass

from course.certification import papers
from course.certification.blueprint import BlueprintError, blueprint
from course.certification.config import Certification
from course.loader import Course

PROBES = ("capacity-a", "capacity-b", "capacity-c")


@dataclass(frozen=True)
class Capacity:
    level: str
    papers: int  # disjoint papers every probe reached (at most `limit`)
    limit: int
    short: str  # what stopped the smallest sequence ("" when it reached the limit)


def level_capacity(course: Course, cert: Certification, level: str, limit: int | None = None,
                   clash: dict[str, frozenset[str]] | None = None) -> Capacity:
    """Disjoint papers at ``level``: the fewest any probe learner could sit (up to ``limit``)."""
    limit = limit or cert.sittings + 2
    plan = blueprint(course, cert, level)
    if clash is None:
        clash = papers.near_duplicates(list(course.questions), cert.near_duplicate_threshold)
    best, why = limit, ""
    for learner in PROBES:
        seen: set[str] = set()
        count, stop = 0, ""
        while count < best:
            try:
                v = papers.draw(course, cert, plan, "capacity", str(count), learner,
                                papers.with_near_duplicates(seen, clash), None, clash)
            except BlueprintError as exc:
                stop = "; ".join(exc.shortfalls)
                break
            seen |= set(v.questions)
            count += 1
        if count < best:
            best, why = count, stop
    return Capacity(level, best, limit, why)


def bank_capacity(course: Course, cert: Certification) -> list[Capacity]:
    clash = papers.near_duplicates(list(course.questions), cert.near_duplicate_threshold)
    return [level_capacity(course, cert, lv.id, clash=clash) for lv in course.levels.levels
            if lv.id in course.weights.tables]


def render_capacity(course: Course, cert: Certification, found: list[Capacity]) -> str:
    """The lines ``course validate`` prints: per level the disjoint papers, against the required number."""
    titles = {lv.id: lv.title for lv in course.levels.levels}
    lines = [f"互不重复的试卷套数（首考＋补考，要求至少 {cert.sittings} 套；试题与近似题均不重复）："]
    for c in found:
        count = f"{c.papers}" if c.papers < c.limit else f"≥{c.limit}"
        verdict = "达到要求" if c.papers >= cert.sittings else f"不足：第 {c.papers + 1} 套缺 {c.short}"
        lines.append(f"  {c.level} {titles[c.level]}：{count} 套，{verdict}")
    return "\n".join(lines)
