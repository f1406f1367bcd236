"""Imports an office can use, and that refuse bad records: every bad row named, nothing half-imported, all audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from course.certification import audit, eligibility, ratings, store
from course.certification.config import Certification
from course.certification.csvfiles import Learners
from course.cli import app
from course.errors import InputFileError
from course.loader import Course
from tests.conftest import CERT, with_register

CONTENT = CERT  # the module fixtures `course` and `cert` (tests/conftest.py) load it
TODAY = dt.date(2026, 12, 1)
ROSTER = "learner_id,name,region,department,target_level\na,张三,华东,政企客户部,L4\nb,李四,华南,行业拓展部,L1\n"
KNOWN = Learners({"a", "b"}, False, Path("roster.csv"))


@pytest.fixture(autouse=True)
def _register(tmp_path: Path, empty_register: Path) -> None:
    with_register(tmp_path, empty_register)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def imports(root: Path) -> list[dict[str, object]]:
    frame = audit.entries(store.open_course(root))
    return [{"subject": r.subject, "learner": r.learner, "before": json.loads(r.before) if r.before else None,
             "after": json.loads(r.after) if r.after else None} for r in frame.itertuples() if r.action == "import"]


# ---------------------------------------------------------------- refused
def test_a_row_given_twice_is_refused_so_hours_are_not_counted_twice(tmp_path: Path) -> None:
    """The issue's case: 23 + 0.5 h, with the 0.5-hour row twice, must not become 24 h (and a certificate)."""
    path = write(tmp_path / "t.csv", "learner_id,course,hours,date\na,面授一,23,2026-09-01\n"
                                     "a,面授二,0.5,2026-09-02\na,面授二,0.5,2026-09-02\n")
    with pytest.raises(InputFileError) as caught:
        eligibility.import_training(tmp_path, path, KNOWN, TODAY)
    assert caught.value.problems == [
        "row 4: a 面授二 2026-09-02 is the same as row 3: remove one of the rows; two sessions of one course on one "
        "day need different course names (e.g. 面授一（上午）)"]
    assert not eligibility.training_store(tmp_path).exists()


def test_a_row_imported_before_is_refused(tmp_path: Path) -> None:
    eligibility.import_training(tmp_path, write(tmp_path / "1.csv", "learner_id,course,hours,date\n"
                                                "a,面授一,6,2026-09-01\n"), KNOWN, TODAY)
    again = write(tmp_path / "2.csv", "learner_id,course,hours,date\n\nb,面授一,6,2026-09-01\na,面授一,6,2026/9/1\n")
    with pytest.raises(InputFileError) as caught:
        eligibility.import_training(tmp_path, again, KNOWN, TODAY)
    assert caught.value.problems == ["row 4: a 面授一 2026-09-01 is already imported: remove the row"]
    assert len(eligibility.read_training(eligibility.training_store(tmp_path))) == 1


UNKNOWN = "row 3, column learner_id: 'zz' is not in the roster (roster.csv): correct the id, add the learner to the " \
          "roster, or import with --allow-new"


@pytest.mark.parametrize(("kind", "text"), [
    ("training", "learner_id,course,hours,date\na,面授一,6,2026-09-01\nzz,面授一,6,2026-09-01\n"),
    ("applicants", "learner_id,years_in_post,held_level,education\na,1,,大专\nzz,1,,大专\n"),
    ("ratings", "learner_id,competency,level,rater\na,成就导向,初级,李经理\nzz,成就导向,初级,李经理\n"),
])
def test_a_learner_not_in_the_roster_is_refused_unless_allowed(tmp_path: Path, course: Course, cert: Certification,
                                                               kind: str, text: str) -> None:
    path = write(tmp_path / f"{kind}.csv", text)

    def run(who: Learners) -> object:
        if kind == "training":
            return eligibility.import_training(tmp_path, path, who, TODAY)
        if kind == "applicants":
            return eligibility.import_applicants(tmp_path, path, course, cert, who)
        return ratings.import_ratings(tmp_path, path, course, who)

    with pytest.raises(InputFileError) as caught:
        run(KNOWN)
    assert caught.value.problems == [UNKNOWN]
    run(Learners({"a", "b"}, True, Path("roster.csv")))
    assert imports(tmp_path)[0]["after"]["行数"] == 2  # type: ignore[index]


def test_implausible_values_are_refused_with_row_column_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "learner_id,course,hours,date\n"
                 "a,面授一,inf,2026-09-01\na,面授二,nan,2026-09-01\na,面授三,100000,2026-09-01\n"
                 "a,面授四,-1,2026-09-01\na,面授五,2,2026-12-02\na,面授六,2,2026-13-01\n,面授七,2,2026-09-01\n"
                 "a,,2,2026-09-01\n")
    with pytest.raises(InputFileError) as caught:
        eligibility.import_training(tmp_path, path, KNOWN, TODAY)
    assert caught.value.problems == [
        "row 2, column hours: 'inf' is not a finite number: write e.g. 4 or 2.5",
        "row 3, column hours: 'nan' is not a finite number: write e.g. 4 or 2.5",
        "row 4, column hours: 100000 is more than 1000 hours, which no record can hold: check the value",
        "row 5, column hours: -1 is below 0: write a number of at least 0",
        "row 6, column date: 2026-12-02 is in the future (today is 2026-12-01): check the date",
        "row 7, column date: '2026-13-01' is not a date: write e.g. 2026-09-01, 2026/9/1 or 2026年9月1日",
        "row 8, column learner_id: is empty: fill in the learner id",
        "row 9, column course: is empty: write the training course's name",
    ]
    assert str(caught.value).splitlines()[0] == f"{path}: row 2, column hours: 'inf' is not a finite number: write " \
                                                "e.g. 4 or 2.5"


def test_a_rating_without_a_rater_is_refused(tmp_path: Path, course: Course) -> None:
    path = write(tmp_path / "r.csv", "learner_id,competency,level,rater\na,成就导向,中级,\n"
                 "a,成就导向,初级,李经理\na,飞行能力,初级,李经理\n")
    with pytest.raises(InputFileError) as caught:
        ratings.import_ratings(tmp_path, path, course, KNOWN)
    assert caught.value.problems == [
        "row 2, column rater: is empty: write who rated (e.g. 李经理)",
        "row 3: the rating of a on 成就导向 is the same as row 2: keep one row",
        "row 4, column competency: '飞行能力' is not an item of the competency model: use an id or title from "
        "competencies.yaml (e.g. 成就导向)",
    ]


def test_applicants_with_a_bad_level_education_or_years_are_refused(tmp_path: Path, course: Course,
                                                                   cert: Certification) -> None:
    path = write(tmp_path / "app.csv", "learner_id,years_in_post,held_level,education\n"
                 "a,2,L9,大专\na,1,,本科\nb,70,,小学\nb,1,,\n")
    with pytest.raises(InputFileError) as caught:
        eligibility.import_applicants(tmp_path, path, course, cert, KNOWN)
    assert caught.value.problems == [
        "row 2, column held_level: 'L9' is not a level: use one of L4, L1, 四级, 一级（资深） or leave it empty",
        "row 3: learner 'a' is the same as row 2: keep one row per learner",
        "row 4, column years_in_post: 70 is more than 60 years, which no record can hold: check the value",
        "row 4, column education: '小学' is not a 文化程度 of certification.yaml: use one of 初中, 高中, 中专, 大专, "
        "同等学历, 本科",
        "row 5: learner 'b' is the same as row 4: keep one row per learner",
        "row 5, column education: is empty: write the highest 文化程度 (one of 初中, 高中, 中专, 大专, 同等学历, 本科)",
    ]
    assert not eligibility.applicant_store(tmp_path).exists()


# ---------------------------------------------------------------- accepted as offices write them
def test_gbk_csv_with_chinese_dates_imports_exact_hours(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "learner_id,course,hours,date\na,面授（一）,23.5,2026/9/1\n"
                 "a,面授（二）,0.5,2026年9月2日\nb,面授（一）,12,2026.9.3\n", encoding="gbk")
    done = eligibility.import_training(tmp_path, path, KNOWN, TODAY)
    assert (done.rows, done.added, done.total) == (3, 3, 3)
    stored = eligibility.read_training(eligibility.training_store(tmp_path))
    assert stored[["learner_id", "course", "hours", "date"]].values.tolist() == [
        ["a", "面授(一)", 23.5, "2026-09-01"], ["a", "面授(二)", 0.5, "2026-09-02"],
        ["b", "面授(一)", 12.0, "2026-09-03"]]
    assert eligibility.training_hours(stored).to_dict() == {"a": 24.0, "b": 12.0}


def test_an_xlsx_applicants_file_with_half_width_brackets_imports(tmp_path: Path, course: Course,
                                                                 cert: Certification) -> None:
    book = Workbook()
    for row in (["learner_id", "years_in_post", "held_level", "education"], ["a", 1, None, "大专"],
                ["b", 4.0, "一级(资深)", "同等学历"]):
        book.active.append(row)
    book.save(tmp_path / "app.xlsx")
    eligibility.import_applicants(tmp_path, tmp_path / "app.xlsx", course, cert, KNOWN)
    stored = eligibility.read_applicants(eligibility.applicant_store(tmp_path), course, cert)
    assert stored.to_dict("index") == {"a": {"years_in_post": 1.0, "held_level": "", "education": "大专", "row": 2},
                                       "b": {"years_in_post": 4.0, "held_level": "L1", "education": "同等学历",
                                             "row": 3}}


# ---------------------------------------------------------------- merged, kept and audited
def test_applicants_are_merged_by_learner_id_and_replaced_only_when_asked(tmp_path: Path, course: Course,
                                                                         cert: Certification) -> None:
    who = Learners({"a", "b", "c"}, False, Path("roster.csv"))
    header = "learner_id,years_in_post,held_level,education\n"
    eligibility.import_applicants(tmp_path, write(tmp_path / "1.csv", header + "a,1,,大专\nb,2,,本科\n"), course, cert,
                                  who)
    second = eligibility.import_applicants(tmp_path, write(tmp_path / "2.csv", header + "b,3,L4,本科\n"), course,
                                           cert, who)
    assert (second.rows, second.added, second.replaced, second.total) == (1, 0, 1, 2)
    stored = eligibility.read_applicants(eligibility.applicant_store(tmp_path), course, cert)
    assert stored[["years_in_post", "held_level"]].to_dict("index") == {
        "a": {"years_in_post": 1.0, "held_level": ""}, "b": {"years_in_post": 3.0, "held_level": "L4"}}
    third = eligibility.import_applicants(tmp_path, write(tmp_path / "3.csv", header + "c,5,,高中\n"), course, cert,
                                          who, replace=True)
    assert (third.added, third.replaced, third.total) == (1, 2, 1)
    assert list(eligibility.read_applicants(eligibility.applicant_store(tmp_path), course, cert).index) == ["c"]
    changes = [(e["subject"], e["before"], e["after"]) for e in imports(tmp_path) if e["learner"]]
    assert changes == [
        ("申报信息 b", {"years_in_post": 2.0, "held_level": "", "education": "本科"},
         {"years_in_post": 3.0, "held_level": "L4", "education": "本科"}),
        ("申报信息 a（--replace 删除）", {"years_in_post": 1.0, "held_level": "", "education": "大专"}, None),
        ("申报信息 b（--replace 删除）", {"years_in_post": 3.0, "held_level": "L4", "education": "本科"}, None),
    ]


def test_every_import_is_audited_with_its_file_hash_and_a_kept_copy(tmp_path: Path, course: Course) -> None:
    path = write(tmp_path / "t.csv", "learner_id,course,hours,date\na,面授一,6,2026-09-01\n", encoding="gbk")
    eligibility.import_training(tmp_path, path, KNOWN, TODAY)
    ratings.import_ratings(tmp_path, write(tmp_path / "r1.csv", "learner_id,competency,level,rater\n"
                                           "a,成就导向,初级,甲\n"), course, KNOWN)
    ratings.import_ratings(tmp_path, write(tmp_path / "r2.csv", "learner_id,competency,level,rater\n"
                                           "a,成就导向,高级,乙\n"), course, KNOWN)
    entries = imports(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    first = entries[0]["after"]
    assert entries[0]["subject"] == "培训记录 t.csv"
    assert first == {"文件": str(path), "SHA-256": digest, "副本": first["副本"], "行数": 1,  # type: ignore[index]
                     "新增": 1, "合计学时": 6.0}
    assert (tmp_path / first["副本"]).read_bytes() == path.read_bytes()  # type: ignore[index]
    assert [(e["subject"], e["before"], e["after"]) for e in entries[3:]] == [
        ("能力素质评定 a 成就导向", {"级别": "junior", "评定人": "甲"}, {"级别": "senior", "评定人": "乙"})]
    frame = audit.entries(store.open_course(tmp_path))
    assert frame["who"].nunique() == 1 and frame["at"].str.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]").all()


def test_the_cli_refuses_unknown_ids_and_says_how_many_were_merged(tmp_path: Path) -> None:
    write(tmp_path / "roster.csv", ROSTER)
    bad = write(tmp_path / "t.csv", "learner_id,course,hours,date\na,面授一,6,2026-09-01\nzz,面授一,6,2026-09-01\n")
    result = CliRunner().invoke(app, ["certify", "import-training", str(bad), "--content", str(CERT),
                                      "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"Error: {bad}: " + UNKNOWN.replace("(roster.csv)",
                                                                             f"({tmp_path / 'roster.csv'})")]
    app_csv = write(tmp_path / "a.csv", "learner_id,years_in_post,held_level,education\na,1,,大专\n")
    result = CliRunner().invoke(app, ["certify", "import-applicants", str(app_csv), "--content", str(CERT),
                                      "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output == f"imported {app_csv}: 1 applicant(s) added, 0 changed; 1 in " \
                            f"{tmp_path / 'certification' / 'applicants.csv'}.\n"


def test_without_a_roster_an_import_says_what_to_give(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "learner_id,course,hours,date\na,面授一,6,2026-09-01\n")
    result = CliRunner().invoke(app, ["certify", "import-training", str(path), "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == (f"Error: no roster to check the learner ids against: {tmp_path / 'roster.csv'} does not "
                             "exist; give --roster roster.csv, or --allow-new to accept ids that are in no roster\n")
