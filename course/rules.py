"""Cross-reference rules over the whole course; each yields :class:`Problem` objects.

Schema errors (a missing field, a wrong type) are caught by the models in
:mod:`course.model`; the rules here need more than one value to decide.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from course import model as m
from course.errors import Problem
from course.yamlsrc import Located

if TYPE_CHECKING:
    from course.loader import Course, QuestionSource

KANGXI = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf]")
_SPACE = re.compile(r"\s+")


def check(course: Course, file_chapters: set[str], incomplete: set[str]) -> list[Problem]:
    """All cross-reference problems; coverage is not judged for ``incomplete`` chapter files."""
    problems: list[Problem] = []
    problems += _syllabus(course, course.files["syllabus.yaml"])
    problems += _weights(course, course.files["weights.yaml"])
    problems += _competencies(course, course.files["competencies.yaml"])
    for question in course.questions:
        problems += question_problems(course, question, course.sources[question.id])
    problems += _coverage(course, file_chapters, incomplete)
    problems += _fact_groups(course)
    if course.settings.quality is not None:
        problems += quality_problems(course, course.settings.quality)
    return problems


# ---------------------------------------------------------------- syllabus and tables
def _syllabus(course: Course, located: Located) -> Iterator[Problem]:
    file = located.file
    chapter_ids = Counter(c.id for p in course.syllabus.parts for c in p.chapters)
    section_ids = Counter(s.id for p in course.syllabus.parts for c in p.chapters for s in c.sections)
    for pi, part in enumerate(course.syllabus.parts):
        for ci, chapter in enumerate(part.chapters):
            at = ("parts", pi, "chapters", ci)
            if chapter_ids[chapter.id] > 1:
                yield Problem(file, located.line((*at, "id")), f"chapter '{chapter.id}'",
                              "duplicate chapter id: rename one of them")
            for si, section in enumerate(chapter.sections):
                here = (*at, "sections", si)
                if section_ids[section.id] > 1:
                    yield Problem(file, located.line((*here, "id")), f"section '{section.id}'",
                                  "duplicate section id: rename one of them")
                if section.area not in course.leaf_areas:
                    yield Problem(file, located.line((*here, "area")), f"section '{section.id}'",
                                  f"area '{section.area}' is not a leaf area of areas.yaml: "
                                  f"use one of {', '.join(course.leaf_areas)}")


def _weights(course: Course, located: Located) -> Iterator[Problem]:
    file = located.file
    level_ids = [lv.id for lv in course.levels.levels]
    leaves = set(course.leaf_areas)
    for level in level_ids:
        if level not in course.weights.tables:
            yield Problem(file, located.line(("tables",)), f"level '{level}'",
                          "has no weight table: add one under `tables:`")
    for level, table in course.weights.tables.items():
        line = located.line(("tables", level))
        if level not in level_ids:
            yield Problem(file, line, f"level '{level}'",
                          f"is not a level of levels.yaml: use one of {', '.join(level_ids)}")
        total = sum(table.values())
        if abs(total - 100) > 1e-9:
            yield Problem(file, line, f"level '{level}'",
                          f"weights sum to {total:g}, not 100: adjust them so they sum to 100")
        for area in table:
            if area not in leaves:
                yield Problem(file, located.line(("tables", level, area)), f"level '{level}'",
                              f"area '{area}' is not a leaf area of areas.yaml: "
                              f"use one of {', '.join(course.leaf_areas)}")
        for area in [a for a in course.leaf_areas if a not in table]:
            yield Problem(file, line, f"level '{level}'", f"has no weight for area '{area}': add it (0 is allowed)")
        for area, weight in table.items():
            if weight < 0:
                yield Problem(file, located.line(("tables", level, area)), f"level '{level}'",
                              f"weight of '{area}' is negative: use a value from 0 to 100")


def _competencies(course: Course, located: Located) -> Iterator[Problem]:
    file = located.file
    cats = {c.id for c in course.competencies.categories}
    levels = {lv.id for lv in course.competencies.levels}
    for i, item in enumerate(course.competencies.items):
        if item.category not in cats:
            yield Problem(file, located.line(("items", i, "category")), f"competency '{item.id}'",
                          f"category '{item.category}' does not exist: use one of {', '.join(sorted(cats))}")
        for level in item.behaviours:
            if level not in levels:
                yield Problem(file, located.line(("items", i, "behaviours", level)), f"competency '{item.id}'",
                              f"level '{level}' does not exist: use one of {', '.join(sorted(levels))}")


# ---------------------------------------------------------------- questions
def question_problems(course: Course, q: m.Question, src: QuestionSource) -> list[Problem]:
    subject = f"question '{q.id}'"
    out: list[Problem] = []

    def bad(field: str | tuple[str | int, ...], message: str) -> None:
        path = field if isinstance(field, tuple) else (field,)
        out.append(Problem(src.file, src.line(*path), subject, message))

    chapter = q.id.rsplit("-", 1)[0] if "-" in q.id else ""
    file_chapter = src.chapter
    if not re.fullmatch(r"[a-z0-9]+-\d{3}", q.id) or chapter != file_chapter:
        bad("id", f"id must be '{file_chapter}-NNN' (the chapter id, a dash and three digits): rename it")
    if chapter in course.chapters and q.section not in {s.id for s in course.chapters[chapter].sections}:
        sections = ", ".join(dict.fromkeys(s.id for s in course.chapters[chapter].sections))
        bad("section", f"section '{q.section}' is not a section of chapter '{chapter}': use one of {sections}")
    if q.area is not None and q.area not in course.leaf_areas:
        bad("area", f"area '{q.area}' does not exist: use one of {', '.join(course.leaf_areas)} or remove it")
    level_ids = {lv.id for lv in course.levels.levels}
    for level in q.levels or []:
        if level not in level_ids:
            bad("levels", f"level '{level}' does not exist: use one of {', '.join(sorted(level_ids))}")
    competency_ids = {c.id for c in course.competencies.items}
    for comp in q.competencies:
        if comp not in competency_ids:
            bad("competencies", f"competency '{comp}' does not exist in competencies.yaml: fix or remove it")
    for message, field in _type_problems(q):
        bad(field, message)
    for field, text in m.question_texts(q, explanation=True, blanks=True, rubric=True):
        if found := KANGXI.search(text):
            char = found.group()
            fixed = unicodedata.normalize("NFKC", char)
            bad(field, f"contains the Kangxi radical '{char}' (U+{ord(char):04X}): write '{fixed}' instead")
    out += [Problem(src.file, src.line("provenance", *f), subject, msg) for msg, f in _provenance(course, q)]
    return out


def _type_problems(q: m.Question) -> Iterator[tuple[str, str | tuple[str | int, ...]]]:
    if isinstance(q, m.SingleChoice) and q.answer not in q.options:
        yield f"answer '{q.answer}' is not an option: use one of {', '.join(q.options)}", "answer"
    elif isinstance(q, m.MultipleChoice):
        for key in q.answer:
            if key not in q.options:
                yield f"answer '{key}' is not an option: use only {', '.join(q.options)}", "answer"
        if len(set(q.answer)) < 2:
            yield "a multiple-choice answer needs at least two keys: use type 'single' instead", "answer"
        if len(set(q.answer)) != len(q.answer):
            yield "answer lists a key twice: list each key once", "answer"
    elif isinstance(q, m.FillBlank):
        count = q.stem.count(m.BLANK)
        if count != len(q.blanks):
            yield (f"stem has {count} blank(s) '{m.BLANK}' but {len(q.blanks)} answer list(s) in 'blanks': "
                   "make them match"), "stem"
    elif isinstance(q, m.Ordering) and sorted(q.answer) != sorted(q.items):
        yield f"answer must list every item exactly once: {', '.join(q.items)}", "answer"
    elif isinstance(q, m.Matching):
        if set(q.answer) != set(q.prompts):
            yield f"answer must map every prompt exactly once: {', '.join(q.prompts)}", "answer"
        for prompt, key in q.answer.items():
            if key not in q.options:
                yield (f"answer for prompt '{prompt}' is '{key}', not an option: use one of "
                       f"{', '.join(q.options)}"), ("answer", prompt)
    elif isinstance(q, m.CaseAnalysis):
        total = sum(r.points for r in q.rubric)
        if abs(total - q.points) > 1e-9:
            yield f"rubric points sum to {total:g} but the question is worth {q.points:g}: make them equal", "rubric"
        for i, item in enumerate(q.rubric):
            yield from ((msg, ("rubric", i, "levels")) for msg in _level_problems(item))


def _level_problems(item: m.RubricItem) -> Iterator[str]:
    """Partial-credit levels of a rubric criterion: within its points, each once, the top one its full points."""
    if not item.levels:
        return
    points = [lv.points for lv in item.levels]
    if over := [p for p in points if p > item.points]:
        yield (f"level of {over[0]:g} points exceeds the criterion's {item.points:g}: "
               "give each level at most the criterion's points")
    if len(set(points)) != len(points):
        yield "two levels give the same points: merge them or give them different points"
    if max(points) != item.points and not over:
        yield (f"the highest level gives {max(points):g} of the criterion's {item.points:g} points: "
               "add a level for the full points")


def normalise_quote(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def _provenance(course: Course, q: m.Question) -> Iterator[tuple[str, tuple[str, ...]]]:
    prov = q.provenance
    if prov.source in ("seed", "seed-derived"):
        if not prov.quote:
            yield f"source '{prov.source}' needs a quote: copy the passage from seed.txt into `quote:`", ()
        elif course.seed_text and normalise_quote(prov.quote) not in course.seed_index:
            yield ("quote is not in seed.txt: copy the passage verbatim (whitespace and full/half width "
                   "do not matter)"), ("quote",)
    if prov.items and prov.source == "general":
        yield "a seed exam/knowledge-base item cannot have source 'general': use 'seed' or 'seed-derived'", ()



# ---------------------------------------------------------------- item quality (issue 13)
def quality_problems(course: Course, rules: m.QualityRules) -> list[Problem]:
    """The rules that keep the bank fit for a certification paper, as set in ``course.yaml: quality``."""
    problems: list[Problem] = []
    for q in course.questions:
        src = course.sources[q.id]
        problems += [Problem(src.file, src.line(*field), f"question '{q.id}'", message)
                     for message, field in _distractors(q, rules) + _forbidden(q, rules) + _option_letters(q)]
    problems += _truefalse_balance(course, rules.truefalse_balance)
    problems += _near_duplicates(course, rules.near_duplicate)
    return problems


def _distractors(q: m.Question, rules: m.QualityRules) -> list[tuple[str, tuple[str, ...]]]:
    """Too few wrong options make a choice item guessable."""
    if not isinstance(q, m.SingleChoice | m.MultipleChoice):
        return []
    keys = {q.answer} if isinstance(q, m.SingleChoice) else set(q.answer)
    wrong = len(set(q.options) - keys)
    minimum = rules.min_wrong_options.get(q.type, 0)
    if wrong >= minimum:
        return []
    return [(f"has {wrong} wrong option(s), fewer than {minimum} for a {q.type}-choice question: add plausible "
             "distractors (same concept family, common misconceptions)", ("options",))]


def _forbidden(q: m.Question, rules: m.QualityRules) -> list[tuple[str, tuple[str | int, ...]]]:
    """Internal words (e.g. 种子) in text a learner or a feedback page shows."""
    out: list[tuple[str, tuple[str | int, ...]]] = []
    for path, text in m.question_texts(q, explanation=True, reference=True):  # what learners see
        for word in rules.forbidden_words:
            if word in unicodedata.normalize("NFKC", text):
                name = ".".join(str(p) for p in path)
                out.append((f"{name} contains the internal word '{word}', which learners must not see: "
                            "rewrite it (say 本题、教材 or the source's title)", path))
    return out


_OPTION_LETTERS = re.compile(r"(?<![A-Za-z0-9+])[A-H](?:[、，,和与及][A-H])*"
                             r"(?=项|选项|是|描述|错误|正确|不对|为|属于|说法|都|均)")


def _option_letters(q: m.Question) -> list[tuple[str, tuple[str | int, ...]]]:
    """An explanation that says "D、E错误" is wrong for most learners: options are shuffled per learner."""
    if not isinstance(q, m.SingleChoice | m.MultipleChoice | m.Ordering | m.Matching):
        return []
    if not (found := _OPTION_LETTERS.search(q.explanation)):
        return []
    return [(f"explanation refers to option letter(s) '{found.group()}', but options are shuffled for each "
             "learner: name the option by its text", ("explanation",))]


def _truefalse_balance(course: Course, band: m.TrueFalseBalance) -> Iterator[Problem]:
    """True keys within the band, per chapter with at least ``min_items`` true/false items and bank-wide.

    Half an item of rounding is allowed, so an odd count may sit either side of the middle
    (e.g. 3 or 4 true of 7, although 3/7 = 43 % and 4/7 = 57 %).
    """
    keys: dict[str, list[bool]] = defaultdict(list)
    for q in course.questions:
        if isinstance(q, m.TrueFalse):
            keys[q.chapter].append(q.answer)

    def outside(answers: list[bool]) -> str | None:
        n, true = len(answers), sum(answers)
        low, high = band.low * n / 100, band.high * n / 100
        if low <= true <= high or abs(true - n / 2) <= 0.5:
            return None
        form = "true statements to a false form" if true > high else "false statements to a true form"
        return (f"{true} of {n} true/false keys are true ({100 * true / n:.0f} %), outside "
                f"{band.low:g}–{band.high:g} %: rewrite some {form} (faithful to the source)")

    for chapter, answers in keys.items():
        if len(answers) >= band.min_items and (message := outside(answers)):
            yield Problem(course.display(f"questions/{chapter}.yaml"), 1, f"chapter '{chapter}'", message)
    every = [a for answers in keys.values() for a in answers]
    if len(every) >= band.min_items and (message := outside(every)):
        located = course.files["course.yaml"]
        yield Problem(located.file, located.line(("quality", "truefalse_balance")), "question bank", message)


_GAP = re.compile(r"____|[（(]\s*[）)]")
_NOT_TEXT = re.compile(r"[\W_]+")


def statement(q: m.Question) -> str:
    """The stem with its gaps filled by the key, so a blank and a choice on one fact read alike."""
    fills: list[str] = []
    if isinstance(q, m.SingleChoice) and q.answer in q.options:
        fills = [q.options[q.answer]]
    elif isinstance(q, m.MultipleChoice):
        fills = ["、".join(q.options.get(k, "") for k in q.answer)]
    elif isinstance(q, m.FillBlank):
        fills = [alts[0] for alts in q.blanks]
    it = iter(fills)
    return _GAP.sub(lambda _: next(it, ""), q.stem)


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of ``text`` after NFKC, without punctuation, spaces or underscores."""
    s = _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text))
    return frozenset(s[i:i + 2] for i in range(len(s) - 1))


def _near_duplicates(course: Course, threshold: float) -> Iterator[Problem]:
    """Two questions whose statements share ≥ ``threshold`` of their bigrams (Jaccard) ask the same thing."""
    grams = [(q, bigrams(statement(q))) for q in course.questions]
    for (first, a), (second, b) in itertools.combinations(grams, 2):
        if not a or not b:
            continue
        similarity = len(a & b) / len(a | b)
        if similarity >= threshold:
            there, here = course.sources[first.id], course.sources[second.id]
            yield Problem(here.file, here.line("stem"), f"question '{second.id}'",
                          f"states nearly the same as question '{first.id}' ({there.file}:{there.line('stem')}; "
                          f"bigram similarity {similarity:.2f} ≥ {threshold:g}): merge the two or rewrite one")


# ---------------------------------------------------------------- same fact, same answer
def _fact_groups(course: Course) -> Iterator[Problem]:
    """A fact group names at least two questions: alone, it is a typo or a forgotten partner."""
    members: dict[str, list[m.Question]] = defaultdict(list)
    for q in course.questions:
        if q.fact_group is not None:
            members[q.fact_group].append(q)
    for group, questions in members.items():
        if len(questions) == 1:
            (q,) = questions
            src = course.sources[q.id]
            yield Problem(src.file, src.line("fact_group"), f"question '{q.id}'",
                          f"fact group '{group}' has no other question: give it to the questions that test the "
                          "same fact, or remove `fact_group`")


# ---------------------------------------------------------------- coverage
def _coverage(course: Course, file_chapters: set[str], incomplete: set[str]) -> Iterator[Problem]:
    minimum = course.settings.min_questions_per_chapter
    counts = Counter(q.chapter for q in course.questions)
    for chapter in course.chapters.values():
        file = course.display(f"questions/{chapter.id}.yaml")
        if chapter.id not in file_chapters:
            yield Problem(file, 1, f"chapter '{chapter.id}'", "has no question file: create it")
            continue
        if chapter.id in incomplete:
            continue
        if counts[chapter.id] < minimum:
            yield Problem(file, 1, f"chapter '{chapter.id}'",
                          f"has {counts[chapter.id]} question(s), fewer than {minimum}: add questions")
        covered = {q.section for q in course.questions_of(chapter.id)}
        for section in chapter.sections:
            if section.id not in covered:
                yield Problem(file, 1, f"chapter '{chapter.id}'",
                              f"section '{section.id}' ({section.title}) has no question: add at least one")
    for chapter_id in sorted(file_chapters - set(course.chapters)):
        yield Problem(course.display(f"questions/{chapter_id}.yaml"), 1, f"chapter '{chapter_id}'",
                      "is not a chapter of syllabus.yaml: add it to the syllabus or rename the file")
