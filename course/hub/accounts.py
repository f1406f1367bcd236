"""Operating-system accounts and groups for hub users (run as root).

Every hub user is an OS account of the same name, so that the kernel, not the course code,
decides who may read and write what. Instructors are in both course groups, learners only in
``nbgrader-<course>``. A learner account cannot log in (its shell is ``nologin``: no SSH, no
``su``), so a learner's code runs only in their sandboxed server. The account tools run by
absolute path (:mod:`course.ostools`): a root shell whose PATH lacks ``/usr/sbin`` still finds them.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from course.errors import WorkflowError
from course.ostools import tool


@dataclass(frozen=True)
class CourseGroups:
    """nbgrader's JupyterHub group names for one course, used as OS group names too."""

    course_id: str

    @property
    def instructors(self) -> str:
        return f"formgrade-{self.course_id}"

    @property
    def learners(self) -> str:
        return f"nbgrader-{self.course_id}"


def _root_only(what: str) -> None:
    if os.geteuid() != 0:
        raise WorkflowError(f"{what} needs root (it creates OS accounts and sets file owners): "
                            f"run `sudo course hub ...`")


def _run(argv: Sequence[str], stdin: str | None = None) -> None:
    done = subprocess.run(list(argv), input=stdin, text=True, capture_output=True, check=False)
    if done.returncode != 0:
        raise WorkflowError(f"`{' '.join(argv)}` failed: {done.stderr.strip()}")


def ensure_group(name: str) -> int:
    _root_only(f"creating the group {name}")
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        _run([tool("groupadd"), name])
        return grp.getgrnam(name).gr_gid


def ensure_user(name: str, groups: Sequence[str], password: str | None = None,
                shell: str = "/bin/bash") -> pwd.struct_passwd:
    """The account ``name`` with a private home (0700), in ``groups``, with ``shell`` as its login shell (set
    again on an existing account); its password set if given."""
    _root_only(f"creating the account {name}")
    try:
        if pwd.getpwnam(name).pw_shell != shell:
            _run([tool("usermod"), "--shell", shell, name])
    except KeyError:
        _run([tool("useradd"), "--create-home", "--shell", shell, name])
    if groups:
        _run([tool("usermod"), "--append", "--groups", ",".join(groups), name])
    if password is not None:
        _run([tool("chpasswd")], stdin=f"{name}:{password}\n")
    user = pwd.getpwnam(name)
    os.chmod(user.pw_dir, 0o700)
    return user


def remove_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    subprocess.run([tool("userdel"), "--remove", name], capture_output=True, check=False)


def remove_group(name: str) -> None:
    subprocess.run([tool("groupdel"), name], capture_output=True, check=False)


def user_env(name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the hub gives a spawned server of ``name`` (the parts the course relies on)."""
    user = pwd.getpwnam(name)
    env = {"HOME": user.pw_dir, "USER": name, "LOGNAME": name, "JUPYTERHUB_USER": name,
           "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env.update(extra or {})
    return env


def run_as(name: str, argv: Sequence[str], env: Mapping[str, str],
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as the OS account ``name`` with its groups (as the LocalProcessSpawner does)."""
    user = pwd.getpwnam(name)
    groups = os.getgrouplist(name, user.pw_gid)
    home = user.pw_dir if os.path.isdir(user.pw_dir) else "/"  # nobody's home does not exist
    return subprocess.run(list(argv), env=dict(env), cwd=str(cwd or home), user=user.pw_uid,
                          group=user.pw_gid, extra_groups=groups, text=True, capture_output=True,
                          check=False, umask=0o077)
