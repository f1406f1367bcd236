"""The answers file a notebook saves beside itself: ``<notebook>.answers.json`` — standard library only.

The widgets (:mod:`course_runtime.quiz`) write it; the grader reads it. Kept apart from the widgets so
a process that only reads or writes answers files (the grader, a simulation) does not import
ipywidgets and IPython.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

ANSWERS_FORMAT = "kam-answers/1"


def read_answers(path: Path) -> dict[str, Any]:
    """The saved answers; raise ValueError if the file is not a valid answers file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != ANSWERS_FORMAT or not isinstance(data.get("answers"), dict):
        raise ValueError(f"not a {ANSWERS_FORMAT} file")
    return data["answers"]


def write_answers(path: Path, notebook: str, learner: str, answers: dict[str, Any]) -> None:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    payload = {
        "format": ANSWERS_FORMAT,
        "notebook": notebook,
        "learner": learner,
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "answers": answers,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
