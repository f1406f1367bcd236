"""A level's paper blueprint: how many items of which type, worth how many points, in each knowledge area.

The blueprint is one table ``cells[area][type] = item count``, the same for every
learner of a paper, so every variant has exactly the 比重表's points per area and
the configured type mix:

* area target = weight (percent, weights.yaml) × total_points / 100;
* each fixed type's items are shared out among areas in proportion to the area
  weights (largest remainder), never more than the bank can supply in that area
  and never more points than the area holds;
* the filler type (1-point items) makes up each area's remaining points.

When the bank cannot fill a cell the paper is refused with one line per
shortfall: which area lacks how many points of which type.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from course import model as m
from course.certification.config import Certification, Theory
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
    cells: dict[str, dict[str, int]]  # area -> type -> item count (theory)
    type_points: dict[str, float]  # points of one item of each type
    skills_count: int
    skills_points: float

    @property
    def theory_points(self) -> float:
        return sum(self.area_points.values())

    @property
    def skills_max(self) -> float:
        return self.skills_count * self.skills_points

    @property
    def length(self) -> int:
        return sum(sum(row.values()) for row in self.cells.values()) + self.skills_count


def eligible(course: Course, cert: Certification, level: str, exclude: Iterable[str] = ()) -> list[m.Question]:
    """Bank items a paper of ``level`` may use: serving the level, of a suitable mastery, not excluded."""
    skip = set(exclude)
    mastery = set(cert.mastery[level])
    return [q for q in course.questions
            if q.id not in skip and q.mastery in mastery and level in course.levels_of(q)]


def _cell_key(course: Course, q: m.Question) -> tuple[str, str, float]:
    return course.area_of(q), q.type, float(q.points)


def supply(course: Course, questions: Iterable[m.Question]) -> dict[tuple[str, str, float], int]:
    """Number of items per (area, type, points)."""
    out: dict[tuple[str, str, float], int] = {}
    for q in questions:
        key = _cell_key(course, q)
        out[key] = out.get(key, 0) + 1
    return out


def _share(count: int, weights: dict[str, float], caps: dict[str, int]) -> dict[str, int]:
    """Split ``count`` items among areas in proportion to ``weights`` (largest remainder), within ``caps``."""
    alloc = dict.fromkeys(weights, 0)
    left = count
    while left > 0:
        open_ = {a: w for a, w in weights.items() if alloc[a] < caps[a] and w > 0}
        if not open_:
            break
        total = sum(open_.values())
        ideal = {a: left * w / total for a, w in open_.items()}
        floors = {a: min(math.floor(v), caps[a] - alloc[a]) for a, v in ideal.items()}
        if sum(floors.values()) == 0:
            # hand out one item to the largest remainder (ties: area order) and re-share the rest
            best = max(open_, key=lambda a: (ideal[a] - math.floor(ideal[a]), open_[a]))
            alloc[best] += 1
            left -= 1
            continue
        for a, n in floors.items():
            alloc[a] += n
            left -= n
    return alloc


def _repair(cells: dict[str, dict[str, int]], room: dict[str, float], theory: Theory,
            filler_have: dict[str, int], have: dict[tuple[str, str, float], int], filler_points: float) -> None:
    """Rearrange fixed-type items so that no area needs more filler items than the bank holds.

    Two kinds of move, each keeping every type's count and every area's points:
    *move* one item of a type from a donor area into the short area; *swap*
    a cheaper type for a dearer one in the short area and the reverse in a
    donor (e.g. a 2-point single for a 3-point multiple: one filler point
    less). Each move lowers the short area's need and leaves the donor within
    its filler supply. Deterministic: areas and types in file order.
    """
    points = {t: float(q.points) for t, q in theory.types.items()}

    def short(a: str) -> float:
        return room[a] / filler_points - filler_have[a]

    def spare(a: str, t: str) -> bool:
        return cells[a][t] < have.get((a, t, points[t]), 0)

    def absorbs(b: str, extra: float) -> bool:
        return short(b) + extra / filler_points <= 0

    def move(a: str) -> bool:
        for t, p in points.items():
            if spare(a, t) and room[a] >= p:
                donor = next((b for b in cells if b != a and cells[b][t] > 0 and absorbs(b, p)), None)
                if donor is not None:
                    cells[a][t] += 1
                    cells[donor][t] -= 1
                    room[a] -= p
                    room[donor] += p
                    return True
        return False

    def swap(a: str) -> bool:
        for cheap, p1 in points.items():
            for dear, p2 in points.items():
                gain = p2 - p1
                if gain <= 0 or cells[a][cheap] == 0 or not spare(a, dear) or room[a] < gain:
                    continue
                donor = next((b for b in cells if b != a and cells[b][dear] > 0 and spare(b, cheap)
                              and absorbs(b, gain)), None)
                if donor is not None:
                    cells[a][cheap] -= 1
                    cells[a][dear] += 1
                    cells[donor][dear] -= 1
                    cells[donor][cheap] += 1
                    room[a] -= gain
                    room[donor] += gain
                    return True
        return False

    changed = True
    while changed:
        changed = any(short(a) > 0 and (move(a) or swap(a)) for a in cells)


def title(course: Course, area: str) -> str:
    return course.leaf_areas[area].title


def blueprint(course: Course, cert: Certification, level: str, exclude: Iterable[str] = ()) -> Blueprint:
    """The blueprint of a ``level`` paper from the bank minus ``exclude``; BlueprintError if it cannot be filled."""
    if level not in course.weights.tables:
        raise CourseError(f"unknown level '{level}': use one of {', '.join(course.weights.tables)}")
    theory = cert.theory
    weights = course.weights.tables[level]
    area_points = {a: w * theory.total_points / 100 for a, w in weights.items()}
    pool = eligible(course, cert, level, exclude)
    have = supply(course, pool)
    cells: dict[str, dict[str, int]] = {a: {} for a in weights}
    shortfalls: list[str] = []
    room = dict(area_points)
    for qtype, quota in theory.types.items():
        caps = {a: min(have.get((a, qtype, float(quota.points)), 0), int(room[a] // quota.points))
                for a in weights}
        alloc = _share(quota.count, weights, caps)
        missing = quota.count - sum(alloc.values())
        if missing:
            shortfalls.append(f"{m.TYPE_TITLES[qtype]} ({quota.points:g}-point items): {missing} item(s) "
                              f"({missing * quota.points:g} points) more are needed than the areas' eligible "
                              "items and points allow")
        for a, n in alloc.items():
            cells[a][qtype] = n
            room[a] -= n * quota.points
    filler = theory.filler
    filler_have = {a: have.get((a, filler.type, float(filler.points)), 0) for a in weights}
    _repair(cells, room, theory, filler_have, have, float(filler.points))
    for a in weights:
        need = room[a] / filler.points
        if abs(need - round(need)) > 1e-9:
            shortfalls.append(f"{title(course, a)}: {room[a]:g} points left cannot be made of "
                              f"{filler.points:g}-point {m.TYPE_TITLES[filler.type]}")
            continue
        n = round(need)
        if n > filler_have[a]:
            lack = n - filler_have[a]
            shortfalls.append(f"{title(course, a)} lacks {lack * filler.points:g} points of "
                              f"{m.TYPE_TITLES[filler.type]} ({filler.points:g}-point items): needs {n}, "
                              f"the bank has {filler_have[a]} eligible")
        cells[a][filler.type] = n
    cases = sum(n for (_, t, p), n in have.items() if t == "case" and p == cert.skills.points)
    if cases < cert.skills.count:
        shortfalls.append(f"技能 lacks {(cert.skills.count - cases) * cert.skills.points:g} points of "
                          f"{m.TYPE_TITLES['case']} ({cert.skills.points:g}-point items): needs "
                          f"{cert.skills.count}, the bank has {cases} eligible")
    if shortfalls:
        raise BlueprintError(level, shortfalls)
    type_points = {t: float(q.points) for t, q in theory.types.items()} | {filler.type: float(filler.points)}
    return Blueprint(level, area_points, cells, type_points, cert.skills.count, float(cert.skills.points))
