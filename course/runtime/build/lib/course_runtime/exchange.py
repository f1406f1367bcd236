"""The learner's side of the closed exchange: nbgrader's submit and fetch_feedback with the hub's identity.

These run in the learner's own server (their nbgrader_config.py, written by ``course hub``,
names them), so they live in the keyless runtime package. A learner can bypass them (their
server is theirs); nothing relies on them for safety. They give honest learners the right
modes and a clear message; the check that counts is the instructor's collect
(:class:`course.hub.exchange.VerifiedCollect`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nbgrader.exchange.default.fetch_feedback import ExchangeFetchFeedback
from nbgrader.exchange.default.submit import ExchangeSubmit

SUBMITTED_DIR_MODE = 0o550    # owner r-x, instructors' group r-x, others nothing
SUBMITTED_FILE_MODE = 0o444   # the folder is the gate: its group is the instructors' (setgid inbound)


def hub_user() -> str:
    """The learner's id, as the hub asserted it when it started this server."""
    user = os.environ.get("JUPYTERHUB_USER", "")
    if not user:
        raise RuntimeError("JUPYTERHUB_USER is not set: this server was not started by JupyterHub "
                           "(the closed exchange needs the hub's identity; see README, 'For administrators')")
    return user


def impersonation_message(me: str, claimed: str) -> str:
    return f"不能以他人身份操作：你登录的账号是 {me}，不能使用 --student {claimed}。请去掉 --student 后重试。"


def _own_id(claimed: str) -> str:
    me = hub_user()
    if claimed not in ("*", "", me):
        raise ValueError(impersonation_message(me, claimed))
    return me


class HubSubmit(ExchangeSubmit):
    """nbgrader's submit with the hub's identity and a submission closed to peers."""

    def init_dest(self) -> None:
        try:
            self.coursedir.student_id = _own_id(self.coursedir.student_id)
        except ValueError as exc:
            self.fail(str(exc))
        super().init_dest()

    def copy_files(self) -> None:
        super().copy_files()
        dest = Path(self.inbound_path) / self.assignment_filename
        # nbgrader leaves the folder 0777 "so the instructor can delete later"; the sticky,
        # setgid inbound makes that unnecessary and 0777 would let anyone who learns the name write.
        self.set_perms(str(dest), fileperms=SUBMITTED_FILE_MODE, dirperms=SUBMITTED_DIR_MODE)


class HubFetchFeedback(ExchangeFetchFeedback):
    """nbgrader's fetch_feedback with the hub's identity."""

    def init_src(self) -> None:
        try:
            self.coursedir.student_id = _own_id(self.coursedir.student_id)
        except ValueError as exc:
            self.fail(str(exc))
        super().init_src()


def configure_learner_exchange(c: Any) -> Any:
    """A learner's nbgrader settings for the closed exchange: the hub's identity, no world-writable root."""
    # groupshared: nbgrader must not chmod the exchange root to 0777 (#1225); the admin sets modes.
    c.CourseDirectory.groupshared = True
    c.ExchangeFactory.submit = "course_runtime.exchange.HubSubmit"
    c.ExchangeFactory.fetch_feedback = "course_runtime.exchange.HubFetchFeedback"
    return c
