"""How guessable the bank is, measured against the goals of :data:`GOALS`; ``course validate`` prints it.

The measures (``FORMAT.md`` documents them too):

* **always-longest** — the expected score, in per cent, of a learner who always picks the longest
  single-choice option (characters without spaces; ties split evenly). Chance is 25 % with four options.
* **cue-guessable** — the share of *all* items a test-wise learner answers fully right from wording alone:
  items with a lint finding that gives the whole key away (:class:`course.bank.lint.Flag` ``cue``):
  a key longest by the margin, a key repeating the stem, marked options whose removal leaves exactly the
  keys, a false statement with an absolute word, matching pairs given away by shared names. Items of other
  types (fill-in, ordering, case) have no such cue and count as not guessable.
* **truefalse-balance** — chapters with at least ``truefalse_balance.min_items`` true/false items whose share
  of true keys lies outside ``low``–``high`` % (``course.yaml``), strictly: no rounding allowance.
* **absent-option-explanations** and **historical-unlabelled** — items flagged by those lint rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from course import model as m
from course.bank.lint import RULE_BY_ID, Finding, key_count_share, length, over_allowance
from course.errors import Problem

if TYPE_CHECKING:
    from course.loader import Course


@dataclass(frozen=True)
class Goal:
    """One row of the goals table: a measure of the bank and the most it may be."""

    id: str
    title: str      # Chinese, as printed
    unit: str       # "%", "章" or "题"
    goal: float     # the measure must not exceed it
    what: str       # English definition


GOALS: tuple[Goal, ...] = (
    Goal("always-longest", "单选题总选最长项的得分率", "%", 30,
         "expected score of always choosing the longest single-choice option (ties split)"),
    Goal("cue-guessable", "凭措辞线索即可答对的题目占比", "%", 5,
         "share of all items whose key a lint cue gives away"),
    Goal("truefalse-balance", "判断题“对”的占比超出范围的章", "章", 0,
         "chapters with enough true/false items whose share of true keys is outside the band"),
    Goal("absent-option-explanations", "解析提到不存在选项的题", "题", 0,
         "items whose explanation refutes a phrase in no option"),
    Goal("historical-unlabelled", "过时内容未标注历史的题", "题", 0,
         "items with a historical term and no 历史 label"),
)
GOAL_BY_ID: dict[str, Goal] = {g.id: g for g in GOALS}


@dataclass(frozen=True)
class Measure:
    goal: Goal
    value: float
    target: float   # the goal in force: the table's, or a less strict one from course.yaml while revising
    detail: str

    @property
    def met(self) -> bool:
        return self.value <= self.target + 1e-9


def _singles(questions: Iterable[m.Question]) -> list[m.SingleChoice]:
    return [q for q in questions if isinstance(q, m.SingleChoice)]


def _strategy(questions: Iterable[m.Question], pick: str) -> float:
    """Expected score (%) on single choice of always picking the longest (or shortest) option."""
    singles = _singles(questions)
    if not singles:
        return 0.0
    score = 0.0
    for q in singles:
        lens = {k: length(v) for k, v in q.options.items()}
        best = max(lens.values()) if pick == "longest" else min(lens.values())
        chosen = [k for k, v in lens.items() if v == best]
        score += (q.answer in chosen) / len(chosen)
    return 100 * score / len(singles)


def always_longest(questions: Iterable[m.Question]) -> float:
    return _strategy(questions, "longest")


def always_shortest(questions: Iterable[m.Question]) -> float:
    return _strategy(questions, "shortest")


def cue_guessable(findings: Iterable[Finding]) -> list[str]:
    """Ids of the items whose key a single cue gives away, sorted."""
    return sorted({f.question for f in findings if f.cue and f.question})


def truefalse_outside(questions: Iterable[m.Question], band: m.TrueFalseBalance) -> dict[str, tuple[int, int]]:
    """Chapters with at least ``band.min_items`` true/false items and a true share outside the band:
    chapter -> (true keys, items)."""
    keys: dict[str, list[bool]] = defaultdict(list)
    for q in questions:
        if isinstance(q, m.TrueFalse):
            keys[q.chapter].append(q.answer)
    out = {}
    for chapter, answers in keys.items():
        n, true = len(answers), sum(answers)
        if n >= band.min_items and not band.low <= 100 * true / n <= band.high:
            out[chapter] = (true, n)
    return out


def measure(course: Course, findings: list[Finding]) -> list[Measure]:
    """Every goal of :data:`GOALS`, measured on the course."""
    quality = course.settings.quality
    band = quality.truefalse_balance if quality is not None else m.TrueFalseBalance()
    goals = quality.lint.goals if quality is not None else {}
    questions = list(course.questions)
    guessable = cue_guessable(findings)
    outside = truefalse_outside(questions, band)
    by_rule: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        if f.question:
            by_rule[f.rule].add(f.question)
    keys, most, total = key_count_share(questions)
    values = {
        "always-longest": (always_longest(questions),
                           f"{len(_singles(questions))} 道单选题；总选最短项 {always_shortest(questions):.1f} %"),
        "cue-guessable": (100 * len(guessable) / len(questions) if questions else 0.0,
                          f"{len(guessable)} / {len(questions)} 题"
                          + (f"；多选题最常见 {keys} 个正确项（{most}/{total}）" if total else "")),
        "truefalse-balance": (len(outside), "；".join(f"{c} {t}/{n}" for c, (t, n) in sorted(outside.items()))
                              or f"每章至少 {band.min_items} 道时 {band.low:g}–{band.high:g} %"),
        "absent-option-explanations": (len(by_rule["explanation-absent-option"]),
                                       "、".join(sorted(by_rule["explanation-absent-option"]))),
        "historical-unlabelled": (len(by_rule["historical-unlabelled"]),
                                  "、".join(sorted(by_rule["historical-unlabelled"]))),
    }
    return [Measure(g, values[g.id][0], goals.get(g.id, g.goal), values[g.id][1]) for g in GOALS]


def _value(mm: Measure) -> str:
    return f"{mm.value:.1f} %" if mm.goal.unit == "%" else f"{mm.value:g} {mm.goal.unit}"


def table(measures: list[Measure]) -> pd.DataFrame:
    """The measures as a table with Chinese headers, for ``course validate``."""
    rows = [{"指标": mm.goal.title, "当前": _value(mm), "目标": f"≤ {mm.target:g} {mm.goal.unit}",
             "达标": "是" if mm.met else "否", "说明": mm.detail} for mm in measures]
    return pd.DataFrame(rows, index=[mm.goal.id for mm in measures])


def problems(course: Course, findings: list[Finding], measures: list[Measure]) -> list[Problem]:
    """Why ``course validate`` fails on the bank's quality: unknown ids in ``course.yaml``, rules over their
    allowance, goals missed; each at the line of ``course.yaml`` that sets it."""
    quality = course.settings.quality
    if quality is None:
        return []
    located = course.files["course.yaml"]
    at = ("quality", "lint")
    out: list[Problem] = []
    for rule in quality.lint.allowed:
        if rule not in RULE_BY_ID:
            out.append(Problem(located.file, located.line((*at, "allowed", rule)), "quality.lint.allowed",
                               f"'{rule}' is not a lint rule: use one of {', '.join(RULE_BY_ID)}"))
    for goal in quality.lint.goals:
        if goal not in GOAL_BY_ID:
            out.append(Problem(located.file, located.line((*at, "goals", goal)), "quality.lint.goals",
                               f"'{goal}' is not a goal: use one of {', '.join(GOAL_BY_ID)}"))
    for rule, (n, allowed) in over_allowance(course, findings).items():
        out.append(Problem(located.file, located.line((*at, "allowed", rule)), f"lint rule '{rule}'",
                           f"{n} finding(s), {allowed} allowed: fix the new ones (`course validate --lint` lists "
                           "them all)"))
    for mm in measures:
        if not mm.met:
            out.append(Problem(located.file, located.line((*at, "goals", mm.goal.id)), f"goal '{mm.goal.id}'",
                               f"{_value(mm)} is above the goal of {mm.target:g} {mm.goal.unit}: "
                               "revise the items (`course validate --lint` lists the flaws)"))
    return out
