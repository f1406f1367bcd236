"""A real PostgreSQL server for tests and benchmarks: started in a temporary folder, stopped after.

Uses Debian's ``postgresql`` package (``.ci/run`` installs it). PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres``
account the package creates; otherwise as the current user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from course import ostools


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).resolve().parent if which else None


def available() -> bool:
    return _bindir() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    def __init__(self) -> None:
        # Its own folder: pytest's temporary folders are private to root, and the server runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="kam-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        self.bindir = bindir

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = [ostools.tool("runuser"), "-u", "postgres", "--", *cmd]  # root's PATH may lack /usr/sbin
        subprocess.run(cmd, check=True, capture_output=True, cwd="/")

    def start(self) -> str:
        """Start the server; return the SQLAlchemy URL of a fresh ``gradebook`` database."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-instructions")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "gradebook")
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/gradebook"

    def stop(self) -> None:
        try:
            if self.data.exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
