"""A real course on a multi-user hub for the hub tests: OS accounts (prefix ``kamhub-``), folders, release.

Needs root (CI runs as root): the accounts are real, so file permissions are the kernel's.
"""

from __future__ import annotations

import contextlib
import grp
import os
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from course.hub import accounts, keys, serve
from course.hub.hubconfig import HubSettings, server_environment
from tests import pg
from tests.conftest import MINI
from tests.systemtools import accounts_reason, postgres_reason, skip_unless_met

PREFIX = "kamhub-"
# One learners' environment for every hub test (and run): building it takes about a minute, and its stamp
# tells `course hub` when the runtime changed and must be reinstalled.
LEARNER_ENV = Path("/var/tmp/kamhub-learner-env")
LEARNER_ENV_NATIONAL = Path("/var/tmp/kamhub-learner-env-ngshare")  # with ngshare's client: not flipped back and forth
NGSHARE_ENV = Path("/var/tmp/kamhub-ngshare-env")  # ngshare's own environment, built once too


def needs_root() -> None:
    """Root, the account tools and an interpreter other accounts can reach; else skip (fail in CI) saying which."""
    skip_unless_met(accounts_reason())


@dataclass(frozen=True)
class HubCourse:
    settings: HubSettings
    home: Path
    passwords: dict[str, str]

    @property
    def root(self) -> Path:
        return Path(self.settings.root)

    @property
    def inbound(self) -> Path:
        return Path(self.settings.exchange) / self.settings.course_id / "inbound"

    def learner(self, name: str, *argv: str,
                env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as the learner ``name``, in their home, as their hub server would."""
        env = accounts.user_env(name, {**server_environment(self.settings, "learner"), **(env_extra or {})})
        return accounts.run_as(name, argv, env)

    def python_as(self, name: str, code: str) -> subprocess.CompletedProcess[str]:
        """``code`` run as the learner ``name`` by the learners' interpreter (no course package, no keys)."""
        return self.learner(name, str(Path(self.settings.learner_bindir) / "python"), "-c", code)

    def nbgrader_as(self, name: str, *argv: str) -> subprocess.CompletedProcess[str]:
        return self.learner(name, str(Path(self.settings.learner_bindir) / "nbgrader"), *argv, "--course", "kam-cert")

    def instructor(self, *argv: str) -> str:
        return serve.as_instructor(self.settings, list(argv))

    def hub_token(self, name: str) -> str:
        """A hub API token of ``name``, made by JupyterHub's own `jupyterhub token` (root, the hub's database)."""
        argv, env = serve.hub_command(self.settings)
        done = subprocess.run([argv[0], "token", name, *argv[1:]], env=env, cwd=self.settings.state,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"`jupyterhub token {name}` failed: {done.stderr.strip()[-800:]}")
        return done.stdout.strip().splitlines()[-1]

    def with_token(self, name: str, token: str, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as the learner ``name`` with ``token`` as their server's hub token (what their kernel holds)."""
        env = accounts.user_env(name, {**server_environment(self.settings, "learner"), "JUPYTERHUB_API_TOKEN": token})
        return accounts.run_as(name, argv, env)


@contextmanager
def install_restored() -> Iterator[Path]:
    """``course hub`` closes the course's own install to the instructors' group; give it back its group and mode."""
    install = keys.install_root()
    before = install.stat()
    try:
        yield install
    finally:
        os.chown(install, -1, before.st_gid)
        os.chmod(install, stat.S_IMODE(before.st_mode))


@contextmanager
def hub_course(tag: str, learners: list[str], port: int, content: Path = MINI,
               separator: str = "-") -> Iterator[HubCourse]:
    """Accounts ``kamhub-<tag>-teacher`` and ``kamhub-<tag>-<learner>``, the course ``content`` with ch01 released.

    ``separator`` "_" names learners ``kamhub_<tag>_<learner>``: ids a paper variant can carry (no hyphen).
    """
    needs_root()
    groups = accounts.CourseGroups("kam-cert")
    existing_groups = {g.gr_name for g in grp.getgrall()}
    teacher = f"{PREFIX}{tag}-teacher"
    names = [f"{PREFIX}{tag}-{n}" if separator == "-" else f"kamhub_{tag}_{n}" for n in learners]
    passwords = {n: f"pw-{n}" for n in [teacher, *names]}
    for name in [teacher, *names]:  # a killed earlier run may have left the account or its home (with its files)
        accounts.remove_user(name)
        shutil.rmtree(Path("/home") / name, ignore_errors=True)
    home = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{tag}-"))
    with install_restored():
        try:
            settings = serve.setup(home, port, serve.Accounts([teacher], names, passwords), source_content=content,
                                   learner_env=LEARNER_ENV)
            serve.as_instructor(settings, ["generate", "ch01"])
            serve.as_instructor(settings, ["release", "ch01"])
            yield HubCourse(settings, home, passwords)
        finally:
            for name in [teacher, *names]:
                accounts.remove_user(name)
            for group in (groups.instructors, groups.learners):
                if group not in existing_groups:
                    accounts.remove_group(group)
            shutil.rmtree(home, ignore_errors=True)


@contextmanager
def running_hub(hc: HubCourse) -> Iterator[HubCourse]:
    """JupyterHub serving ``hc`` until the block ends (it stops its servers, services and proxy then)."""
    import time
    import urllib.request

    argv, env = serve.hub_command(hc.settings)
    log = (hc.home / "hub.log").open("w")
    # Its own process group: the proxy and the services it starts go with it, even if it dies at start-up.
    proc = subprocess.Popen(argv, env=env, cwd=hc.settings.state, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        while True:  # until the login page answers (or the hub died)
            try:
                urllib.request.urlopen(f"{hc.settings.url}/hub/login", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    log.flush()
                    tail = "\n".join(Path(log.name).read_text(encoding="utf-8").splitlines()[-120:])
                    raise RuntimeError(f"JupyterHub stopped:\n{tail}") from None
                time.sleep(0.5)
        yield hc
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left (a hub that died at start-up)
        log.close()


@dataclass(frozen=True)
class NationalCourse(HubCourse):
    db_url: str = ""
    proc: subprocess.Popen[bytes] | None = None


@contextmanager
def national_course(tag: str, learners: list[str], port: int, content: Path = MINI,
                    separator: str = "-") -> Iterator[NationalCourse]:
    """The national path on this machine: JupyterHub with the ngshare service, PostgreSQL (a password; the server
    in China time) for the gradebook and ngshare, accounts ``kamhub-<tag>-*``; ``content`` with ch01 released.

    ``separator``: as for :func:`hub_course`.
    """
    needs_root()
    skip_unless_met(postgres_reason())
    groups = accounts.CourseGroups("kam-cert")
    existing_groups = {g.gr_name for g in grp.getgrall()}
    teacher = f"{PREFIX}{tag}-teacher"
    names = [f"{PREFIX}{tag}-{n}" if separator == "-" else f"kamhub_{tag}_{n}" for n in learners]
    passwords = {n: f"pw-{n}" for n in [teacher, *names]}
    for name in [teacher, *names]:  # as hub_course: nothing of a killed earlier run
        accounts.remove_user(name)
        shutil.rmtree(Path("/home") / name, ignore_errors=True)
    home = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{tag}-"))
    server = pg.Postgres(password=secrets.token_hex(12), timezone="Asia/Shanghai")
    proc = None
    with install_restored():
        try:
            url = server.start()
            settings = serve.setup(home, port, serve.Accounts([teacher], names, passwords), source_content=content,
                                   learner_env=LEARNER_ENV_NATIONAL, exchange="ngshare", db_url=url,
                                   ngshare_env=NGSHARE_ENV)
            proc = serve.start(settings, log=home / "hub.log")
            serve.wait_until_up(settings, proc)
            serve.enroll(settings)
            serve.as_instructor(settings, ["generate", "ch01"])
            serve.as_instructor(settings, ["release", "ch01"])
            yield NationalCourse(settings, home, passwords, url, proc)
        finally:
            if proc is not None:
                serve.stop(proc, settings)
                log = home / "hub.log"
                if log.exists():
                    shutil.copyfile(log, f"/tmp/{PREFIX}{tag}-hub.log")  # the home is removed below
            server.stop()
            for name in [teacher, *names]:
                accounts.remove_user(name)
            for group in (groups.instructors, groups.learners):
                if group not in existing_groups:
                    accounts.remove_group(group)
            shutil.rmtree(home, ignore_errors=True)
