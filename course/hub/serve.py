"""``course hub``: accounts, folders and JupyterHub for one course on one machine (run as root).

Everything lives under one home folder (default ``/srv/kam-cert``)::

    <home>/course     the course folder (nbgrader_config.py, source/, gradebook/), instructors only
    <home>/content    the course content with the answer keys, instructors only
    <home>/exchange   nbgrader's exchange, closed (see course/hub/layout.py)
    <home>/state      the hub's database (0600), cookie secret and each role's Jupyter settings (root)
    <home>/envs/learner  the learners' environment: JupyterLab, nbgrader, the keyless runtime; no course

With ``--exchange ngshare`` (the national path on one machine, :mod:`course.hub.ngshare`) there is no
exchange folder: the ngshare service keeps the exchange in the course's PostgreSQL database and in
``<home>/ngshare`` (root only), runs from ``<home>/envs/ngshare``, and the gradebook is PostgreSQL too;
the hub starts first, then the course is enrolled in ngshare and the chapters released.

Instructors' servers run from the course's own install, which ``course hub`` closes to everyone but
the instructors' group; before the hub starts, a probe run as a learner proves that no place holding
keys can be read (:mod:`course.hub.keys`).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from course.errors import WorkflowError
from course.hub import accounts, keys, learnerenv, ngshare, sandbox
from course.hub.accounts import CourseGroups
from course.hub.hubconfig import HubSettings, learner_command, server_environment, write_role_dirs
from course.hub.layout import Layout, prepare
from course.nbconfig import COURSE_ID
from course.ostools import closed_folder, tool

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NODE_PATH = "/usr/share/nodejs"  # Debian's node-configurable-http-proxy keeps its modules here
DEMO_INSTRUCTOR = "kam-teacher"
DEMO_LEARNERS = ("kam-learner1", "kam-learner2")
NBGRADER_CONFIG = '''"""nbgrader settings of this course; `nbgrader ...` and `course ...` both read them."""

from pathlib import Path

from course.nbconfig import configure

configure(get_config(), Path(__file__).parent)  # noqa: F821 - get_config is injected by traitlets
'''


@dataclass(frozen=True)
class Accounts:
    instructors: list[str]
    learners: list[str]
    passwords: dict[str, str]  # only the accounts this run created or reset


def find_proxy() -> str:
    found = os.environ.get("COURSE_HUB_PROXY") or shutil.which("configurable-http-proxy")
    if not found:
        raise WorkflowError("configurable-http-proxy is not installed: `apt-get install node-configurable-http-proxy` "
                            "(or `npm install -g configurable-http-proxy`), or set COURSE_HUB_PROXY to its path")
    return found


def demo_accounts() -> Accounts:
    names = [DEMO_INSTRUCTOR, *DEMO_LEARNERS]
    return Accounts([DEMO_INSTRUCTOR], list(DEMO_LEARNERS), {n: secrets.token_urlsafe(9) for n in names})


def create_accounts(acc: Accounts, groups: CourseGroups) -> None:
    accounts.ensure_group(groups.instructors)
    accounts.ensure_group(groups.learners)
    for name in acc.instructors:
        accounts.ensure_user(name, [groups.instructors, groups.learners], acc.passwords.get(name))
    for name in acc.learners:  # no login outside the hub: a learner's code runs only in their sandboxed server
        accounts.ensure_user(name, [groups.learners], acc.passwords.get(name), shell=tool("nologin"))


def init_course_folder(root: Path, content: Path, source_content: Path | None) -> None:
    """A course folder with nbgrader_config.py and source/ built from the content (if it has none)."""
    from course.build import write_sources
    from course.loader import content_root, load_course

    if not content.exists():
        shutil.copytree(source_content or content_root(), content)
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "nbgrader_config.py").exists():
        (root / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    if not (root / "source").exists():
        write_sources(load_course(content), root / "source")


def check_interpreter(bindir: Path) -> None:
    """Spawned servers run as the users' accounts: they must reach this Python (pyenv under /root does not).

    Both the virtualenv's ``bin/python`` (a ``mktemp -d`` folder is 0700) and the file it links to.
    """
    python = bindir / "python"
    for interpreter in dict.fromkeys((python.absolute(), python.resolve())):
        closed = closed_folder(interpreter)
        if closed is not None:
            raise WorkflowError(f"{interpreter} is inside {closed}, which other accounts cannot enter: users' "
                                f"servers could not start. Install the course with a Python outside it, or "
                                f"`chmod o+x {closed}`")


EXCHANGES = ("closed", "ngshare")


def settings_for(home: Path, port: int, acc: Accounts, learner_env: Path | None = None, exchange: str = "closed",
                 ngshare_env: Path | None = None) -> HubSettings:
    national = exchange == "ngshare"
    return HubSettings(root=str(home / "course"), exchange=str(home / "exchange"), content=str(home / "content"),
                       state=str(home / "state"), port=port, course_id=COURSE_ID,
                       instructors=acc.instructors, learners=acc.learners, proxy=find_proxy(),
                       learner_env=str(learner_env or home / "envs" / "learner"), exchange_mode=exchange,
                       ngshare_env=str(ngshare_env or home / "envs" / "ngshare") if national else "",
                       ngshare_storage=str(home / "ngshare") if national else "",
                       verify_url=os.environ.get("COURSE_VERIFY_URL", ""))


def check_exchange(exchange: str, db_url: str | None, acc: Accounts) -> str | None:
    """The database URL the exchange needs (ngshare: PostgreSQL), or None; WorkflowError naming the fix."""
    if exchange not in EXCHANGES:
        raise WorkflowError(f"unknown exchange {exchange!r}: use closed (one machine) or ngshare (the national path)")
    if exchange != "ngshare":
        return None
    taken = [n for n in [*acc.instructors, *acc.learners] if n == ngshare.ADMIN_SERVICE]
    if taken:
        raise WorkflowError(f"{ngshare.ADMIN_SERVICE} is the name of the course's own hub service (ngshare's "
                            "administrator): no user may have it; rename that account")
    return ngshare.check_db_url(db_url)


def private_folder(path: Path) -> None:
    """A folder only root may enter (ngshare's files)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, 0, 0)
    path.chmod(0o700)


def setup(home: Path, port: int, acc: Accounts, source_content: Path | None = None,
          learner_env: Path | None = None, exchange: str = "closed", db_url: str | None = None,
          ngshare_env: Path | None = None) -> HubSettings:
    """Accounts, folders with their owners and modes, the learners' environment and the hub's settings file.

    ``exchange="ngshare"``: the national path (``db_url``: PostgreSQL for the gradebook and ngshare).
    Ends by proving, as a learner, that no answer key or hub secret can be read (else WorkflowError).
    """
    accounts._root_only("course hub")
    sandbox.bwrap()  # learners' servers run in its sandbox: say so before anything is made
    if not acc.instructors:
        raise WorkflowError("no instructor account: pass --instructor NAME (or --demo)")
    db_url = check_exchange(exchange, db_url, acc)
    settings = settings_for(home, port, acc, learner_env, exchange, ngshare_env)
    install = keys.install_root()
    if (closed := closed_folder(install)) is not None:
        raise WorkflowError(f"the course is installed in {install}, inside {closed}, which other accounts cannot "
                            f"enter: instructors' servers could not start. `chmod o+x {closed}` (enter only), or "
                            "install the course elsewhere")
    groups = settings.groups
    create_accounts(acc, groups)
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)
    init_course_folder(Path(settings.root), Path(settings.content), source_content)
    exchange_folder = None if settings.uses_ngshare else Path(settings.exchange)
    prepare(Layout(Path(settings.root), exchange_folder, Path(settings.content), groups, acc.instructors[0]))
    learnerenv.ensure(Path(settings.learner_env), exchange_client=settings.uses_ngshare)
    if settings.uses_ngshare:
        ngshare.ensure_client()  # instructors' servers and commands run the course's own environment
        ngshare.ensure_env(Path(settings.ngshare_env))
        private_folder(Path(settings.ngshare_storage))
    check_interpreter(Path(settings.learner_bindir))
    keys.close_install(install, grp.getgrnam(groups.instructors).gr_gid)
    state = Path(settings.state)
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)  # the role folders below are read by every server
    keys.create_private(state / "jupyterhub.sqlite")
    if db_url is not None:
        ngshare.new_secrets(settings.secrets_path, db_url)
    write_role_dirs(settings)
    keys.create_private(state / "hub.json")  # the user lists; read by the hub (root) only
    settings.save(state / "hub.json")
    extra = [p for p in (source_content,) if p is not None]
    found = keys.places(Path(settings.root), Path(settings.content), state, install, extra)
    if settings.uses_ngshare:
        found += keys.exchange_places(Path(settings.ngshare_storage), settings.secrets_path)
    learner = acc.learners[0] if acc.learners else "nobody"
    keys.check_learner_reach(learner, Path(settings.learner_bindir) / "python", found, learner_views(settings, learner))
    return settings


def learner_views(settings: HubSettings, learner: str) -> list[keys.Wrap]:
    """Where the key probe runs as ``learner``: as the account on the whole machine (the places above are all
    outside the sandbox, so only there can a loose mode show), and in the view their servers get."""
    home = Path(pwd.getpwnam(learner).pw_dir)
    if not home.is_dir():  # `nobody`, with no learner yet: the whole machine only
        return [list]
    return [list, lambda argv: learner_command(settings, home, argv)]


def instructor_env(settings: HubSettings, name: str) -> dict[str, str]:
    """An instructor's server environment; with ngshare, a short-lived hub token of theirs (the hub must run)."""
    if not settings.uses_ngshare:
        return accounts.user_env(name, server_environment(settings, "instructor"))
    found = ngshare.Secrets.load(settings.secrets_path)
    env = server_environment(settings, "instructor", found)
    env["JUPYTERHUB_API_TOKEN"] = ngshare.user_token(settings.url, name, found)
    return accounts.user_env(name, env)


def as_instructor(settings: HubSettings, argv: Sequence[str]) -> str:
    """Run a `course` command as the first instructor, in the course folder; its output."""
    name = settings.instructors[0]
    done = accounts.run_as(name, [str(Path(settings.bindir) / "course"), *argv, "--root", settings.root],
                           instructor_env(settings, name), cwd=Path(settings.root))
    if done.returncode != 0:
        raise WorkflowError(f"`course {' '.join(argv)}` as {name} failed:\n{done.stderr.strip()}")
    return done.stdout


def hub_command(settings: HubSettings, config: Path = DEPLOY / "jupyterhub_config.py") -> tuple[list[str], dict]:
    if not config.exists():
        raise WorkflowError(f"{config} does not exist: pass --config with the path of deploy/jupyterhub_config.py")
    env = {**os.environ, "COURSE_HUB_SETTINGS": str(Path(settings.state) / "hub.json"),
           "NODE_PATH": os.pathsep.join(p for p in (os.environ.get("NODE_PATH"), NODE_PATH) if p)}
    argv = [str(Path(settings.bindir) / "jupyterhub"), "-f", str(config)]
    return argv, env


def logins_text(settings: HubSettings, acc: Accounts) -> str:
    lines = [f"JupyterHub: {settings.url}/hub/login"]
    for role, names in (("instructor", acc.instructors), ("learner", acc.learners)):
        for name in names:
            password = acc.passwords.get(name, "(the account's own password)")
            lines.append(f"  {role:10} {name:16} {password}")
    return "\n".join(lines)


def start(settings: HubSettings, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start JupyterHub as a child in a process group of its own (its services join it); output to ``log``."""
    argv, env = hub_command(settings)
    out = log.open("ab") if log is not None else None
    try:
        return subprocess.Popen(argv, env=env, cwd=settings.state, stdout=out, start_new_session=True,
                                stderr=subprocess.STDOUT if out else None)
    finally:
        if out is not None:
            out.close()  # the child holds its own descriptor


def wait_until_up(settings: HubSettings, proc: subprocess.Popen[bytes], seconds: float = 180) -> None:
    """Until the login page answers, and with ngshare until the service does (WorkflowError if the hub stops)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{settings.url}/hub/login", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise WorkflowError(f"JupyterHub stopped (status {proc.returncode}) before its login page answered"
                                    ) from None
            if time.monotonic() > deadline:
                raise WorkflowError(f"JupyterHub did not answer at {settings.url}/hub/login within {seconds:.0f} s"
                                    ) from None
            time.sleep(0.5)
    if settings.uses_ngshare:
        ngshare.wait_until_ready(settings.url, lambda: proc.poll() is None, max(deadline - time.monotonic(), 30))


def enroll(settings: HubSettings) -> None:
    """The course, its instructors and learners in ngshare (the hub must run)."""
    ngshare.enroll(settings.url, settings.course_id, settings.instructors, settings.learners,
                   ngshare.Secrets.load(settings.secrets_path))


def stop(proc: subprocess.Popen[bytes], settings: HubSettings | None = None) -> None:
    """Stop JupyterHub (normally it stops its servers, proxy and services itself), then whatever it left.

    A hub that failed while starting leaves its services (in its process group) and its proxy (a session of
    its own, named in ``<state>/proxy.pid``) running: both are stopped here too.
    """
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    pid_file = Path(settings.state) / "proxy.pid" if settings is not None else None
    if pid_file is not None and pid_file.is_file():
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


def serve_until_stopped(proc: subprocess.Popen[bytes], settings: HubSettings) -> int:
    """Wait for JupyterHub; SIGTERM and Ctrl-C stop it cleanly. Its exit status.

    SIGTERM only interrupts the wait: stopping inside the handler would wait for the hub again while this
    wait holds Popen's lock, and hang for ever (measured: the hub exited, ``course hub`` did not).
    """
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # the hub has a session of its own: the terminal's SIGINT reached only us
        stop(proc, settings)
        return proc.returncode


def run(settings: HubSettings) -> None:
    """Become JupyterHub (exec): Ctrl-C and SIGTERM reach it directly, and it stops its servers and proxy."""
    argv, env = hub_command(settings)
    sys.stdout.flush()
    os.chdir(settings.state)
    os.execve(argv[0], argv, env)
