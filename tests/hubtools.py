"""A real course on a multi-user hub for the hub tests: OS accounts (prefix ``kamhub-``), folders, release.

Needs root (CI runs as root): the accounts are real, so file permissions are the kernel's.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from course.hub import accounts, serve
from course.hub.hubconfig import HubSettings, server_environment
from tests.conftest import MINI

PREFIX = "kamhub-"


def needs_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            raise RuntimeError("the hub tests create OS accounts: CI must run them as root")
        pytest.skip("needs root to create OS accounts (CI runs as root and never skips)", allow_module_level=True)


@dataclass(frozen=True)
class HubCourse:
    settings: HubSettings
    home: Path
    passwords: dict[str, str]

    @property
    def root(self) -> Path:
        return Path(self.settings.root)

    @property
    def inbound(self) -> Path:
        return Path(self.settings.exchange) / self.settings.course_id / "inbound"

    def learner(self, name: str, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as the learner ``name``, in their home, as their hub server would."""
        env = accounts.user_env(name, server_environment(self.settings, "learner"))
        return accounts.run_as(name, argv, env)

    def python_as(self, name: str, code: str) -> subprocess.CompletedProcess[str]:
        return self.learner(name, str(Path(self.settings.bindir) / "python"), "-c", code)

    def nbgrader_as(self, name: str, *argv: str) -> subprocess.CompletedProcess[str]:
        return self.learner(name, str(Path(self.settings.bindir) / "nbgrader"), *argv, "--course", "kam-cert")

    def instructor(self, *argv: str) -> str:
        return serve.as_instructor(self.settings, list(argv))


@contextmanager
def hub_course(tag: str, learners: list[str], port: int) -> Iterator[HubCourse]:
    """Accounts ``kamhub-<tag>-teacher`` and ``kamhub-<tag>-<learner>``, the mini course released as ch01."""
    needs_root()
    groups = accounts.CourseGroups("kam-cert")
    existing_groups = {g.gr_name for g in grp.getgrall()}
    teacher = f"{PREFIX}{tag}-teacher"
    names = [f"{PREFIX}{tag}-{n}" for n in learners]
    passwords = {n: f"pw-{n}" for n in [teacher, *names]}
    home = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{tag}-"))
    try:
        settings = serve.setup(home, port, serve.Accounts([teacher], names, passwords), source_content=MINI)
        serve.as_instructor(settings, ["generate", "ch01"])
        serve.as_instructor(settings, ["release", "ch01"])
        yield HubCourse(settings, home, passwords)
    finally:
        for name in [teacher, *names]:
            accounts.remove_user(name)
        for group in (groups.instructors, groups.learners):
            if group not in existing_groups:
                accounts.remove_group(group)
        shutil.rmtree(home, ignore_errors=True)
