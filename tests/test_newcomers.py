"""Does the README's test command pass, or skip with a reason, for root with a bare PATH or a Python in a 0700 folder?

Two situations a newcomer meets (issue 25: 12 errors and 1 failure, ``FileNotFoundError:
'runuser'`` and ``prlimit: … Permission denied``), simulated:

- root's PATH without ``/usr/sbin`` (``su`` without ``-``, a container, cron);
- the interpreter in a folder other accounts cannot enter: a virtualenv made in a ``mktemp -d``
  folder (mode 0700), as pyenv's Python under ``/root`` is for a hub.

In each, the tests that need the account tools, the sandbox's tools, ``runuser`` or another account's view of
the interpreter (accounts, PostgreSQL, the grading sandbox, the hub's closed exchange) run in a fresh pytest
with ``CI`` unset, as on a newcomer's machine: each passes or skips with a one-line reason; none errors or fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.systemtools import skip_unless_met

ACCOUNTS = "tests/test_ostools.py::test_an_account_and_a_group_are_made_and_removed_with_a_bare_path"
SANDBOX = ("tests/test_grading.py::"
           "test_executed_learner_code_cannot_reach_the_gradebook_course_files_or_peers")
POSTGRES = "tests/test_grading.py::test_postgresql_gets_exactly_the_rows_sqlite_gets"
HUB = "tests/test_hub_exchange.py"


def outcomes(python: str, tests: list[str], env: dict[str, str], folder: Path) -> dict[str, tuple[str, str]]:
    """Run ``tests`` with ``python -m pytest``; each test's outcome (passed, skipped, failed, error) and message."""
    report = folder / "junit.xml"
    done = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={folder / 'tmp'}",
                           f"--junitxml={report}", *tests], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert report.exists(), done.stdout + done.stderr
    found = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        # a module skipped as a whole says "collection skipped" and gives its reason in the text
        verdicts = [(child.tag, f"{child.get('message', '')} {child.text or ''}".strip()) for child in case
                    if child.tag in ("skipped", "failure", "error")]
        tag, message = verdicts[0] if verdicts else ("passed", "")
        found[name] = ({"failure": "failed"}.get(tag, tag), message)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return found


def newcomer_env(**changes: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    return {**env, **changes}


@pytest.fixture(scope="module")
def as_root() -> None:
    skip_unless_met(None if os.geteuid() == 0 else "simulates a root user's situations: needs root (CI runs as root)")


def test_root_with_a_path_without_sbin(as_root: None, tmp_path: Path) -> None:
    """PATH=/usr/bin:/bin: are the account tools, the sandbox's tools and runuser still found, so the tests pass (or
    say why not): accounts, PostgreSQL, the grading sandbox and a hub module (the closed exchange as OS accounts)?"""
    found = outcomes(sys.executable, [ACCOUNTS, POSTGRES, SANDBOX, HUB], newcomer_env(PATH="/usr/bin:/bin"), tmp_path)
    assert len(found) == 1 + 1 + 1 + 20  # test_hub_exchange.py holds 20 tests
    assert not [name for name, (outcome, _) in found.items() if outcome in ("failed", "error")], found
    assert all(message for outcome, message in found.values() if outcome == "skipped"), found
    if os.environ.get("CI"):  # CI's machine has the tools and PostgreSQL: nothing may skip there
        assert {outcome for outcome, _ in found.values()} == {"passed"}, found


def test_root_with_the_interpreter_in_a_closed_folder(as_root: None, tmp_path: Path) -> None:
    """A virtualenv in a ``mktemp -d`` folder: do the tests that run it as another account skip, saying why?"""
    closed = Path(tempfile.mkdtemp(prefix="kam-newcomer-"))  # 0700, as mktemp -d makes it
    try:
        venv = closed / "venv"
        subprocess.run([str(Path(sys.executable).resolve()), "-m", "venv", "--without-pip", str(venv)], check=True,
                       capture_output=True, timeout=120)
        # this environment's packages (the course's editable install included), seen from the new one
        inner = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
        (inner / "_kam_course.pth").write_text(
            f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n", encoding="utf-8")
        python = str(venv / "bin" / "python")
        found = outcomes(python, [ACCOUNTS, SANDBOX, HUB], newcomer_env(), tmp_path)
    finally:
        shutil.rmtree(closed, ignore_errors=True)
    assert not [name for name, (outcome, _) in found.items() if outcome in ("failed", "error")], found
    assert found, "no test ran"
    reason = f"other accounts cannot enter {closed} to run {python}"
    assert {outcome for outcome, _ in found.values()} == {"skipped"}, found
    assert all(reason in message for _, message in found.values()), found
