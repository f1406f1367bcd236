"""``certification.yaml``: paper blueprints, 申报条件, pass marks and competency requirements, as typed data.

Read with the content loader's conventions: every problem is reported at once as
``file:line: what is wrong — the fix``; references (levels, question types,
competency levels) are checked against the loaded course.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from course import model as m
from course.errors import ContentError, Problem
from course.loader import Course, _model, _read
from course.yamlsrc import Located

FILE = "certification.yaml"


class TypeQuota(m.Strict):
    count: int = Field(ge=0, description="number of items of this type on every paper")
    points: float = Field(gt=0, description="points of each item; only items of exactly these points qualify")


class Filler(m.Strict):
    type: str = Field(description="question type that makes up the rest of each area's points")
    points: float = Field(gt=0)


class Theory(m.Strict):
    total_points: float = Field(gt=0)
    types: dict[str, TypeQuota] = Field(min_length=1)
    filler: Filler


class Skills(m.Strict):
    count: int = Field(ge=0, description="case analysis questions per paper")
    points: float = Field(gt=0, description="points of each case question")


class Eligibility(m.Strict):
    min_years_in_post: float = Field(ge=0)
    requires_level: str | None = Field(None, description="level id the applicant must already hold")


class EducationWaiver(m.Strict):
    min_years_in_post: float = Field(ge=0, description="years in the post from which the lower minimum applies")
    minimum: str = Field(description="the lower minimum (a key of education.ranks)")


class Education(m.Strict):
    ranks: dict[str, int] = Field(min_length=1, description="每种文化程度 → rank (higher is more); "
                                  "同等学历 ranks with the minimum it is equivalent to")
    minimum: str = Field(description="the minimum 文化程度 (a key of ranks)")
    waiver: EducationWaiver | None = Field(None, description="the lower minimum for experienced staff, or null")


class PassMarks(m.Strict):
    theory: float = Field(ge=0, le=100)
    skills: float = Field(ge=0, le=100)


class CompetencyRequirement(m.Strict):
    min_level: str = Field(description="competency level id (junior, intermediate, senior, expert)")
    items_below: int = Field(ge=0, description="items allowed exactly one level below min_level")


class Certification(m.Strict):
    status: Literal["default", "official"]
    note: m.NonEmpty
    theory: Theory
    skills: Skills
    near_duplicate_threshold: float = Field(gt=0, le=1)
    mastery: dict[str, list[m.Mastery]]
    eligibility: dict[str, Eligibility]
    education: Education
    pass_marks: PassMarks
    validity_years: dict[str, int] = Field(description="years a certificate of each level stays valid")
    competency: dict[str, CompetencyRequirement]


def _references(cert: Certification, course: Course, located: Located) -> list[Problem]:
    problems: list[Problem] = []
    levels = [lv.id for lv in course.levels.levels]
    comp_levels = [lv.id for lv in course.competencies.levels]

    def add(path: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(located.file, located.line(path), "", message))

    for section in ("mastery", "eligibility", "competency", "validity_years"):
        table: dict[str, object] = getattr(cert, section)
        for level in levels:
            if level not in table:
                add((section,), f"{section} has no entry for level {level}: add `{level}:`")
        for key in table:
            if key not in levels:
                add((section, key), f"'{key}' is not a level: use one of {', '.join(levels)}")
    for key, rule in cert.eligibility.items():
        if rule.requires_level is not None and rule.requires_level not in levels:
            add(("eligibility", key, "requires_level"),
                f"requires_level '{rule.requires_level}' is not a level: use one of {', '.join(levels)} or null")
    for key, req in cert.competency.items():
        if req.min_level not in comp_levels:
            add(("competency", key, "min_level"),
                f"min_level '{req.min_level}' is not a competency level: use one of {', '.join(comp_levels)}")
    for key, years in cert.validity_years.items():
        if years < 1:
            add(("validity_years", key),
                f"validity_years of {key} is {years}: write a whole number of years, at least 1")
    edu = cert.education
    named = [("minimum", edu.minimum)] + ([("waiver", edu.waiver.minimum)] if edu.waiver else [])
    for where, value in named:
        if value not in edu.ranks:
            path: tuple[str, ...] = ("education", "minimum") if where == "minimum" else (
                "education", "waiver", "minimum")
            add(path, f"'{value}' is not listed under education.ranks: use one of {', '.join(edu.ranks)}")
    if edu.waiver and edu.waiver.minimum in edu.ranks and edu.minimum in edu.ranks and (
            edu.ranks[edu.waiver.minimum] > edu.ranks[edu.minimum]):
        add(("education", "waiver", "minimum"), f"the waiver's minimum '{edu.waiver.minimum}' ranks above the "
            f"minimum '{edu.minimum}': a waiver lowers the standard, so choose a lower one")
    for key in cert.theory.types:
        if key not in m.QUESTION_TYPES or key == "case":
            add(("theory", "types", key), f"'{key}' is not an objective question type: use one of "
                f"{', '.join(t for t in m.QUESTION_TYPES if t != 'case')}")
    filler = cert.theory.filler
    if filler.type not in m.QUESTION_TYPES or filler.type == "case" or filler.type in cert.theory.types:
        add(("theory", "filler", "type"), f"filler type '{filler.type}' must be an objective question type "
            "not listed under theory.types")
    fixed = sum(q.count * q.points for q in cert.theory.types.values())
    if fixed > cert.theory.total_points:
        add(("theory", "types"), f"the listed types hold {fixed:g} points, more than total_points "
            f"{cert.theory.total_points:g}: lower the counts")
    return problems


def load_certification(course: Course) -> Certification:
    """The certification settings of ``course`` (``<content>/certification.yaml``), checked; or ContentError."""
    problems: list[Problem] = []
    located = _read(course.root / FILE, course.display(FILE), problems)
    cert = _model(Certification, located, problems)
    if cert is not None and located is not None:
        problems.extend(_references(cert, course, located))
    if problems or cert is None:
        raise ContentError(problems)
    return cert
