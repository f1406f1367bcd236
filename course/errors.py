"""Every error the product raises on bad input.

Each error names the file, the place and the fix; the CLI turns them into
``Error: ...`` lines and a non-zero exit status.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file, with its location."""

    file: str
    line: int
    subject: str
    message: str

    def __str__(self) -> str:
        subject = f"{self.subject}: " if self.subject else ""
        return f"{self.file}:{self.line}: {subject}{self.message}"


class CourseError(Exception):
    """Base class of the errors a user can act on."""


class ContentError(CourseError):
    """The course content has one or more problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SubmissionError(CourseError):
    """A learner's submission cannot be read (corrupt or tampered answers file).

    ``for_learner`` says why in Chinese, for the learner's feedback (no file names, no English).
    """

    def __init__(self, path: Path | str, message: str, for_learner: str = "") -> None:
        self.path = str(path)
        self.for_learner = for_learner
        super().__init__(f"{path}: {message}")


class InputFileError(CourseError):
    """A CSV the user supplied (roster, answers) is malformed."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


class WorkflowError(CourseError):
    """An instructor step cannot run in the current state of the course folder."""


class ContentFolderMissing(CourseError):
    """The content folder named by ``--content`` or ``$COURSE_CONTENT`` does not exist."""

    def __init__(self, path: Path | str, origin: str) -> None:
        self.path = str(path)
        fix = ("set COURSE_CONTENT to a course content folder, or unset it to use the content shipped in the package"
               if origin == "$COURSE_CONTENT" else "give --content a course content folder (one with course.yaml)")
        super().__init__(f"content folder {path} (from {origin}) does not exist: {fix}")
