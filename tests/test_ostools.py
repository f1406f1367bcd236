"""Are the system tools found by absolute path whatever root's PATH, and an unreachable interpreter named?

A root shell's PATH may lack /usr/sbin (``su`` without ``-``, a container, cron), and a Python may
live under a folder other accounts cannot enter (pyenv in /root, a ``mktemp -d`` folder). These
tests fake both with folders of their own; nothing here runs a tool or creates an account.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from course import ostools
from course.errors import WorkflowError
from tests.conftest import ROOT

# calls that run their first argument as a program
RUNNERS = frozenset({"run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec",
                     "execv", "execvp", "execvpe", "spawnv", "spawnvp"})


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture()
def system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A fake system folder and a fake PATH folder; the real ones are out of sight."""
    sbin, on_path = tmp_path / "sbin", tmp_path / "path"
    sbin.mkdir()
    on_path.mkdir()
    monkeypatch.setattr(ostools, "SYSTEM_DIRS", (str(sbin),))
    monkeypatch.setenv("PATH", str(on_path))
    return sbin, on_path


@pytest.fixture()
def open_tmp() -> Iterator[Path]:
    """A folder every account can enter (pytest's own temporary folders are 0700 for root)."""
    folder = Path(tempfile.mkdtemp(prefix="kam-ostools-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for inner in folder.rglob("*"):
            if inner.is_dir() and not inner.is_symlink():
                inner.chmod(0o755)
        shutil.rmtree(folder)


def test_a_tool_outside_path_is_found_in_the_system_folders(system: tuple[Path, Path]) -> None:
    """Root's PATH without /usr/sbin: is runuser still found there, by absolute path?"""
    sbin, _ = system
    runuser = executable(sbin / "runuser")
    assert ostools.find("runuser") == str(runuser)
    assert ostools.tool("runuser") == str(runuser)


def test_the_system_folder_wins_over_a_look_alike_on_path(system: tuple[Path, Path]) -> None:
    """Does a ``useradd`` early on PATH (any folder a user could write) never shadow the system's?"""
    sbin, on_path = system
    real = executable(sbin / "useradd")
    executable(on_path / "useradd")
    assert ostools.tool("useradd") == str(real)


def test_path_is_searched_after_the_system_folders(system: tuple[Path, Path]) -> None:
    _, on_path = system
    ip = executable(on_path / "ip")
    assert ostools.find("ip") == str(ip)


def test_a_file_that_cannot_be_run_is_not_a_tool(system: tuple[Path, Path]) -> None:
    sbin, _ = system
    (sbin / "prlimit").write_text("", encoding="utf-8")  # mode 0644
    assert ostools.find("prlimit") is None


def test_a_missing_tool_says_what_to_install(system: tuple[Path, Path]) -> None:
    sbin, _ = system
    with pytest.raises(ostools.MissingTool) as err:
        ostools.tool("groupadd")
    assert str(err.value) == (f"`groupadd` is not installed (looked in {sbin} and on PATH): install it, on Debian "
                              "`apt-get install passwd`")


def test_creating_a_group_names_the_missing_tool_before_running_anything(
        system: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """As root with groupadd nowhere: a clear error, not ``FileNotFoundError: 'groupadd'``."""
    from course.hub import accounts

    sbin, _ = system
    monkeypatch.setattr(accounts.os, "geteuid", lambda: 0)
    with pytest.raises(ostools.MissingTool) as err:
        accounts.ensure_group("kamhub-zz-never-created")
    assert str(err.value) == (f"`groupadd` is not installed (looked in {sbin} and on PATH): install it, on Debian "
                              "`apt-get install passwd`")


def test_an_interpreter_behind_a_closed_folder_is_named(open_tmp: Path) -> None:
    """A virtualenv in a 0700 folder whose python links to an open one: is the closed folder found?

    And the other way round: an open virtualenv linking to pyenv's python under a 0700 home.
    """
    closed = open_tmp / "closed"
    venv_python = closed / "venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    target = executable(open_tmp / "open" / "python3")
    venv_python.symlink_to(target)
    closed.chmod(0o700)
    assert ostools.closed_to_others(venv_python) == closed
    assert ostools.closed_to_others(target) is None

    home = open_tmp / "home"
    pyenv = executable(home / "pyenv" / "python3")
    home.chmod(0o700)
    link = open_tmp / "venv2" / "bin" / "python"
    link.parent.mkdir(parents=True)
    link.symlink_to(pyenv)
    assert ostools.closed_to_others(link) == home


def test_the_hub_refuses_a_virtualenv_in_a_closed_folder(open_tmp: Path) -> None:
    """``course hub`` with its Python in a ``mktemp -d`` folder (0700): refused, naming that python."""
    from course.hub.serve import check_interpreter

    closed = open_tmp / "tmp.Xa1"
    bindir = closed / "venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").symlink_to(executable(open_tmp / "usr" / "python3"))
    closed.chmod(0o700)
    with pytest.raises(WorkflowError) as err:
        check_interpreter(bindir)
    assert str(err.value) == (
        f"{bindir / 'python'} is inside {closed}, which other accounts cannot enter: users' servers could not "
        f"start. Install the course with a Python outside it, or `chmod o+x {closed}`")


# ---------------------------------------------------------------- the grading sandbox refuses with the reason
def test_the_sandbox_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from course.grading.execute import SandboxError, sandbox_tools

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxError) as err:
        sandbox_tools()
    assert str(err.value) == ("running learner code needs root (to isolate it with unshare and setpriv); "
                              "run `course autograde --execute` as root, or grade without --execute")


def test_the_sandbox_names_a_missing_tool(system: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from course.grading.execute import SandboxError, sandbox_tools

    sbin, _ = system
    for name in ("unshare", "setpriv", "mount", "sh"):
        executable(sbin / name)
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # only checks: nothing is run
    with pytest.raises(SandboxError) as err:
        sandbox_tools()
    assert str(err.value) == (f"cannot isolate learner code: `prlimit` is not installed (looked in {sbin} and on "
                              "PATH): install it, on Debian `apt-get install util-linux`")


def test_the_sandbox_finds_its_tools_by_absolute_path(system: tuple[Path, Path],
                                                       monkeypatch: pytest.MonkeyPatch, open_tmp: Path) -> None:
    """With PATH bare of them: unshare, setpriv, prlimit, mount and sh from the system folder, ip from PATH."""
    from course.grading.execute import sandbox_tools

    sbin, on_path = system
    found = {name: str(executable(sbin / name)) for name in ("unshare", "setpriv", "prlimit", "mount", "sh")}
    found["ip"] = str(executable(on_path / "ip"))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(sys, "executable", str(executable(open_tmp / "bin" / "python3")))
    assert sandbox_tools() == found


def test_the_sandbox_refuses_an_interpreter_nobody_can_reach(system: tuple[Path, Path],
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             open_tmp: Path) -> None:
    """Instead of ``prlimit: failed to execute …: Permission denied`` from inside the sandbox."""
    from course.grading.execute import SandboxError, sandbox_tools

    sbin, _ = system
    for name in ("unshare", "setpriv", "prlimit", "mount", "sh"):
        executable(sbin / name)
    closed = open_tmp / "tmp.Qz9"
    python = executable(closed / "venv" / "bin" / "python")
    closed.chmod(0o700)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(sys, "executable", str(python))
    with pytest.raises(SandboxError) as err:
        sandbox_tools()
    assert str(err.value) == (f"learner code runs as nobody, who cannot reach this Python ({python}): {closed} is "
                              f"closed to other accounts. Install the course with a Python outside it, or "
                              f"`chmod o+x {closed}`")


# ---------------------------------------------------------------- real accounts, root's PATH without /usr/sbin
def test_an_account_and_a_group_are_made_and_removed_with_a_bare_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Root with PATH=/usr/bin:/bin: do groupadd, useradd, usermod, chpasswd, userdel and groupdel still run?"""
    import grp
    import pwd

    from course.hub import accounts
    from tests.systemtools import accounts_reason, skip_unless_met

    skip_unless_met(accounts_reason())
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    group, user = "kamhub-os-group", "kamhub-os-user"
    try:
        gid = accounts.ensure_group(group)
        home = accounts.ensure_user(user, [group], password="pw-kamhub-os").pw_dir
        assert grp.getgrgid(gid).gr_name == group
        assert grp.getgrnam(group).gr_mem == [user]
        assert os.stat(home).st_mode & 0o777 == 0o700
    finally:
        accounts.remove_user(user)
        accounts.remove_group(group)
    assert user not in {p.pw_name for p in pwd.getpwall()}
    assert group not in {g.gr_name for g in grp.getgrall()}


def bare_tools(path: Path) -> list[str]:
    """``file:line name`` of every program a system tool is run by its bare name (whatever PATH finds first, or
    nothing on a PATH without /usr/sbin): an argv list starting with it, or a runner's first argument naming it."""
    tools, found = set(ostools.PACKAGES), []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        starts: list[ast.expr] = []
        if isinstance(node, ast.List) and node.elts:
            starts.append(node.elts[0])
        if isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in RUNNERS:
                first = node.args[0]
                starts.append(first.elts[0] if isinstance(first, ast.Tuple) and first.elts else first)
        for start in starts:
            if isinstance(start, ast.Constant) and isinstance(start.value, str):
                word = start.value.split(" ")[0]  # a shell string runs its first word
                if word in tools:
                    found.append(f"{path}:{start.lineno} {word}")
    return sorted(set(found))


def test_no_system_tool_is_run_by_its_bare_name() -> None:
    """Does every program under course/ and tests/ run the account and sandbox tools by absolute path
    (ostools.tool), so a root shell without /usr/sbin on PATH finds them?"""
    files = sorted([*(ROOT / "course").rglob("*.py"), *(ROOT / "tests").rglob("*.py")])
    assert len(files) > 100
    assert [hit for f in files for hit in bare_tools(f)] == []


def test_the_scan_finds_a_bare_tool_name(tmp_path: Path) -> None:
    """Can the scan fail: does it name each bare tool planted in a module, and pass tools found by path?"""
    planted = tmp_path / "planted.py"
    planted.write_text("\n".join([
        "import os, subprocess",
        'subprocess.run(["runuser", "-u", "postgres", "--", "initdb"], check=True)',
        'cmd = ["useradd", "-m", "li"]',
        'os.execvp("unshare", ("unshare", "--net", "sh"))',
        'subprocess.check_call(("groupadd", "kam"))',
        'subprocess.run("chpasswd < list", shell=True)',
        'subprocess.run([ostools.tool("runuser"), "-u", "postgres"])',  # by path: fine
        'names = ("unshare", "setpriv")',  # a list of names, not a program run
    ]) + "\n", encoding="utf-8")
    assert bare_tools(planted) == [f"{planted}:{line} {name}" for line, name in
                                   [(2, "runuser"), (3, "useradd"), (4, "unshare"), (5, "groupadd"), (6, "chpasswd")]]
