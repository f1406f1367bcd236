"""What tests needing root, OS accounts, the sandbox or PostgreSQL check first, each with its one-line reason.

A test whose need is not met skips with the reason, except in CI (``CI`` set), which must run every
test: ``.ci/run`` runs as root, installs the tools and opens the folders above the interpreter, so
there an unmet need is a failure, not a skip.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from course import ostools

ACCOUNT_TOOLS = ("groupadd", "groupdel", "useradd", "userdel", "usermod", "chpasswd")
SANDBOX_TOOLS = ("unshare", "setpriv", "prlimit", "mount")
HUB_README = "see the README's hub section"


def skip_unless_met(reason: str | None) -> None:
    """Skip with ``reason`` (a need not met), or fail in CI; nothing when ``reason`` is None."""
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test, but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def _missing(tools: tuple[str, ...]) -> str | None:
    missing = [name for name in tools if ostools.find(name) is None]
    return f"{', '.join(missing)} not installed (Debian: apt-get install passwd util-linux mount)" if missing else None


def unreachable_interpreter() -> str | None:
    """Why other accounts cannot run this interpreter (a folder above it is 0700), or None."""
    closed = ostools.closed_to_others(Path(sys.executable))
    if closed is None:
        return None
    return (f"other accounts cannot enter {closed} to run {sys.executable} (install the course with a Python "
            f"outside it, or chmod o+x {closed}; {HUB_README})")


def accounts_reason() -> str | None:
    """Why the tests that create OS accounts and run servers as them cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root to create OS accounts (CI runs as root)"
    return _missing(ACCOUNT_TOOLS) or unreachable_interpreter()


def sandbox_reason() -> str | None:
    """Why learner code cannot be run in the grading sandbox (as ``nobody``) here, or None."""
    if os.geteuid() != 0:
        return "the sandbox needs root (CI runs as root)"
    return _missing(SANDBOX_TOOLS) or unreachable_interpreter()


def postgres_reason() -> str | None:
    """Why the test PostgreSQL server cannot start here, or None."""
    from tests import pg

    if not pg.available():
        return "PostgreSQL is not installed (apt-get install postgresql; CI installs it)"
    if os.geteuid() == 0 and ostools.find("runuser") is None:
        return "as root the server runs as the postgres account, through runuser, which is not installed"
    return None
