"""Do course.grading.rows' SQL functions read and write a real nbgrader gradebook as nbgrader reads it?

A real SQLite gradebook: nbgrader's own ``Gradebook`` creates the schema, the assignments and
their cells; the functions under test run through a SQLAlchemy connection; nbgrader's API reads
the rows back. The template gradebook is built once per module and copied for each test.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbgrader.api
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from nbgrader.api import Gradebook
from nbgrader.dbutil import ALEMBIC_DIR

from course.errors import WorkflowError
from course.grading import rows
from course.grading.answers import Scored, SubmissionScores, digest
from course.grading.grader import engine

COURSE = "kam-cert"
DUE = dt.datetime(2026, 11, 25, 12, 0)
T0 = dt.datetime(2026, 11, 20, 9, 30)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gradebook nbgrader leaves after generating three assignments (cells as nbgrader stores them).

    * ch01 (due DUE): notebook ch01 with grade cells setup (0 points), q1 (2), q2 (4, hand graded),
      solution cells q1, q2, source cells q1 ("x = 1", checksum "abc") and q2 (no source);
      notebook ch01x with grade and solution cell q3 (1 point).
    * ch02 (no due date): notebook ch02 with grade and solution cell q1 (1 point).
    * task: a notebook with a task cell.
    * the learner s0 is already in the gradebook, with a first name.
    """
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with pytest.MonkeyPatch.context() as mp:
        # A new gradebook stamps alembic's head revision, which nbgrader asks the `alembic` command for
        # (seconds per process); ask alembic in process instead: the same answer.
        mp.setattr(nbgrader.api, "get_alembic_version", lambda: ScriptDirectory(ALEMBIC_DIR).get_current_head())
        _build(f"sqlite:///{path}")
    return path


def _build(url: str) -> None:
    with Gradebook(url, course_id=COURSE) as gb:
        gb.add_assignment("ch01", duedate=DUE)
        gb.add_notebook("ch01", "ch01")
        gb.add_grade_cell("setup", "ch01", "ch01", max_score=0, cell_type="code")
        gb.add_grade_cell("q1", "ch01", "ch01", max_score=2, cell_type="code")
        gb.add_grade_cell("q2", "ch01", "ch01", max_score=4, cell_type="markdown")
        gb.add_solution_cell("q1", "ch01", "ch01")
        gb.add_solution_cell("q2", "ch01", "ch01")
        gb.add_source_cell("q1", "ch01", "ch01", cell_type="code", source="x = 1", checksum="abc")
        gb.add_source_cell("q2", "ch01", "ch01", cell_type="markdown")
        gb.add_notebook("ch01x", "ch01")
        gb.add_grade_cell("q3", "ch01x", "ch01", max_score=1, cell_type="code")
        gb.add_solution_cell("q3", "ch01x", "ch01")
        gb.add_assignment("ch02")
        gb.add_notebook("ch02", "ch02")
        gb.add_grade_cell("q1", "ch02", "ch02", max_score=1, cell_type="code")
        gb.add_solution_cell("q1", "ch02", "ch02")
        gb.add_assignment("task")
        gb.add_notebook("task", "task")
        gb.add_task_cell("t1", "task", "task", max_score=1, cell_type="markdown")
        gb.add_student("s0", first_name="既有")


@pytest.fixture
def url(template: Path, tmp_path: Path) -> str:
    shutil.copy(template, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


@pytest.fixture
def eng(url: str) -> Iterator[sa.Engine]:
    e = engine(url)  # the grader's own engine (BEGIN IMMEDIATE on SQLite)
    yield e
    e.dispose()


def ch01(student: str, q1: float | None = 2.0, q2: float | None = None, q2_answer: str = "案例作答",
         q3: float | None = 1.0, timestamp: dt.datetime | None = T0) -> rows.Graded:
    return rows.Graded(student, "ch01", timestamp, {
        "ch01": SubmissionScores(student, "ch01", {"q1": Scored("q1", "A", q1), "q2": Scored("q2", q2_answer, q2)}),
        "ch01x": SubmissionScores(student, "ch01x", {"q3": Scored("q3", "B", q3)}),
    })


def ch02(student: str, q1: float = 1.0) -> rows.Graded:
    return rows.Graded(student, "ch02", T0, {"ch02": SubmissionScores(student, "ch02", {"q1": Scored("q1", "C", q1)})})


def write(eng: sa.Engine, assignment: str, graded: list[rows.Graded], penalty: Any = None) -> rows.Changes:
    """One batch as the grader commits it: learners, then what is there, the plan and its rows, in one transaction."""
    with eng.begin() as conn:
        rows.ensure_tables(conn)
        layout = rows.read_layout(conn, COURSE, assignment)
        rows.ensure_students(conn, [g.student for g in graded])
        existing = rows.read_existing(conn, layout, [g.student for g in graded])
        changes = rows.plan(layout, graded, existing, penalty)
        rows.apply(conn, changes)
    return changes


def nbgrader_view(url: str, assignment: str, student: str) -> dict[str, Any]:
    """One submission as nbgrader's own API reads it, by cell names."""
    with Gradebook(url, course_id=COURSE) as gb:
        sub = gb.find_submission(assignment, student)
        out: dict[str, Any] = {"timestamp": sub.timestamp, "extension": sub.extension,
                               "penalty": sub.late_submission_penalty}
        for nb in sub.notebooks:
            out[nb.name] = {
                "penalty": nb.late_submission_penalty, "flagged": nb.flagged, "score": nb.score,
                "needs_manual_grade": nb.needs_manual_grade,
                "grades": {g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                           for g in nb.grades},
                "comments": {c.name: (c.auto_comment, c.manual_comment) for c in nb.comments},
            }
        return out


def ids(url: str) -> dict[str, Any]:
    """nbgrader's ids of the template's rows, by name."""
    with Gradebook(url, course_id=COURSE) as gb:
        out: dict[str, Any] = {}
        for a in ("ch01", "ch02"):
            out[a] = gb.find_assignment(a).id
        for nb in ("ch01", "ch01x"):
            out[f"nb/{nb}"] = gb.find_notebook(nb, "ch01").id
        out["nb/ch02"] = gb.find_notebook("ch02", "ch02").id
        for name in ("setup", "q1", "q2"):
            out[f"grade/{name}"] = gb.find_grade_cell(name, "ch01", "ch01").id
        for name in ("q1", "q2"):
            out[f"solution/{name}"] = gb.find_solution_cell(name, "ch01", "ch01").id
        out["grade/q3"] = gb.find_grade_cell("q3", "ch01x", "ch01").id
        out["solution/q3"] = gb.find_solution_cell("q3", "ch01x", "ch01").id
        return out


def table_rows(eng: sa.Engine, table: sa.Table) -> list[tuple[Any, ...]]:
    with eng.connect() as conn:
        return sorted(map(tuple, conn.execute(sa.select(table)).all()), key=repr)


# ---------------------------------------------------------------- read_layout
def test_read_layout_is_the_assignment_as_nbgrader_stored_it(url: str, eng: sa.Engine) -> None:
    """Does the layout hold the assignment's id, due date and per notebook the grade, solution and source cells?"""
    i = ids(url)
    with eng.connect() as conn:
        layout = rows.read_layout(conn, COURSE, "ch01")
    assert (layout.id, layout.name, layout.duedate) == (i["ch01"], "ch01", DUE)
    assert sorted(layout.notebooks) == ["ch01", "ch01x"]
    nb = layout.notebooks["ch01"]
    assert (nb.id, nb.name) == (i["nb/ch01"], "ch01")
    assert nb.grade_cells == {"setup": (i["grade/setup"], 0.0), "q1": (i["grade/q1"], 2.0),
                              "q2": (i["grade/q2"], 4.0)}
    assert all(isinstance(points, float) for _, points in nb.grade_cells.values())
    assert nb.comment_cells == {"q1": i["solution/q1"], "q2": i["solution/q2"]}
    assert nb.source_cells == {"q1": ("x = 1", "abc"), "q2": ("", "")}  # no source, no checksum: empty text
    other = layout.notebooks["ch01x"]
    assert (other.id, other.name) == (i["nb/ch01x"], "ch01x")
    assert other.grade_cells == {"q3": (i["grade/q3"], 1.0)}
    assert other.comment_cells == {"q3": i["solution/q3"]}
    assert other.source_cells == {}


def test_read_layout_of_another_assignment_has_only_its_notebooks(url: str, eng: sa.Engine) -> None:
    """Does ch02's layout hold only ch02's notebook, with no due date?"""
    i = ids(url)
    with eng.connect() as conn:
        layout = rows.read_layout(conn, COURSE, "ch02")
    assert (layout.id, layout.name, layout.duedate) == (i["ch02"], "ch02", None)
    assert list(layout.notebooks) == ["ch02"]
    assert layout.notebooks["ch02"].id == i["nb/ch02"]


@pytest.mark.parametrize(("course_id", "assignment"), [(COURSE, "ch09"), ("other-course", "ch01")])
def test_an_assignment_not_in_the_gradebook_is_an_error(eng: sa.Engine, course_id: str, assignment: str) -> None:
    """Is an assignment missing from the gradebook (or of another course) an error naming the command to run?"""
    with eng.connect() as conn, pytest.raises(WorkflowError) as err:
        rows.read_layout(conn, course_id, assignment)
    assert str(err.value) == (f"assignment '{assignment}' is not in the gradebook: "
                              f"run `course generate {assignment}`")


def test_an_assignment_with_task_cells_is_an_error(eng: sa.Engine) -> None:
    """Is an assignment with a task cell refused, pointing to the kernel run?"""
    with eng.connect() as conn, pytest.raises(WorkflowError) as err:
        rows.read_layout(conn, COURSE, "task")
    assert str(err.value) == ("task/task has task cells, which only a person can grade: "
                              "grade it with `course autograde --execute`")


# ---------------------------------------------------------------- ensure_students
def test_ensure_students_adds_only_the_missing_learners(eng: sa.Engine) -> None:
    """Are only missing learners added (once each, no names), a known one left as it is, and the count returned?"""
    with eng.begin() as conn:
        assert rows.ensure_students(conn, ["s2", "s0", "s1", "s2"]) == 2
    assert table_rows(eng, rows.STUDENT) == [("s0", "既有", None, None, None), ("s1", None, None, None, None),
                                             ("s2", None, None, None, None)]
    with eng.begin() as conn:
        assert rows.ensure_students(conn, iter(["s1", "s0"])) == 0
        assert rows.ensure_students(conn, []) == 0
    assert len(table_rows(eng, rows.STUDENT)) == 3


# ---------------------------------------------------------------- plan + apply, read back by nbgrader
def test_a_graded_batch_is_what_nbgrader_reads_back(url: str, eng: sa.Engine) -> None:
    """Does nbgrader read back exactly the grades, comments and notebooks of a newly graded batch?"""
    changes = write(eng, "ch01", [ch01("s1"), ch01("s2", q1=0.0, q2=0.0, q2_answer="", q3=None)])
    # per learner: 1 submission, 2 notebooks, 3 + 1 grades, 2 + 1 comments, 2 answer records = 12 rows
    assert changes.rows_written == 24 and changes.updates == []
    assert changes.pending == [("s1", "q2"), ("s2", "q3")]
    s1 = nbgrader_view(url, "ch01", "s1")
    assert (s1["timestamp"], s1["extension"]) == (T0, None)
    assert s1["ch01"] == {
        "penalty": None, "flagged": False, "score": 2.0, "needs_manual_grade": True,
        "grades": {"setup": (0.0, None, None, False), "q1": (2.0, None, None, False),
                   "q2": (None, None, None, True)},
        "comments": {"q1": (None, None), "q2": (None, None)},  # both answered: no auto comment
    }
    assert s1["ch01x"] == {"penalty": None, "flagged": False, "score": 1.0, "needs_manual_grade": False,
                           "grades": {"q3": (1.0, None, None, False)}, "comments": {"q3": (None, None)}}
    s2 = nbgrader_view(url, "ch01", "s2")
    assert s2["ch01"]["grades"] == {"setup": (0.0, None, None, False), "q1": (0.0, None, None, False),
                                    "q2": (0.0, None, None, False)}
    assert s2["ch01"]["comments"] == {"q1": (None, None), "q2": (rows.NO_RESPONSE, None)}  # q2 left empty
    assert s2["ch01"]["needs_manual_grade"] is False
    assert s2["ch01x"]["grades"] == {"q3": (None, None, None, True)}
    assert table_rows(eng, rows.STUDENT) == [("s0", "既有", None, None, None), ("s1", None, None, None, None),
                                             ("s2", None, None, None, None)]


def test_read_existing_returns_the_rows_as_they_are(url: str, eng: sa.Engine) -> None:
    """Does read_existing return the asked learners' submission, notebook, grade and comment rows of the assignment?"""
    write(eng, "ch01", [ch01("s1"), ch01("s2")])
    write(eng, "ch02", [ch02("s1")])
    with Gradebook(url, course_id=COURSE) as gb:
        sub = gb.find_submission("ch01", "s1")
        sub.extension = dt.timedelta(hours=5)
        gb.db.commit()
        sub_id = sub.id
        nb_ids = {nb.name: nb.id for nb in sub.notebooks}
        grade = gb.find_grade("q1", "ch01", "ch01", "s1")
        grade_row = {"id": grade.id, "notebook_id": nb_ids["ch01"], "cell_id": grade.cell_id, "auto_score": 2.0,
                     "manual_score": None, "extra_credit": None, "needs_manual_grade": False}
        comment = gb.find_comment("q2", "ch01", "ch01", "s1")
        comment_row = {"id": comment.id, "notebook_id": nb_ids["ch01"], "cell_id": comment.cell_id,
                       "auto_comment": None, "manual_comment": None}
    i = ids(url)
    with eng.connect() as conn:
        layout = rows.read_layout(conn, COURSE, "ch01")
        existing = rows.read_existing(conn, layout, iter(["s1", "s0", "nobody"]))
    assert list(existing) == ["s1"]  # s2 was not asked for; s0 and nobody have no submission
    ex = existing["s1"]
    assert (ex.submission_id, ex.timestamp, ex.extension) == (sub_id, T0, dt.timedelta(hours=5))
    nb, nbx = i["nb/ch01"], i["nb/ch01x"]
    assert ex.notebooks == {nb: (nb_ids["ch01"], None), nbx: (nb_ids["ch01x"], None)}
    assert sorted(ex.grades) == sorted([(nb, i["grade/setup"]), (nb, i["grade/q1"]), (nb, i["grade/q2"]),
                                        (nbx, i["grade/q3"])])
    assert ex.grades[(nb, i["grade/q1"])] == grade_row
    assert sorted(ex.comments) == sorted([(nb, i["solution/q1"]), (nb, i["solution/q2"]), (nbx, i["solution/q3"])])
    assert ex.comments[(nb, i["solution/q2"])] == comment_row
    with eng.connect() as conn:
        assert rows.read_existing(conn, layout, []) == {}


def test_read_existing_reads_the_late_penalty(eng: sa.Engine) -> None:
    """Does read_existing return the notebook's stored late penalty next to its row id?"""
    write(eng, "ch02", [rows.Graded("s1", "ch02", DUE, ch02("s1").notebooks)])
    with eng.begin() as conn:
        conn.execute(rows.SUBMITTED_NB.update().values(late_submission_penalty=0.5))
    with eng.connect() as conn:
        layout = rows.read_layout(conn, COURSE, "ch02")
        (nb_row_id, penalty), = rows.read_existing(conn, layout, ["s1"])["s1"].notebooks.values()
    assert penalty == 0.5 and isinstance(nb_row_id, str) and len(nb_row_id) == 32


def test_a_rerun_with_nothing_new_writes_nothing(url: str, eng: sa.Engine) -> None:
    """Does grading the same batch again write no row and leave the gradebook as it was?"""
    batch = [ch01("s1"), ch01("s2", q1=0.0)]
    write(eng, "ch01", batch)
    before = {t.name: table_rows(eng, t) for t in (*rows.INSERT_ORDER, rows.STUDENT)}
    again = write(eng, "ch01", batch)
    assert again.rows_written == 0 and again.inserts == {} and again.updates == []
    assert {t.name: table_rows(eng, t) for t in (*rows.INSERT_ORDER, rows.STUDENT)} == before


def test_changed_scores_update_their_own_rows(url: str, eng: sa.Engine) -> None:
    """Do updates of different columns and tables reach exactly their rows (and nobody else's)?"""
    write(eng, "ch01", [ch01("s1"), ch01("s2")])
    later = T0 + dt.timedelta(hours=1)
    again = write(eng, "ch01", [ch01("s1", q1=1.0, q2=0.0, q2_answer="", timestamp=later)])
    # q1: auto_score only; q2: auto_score and the flag; the q2 comment; the submission's time; q2's answer record
    assert again.rows_written == 5 and again.inserts == {}
    s1 = nbgrader_view(url, "ch01", "s1")
    assert s1["timestamp"] == later
    assert s1["ch01"]["grades"] == {"setup": (0.0, None, None, False), "q1": (1.0, None, None, False),
                                    "q2": (0.0, None, None, False)}
    assert s1["ch01"]["comments"] == {"q1": (None, None), "q2": (rows.NO_RESPONSE, None)}
    s2 = nbgrader_view(url, "ch01", "s2")  # untouched
    assert s2["timestamp"] == T0
    assert s2["ch01"]["grades"] == {"setup": (0.0, None, None, False), "q1": (2.0, None, None, False),
                                    "q2": (None, None, None, True)}


def test_two_learners_updates_of_one_kind_are_each_their_own(url: str, eng: sa.Engine) -> None:
    """Do two learners' updates of the same column, written in one statement, keep each learner's value?"""
    write(eng, "ch01", [ch01("s1"), ch01("s2")])
    write(eng, "ch01", [ch01("s1", q1=0.5), ch01("s2", q1=1.5)])
    assert nbgrader_view(url, "ch01", "s1")["ch01"]["grades"]["q1"] == (0.5, None, None, False)
    assert nbgrader_view(url, "ch01", "s2")["ch01"]["grades"]["q1"] == (1.5, None, None, False)


def test_a_manual_grade_is_never_written_and_a_changed_answer_is_flagged(url: str, eng: sa.Engine) -> None:
    """Does regrading keep a person's score and comment, and raise the flag again only for a changed answer?"""
    write(eng, "ch01", [ch01("s1"), ch01("s2")])
    with Gradebook(url, course_id=COURSE) as gb:
        for student in ("s1", "s2"):
            grade = gb.find_grade("q2", "ch01", "ch01", student)
            grade.manual_score, grade.needs_manual_grade = 3.0, False
            gb.find_comment("q2", "ch01", "ch01", student).manual_comment = "好"
        gb.db.commit()
    again = write(eng, "ch01", [ch01("s1", q2_answer="新答案"), ch01("s2")])
    assert again.rereview == [("s1", "q2")] and again.pending == [("s1", "q2")]
    s1 = nbgrader_view(url, "ch01", "s1")["ch01"]
    assert s1["grades"]["q2"] == (None, 3.0, None, True)  # flagged again, the score stays
    assert s1["comments"]["q2"] == (None, "好")
    assert s1["score"] == 5.0  # nbgrader's total: 2 (q1) + 3 (manual q2)
    s2 = nbgrader_view(url, "ch01", "s2")["ch01"]
    assert s2["grades"]["q2"] == (None, 3.0, None, False)  # same answer: the person's grade stands
    assert s2["needs_manual_grade"] is False


def test_what_each_grade_was_given_to_is_stored_beside_it(url: str, eng: sa.Engine) -> None:
    """Is the fingerprint of each graded answer in the gradebook, one row per submitted notebook, read back?"""
    write(eng, "ch01", [ch01("s1")])
    with eng.connect() as conn:
        stored = dict(conn.execute(sa.select(rows.ANSWER_DIGEST)).all())
        layout = rows.read_layout(conn, COURSE, "ch01")
        existing = rows.read_existing(conn, layout, ["s1"])["s1"]
    by_notebook = {nb_id: stored[row_id] for nb_id, (row_id, _) in existing.notebooks.items()}
    assert sorted(by_notebook.values()) == sorted([
        f'{{"q1":"{digest("A")}","q2":"{digest("案例作答")}"}}', f'{{"q3":"{digest("B")}"}}'])
    assert existing.digests == stored
    assert write(eng, "ch01", [ch01("s1")]).rows_written == 0  # nothing new, nothing written


def test_the_late_penalty_is_stored_per_notebook(url: str, eng: sa.Engine) -> None:
    """Is a late penalty written per notebook as the plugin answered, and summed per submission by nbgrader?"""
    late = DUE + dt.timedelta(hours=3)
    asked = []

    def penalty(student: str, score: float, seconds: float) -> float:
        asked.append((student, score, seconds))
        return 0.5

    write(eng, "ch01", [ch01("s1", timestamp=late)], penalty)
    # ch01: 0 + 2 + (pending q2 counts 0) = 2; ch01x: 1; 3 hours late = 10800 s.
    assert asked == [("s1", 2.0, 10800.0), ("s1", 1.0, 10800.0)]
    s1 = nbgrader_view(url, "ch01", "s1")
    assert (s1["ch01"]["penalty"], s1["ch01x"]["penalty"], s1["penalty"]) == (0.5, 0.5, 1.0)
    assert (s1["ch01"]["score"], s1["ch01x"]["score"]) == (2.0, 1.0)  # the grades themselves are unchanged


def test_an_extension_in_the_gradebook_is_counted(url: str, eng: sa.Engine) -> None:
    """Does an extension set in nbgrader make a late submission on time, so its penalty is cleared?"""
    late = DUE + dt.timedelta(hours=3)
    write(eng, "ch01", [ch01("s1", timestamp=late)], lambda s, score, secs: 0.5)
    with Gradebook(url, course_id=COURSE) as gb:
        gb.find_submission("ch01", "s1").extension = dt.timedelta(hours=4)
        gb.db.commit()
    again = write(eng, "ch01", [ch01("s1", timestamp=late)], lambda s, score, secs: 0.5)
    assert again.rows_written == 2  # the two notebooks' penalties
    s1 = nbgrader_view(url, "ch01", "s1")
    assert (s1["extension"], s1["ch01"]["penalty"], s1["ch01x"]["penalty"]) == (dt.timedelta(hours=4), None, None)


def test_another_assignments_rows_are_not_read_as_this_ones(url: str, eng: sa.Engine) -> None:
    """Does grading ch02 for a learner leave their ch01 rows alone and give ch02 rows of its own?"""
    write(eng, "ch01", [ch01("s1")])
    changes = write(eng, "ch02", [ch02("s1", q1=0.0)])
    assert changes.rows_written == 5  # submission, notebook, grade, comment, answer record
    assert nbgrader_view(url, "ch02", "s1")["ch02"]["grades"] == {"q1": (0.0, None, None, False)}
    assert nbgrader_view(url, "ch01", "s1")["ch01"]["grades"]["q1"] == (2.0, None, None, False)


# ---------------------------------------------------------------- large batches
def test_large_batches_are_read_in_chunks_of_500(url: str, eng: sa.Engine) -> None:
    """Are 1001 learners created, written and read back in full, no statement listing more than 500 of them?"""
    students = [f"u{n:04d}" for n in range(1001)]
    seen: list[tuple[str, int]] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            table = re.search(r"\bFROM\s+(\w+)", statement)
            seen.append((table[1] if table else "", len(parameters)))

    sa.event.listen(eng, "before_cursor_execute", count)
    with eng.begin() as conn:
        assert rows.ensure_students(conn, reversed(students)) == 1001
    # 1001 learners in three lists: 500, 500, 1
    assert seen == [("student", 500), ("student", 500), ("student", 1)]
    seen.clear()
    first = write(eng, "ch02", [ch02(s) for s in students])
    assert first.rows_written == 5 * 1001
    # ch02's layout, then the submissions (assignment id + 500, + 500, + 1): none yet, so nothing more
    assert [n for t, n in seen if t == "submitted_assignment"] == [501, 501, 2]
    seen.clear()
    with eng.connect() as conn:
        layout = rows.read_layout(conn, COURSE, "ch02")
        seen.clear()
        existing = rows.read_existing(conn, layout, students)
    assert sorted(existing) == students
    assert all(len(e.notebooks) == 1 and len(e.grades) == 1 and len(e.comments) == 1 for e in existing.values())
    assert [n for t, n in seen if t == "submitted_assignment"] == [501, 501, 2]
    assert [n for t, n in seen if t == "submitted_notebook"] == [500, 500, 1]
    assert [n for t, n in seen if t in ("grade", "comment")] == [500, 500, 500, 500, 1, 1]
    assert [n for t, n in seen if t == "course_answer_digest"] == [500, 500, 1]
    assert write(eng, "ch02", [ch02(s) for s in students]).rows_written == 0


def test_notebook_ids_are_chunked_when_submissions_hold_several_notebooks(url: str, eng: sa.Engine) -> None:
    """With two notebooks a submission, are 300 submissions' 600 notebooks read in lists of at most 500?"""
    students = [f"v{n:03d}" for n in range(300)]
    assert write(eng, "ch01", [ch01(s) for s in students]).rows_written > 0
    seen: list[tuple[str, int]] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            table = re.search(r"\bFROM\s+(\w+)", statement)
            seen.append((table[1] if table else "", len(parameters)))

    with eng.connect() as conn:
        layout = rows.read_layout(conn, COURSE, "ch01")
        sa.event.listen(eng, "before_cursor_execute", count)
        existing = rows.read_existing(conn, layout, students)
    assert sorted(existing) == students
    # grades: setup, q1, q2 (ch01) and q3 (ch01x); comments: the three solution cells
    assert all(len(e.notebooks) == 2 and len(e.grades) == 4 and len(e.comments) == 3 for e in existing.values())
    assert [n for t, n in seen if t == "submitted_notebook"] == [300]
    assert [(t, n) for t, n in seen if t in ("grade", "comment", "course_answer_digest")] == [
        ("grade", 500), ("grade", 100), ("comment", 500), ("comment", 100),
        ("course_answer_digest", 500), ("course_answer_digest", 100)]
    assert write(eng, "ch01", [ch01(s) for s in students]).rows_written == 0


def test_chunks_cover_every_item_once_in_order() -> None:
    """Does _chunks cut a list into consecutive pieces of the size, the last one shorter?"""
    assert list(rows._chunks(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(rows._chunks(list(range(6)), 3)) == [[0, 1, 2], [3, 4, 5]]
    assert list(rows._chunks([], 3)) == []


def test_new_ids_are_fresh_uuid_hex() -> None:
    """Is a new row id 32 hex digits, like nbgrader's, and different every time?"""
    a, b = rows.new_id(), rows.new_id()
    assert a != b and len(a) == 32 and int(a, 16) >= 0
