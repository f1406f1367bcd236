"""Can a learner on the hub read an answer key, 解析, rubric, hidden test or source notebook anywhere?

Real accounts (root, as CI runs): `course hub --demo` sets up the README's hub from this clone and
starts JupyterHub; then, as each learner account, every file on the machine the kernel lets that
account read is listed (`find -readable` run as the learner), and all of them are searched for
strings only the keys hold: the hidden tests' calls, the explanations and the rubric criteria
(those not quoted from the seed, which is public). The hub's own state must be private too.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from course import model as m
from course.errors import WorkflowError
from course.hub import accounts, keys, serve
from course.hub.hubconfig import MENU_SETTINGS_FILE, HubSettings
from course.hub.serve import DEMO_INSTRUCTOR, DEMO_LEARNERS
from course.loader import content_root, load_course
from tests.hubtools import LEARNER_ENV, HubCourse, install_restored, needs_root

needs_root()
PORT = 18400
SKIP_DIRS = ("/proc", "/sys", "/dev", "/run")


def key_markers() -> list[str]:
    """Strings that appear only where keys are: hidden-test calls, explanations, rubric criteria."""
    course = load_course()
    seed = (content_root() / "seed.txt").read_text(encoding="utf-8")
    found = set()
    for q in course.questions:
        found.add(f"quiz.grade({q.id!r}")
        texts = [q.explanation] + ([r.criterion for r in q.rubric] if isinstance(q, m.CaseAnalysis) else [])
        found |= {t[:24] for t in texts if len(t) >= 10 and t[:24] not in seed}
    return sorted(found)


def readable_files(account: str, root: str = "") -> list[str]:
    """Every regular file ``account`` may read below ``root`` (its paths without ``root``), as the kernel decides.

    find's -readable runs as that account. ``root``: ``/proc/<pid>/root``, the machine as a process sees it.
    """
    prune = [arg for d in SKIP_DIRS for arg in ("-path", root + d, "-o")][:-1]
    done = subprocess.run(["/usr/sbin/runuser", "-u", account, "--", "find", root + "/", "(", *prune, ")", "-prune",
                           "-o", "-type", "f", "-readable", "-print0"], capture_output=True, check=False)
    found = [p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    return [p.removeprefix(root) for p in found]


def start_server(home: Path, name: str) -> int:
    """Start ``name``'s server through the hub's REST API, as their browser would; its process id once it is ready."""
    settings = HubSettings.load(home / "state" / "hub.json")
    token = HubCourse(settings, home, {}).hub_token(name)
    api = f"{settings.url}/hub/api/users/{name}"
    headers = {"Authorization": f"token {token}"}
    urllib.request.urlopen(urllib.request.Request(f"{api}/server", method="POST", headers=headers), timeout=60)
    for _ in range(240):
        with urllib.request.urlopen(urllib.request.Request(api, headers=headers), timeout=10) as reply:
            if json.load(reply).get("servers", {}).get("", {}).get("ready"):
                return server_pid(name)
        time.sleep(0.5)
    raise RuntimeError(f"{name}'s server was not ready within 2 minutes")


def server_pid(name: str) -> int:
    """The process of ``name`` running jupyterhub-singleuser itself (not the sandbox program around it)."""
    uid = pwd.getpwnam(name).pw_uid
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            owner = proc.stat().st_uid
        except OSError:
            continue
        if proc.name.isdigit() and owner == uid and any(a.endswith(b"/jupyterhub-singleuser") for a in argv[:2]) \
                and not argv[0].endswith(b"bwrap"):
            return int(proc.name)
    raise RuntimeError(f"no server process of {name}")


def files_holding(markers: list[str], files: list[str], tmp: Path) -> list[str]:
    """Which of ``files`` contain any marker (grep -F, binary files included: a gradebook is SQLite)."""
    (tmp / "markers").write_text("\n".join(markers) + "\n", encoding="utf-8")
    (tmp / "files").write_bytes(b"\0".join(f.encode("utf-8", "surrogateescape") for f in files))
    done = subprocess.run(f"xargs -0 -a {tmp / 'files'} grep -lsF -f {tmp / 'markers'}", shell=True,
                          capture_output=True, text=True, check=False)
    return sorted(done.stdout.split())


@pytest.fixture(scope="module")
def demo_hub() -> Iterator[Path]:
    """`course hub --demo` as the README runs it (own home, the shared learners' environment), running."""
    home = Path(tempfile.mkdtemp(prefix="kamhub-keys-"))
    names = [DEMO_INSTRUCTOR, *DEMO_LEARNERS]
    existing = [n for n in names if _exists(n)]
    if existing:
        pytest.fail(f"accounts {existing} exist already: the demo creates and removes them")
    course = Path(sys.executable).parent / "course"
    with install_restored():
        proc = subprocess.Popen([str(course), "hub", "--demo", "--home", str(home), "--port", str(PORT),
                                 "--learner-env", str(LEARNER_ENV)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            _wait_for_login(proc)
            yield home
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            for name in names:
                accounts.remove_user(name)
            for group in ("formgrade-kam-cert", "nbgrader-kam-cert"):
                accounts.remove_group(group)
            shutil.rmtree(home, ignore_errors=True)


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _wait_for_login(proc: subprocess.Popen[str]) -> None:
    for _ in range(1200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/hub/login", timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"course hub --demo stopped:\n{proc.stdout.read() if proc.stdout else ''}") from None
            time.sleep(0.5)
    raise RuntimeError("the hub's login page did not answer within 10 minutes")


def test_no_learner_account_can_read_a_key_anywhere_on_the_machine(demo_hub: Path, tmp_path: Path) -> None:
    """Does a search of every file each learner's running server can read find no hidden test, explanation or rubric?

    A learner's code runs only in their server (kernels, terminals): its view of the machine is searched,
    through ``/proc/<pid>/root``. A copy of a key that someone else left world-readable elsewhere on the
    machine (a canary here, in ``/srv``) is readable to the learner's account outside and not inside.
    """
    markers = key_markers()
    assert len(markers) > 900  # the shipped bank: 432 hidden-test calls, explanations, rubric criteria
    canary_dir = Path(tempfile.mkdtemp(prefix="kamhub-canary-", dir="/srv"))
    try:
        canary_dir.chmod(0o755)
        canary = canary_dir / "jc01.yaml"
        canary.write_text(markers[0] + "\n", encoding="utf-8")
        canary.chmod(0o644)
        views = {}
        for learner in DEMO_LEARNERS:
            pid = start_server(demo_hub, learner)
            assert os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt"), learner
            assert str(canary) in readable_files(learner)  # the account could read it, were it not in the view
            views[learner] = (pid, readable_files(learner, f"/proc/{pid}/root"))
        for learner, (_pid, files) in views.items():
            assert f"/home/{learner}/.jupyter/lab/user-settings/{MENU_SETTINGS_FILE}" in files, learner
            hidden = ("/srv", "/work", str(keys.install_root()), str(demo_hub / "course"), str(demo_hub / "content"))
            assert not [f for f in files if f.startswith(hidden)], learner
        union = sorted({f"/proc/{pid}/root{f}" for pid, files in views.values() for f in files})
        assert files_holding(markers, union, tmp_path) == []
    finally:
        shutil.rmtree(canary_dir)


def test_the_hub_state_is_private_and_the_learners_python_has_no_course(demo_hub: Path) -> None:
    """Are the hub's database, cookie secret and settings (the user lists) 0600, and can a learner's interpreter
    not import the course?"""
    secrets = [demo_hub / "state" / name for name in ("jupyterhub.sqlite", "jupyterhub_cookie_secret", "hub.json")]
    assert [stat.S_IMODE(path.stat().st_mode) for path in secrets] == [0o600, 0o600, 0o600]
    python = LEARNER_ENV / "bin" / "python"
    private = [keys.install_root(), demo_hub / "content", *secrets]
    result = keys.probe(DEMO_LEARNERS[0], python, private)
    assert result == {"readable": [], "course_importable": False}
    done = accounts.run_as(DEMO_LEARNERS[0], [str(python), "-c", "import course_runtime.quiz, course_runtime.scoring"],
                           accounts.user_env(DEMO_LEARNERS[0]))
    assert done.returncode == 0, done.stderr


def test_the_probe_finds_a_loose_mode_outside_the_learners_sandbox(demo_hub: Path) -> None:
    """The course's places are not mounted in a learner's sandbox: does the probe `course hub` runs still find
    the content folder readable once it is, as the learner account itself?"""
    settings = HubSettings.load(demo_hub / "state" / "hub.json")
    content, learner = demo_hub / "content", DEMO_LEARNERS[0]
    place = keys.Place(content, "the course content with the answer keys", f"`chmod o-rwx {content}`")
    python = Path(settings.learner_bindir) / "python"
    views = serve.learner_views(settings, learner)
    before = stat.S_IMODE(content.stat().st_mode)
    content.chmod(before | 0o005)
    try:
        keys.check_learner_reach(learner, python, [place], views[1:])  # the sandbox alone: it is not there
        with pytest.raises(WorkflowError) as err:
            keys.check_learner_reach(learner, python, [place], views)
        assert str(err.value) == (
            f"the hub does not start: the learner account {learner} could read answer keys or hub secrets here:\n"
            f"  {content}: the course content with the answer keys; fix: `chmod o-rwx {content}`")
    finally:
        content.chmod(before)
    keys.check_learner_reach(learner, python, [place], views)


def test_a_learner_account_cannot_log_in_and_its_terminal_still_runs_bash(demo_hub: Path) -> None:
    """Is every learner's login shell nologin (no SSH, no su to a machine outside the sandbox), while the terminal
    of their server still starts bash?"""
    assert [pwd.getpwnam(n).pw_shell for n in DEMO_LEARNERS] == ["/usr/sbin/nologin"] * len(DEMO_LEARNERS)
    done = subprocess.run(["/usr/sbin/runuser", "-l", DEMO_LEARNERS[0], "-c", "echo logged in"],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (1, "This account is currently not available.\n")
    settings = HubSettings.load(demo_hub / "state" / "hub.json")
    name = DEMO_LEARNERS[0]
    try:
        server = server_pid(name)
    except RuntimeError:
        server = start_server(demo_hub, name)
    token = HubCourse(settings, demo_hub, {}).hub_token(name)
    request = urllib.request.Request(f"{settings.url}/user/{name}/api/terminals", method="POST",
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        terminal = json.load(reply)["name"]
    time.sleep(1.0)  # nologin would have printed its line and ended by now
    uid = pwd.getpwnam(name).pw_uid
    shells = [proc.name for proc in Path("/proc").iterdir() if proc.name.isdigit() and _owned_bash(proc, uid)]
    assert len(shells) == 1, (terminal, server)
    urllib.request.urlopen(urllib.request.Request(f"{settings.url}/user/{name}/api/terminals/{terminal}",
                                                  method="DELETE", headers={"Authorization": f"token {token}"}),
                           timeout=30)


def _owned_bash(proc: Path, uid: int) -> bool:
    try:
        return proc.stat().st_uid == uid and (proc / "cmdline").read_bytes().split(b"\0")[:2] == [b"/bin/bash", b"-i"]
    except OSError:
        return False


def test_the_hub_refuses_to_serve_while_a_learner_could_read_a_key() -> None:
    """Does the probe name the readable place and its fix, and pass once the place is closed?"""
    top = Path(tempfile.mkdtemp(prefix="kamhub-reach-"))
    try:
        top.chmod(0o755)
        content = top / "content"
        (content / "questions").mkdir(parents=True)
        (content / "questions" / "ch01.yaml").write_text("answer: B\n", encoding="utf-8")
        place = keys.Place(content, "the course content with the answer keys", f"`chmod o-rwx {content}`")
        python = LEARNER_ENV / "bin" / "python"
        with pytest.raises(WorkflowError) as err:
            keys.check_learner_reach("nobody", python, [place])
        assert str(err.value) == (
            "the hub does not start: the learner account nobody could read answer keys or hub secrets here:\n"
            f"  {content}: the course content with the answer keys; fix: `chmod o-rwx {content}`")
        content.chmod(0o750)
        keys.check_learner_reach("nobody", python, [place])
    finally:
        shutil.rmtree(top)


def test_closing_the_install_gives_it_to_the_instructors_group_only(tmp_path: Path) -> None:
    """Is the install's top folder the instructors' group's, r-x for them and nothing for others, once only?"""
    folder = tmp_path / "clone"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert keys.close_install(folder, 4321) is True
    info = folder.stat()
    assert (info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 0o750)
    assert keys.close_install(folder, 4321) is False


def test_a_created_private_file_is_0600_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "jupyterhub.sqlite"
    keys.create_private(path)
    path.write_bytes(b"SQLite format 3\0")
    keys.create_private(path)
    assert (stat.S_IMODE(path.stat().st_mode), path.read_bytes()) == (0o600, b"SQLite format 3\0")


def test_markers_are_strings_only_the_keys_hold() -> None:
    """Are the markers absent from the public seed and from every released (learner) notebook?"""
    markers = key_markers()
    seed = (content_root() / "seed.txt").read_text(encoding="utf-8")
    assert not [mk for mk in markers if mk in seed]
    assert "quiz.grade('jc01-001'" in markers and json.dumps(markers, ensure_ascii=False)
