"""Pure tests of the gradebook rules in course.grading.rows.plan: which rows are written, and with what."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa

from course.grading import rows, tables
from course.grading.answers import Scored, SubmissionScores, digest

T0 = dt.datetime(2026, 11, 20, 9, 30)
DUE = dt.datetime(2026, 11, 25)
NB = rows.NotebookLayout(
    id="nb1", name="ch01",
    grade_cells={"setup": ("c0", 0.0), "q1": ("c1", 2.0), "q2": ("c2", 4.0)},
    comment_cells={"q2": "c2"}, source_cells={})
LAYOUT = rows.Layout("a1", "ch01", DUE, {"ch01": NB})


def graded(q1: float | None = 2.0, q2: float | None = None, q2_answer: str = "案例作答", *,
           timestamp: dt.datetime = T0) -> rows.Graded:
    scores = SubmissionScores("s1", "ch01", {
        "q1": Scored("q1", "A", q1),
        "q2": Scored("q2", q2_answer, q2),
    })
    return rows.Graded("s1", "ch01", timestamp, {"ch01": scores})


def existing_after(plan: rows.Changes) -> dict[str, rows.Existing]:
    """The rows ``plan`` inserted, as read_existing would return them."""
    sub = plan.inserts["submitted_assignment"][0]
    nb = plan.inserts["submitted_notebook"][0]
    ex = rows.Existing(sub["id"], sub["timestamp"], None, {"nb1": (nb["id"], nb["late_submission_penalty"])})
    ex.grades = {("nb1", g["cell_id"]): dict(g) for g in plan.inserts["grade"]}
    ex.comments = {("nb1", c["cell_id"]): dict(c) for c in plan.inserts["comment"]}
    ex.digests = {d["id"]: d["digests"] for d in plan.inserts["course_answer_digest"]}
    return {"s1": ex}


def test_a_new_submission_gets_nbgraders_rows() -> None:
    plan = rows.plan(LAYOUT, [graded()], {})
    assert [len(plan.inserts[t]) for t in ("submitted_assignment", "submitted_notebook", "grade", "comment")] == [
        1, 1, 3, 1]
    digests, = plan.inserts["course_answer_digest"]  # what each grade was given to, beside nbgrader's rows
    assert digests == {"id": plan.inserts["submitted_notebook"][0]["id"],
                       "digests": f'{{"q1":"{digest("A")}","q2":"{digest("案例作答")}"}}'}
    grades = {g["cell_id"]: (g["auto_score"], g["manual_score"], g["needs_manual_grade"])
              for g in plan.inserts["grade"]}
    assert grades == {"c0": (0.0, None, False), "c1": (2.0, None, False), "c2": (None, None, True)}
    assert plan.inserts["comment"][0]["auto_comment"] is None  # answered: no "No response."
    assert plan.pending == [("s1", "q2")] and plan.updates == []


def test_an_unanswered_case_scores_zero_with_nbgraders_comment() -> None:
    plan = rows.plan(LAYOUT, [graded(q2=0.0, q2_answer="")], {})
    assert plan.inserts["comment"][0]["auto_comment"] == rows.NO_RESPONSE
    assert plan.pending == []


def test_the_same_result_again_writes_nothing() -> None:
    first = rows.plan(LAYOUT, [graded()], {})
    again = rows.plan(LAYOUT, [graded()], existing_after(first))
    assert again.inserts == {} and again.updates == [] and again.rows_written == 0


def test_a_changed_score_updates_only_that_cell() -> None:
    first = rows.plan(LAYOUT, [graded()], {})
    again = rows.plan(LAYOUT, [graded(q1=0.0)], existing_after(first))
    assert [(t, v) for t, _, v in again.updates] == [("grade", {"auto_score": 0.0})]


def test_a_manual_grade_is_never_touched_and_keeps_its_flag() -> None:
    first = rows.plan(LAYOUT, [graded()], {})
    ex = existing_after(first)
    case = ex["s1"].grades[("nb1", "c2")]
    case.update(manual_score=3.0, needs_manual_grade=False)
    ex["s1"].comments[("nb1", "c2")]["manual_comment"] = "好"
    again = rows.plan(LAYOUT, [graded()], ex)
    assert again.updates == [] and again.pending == [] and again.rereview == []


def test_a_changed_answer_after_a_manual_grade_is_flagged_not_overwritten() -> None:
    first = rows.plan(LAYOUT, [graded()], {})
    ex = existing_after(first)
    ex["s1"].grades[("nb1", "c2")].update(manual_score=3.0, needs_manual_grade=False)
    again = rows.plan(LAYOUT, [graded(q2_answer="新答案")], ex)
    nb_id = first.inserts["submitted_notebook"][0]["id"]
    new_digests = f'{{"q1":"{digest("A")}","q2":"{digest("新答案")}"}}'
    assert [(t, v) for t, _, v in again.updates] == [("grade", {"needs_manual_grade": True}),
                                                     ("course_answer_digest", {"digests": new_digests})]
    assert ("course_answer_digest", nb_id, {"digests": new_digests}) in again.updates  # in the same batch
    assert again.rereview == [("s1", "q2")]


def test_a_flag_stays_up_until_a_person_grades_again() -> None:
    """Once flagged and recorded, does a later run with the same changed answer keep the flag up, unreported?"""
    first = rows.plan(LAYOUT, [graded()], {})
    ex = existing_after(first)
    ex["s1"].grades[("nb1", "c2")].update(manual_score=3.0, needs_manual_grade=True)  # flagged earlier
    ex["s1"].digests = {k: v.replace(digest("案例作答"), digest("新答案")) for k, v in ex["s1"].digests.items()}
    again = rows.plan(LAYOUT, [graded(q2_answer="新答案")], ex)
    assert again.updates == [] and again.rereview == [] and again.pending == [("s1", "q2")]


def test_no_recorded_fingerprint_flags_a_hand_grade_once() -> None:
    """A gradebook graded before answers were recorded: is a hand grade flagged for review (a change cannot be
    ruled out) with its score kept, listed apart from the changed answers, and the answer recorded?"""
    first = rows.plan(LAYOUT, [graded()], {})
    ex = existing_after(first)
    ex["s1"].grades[("nb1", "c2")].update(manual_score=3.0, needs_manual_grade=False)
    ex["s1"].digests = {}
    again = rows.plan(LAYOUT, [graded(q2_answer="新答案")], ex)
    assert [(t, v) for t, _, v in again.updates] == [("grade", {"needs_manual_grade": True})]
    assert (again.rereview, again.unrecorded) == ([], [("s1", "q2")])
    assert [d["digests"] for d in again.inserts["course_answer_digest"]] == [
        f'{{"q1":"{digest("A")}","q2":"{digest("新答案")}"}}']


def test_a_later_timestamp_updates_the_submission() -> None:
    first = rows.plan(LAYOUT, [graded()], {})
    later = T0 + dt.timedelta(hours=1)
    again = rows.plan(LAYOUT, [graded(timestamp=later)], existing_after(first))
    assert [(t, v) for t, _, v in again.updates] == [("submitted_assignment", {"timestamp": later})]


@pytest.mark.parametrize(("found", "expected"), [(None, None), (-5.0, 0.0), (1.0, 1.0), (99.0, 2.0)])
def test_late_penalty_is_the_plugins_answer_clipped_to_the_score(found: float | None, expected: float | None) -> None:
    late = T0.replace(year=2027)
    calls = []

    def penalty(student: str, score: float, seconds: float) -> float | None:
        calls.append((student, score, seconds))
        return found

    plan = rows.plan(LAYOUT, [graded(timestamp=late)], {}, penalty)
    assert calls == [("s1", 2.0, (late - DUE).total_seconds())]
    assert plan.inserts["submitted_notebook"][0]["late_submission_penalty"] == expected


def test_on_time_submissions_never_ask_the_plugin() -> None:
    def penalty(student: str, score: float, seconds: float) -> float:
        raise AssertionError("not late")

    plan = rows.plan(LAYOUT, [graded()], {}, penalty)
    assert plan.inserts["submitted_notebook"][0]["late_submission_penalty"] is None


@pytest.mark.parametrize(("timestamp", "due", "extension", "seconds"), [
    (None, DUE, None, 0.0), (T0, None, None, 0.0), (T0, DUE, None, 0.0),
    (DUE + dt.timedelta(seconds=90), DUE, None, 90.0),
    (DUE + dt.timedelta(seconds=90), DUE, dt.timedelta(seconds=60), 30.0),
    (DUE + dt.timedelta(seconds=90), DUE, dt.timedelta(days=1), 0.0),
])
def test_seconds_late_is_nbgraders(timestamp: dt.datetime | None, due: dt.datetime | None,
                                   extension: dt.timedelta | None, seconds: float) -> None:
    assert rows.seconds_late(timestamp, due, extension) == seconds


def test_grade_score_is_nbgraders_rule() -> None:
    row = {"manual_score": None, "auto_score": None, "extra_credit": 1.0}
    assert rows._grade_score(row) == 0.0
    assert rows._grade_score({**row, "auto_score": 2.0}) == 3.0
    assert rows._grade_score({**row, "auto_score": 2.0, "manual_score": 0.5}) == 1.5
    assert rows._grade_score({"manual_score": 0.0, "auto_score": 2.0, "extra_credit": None}) == 0.0


def test_inserted_rows_have_exactly_the_tables_columns_and_link_up() -> None:
    plan = rows.plan(LAYOUT, [graded()], {})
    for name, new in plan.inserts.items():
        for row in new:
            assert set(row) == set(rows.TABLES[name].c.keys()), name
    sub, = plan.inserts["submitted_assignment"]
    nb, = plan.inserts["submitted_notebook"]
    assert (sub["assignment_id"], sub["student_id"], sub["timestamp"], sub["extension"]) == ("a1", "s1", T0, None)
    assert (nb["assignment_id"], nb["notebook_id"], nb["flagged"]) == (sub["id"], "nb1", False)
    assert {g["notebook_id"] for g in plan.inserts["grade"] + plan.inserts["comment"]} == {nb["id"]}
    assert plan.inserts["comment"][0]["cell_id"] == "c2"
    assert [d["id"] for d in plan.inserts["course_answer_digest"]] == [nb["id"]]  # keyed by the notebook's row
    ids = [r["id"] for name, t in plan.inserts.items() if name != "course_answer_digest" for r in t]
    assert len(set(ids)) == len(ids) and all(isinstance(i, str) and len(i) == 32 for i in ids)


def test_updates_name_the_existing_rows_and_columns() -> None:
    first = rows.plan(LAYOUT, [graded()], {})
    ex = existing_after(first)
    again = rows.plan(LAYOUT, [graded(q1=1.0, q2=0.0, q2_answer="")], ex)
    by_id = {r["cell_id"]: r["id"] for r in first.inserts["grade"]}
    comment_id = first.inserts["comment"][0]["id"]
    nb_id = first.inserts["submitted_notebook"][0]["id"]
    assert sorted(again.updates, key=repr) == sorted([
        ("grade", by_id["c1"], {"auto_score": 1.0}),
        ("grade", by_id["c2"], {"auto_score": 0.0, "needs_manual_grade": False}),
        ("comment", comment_id, {"auto_comment": rows.NO_RESPONSE}),
        ("course_answer_digest", nb_id, {"digests": f'{{"q1":"{digest("A")}","q2":"{digest("")}"}}'}),
    ], key=repr)


def test_an_extension_is_counted_and_a_changed_penalty_is_updated() -> None:
    late = DUE + dt.timedelta(hours=2)
    first = rows.plan(LAYOUT, [graded(timestamp=late)], {}, lambda s, score, secs: score)
    assert first.inserts["submitted_notebook"][0]["late_submission_penalty"] == 2.0
    ex = existing_after(first)
    ex["s1"].grades[("nb1", "c2")]["manual_score"] = 3.0  # the penalty sees the manual score too
    again = rows.plan(LAYOUT, [graded(timestamp=late)], ex, lambda s, score, secs: score)
    nb_id = first.inserts["submitted_notebook"][0]["id"]
    assert again.updates == [("submitted_notebook", nb_id, {"late_submission_penalty": 5.0})]
    ex["s1"].extension = dt.timedelta(days=1)
    ex["s1"].notebooks["nb1"] = (nb_id, 5.0)
    on_time = rows.plan(LAYOUT, [graded(timestamp=late)], ex, lambda s, score, secs: score)
    assert on_time.updates == [("submitted_notebook", nb_id, {"late_submission_penalty": None})]


def test_a_second_learner_gets_rows_of_their_own() -> None:
    one = graded()
    two = rows.Graded("s2", "ch01", T0, {"ch01": SubmissionScores("s2", "ch01", {
        "q1": Scored("q1", "B", 0.0), "q2": Scored("q2", "", 0.0)})})
    plan = rows.plan(LAYOUT, [one, two], {})
    subs = {r["student_id"]: r["id"] for r in plan.inserts["submitted_assignment"]}
    nbs = {r["assignment_id"]: r["id"] for r in plan.inserts["submitted_notebook"]}
    assert set(subs) == {"s1", "s2"} and set(nbs) == set(subs.values())
    scores = {(r["notebook_id"], r["cell_id"]): r["auto_score"] for r in plan.inserts["grade"]}
    assert scores[(nbs[subs["s2"]], "c1")] == 0.0 and scores[(nbs[subs["s1"]], "c1")] == 2.0


def test_one_second_late_is_late() -> None:
    asked = []
    rows.plan(LAYOUT, [graded(timestamp=DUE + dt.timedelta(seconds=1))], {},
              lambda s, score, secs: asked.append(secs) or 0.0)
    assert asked == [1.0]


def test_the_penalty_sees_the_new_score_and_pending_names_the_question() -> None:
    late = DUE + dt.timedelta(hours=1)
    first = rows.plan(LAYOUT, [graded(timestamp=late)], {}, lambda s, score, secs: score)
    again = rows.plan(LAYOUT, [graded(q1=1.0, timestamp=late)], existing_after(first), lambda s, score, secs: score)
    nb_id = first.inserts["submitted_notebook"][0]["id"]
    assert ("submitted_notebook", nb_id, {"late_submission_penalty": 1.0}) in again.updates
    assert again.pending == [("s1", "q2")]


def test_a_changed_time_updates_that_submission_row() -> None:
    first = rows.plan(LAYOUT, [graded()], {})
    later = T0 + dt.timedelta(minutes=5)
    again = rows.plan(LAYOUT, [graded(timestamp=later)], existing_after(first))
    assert again.updates == [("submitted_assignment", first.inserts["submitted_assignment"][0]["id"],
                              {"timestamp": later})]



def _shape(table: Any) -> dict[str, Any]:
    return {
        "columns": [(c.name, repr(c.type), c.nullable, c.primary_key, sorted(f.target_fullname for f in c.foreign_keys),
                     bool(c.unique)) for c in table.columns],
        "unique": sorted(tuple(c.name for c in u.columns) for u in table.constraints
                         if isinstance(u, sa.UniqueConstraint)),
    }


def test_the_tables_the_grader_writes_are_nbgraders_own() -> None:
    """Does every gradebook table the grader declares match nbgrader.api's: columns, types, keys, uniqueness?"""
    from nbgrader import api as nba

    theirs = {cls.__table__.name: cls.__table__ for cls in (
        nba.Course, nba.Assignment, nba.Notebook, nba.BaseCell, nba.GradeCell, nba.SolutionCell, nba.TaskCell,
        nba.SourceCell, nba.Student, nba.SubmittedAssignment, nba.SubmittedNotebook, nba.Grade, nba.Comment)}
    assert {t.name for t in tables.NBGRADER_TABLES} == set(theirs)
    for mine in tables.NBGRADER_TABLES:
        assert _shape(mine) == _shape(theirs[mine.name]), mine.name


@pytest.mark.parametrize(("value", "text"), [
    (None, "\\N"), (True, "t"), (False, "f"), ("No response.", "No response."),
    ("制表\t换行\n回车\r反斜杠\\", "制表\\t换行\\n回车\\r反斜杠\\\\"), (7.0, "7.0"), (0.1, "0.1"), (2.5e-07, "2.5e-07"),
    (3, "3"), (dt.datetime(2026, 11, 20, 9, 30, 0, 1), "2026-11-20 09:30:00.000001"),
    (dt.timedelta(days=1, seconds=2, microseconds=3), "1 days 2 seconds 3 microseconds")])
def test_copy_writes_each_value_in_postgresqls_text_form(value: Any, text: str) -> None:
    assert rows._copy_field(value) == text


@pytest.mark.parametrize("value", [dt.datetime(2026, 11, 20, tzinfo=dt.UTC), b"bytes", [1]])
def test_copy_refuses_a_value_it_has_no_form_for(value: Any) -> None:
    """Is a value COPY could misread (a time with a zone in a column without one, bytes, a list) an error?"""
    with pytest.raises(TypeError) as caught:
        rows._copy_field(value)
    assert str(caught.value) == f"no COPY form for {type(value).__name__} {value!r}"


def test_new_ids_are_nbgraders_width_ordered_by_time_and_distinct() -> None:
    """Are row ids 32 hex digits, UUID version 7 (RFC 9562), later ones sorting after earlier ones?"""
    import time
    import uuid

    first = [rows.new_id() for _ in range(1000)]
    time.sleep(0.002)
    later = rows.new_id()
    assert len(set(first)) == 1000 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in first)
    assert uuid.UUID(later).version == 7 and later > max(first)
