"""Submissions an instructor's tool writes itself, as nbgrader's collect leaves them in ``submitted/``.

For answers the learner's own files do not carry: a timed sitting's answers as the sittings service
recorded them, and a paper exam's answers typed in from paper. The folder holds the released
notebook, the answers file and ``timestamp.txt``; ``course autograde`` grades it like any other.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from course_runtime.quiz import write_answers

from course.errors import WorkflowError

NBGRADER_TIME = "%Y-%m-%d %H:%M:%S.%f UTC"  # nbgrader's timestamp.txt


def write_submission(root: Path, learner: str, assignment: str, answers: dict[str, Any],
                     submitted_at: dt.datetime) -> Path:
    """``submitted/<learner>/<assignment>/``, written whole or not at all (a later write replaces it)."""
    released = root / "release" / assignment / f"{assignment}.ipynb"
    if not released.is_file():
        raise WorkflowError(f"{released} does not exist: run `course generate {assignment}`")
    target = root / "submitted" / learner / assignment
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{assignment}-", dir=target.parent))
    shutil.copyfile(released, staging / released.name)
    write_answers(staging / f"{assignment}.answers.json", assignment, learner, answers)
    (staging / "timestamp.txt").write_text(submitted_at.astimezone(dt.UTC).strftime(NBGRADER_TIME), encoding="utf-8")
    if target.exists():
        old = target.with_name(f".{target.name}-replaced")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old)
    else:
        os.rename(staging, target)
    return target
