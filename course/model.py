"""Typed models of the course content (the schema of ``course/content``).

Field descriptions double as the format reference; ``FORMAT.md`` shows examples.
Cross-references (a section that exists, a key that is an option) are checked
in :mod:`course.rules`, where every problem can be reported at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Mastery = Literal["了解", "熟悉", "掌握", "熟练掌握"]
MASTERY_LEVELS: tuple[str, ...] = ("了解", "熟悉", "掌握", "熟练掌握")
BLANK = "____"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonEmpty = Annotated[str, Field(min_length=1)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty: write the text")
    return value


# ---------------------------------------------------------------- syllabus
class Objective(Strict):
    text: NonEmpty
    mastery: Mastery = Field(description="了解 / 熟悉 / 掌握 / 熟练掌握, as the syllabus states it")
    note: str | None = None


class Section(Strict):
    id: NonEmpty
    title: NonEmpty
    area: NonEmpty = Field(description="leaf knowledge area id")
    objectives: list[Objective] = Field(min_length=1)


class Chapter(Strict):
    id: NonEmpty
    title: NonEmpty
    sections: list[Section] = Field(min_length=1)


class Part(Strict):
    id: NonEmpty
    title: NonEmpty
    note: str | None = None
    chapters: list[Chapter] = Field(min_length=1)


class Syllabus(Strict):
    parts: list[Part] = Field(min_length=1)


# ---------------------------------------------------------------- areas, levels, weights
class Area(Strict):
    id: NonEmpty
    title: NonEmpty
    scope: str | None = None
    children: list[Area] = Field(default_factory=list)


class Areas(Strict):
    areas: list[Area] = Field(min_length=1)


class Level(Strict):
    id: NonEmpty
    title: NonEmpty
    full_title: NonEmpty
    rank: int
    min_training_hours: int = Field(gt=0)


class Levels(Strict):
    levels: list[Level] = Field(min_length=1)
    pass_mark: float = Field(gt=0, le=100)
    pass_mark_note: str | None = None
    application_note: str | None = Field(None, description="what the source says about 申报条件 (who may apply)")


class Weights(Strict):
    status: Literal["default", "official"]
    note: NonEmpty
    tables: dict[str, dict[str, float]]


class TrueFalseBalance(Strict):
    low: float = Field(default=45, ge=0, le=100, description="lowest share of true keys, in per cent")
    high: float = Field(default=55, ge=0, le=100, description="highest share of true keys, in per cent")
    min_items: int = Field(default=6, ge=1, description="a chapter with fewer true/false items is not judged alone")


class HistoricalTerm(Strict):
    """A word or figure of the source material that is no longer current (see :mod:`course.bank.lint`)."""

    term: NonEmpty = Field(description="text that marks an item as historical where it appears (e.g. 小灵通)")
    note: NonEmpty = Field(description="what changed, as general knowledge (e.g. 2008年电信重组后并入中国联通)")
    except_in: list[NonEmpty] = Field(default_factory=list,
                                      description="words that hold the term but are current (网通 in 一网通办)")


class SharedTerm(Strict):
    """A fill-in answer the chapter's other items must name (see ``key-in-other-item``)."""

    term: NonEmpty = Field(description="an accepted answer other items of its chapter may show (e.g. 中国移动)")
    note: NonEmpty = Field(description="why showing it gives no answer away (e.g. 运营商的名称，本章多题都要用到)")


class LintSettings(Strict):
    """How ``course validate`` judges the item-writing-flaw linter (:mod:`course.bank.lint`)."""

    allowed: dict[str, int] = Field(
        default_factory=dict, description="flaws tolerated per rule id (default 0): lower them as the bank "
        "improves, never raise them; a count above its allowance fails validation")
    goals: dict[str, float] = Field(
        default_factory=dict, description="per metric id, a goal less strict than the default of the goals "
        "table, while the bank is being revised; remove once the default is met")
    label: NonEmpty = Field(default="历史",
                            description="the word a stem must show when the item holds a historical term")
    former: NonEmpty = Field(default="原", description="written right before a historical term, it labels that mention "
                             "(原《合同法》, 原信息产业部)")
    historical: list[HistoricalTerm] = Field(default_factory=list,
                                             description="the content's historical terms")
    shared_terms: list[SharedTerm] = Field(
        default_factory=list, description="fill-in answers that are the chapter's vocabulary: other items of the "
        "chapter may show them (each with why)")


class QualityRules(Strict):
    """Item-quality rules of a certification paper (issue 13); absent in ``course.yaml``: not checked."""

    min_wrong_options: dict[str, int] = Field(
        default_factory=lambda: {"single": 3, "multiple": 2},
        description="fewest wrong options (distractors) per choice type: single, multiple")
    truefalse_balance: TrueFalseBalance = TrueFalseBalance()
    near_duplicate: float = Field(0.8, gt=0, le=1, description="bigram Jaccard similarity that flags two "
                                  "questions as the same statement")
    forbidden_words: list[NonEmpty] = Field(default_factory=list,
                                            description="internal words learners must never see")
    lint: LintSettings = Field(default_factory=lambda: LintSettings(),
                               description="allowances, goals and historical terms of the item linter")


class CourseSettings(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    title: NonEmpty
    min_questions_per_chapter: int = Field(ge=1)
    quality: QualityRules | None = Field(None, description="item-quality rules; none when absent")


# ---------------------------------------------------------------- competencies
class Behaviour(Strict):
    summary: NonEmpty
    indicators: list[NonEmpty] = Field(default_factory=list)


class Competency(Strict):
    id: NonEmpty
    title: NonEmpty
    category: NonEmpty
    category_source: Literal["seed", "inferred"]
    description: str | None = None
    assessed_by: Literal["exam", "rating"] = "rating"
    behaviours: dict[str, Behaviour] = Field(default_factory=dict)
    unplaced_indicators: list[NonEmpty] = Field(default_factory=list)
    note: str | None = None


class Category(Strict):
    id: NonEmpty
    title: NonEmpty


class CompetencyLevel(Strict):
    id: NonEmpty
    title: NonEmpty
    rank: int


class CompetencyModel(Strict):
    categories: list[Category] = Field(min_length=1)
    levels: list[CompetencyLevel] = Field(min_length=1)
    levels_note: str | None = None
    items: list[Competency] = Field(min_length=1)


# ---------------------------------------------------------------- questions
class Provenance(Strict):
    source: Literal["seed", "seed-derived", "general"] = Field(
        description="seed: the seed's question/fact and answer; seed-derived: written from a seed "
        "passage; general: well-established general knowledge"
    )
    quote: str | None = Field(None, description="verbatim excerpt of seed.txt holding the fact")
    item: str | list[str] | None = Field(None, description="seed exam/knowledge-base item id(s)")
    note: str | None = None

    @property
    def items(self) -> list[str]:
        if self.item is None:
            return []
        return [self.item] if isinstance(self.item, str) else list(self.item)


class QuestionBase(Strict):
    id: NonEmpty
    section: NonEmpty
    mastery: Mastery
    points: float = Field(gt=0)
    stem: str
    explanation: str
    provenance: Provenance
    area: str | None = Field(None, description="leaf area id; default: the section's area")
    levels: list[str] | None = Field(None, description="certification levels served; default: every level")
    competencies: list[str] = Field(default_factory=list)
    fact_group: str | None = Field(None, description="questions testing the same fact with the same answer share "
                                   "a group name; no exam paper holds two of one group")

    _stem = field_validator("stem", "explanation")(_not_blank)

    @property
    def chapter(self) -> str:
        return self.id.rsplit("-", 1)[0]

    @property
    def auto_graded(self) -> bool:
        return True


class SingleChoice(QuestionBase):
    type: Literal["single"]
    options: dict[str, NonEmpty] = Field(min_length=2)
    answer: NonEmpty


class MultipleChoice(QuestionBase):
    type: Literal["multiple"]
    options: dict[str, NonEmpty] = Field(min_length=3)
    answer: list[str]
    scoring: Literal["partial", "all_or_nothing"] = "partial"


class TrueFalse(QuestionBase):
    type: Literal["truefalse"]
    answer: bool


class FillBlank(QuestionBase):
    type: Literal["blank"]
    blanks: list[list[NonEmpty]] = Field(min_length=1)
    any_order: bool = False
    compare: Literal["auto", "text"] = Field(
        "auto", description="auto: each accepted answer decides how it is compared (a date, a dotted address, "
        "a percentage, a number with its unit, else text); text: compare every blank as text"
    )


class Ordering(QuestionBase):
    type: Literal["ordering"]
    items: dict[str, NonEmpty] = Field(min_length=2)
    answer: list[str]
    scoring: Literal["partial", "all_or_nothing"] = "partial"


class Matching(QuestionBase):
    type: Literal["matching"]
    prompts: dict[str, NonEmpty] = Field(min_length=2)
    options: dict[str, NonEmpty] = Field(min_length=2)
    answer: dict[str, str]


class RubricLevel(Strict):
    """What an answer shows to earn ``points`` of one criterion (graders see it; learners never do)."""

    points: float = Field(ge=0)
    descriptor: NonEmpty


class RubricItem(Strict):
    criterion: NonEmpty
    points: float = Field(gt=0)
    levels: list[RubricLevel] = Field(
        default_factory=list, description="partial-credit descriptors: the full points first, then less; the "
        "highest level equals the criterion's points")


class CaseAnalysis(QuestionBase):
    type: Literal["case"]
    rubric: list[RubricItem] = Field(min_length=1)
    reference: str | None = None

    @property
    def auto_graded(self) -> bool:
        return False


Question = Annotated[
    SingleChoice | MultipleChoice | TrueFalse | FillBlank | Ordering | Matching | CaseAnalysis,
    Field(discriminator="type"),
]
QUESTION_TYPES: tuple[str, ...] = (
    "single", "multiple", "truefalse", "blank", "ordering", "matching", "case",
)
TYPE_TITLES: dict[str, str] = {
    "single": "单选题", "multiple": "多选题", "truefalse": "判断题", "blank": "填空题",
    "ordering": "排序题", "matching": "匹配题", "case": "案例分析题",
}


FieldPath = tuple[str | int, ...]  # a place in a question's YAML: ("options", "B"), ("rubric", 0)


def question_texts(q: Question, *, explanation: bool = False, blanks: bool = False, reference: bool = False,
                   rubric: bool = False) -> Iterator[tuple[FieldPath, str]]:
    """The texts of ``q``, each with its place: stem, options, items and prompts, then those asked for.

    Checks pick what they read: the learner sees the explanation and reference, not the rubric.
    """
    yield ("stem",), q.stem
    if explanation:
        yield ("explanation",), q.explanation
    for name in ("options", "items", "prompts"):
        for key, text in (getattr(q, name, None) or {}).items():
            yield (name, key), text
    if blanks and isinstance(q, FillBlank):
        for i, alts in enumerate(q.blanks):
            for text in alts:
                yield ("blanks", i), text
    if reference and isinstance(q, CaseAnalysis) and q.reference:
        yield ("reference",), q.reference
    if rubric and isinstance(q, CaseAnalysis):
        for i, item in enumerate(q.rubric):
            yield ("rubric", i), item.criterion


class QuestionFile(Strict):
    chapter: NonEmpty
    questions: list[Question] = Field(min_length=1)
