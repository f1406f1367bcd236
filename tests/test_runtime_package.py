"""Is the learner-side package keyless: no import of the course, no content, no key string, even in an example?

Learners' servers run an environment with ``course_runtime`` and nothing else of the course
(``course hub``, course/hub/learnerenv.py): whatever that package holds, every learner can read.
"""

from __future__ import annotations

import ast
import copy
import io
import re
import shutil
import subprocess
import sys
import tokenize
import zipfile
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from course import model as m
from course.build import chapter_notebook
from course.hub.learnerenv import RUNTIME_DIR, runtime_files
from course.loader import Course, content_root, load_course


def grader_texts(course: Course) -> list[str]:
    """The start of every explanation, rubric criterion, partial-credit descriptor and case model answer
    (``reference``) that is not a public seed passage."""
    seed = (content_root() / "seed.txt").read_text(encoding="utf-8")
    cases = [q for q in course.questions if isinstance(q, m.CaseAnalysis)]
    texts = [q.explanation for q in course.questions]
    texts += [r.criterion for q in cases for r in q.rubric]
    texts += [lv.descriptor for q in cases for r in q.rubric for lv in r.levels]
    texts += [q.reference for q in cases if q.reference]
    return [t[:24] for t in texts if len(t) >= 10 and t[:24] not in seed]


def test_grader_texts_cover_the_levels_and_model_answers() -> None:
    """Does the leak tests' list hold every case's model answer and every long enough level descriptor?"""
    course = load_course()
    texts = set(grader_texts(course))
    cases = [q for q in course.questions if isinstance(q, m.CaseAnalysis)]
    references = [q.reference for q in cases if q.reference]
    descriptors = [lv.descriptor for q in cases for r in q.rubric for lv in r.levels if len(lv.descriptor) >= 10]
    assert len(references) == 24 and all(t[:24] in texts for t in references)
    assert descriptors and all(t[:24] in texts for t in descriptors)


def key_strings(course: Course) -> list[str]:
    """What a learner must not find: accepted blank answers (numbers and dates, or 4+ characters), 解析, rubrics."""
    blanks = [a for q in course.questions if isinstance(q, m.FillBlank) for alts in q.blanks for a in alts]
    return [a for a in blanks if (len(a) >= 2 and re.search(r"\d", a)) or len(a) >= 4] + grader_texts(course)


def holds(text: str, key: str) -> bool:
    """A number or date key counts only as a whole number (``20`` is not in ``2031``, ``#1225`` or ``20_000``)."""
    if re.search(r"\d", key):
        return re.search(rf"(?<![\d.,_]){re.escape(key)}(?![\d.,_])", text) is not None
    return key in text


def test_the_runtime_imports_nothing_of_the_course() -> None:
    for path in runtime_files():
        if path.suffix != ".py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {mod for mod in modules if mod and (mod == "course" or mod.startswith("course."))}, path


def readable_text(path: Path) -> str:
    """What a reader sees as text: a module's strings, docstrings and comments (not its code), else the file."""
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return source
    kinds = {tokenize.STRING, tokenize.COMMENT, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    return "\n".join(t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type in kinds)


def test_no_runtime_file_holds_a_key_string_not_even_a_docstring_example() -> None:
    """The scorer's docstring once used 5月17日 and 2000年9月25日, two keys of the bank, as its examples."""
    keys = key_strings(load_course())
    assert len(keys) > 500
    for path in runtime_files():
        text = readable_text(path)
        assert [k for k in keys if holds(text, k)] == [], path


def test_the_runtime_wheel_ships_only_its_modules(tmp_path: Path) -> None:
    """Does the learners' distribution contain the runtime's modules and metadata, and no content at all?"""
    source = tmp_path / "src"  # built from a copy, as course hub does: the build writes into its folder
    for path in runtime_files():
        (source / path.relative_to(RUNTIME_DIR)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, source / path.relative_to(RUNTIME_DIR))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                           str(tmp_path), str(source)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("kam_course_runtime-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    modules = sorted(n for n in names if not n.startswith("kam_course_runtime-"))
    assert modules == ["course_runtime/__init__.py", "course_runtime/answersfile.py", "course_runtime/coursepage.py",
                       "course_runtime/exam.py", "course_runtime/exchange.py", "course_runtime/quiz.py",
                       "course_runtime/scoring.py"]


def test_released_notebooks_hold_no_fill_in_key_of_their_own_chapter() -> None:
    """Does any chapter's released notebook show, anywhere (stems, options, headers, widget code), an accepted
    answer of one of its own fill-ins, other than the terms course.yaml lists as the chapter's vocabulary?
    (js02-015 once offered 255.255.255.192（/26）, js02-013's mask, and jc01-006 the distractor 0.98%.)"""
    course = load_course()
    quality = course.settings.quality
    shared = {s.term for s in quality.lint.shared_terms} if quality is not None else set()
    assert len(shared) == 13
    found = []
    for chapter in course.chapters:
        nb = copy.deepcopy(chapter_notebook(course, chapter))
        nb, _ = ClearHiddenTests().preprocess(nb, {})
        nb, _ = ClearSolutions(code_stub={"python": "# stub"}).preprocess(nb, {})
        text = re.sub(r"第\d+题", "", nbformat.writes(nb))  # the questions' numbers (第20题) are no answer
        keys = {a for q in course.questions_of(chapter) if isinstance(q, m.FillBlank) for alts in q.blanks
                for a in alts if (len(a) >= 2 and re.search(r"\d", a)) or len(a) >= 4}
        found += [(chapter, k) for k in sorted(keys - shared) if holds(text, k)]
    assert found == []


def test_released_notebooks_hold_no_hidden_test_explanation_or_rubric() -> None:
    """After nbgrader's own release steps, does any chapter's notebook still carry a key?"""
    course = load_course()
    texts = grader_texts(course)
    for chapter in course.chapters:
        nb = copy.deepcopy(chapter_notebook(course, chapter))
        nb, _ = ClearHiddenTests().preprocess(nb, {})
        nb, _ = ClearSolutions(code_stub={"python": "# stub"}).preprocess(nb, {})
        text = nbformat.writes(nb)
        assert "quiz.grade(" not in text and "BEGIN HIDDEN TESTS" not in text, chapter
        assert [t for t in texts if t in text] == [], chapter
