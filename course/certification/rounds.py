"""Certification rounds (认证批次): decide, record, issue and revoke; keep every run's outputs.

``course certify results --round R`` runs a round. A round counts its own papers (or sittings):
the first run takes every paper no other round counts, ``--paper`` adds one (a re-sit paper of
the same round, say). Each run:

1. decides every roster learner at their target level from the current inputs and gradebook
   (:func:`course.certification.outputs.round_frames`), on the round's papers only;
2. compares each decision with the learner's latest one in the round: an unchanged decision is not
   written again; a changed one is a new ``kam_decision`` row pointing to the one it supersedes,
   with the grade changes it saw (per question, before and after) in the audit trail;
3. moves the register: a new pass issues a certificate (one per learner, level and round: a re-run
   never issues a second code; a learner holding one of the same level from an earlier round gets a
   复审 certificate that names the old one), a withdrawn pass revokes the certificate with the
   reason, a pass restored by a later decision lifts a revocation a decision made;
4. writes the run's outputs to ``certification/rounds/<R>/<run>/`` (the results list as a
   formatted workbook, a 成绩通知单 per learner decided in the run) and draws the new
   certificates; a run that changes nothing writes nothing.

Decisions, certificates, status changes and audit entries of a run are one transaction.

``course certify appeal LEARNER --round R --reason ...`` is a run for one learner after an
instructor re-marked in formgrader: the appeal is recorded with the decision it contests and its
outcome, and a decision is written even when the outcome stands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from course.certification import audit, decisions, eligibility, manifest, ratings, register, store
from course.certification.config import Certification, load_certification
from course.certification.outputs import Round, read_inputs, round_frames
from course.errors import WorkflowError
from course.loader import Course
from course.status import roster_file

ROUND_ID = re.compile(r"[A-Za-z0-9_]+(-[A-Za-z0-9_]+)*")


def rounds_dir(root: Path) -> Path:
    return root / "certification" / "rounds"


@dataclass(frozen=True)
class Appeal:
    learner: str
    reason: str


@dataclass(frozen=True)
class RunResult:
    round_id: str
    run: int | None  # None: nothing changed, nothing written
    decided: list[str]
    issued: list[dict[str, Any]]
    revoked: list[str]
    restored: list[str]
    not_restored: list[str]  # passes again, but its certificate was revoked by hand: left revoked
    folder: Path | None
    excel: Path | None
    notices: list[Path]
    pdfs: list[Path]
    results: pd.DataFrame
    appeal_outcome: str | None = None
    papers: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading the records
def _json(value: Any) -> str:
    def clean(x: Any) -> Any:
        if isinstance(x, float) and math.isnan(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(value), ensure_ascii=False, sort_keys=True,
                      default=lambda x: x.item() if hasattr(x, "item") else str(x))  # numpy scalars


def round_papers(conn: sa.Connection) -> dict[str, str]:
    """Every claimed paper → the round that counts it."""
    return {r.paper: r.round_id for r in conn.execute(sa.select(store.round_papers))}


def latest_decisions(conn: sa.Connection, round_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(learner, level) → the latest decision of the round."""
    d = store.decisions
    query = sa.select(d).where(d.c.round_id == round_id).order_by(d.c.id)
    return {(r["learner"], r["level"]): dict(r) for r in conn.execute(query).mappings()}


def round_results(conn: sa.Connection, round_id: str, up_to_run: int | None = None) -> pd.DataFrame:
    """The round's results list: each learner's latest decision (one row per learner, in the order first decided)."""
    latest: dict[str, dict[str, Any]] = {}
    first: dict[str, int] = {}
    d = store.decisions
    query = sa.select(d).where(d.c.round_id == round_id).order_by(d.c.id)
    if up_to_run is not None:
        query = query.where(d.c.run <= up_to_run)
    for r in conn.execute(query).mappings():
        first.setdefault(r["learner"], r["id"])
        latest[r["learner"]] = json.loads(r["row"])
    rows = [latest[x] for x in sorted(latest, key=first.__getitem__)]
    frame = pd.DataFrame(rows, columns=decisions.RESULT_COLUMNS)
    # decisions recorded before the column existed say nothing of it
    frame["计分考试"] = frame["计分考试"].fillna(decisions.NO_PAPER)
    return frame.astype({"理论": float, "技能": float, "培训学时": float})


def _certificate_of(conn: sa.Connection, learner: str, level: str, round_id: str) -> dict[str, Any] | None:
    c = store.certificates
    row = conn.execute(sa.select(c).where(c.c.learner == learner, c.c.level == level, c.c.round_id == round_id)
                       ).mappings().first()
    return None if row is None else dict(row)


def _renews(conn: sa.Connection, learner: str, level: str, round_id: str) -> str | None:
    """The learner's latest certificate of ``level`` from another round (复审 renews it), or None."""
    c = store.certificates
    row = conn.execute(sa.select(c.c.number).where(c.c.learner == learner, c.c.level == level,
                                                   c.c.round_id != round_id)
                       .order_by(c.c.issue_date.desc(), c.c.number.desc())).first()
    return None if row is None else str(row[0])


# ---------------------------------------------------------------- what a decision rests on
def input_hashes(root: Path) -> dict[str, str | None]:
    """SHA-256 of each stored input file as it is now (None: none yet): the imports a decision rested on."""
    stores = {"training": eligibility.training_store(root), "applicants": eligibility.applicant_store(root),
              "ratings": ratings.ratings_store(root)}
    return {kind: hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
            for kind, path in stores.items()}


def evidence(rnd: Round, sittings: pd.DataFrame, grades: pd.DataFrame, applicants: pd.DataFrame | None,
             learner: str, training: pd.DataFrame | None = None) -> dict[str, Any]:
    """What the decision on ``learner`` rests on: the sitting and its scores per question, the learner's training
    records, applicant record and ratings (the stored files' hashes are added by the run)."""
    target = rnd.roster.loc[learner, "target_level"]
    counted = decisions.counting_sitting(sittings[sittings["learner"] == learner], pd.Series({learner: target}))
    sitting: dict[str, Any] = {}
    if learner in counted.index:
        s = counted.loc[learner]
        got = grades[(grades["learner"] == learner) & (grades["chapter"] == s["assignment"])]
        scores = {str(q): (None if pd.isna(v) else float(v))
                  for q, v in zip(got["question"], got["score"], strict=True)}
        sitting = {"paper": s["paper"], "assignment": s["assignment"], "submitted": bool(s["submitted"]),
                   "exam_date": s["exam_date"], "scores": dict(sorted(scores.items()))}
    rated = rnd.ratings[rnd.ratings["learner_id"] == learner]
    info = applicants.loc[learner].to_dict() if applicants is not None and learner in applicants.index else None
    trained = [] if training is None else [
        [str(r.course), float(r.hours), str(r.date)]
        for r in training[training["learner_id"] == learner].itertuples(index=False)]
    return {"sitting": sitting, "applicant": info, "training": trained,
            "ratings": {str(r.competency): str(r.level) for r in rated.itertuples(index=False)}}


def _same(old_evidence: str, ev: dict[str, Any]) -> bool:
    """Whether a decision rested on the same evidence (the files' hashes aside: any import changes them)."""
    old = json.loads(old_evidence)
    old.pop("inputs", None)
    return _json(old) == _json({k: v for k, v in ev.items() if k != "inputs"})


# ---------------------------------------------------------------- one run
def _insert(conn: sa.Connection, statement: sa.Insert) -> int:
    key = conn.execute(statement).inserted_primary_key
    assert key is not None  # every table here has an integer key the database assigns
    return int(key[0])



def _check_round_id(round_id: str) -> None:
    if not ROUND_ID.fullmatch(round_id) or len(round_id) > 64:
        raise WorkflowError(f"round id '{round_id}' may hold only letters, digits, _ and single hyphens, at most 64 "
                            "characters (e.g. 2026A)")


def _claim(conn: sa.Connection, root: Path, round_id: str, title: str | None, wanted: list[str]) -> list[str]:
    """Open the round if new and claim its papers; the papers it counts."""
    exists = conn.execute(sa.select(store.rounds).where(store.rounds.c.id == round_id)).first()
    if exists is None:
        conn.execute(store.rounds.insert().values(id=round_id, title=title or round_id, opened_at=store.now(),
                                                  opened_by=store.who()))
        audit.record(conn, "round", f"新建认证批次 {round_id}", round_id=round_id, after={"名称": title or round_id})
    claims = round_papers(conn)
    available = [d["paper"] for d in manifest.manifests(root)]
    mine = [p for p, r in claims.items() if r == round_id]
    new: list[str] = []
    for paper in wanted:
        if paper not in available:
            raise WorkflowError(f"paper {paper} does not exist ({manifest.manifest_path(root, paper)}): create it "
                                "with `course paper create`, or check the id")
        if claims.get(paper, round_id) != round_id:
            raise WorkflowError(f"paper {paper} already counts for round {claims[paper]}: a paper counts for one "
                                "round only; leave it out of --paper")
        if paper not in mine:
            new.append(paper)
    if not mine and not wanted:
        new = [p for p in available if p not in claims]
    if not mine and not new:
        raise WorkflowError(f"round {round_id} has no papers: every paper counts for another round already; create "
                            "this round's papers with `course paper create`, then run again")
    for paper in new:
        conn.execute(store.round_papers.insert().values(round_id=round_id, paper=paper, added_at=store.now(),
                                                        added_by=store.who()))
        audit.record(conn, "round", f"批次 {round_id} 计入试卷 {paper}", round_id=round_id, after={"试卷": paper})
    return sorted(mine + new)


def _frames(root: Path, course: Course, cert: Certification, roster_csv: Path | None, papers: list[str]
            ) -> tuple[Round, pd.DataFrame, pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """The round's frames, its papers' sittings, the grades, the applicants (or None) and the training records."""
    from course.analytics.frames import read_grades
    from course.analytics.roster import read_roster
    from course.nbconfig import course_config, db_url

    roster = read_roster(roster_file(root, roster_csv), course)
    training, rated, applicants = read_inputs(root, course, cert)
    grades = read_grades(db_url(root), course_config(root).CourseDirectory.course_id)
    manifests = [d for d in manifest.manifests(root) if d["paper"] in papers]
    submitted = set(grades["chapter"].unique())
    chapters = [c for c in course.chapters if c in submitted]
    rnd = round_frames(course, cert, roster, training, applicants, rated, grades, manifests, chapters)
    return rnd, decisions.sitting_scores(manifests, grades), grades, applicants, training


def run_round(root: Path, course: Course, round_id: str, *, roster_csv: Path | None = None,
              papers: list[str] | None = None, title: str | None = None, issue_date: dt.date | None = None,
              appeal: Appeal | None = None, verify_url: str | None = None) -> RunResult:
    """Run round ``round_id`` (see the module docstring); ``appeal``: re-decide one learner on appeal.

    ``verify_url``: the verification page's address the certificates link to (default: ``$COURSE_VERIFY_URL``,
    required: :func:`course.certification.certificates.verify_base`).
    """
    from course.certification.certificates import draw_missing, verify_base
    from course.certification.outputs import paper_names

    root = root.resolve()
    _check_round_id(round_id)
    base = verify_url or verify_base()
    roster_file(root, roster_csv)  # before the round is opened or anything recorded
    cert = load_certification(course)
    today = issue_date or dt.date.today()
    engine = store.open_course(root)
    with store.transaction(engine) as conn:  # the key first: without the office's key nothing is decided
        register.issuing_key(root, conn)
        if appeal is not None and conn.execute(sa.select(store.rounds).where(store.rounds.c.id == round_id)
                                               ).first() is None:
            raise WorkflowError(f"there is no round {round_id}: an appeal is against a decision of a round that ran "
                                "(`course certify results --round ...`)")
        claimed = _claim(conn, root, round_id, title, papers or [])
    rnd, sittings, grades, applicants, training = _frames(root, course, cert, roster_csv, claimed)
    exams = paper_names(course, manifest.manifests(root))
    inputs = input_hashes(root)
    learners = [str(x) for x in rnd.roster.index]
    if appeal is not None:
        if appeal.learner not in learners:
            raise WorkflowError(f"learner {appeal.learner} is not in the roster: check the id")
        learners = [appeal.learner]
    rows = rnd.results.set_index("学员编号", drop=False)
    titles = {lv.id: lv.full_title for lv in course.levels.levels}
    decided: list[str] = []
    issued: list[dict[str, Any]] = []
    revoked: list[str] = []
    restored: list[str] = []
    not_restored: list[str] = []
    outcome_text: str | None = None
    with register.transaction(root, engine) as conn:
        secret = register.issuing_key(root, conn)
        run = 1 + (conn.execute(sa.select(sa.func.max(store.decisions.c.run))
                                .where(store.decisions.c.round_id == round_id)).scalar() or 0)
        latest = latest_decisions(conn, round_id)
        for learner in learners:
            level = str(rnd.roster.loc[learner, "target_level"])
            row = json.loads(_json(rows.loc[learner].to_dict()))
            ev = {**evidence(rnd, sittings, grades, applicants, learner, training), "inputs": inputs}
            old = latest.get((learner, level))
            if appeal is None and old is not None and old["row"] == _json(row) and _same(old["evidence"], ev):
                continue
            if appeal is not None and old is None:
                raise WorkflowError(f"learner {learner} has no decision in round {round_id} at {titles[level]}: "
                                    "there is nothing to appeal; run `course certify results` first")
            old_ev = json.loads(old["evidence"]) if old else {}
            if old_ev.get("sitting", {}).get("assignment") == ev["sitting"].get("assignment") and ev["sitting"]:
                before, after = old_ev["sitting"]["scores"], ev["sitting"]["scores"]
                for q in sorted(set(before) | set(after)):
                    if before.get(q) != after.get(q):
                        audit.record(conn, "grade-change", f"{ev['sitting']['assignment']} {q}", round_id=round_id,
                                     learner=learner, before=before.get(q), after=after.get(q))
            appeal_id = None
            if appeal is not None and old is not None:
                outcome_text = (f"维持原判定（{row['结论']}）" if old["outcome"] == row["结论"]
                                else f"改判为{row['结论']}")
                appeal_id = _insert(conn, store.appeals.insert().values(
                    round_id=round_id, learner=learner, reason=appeal.reason, filed_at=store.now(),
                    filed_by=store.who(), decision_before=old["id"], outcome=outcome_text))
                audit.record(conn, "appeal", f"复核申请：{appeal.reason}", round_id=round_id, learner=learner,
                             before={"结论": old["outcome"]}, after={"结论": row["结论"], "复核结果": outcome_text})
            decision_id = _insert(conn, store.decisions.insert().values(
                round_id=round_id, run=run, learner=learner, level=level, outcome=row["结论"], row=_json(row),
                evidence=_json(ev), decided_at=store.now(), decided_by=store.who(),
                supersedes=old["id"] if old else None, appeal_id=appeal_id))
            audit.record(conn, "decision", f"{titles[level]} 判定", round_id=round_id, learner=learner,
                         before={"结论": old["outcome"], "原因": json.loads(old["row"])["原因"]} if old else None,
                         after={"结论": row["结论"], "原因": row["原因"]})
            decided.append(learner)
            held = _certificate_of(conn, learner, level, round_id)
            if row["结论"] == decisions.PASSED:
                if held is None:
                    issued.append(register.issue(conn, secret, {
                        "learner": learner, "name": str(row["姓名"]), "region": str(row["地区"]),
                        "department": str(row["部门"]), "level": level, "level_title": titles[level],
                        "round_id": round_id, "sitting": ev["sitting"].get("paper", ""),
                        "exam_date": ev["sitting"].get("exam_date") or today.isoformat(),
                        "issue_date": today.isoformat(),
                        "valid_until": register.valid_until(today.isoformat(), cert.validity_years[level]),
                        "renews": _renews(conn, learner, level, round_id), "decision_id": decision_id}, base))
                elif register.restore_by_decision(conn, secret, held["number"],
                                                  ("复核后" if appeal else "重新") + "判定为通过", today):
                    restored.append(held["number"])
                elif register.status_on(held, register.event_rows(conn, held["number"]), dt.date.max)[0] == \
                        register.REVOKED:
                    not_restored.append(held["number"])
            elif held is not None and old is not None and old["outcome"] == decisions.PASSED:
                reason = ("复核后" if appeal else "重新") + f"判定为未通过：{row['原因']}"
                if register.revoke_by_decision(conn, secret, held["number"], reason, today):
                    revoked.append(held["number"])
        results = round_results(conn, round_id)
        last = conn.execute(sa.select(sa.func.max(store.decisions.c.run))
                            .where(store.decisions.c.round_id == round_id)).scalar()
    if not decided:
        # outputs are drawn from the records: a run whose files were not written (a crash) gets them now
        if last is not None and not (rounds_dir(root) / round_id / f"{last:03d}" / "results.xlsx").exists():
            write_run(root, course, cert, engine, round_id, last, rnd.missing, today)
        pdfs = draw_missing(root, engine, course.settings.title, base, exams)
        return RunResult(round_id, None, [], [], [], [], [], None, None, [], pdfs, results, None, claimed)
    folder, excel, notes = write_run(root, course, cert, engine, round_id, run, rnd.missing, today)
    pdfs = draw_missing(root, engine, course.settings.title, base, exams)
    return RunResult(round_id, run, decided, issued, revoked, restored, not_restored, folder, excel, notes, pdfs,
                     results, outcome_text, claimed)


def write_run(root: Path, course: Course, cert: Certification, engine: sa.Engine, round_id: str, run: int,
              missing: pd.DataFrame, on: dt.date) -> tuple[Path, Path, list[Path]]:
    """The files of run ``run`` from the records: the round's results as of the run, a notice per learner it decided.

    Exams are named (四级认证考试, 四级补考（第 2 次考试）), never by their ids; a learner who does not pass and
    holds a certificate of the round is told its status (撤销 with its date, say).
    """
    from course.certification import notices, outputs

    found = manifest.manifests(root)
    exams, own = outputs.paper_names(course, found), outputs.learner_paper_names(course, found)
    d = store.decisions
    with engine.connect() as conn:
        results = round_results(conn, round_id, up_to_run=run)
        decided = list(dict.fromkeys(r[0] for r in conn.execute(
            sa.select(d.c.learner).where(d.c.round_id == round_id, d.c.run == run).order_by(d.c.id))))
        title = str(conn.execute(sa.select(store.rounds.c.title).where(store.rounds.c.id == round_id)).scalar_one())
        c = store.certificates
        held = {r["learner"]: dict(r) for r in conn.execute(sa.select(c).where(c.c.round_id == round_id)).mappings()}
        status = {x: register.status_on(cert_row, register.event_rows(conn, cert_row["number"]), on)
                  for x, cert_row in held.items()}
    results = outputs.papers_by_name(results, exams, own)  # each learner's own sitting number
    folder = rounds_dir(root) / round_id / f"{run:03d}"
    excel = outputs.write_excel(results, outputs.papers_by_name(missing, exams, own), folder / "results.xlsx",
                                round_id, title, on)
    by_learner = results.set_index("学员编号", drop=False)
    notes = []
    for x in decided:
        row = by_learner.loc[x]
        number = held[x]["number"] if x in held else None
        notes.append(notices.write_notice(folder / "notices" / f"{x}.pdf", course, cert, round_id, title, on, row,
                                          number if row["结论"] == decisions.PASSED else None,
                                          None if number is None else certificate_status(number, *status[x])))
    return folder, excel, notes


def certificate_status(number: str, status: str, event: dict[str, Any]) -> str:
    """A held certificate's status as a notice tells it, e.g. 证书 2026A-0002 已撤销（2026-11-05）."""
    if status == register.REVOKED:
        return f"证书 {number} 已撤销（{event['effective_date']}）"
    if status == register.SUSPENDED:
        return f"证书 {number} 已暂停（自 {event['effective_date']}）"
    if status == register.EXPIRED:
        return f"证书 {number} 已过期"
    return f"证书 {number} 有效"
