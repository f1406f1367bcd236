"""After a sitting: each learner's counted answers become an nbgrader submission; who ran over is reported.

The submission is written by the instructor's command from the sittings service's records — the
answers each learner saved by the end of their time, as the service received them — never from a
file the learner could edit. ``course autograde`` then grades it like any other submission.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from course.certification.manifest import manifest_path, read_manifest
from course.errors import WorkflowError
from course.instructor import submissions
from course.sittings import records
from course.sittings.clock import Sitting, Tally, china, tally


@dataclass(frozen=True)
class Outcome:
    learner: str
    assignment: str
    attempt: int
    started: dt.datetime | None
    end: dt.datetime | None
    tally: Tally | None  # None: never started (缺考)
    running: bool = False  # their time has not ended yet: nothing to collect

    @property
    def state(self) -> str:
        if self.tally is None:
            return "缺考"
        if self.running:
            return "作答中"
        return "超时作答" if self.tally.late else "按时"


def outcomes(conn: sa.Connection, root: Path, sitting: Sitting, now: dt.datetime) -> list[Outcome]:
    """Every admitted learner's counted attempt, its end and its tally at ``now``."""
    manifest = manifest_path(root, sitting.paper)
    if not manifest.is_file():
        raise WorkflowError(f"{manifest} does not exist: the sitting's paper {sitting.paper} was never created "
                            f"(`course paper create`)")
    variants = read_manifest(manifest)["variants"]
    found = []
    for learner in sitting.learners:
        assignment = variants.get(learner, {}).get("assignment", f"{sitting.paper}-{learner}")
        attempt = records.attempt(conn, sitting.sitting, learner, counted=True)
        end = attempt.end(sitting, learner)
        if attempt.started is None or end is None:
            found.append(Outcome(learner, assignment, attempt.number, None, None, None))
            continue
        rows = records.answer_rows(conn, sitting.sitting, learner, attempt.number)
        found.append(Outcome(learner, assignment, attempt.number, attempt.started, end, tally(rows, end), end > now))
    return found


def write_submission(root: Path, outcome: Outcome) -> Path:
    """The learner's counted answers as their submission, stamped with the end of their time."""
    assert outcome.tally is not None and outcome.end is not None and not outcome.running
    return submissions.write_submission(root, outcome.learner, outcome.assignment, outcome.tally.counted, outcome.end)


def report_lines(sitting: Sitting, found: list[Outcome]) -> list[str]:
    """The instructor's table: who started when, whose time ended when, who ran over and by how much."""
    lines = [f"sitting {sitting.sitting} (paper {sitting.paper}, {sitting.minutes} min, "
             f"opens {china(sitting.opens)}, closes {china(sitting.closes)})"]
    for o in found:
        if o.tally is None or o.started is None or o.end is None:
            lines.append(f"  {o.learner}: 缺考 (never started)")
            continue
        if o.running:
            lines.append(f"  {o.learner}: attempt {o.attempt}, started {china(o.started)}, still running until "
                         f"{china(o.end)}, {len(o.tally.counted)} answer(s) so far: collected after the end")
            continue
        late = (f"; {o.tally.late} answer(s) after the end, up to {o.tally.overrun_seconds} s late: kept, not scored"
                if o.tally.late else "")
        lines.append(f"  {o.learner}: attempt {o.attempt}, started {china(o.started)}, ended {china(o.end)}, "
                     f"{len(o.tally.counted)} answer(s) counted{late}")
    return lines
