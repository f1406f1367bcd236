"""Does the gradebook snapshot give exactly the live frames, and is it taken again when grades change?"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from course.analytics import frames, snapshot
from course.analytics.roster import read_roster
from course.errors import CourseError
from course.nbconfig import db_url
from tests.conftest import CourseDir, make_course_dir, make_gradebook
from tests.test_analytics import ROSTER, SCORES


@pytest.fixture
def graded(tmp_path: Path) -> CourseDir:
    cd = make_course_dir(tmp_path / "course")
    make_gradebook(cd, "ch01", SCORES, manual={"amy": {"ch01-007": 3.0}})
    (cd.root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return cd


def test_snapshot_and_live_gradebook_give_identical_frames(graded: CourseDir) -> None:
    """Are the grades and the tidy scores read from the snapshot exactly those read from the gradebook?"""
    cd = graded
    folder = cd.root / "reports" / "snapshot"
    snap = snapshot.take(cd.root, db_url(cd.root), "kam-cert", folder, content=cd.course.root)
    assert snap.grade_rows == 4 * 8 and snap.chapters == ("ch01",)  # 7 questions + the setup cell
    live = frames.read_grades(db_url(cd.root), "kam-cert")
    pd.testing.assert_frame_equal(snapshot.read_grades(folder), live)
    roster = read_roster(cd.root / "roster.csv", cd.course)
    from_live = frames.scores_frame(live, cd.course, roster)
    from_snap = frames.scores_frame(snapshot.read_grades(folder, columns=snapshot.PAGE_COLUMNS), cd.course, roster)
    pd.testing.assert_frame_equal(from_snap, from_live)
    kwargs = {"content": str(cd.course.root), "roster_csv": cd.root / "roster.csv", "responses": False}
    pd.testing.assert_frame_equal(frames.load_cohort(cd.root, snapshot=folder, **kwargs).scores,
                                  frames.load_cohort(cd.root, **kwargs).scores)
    kwargs["responses"] = True
    pd.testing.assert_frame_equal(frames.load_cohort(cd.root, snapshot=folder, **kwargs).responses,
                                  frames.load_cohort(cd.root, **kwargs).responses, check_dtype=False)
    # a filtered cohort keeps exactly the filtered learners' responses on both paths
    kwargs["region"] = "华南"
    from_snap_region = frames.load_cohort(cd.root, snapshot=folder, **kwargs).responses
    pd.testing.assert_frame_equal(from_snap_region, frames.load_cohort(cd.root, **kwargs).responses, check_dtype=False)
    assert set(from_snap_region["learner"]) == {"cai"} and len(from_snap_region) > 0


def test_duckdb_and_standard_library_readers_agree(graded: CourseDir) -> None:
    """Do both SQLite readers return the same grades frame, row for row?"""
    con = frames._duckdb()
    if con is None:
        pytest.skip("duckdb with its sqlite scanner is not installed")
    path = str(graded.root / "gradebook" / "gradebook.db")
    key = ["learner", "chapter", "question"]
    via_duckdb = frames._read_duckdb(con, path, "kam-cert").sort_values(key, ignore_index=True)
    via_sqlite3 = frames._read_sqlite(path, "kam-cert").sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(via_duckdb, via_sqlite3)


def test_an_unchanged_gradebook_is_not_read_again(graded: CourseDir, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is the existing snapshot reused, without a read, while the gradebook has not changed?"""
    folder = graded.root / "snap"
    first = snapshot.take(graded.root, db_url(graded.root), "kam-cert", folder)

    def no_read(*_args: object) -> None:
        raise AssertionError("the gradebook was read again")

    monkeypatch.setattr(frames, "read_grades", no_read)
    assert snapshot.ensure(graded.root, db_url(graded.root), "kam-cert", folder) == first


def test_a_new_grade_invalidates_the_snapshot(graded: CourseDir) -> None:
    """After a grader scores a case answer, does the next snapshot carry the new score?"""
    from nbgrader.api import Gradebook

    folder = graded.root / "snap"
    first = snapshot.ensure(graded.root, db_url(graded.root), "kam-cert", folder)
    with Gradebook(db_url(graded.root), course_id="kam-cert") as gb:
        grade = gb.find_grade("ch01-007", "ch01", "ch01", "bo")
        grade.manual_score = 2.0
        gb.db.commit()
    second = snapshot.ensure(graded.root, db_url(graded.root), "kam-cert", folder)
    assert second.fingerprint != first.fingerprint
    grades = snapshot.read_grades(folder)
    bo = grades[(grades["learner"] == "bo") & (grades["question"] == "ch01-007")]
    assert bo["score"].tolist() == [2.0]


def test_a_missing_gradebook_names_the_fix(tmp_path: Path) -> None:
    """Before any grading, is there one message naming `course autograde` (and no empty gradebook made)?"""
    url = f"sqlite:///{tmp_path}/gradebook/gradebook.db"
    with pytest.raises(CourseError, match="run `course autograde` first"):
        snapshot.ensure(tmp_path, url, "kam-cert", tmp_path / "snap")
    assert not (tmp_path / "gradebook").exists()


def test_answers_are_encoded_as_json_once_per_distinct_value_without_mixing_types() -> None:
    """Is every answer's text exactly json.dumps of it, with True and 1 (and [True] and [1]) kept apart?"""
    import json

    values = [None, True, 1, 1.0, "A", ["A", "B"], [True], [1], {"a": 1}, [["x"]], "A", ["A", "B"], True, "是"]
    assert snapshot._json_texts(values) == [None, "true", "1", "1.0", '"A"', '["A", "B"]', "[true]", "[1]",
                                            '{"a": 1}', '[["x"]]', '"A"', '["A", "B"]', "true", '"是"']
    assert snapshot._json_texts(values) == [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]


def test_a_new_snapshot_reads_only_the_answers_files_that_changed(graded: CourseDir,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """After one learner's answers are collected again, is only their file read, and the frame still the live one?"""
    from course_runtime.quiz import write_answers

    cd = graded
    single = next(q for q in cd.course.questions_of("ch01") if q.type == "single")

    def place(learner: str, answer: str) -> None:
        folder = cd.root / "submitted" / learner / "ch01"
        folder.mkdir(parents=True, exist_ok=True)
        write_answers(folder / "ch01.answers.json", "ch01", learner, {single.id: answer})

    for learner in ("amy", "bo", "cai"):
        place(learner, "A")
    folder = cd.root / "snap"
    snapshot.take(cd.root, db_url(cd.root), "kam-cert", folder, content=cd.course.root)
    read: list[str] = []
    real = frames.read_answers_file

    def counting(path: Path, assignment: str, learner: str | None = None) -> dict[str, object]:
        read.append(Path(path).parent.parent.name)
        return real(path, assignment, learner)

    monkeypatch.setattr(frames, "read_answers_file", counting)
    kwargs = {"content": str(cd.course.root), "roster_csv": cd.root / "roster.csv", "responses": True}

    def same_as_live() -> pd.DataFrame:
        from_snap = frames.load_cohort(cd.root, snapshot=folder, **kwargs).responses
        live = frames.load_cohort(cd.root, **kwargs).responses
        read.clear()  # the live read reads every file, by design
        pd.testing.assert_frame_equal(from_snap, live, check_dtype=False)
        return from_snap

    snapshot.take(cd.root, db_url(cd.root), "kam-cert", folder, content=cd.course.root)
    # nothing changed: every row comes from the last snapshot, but dan, who saved no answers file, is looked
    # for again (a file may have been collected since)
    assert read == ["dan"]
    same_as_live()
    place("bo", "B")  # collected again: a new file
    snapshot.take(cd.root, db_url(cd.root), "kam-cert", folder, content=cd.course.root)
    assert sorted(read) == ["bo", "dan"]
    got = same_as_live()
    answered = got[(got["question"] == single.id) & got["response"].notna()]
    assert answered[["learner", "response"]].values.tolist() == [["amy", "A"], ["bo", "B"], ["cai", "A"]]
    # stamps from another question bank are not trusted: every file is read again
    (folder / snapshot.ANSWER_FILES_META).write_text('{"version": 1, "content": "another bank"}', encoding="utf-8")
    snapshot.take(cd.root, db_url(cd.root), "kam-cert", folder, content=cd.course.root)
    assert sorted(read) == ["amy", "bo", "cai", "dan"]


def test_answers_read_by_several_processes_give_the_same_frame(graded: CourseDir,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """When the files are read in worker processes (as for a national cohort), is the frame the live one?"""
    from course_runtime.quiz import write_answers

    cd = graded
    single = next(q for q in cd.course.questions_of("ch01") if q.type == "single")
    for learner, answer in (("amy", "A"), ("bo", "B"), ("cai", "C")):
        folder = cd.root / "submitted" / learner / "ch01"
        folder.mkdir(parents=True, exist_ok=True)
        write_answers(folder / "ch01.answers.json", "ch01", learner, {single.id: answer})
    monkeypatch.setattr(snapshot, "PARALLEL_FROM", 1)
    folder = cd.root / "snap"
    snapshot.take(cd.root, db_url(cd.root), "kam-cert", folder, content=cd.course.root)
    kwargs = {"content": str(cd.course.root), "roster_csv": cd.root / "roster.csv", "responses": True}
    from_snap = frames.load_cohort(cd.root, snapshot=folder, **kwargs).responses
    pd.testing.assert_frame_equal(from_snap, frames.load_cohort(cd.root, **kwargs).responses, check_dtype=False)
    answered = from_snap[from_snap["response"].notna()]
    assert answered[["learner", "response"]].values.tolist() == [["amy", "A"], ["bo", "B"], ["cai", "C"]]


def test_answers_can_be_read_after_the_grades_and_are_never_taken_from_another_snapshot(graded: CourseDir) -> None:
    """Does a grades-only snapshot refuse to give answers, until they are read for exactly its grades?"""
    cd = graded
    folder = cd.root / "snap"
    url = db_url(cd.root)
    snap = snapshot.take(cd.root, url, "kam-cert", folder, content=cd.course.root, responses=False)
    with pytest.raises(CourseError, match="run `course report` again"):
        snapshot.read_responses(folder)
    assert not snapshot.has_responses(snap, cd.course.root)
    assert snapshot.ensure(cd.root, url, "kam-cert", folder, content=cd.course.root) == snap  # grades reused
    assert snapshot.has_responses(snap, cd.course.root)
    assert len(snapshot.read_responses(folder)) > 0
    # a new grades-only snapshot (the gradebook changed): the old answers are not served for it
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id="kam-cert") as gb:
        gb.find_grade("ch01-007", "ch01", "ch01", "bo").manual_score = 1.0
        gb.db.commit()
    newer = snapshot.ensure(cd.root, url, "kam-cert", folder, content=cd.course.root, responses=False)
    assert newer.fingerprint != snap.fingerprint and not snapshot.has_responses(newer, cd.course.root)
    with pytest.raises(CourseError, match="were not read"):
        snapshot.read_responses(folder)
