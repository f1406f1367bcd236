"""The validated course, kept between runs: ``load_course`` is then a read of one file.

Reading and checking ``course/content`` (YAML with line numbers, typed models, cross-reference
rules) takes about a second; every ``course`` command needs the result. It is kept as a pickle,
keyed by a SHA-256 of every file the loader reads and of the code that reads and checks them,
so a changed question file, a new question file, an edited rule or another Python is a new key.

Where it lives matters: the file holds the answer keys, and unpickling runs what the file says.
So it lives only in a folder of the user's own cache (``$COURSE_CACHE_DIR``, else
``$XDG_CACHE_HOME/kam-course/content``, else ``~/.cache/kam-course/content``) that is owned by
this user and closed to everyone else (mode 0700; this module tightens it, and uses none it cannot
prove is so); each file must be a regular file this user owns, not a link, mode 0600. A file that
fails any check, holds another key, or whose payload does not match its own SHA-256 (a torn or
damaged write) is never unpickled: the content is read and checked again and the file rewritten.
Without a usable folder (no home, a read-only disk) the course is simply loaded every time.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import platform
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MAGIC = b"kam-course-content/1\n"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# The code whose result is cached: a change to any of these makes every cached course stale.
CODE = ("model.py", "loader.py", "rules.py", "yamlsrc.py", "errors.py", "bank/cache.py")
PACKAGE = Path(__file__).resolve().parent.parent


class Unsafe(Exception):
    """The cache folder or file is not provably private to this user: it is not used."""


def cache_dir() -> Path:
    """The folder the cache would use (it may not exist yet)."""
    if os.environ.get("COURSE_CACHE_DIR"):
        return Path(os.environ["COURSE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kam-course" / "content"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the loading code, Python and the libraries that shape the cached objects."""
    import pydantic
    import yaml

    h = hashlib.sha256()
    for name in CODE:
        h.update(name.encode() + b"\0" + (PACKAGE / name).read_bytes() + b"\0")
    h.update(f"{platform.python_version()} {pydantic.VERSION} {yaml.__version__} {pickle.HIGHEST_PROTOCOL}".encode())
    return h.hexdigest()


def content_key(root: Path, files: Iterable[Path]) -> str:
    """The key of ``root``'s content: its resolved path, the code version and each file's name and SHA-256."""
    h = hashlib.sha256(code_version().encode() + b"\0" + str(root.resolve()).encode() + b"\0")
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _private_dir(create: bool) -> Path:
    """The cache folder, owned by this user and closed to others; raises Unsafe (or OSError) otherwise."""
    folder = cache_dir()
    if create:
        folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise Unsafe(f"{folder} is not a folder (a link?)")
    if info.st_uid != os.geteuid():
        raise Unsafe(f"{folder} belongs to user id {info.st_uid}, not to this user ({os.geteuid()})")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, PRIVATE_DIR, follow_symlinks=False)  # ours: close it before anything goes in
    return folder


def _file(folder: Path, root: Path) -> Path:
    return folder / f"{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]}.pickle"


def read(root: Path, key: str) -> Any | None:
    """The course cached for ``root`` under ``key``, or None (absent, stale, damaged or not provably private)."""
    try:
        path = _file(_private_dir(create=False), root)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, Unsafe) as exc:
        log.debug("no cached course for %s: %s", root, exc)
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
            log.warning("ignoring %s: not a private file of this user", path)
            return None
        data = fh.read()
    header = len(MAGIC) + 2 * 65
    if len(data) < header or not data.startswith(MAGIC):
        return None
    stored_key, digest = data[len(MAGIC):header].decode("ascii", "replace").split("\n")[:2]
    payload = data[header:]
    if stored_key != key:
        return None  # stale: the content or the code changed since
    if hashlib.sha256(payload).hexdigest() != digest:
        log.warning("ignoring %s: damaged (its payload does not match its SHA-256)", path)
        return None
    try:
        return pickle.loads(payload)  # a private file of this user, checked above
    except Exception as exc:  # a class renamed since: rebuilt, never trusted
        log.warning("ignoring %s: %s", path, exc)
        return None


def write(root: Path, key: str, course: Any) -> Path | None:
    """Keep ``course`` for ``root`` under ``key``; the file, or None when no private folder can be had."""
    try:
        folder = _private_dir(create=True)
        payload = pickle.dumps(course, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")  # mode 0600
    except (OSError, Unsafe, pickle.PicklingError) as exc:
        log.debug("course not cached: %s", exc)
        return None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + f"{key}\n{hashlib.sha256(payload).hexdigest()}\n".encode("ascii") + payload)
        path = _file(folder, root)
        os.replace(tmp, path)
        return path
    except OSError as exc:
        log.debug("course not cached: %s", exc)
        Path(tmp).unlink(missing_ok=True)
        return None
