"""Does `course validate` report each broken rule with its exact place and fix?

Each scenario copies the small fixture course (tests/fixtures/mini), breaks
one thing with a text edit, and asserts the whole message.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from course.cli import app
from course.errors import ContentError
from course.loader import load_course

MINI = Path(__file__).parent / "fixtures" / "mini"
Q = "content/questions/ch01.yaml"


def broken(tmp_path: Path, edits: list[tuple[str, str, str]]) -> Path:
    root = tmp_path / "content"
    shutil.copytree(MINI, root)
    for name, old, new in edits:
        path = root / name
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        assert old in text, f"fixture edit does not apply: {old!r}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


TRUE_STATEMENTS = "".join(
    f"  - id: ch01-{n}\n    section: ch01-s2\n    type: truefalse\n    mastery: 了解\n    points: 1\n"
    f"    stem: {stem}\n    answer: true\n    explanation: 说法正确。\n    provenance: {{source: general}}\n"
    for n, stem in (("008", "每年5月17日是世界电信日。"), ("009", "4P包括产品和价格。"),
                      ("010", "SWOT中的S指优势。")))

SCENARIOS = {
    "duplicate-id": (
        [("questions/ch01.yaml", "- id: ch01-002", "- id: ch01-001")],
        [f"{Q}:13: question 'ch01-001': duplicate id (first used at {Q}:3): give this question a new id"],
    ),
    "key-not-an-option": (
        [("questions/ch01.yaml", "    answer: A\n", "    answer: D\n")],
        [f"{Q}:10: question 'ch01-001': answer 'D' is not an option: use one of A, B, C"],
    ),
    "multiple-key-not-an-option": (
        [("questions/ch01.yaml", "answer: [A, B, D]", "answer: [A, E]")],
        [f"{Q}:20: question 'ch01-002': answer 'E' is not an option: use only A, B, C, D"],
    ),
    "multiple-with-one-key": (
        [("questions/ch01.yaml", "answer: [A, B, D]", "answer: [A]")],
        [f"{Q}:20: question 'ch01-002': a multiple-choice answer needs at least two keys: use type 'single' instead"],
    ),
    "weights-do-not-sum-to-100": (
        [("weights.yaml", "L4: {basic.telecom: 70, legal.law: 30}", "L4: {basic.telecom: 70, legal.law: 20}")],
        ["content/weights.yaml:4: level 'L4': weights sum to 90, not 100: adjust them so they sum to 100"],
    ),
    "weights-unknown-area": (
        [("weights.yaml", "L1: {basic.telecom: 40, legal.law: 60}", "L1: {basic.telecom: 40, legal.lawx: 60}")],
        ["content/weights.yaml:5: level 'L1': area 'legal.lawx' is not a leaf area of areas.yaml: "
         "use one of basic.telecom, legal.law",
         "content/weights.yaml:5: level 'L1': has no weight for area 'legal.law': add it (0 is allowed)"],
    ),
    "weights-missing-level": (
        [("weights.yaml", "  L1: {basic.telecom: 40, legal.law: 60}\n", "")],
        ["content/weights.yaml:3: level 'L1': has no weight table: add one under `tables:`"],
    ),
    "area-does-not-exist": (
        [("questions/ch01.yaml", "    type: truefalse\n", "    type: truefalse\n    area: basic.nope\n")],
        [f"{Q}:26: question 'ch01-003': area 'basic.nope' does not exist: use one of basic.telecom, legal.law "
         "or remove it"],
    ),
    "chapter-does-not-exist": (
        [("questions/ch09.yaml", "", (MINI / "questions/ch01.yaml").read_text(encoding="utf-8")
          .replace("ch01", "ch09"))],
        ["content/questions/ch09.yaml:1: chapter 'ch09': is not a chapter of syllabus.yaml: "
         "add it to the syllabus or rename the file"],
    ),
    "section-not-in-chapter": (
        [("questions/ch01.yaml", "    section: ch01-s2\n    type: truefalse",
          "    section: ch02-s1\n    type: truefalse")],
        [f"{Q}:24: question 'ch01-003': section 'ch02-s1' is not a section of chapter 'ch01': use one of "
         "ch01-s1, ch01-s2"],
    ),
    "chapter-does-not-match-file-name": (
        [("questions/ch01.yaml", "chapter: ch01", "chapter: ch02")],
        [f"{Q}:1: chapter 'ch02' does not match the file name: rename the file to ch02.yaml or fix `chapter:`"],
    ),
    "empty-stem": (
        [("questions/ch01.yaml", "stem: 世界电信日是哪一天？", 'stem: "  "')],
        [f"{Q}:8: question 'ch01-001': field 'stem' is empty: write the text"],
    ),
    "missing-explanation": (
        [("questions/ch01.yaml", "    explanation: 4P指产品、价格、渠道、促销。\n", "")],
        [f"{Q}:13: question 'ch01-002': field 'explanation' is missing: add it"],
    ),
    "unknown-type": (
        [("questions/ch01.yaml", "type: truefalse", "type: yesno")],
        [f"{Q}:25: question 'ch01-003': field 'type' unknown question type: use one of single, multiple, "
         "truefalse, blank, ordering, matching, case"],
    ),
    "unknown-field": (
        [("questions/ch01.yaml", "    points: 2\n", "    points: 2\n    pionts: 2\n")],
        [f"{Q}:8: question 'ch01-001': field 'pionts' is not a known field: remove it or fix its spelling "
         "(see FORMAT.md)"],
    ),
    "blank-count-mismatch": (
        [("questions/ch01.yaml", "stem: 电信业务分为____、____。", "stem: 电信业务分为____。")],
        [f"{Q}:37: question 'ch01-004': stem has 1 blank(s) '____' but 2 answer list(s) in 'blanks': make them match"],
    ),
    "ordering-not-a-permutation": (
        [("questions/ch01.yaml", "answer: [B, A, C]", "answer: [B, A, A]")],
        [f"{Q}:48: question 'ch01-005': answer must list every item exactly once: A, B, C"],
    ),
    "matching-prompt-unmapped": (
        [("questions/ch01.yaml", "answer: {1: B, 2: A}", "answer: {1: B}")],
        [f"{Q}:59: question 'ch01-006': answer must map every prompt exactly once: 1, 2"],
    ),
    "matching-key-not-an-option": (
        [("questions/ch01.yaml", "answer: {1: B, 2: A}", "answer: {1: B, 2: Z}")],
        [f"{Q}:59: question 'ch01-006': answer for prompt '2' is 'Z', not an option: use one of A, B, C"],
    ),
    "rubric-does-not-sum-to-points": (
        [("questions/ch01.yaml", "    points: 4\n", "    points: 5\n")],
        [f"{Q}:68: question 'ch01-007': rubric points sum to 4 but the question is worth 5: make them equal"],
    ),
    "kangxi-radical": (
        [("questions/ch01.yaml", "stem: 世界电信日是哪一天？", "stem: 世界电信日是哪\u2f00天？")],
        [f"{Q}:8: question 'ch01-001': contains the Kangxi radical '\u2f00' (U+2F00): write '一' instead"],
    ),
    "quote-not-in-seed": (
        [("questions/ch01.yaml", "quote: 5月17日被定为“世界电信日”", "quote: 5月18日被定为“世界电信日”")],
        [f"{Q}:12: question 'ch01-001': quote is not in seed.txt: copy the passage verbatim (whitespace and "
         "full/half width do not matter)"],
    ),
    "seed-without-quote": (
        [("questions/ch01.yaml", "{source: seed, quote: 5月17日被定为“世界电信日”, item: kb.fill.2}",
          "{source: seed, item: kb.fill.2}")],
        [f"{Q}:12: question 'ch01-001': source 'seed' needs a quote: copy the passage from seed.txt into `quote:`"],
    ),
    "seed-item-marked-general": (
        [("questions/ch01.yaml", "{source: seed, quote: 5月17日被定为“世界电信日”, item: kb.fill.2}",
          "{source: general, item: kb.fill.2}")],
        [f"{Q}:12: question 'ch01-001': a seed exam/knowledge-base item cannot have source 'general': "
         "use 'seed' or 'seed-derived'"],
    ),
    "unknown-level": (
        [("questions/ch01.yaml", "    points: 2\n", "    points: 2\n    levels: [L4, L9]\n")],
        [f"{Q}:8: question 'ch01-001': level 'L9' does not exist: use one of L1, L4"],
    ),
    "unknown-competency": (
        [("questions/ch01.yaml", "    points: 2\n", "    points: 2\n    competencies: [telepathy]\n")],
        [f"{Q}:8: question 'ch01-001': competency 'telepathy' does not exist in competencies.yaml: fix or remove it"],
    ),
    "bad-id": (
        [("questions/ch01.yaml", "- id: ch01-002", "- id: ch01-2")],
        [f"{Q}:13: question 'ch01-2': id must be 'ch01-NNN' (the chapter id, a dash and three digits): rename it"],
    ),
    "section-not-covered": (
        [("questions/ch01.yaml", "    section: ch01-s2\n    type: truefalse",
          "    section: ch01-s1\n    type: truefalse"),
         ("questions/ch01.yaml", "    section: ch01-s2\n    type: case", "    section: ch01-s1\n    type: case")],
        ["content/questions/ch01.yaml:1: chapter 'ch01': section 'ch01-s2' (第二节) has no question: add at least one"],
    ),
    "too-few-questions": (
        [("course.yaml", "min_questions_per_chapter: 1", "min_questions_per_chapter: 8")],
        ["content/questions/ch01.yaml:1: chapter 'ch01': has 7 question(s), fewer than 8: add questions"],
    ),
    "syllabus-area-not-a-leaf": (
        [("syllabus.yaml", "area: legal.law", "area: legal")],
        ["content/syllabus.yaml:15: section 'ch01-s2': area 'legal' is not a leaf area of areas.yaml: "
         "use one of basic.telecom, legal.law"],
    ),
    "syllabus-bad-mastery": (
        [("syllabus.yaml", "mastery: 了解", "mastery: 精通")],
        ["content/syllabus.yaml:17: field 'parts.0.chapters.0.sections.1.objectives.0.mastery' Input should be "
         "'了解', '熟悉', '掌握' or '熟练掌握'"],
    ),
    "yaml-syntax-error": (
        [("questions/ch01.yaml", "    answer: [A, B, D]", "    answer: [A, B, D")],
        [f"{Q}:21: YAML syntax error: expected ',' or ']', but got ':'; fix the indentation or quoting"],
    ),
    "weights-negative": (
        [("weights.yaml", "L4: {basic.telecom: 70, legal.law: 30}", "L4: {basic.telecom: 110, legal.law: -10}")],
        ["content/weights.yaml:4: level 'L4': weight of 'legal.law' is negative: use a value from 0 to 100"],
    ),
    "competency-unknown-category": (
        [("competencies.yaml", "category: basic,", "category: social,")],
        ["content/competencies.yaml:6: competency 'achievement': category 'social' does not exist: use one of basic"],
    ),
    "competency-unknown-level": (
        [("competencies.yaml", "category_source: inferred}",
          "category_source: inferred, behaviours: {guru: {summary: 无所不知}}}")],
        ["content/competencies.yaml:6: competency 'achievement': level 'guru' does not exist: use one of junior"],
    ),
    "duplicate-section-id": (
        [("syllabus.yaml", "- id: ch01-s2", "- id: ch01-s1")],
        # the questions of the section that lost its id are reported too
        [f"{Q}:24: question 'ch01-003': section 'ch01-s2' is not a section of chapter 'ch01': use one of ch01-s1",
         f"{Q}:63: question 'ch01-007': section 'ch01-s2' is not a section of chapter 'ch01': use one of ch01-s1",
         "content/syllabus.yaml:8: section 'ch01-s1': duplicate section id: rename one of them",
         "content/syllabus.yaml:13: section 'ch01-s1': duplicate section id: rename one of them"],
    ),
    "question-without-type": (
        [("questions/ch01.yaml", "    type: truefalse\n", "")],
        [f"{Q}:23: question 'ch01-003': field 'type' has no type: add `type:` with one of single, multiple, "
         "truefalse, blank, ordering, matching, case"],
    ),
    "multiple-key-twice": (
        [("questions/ch01.yaml", "answer: [A, B, D]", "answer: [A, B, B]")],
        [f"{Q}:20: question 'ch01-002': answer lists a key twice: list each key once"],
    ),
    "no-question-file": (
        [("questions/ch01.yaml", "chapter: ch01", "chapter: ch01")],
        ["content/questions/ch01.yaml:1: chapter 'ch01': has no question file: create it"],
    ),
    "file-without-chapter": (
        [("questions/ch01.yaml", "chapter: ch01\n", "")],
        [f"{Q}:1: field 'chapter' is missing: add `chapter: <chapter id>`"],
    ),
    "weights-unknown-level": (
        [("weights.yaml", "  L1: {basic.telecom: 40, legal.law: 60}\n",
          "  L1: {basic.telecom: 40, legal.law: 60}\n  L9: {basic.telecom: 40, legal.law: 60}\n")],
        ["content/weights.yaml:6: level 'L9': is not a level of levels.yaml: use one of L4, L1"],
    ),
    "empty-question-list": (
        [("questions/ch01.yaml", "questions:\n", "questions: []\nrest:\n")],
        [f"{Q}:2: field 'questions' must be a non-empty list of questions"],
    ),
    "single-with-two-distractors": (
        [("course.yaml", "min_questions_per_chapter: 1\n",
          "min_questions_per_chapter: 1\nquality: {min_wrong_options: {single: 3}}\n")],
        [f"{Q}:9: question 'ch01-001': has 2 wrong option(s), fewer than 3 for a single-choice question: "
         "add plausible distractors (same concept family, common misconceptions)"],
    ),
    "multiple-with-one-wrong-option": (
        [("course.yaml", "min_questions_per_chapter: 1\n",
          "min_questions_per_chapter: 1\nquality: {min_wrong_options: {multiple: 2}}\n")],
        [f"{Q}:19: question 'ch01-002': has 1 wrong option(s), fewer than 2 for a multiple-choice question: "
         "add plausible distractors (same concept family, common misconceptions)"],
    ),
    "truefalse-keys-mostly-true": (
        [("course.yaml", "min_questions_per_chapter: 1\n",
          "min_questions_per_chapter: 1\nquality:\n  min_wrong_options: {}\n"
          "  truefalse_balance: {low: 45, high: 55, min_items: 4}\n"),
         ("questions/ch01.yaml", "  - id: ch01-004\n", TRUE_STATEMENTS + "  - id: ch01-004\n")],
        ["content/course.yaml:6: question bank: 3 of 4 true/false keys are true (75 %), outside 45–55 %: "
         "rewrite some true statements to a false form (faithful to the source)",
         "content/questions/ch01.yaml:1: chapter 'ch01': 3 of 4 true/false keys are true (75 %), outside 45–55 %: "
         "rewrite some true statements to a false form (faithful to the source)"],
    ),
    "near-duplicate-statement": (
        [("course.yaml", "min_questions_per_chapter: 1\n",
          "min_questions_per_chapter: 1\nquality: {min_wrong_options: {}, near_duplicate: 0.8}\n"),
         ("questions/ch01.yaml", "  - id: ch01-004\n",
          "  - id: ch01-008\n    section: ch01-s1\n    type: blank\n    mastery: 掌握\n    points: 1\n"
          "    stem: ____被定为“世界电信日”。\n    blanks: [[5月17日]]\n    explanation: 5月17日是世界电信日。\n"
          "    provenance: {source: general}\n  - id: ch01-004\n"),
         ("questions/ch01.yaml", "stem: 世界电信日是哪一天？", "stem: （ ）被定为“世界电信日”。")],
        [f"{Q}:37: question 'ch01-008': states nearly the same as question 'ch01-001' ({Q}:8; "
         "bigram similarity 1.00 ≥ 0.8): merge the two or rewrite one"],
    ),
    "internal-word-in-explanation": (
        [("course.yaml", "min_questions_per_chapter: 1\n",
          "min_questions_per_chapter: 1\nquality: {min_wrong_options: {}, forbidden_words: [种子, 题库]}\n"),
         ("questions/ch01.yaml", "explanation: 4P指产品、价格、渠道、促销。",
          "explanation: 种子教材：4P指产品、价格、渠道、促销。"),
         ("questions/ch01.yaml", "C: 10月1日}", "C: 题库无此日}")],
        [f"{Q}:9: question 'ch01-001': options.C contains the internal word '题库', which learners must not see: "
         "rewrite it (say 本题、教材 or the source's title)",
         f"{Q}:21: question 'ch01-002': explanation contains the internal word '种子', which learners must not see: "
         "rewrite it (say 本题、教材 or the source's title)"],
    ),
    "explanation-names-an-option-letter": (
        [("course.yaml", "min_questions_per_chapter: 1\n",
          "min_questions_per_chapter: 1\nquality: {min_wrong_options: {}}\n"),
         ("questions/ch01.yaml", "explanation: 4P指产品、价格、渠道、促销。",
          "explanation: 4P指产品、价格、渠道、促销，C错误。")],
        [f"{Q}:21: question 'ch01-002': explanation refers to option letter(s) 'C', but options are shuffled for "
         "each learner: name the option by its text"],
    ),
    "rubric-level-above-the-criterion": (
        [("questions/ch01.yaml", "{criterion: 先倾听并致歉, points: 2}",
          "{criterion: 先倾听并致歉, points: 2, levels: [{points: 3, descriptor: 倾听并致歉}]}")],
        [f"{Q}:69: question 'ch01-007': level of 3 points exceeds the criterion's 2: give each level at most the "
         "criterion's points"],
    ),
    "rubric-levels-with-the-same-points": (
        [("questions/ch01.yaml", "{criterion: 先倾听并致歉, points: 2}",
          "{criterion: 先倾听并致歉, points: 2, levels: [{points: 2, descriptor: 倾听并致歉}, "
          "{points: 2, descriptor: 只致歉}]}")],
        [f"{Q}:69: question 'ch01-007': two levels give the same points: merge them or give them different points"],
    ),
    "rubric-levels-without-full-points": (
        [("questions/ch01.yaml", "{criterion: 先倾听并致歉, points: 2}",
          "{criterion: 先倾听并致歉, points: 2, levels: [{points: 1, descriptor: 只致歉}]}")],
        [f"{Q}:69: question 'ch01-007': the highest level gives 1 of the criterion's 2 points: add a level for the "
         "full points"],
    ),
    "fact-group-of-one": (
        [("questions/ch01.yaml", "    type: truefalse\n", "    type: truefalse\n    fact_group: hang-up\n")],
        [f"{Q}:26: question 'ch01-003': fact group 'hang-up' has no other question: give it to the questions that "
         "test the same fact, or remove `fact_group`"],
    ),
    "missing-file": (
        [("levels.yaml", "pass_mark: 60", "pass_mark: 60")],
        [],
    ),
}


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "missing-file"])
def test_broken_content_is_reported_with_place_and_fix(tmp_path: Path, scenario: str) -> None:
    edits, expected = SCENARIOS[scenario]
    root = broken(tmp_path, edits)
    if scenario == "no-question-file":
        (root / "questions" / "ch01.yaml").rename(root / "questions" / "ch01.yaml.bak")
    with pytest.raises(ContentError) as caught:
        load_course(root)
    assert [str(p) for p in caught.value.problems] == expected


def test_shipped_course_enables_the_item_quality_rules() -> None:
    """Does the shipped course.yaml keep the certification-paper rules of issue 13 switched on?"""
    rules = load_course().settings.quality
    assert rules is not None
    assert rules.min_wrong_options == {"single": 3, "multiple": 2}
    assert (rules.truefalse_balance.low, rules.truefalse_balance.high) == (45, 55)
    assert rules.near_duplicate == 0.8 and "种子" in rules.forbidden_words


def test_missing_file_is_named(tmp_path: Path) -> None:
    root = broken(tmp_path, [])
    (root / "levels.yaml").unlink()
    with pytest.raises(ContentError) as caught:
        load_course(root)
    assert [str(p) for p in caught.value.problems] == [
        "content/levels.yaml:1: file is missing: restore it from version control"]


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    root = broken(tmp_path, [])
    (root / "questions" / "ch01.yaml").write_bytes("chapter: ch01\n# 注释\n".encode("gb18030"))
    with pytest.raises(ContentError) as caught:
        load_course(root)
    assert [str(p) for p in caught.value.problems] == [f"{Q}:1: file is not UTF-8 text: save it as UTF-8"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Does one run list all problems, not just the first?"""
    edits = SCENARIOS["key-not-an-option"][0] + SCENARIOS["weights-do-not-sum-to-100"][0]
    with pytest.raises(ContentError) as caught:
        load_course(broken(tmp_path, edits))
    assert len(caught.value.problems) == 2


def test_cli_validate_exits_non_zero_and_prints_each_problem(tmp_path: Path) -> None:
    root = broken(tmp_path, SCENARIOS["key-not-an-option"][0])
    result = CliRunner().invoke(app, ["validate", "--content", str(root)])
    assert result.exit_code == 1
    assert f"Error: {Q}:10: question 'ch01-001': answer 'D' is not an option: use one of A, B, C" in result.output
    assert "1 problem(s) found." in result.output


def test_cli_validate_prints_summary_tables() -> None:
    result = CliRunner().invoke(app, ["validate", "--content", str(MINI)])
    assert result.exit_code == 0, result.output
    for heading in ("各章题数", "各题型", "各知识领域", "各级别分值占比与比重表"):
        assert heading in result.output
    assert "OK: 7 questions in 1 chapters." in result.output


@pytest.mark.parametrize("text", ["30B+D是基群速率接口", "商业客户的B类用户标准", "以A股形式上市", "其中Clarify即澄清"])
def test_letters_that_are_not_option_keys_are_not_flagged(text: str) -> None:
    """Does the option-letter rule leave technical terms alone (2B+D, B类, A股)?"""
    from course.rules import _OPTION_LETTERS

    assert _OPTION_LETTERS.search(text) is None
