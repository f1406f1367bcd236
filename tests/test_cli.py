"""Is every command documented, and does the CLI turn errors into `Error:` lines?"""

from __future__ import annotations

import re
from pathlib import Path

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
