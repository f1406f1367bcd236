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


class Theory(m.Strict):
    total_points: float = Field(gt=0)
    types: dict[str, float] = Field(min_length=1, description="points of each question type on every paper, "
                                    "summing to total_points; an item counts with its own points")


class Balance(m.Strict):
    tolerance: float = Field(gt=0, description="largest distance (points) of a variant's expected theory score "
                             "from the paper's target, at each ability of `abilities`")
    abilities: list[float] = Field(min_length=1, description="abilities (θ, calibration scale) at which the "
                                   "expected score is balanced")
    measures: list[Literal["expected", "complete"]] = Field(
        default=["expected", "complete"], min_length=1,
        description="what is balanced at each ability: the expected score (partial credit included) and the "
                    "expected points of complete answers (full credit; matching pairs less blind guessing)")
    skills_tolerance: float = Field(
        default=1.0, gt=0, description="largest distance (points) of a variant's expected skills score (its case "
        "questions) from the skills target, at each ability: a few case questions allow only a coarse balance")


class Difficulty(m.Strict):
    prior_facility: dict[m.Mastery, float] = Field(description="expected proportion of an item's points for the "
                                                  "average learner, by mastery level, for items without data")
    prior_weight: float = Field(ge=0, description="the prior counts as this many respondents next to the data")
    min_respondents_irt: int = Field(ge=20, description="items with at least this many respondents are "
                                     "calibrated with the graded response model (2PL for one-point items)")
    discrimination: float = Field(gt=0, description="discrimination assumed for items without a calibration")


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
    sittings: int = Field(ge=1, description="disjoint papers every level must allow: a first sitting and re-sits")
    balance: Balance
    difficulty: Difficulty
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
    for key, points in cert.theory.types.items():
        if key not in m.QUESTION_TYPES or key == "case":
            add(("theory", "types", key), f"'{key}' is not an objective question type: use one of "
                f"{', '.join(t for t in m.QUESTION_TYPES if t != 'case')}")
        elif points < 0:
            add(("theory", "types", key), f"{key} has {points:g} points: give 0 or more")
    held = sum(cert.theory.types.values())
    if abs(held - cert.theory.total_points) > 1e-9:
        add(("theory", "types"), f"the types hold {held:g} points, not total_points "
            f"{cert.theory.total_points:g}: make them add up")
    for key, share in cert.difficulty.prior_facility.items():
        if not 0 < share < 1:
            add(("difficulty", "prior_facility", key), f"prior facility {share:g} for {key} must lie strictly "
                "between 0 and 1")
    missing = [x for x in m.MASTERY_LEVELS if x not in cert.difficulty.prior_facility]
    if missing:
        add(("difficulty", "prior_facility"), f"no prior facility for {', '.join(missing)}: add them")
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
