"""Is every command documented, and does the CLI turn errors into `Error:` lines?"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from course.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)  # type: ignore[union-attr]


def test_commands_are_the_expected_set() -> None:
    assert set(COMMANDS) == {"validate", "build", "generate", "release", "collect", "autograde", "feedback",
                             "import-answers", "simulate", "hand-grade", "report", "demo", "hub"}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme_reference(command: str) -> None:
    assert re.search(rf"\| `course {command}` \|", README)


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    line = next(ln for ln in ci.splitlines() if "pytest" in ln)
    assert line in README


def test_unknown_chapter_is_an_error_with_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", "zz99", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "Error: unknown chapter(s) zz99: use ids from syllabus.yaml" in result.output


def test_generate_refuses_an_answers_file_in_source(tmp_path: Path) -> None:
    """An answers file in source/ would overwrite every learner's answers at autograde."""
    from tests.conftest import MINI, make_course_dir

    cd = make_course_dir(tmp_path / "course")
    (cd.root / "source" / "ch01" / "ch01.answers.json").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", "--content", str(MINI), "--root", str(cd.root)])
    assert result.exit_code == 1
    assert "must not be in source/: delete it (it would overwrite learners' answers)" in result.output


# ---------------------------------------------------------------- a message and an exit status per user error
def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception  # no traceback
    return result.exit_code, result.output


def test_every_option_has_help_and_no_type_placeholder_for_flags() -> None:
    import typer.main

    group: Any = typer.main.get_command(app)
    for name, command in group.commands.items():
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"course {name} {param.opts[0]} has no help"
        text = CliRunner().invoke(app, [name, "--help"]).output
        assert "<bool>" not in text and "--student <list" not in text, text


def test_report_before_any_grading_says_so_and_creates_nothing(tmp_path: Path) -> None:
    """Does `course report` on a course with no grades exit 1 with one line, no SQL, no folders, no gradebook?"""
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    code, out = _run("report", "--root", str(root), "--content", str(MINI))
    assert (code, out) == (1, f"Error: no grades yet in the gradebook of {root}: nothing to report; "
                              "run `course autograde` first, then `course report`\n")
    assert not (root / "reports").exists() and not (root / "gradebook").exists()


def test_report_with_a_missing_roster_file_names_it(tmp_path: Path) -> None:
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    code, out = _run("report", "--root", str(root), "--content", str(MINI), "--roster", "nowhere.csv")
    assert (code, out) == (1, "Error: roster file nowhere.csv does not exist: give --roster the path of the roster "
                              "CSV (columns learner_id,name,region,department,target_level), or leave --roster out\n")


def test_course_content_pointing_at_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-content"
    code, out = _run("validate", env={"COURSE_CONTENT": str(missing)})
    assert (code, out) == (1, f"Error: content folder {missing} (from $COURSE_CONTENT) does not exist: set "
                              "COURSE_CONTENT to a course content folder, or unset it to use the content shipped "
                              "in the package\n")
    code, out = _run("validate", "--content", str(missing))
    assert (code, out) == (1, f"Error: content folder {missing} (from --content) does not exist: give --content "
                              "a course content folder (one with course.yaml)\n")


def test_autograde_with_no_submissions_says_to_collect(tmp_path: Path) -> None:
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    code, out = _run("autograde", "--root", str(root), "--content", str(MINI))
    assert (code, out) == (1, f"Error: nothing to grade: {root / 'submitted'} holds no submissions of any chapter; "
                              "run `course collect` first (learners submit in the Assignments tab)\n")
    code, out = _run("autograde", "ch01", "--root", str(root), "--content", str(MINI))
    assert code == 1 and "holds no submissions of ch01;" in out


def test_autograde_for_an_unknown_learner_lists_who_submitted(tmp_path: Path) -> None:
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    for learner in ("li.si", "zhang.san"):
        (root / "submitted" / learner / "ch01").mkdir(parents=True)
    code, out = _run("autograde", "--root", str(root), "--content", str(MINI), "--student", "nobody")
    assert (code, out) == (1, f"Error: no submissions of any chapter from nobody in {root / 'submitted'}: check the "
                              "learner id (learners with submissions: li.si, zhang.san)\n")


@pytest.mark.parametrize("command", ["autograde", "generate", "release", "collect", "feedback", "report",
                                     "hand-grade", "simulate"])
def test_a_folder_without_nbgrader_config_is_not_a_course_folder(tmp_path: Path, command: str) -> None:
    from tests.conftest import MINI

    code, out = _run(command, "--root", str(tmp_path), "--content", str(MINI))
    assert (code, out) == (1, f"Error: {tmp_path} is not a course folder (it has no nbgrader_config.py): run the "
                              "command in the course folder, or pass --root <course folder>\n")


@pytest.mark.parametrize(("args", "option"), [(["autograde", "-j", "0"], "'--workers' / '-j'"),
                                              (["simulate", "-n", "0"], "'--learners' / '-n'"),
                                              (["demo", "-n", "0"], "'--learners' / '-n'")])
def test_zero_workers_or_learners_are_refused(args: list[str], option: str) -> None:
    code, out = _run(*args)
    assert code == 2
    assert out.rstrip().endswith(f"Error: Invalid value for {option}: Input should be greater than or equal to 1")


def test_feedback_before_grading_says_to_autograde(tmp_path: Path) -> None:
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    code, out = _run("feedback", "--root", str(root), "--content", str(MINI))
    assert (code, out) == (1, "Error: no graded submissions of any chapter: run `course autograde` first\n")


def test_validate_tables_align_by_display_width() -> None:
    import pandas as pd

    from course.summary import format_table, width

    table = pd.DataFrame({"章": ["通信行业概况", "品牌"], "题数": [18, 7]}, index=["jc01", "jc03"])
    lines = format_table(table, "章编号").splitlines()
    assert lines == ["章编号  章            题数",
                     "jc01    通信行业概况    18",
                     "jc03    品牌             7"]
    assert len({width(line) for line in lines}) == 1


def test_collect_before_any_release_says_to_release(tmp_path: Path) -> None:
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    code, out = _run("collect", "--root", str(root), "--content", str(MINI))
    inbound = root / "exchange" / "kam-cert" / "inbound"
    assert (code, out) == (1, f"Error: nothing to collect: {inbound} does not exist, so no learner has submitted "
                              "yet; run `course release` first and let learners submit in the Assignments tab\n")


def test_import_answers_with_a_missing_file_names_it(tmp_path: Path) -> None:
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    code, out = _run("import-answers", "paper.csv", "--root", str(root), "--content", str(MINI))
    assert (code, out) == (1, "Error: answers file paper.csv does not exist: give the path of a CSV with columns "
                              "student_id,question_id,answer\n")


def test_hand_grade_before_any_grading_says_to_autograde(tmp_path: Path) -> None:
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    code, out = _run("hand-grade", "--root", str(root), "--content", str(MINI))
    assert (code, out) == (1, f"Error: no grades yet in the gradebook of {root}: nothing to hand-grade; "
                              "run `course autograde` first\n")
    assert not (root / "gradebook").exists()


def test_certify_results_without_a_roster_says_so_and_records_nothing(tmp_path: Path) -> None:
    """Is a missing roster named before a round is opened, and no gradebook created for it?"""
    from tests.conftest import MINI, make_course_dir

    root = make_course_dir(tmp_path / "course").root
    for args in (["results"], ["appeal", "li", "--reason", "申请复核"]):
        code, out = _run("certify", *args, "--round", "2026A", "--root", str(root), "--content", str(MINI))
        assert (code, out) == (1, f"Error: {root / 'roster.csv'} does not exist: give the roster (learner_id,name,"
                                  "region,department,target_level) with --roster\n")
    assert not (root / "gradebook" / "gradebook.db").exists()


def test_a_sitting_of_a_paper_that_does_not_exist_is_refused_before_a_gradebook_is_opened(tmp_path: Path) -> None:
    from tests.conftest import make_course_dir

    root = make_course_dir(tmp_path / "course").root
    code, out = _run("sitting", "create", "L4-none", "--opens", "2026-12-10 09:00", "--closes", "2026-12-10 12:00",
                     "--minutes", "90", "--root", str(root))
    assert (code, out) == (1, f"Error: {root / 'papers' / 'L4-none.json'} does not exist: create the paper first "
                              "(`course paper create LEVEL --paper L4-none`)\n")
    assert not (root / "gradebook" / "gradebook.db").exists()


def test_a_rating_notebook_needs_a_roster_that_exists(tmp_path: Path) -> None:
    code, out = _run("certify", "rating-notebook", "--roster", str(tmp_path / "nowhere.csv"), "--out",
                     str(tmp_path / "ratings.ipynb"), "--root", str(tmp_path))
    assert (code, out) == (1, f"Error: roster file {tmp_path / 'nowhere.csv'} does not exist: give --roster the path "
                              "of the roster CSV (columns learner_id,name,region,department,target_level) of the "
                              "learners to rate\n")
    assert not (tmp_path / "ratings.ipynb").exists()


@pytest.mark.parametrize(("args", "bound"), [(["certificate", "serve", "--port", "0"], "greater than or equal to 1"),
                                             (["sitting", "serve", "--port", "70000"], "less than or equal to 65535"),
                                             (["hub", "--port", "65531"], "less than or equal to 65530")])
def test_a_port_outside_the_range_is_refused(args: list[str], bound: str) -> None:
    code, out = _run(*args)
    assert code == 2
    assert out.rstrip().endswith(f"Error: Invalid value for '--port': Input should be {bound}")
