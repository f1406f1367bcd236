"""A level's paper blueprint: the points of every knowledge area and of every question type.

Every variant of a paper holds exactly

* each leaf area's 比重表 share: weight (percent, weights.yaml) × total_points / 100;
* each question type's points (certification.yaml ``theory.types``);
* ``skills.count`` case questions of ``skills.points`` points.

Items count with their own points (counted by points, not by item count): a
5-point fill-in fills 5 of the fill-in points, so every item of the bank can be
drawn, whatever its points. Which area holds how many points of which type is
left to each variant's draw (:mod:`course.certification.assembly`), so the
number of items may differ by one or two between variants; the points never do.

A bank that cannot fill the blueprint is refused with one line per shortfall:
which area or type lacks how many points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from course import model as m
from course.certification.config import Certification
from course.errors import CourseError
from course.loader import Course


class BlueprintError(CourseError):
    """The bank cannot satisfy a level's blueprint; one line per shortfall."""

    def __init__(self, level: str, shortfalls: list[str]) -> None:
        self.level = level
        self.shortfalls = shortfalls
        lines = [f"the question bank cannot fill the {level} paper blueprint:"]
        lines += [f"  {s}" for s in shortfalls]
        lines.append("fix: add questions of that type and area to the bank, or change theory/skills "
                     "in certification.yaml")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Blueprint:
    """What every variant of one paper holds."""

    level: str
    area_points: dict[str, float]  # theory points per leaf area (the 比重表)
    type_points: dict[str, float]  # theory points per question type
    skills_count: int
    skills_points: float

    @property
    def theory_points(self) -> float:
        return sum(self.area_points.values())

    @property
    def skills_max(self) -> float:
        return self.skills_count * self.skills_points


def eligible(course: Course, cert: Certification, level: str, exclude: Iterable[str] = ()) -> list[m.Question]:
    """Bank items a paper of ``level`` may use: serving the level, of a suitable mastery, not excluded."""
    skip = set(exclude)
    mastery = set(cert.mastery[level])
    return [q for q in course.questions
            if q.id not in skip and q.mastery in mastery and level in course.levels_of(q)]


def theory_pool(course: Course, cert: Certification, level: str, exclude: Iterable[str] = ()) -> list[m.Question]:
    """Eligible items of the theory part's types."""
    return [q for q in eligible(course, cert, level, exclude) if q.type in cert.theory.types]


def skills_pool(course: Course, cert: Certification, level: str, exclude: Iterable[str] = ()) -> list[m.Question]:
    """Eligible case questions of exactly the skills part's points."""
    return [q for q in eligible(course, cert, level, exclude)
            if q.type == "case" and float(q.points) == cert.skills.points]


def title(course: Course, area: str) -> str:
    return course.leaf_areas[area].title


def blueprint(course: Course, cert: Certification, level: str) -> Blueprint:
    """The blueprint of a ``level`` paper (the same for every variant and every sitting)."""
    if level not in course.weights.tables:
        raise CourseError(f"unknown level '{level}': use one of {', '.join(course.weights.tables)}")
    theory = cert.theory
    area_points = {a: w * theory.total_points / 100 for a, w in course.weights.tables[level].items()}
    return Blueprint(level, area_points, {t: float(p) for t, p in theory.types.items() if p > 0},
                     cert.skills.count, float(cert.skills.points))


def shortfalls(course: Course, plan: Blueprint, theory: list[m.Question], cases: list[m.Question]) -> list[str]:
    """Every area, type and the skills part whose eligible items hold fewer points than the blueprint asks."""
    out: list[str] = []
    for area, need in plan.area_points.items():
        have = sum(float(q.points) for q in theory if course.area_of(q) == area)
        if have < need:
            out.append(f"{title(course, area)} lacks {need - have:g} points: needs {need:g}, "
                       f"the bank has {have:g} eligible")
    for qtype, need in plan.type_points.items():
        have = sum(float(q.points) for q in theory if q.type == qtype)
        if have < need:
            out.append(f"{m.TYPE_TITLES[qtype]} lacks {need - have:g} points: needs {need:g}, "
                       f"the bank has {have:g} eligible")
    if len(cases) < plan.skills_count:
        out.append(f"技能 lacks {(plan.skills_count - len(cases)) * plan.skills_points:g} points of "
                   f"{m.TYPE_TITLES['case']} ({plan.skills_points:g}-point items): needs "
                   f"{plan.skills_count}, the bank has {len(cases)} eligible")
    return out
