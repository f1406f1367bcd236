"""A real PostgreSQL server for tests and benchmarks: started in a temporary folder, stopped after.

Uses Debian's ``postgresql`` package (``.ci/run`` installs it). PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres``
account the package creates; otherwise as the current user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from course import ostools
from tests.ports import free_port


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).resolve().parent if which else None


def available() -> bool:
    return _bindir() is not None


class Postgres:
    """``password``: every connection must give it (scram), as on a shared machine; else any local account may connect.

    ``timezone``: the server's time zone (a server in China: Asia/Shanghai), else the system's.
    """

    def __init__(self, password: str | None = None, timezone: str | None = None) -> None:
        self.password = password
        self.timezone = timezone
        # Its own folder: pytest's temporary folders are private to root, and the server runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="kam-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        self.bindir = bindir

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = [ostools.tool("runuser"), "-u", "postgres", "--", *cmd]  # root's PATH may lack /usr/sbin
        env = {**os.environ, "PGPASSWORD": self.password} if self.password else None
        subprocess.run(cmd, check=True, capture_output=True, cwd="/", env=env)

    def start(self) -> str:
        """Start the server; return the SQLAlchemy URL of a fresh ``gradebook`` database."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        auth = ["-A", "trust"]
        if self.password:
            pwfile = self.folder / "pwfile"
            pwfile.write_text(self.password + "\n", encoding="utf-8")
            if os.geteuid() == 0:
                shutil.chown(pwfile, "postgres", "postgres")
            pwfile.chmod(0o600)
            auth = ["-A", "scram-sha-256", f"--pwfile={pwfile}"]
        self._run("initdb", "-D", str(self.data), *auth, "-U", "postgres", "-E", "UTF8", "--no-instructions")
        if self.password:
            (self.folder / "pwfile").unlink()  # initdb has stored it (hashed); no copy stays on disk
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        if self.timezone:
            options += f" -c timezone={self.timezone}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-o", options, "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "gradebook")
        login = f"postgres:{self.password}" if self.password else "postgres"
        return f"postgresql+psycopg2://{login}@127.0.0.1:{self.port}/gradebook"

    def stop(self) -> None:
        try:
            if self.data.exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
