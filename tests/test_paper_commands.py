"""Do the instructor's commands treat an exam paper as they treat a chapter, and keep one sitting per learner?

One course folder from the certification fixture (20 theory points, one 10-point case) with two
papers: P for learners a and b (sat in a sitting) and Q for c and d (sat on paper, imported). The
commands run as an instructor types them; nbgrader runs for real.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from course import model as m
from course.cli import app
from tests.conftest import MINI, CourseDir, make_course_dir

CERT = Path(__file__).parent / "fixtures" / "cert"
SITTING = ["--opens", "2026-12-10 09:00", "--closes", "2026-12-10 11:00", "--minutes", "90"]


def run(cd: CourseDir, *args: str, content: Path = CERT) -> tuple[int, str]:
    """``course ARGS --root <course> [--content]`` as typed: the exit status and what it printed."""
    extra = [] if args[0] == "sitting" else ["--content", str(content)]
    result = CliRunner().invoke(app, [*args, "--root", str(cd.root), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def cd(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    course = make_course_dir(tmp_path_factory.mktemp("papers") / "course", CERT)
    for paper, learners in (("P", ["a", "b"]), ("Q", ["c", "d"])):
        code, out = run(course, "paper", "create", "L4", "--paper", paper, *[x for lr in learners
                                                                             for x in ("--learner", lr)])
        assert code == 0, out
    return course


def variant(cd: CourseDir, paper: str, learner: str) -> dict[str, Any]:
    return dict(json.loads((cd.root / "papers" / f"{paper}.json").read_text(encoding="utf-8"))["variants"][learner])


def test_a_sitting_of_a_paper_not_yet_generated_is_refused(cd: CourseDir) -> None:
    """Would learners start a clock on a paper the service cannot hand out? The sitting is refused first."""
    assert run(cd, "sitting", "create", "P", *SITTING) == (
        1, "Error: 2 variant(s) of paper P not generated (P-a, P-b): run `course generate P` first\n")
    assert not (cd.root / "gradebook" / "gradebook.db").exists()
    assert run(cd, "generate", "P", "Q") == (0, "generated 4 assignment(s) under release/.\n")


def test_a_learner_is_admitted_to_one_sitting_of_a_paper(cd: CourseDir) -> None:
    """Is a second sitting admitting a again refused with the reopening to use, while changing P-1 is allowed?"""
    assert run(cd, "sitting", "create", "P", *SITTING)[0] == 0
    assert run(cd, "sitting", "create", "P", "--name", "P-late", "--learner", "a", *SITTING) == (
        1, "Error: a already admitted to sitting P-1 of paper P: give them another attempt with `course sitting "
           "reopen P-1 --learner a --reason ...`, or leave them out (--learner)\n")
    assert run(cd, "sitting", "create", "P", "--name", "P-1", "--opens", "2026-12-10 09:30", "--closes",
               "2026-12-10 11:00", "--minutes", "90") == (
        0, "sitting P-1: paper P, 2 learner(s), 90 min, opens 2026-12-10 09:30, closes 2026-12-10 11:00 "
           "(China time).\n")


def test_a_paper_is_either_in_a_sitting_or_in_the_exchange(cd: CourseDir) -> None:
    """Could learners fetch a sitting's paper from the exchange before it opens, or sit a paper they have fetched?"""
    assert run(cd, "release", "P", "--exchange") == (
        1, "Error: paper(s) P are sat in a sitting: the exchange would let learners fetch them before it opens; "
           "release them without --exchange\n")
    assert not (cd.root / "exchange" / "kam-cert" / "outbound" / "P-a").exists()
    assert run(cd, "release", "Q", "--exchange") == (
        0, "released 2 assignment(s).\npaper Q: 2 variant(s) ready, in the exchange.\n")
    assert run(cd, "sitting", "create", "Q", *SITTING) == (
        1, "Error: paper Q is in the exchange (Q-c, Q-d), where learners can fetch it at any time: a sitting needs a "
           "paper no learner has seen; create a new paper (`course paper create`) for the sitting\n")


def _answer_text(q: m.Question, right: bool) -> str:
    if isinstance(q, m.TrueFalse):
        return "对" if q.answer == right else "错"
    assert isinstance(q, m.SingleChoice), q.type
    return q.answer if right else next(k for k in q.options if k != q.answer)


def test_answers_sat_on_paper_become_the_learners_variant_submissions(cd: CourseDir) -> None:
    """c answers every theory item right, d one item wrong; are they filed under Q-c and Q-d, refused a second
    time unless replaced, and graded by a bare `course autograde` (20 and 0 of 20 theory points)?"""
    course = cd.course
    c, d = variant(cd, "Q", "c"), variant(cd, "Q", "d")
    rows = [("c", q, _answer_text(course.by_id[q], True)) for q in c["theory"]]
    rows.append(("d", d["theory"][0], _answer_text(course.by_id[d["theory"][0]], False)))
    csv = cd.root / "q.csv"
    csv.write_text("student_id,question_id,answer\n" + "".join(f"{s},{q},{a}\n" for s, q, a in rows),
                   encoding="utf-8")
    assert run(cd, "import-answers", str(csv), "--paper", "Q", "--date", "2026-12-10") == (
        0, "created 2 submission(s) of paper Q; run `course autograde Q` to grade them.\n")
    saved = json.loads((cd.root / "submitted" / "c" / "Q-c" / "Q-c.answers.json").read_text(encoding="utf-8"))
    assert saved["answers"] == {q: course.by_id[q].answer for q in c["theory"]}
    assert saved["notebook"] == "Q-c" and saved["learner"] == "c"
    noon = dt.datetime(2026, 12, 10, 12).astimezone().astimezone(dt.UTC)  # noon of --date, this machine's zone
    assert (cd.root / "submitted" / "d" / "Q-d" / "timestamp.txt").read_text() == (
        f"{noon:%Y-%m-%d %H:%M:%S}.000000 UTC")
    assert run(cd, "import-answers", str(csv), "--paper", "Q", "--date", "2026-12-10") == (
        1, f"Error: {csv}: c, d already have a submission of paper Q: nothing imported; remove their rows, or give "
           "--replace to put these answers in place of their submission\n")
    assert run(cd, "import-answers", str(csv), "--paper", "Q", "--date", "2026-12-10", "--replace")[0] == 0

    code, out = run(cd, "autograde", "--no-progress", "-j", "1")
    assert code == 0, out
    assert out.startswith("graded 2 submission(s); failed 0; ")
    from nbgrader.api import Gradebook

    from course.nbconfig import db_url

    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        scores = {lr: gb.find_submission(f"Q-{lr}", lr).score for lr in ("c", "d")}
    assert scores == {"c": 20.0, "d": 0.0}


def test_a_question_not_on_the_learners_variant_is_refused_with_its_row(cd: CourseDir) -> None:
    c, d = variant(cd, "Q", "c"), variant(cd, "Q", "d")
    other = next(q for q in d["theory"] if q not in c["theory"])
    csv = cd.root / "bad.csv"
    csv.write_text(f"student_id,question_id,answer\nc,{other},A\n", encoding="utf-8")
    code, out = run(cd, "import-answers", str(csv), "--paper", "Q", "--replace")
    assert (code, out) == (1, f"Error: {csv}: row 2, column question_id: {other} is not on c's paper (Q-c): "
                              "use a question id of that variant\n")


def test_answers_on_paper_for_a_learner_who_sat_the_sitting_are_refused(cd: CourseDir) -> None:
    """a started sitting P-1 (the service recorded it): would an import silently replace her sitting's answers?"""
    from course.nbconfig import course_config, db_url
    from course.sittings import records
    from course.sittings.store import open_url

    engine = open_url(db_url(cd.root), str(course_config(cd.root).CourseDirectory.course_id))
    with engine.begin() as conn:
        records.start(conn, "P-1", "a", 1, dt.datetime(2026, 12, 10, 1, 40, tzinfo=dt.UTC))
    first = variant(cd, "P", "a")["theory"][0]
    csv = cd.root / "p.csv"
    csv.write_text(f"student_id,question_id,answer\na,{first},{_answer_text(cd.course.by_id[first], True)}\n",
                   encoding="utf-8")
    assert run(cd, "import-answers", str(csv), "--paper", "P") == (
        1, f"Error: {csv}: a sat paper P in a sitting (their answers are the sittings service's record): nothing "
           "imported; remove their rows, or give --replace to put these answers in place of their submission\n")
    assert not (cd.root / "submitted" / "a").exists()


def test_feedback_of_a_paper_is_refused_with_the_reason(cd: CourseDir) -> None:
    assert run(cd, "feedback", "Q") == (
        1, "Error: Q: exam papers get no item feedback (it would show the keys of items other learners may still be "
           "given); learners receive their 成绩通知单 from `course certify results`\n")


def test_an_unknown_id_lists_the_chapters_and_the_papers(cd: CourseDir) -> None:
    assert run(cd, "collect", "L4-zz") == (
        1, "Error: unknown chapter(s) or paper(s) L4-zz: use chapter ids from syllabus.yaml (ch01); papers: P, Q\n")


def test_a_bare_collect_with_nothing_submitted_says_it_collected_nothing(tmp_path: Path) -> None:
    """ch01 released, nobody submitted: does a bare `course collect` report 0 (it said "collected 3")?"""
    course = make_course_dir(tmp_path / "course")
    for step in ("generate", "release"):
        assert run(course, step, "ch01", content=MINI)[0] == 0
    code, out = run(course, "collect", content=MINI)
    assert (code, out) == (0, f"collected 0 new or updated submission(s) of {len(course.course.chapters)} "
                              "assignment(s).\n")


def test_the_paper_tells_a_learner_how_the_sitting_is_timed_and_handed_in(cd: CourseDir) -> None:
    """Does the paper's 作答说明 say when time starts, where 剩余时间 shows, and to finish with 交卷 (not 提交)?"""
    notebook = json.loads((cd.root / "source" / "P-a" / "P-a.ipynb").read_text(encoding="utf-8"))
    header = "".join(notebook["cells"][0]["source"]).splitlines()
    assert header[-6:] == [
        "1. 请先点击菜单 **运行 → 运行所有单元格**，题目控件随即出现。",
        "2. 直接在控件中作答，**答案会自动保存**，并随即送达考试服务。",
        "3. 每位考生的试卷题目不同，但各知识领域和各题型的分值完全相同，难度经过平衡。",
        "4. **考试计时**：从你在 **课程作业** 页面点击 **开始考试** 时开始，题目上方显示 **剩余时间**；"
        "以考试服务收到答案的时间为准。时间到后控件停止作答，之后的作答不再计分。"
        "网络中断或内核重启后，重新 **运行所有单元格** 即可继续，剩余时间照常计算。",
        "5. 完成后点击 **检查作答情况**，然后回到 **课程作业** 页面（菜单 **作业 → 课程作业**）点击 **交卷**；"
        "也可以等待时间结束。交卷后不能再作答。",
        "6. 讲师安排的不计时练习卷没有 **交卷**：完成后在 **课程作业** 页面点击 **提交**。",
    ]


def test_each_learner_reads_their_own_sitting_number_at_the_level(cd: CourseDir) -> None:
    """a sits L4 papers P, R, S (S with b, who sat P), c an L1 paper after her L4 one: is S a's 3rd and b's 2nd L4
    sitting, and c's L1 paper her 1st (a paper of another level is no re-sit), in the manifest and the names?"""
    from course.certification.manifest import manifests
    from course.certification.outputs import learner_paper_names, paper_names

    for args in (["L4", "--paper", "R", "--learner", "a"], ["L4", "--paper", "S", "--learner", "a", "--learner", "b"],
                 ["L1", "--paper", "T", "--learner", "c"]):
        code, out = run(cd, "paper", "create", *args)
        assert code == 0, out
    found = {d["paper"]: d for d in manifests(cd.root)}
    assert {p: (d["sitting"], {x: v["sitting"] for x, v in d["variants"].items()}) for p, d in found.items()
            if p in ("R", "S", "T")} == {"R": (2, {"a": 2}), "S": (3, {"a": 3, "b": 2}), "T": (1, {"c": 1})}
    # drawn without --resit (this fixture's bank holds one paper's worth of items): no 补考 in the names
    assert learner_paper_names(cd.course, list(found.values()))["S", "a"] == "四级认证考试"
    # as re-sits (the flag --resit records), each learner reads their own number
    resits = [{**d, "resit": d["paper"] in ("R", "S")} for d in found.values()]
    by_learner = learner_paper_names(cd.course, resits)
    assert (by_learner["S", "a"], by_learner["S", "b"], by_learner["T", "c"], by_learner["P", "a"]) == (
        "四级补考（第 3 次考试）", "四级补考（第 2 次考试）", "一级（资深）认证考试", "四级认证考试")
    assert paper_names(cd.course, resits)["S"] == "四级补考（第 3 次考试）"
