"""Exam papers: per-learner variants drawn to a level's blueprint, as nbgrader assignments.

How variants live in nbgrader: **one assignment per learner variant**
(``<paper-id>-<learner>``), each a source notebook built by
:func:`course.build.quiz_notebook` from the drawn question ids, whose metadata
``course.questions`` lists them. nbgrader fixes one notebook and one maximum
per assignment; every variant of a paper has the same blueprint and so the
same maximum, so formgrader's totals, the gradebook and the analytics agree.

A manifest ``papers/<paper-id>.json`` records the level, the seed and each
learner's draw; a re-sit paper excludes every item of the learner's earlier
manifests. A draw is reproducible: the random stream is seeded by
SHA-256 of (paper seed, learner id).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from course import build
from course import model as m
from course.certification.blueprint import Blueprint, BlueprintError, blueprint, eligible, title
from course.certification.config import Certification
from course.certification.manifest import manifest_path, manifests, seen_items
from course.errors import WorkflowError
from course.loader import Course

PAPER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*$")
LEARNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]*$")


# ---------------------------------------------------------------- near-duplicates
def _bigrams(text: str) -> frozenset[str]:
    norm = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text))
    return frozenset(norm[i:i + 2] for i in range(len(norm) - 1)) or frozenset({norm})


def near_duplicates(questions: list[m.Question], threshold: float) -> dict[str, frozenset[str]]:
    """For each question id, the ids it must not share a paper with (same seed item, or similar stem)."""
    grams = {q.id: _bigrams(q.stem) for q in questions}
    clash: dict[str, set[str]] = {q.id: set() for q in questions}
    for i, a in enumerate(questions):
        for b in questions[i + 1:]:
            ga, gb = grams[a.id], grams[b.id]
            same_item = bool(set(a.provenance.items) & set(b.provenance.items))
            if same_item or len(ga & gb) / len(ga | gb) >= threshold:
                clash[a.id].add(b.id)
                clash[b.id].add(a.id)
    return {k: frozenset(v) for k, v in clash.items()}


# ---------------------------------------------------------------- drawing
@dataclass(frozen=True)
class Variant:
    learner: str
    assignment: str
    theory: tuple[str, ...]  # question ids, in paper order
    skills: tuple[str, ...]

    @property
    def questions(self) -> tuple[str, ...]:
        return self.theory + self.skills


def rng_for(seed: str, learner: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{learner}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def assignment_id(paper_id: str, learner: str) -> str:
    return f"{paper_id}-{learner}"


def draw(course: Course, cert: Certification, plan: Blueprint, paper_id: str, seed: str, learner: str,
         exclude: Iterable[str] = ()) -> Variant:
    """One learner's variant: for every blueprint cell, that many random items; no near-duplicates."""
    pool = eligible(course, cert, plan.level, exclude)
    clash = near_duplicates(pool, cert.near_duplicate_threshold)
    rng = rng_for(seed, learner)
    taken: list[str] = []
    blocked: set[str] = set()
    shortfalls: list[str] = []

    def pick(candidates: list[m.Question], n: int, what: str) -> list[str]:
        order = sorted(candidates, key=lambda q: q.id)
        rng.shuffle(order)
        chosen: list[str] = []
        for q in order:
            if len(chosen) == n:
                break
            if q.id not in blocked:
                chosen.append(q.id)
                blocked.add(q.id)
                blocked.update(clash[q.id])
        if len(chosen) < n:
            shortfalls.append(f"{what}: {n - len(chosen)} item(s) short once near-duplicates are left out")
        return chosen

    for area, row in plan.cells.items():
        for qtype, n in row.items():
            if n:
                cands = [q for q in pool if course.area_of(q) == area and q.type == qtype
                         and float(q.points) == plan.type_points[qtype]]
                taken += pick(cands, n, f"{title(course, area)} {m.TYPE_TITLES[qtype]}")
    cases: list[m.Question] = [q for q in pool if q.type == "case" and float(q.points) == plan.skills_points]
    skills = pick(cases, plan.skills_count, m.TYPE_TITLES["case"])
    if shortfalls:
        raise BlueprintError(plan.level, shortfalls)
    order = {t: i for i, t in enumerate(m.QUESTION_TYPES)}
    by_id = course.by_id
    theory = sorted(taken, key=lambda qid: (order[by_id[qid].type], qid))
    return Variant(learner, assignment_id(paper_id, learner), tuple(theory), tuple(sorted(skills)))


# ---------------------------------------------------------------- report
def blueprint_report(course: Course, plan: Blueprint, variant: Variant) -> list[dict[str, Any]]:
    """Per area (and 技能): target points against the variant's achieved points, and items per type."""
    by_id = course.by_id
    rows = []
    for area, target in plan.area_points.items():
        items = [by_id[q] for q in variant.theory if course.area_of(by_id[q]) == area]
        rows.append({"area": area, "title": title(course, area), "target": target,
                     "achieved": sum(float(q.points) for q in items),
                     "types": {t: sum(1 for q in items if q.type == t) for t in plan.cells[area]}})
    cases = [by_id[q] for q in variant.skills]
    rows.append({"area": "skills", "title": "技能（案例分析）", "target": plan.skills_max,
                 "achieved": sum(float(q.points) for q in cases), "types": {"case": len(cases)}})
    return rows


def render_report(course: Course, plan: Blueprint, variant: Variant) -> str:
    lines = [f"{variant.assignment}: {plan.level} 试卷蓝图（目标 / 实际分值）"]
    for row in blueprint_report(course, plan, variant):
        types = "，".join(f"{m.TYPE_TITLES[t]}{n}道" for t, n in row["types"].items() if n)
        mark = "✓" if row["target"] == row["achieved"] else "✗"
        lines.append(f"  {row['title']}: {row['target']:g} / {row['achieved']:g} {mark}  {types}")
    lines.append(f"  合计 {plan.theory_points + plan.skills_max:g} 分，{plan.length} 题")
    return "\n".join(lines)


# ---------------------------------------------------------------- manifests and notebooks
def paper_header(course: Course, level: str, paper_id: str, learner: str, plan: Blueprint) -> str:
    lv = {x.id: x for x in course.levels.levels}[level]
    return "\n".join([
        f"# {lv.full_title} 理论与技能考核试卷",
        "",
        f"**{course.settings.title}** · 试卷 {paper_id} · 考生 {learner} · 共 {plan.length} 题，"
        f"理论 {plan.theory_points:g} 分，技能（案例分析，讲师人工评分）{plan.skills_max:g} 分",
        "",
        "**作答说明**",
        "",
        "1. 请先点击菜单 **运行 → 运行全部单元格**（Run → Run All Cells），题目控件随即出现。",
        "2. 直接在控件中作答，**答案会自动保存**。",
        "3. 每位考生的试卷题目不同，但题型、分值和各知识领域的比重完全相同。",
        "4. 完成后点击 **检查作答情况**，然后在 **Assignments（作业）** 页面点击 **Submit（提交）**。",
    ])


def paper_notebook(course: Course, data: dict[str, Any], variant: Variant, plan: Blueprint) -> NotebookNode:
    questions = [course.by_id[q] for q in variant.questions]
    meta = {"paper": data["paper"], "level": data["level"], "learner": variant.learner,
            "questions": list(variant.questions)}
    header = paper_header(course, data["level"], data["paper"], variant.learner, plan)
    return build.quiz_notebook(course, variant.assignment, header, questions, meta)


def notebook_path(root: Path, assignment: str) -> Path:
    return build.notebook_path(root / "source", assignment)


def questions_of_assignment(course: Course, root: Path, assignment: str) -> list[m.Question]:
    """The questions of a paper variant, resolved from its source notebook's ``metadata.course.questions``.

    Grading glue: ``workflow.autograde`` looks questions up per chapter; a paper
    assignment is not a chapter, so the grader resolves them here.
    """
    path = notebook_path(root, assignment)
    if not path.is_file():
        raise WorkflowError(f"{path} does not exist: run `course paper create` for this paper first")
    nb = nbformat.read(path, as_version=4)
    ids = nb.metadata.get("course", {}).get("questions", [])
    unknown = [q for q in ids if q not in course.by_id]
    if unknown:
        raise WorkflowError(f"{path}: questions {', '.join(unknown)} are not in the content: load the content "
                            "version the paper was drawn from (--content)")
    return [course.by_id[q] for q in ids]


def stored_variant(data: dict[str, Any], learner: str) -> tuple[Blueprint, Variant]:
    """A learner's blueprint and variant as the manifest recorded them."""
    v = data["variants"][learner]
    plan = Blueprint(data["level"], dict(data["area_points"]), v["cells"], dict(data["type_points"]),
                     int(data["skills_count"]), float(data["skills_points"]))
    return plan, Variant(learner, v["assignment"], tuple(v["theory"]), tuple(v["skills"]))


@dataclass(frozen=True)
class Paper:
    data: dict[str, Any]
    plans: dict[str, Blueprint]
    variants: dict[str, Variant]


def create_paper(course: Course, cert: Certification, root: Path, paper_id: str, level: str, seed: str,
                 learners: list[str], resit: bool = False) -> Paper:
    """Draw every learner's variant and write the manifest and source notebooks (nothing written on refusal)."""
    if not PAPER_ID.match(paper_id):
        raise WorkflowError(f"paper id '{paper_id}' may hold only letters, digits, _ and single hyphens "
                            "(e.g. L3-2026a)")
    bad = [x for x in learners if not LEARNER_ID.match(x)]
    if bad:
        raise WorkflowError(f"learner id(s) {', '.join(bad)} cannot name an nbgrader assignment: use letters, "
                            "digits, _ and .")
    if not learners:
        raise WorkflowError("no learners: give learner ids or a roster with learners of this level")
    if manifest_path(root, paper_id).exists():
        raise WorkflowError(f"{manifest_path(root, paper_id)} exists: choose a new paper id (papers are never "
                            "redrawn, so learners' papers do not change under them)")
    clash = [ch for ch in course.chapters if any(assignment_id(paper_id, x) == ch for x in learners)]
    if clash:
        raise WorkflowError(f"assignment id {clash[0]} is a chapter: choose another paper id")
    # a learner's n-th paper is their n-th sitting; a paper's sitting is the highest among its learners
    earlier = manifests(root)
    sitting = 1 + max((d.get("sitting", 1) for d in earlier if set(d["variants"]) & set(learners)), default=0)
    plans: dict[str, Blueprint] = {}
    variants: dict[str, Variant] = {}
    for learner in learners:
        exclude = seen_items(root, learner) if resit else set()
        plan = blueprint(course, cert, level, exclude)
        plans[learner] = plan
        variants[learner] = draw(course, cert, plan, paper_id, seed, learner, exclude)
    data = {"paper": paper_id, "level": level, "seed": seed, "resit": resit, "sitting": sitting,
            "theory_max": next(iter(plans.values())).theory_points,
            "skills_max": next(iter(plans.values())).skills_max,
            "variants": {x: {"assignment": v.assignment, "theory": list(v.theory), "skills": list(v.skills),
                             "cells": plans[x].cells} for x, v in variants.items()},
            "area_points": next(iter(plans.values())).area_points,
            "type_points": next(iter(plans.values())).type_points,
            "skills_count": next(iter(plans.values())).skills_count,
            "skills_points": next(iter(plans.values())).skills_points}
    for learner, variant in variants.items():
        path = notebook_path(root, variant.assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = paper_notebook(course, data, variant, plans[learner])
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    target = manifest_path(root, paper_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return Paper(data, plans, variants)
