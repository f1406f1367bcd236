"""Owners and modes of the course folder and the exchange on a multi-user hub (run as root).

=========================== ============= ======= ==========================================
path                        owner:group   mode    why
=========================== ============= ======= ==========================================
``<exchange>``              root:root     0755    not world-writable (nbgrader #1225)
``<exchange>/<course>``     root:learners 0750    course members only
``.../outbound``            root:instr.   2775    instructors release, members fetch
``.../inbound``             root:instr.   3753    learners may create, not list (#978); the
                                                  sticky bit stops renames and deletes of
                                                  others' folders; setgid hands each
                                                  submission to the instructors' group
``.../feedback``            root:instr.   2771    instructors write; learners reach only the
                                                  file whose secret name they hold
``<course folder>``         instr.:instr. 2770    gradebook, ``source/``, keys: instructors only
content (questions, keys)   root:instr.   0750    the YAML with the answer keys
=========================== ============= ======= ==========================================
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from course.hub.accounts import CourseGroups

EXCHANGE_ROOT_MODE = 0o755
COURSE_MODE = 0o750
OUTBOUND_MODE = 0o2775
INBOUND_MODE = 0o3753
FEEDBACK_MODE = 0o2771
COURSE_FOLDER_MODE = 0o2770
CONTENT_MODE = 0o750


@dataclass(frozen=True)
class Layout:
    root: Path          # the course folder (nbgrader_config.py, source/, gradebook/)
    exchange: Path | None  # nbgrader's Exchange.root; None with the ngshare service (no exchange folder)
    content: Path       # the content folder holding the answer keys
    groups: CourseGroups
    owner: str          # the instructor account owning the course folder

    @property
    def course_exchange(self) -> Path:
        if self.exchange is None:
            raise ValueError("the ngshare exchange has no exchange folder")
        return self.exchange / self.groups.course_id


def _set(path: Path, uid: int, gid: int, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def _own_tree(top: Path, uid: int, gid: int, dir_mode: int, file_mode: int) -> None:
    for dirpath, dirnames, filenames in os.walk(top):
        os.chown(dirpath, uid, gid)
        os.chmod(dirpath, dir_mode)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chown(path, uid, gid)
                os.chmod(path, file_mode)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]


def prepare(layout: Layout) -> None:
    """Give every path of the table above its owner and mode (idempotent); no exchange rows with ngshare."""
    instructors = grp.getgrnam(layout.groups.instructors).gr_gid
    learners = grp.getgrnam(layout.groups.learners).gr_gid
    owner = pwd.getpwnam(layout.owner).pw_uid
    if layout.exchange is not None:
        _set(layout.exchange, 0, 0, EXCHANGE_ROOT_MODE)
        _set(layout.course_exchange, 0, learners, COURSE_MODE)
        _set(layout.course_exchange / "outbound", 0, instructors, OUTBOUND_MODE)
        _set(layout.course_exchange / "inbound", 0, instructors, INBOUND_MODE)
        _set(layout.course_exchange / "feedback", 0, instructors, FEEDBACK_MODE)
    _own_tree(layout.root, owner, instructors, COURSE_FOLDER_MODE, 0o660)
    _own_tree(layout.content, 0, instructors, CONTENT_MODE, 0o640)
