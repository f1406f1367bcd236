"""What every certification import shares: the learners it accepts, the copy of the file it keeps, its audit entry.

An import is checked whole first (:mod:`course.certification.csvfiles`); a file with any bad row
imports nothing. A good one is copied, byte for byte, to ``certification/imports/`` under a name
holding the time, the kind and the start of its SHA-256, and the import is written to the audit
trail with who, when, the file, its hash and what it added and changed, in one transaction with
the store it updates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course.certification import audit, store
from course.certification.csvfiles import Learners
from course.errors import WorkflowError
from course.loader import Course

KINDS = {"training": "培训记录", "applicants": "申报信息", "ratings": "能力素质评定"}


def records_dir(root: Path) -> Path:
    return root / "certification"


def learners(root: Path, course: Course, roster_csv: Path | None, allow_new: bool) -> Learners:
    """The learner ids an import may name: the roster's (``roster.csv`` of the course folder by default)."""
    roster = roster_csv or root / "roster.csv"
    if not roster.exists():
        if allow_new:
            return Learners(None, True, None)
        raise WorkflowError(f"no roster to check the learner ids against: {roster} does not exist; give --roster "
                            "roster.csv, or --allow-new to accept ids that are in no roster")
    from course.analytics.roster import read_roster  # pandas: once there is a roster to read

    return Learners({str(x) for x in read_roster(roster, course).index}, allow_new, roster)


def kept_copy(root: Path, path: Path, kind: str) -> tuple[Path, str]:
    """Copy the imported file into ``certification/imports/``; its path there and its SHA-256."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    target = records_dir(root) / "imports" / f"{stamp}-{kind}-{digest[:12]}{path.suffix.lower()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    return target, digest


def record_import(root: Path, path: Path, kind: str, write: Callable[[], None], summary: dict[str, Any],
                  changes: list[tuple[str, str, Any, Any]]) -> None:
    """In one transaction: ``write`` the store, keep a copy of the file, add the audit entries.

    ``summary`` holds the import's counts; ``changes`` one (learner, subject, before, after) per record
    the import replaced.
    """
    root = root.resolve()
    engine = store.open_course(root)
    with store.transaction(engine) as conn:
        copy, digest = kept_copy(root, path, kind)
        audit.record(conn, "import", f"{KINDS[kind]} {path.name}",
                     after={"文件": str(path), "SHA-256": digest, "副本": str(copy.relative_to(root)), **summary})
        for learner, subject, before, after in changes:
            audit.record(conn, "import", subject, learner=learner, before=before, after=after)
        write()  # last: if the store cannot be written, the audit entries roll back with it
