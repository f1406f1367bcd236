"""nbgrader's own file exchange, closed: the steps a hub course configures in place of the defaults.

The protection comes from the operating system, not from these classes: a learner's server runs
as the learner's own account (JupyterHub's LocalProcessSpawner), the folders have the owners and
modes :mod:`course.hub.layout` gives them, and the kernel records who wrote a file (``st_uid``)
and when its inode last changed (``st_ctime``), which no unprivileged account can set.

- :class:`~course_runtime.exchange.HubSubmit` runs in the learner's server (the keyless runtime
  package). It takes the learner's id from the hub (``JUPYTERHUB_USER``) and refuses
  ``--student``; it leaves the submission readable by the instructors' group only and read-only.
  A learner can bypass it (their server is theirs), so nothing relies on it for safety: it gives
  honest learners the right modes and a clear message.
- :class:`VerifiedCollect` runs as the instructor and is the check that counts: a submission is
  collected only if its folder was written by the account it names, and nothing in it changed
  after the time in its name. Rejected submissions are logged with the reason and skipped; the
  learner's latest valid submission, if any, is collected instead.
- :class:`~course_runtime.exchange.HubFetchFeedback` takes the learner's id from the hub too.

Without a hub (nbgrader's default exchange on one machine, where learners may share an account),
:class:`CheckedCollect` applies the same verdict without the account checks: a hard-linked file
or a ``timestamp.txt`` that disagrees with the kernel's times is refused with its reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.utils import parse_utc

# Seconds between the time nbgrader writes in a submission's name and the last write of its copy.
COPY_SECONDS = 60.0
REJECTED_LOG = "collect-rejected.log"  # in the course folder, one line per rejected submission


@dataclass(frozen=True)
class Entry:
    """What the kernel says about one path of a submission."""

    path: str
    owner: str
    ctime: float
    is_link: bool
    links: int = 1  # names of a regular file (st_nlink): more than one is a hard link to another file


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def scan(folder: Path) -> list[Entry]:
    """The folder and everything in it, without following links."""
    paths = [folder, *sorted(folder.rglob("*"))]
    entries = []
    for p in paths:
        st = p.lstat()
        links = st.st_nlink if stat.S_ISREG(st.st_mode) else 1
        entries.append(Entry(str(p), _owner(st.st_uid), st.st_ctime, stat.S_ISLNK(st.st_mode), links))
    return entries


def submission_problem(name: str, entries: list[Entry], stamp_text: str | None, *,
                       by_account: bool = True) -> str | None:
    """Why the submission folder ``name`` cannot be trusted, or None. Pure: facts in, verdict out.

    ``by_account``: each learner is an account of their own (the hub), so every file must be
    written by the account the folder's name claims; without it those checks are skipped.
    """
    parts = name.rsplit("+", 3)
    if len(parts) < 3:
        return f"its name {name!r} is not <learner>+<chapter>+<time>[+<random>]"
    student, stamp = parts[0], parts[2]
    try:
        submitted = parse_utc(stamp).timestamp()
    except (ValueError, OverflowError):
        return f"the time {stamp!r} in its name cannot be read"
    folder = entries[0]
    if by_account and folder.owner != student:
        return f"it claims to be from {student} but was written by {folder.owner}"
    foreign = [e for e in entries if e.owner != student]
    if by_account and foreign:
        return f"{foreign[0].path} was written by {foreign[0].owner}, not by {student}"
    links = [e for e in entries if e.is_link]
    if links:
        return f"{links[0].path} is a symbolic link"
    linked = [e for e in entries if e.links > 1]
    if linked:  # submit copies every file: a second name means another file (a peer's) was linked in
        return f"{linked[0].path} is a hard link to another file ({linked[0].links} names)"
    if stamp_text is None or stamp_text.strip() != stamp:
        return f"timestamp.txt does not hold the time in its name ({stamp})"
    # Submit ends by setting the modes of the files, then of the folder: of a submission left as
    # submitted, the folder's inode changed last. A later write to a file changes only that file's.
    changed = [e for e in entries[1:] if e.ctime > folder.ctime]
    if changed:
        return f"{changed[0].path} was changed after it was submitted"
    if folder.ctime > submitted + COPY_SECONDS:
        return f"it was changed after it was submitted at {stamp}"
    if folder.ctime < submitted - COPY_SECONDS:
        return f"the time in its name ({stamp}) is later than the submission was written"
    return None


def check_submission(folder: Path, by_account: bool = True) -> str | None:
    top = folder.lstat()
    head = Entry(str(folder), _owner(top.st_uid), top.st_ctime, stat.S_ISLNK(top.st_mode))
    early = submission_problem(folder.name, [head], None, by_account=by_account)
    if early and not early.startswith("timestamp.txt"):  # a name or owner problem: do not read further
        return early
    try:
        stamp = folder / "timestamp.txt"
        text = stamp.read_text(encoding="utf-8") if stamp.is_file() and not stamp.is_symlink() else None
        return submission_problem(folder.name, scan(folder), text, by_account=by_account)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror}: {exc.filename})"


def rejection_message(folder: Path, problem: str) -> str:
    return (f"Rejected submission {folder}: {problem}. It was not collected; the learner's latest "
            f"valid submission is used if there is one. Ask the learner to submit again from the "
            f"Assignments tab.")


class VerifiedCollect(ExchangeCollect):
    """nbgrader's collect, taking only submissions the kernel's records vouch for."""

    by_account = True  # see submission_problem

    def _reject(self, message: str) -> None:
        self.log.error(message)
        log = Path(self.coursedir.root) / REJECTED_LOG
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{datetime.now().astimezone().isoformat(timespec='seconds')}\t{message}\n")

    def init_src(self) -> None:
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        records = []
        for path in sorted(glob.glob(pattern)):
            problem = check_submission(Path(path), self.by_account)
            if problem:
                self._reject(rejection_message(Path(path), problem))
                continue
            records.append(self._path_to_record(path))
        usergroups = groupby(records, lambda item: item["username"])
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records = []
        for group in usergroups.values():
            ordered = self._sort_by_timestamp(group)
            on_time = [r for r in ordered if self.duedate is not None and r["timestamp"] <= self.duedate]
            self.src_records.append(on_time[0] if (self.before_duedate and on_time) else ordered[0])


class CheckedCollect(VerifiedCollect):
    """nbgrader's default exchange (no hub): the same verdict, less the account checks (learners may share one).

    A hard-linked file (another learner's answers under this learner's name) and a ``timestamp.txt``
    rewritten after submitting (to dodge the late penalty) are refused with their reason.
    """

    by_account = False
