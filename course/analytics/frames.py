"""nbgrader's gradebook -> tidy pandas frames, read with one SQL query over nbgrader's schema.

Per-object ORM calls cost a round trip per grade; one join returns every
grade of the course at once, on SQLite or PostgreSQL alike (the URL comes
from the course configuration). Scores follow nbgrader's own rule: the
manual score if an instructor gave one, else the auto score, plus extra credit.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from course import model as m
from course.analytics.roster import UNREGISTERED
from course.errors import CourseError, SubmissionError
from course.grading.answers import answers_path, read_answers_file
from course.loader import Course

GRADES_SQL = sa.text("""
SELECT st.id            AS learner,
       a.name           AS chapter,
       bc.name          AS question,
       gc.max_score     AS max_score,
       g.auto_score     AS auto_score,
       g.manual_score   AS manual_score,
       g.extra_credit   AS extra_credit,
       g.needs_manual_grade AS needs_manual_grade,
       sa.timestamp     AS submitted_at
FROM grade g
JOIN grade_cells gc          ON gc.id = g.cell_id
JOIN base_cell bc            ON bc.id = g.cell_id
JOIN submitted_notebook sn   ON sn.id = g.notebook_id
JOIN submitted_assignment sa ON sa.id = sn.assignment_id
JOIN assignment a            ON a.id = sa.assignment_id
JOIN student st              ON st.id = sa.student_id
WHERE a.course_id = :course_id
""")

# SQLite: the same join, split so that the 4-million-row side carries two numbers a row: the
# rowids of the submitted notebook and the cell with the needs-manual-grade flag packed into one
# integer, and the score by nbgrader's rule (NULL as a sentinel: SQLite has no NaN). Fetching
# Python tuples is what costs, so fewer columns is faster; measured against six plain columns
# and against DuckDB's sqlite scanner on the benchmark gradebook (see tests/benchmarks).
_CELL_BITS = 20
_NULL = -1e300
_SQLITE_FACTS = f"""
SELECT ((sn.rowid << {_CELL_BITS}) | bc.rowid) * 2 + g.needs_manual_grade,
       coalesce(coalesce(g.manual_score, g.auto_score) + coalesce(g.extra_credit, 0), {_NULL})
FROM grade g
JOIN submitted_notebook sn ON sn.id = g.notebook_id
JOIN base_cell bc          ON bc.id = g.cell_id
"""
_SQLITE_SUBMISSIONS = """
SELECT sn.rowid, sa.student_id, a.name, sa.timestamp
FROM submitted_notebook sn
JOIN submitted_assignment sa ON sa.id = sn.assignment_id
JOIN assignment a            ON a.id = sa.assignment_id
WHERE a.course_id = ?
"""
_SQLITE_CELLS = "SELECT bc.rowid, bc.name, gc.max_score FROM grade_cells gc JOIN base_cell bc ON bc.id = gc.id"

GRADE_COLUMNS = ["learner", "chapter", "question", "max_score", "score", "needs_manual_grade", "submitted_at"]


def _category(values: pd.Series | np.ndarray | list[str]) -> pd.Categorical:
    """Strings as a categorical with sorted categories, so code order is text order."""
    return pd.Categorical(values, categories=sorted(set(values)))


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The grades frame in compact types: categorical ids, float scores, bool flag, the score rule applied."""
    out = pd.DataFrame({
        "learner": _category(frame["learner"].astype(str)),
        "chapter": _category(frame["chapter"].astype(str)),
        "question": _category(frame["question"].astype(str)),
        "max_score": frame["max_score"].astype(float),
        "auto_score": frame["auto_score"].astype(float),
        "manual_score": frame["manual_score"].astype(float),
        "extra_credit": frame["extra_credit"].astype(float),
        "needs_manual_grade": frame["needs_manual_grade"].fillna(False).astype(bool),
        "submitted_at": pd.to_datetime(frame["submitted_at"]).astype("datetime64[us]"),
    })
    out = _with_score(out)
    return out[GRADE_COLUMNS]


def _with_score(frame: pd.DataFrame) -> pd.DataFrame:
    # nbgrader's rule: the manual score if an instructor gave one, else the auto score; plus extra credit
    manual, auto = frame["manual_score"], frame["auto_score"]
    frame["score"] = manual.where(manual.notna(), auto) + frame["extra_credit"].fillna(0)
    return frame


def _sqlite_path(url: sa.engine.URL) -> str | None:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database


_DUCKDB_FACTS = """
SELECT sn.rowid AS submission, bc.rowid AS cell,
       coalesce(g.manual_score, g.auto_score) + coalesce(g.extra_credit, 0) AS score,
       CAST(g.needs_manual_grade AS BOOLEAN) AS needs_manual_grade
FROM gb.grade g
JOIN gb.submitted_notebook sn ON sn.id = g.notebook_id
JOIN gb.base_cell bc          ON bc.id = g.cell_id
"""


def _duckdb() -> Any | None:
    """A DuckDB connection with the sqlite scanner from its PyPI package, or None where it is missing."""
    try:
        import duckdb
        import duckdb_extension_sqlite_scanner as ext
    except ImportError:
        return None
    file = Path(ext.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "sqlite_scanner.duckdb_extension"
    if not file.is_file():  # the extension must match the engine's version exactly
        return None
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute("SET enable_progress_bar = false")
    con.execute(f"LOAD '{_quoted(str(file))}'")
    return con


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _positions(index: pd.Index, rowids: np.ndarray) -> np.ndarray:
    """Position in ``index`` (of small non-negative rowids) of every rowid, -1 where absent, as int32.

    A dense lookup table: rowids of a gradebook are small, and 4 million hash lookups cost
    more time and memory than one array the size of the largest rowid.
    """
    ids = index.to_numpy(dtype=np.int64)
    top = int(max(ids.max(initial=0), rowids.max(initial=0))) + 1
    lookup = np.full(top, -1, dtype=np.int32)
    lookup[ids] = np.arange(len(ids), dtype=np.int32)
    return lookup[rowids]


def _frame(subs: pd.DataFrame, cells: pd.DataFrame, submission: np.ndarray, cell: np.ndarray, score: np.ndarray,
           needs_manual: np.ndarray) -> pd.DataFrame:
    """The grades frame from the fact arrays (rowids) and the two small dimension frames (indexed by rowid)."""
    sub_pos = _positions(subs.index, submission)
    keep = sub_pos >= 0  # grades of other courses (nbgrader's stray default_course) drop out here
    if not keep.all():
        sub_pos, cell, score, needs_manual = sub_pos[keep], cell[keep], score[keep], needs_manual[keep]
    del keep
    cell_pos = _positions(cells.index, cell)
    del cell
    learners = _category(subs["learner"].astype(str).tolist())
    chapters = _category(subs["chapter"].astype(str).tolist())
    questions = _category(cells["question"].astype(str).tolist())
    when = pd.to_datetime(subs["submitted_at"]).astype("datetime64[us]").to_numpy()
    return pd.DataFrame({
        "learner": pd.Categorical.from_codes(learners.codes[sub_pos], dtype=learners.dtype),
        "chapter": pd.Categorical.from_codes(chapters.codes[sub_pos], dtype=chapters.dtype),
        "question": pd.Categorical.from_codes(questions.codes[cell_pos], dtype=questions.dtype),
        "max_score": cells["max_score"].to_numpy(dtype=float)[cell_pos],
        "score": score.astype(float, copy=False),
        "needs_manual_grade": needs_manual.astype(bool, copy=False),
        "submitted_at": when[sub_pos],
    }, copy=False)


def _read_duckdb(con: Any, path: str, course_id: str) -> pd.DataFrame:
    import duckdb

    try:
        con.execute(f"ATTACH '{_quoted(path)}' AS gb (TYPE sqlite, READ_ONLY)")
        subs = con.execute(_SQLITE_SUBMISSIONS.replace("FROM ", "FROM gb.").replace("JOIN ", "JOIN gb."),
                           [course_id]).df()
        subs.columns = ["rowid", "learner", "chapter", "submitted_at"]
        cells = con.execute(_SQLITE_CELLS.replace("FROM ", "FROM gb.").replace("JOIN ", "JOIN gb.")).df()
        cells.columns = ["rowid", "question", "max_score"]
        facts = con.execute(_DUCKDB_FACTS).fetchnumpy()
    except duckdb.Error as exc:
        raise CourseError(f"cannot read the gradebook at sqlite:///{path}: {exc}; "
                          "run `course autograde` first or check COURSE_DB_URL") from None
    finally:
        con.close()
    score: np.ndarray = np.ma.filled(np.ma.asarray(facts["score"], dtype=float), np.nan)
    needs: np.ndarray = np.ma.filled(np.ma.asarray(facts["needs_manual_grade"]), False)
    return _frame(subs.set_index("rowid"), cells.set_index("rowid"), np.asarray(facts["submission"], dtype=np.int64),
                  np.asarray(facts["cell"], dtype=np.int64), score, needs)


def _read_sqlite(path: str, course_id: str) -> pd.DataFrame:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        con.execute("BEGIN")  # one read transaction: the three queries see the same gradebook
        subs = pd.DataFrame(con.execute(_SQLITE_SUBMISSIONS, (course_id,)).fetchall(),
                            columns=["rowid", "learner", "chapter", "submitted_at"]).set_index("rowid")
        cells = pd.DataFrame(con.execute(_SQLITE_CELLS).fetchall(),
                             columns=["rowid", "question", "max_score"]).set_index("rowid")
        (top,) = con.execute("SELECT coalesce(max(rowid), 0) FROM base_cell").fetchone()
        if top >= 1 << _CELL_BITS:
            raise CourseError(f"the gradebook at {path} has more cells than this reader packs: raise _CELL_BITS")
        facts = np.fromiter(con.execute(_SQLITE_FACTS), dtype=[("key", np.int64), ("score", np.float64)])
        con.execute("ROLLBACK")
    finally:
        con.close()
    key, score = facts["key"], facts["score"].copy()
    del facts
    score[score == _NULL] = np.nan
    return _frame(subs, cells, key >> (_CELL_BITS + 1), (key >> 1) & ((1 << _CELL_BITS) - 1), score,
                  (key & 1).astype(bool))


def read_grades(db_url: str, course_id: str) -> pd.DataFrame:
    """Every grade of the course, one row per learner × graded cell, as nbgrader stores it.

    Columns: learner, chapter, question (categoricals, sorted categories), max_score,
    score (float64, nbgrader's rule applied; NaN while no grade is given), needs_manual_grade
    (bool: waiting for a grader) and submitted_at.
    A SQLite gradebook is read read-only with the standard library, numbers only on the
    long side; any other SQLAlchemy URL (PostgreSQL) runs the one join through SQLAlchemy.
    """
    url = sa.engine.make_url(db_url)
    path = _sqlite_path(url)
    try:
        if path is not None:
            if not Path(path).is_file():
                raise CourseError(f"cannot read the gradebook at {db_url}: there is no such file; "
                                  "run `course autograde` first or check COURSE_DB_URL")
            con = _duckdb()
            return _read_sqlite(path, course_id) if con is None else _read_duckdb(con, path, course_id)
        engine = sa.create_engine(db_url)
        try:
            with engine.connect() as conn:
                frame = pd.read_sql(GRADES_SQL, conn, params={"course_id": course_id})
        finally:
            engine.dispose()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise CourseError(f"cannot read the gradebook at {db_url}: {exc.orig}; "
                          "run `course autograde` first or check COURSE_DB_URL") from None
    except sqlite3.Error as exc:
        raise CourseError(f"cannot read the gradebook at {db_url}: {exc}; "
                          "run `course autograde` first or check COURSE_DB_URL") from None
    return _compact(frame)


CONTENT_COLUMNS = ["section", "type", "area", "area_title", "top_area", "mastery", "levels"]
ROSTER_COLUMNS = ["name", "region", "department", "target_level"]
SCORE_COLUMNS = ["learner", "chapter", "question", "section", "type", "area", "area_title", "top_area", "mastery",
                 "points", "score", "needs_manual_grade", "submitted_at", "levels", "name", "region", "department",
                 "target_level"]


def question_frame(course: Course) -> pd.DataFrame:
    """One row per question with its place in the syllabus (the content side of the join)."""
    rows = []
    for q in course.questions:
        area = course.area_of(q)
        rows.append({
            "question": q.id, "chapter": q.chapter, "section": q.section, "type": q.type,
            "area": area, "area_title": course.leaf_areas[area].title,
            "top_area": course.top_area_of[area].title, "mastery": q.mastery,
            "points": float(q.points), "levels": tuple(course.levels_of(q)),
        })
    return pd.DataFrame(rows)


# Two unused level tuples that hold no level: ``scores["levels"].map(lambda lv: level in lv)`` then
# maps the categories to booleans that are never unique, and pandas returns a plain bool array
# (a categorical of booleans would not combine with ``&``) after one call per category, not per row.
_NEVER_LEVELS = [(), ("",)]


def _take(values: pd.Series, positions: np.ndarray) -> pd.Categorical:
    """``values[positions]`` as a categorical: codes repeat, the values are stored once."""
    uniques = sorted(dict.fromkeys(values))
    lookup = {v: i for i, v in enumerate(uniques)}
    codes = np.array([lookup[v] for v in values], dtype=np.int32)[positions]
    categories = pd.Index(uniques, dtype=object, tupleize_cols=False)
    return pd.Categorical.from_codes(codes, categories=categories)


def scores_frame(grades: pd.DataFrame, course: Course, roster: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy scores: one row per learner × question, with content and roster columns.

    Rows are sorted by learner, then question. Text columns are categoricals; the content
    and roster columns are looked up once per question / learner and repeated by code, so
    the frame costs a few bytes per text cell however many learners there are.
    """
    questions = question_frame(course)
    chapters = grades["chapter"].isin(list(course.chapters))
    if not chapters.all():  # exam papers reuse bank items: they are certification, not chapter practice
        grades = grades[chapters.to_numpy()]
    question = pd.Series(grades["question"], dtype="category")
    learner = pd.Series(grades["learner"], dtype="category")
    q_codes, l_codes = question.cat.codes.to_numpy(), learner.cat.codes.to_numpy()
    # positions of the content rows per question category (-1: setup cell or not in the content)
    content_pos = questions.set_index("question").index.get_indexer(question.cat.categories)
    setup = np.asarray(question.cat.categories == "setup")
    counts = np.bincount(q_codes[q_codes >= 0], minlength=len(setup))
    unknown = sorted(question.cat.categories[(content_pos < 0) & ~setup & (counts > 0)])
    if unknown:
        raise CourseError(f"the gradebook has grades for questions not in the content: {', '.join(unknown[:10])}; "
                          "load the content version these assignments were generated from (--content)")
    kept = np.flatnonzero(~setup[q_codes])
    # learner, then question: the category orders are text orders, so code order is text order
    l_rank = np.argsort(np.argsort(np.asarray(learner.cat.categories, dtype=object)))[l_codes[kept]]
    q_rank = np.argsort(np.argsort(np.asarray(question.cat.categories, dtype=object)))[q_codes[kept]]
    order = kept[np.lexsort((q_rank, l_rank))]
    del kept, l_rank, q_rank
    q_pos = content_pos[q_codes[order]]
    l_cats = learner.cat.categories.sort_values()
    q_cats = question.cat.categories[content_pos >= 0].sort_values()
    frame = pd.DataFrame({
        "learner": pd.Categorical.from_codes(l_codes[order], dtype=learner.dtype).set_categories(l_cats),
        "chapter": _take(questions["chapter"], q_pos),
        "question": pd.Categorical.from_codes(q_codes[order], dtype=question.dtype).set_categories(q_cats),
    }, copy=False)
    for column in CONTENT_COLUMNS:
        frame[column] = _take(questions[column], q_pos)
    frame["levels"] = frame["levels"].cat.add_categories(_NEVER_LEVELS)
    frame["points"] = questions["points"].to_numpy()[q_pos]
    for column in ("score", "needs_manual_grade", "submitted_at"):
        frame[column] = grades[column].to_numpy()[order]
    frame = _with_roster(frame, roster)
    return frame[SCORE_COLUMNS]


def _with_roster(frame: pd.DataFrame, roster: pd.DataFrame | None) -> pd.DataFrame:
    learners = frame["learner"].cat.categories
    if roster is None:
        roster = pd.DataFrame(columns=ROSTER_COLUMNS).rename_axis("learner_id")
    per_learner = roster.reindex(learners)
    codes = frame["learner"].cat.codes.to_numpy()
    for column in ROSTER_COLUMNS:
        values = per_learner[column]
        if column != "target_level":
            values = values.fillna(UNREGISTERED)
        per = pd.Categorical(values.to_numpy(dtype=object))
        frame[column] = pd.Categorical.from_codes(per.codes[codes], dtype=per.dtype)
    return frame


def responses_frame(root: Path, course: Course, learners_chapters: list[tuple[str, str]]) -> pd.DataFrame:
    """Learners' raw answers to choice questions, read from the submitted answers files (see :func:`read_responses`)."""
    return read_responses(root, course, learners_chapters)[0]


def read_responses(root: Path, course: Course,
                   learners_chapters: list[tuple[str, str]]) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Learners' raw answers to choice questions, and the (learner, chapter) pairs whose file could not be read.

    Used for distractor analysis. An answers file that cannot be read (damaged, tampered, over a
    limit of :mod:`course.grading.answers`) is left out of this frame only and counted: its learner
    already scored 0 and was named at autograde. No file stops the reading of the others.
    """
    choice: dict[str, list[tuple[str, str]]] = {}  # per chapter: (id, type) of its choice questions
    rows: list[tuple[str, str, str, str, Any]] = []
    unreadable: list[tuple[str, str]] = []
    for learner, chapter in learners_chapters:
        try:
            answers = read_answers_file(answers_path(root / "submitted" / learner / chapter, chapter), chapter,
                                        learner)
        except SubmissionError:
            unreadable.append((learner, chapter))
            continue
        if chapter not in choice:
            choice[chapter] = [(q.id, q.type) for q in course.questions_of(chapter)
                               if isinstance(q, m.SingleChoice | m.MultipleChoice | m.TrueFalse)]
        rows.extend((learner, chapter, qid, kind, answers.get(qid)) for qid, kind in choice[chapter])
    return pd.DataFrame(rows, columns=["learner", "chapter", "question", "type", "response"]), unreadable


def choice_options(course: Course) -> tuple[dict[str, dict[str, str]], dict[str, str | list[str]]]:
    """Option texts and keys of choice questions (the instructor side only)."""
    options: dict[str, dict[str, str]] = {}
    keys: dict[str, str | list[str]] = {}
    for q in course.questions:
        if isinstance(q, m.SingleChoice | m.MultipleChoice):
            options[q.id] = dict(q.options)
            keys[q.id] = q.answer if isinstance(q, m.SingleChoice) else list(q.answer)
    return options, keys


@dataclass(frozen=True)
class Cohort:
    """Everything the analytics notebooks read, already filtered."""

    course: Course
    scores: pd.DataFrame
    responses: pd.DataFrame
    roster: pd.DataFrame | None
    as_of: dt.datetime  # when the gradebook was read


def filter_scores(scores: pd.DataFrame, *, region: str | None = None, since: str | None = None,
                  until: str | None = None, chapters: list[str] | None = None) -> pd.DataFrame:
    """Restrict to one region (cohort), a submission date range and some chapters."""
    keep = np.ones(len(scores), dtype=bool)
    if region:
        keep &= (scores["region"] == region).to_numpy()
    if since:
        keep &= (scores["submitted_at"] >= pd.Timestamp(since)).to_numpy()
    if until:
        keep &= (scores["submitted_at"] < pd.Timestamp(until) + pd.Timedelta(days=1)).to_numpy()
    if chapters:
        keep &= scores["chapter"].isin(chapters).to_numpy()
    return scores[keep].reset_index(drop=True)


def load_cohort(root: Path | str = ".", *, content: Path | str | None = None, roster_csv: Path | str | None = None,
                region: str | None = None, since: str | None = None, until: str | None = None,
                chapters: list[str] | None = None, snapshot: Path | str | None = None,
                responses: bool = True) -> Cohort:
    """The one call an analytics notebook makes: gradebook (or its snapshot) + content + roster, filtered.

    With ``snapshot`` (the folder ``course report`` wrote) the gradebook is not opened: the
    grades come from the snapshot's Parquet file, only the columns a page needs. ``responses``
    False skips the learners' raw answers (only the item analysis needs them).
    """
    from course.analytics import snapshot as snap
    from course.analytics.roster import read_roster
    from course.loader import load_course

    root = Path(root).resolve()
    course = load_course(Path(content) if content else None)
    roster = read_roster(Path(roster_csv), course) if roster_csv else None
    if snapshot:
        as_of = snap.open_snapshot(snapshot).as_of
        grades = snap.read_grades(snapshot, columns=snap.PAGE_COLUMNS)
    else:
        from course.nbconfig import course_config, db_url  # imports nbgrader (seconds): only for the gradebook

        as_of = dt.datetime.now(dt.UTC).replace(microsecond=0)
        grades = read_grades(db_url(root), course_config(root).CourseDirectory.course_id)
    scores = scores_frame(grades, course, roster)
    del grades
    scores = filter_scores(scores, region=region, since=since, until=until, chapters=chapters)
    if not responses:
        return Cohort(course, scores, pd.DataFrame(columns=["learner", "chapter", "question", "type", "response"]),
                      roster, as_of)
    submitted = scores[["learner", "chapter"]].drop_duplicates()
    if snapshot:
        answers = snap.read_responses(snapshot, submitted)
    else:
        pairs = sorted(zip(submitted["learner"].astype(str), submitted["chapter"].astype(str), strict=True))
        answers = responses_frame(root, course, pairs)
    return Cohort(course, scores, answers, roster, as_of)
