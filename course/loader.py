"""Read ``course/content`` into a validated :class:`Course`, or raise every problem at once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from course import model as m
from course import rules, yamlsrc
from course.bank import cache
from course.errors import ContentError, ContentFolderMissing, Problem
from course.yamlsrc import Located, Path_, load

DEFAULT_CONTENT = Path(__file__).parent / "content"
T = TypeVar("T", bound=BaseModel)
_QUESTION = TypeAdapter(m.Question)


def content_root() -> Path:
    """The content folder: ``$COURSE_CONTENT`` if set, else the one shipped in the package."""
    return Path(os.environ.get("COURSE_CONTENT", DEFAULT_CONTENT))


@dataclass(frozen=True)
class QuestionSource:
    """Where a question was read from, to point errors at the right line."""

    located: Located
    index: int
    chapter: str  # the chapter its file is named after

    def line(self, *path: str | int) -> int:
        return self.located.line(("questions", self.index, *path))

    @property
    def file(self) -> str:
        return self.located.file


@dataclass(frozen=True)
class Course:
    """The whole course as validated data. Built only by :func:`load_course`."""

    root: Path
    settings: m.CourseSettings
    syllabus: m.Syllabus
    areas: m.Areas
    levels: m.Levels
    weights: m.Weights
    competencies: m.CompetencyModel
    questions: tuple[m.Question, ...]
    sources: dict[str, QuestionSource] = field(default_factory=dict, compare=False)
    files: dict[str, Located] = field(default_factory=dict, compare=False)
    seed_text: str = field(default="", repr=False, compare=False)

    @cached_property
    def chapters(self) -> dict[str, m.Chapter]:
        return {c.id: c for p in self.syllabus.parts for c in p.chapters}

    @cached_property
    def part_of(self) -> dict[str, m.Part]:
        return {c.id: p for p in self.syllabus.parts for c in p.chapters}

    @cached_property
    def sections(self) -> dict[str, m.Section]:
        return {s.id: s for c in self.chapters.values() for s in c.sections}

    @cached_property
    def leaf_areas(self) -> dict[str, m.Area]:
        return {leaf.id: leaf for top in self.areas.areas for leaf in _leaves(top)}

    @cached_property
    def top_area_of(self) -> dict[str, m.Area]:
        return {leaf.id: top for top in self.areas.areas for leaf in _leaves(top)}

    @cached_property
    def seed_index(self) -> str:
        """The seed text as provenance quotes are compared with it (NFKC, no whitespace)."""
        return rules.normalise_quote(self.seed_text)

    @cached_property
    def by_id(self) -> dict[str, m.Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def _by_chapter(self) -> dict[str, list[m.Question]]:
        grouped: dict[str, list[m.Question]] = {}
        for q in self.questions:
            grouped.setdefault(q.chapter, []).append(q)
        return grouped

    def questions_of(self, chapter_id: str) -> list[m.Question]:
        """The chapter's questions in bank order (a new list: callers may change it)."""
        return list(self._by_chapter.get(chapter_id, ()))

    def display(self, name: str) -> str:
        """How errors name the content file ``name`` (e.g. ``questions/jc01.yaml``)."""
        return display_path(self.root, self.root / name)

    def levels_of(self, question: m.QuestionBase) -> list[str]:
        return list(question.levels) if question.levels else [lv.id for lv in self.levels.levels]

    def area_of(self, question: m.QuestionBase) -> str:
        return question.area or self.sections[question.section].area


def _leaves(area: m.Area) -> Iterator[m.Area]:
    if not area.children:
        yield area
    for child in area.children:
        yield from _leaves(child)


# ---------------------------------------------------------------- reading
def display_path(root: Path, path: Path) -> str:
    return yamlsrc.display_path(root, path, DEFAULT_CONTENT)


def _read(path: Path, display: str, problems: list[Problem]) -> Located | None:
    if not path.is_file():
        problems.append(Problem(display, 1, "", "file is missing: restore it from version control"))
        return None
    try:
        return load(path, display)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(display, line, "", f"YAML syntax error: {what}; fix the indentation or quoting"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(display, 1, "", "file is not UTF-8 text: save it as UTF-8"))
        return None


def _schema_problems(
    exc: ValidationError, located: Located, prefix: Path_, subject: str
) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p not in m.QUESTION_TYPES)
        if err["type"].startswith("union_tag"):
            loc = (*loc, "type")
        where = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"]
        if err["type"] == "value_error":
            msg = str(err.get("ctx", {}).get("error", msg))
        elif err["type"] == "missing":
            msg = "is missing: add it"
        elif err["type"] == "extra_forbidden":
            msg = "is not a known field: remove it or fix its spelling (see FORMAT.md)"
        elif err["type"] == "union_tag_invalid":
            msg = f"unknown question type: use one of {', '.join(m.QUESTION_TYPES)}"
        elif err["type"] == "union_tag_not_found":
            msg = f"has no type: add `type:` with one of {', '.join(m.QUESTION_TYPES)}"
        line = located.line((*prefix, *loc))
        out.append(Problem(located.file, line, subject, f"field '{where}' {msg}"))
    return out


def _model(cls: type[T], located: Located | None, problems: list[Problem]) -> T | None:
    if located is None:
        return None
    try:
        return cls.model_validate(located.data if located.data is not None else {})
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, located, (), ""))
        return None


def _read_questions(
    root: Path, problems: list[Problem]
) -> tuple[list[tuple[str, m.Question]], dict[str, QuestionSource]]:
    questions: list[tuple[str, m.Question]] = []
    sources: dict[str, QuestionSource] = {}
    qdir = root / "questions"
    for path in sorted(qdir.glob("*.yaml")) if qdir.is_dir() else []:
        located = _read(path, display_path(root, path), problems)
        if located is None:
            continue
        data = located.data
        if not isinstance(data, dict) or not isinstance(data.get("chapter"), str):
            problems.append(Problem(located.file, 1, "", "field 'chapter' is missing: add `chapter: <chapter id>`"))
            continue
        chapter = path.stem  # the file name decides; a different `chapter:` is reported
        if data["chapter"] != chapter:
            problems.append(Problem(located.file, located.line(("chapter",)), "",
                                    f"chapter '{data['chapter']}' does not match the file name: "
                                    f"rename the file to {data['chapter']}.yaml or fix `chapter:`"))
        raw = data.get("questions")
        if not isinstance(raw, list) or not raw:
            problems.append(Problem(located.file, located.line(("questions",)), "",
                                    "field 'questions' must be a non-empty list of questions"))
            continue
        for index, item in enumerate(raw):
            qid = item.get("id") if isinstance(item, dict) else None
            subject = f"question '{qid}'" if qid else f"question #{index + 1}"
            try:
                question = _QUESTION.validate_python(item)
            except ValidationError as exc:
                problems.extend(_schema_problems(exc, located, ("questions", index), subject))
                continue
            questions.append((chapter, question))
            sources.setdefault(question.id, QuestionSource(located, index, chapter))
            if sources[question.id].located is not located or sources[question.id].index != index:
                first = sources[question.id]
                problems.append(Problem(located.file, located.line(("questions", index, "id")), subject,
                                        f"duplicate id (first used at {first.file}:{first.line('id')}): "
                                        "give this question a new id"))
    return questions, sources


CONTENT_FILES = ("course.yaml", "syllabus.yaml", "areas.yaml", "levels.yaml", "weights.yaml", "competencies.yaml",
                 "seed.txt")


def content_files(root: Path) -> list[Path]:
    """Every file :func:`load_course` reads, in a fixed order."""
    qdir = root / "questions"
    return [p for p in (root / n for n in CONTENT_FILES) if p.is_file()] + (
        sorted(qdir.glob("*.yaml")) if qdir.is_dir() else [])


def load_course(root: Path | None = None, *, check: bool = True) -> Course:
    """Load and validate the content at ``root``; raise :class:`ContentError` listing every problem.

    A course that passed every check is kept (:mod:`course.bank.cache`) and read back while its files
    and this code are unchanged.
    """
    origin = "--content" if root is not None else "$COURSE_CONTENT"
    root = Path(root) if root is not None else content_root()
    if not root.is_dir():
        raise ContentFolderMissing(root, origin)
    key = cache.content_key(root, content_files(root))
    kept = cache.read(root, key)
    if isinstance(kept, Course) and kept.root == root:
        return kept
    course = _load(root, check)
    if check:
        cache.write(root, key, course)
    return course


def _load(root: Path, check: bool) -> Course:
    problems: list[Problem] = []

    files: dict[str, Located] = {}

    def part(name: str, cls: type[T]) -> T | None:
        located = _read(root / name, display_path(root, root / name), problems)
        if located is not None:
            files[name] = located
        return _model(cls, located, problems)

    settings = part("course.yaml", m.CourseSettings)
    syllabus = part("syllabus.yaml", m.Syllabus)
    areas = part("areas.yaml", m.Areas)
    levels = part("levels.yaml", m.Levels)
    weights = part("weights.yaml", m.Weights)
    competencies = part("competencies.yaml", m.CompetencyModel)
    seed_path = root / "seed.txt"
    seed_text = seed_path.read_text(encoding="utf-8") if seed_path.is_file() else ""
    before = {p.file for p in problems}
    pairs, sources = _read_questions(root, problems)
    # Chapters whose file could not be read in full: their counts would mislead.
    incomplete = {Path(p.file).stem for p in problems if p.file not in before}

    core: list[Any] = [settings, syllabus, areas, levels, weights, competencies]
    if any(x is None for x in core):
        raise ContentError(problems)
    assert settings and syllabus and areas and levels and weights and competencies
    course = Course(
        root=root, settings=settings, syllabus=syllabus, areas=areas, levels=levels,
        weights=weights, competencies=competencies, questions=_ordered(syllabus, pairs),
        sources=sources, files=files, seed_text=seed_text,
    )
    if check:
        question_files = {p.stem for p in (root / "questions").glob("*.yaml")}
        problems.extend(rules.check(course, question_files, incomplete))
    if problems:
        raise ContentError(problems)
    return course


def _ordered(syllabus: m.Syllabus, pairs: list[tuple[str, m.Question]]) -> tuple[m.Question, ...]:
    order = {c.id: i for i, c in enumerate(ch for p in syllabus.parts for ch in p.chapters)}
    unique: dict[str, m.Question] = {}
    for _, question in pairs:
        unique.setdefault(question.id, question)
    return tuple(sorted(unique.values(), key=lambda q: order.get(q.chapter, len(order))))
