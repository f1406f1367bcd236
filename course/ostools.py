"""Operating-system tools the course runs as root, found by absolute path, and who can reach a file.

The hub makes accounts (``groupadd``, ``useradd``, ...), the grading sandbox isolates learner
code (``unshare``, ``setpriv``, ``prlimit``, ``mount``), the tests start PostgreSQL as its own
account (``runuser``). A root shell's PATH often lacks ``/usr/sbin`` (``su`` without ``-``, a
container, a cron job), where Debian keeps most of them; and a root process should not run
whatever a folder early on PATH holds under those names. So the system folders are searched
first, then PATH, and a tool found nowhere is a clear error naming the package to install.

Also here: :func:`die_with_parent`, which every worker pool's processes run first.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

from course.errors import WorkflowError

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends, however it ends (SIGKILL included): no orphan works on
    (the grading, report and snapshot pools' workers run this first).

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere a thread looks every half second. A parent that died before this ran ends us now.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        def watch() -> None:
            while os.getppid() == parent:
                threading.Event().wait(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


SYSTEM_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
# the Debian package that installs each tool the course runs
PACKAGES = {"groupadd": "passwd", "groupdel": "passwd", "useradd": "passwd", "userdel": "passwd",
            "usermod": "passwd", "chpasswd": "passwd", "runuser": "util-linux", "setpriv": "util-linux",
            "unshare": "util-linux", "prlimit": "util-linux", "mount": "mount", "ip": "iproute2", "sh": "dash",
            "nologin": "login"}


class MissingTool(WorkflowError):
    """A system tool the course needs is not installed."""


def find(name: str) -> str | None:
    """The absolute path of the tool ``name``: in the system folders first, then on PATH; None if nowhere."""
    for folder in SYSTEM_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    return str(Path(found).absolute()) if found else None


def tool(name: str) -> str:
    """Like :func:`find`, but a missing tool is an error that says what to install."""
    found = find(name)
    if found is None:
        package = PACKAGES.get(name, name)
        raise MissingTool(f"`{name}` is not installed (looked in {', '.join(SYSTEM_DIRS)} and on PATH): "
                          f"install it, on Debian `apt-get install {package}`")
    return found


def closed_folder(path: Path) -> Path | None:
    """The first folder above ``path`` that other accounts cannot enter (no o+x), if any."""
    for folder in reversed(path.parents):
        if not folder.stat().st_mode & 0o001:
            return folder
    return None


def closed_to_others(program: Path) -> Path | None:
    """The folder that keeps other accounts from running ``program``, if any.

    Both the path as given (a virtualenv's ``bin/python``, which a process runs by that name)
    and the file it links to (pyenv's interpreter under ``/root``) must be reachable.
    """
    return closed_folder(program.absolute()) or closed_folder(program.resolve())
