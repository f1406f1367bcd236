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
import itertools
import json
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import scipy
from nbformat import NotebookNode

from course import build
from course import model as m
from course.certification import assembly
from course.certification.blueprint import (
    Blueprint,
    BlueprintError,
    blueprint,
    shortfalls,
    skills_pool,
    theory_pool,
    title,
)
from course.certification.config import Certification
from course.certification.difficulty import MEASURES, Estimates, curves, latest_estimates
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
    """For each question id, the ids it must not share a paper with (same seed item, same fact group, or
    similar stem)."""
    grams = {q.id: _bigrams(q.stem) for q in questions}
    clash: dict[str, set[str]] = {q.id: set() for q in questions}
    for i, a in enumerate(questions):
        for b in questions[i + 1:]:
            ga, gb = grams[a.id], grams[b.id]
            same_item = bool(set(a.provenance.items) & set(b.provenance.items))
            same_fact = a.fact_group is not None and a.fact_group == b.fact_group
            if same_item or same_fact or len(ga & gb) / len(ga | gb) >= threshold:
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
    expected: tuple[float, ...] = ()  # expected theory score at each balancing ability
    target: tuple[float, ...] = ()  # the paper's target at the same abilities
    miss: str = ""  # why the variant is outside the balancing tolerance ("" when within)
    complete: tuple[float, ...] = ()  # expected complete-answer points at each balancing ability
    complete_target: tuple[float, ...] = ()

    @property
    def questions(self) -> tuple[str, ...]:
        return self.theory + self.skills


def rng_for(seed: str, learner: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{learner}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def assignment_id(paper_id: str, learner: str) -> str:
    return f"{paper_id}-{learner}"


def with_near_duplicates(ids: Iterable[str], clash: dict[str, frozenset[str]]) -> set[str]:
    """``ids`` and every near-duplicate of them (what a re-sit must not show again)."""
    out = set(ids)
    for qid in list(out):
        out |= clash.get(qid, frozenset())
    return out


def balance_curves(estimates: Estimates | None, questions: list[m.Question], cert: Certification) -> np.ndarray:
    """Items × columns: per measure (:data:`MEASURES`), the item's share at each balancing ability."""
    return np.hstack([curves(estimates, questions, cert, cert.balance.abilities, measure) for measure in MEASURES])


def balanced_columns(cert: Certification) -> np.ndarray:
    """The columns of :func:`balance_curves` that the tolerance holds (``balance.measures``)."""
    k = len(cert.balance.abilities)
    return np.concatenate([np.arange(k) + MEASURES.index(x) * k for x in sorted(set(cert.balance.measures),
                                                                                 key=MEASURES.index)])


def cell_means(course: Course, plan: Blueprint, questions: list[m.Question], f: np.ndarray) -> np.ndarray:
    """Areas × types × columns: the points-weighted mean of ``f`` over the items of each 比重表 cell.

    A cell without items takes its type's mean across areas (else its area's mean): what a
    variant drawn in proportion from these items would average there.
    """
    pts = np.array([float(q.points) for q in questions])
    area = np.array([course.area_of(q) for q in questions])
    qtype = np.array([q.type for q in questions])
    out = np.zeros((len(plan.area_points), len(plan.type_points), f.shape[1]))
    for i, a in enumerate(plan.area_points):
        for j, t in enumerate(plan.type_points):
            for mask in ((area == a) & (qtype == t), qtype == t, area == a):
                if pts[mask].sum() > 0:
                    out[i, j] = (pts[mask, None] * f[mask]).sum(axis=0) / pts[mask].sum()
                    break
    return out


def targets(course: Course, cert: Certification, plan: Blueprint, estimates: Estimates | None) -> np.ndarray:
    """Areas × types × columns (:func:`balance_curves`): each cell's mean share over the level's whole bank.

    The paper's target is what a variant drawn in proportion from the level's whole eligible bank
    would score: Σ over cells of area points × type share × the cell's mean. Seen items do not
    move it: a re-sit aims at the same difficulty as a first sitting.
    """
    pool = theory_pool(course, cert, plan.level)
    return cell_means(course, plan, pool, balance_curves(estimates, pool, cert))


def draw(course: Course, cert: Certification, plan: Blueprint, paper_id: str, seed: str, learner: str,
         exclude: Iterable[str] = (), estimates: Estimates | None = None,
         clash: dict[str, frozenset[str]] | None = None) -> Variant:
    """One learner's variant: the blueprint's points exactly, balanced in difficulty, no near-duplicates.

    ``exclude``: items the learner must not see (a re-sit passes every item of their earlier
    papers and the near-duplicates of those); ``estimates``: item difficulty (priors when None).
    """
    skip = set(exclude)
    pool = sorted(theory_pool(course, cert, plan.level, skip), key=lambda q: q.id)
    cases = sorted(skills_pool(course, cert, plan.level, skip), key=lambda q: q.id)
    short = shortfalls(course, plan, pool, cases)
    if short:
        raise BlueprintError(plan.level, short)
    if clash is None:
        clash = near_duplicates(pool + cases, cert.near_duplicate_threshold)
    areas, types = list(plan.area_points), list(plan.type_points)
    index = {q.id: i for i, q in enumerate(pool)}
    pairs = sorted({(min(i, index[o]), max(i, index[o])) for q, i in index.items()
                    for o in clash.get(q, ()) if o in index})
    means = targets(course, cert, plan, estimates)
    share = np.outer(list(plan.area_points.values()), list(plan.type_points.values())) / plan.theory_points
    area_of = np.array([areas.index(course.area_of(q)) for q in pool])
    type_of = np.array([types.index(q.type) for q in pool])
    problem = assembly.Problem(
        points=np.array([float(q.points) for q in pool]), area=area_of, qtype=type_of,
        expected=balance_curves(estimates, pool, cert),
        area_points=np.array(list(plan.area_points.values())), type_points=np.array(list(plan.type_points.values())),
        clashes=pairs, target=(share[:, :, None] * means).sum(axis=(0, 1)),
        cell=area_of * len(types) + type_of, cell_mean=means.reshape(len(areas) * len(types), -1))
    rng = rng_for(seed, learner)
    weights = np.array([rng.random() for _ in pool])
    held = balanced_columns(cert)
    chosen, miss = assembly.solve(replace(problem, expected=problem.expected[:, held], target=problem.target[held],
                                          cell_mean=problem.cell_mean[:, held]), weights, cert.balance.tolerance)
    if chosen is None:
        raise BlueprintError(plan.level, [
            "no set of eligible items gives every area its 比重表 points and every type its points at once (the "
            "items' points do not add up, or near-duplicates exclude each other): add items, above all of 1 or 2 "
            "points"])
    taken = [q for q, c in zip(pool, chosen, strict=True) if c]
    blocked = with_near_duplicates((q.id for q in taken), clash)
    order = [q for q in cases if q.id not in blocked]
    rng.shuffle(order)
    skills, skills_note = draw_skills(course, cert, plan, order, clash, estimates)
    if len(skills) < plan.skills_count:
        raise BlueprintError(plan.level, [f"{m.TYPE_TITLES['case']}: {plan.skills_count - len(skills)} item(s) "
                                          "short once near-duplicates are left out"])
    got = (problem.points[chosen, None] * problem.expected[chosen]).sum(0)
    k = len(cert.balance.abilities)
    note = "" if miss is None else miss_note(course, cert, learner, replace(miss, column=int(held[miss.column])),
                                             areas, types)
    if skills_note:
        note = "; ".join(x for x in (note, f"{learner}: {skills_note}") if x)
    type_order = {t: i for i, t in enumerate(m.QUESTION_TYPES)}
    theory = sorted((q.id for q in taken), key=lambda qid: (type_order[course.by_id[qid].type], qid))
    return Variant(learner, assignment_id(paper_id, learner), tuple(theory), tuple(sorted(skills)), _r(got[:k]),
                   _r(problem.target[:k]), note, _r(got[k:]), _r(problem.target[k:]))


SKILLS_COMBINATIONS = 20_000  # case sets looked at before taking the closest (C(22, 2) = 231)


def draw_skills(course: Course, cert: Certification, plan: Blueprint, order: list[m.Question],
                clash: dict[str, frozenset[str]], estimates: Estimates | None) -> tuple[list[str], str]:
    """The case questions of the skills part, and why they miss the tolerance ("" when within).

    ``order``: the eligible cases not clashing with the theory items, in the learner's random
    order. The first set in that order (no two near-duplicates) whose expected skills score lies
    within ``balance.skills_tolerance`` of the target at every balancing ability; else the closest. The
    target is what a set drawn from the level's whole skills pool scores on average.
    """
    abilities = cert.balance.abilities
    whole = skills_pool(course, cert, plan.level)
    target = plan.skills_count * plan.skills_points * curves(estimates, whole, cert, abilities).mean(axis=0) \
        if whole else np.zeros(len(abilities))
    f = plan.skills_points * curves(estimates, order, cert, abilities)
    best: tuple[float, tuple[int, ...]] | None = None
    for n, combo in enumerate(itertools.combinations(range(len(order)), plan.skills_count)):
        if n >= SKILLS_COMBINATIONS:
            break
        ids = [order[i].id for i in combo]
        if any(o in clash.get(q, ()) for q in ids for o in ids):
            continue
        off = float(np.abs(f[list(combo)].sum(axis=0) - target).max()) if combo else 0.0
        if best is None or off < best[0]:
            best = (off, combo)
        if off <= cert.balance.skills_tolerance:
            break
    if best is None:
        return [], ""
    off, combo = best
    note = "" if off <= cert.balance.skills_tolerance else (
        f"the skills part's expected score is {off:.2f} points from its target (tolerance "
        f"{cert.balance.skills_tolerance:g}); the level's case questions differ too much in difficulty")
    return [order[i].id for i in combo], note


def _r(values: np.ndarray) -> tuple[float, ...]:
    return tuple(round(float(x), 2) for x in values)


MEASURE_TITLES = {"expected": "expected score", "complete": "expected complete-answer points"}


def miss_note(course: Course, cert: Certification, learner: str, miss: assembly.Miss, areas: list[str],
              types: list[str]) -> str:
    """Why a variant is outside the tolerance: how far, at which ability, and the cell furthest off."""
    k = len(cert.balance.abilities)
    measure, theta = MEASURES[miss.column // k], cert.balance.abilities[miss.column % k]
    area, qtype = areas[miss.cell // len(types)], types[miss.cell % len(types)]
    return (f"{learner}: {MEASURE_TITLES[measure]} at θ = {theta:g} is {miss.distance:.2f} points from the target "
            f"(tolerance {cert.balance.tolerance:g}); the cell furthest off is {title(course, area)} × "
            f"{m.TYPE_TITLES[qtype]} ({miss.cell_distance:+.2f} points against the bank's average for its items)")


# ---------------------------------------------------------------- report
def cells_of(course: Course, variant: Variant) -> dict[str, dict[str, float]]:
    """Area -> type -> points of the variant's theory items."""
    out: dict[str, dict[str, float]] = {}
    for qid in variant.theory:
        q = course.by_id[qid]
        row = out.setdefault(course.area_of(q), {})
        row[q.type] = row.get(q.type, 0.0) + float(q.points)
    return out


def blueprint_report(course: Course, plan: Blueprint, variant: Variant) -> list[dict[str, Any]]:
    """Per area (and 技能): target points against the variant's achieved points, and items per type."""
    by_id = course.by_id
    rows = []
    for area, target in plan.area_points.items():
        items = [by_id[q] for q in variant.theory if course.area_of(by_id[q]) == area]
        types = {t: sum(1 for q in items if q.type == t) for t in m.QUESTION_TYPES}
        rows.append({"area": area, "title": title(course, area), "target": target,
                     "achieved": sum(float(q.points) for q in items), "types": {t: n for t, n in types.items() if n}})
    cases = [by_id[q] for q in variant.skills]
    rows.append({"area": "skills", "title": "技能（案例分析）", "target": plan.skills_max,
                 "achieved": sum(float(q.points) for q in cases), "types": {"case": len(cases)}})
    return rows


def type_report(course: Course, plan: Blueprint, variant: Variant) -> dict[str, float]:
    """Points per question type of the variant's theory items."""
    got = dict.fromkeys(plan.type_points, 0.0)
    for qid in variant.theory:
        q = course.by_id[qid]
        got[q.type] = got.get(q.type, 0.0) + float(q.points)
    return got


def render_report(course: Course, plan: Blueprint, variant: Variant) -> str:
    lines = [f"{variant.assignment}: {plan.level} 试卷蓝图（目标 / 实际分值）"]
    for row in blueprint_report(course, plan, variant):
        types = "，".join(f"{m.TYPE_TITLES[t]}{n}道" for t, n in row["types"].items() if n)
        mark = "✓" if row["target"] == row["achieved"] else "✗"
        lines.append(f"  {row['title']}: {row['target']:g} / {row['achieved']:g} {mark}  {types}")
    got = type_report(course, plan, variant)
    lines.append("  题型分值：" + "，".join(
        f"{m.TYPE_TITLES[t]} {p:g} / {got[t]:g}{' ✓' if p == got[t] else ' ✗'}" for t, p in plan.type_points.items()))
    length = len(variant.questions)
    lines.append(f"  合计 {plan.theory_points + plan.skills_max:g} 分，{length} 题")
    return "\n".join(lines)


# ---------------------------------------------------------------- manifests and notebooks
def paper_header(course: Course, level: str, paper_id: str, learner: str, plan: Blueprint, length: int) -> str:
    lv = {x.id: x for x in course.levels.levels}[level]
    return "\n".join([
        f"# {lv.full_title} 理论与技能考核试卷",
        "",
        f"**{course.settings.title}** · 试卷 {paper_id} · 考生 {learner} · 共 {length} 题，"
        f"理论 {plan.theory_points:g} 分，技能（案例分析，讲师人工评分）{plan.skills_max:g} 分",
        "",
        "**作答说明**",
        "",
        "1. 请先点击菜单 **运行 → 运行所有单元格**，题目控件随即出现。",
        "2. 直接在控件中作答，**答案会自动保存**，并随即送达考试服务。",
        "3. 每位考生的试卷题目不同，但各知识领域和各题型的分值完全相同，难度经过平衡。",
        "4. **考试计时**：从你在 **课程作业** 页面点击 **开始考试** 时开始，题目上方显示 **剩余时间**；"
        "以考试服务收到答案的时间为准。时间到后控件停止作答，之后的作答不再计分。"
        "网络中断或内核重启后，重新 **运行所有单元格** 即可继续，剩余时间照常计算。",
        "5. 完成后点击 **检查作答情况**，然后回到 **课程作业** 页面（菜单 **作业 → 课程作业**）点击 **交卷**；"
        "也可以等待时间结束。交卷后不能再作答。",
        "6. 讲师安排的不计时练习卷没有 **交卷**：完成后在 **课程作业** 页面点击 **提交**。",
    ])


def paper_notebook(course: Course, data: dict[str, Any], variant: Variant, plan: Blueprint) -> NotebookNode:
    questions = [course.by_id[q] for q in variant.questions]
    level = {x.id: x for x in course.levels.levels}[data["level"]]
    title = f"{level.full_title} 考核试卷"  # the learners' course page lists it by this
    meta = {"paper": data["paper"], "level": data["level"], "learner": variant.learner, "title": title,
            "questions": list(variant.questions)}
    header = paper_header(course, data["level"], data["paper"], variant.learner, plan, len(questions))
    return build.quiz_notebook(course, variant.assignment, header, questions, meta, exam=True)


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
    if "type_totals" in data:
        totals = {t: float(p) for t, p in data["type_totals"].items()}
    else:  # manifests before points-based blueprints: item counts × one item's points
        totals = {}
        for row in v["cells"].values():
            for t, n in row.items():
                totals[t] = totals.get(t, 0.0) + n * float(data["type_points"][t])
    plan = Blueprint(data["level"], dict(data["area_points"]), totals, int(data["skills_count"]),
                     float(data["skills_points"]))
    return plan, Variant(learner, v["assignment"], tuple(v["theory"]), tuple(v["skills"]),
                         tuple(v.get("expected", ())), tuple(v.get("target", ())), v.get("miss") or "",
                         tuple(v.get("complete", ())), tuple(v.get("complete_target", ())))


@dataclass(frozen=True)
class Paper:
    data: dict[str, Any]
    plans: dict[str, Blueprint]
    variants: dict[str, Variant]


def _check_ids(course: Course, root: Path, paper_id: str, learners: list[str]) -> None:
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


def _variant_record(course: Course, v: Variant) -> dict[str, Any]:
    cells: dict[str, dict[str, int]] = {}
    for qid in v.theory:
        q = course.by_id[qid]
        row = cells.setdefault(course.area_of(q), {})
        row[q.type] = row.get(q.type, 0) + 1
    return {"assignment": v.assignment, "theory": list(v.theory), "skills": list(v.skills), "cells": cells,
            "points": cells_of(course, v), "expected": list(v.expected), "target": list(v.target),
            "complete": list(v.complete), "complete_target": list(v.complete_target), "miss": v.miss or None}


def create_paper(course: Course, cert: Certification, root: Path, paper_id: str, level: str, seed: str,
                 learners: list[str], resit: bool = False, estimates: Estimates | None = None) -> Paper:
    """Draw every learner's variant and write the manifest and source notebooks (nothing written on refusal).

    ``estimates``: item difficulty for the balance; default the newest stored
    (``papers/estimates/``), else the priors. A re-sit leaves out every item of the learner's
    earlier papers and every near-duplicate of them.
    """
    _check_ids(course, root, paper_id, learners)
    if estimates is None:
        estimates = latest_estimates(root)
    # A learner's n-th paper at this level is their n-th sitting of it (a paper of another level does not
    # count); the paper's number is the highest among its learners (it orders the papers).
    earlier = [d for d in manifests(root) if d["level"] == level]
    sittings = {x: 1 + sum(x in d["variants"] for d in earlier) for x in learners}
    sitting = max(sittings.values())
    plan = blueprint(course, cert, level)
    clash = near_duplicates(list(course.questions), cert.near_duplicate_threshold)
    variants: dict[str, Variant] = {}
    for learner in learners:
        exclude = with_near_duplicates(seen_items(root, learner), clash) if resit else set()
        variants[learner] = draw(course, cert, plan, paper_id, seed, learner, exclude, estimates, clash)
    abilities = list(cert.balance.abilities)
    data = {"paper": paper_id, "level": level, "seed": seed, "resit": resit, "sitting": sitting,
            "theory_max": plan.theory_points, "skills_max": plan.skills_max,
            "variants": {x: {**_variant_record(course, v), "sitting": sittings[x]} for x, v in variants.items()},
            "area_points": plan.area_points, "type_totals": plan.type_points,
            "skills_count": plan.skills_count, "skills_points": plan.skills_points,
            "balance": {"abilities": abilities, "tolerance": cert.balance.tolerance,
                        "measures": list(cert.balance.measures),
                        "estimates": estimates.name if estimates is not None else "",
                        "estimates_as_of": estimates.as_of if estimates is not None else "",
                        # a redraw gives the same variants with the same estimates file and solver
                        "solver": f"scipy {scipy.__version__} milp (HiGHS)"}}
    plans = dict.fromkeys(variants, plan)
    for variant in variants.values():
        path = notebook_path(root, variant.assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = paper_notebook(course, data, variant, plan)
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    target = manifest_path(root, paper_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return Paper(data, plans, variants)
