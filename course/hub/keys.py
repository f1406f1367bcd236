"""Keep the answer keys out of learners' reach on a hub, and prove it as a learner before serving.

The keys (content YAML, ``seed.txt``, the source notebooks with their hidden tests, the gradebook)
live in the course's own install, the course folder and the content folder. ``course hub`` closes
what it owns — its own install (to the instructors' group), the course home's folders
(:mod:`course.hub.layout`), the hub's database (0600) — and then asks the kernel, by running a
probe *as a learner account* with the learners' interpreter, whether any of those places can be
listed or read, both as the account on the whole machine and in the sandbox its servers run in. If
one can, the hub does not start; the message names the path and the fix.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import course
from course.errors import WorkflowError
from course.hub import accounts

Wrap = Callable[[list[str]], list[str]]  # a command line → the same run in a learner's view
INSTALL_MODE = 0o750  # owner rwx, instructors r-x, others nothing: nothing below is reachable to learners
# Run by the learners' interpreter as a learner: which of the given paths it can list or read.
PROBE = """
import importlib.util, json, os, sys
found = []
for path in json.loads(sys.argv[1]):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as fh:
                fh.read(1)
        found.append(path)
    except OSError:
        pass
print(json.dumps({"readable": found, "course_importable": importlib.util.find_spec("course") is not None}))
"""


@dataclass(frozen=True)
class Place:
    """A place holding keys, and how to close it if a learner can read it."""

    path: Path
    what: str
    fix: str


def install_root() -> Path:
    """The course's own install: the clone for an editable install (with its .venv, source/, .git), else the package."""
    package = Path(course.__file__).resolve().parent
    clone = package.parent
    return clone if (clone / "pyproject.toml").is_file() and (clone / "course" / "content").is_dir() else package


def close_install(path: Path, gid: int) -> bool:
    """Give the install folder to the instructors' group, closed to others; True if it changed.

    Closing the top folder is enough: nothing below a folder others cannot enter is reachable to
    them, whatever its own mode. Instructors' servers run from this install and read it as the group.
    """
    info = path.stat()
    if info.st_gid == gid and stat.S_IMODE(info.st_mode) & 0o077 == INSTALL_MODE & 0o077:
        return False
    os.chown(path, -1, gid)
    os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700 | INSTALL_MODE & 0o077)
    return True


def create_private(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist (SQLite keeps the mode; its journals take it too)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def places(root: Path, content: Path, state: Path, install: Path, extra: Sequence[Path] = ()) -> list[Place]:
    """Everything holding keys or hub secrets that a learner must not list or read."""
    home_fix = "run `course hub` again as root (it sets these modes), or `chmod o-rwx {}`"
    found = [
        Place(install, "the course's own install (content with the answer keys, source notebooks)",
              f"`chmod o-rwx {install}` (course hub gives it to the instructors' group)"),
        Place(install / "course" / "content" / "questions", "the question bank of the install",
              f"`chmod o-rwx {install}`"),
        Place(root, "the course folder (gradebook, source notebooks)", home_fix.format(root)),
        Place(root / "source", "the source notebooks with hidden tests", home_fix.format(root)),
        Place(root / "gradebook" / "gradebook.db", "the gradebook", home_fix.format(root)),
        Place(content, "the course content with the answer keys", home_fix.format(content)),
        Place(content / "questions", "the question bank", home_fix.format(content)),
        Place(state / "jupyterhub.sqlite", "the hub's database (users, servers, token hashes)",
              f"`chmod 600 {state / 'jupyterhub.sqlite'}`"),
        Place(state / "jupyterhub_cookie_secret", "the hub's cookie secret",
              f"`chmod 600 {state / 'jupyterhub_cookie_secret'}`"),
    ]
    found += [Place(p, "a content folder given to course hub", f"`chmod o-rwx {p}`") for p in extra]
    return [p for p in found if p.path.exists()]


def exchange_places(storage: Path, secrets_file: Path) -> list[Place]:
    """With ngshare: its files (every learner's submissions and feedback) and the database URL with its password."""
    found = [Place(storage, "the ngshare exchange's files (every submission and feedback)",
                   f"`chown root: {storage} && chmod 700 {storage}` (course hub sets it)"),
             Place(secrets_file, "the database URL with its password and the course service's token",
                   f"`chmod 600 {secrets_file}`")]
    return [p for p in found if p.path.exists()]


def probe(learner: str, python: Path, paths: Sequence[Path], view: Wrap = list) -> dict[str, object]:
    """Run the probe as ``learner`` with ``python`` in ``view`` (what their server runs in, course.hub.sandbox):
    what it could read, and whether ``course`` imports."""
    env = accounts.user_env(learner, {"PATH": f"{python.parent}:/usr/bin:/bin"})
    argv = view([str(python), "-I", "-c", PROBE, json.dumps([str(p) for p in paths])])
    done = accounts.run_as(learner, argv, env)
    if done.returncode != 0:
        raise WorkflowError(f"the learners' interpreter {python} does not run as {learner}: "
                            f"{done.stderr.strip()[-500:]}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def check_learner_reach(learner: str, python: Path, found: Sequence[Place], views: Sequence[Wrap] = (list,)) -> None:
    """Refuse (WorkflowError naming each path and its fix) if ``learner`` can read any key place in any of ``views``
    (the account itself, ``list``, and the sandbox its servers run in)."""
    results = [probe(learner, python, [p.path for p in found], view) for view in views]
    readable = {str(p) for result in results for p in result["readable"]}  # type: ignore[attr-defined]
    problems = [f"  {p.path}: {p.what}; fix: {p.fix}" for p in found if str(p.path) in readable]
    if any(result["course_importable"] for result in results):
        problems.insert(0, f"  {python}: the learners' interpreter can import the course package (answer keys); "
                           "fix: delete the learners' environment and run `course hub` again")
    if problems:
        raise WorkflowError(f"the hub does not start: the learner account {learner} could read answer keys or hub "
                            "secrets here:\n" + "\n".join(problems))
