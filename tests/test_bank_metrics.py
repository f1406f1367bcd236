"""Are the bank's measures right by hand, and does `course validate` print them and fail when the bank slides back?"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from typer.testing import CliRunner

from course import model as m
from course.bank.lint import RULES, Finding
from course.bank.metrics import GOALS, always_longest, always_shortest, cue_guessable, truefalse_outside
from course.cli import app
from course.loader import load_course

MINI = Path(__file__).parent / "fixtures" / "mini"
_QUESTION: TypeAdapter[m.Question] = TypeAdapter(m.Question)


def item(qid: str, kind: str, **fields: Any) -> m.Question:
    common = {"id": qid, "section": "s", "mastery": "了解", "stem": "题干（ ）。", "explanation": "解析。",
              "provenance": {"source": "general"}, "points": 2, "type": kind}
    return _QUESTION.validate_python({**common, **fields})


def single(qid: str, lengths: tuple[int, int, int, int], key: str = "A") -> m.Question:
    return item(qid, "single", options={k: "字" * n for k, n in zip("ABCD", lengths, strict=True)}, answer=key)


def test_always_longest_splits_ties_and_counts_every_single_choice_item() -> None:
    """Key longest alone (1), tied with one other (1/2), not longest (0), shortest (0): 1.5 of 4 = 37.5 %?"""
    bank = [single("c-001", (6, 3, 3, 3)), single("c-002", (6, 6, 3, 3)), single("c-003", (3, 6, 3, 3)),
            single("c-004", (2, 6, 5, 4)), item("c-005", "truefalse", answer=True)]
    assert always_longest(bank) == 37.5
    # the shortest: only c-004's key is the unique shortest; c-003's key ties with C and D (1/3)
    assert always_shortest(bank) == 100 * (1 + 1 / 3) / 4
    assert always_longest([]) == 0.0


def test_lengths_ignore_spaces_but_count_punctuation() -> None:
    """Is “A B” two characters and “甲，乙” three?"""
    bank = [item("c-001", "single", options={"A": "甲，乙", "B": "A B", "C": "丙", "D": "丁"}, answer="A")]
    assert always_longest(bank) == 100.0


def test_truefalse_band_is_strict_and_only_for_chapters_with_enough_items() -> None:
    """4 of 7 true (57 %) is outside 45–55 %, 3 of 6 is inside, and a chapter with 5 items is not judged?"""
    def tf(chapter: str, keys: list[bool]) -> list[m.Question]:
        return [item(f"{chapter}-{i:03d}", "truefalse", answer=k) for i, k in enumerate(keys, 1)]

    bank = tf("ch01", [True] * 4 + [False] * 3) + tf("ch02", [True] * 3 + [False] * 3) + tf("ch03", [True] * 5)
    assert truefalse_outside(bank, m.TrueFalseBalance()) == {"ch01": (4, 7)}


def test_cue_guessable_counts_items_once_and_only_for_cues() -> None:
    """Two cues on one item count it once; a finding that is no cue does not count it."""
    def finding(qid: str, rule: str, cue: bool) -> Finding:
        return Finding("f.yaml", 1, f"question '{qid}'", rule, "en", "zh", cue)

    findings = [finding("c-002", "longest-key", True), finding("c-002", "stem-echo", True),
                finding("c-001", "key-count", False), finding("c-003", "marked-options", True),
                Finding("course.yaml", 4, "question bank", "key-count", "en", "zh")]
    assert cue_guessable(findings) == ["c-002", "c-003"]


# ---------------------------------------------------------------- `course validate` on the fixture course
def content_with(tmp_path: Path, quality: str) -> Path:
    root = tmp_path / "content"
    shutil.copytree(MINI, root)
    settings = root / "course.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + quality, encoding="utf-8")
    return root


QUALITY = ("quality:\n  min_wrong_options: {}\n  lint:\n    allowed: {key-count: 1, rubric-levels: 2}\n"
           "    goals: {always-longest: 50}\n")
SUMMARY = [
    "== 题目编写缺陷（item-writing flaws; `course validate --lint` lists them）==",
    "规则编号                   规则                      发现  其中可猜中  允许",
    "longest-key                正确项最长                   0           0     0",
    "marked-options             干扰项带绝对词或违规词       0           0     0",
    "stem-echo                  正确项重复题干用词           0           0     0",
    "absolute-truefalse         判断题含绝对词               0           0     0",
    "key-count                  多选题正确项数量有规律       1           0     1",
    "explanation-absent-option  解析提到不存在的选项         0           0     0",
    "historical-unlabelled      过时内容未标注历史           0           0     0",
    "blank-unit                 填空题不接受重复的单位       0           0     0",
    "key-in-other-item          答案出现在同章其他题中       0           0     0",
    "rubric-levels              评分要点缺少部分得分说明     2           0     2",
    "== 题库指标（bank measures）==",
    "指标编号                    指标                          当前    目标    达标  说明",
    "always-longest              单选题总选最长项的得分率      50.0 %  ≤ 50 %  是    1 道单选题；总选最短项 0.0 %",
    "cue-guessable               凭措辞线索即可答对的题目占比  0.0 %   ≤ 5 %   是    "
    "0 / 7 题；多选题最常见 3 个正确项（1/1）",
    "truefalse-balance           判断题“对”的占比超出范围的章  0 章    ≤ 0 章  是    每章至少 6 道时 45–55 %",
    "absent-option-explanations  解析提到不存在选项的题        0 题    ≤ 0 题  是",
    "historical-unlabelled       过时内容未标注历史的题        0 题    ≤ 0 题  是",
    "OK: 7 questions in 1 chapters.",
]


def test_validate_prints_the_lint_summary_and_the_measures(tmp_path: Path) -> None:
    """Within its allowances, does validate print both tables after the content summary and exit 0?"""
    result = CliRunner().invoke(app, ["validate", "--content", str(content_with(tmp_path, QUALITY))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[lines.index(SUMMARY[0]):] == SUMMARY


def test_validate_lint_lists_every_finding_with_place_rule_and_fix(tmp_path: Path) -> None:
    """Does --lint list each finding as file:line, rule, English and Chinese, after the tables?"""
    result = CliRunner().invoke(app, ["validate", "-q", "--lint", "--content", str(content_with(tmp_path, QUALITY))])
    assert result.exit_code == 0, result.output
    q = "content/questions/ch01.yaml"
    assert result.output.splitlines() == [
        f"{q}:20: question 'ch01-002': [key-count] 3 keys but 1 wrong option(s): drop a key or add a distractor, so "
        "key counts (2, 3, 4) vary across the bank",
        "    正确项 3 个，错误项只有 1 个：减少正确项或增加干扰项，使各题正确项数（2、3、4个）分布均衡",
        f"{q}:69: question 'ch01-007': [rubric-levels] criterion 1 has no partial-credit level: give every criterion "
        "levels saying what earns full and part of its points; split crowded criteria",
        "    第1条评分要点没有说明怎样得部分分：为每条评分要点写出得满分、部分分的表现（levels），要素过多的拆成几条",
        f"{q}:70: question 'ch01-007': [rubric-levels] criterion 2 has no partial-credit level: give every criterion "
        "levels saying what earns full and part of its points; split crowded criteria",
        "    第2条评分要点没有说明怎样得部分分：为每条评分要点写出得满分、部分分的表现（levels），要素过多的拆成几条",
        "OK: 7 questions in 1 chapters.",
    ]


def test_validate_fails_when_a_rule_exceeds_its_allowance_or_a_goal_is_missed(tmp_path: Path) -> None:
    """A new flaw above the allowance and the default goal missed: one Error line each, at course.yaml's line?"""
    quality = "quality:\n  min_wrong_options: {}\n  lint:\n    allowed: {key-count: 1}\n"
    result = CliRunner().invoke(app, ["validate", "-q", "--content", str(content_with(tmp_path, quality))])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: content/course.yaml:6: goal 'always-longest': 50.0 % is above the goal of 30 %: revise the items "
        "(`course validate --lint` lists the flaws)",
        "Error: content/course.yaml:7: lint rule 'rubric-levels': 2 finding(s), 0 allowed: fix the new ones "
        "(`course validate --lint` lists them all)",
        "2 problem(s) found.",
    ]


def test_validate_names_an_allowance_or_goal_that_does_not_exist(tmp_path: Path) -> None:
    """Is a misspelt rule or goal id in course.yaml an error with its line and the ids to use?"""
    quality = QUALITY.replace("key-count: 1,", "key-count: 1, longest-keys: 3,").replace(
        "goals: {always-longest: 50}", "goals: {always-longest: 50, longest: 1}")
    result = CliRunner().invoke(app, ["validate", "-q", "--content", str(content_with(tmp_path, quality))])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: content/course.yaml:7: quality.lint.allowed: 'longest-keys' is not a lint rule: use one of "
        "longest-key, marked-options, stem-echo, absolute-truefalse, key-count, explanation-absent-option, "
        "historical-unlabelled, blank-unit, key-in-other-item, rubric-levels",
        "Error: content/course.yaml:8: quality.lint.goals: 'longest' is not a goal: use one of always-longest, "
        "cue-guessable, truefalse-balance, absent-option-explanations, historical-unlabelled",
        "2 problem(s) found.",
    ]


def test_validate_without_quality_rules_runs_no_linter() -> None:
    """A course.yaml without `quality:` (the fixture course) prints no lint table."""
    result = CliRunner().invoke(app, ["validate", "--content", str(MINI)])
    assert result.exit_code == 0
    assert "== 题目编写缺陷" not in result.output


def test_validate_on_the_shipped_content_passes_and_prints_the_lint_summary() -> None:
    """Does `course validate` on the shipped bank exit 0 and print the linter's table and the measures?"""
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index(SUMMARY[0])
    assert lines[start + 1] == SUMMARY[1]
    rules = len(RULES)  # 10
    assert [ln.split()[0] for ln in lines[start + 2:start + 2 + rules]] == [r.id for r in RULES]
    assert lines[start + 2 + rules] == "== 题库指标（bank measures）=="
    assert [ln.split()[0] for ln in lines[start + 4 + rules:start + 9 + rules]] == [g.id for g in GOALS]
    assert lines[-1] == f"OK: {len(load_course().questions)} questions in 22 chapters."
