"""The national path on one machine: the ngshare exchange beside the hub, PostgreSQL for it and the gradebook.

``course hub --exchange ngshare`` runs what Zero to JupyterHub runs for a national cohort
(``deploy/z2jh/values.yaml``), with no folder shared with learners:

- **ngshare** (PyPI, pinned) is a hub-managed service at ``/services/ngshare/``, in a virtualenv of its
  own (``<home>/envs/ngshare``: it needs SQLAlchemy 1.x; the course runs 2.x) and with this product's
  patch layer (:mod:`course.hub.ngshare_service`). It keeps releases, submissions and feedback in the
  course's PostgreSQL database (schema ``ngshare``) and a storage folder only root can enter. Every
  caller's identity is the owner of the hub token they send; every submission time is the service's
  clock.
- **ngshare_exchange** (PyPI, pinned) is nbgrader's exchange in learners' and instructors' servers.
  Its metadata pins ``jupyter-core<4.11.2``, which JupyterLab 4 and nbgrader 0.9 cannot use: the pin
  came with its own CI (upstream 5e1ddf1, f1a4864, 2022-11-15) and its code uses only
  ``jupyter_core.paths.jupyter_data_dir``, present in jupyter-core 5. So it is installed without its
  dependencies, with its real needs (rapidfuzz, requests, nbgrader, traitlets) beside it
  (:func:`course.hub.learnerenv.install_exchange_client`).
- **the course service** ``kam-course-admin`` is a token the hub knows (no process): ngshare's
  administrator, it creates the course in ngshare and enrols the learners, and it asks the hub for a
  short-lived token of an instructor when ``course hub`` runs a ``course`` command as that instructor
  outside their server. It may create tokens for instructors only, and no user may take its name.

Secrets (the database URL with its password, the service token) live in ``<state>/secrets.json``
(root, 0600) and reach only root's processes and instructors' servers, never a command line.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from course.errors import WorkflowError
from course.hub import learnerenv

SERVICE = "ngshare"
ADMIN_SERVICE = "kam-course-admin"
SCHEMA = "ngshare"  # ngshare's tables beside the gradebook's in one PostgreSQL database (each has its alembic_version)
SERVICE_SCRIPT = Path(__file__).with_name("ngshare_service.py")
# ngshare 0.6.0 relies on SQLAlchemy 1.x: with 2.x its releases and submissions are never added to the session
# (upstream fd8467e, unreleased). psycopg2 and jupyterhub at the versions the course runs.
SERVICE_REQUIREMENTS = ("ngshare==0.6.0", "SQLAlchemy==1.4.54", "alembic==1.13.3")
SERVICE_PINNED = ("jupyterhub", "psycopg2-binary")
STAMP = "kam-ngshare-env.json"
TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class Secrets:
    """What only root and the instructors' servers may know: the database URL and the course service's token."""

    db_url: str
    admin_token: str

    def save(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(self), out)
        os.chmod(path, 0o600)

    @classmethod
    def load(cls, path: Path) -> Secrets:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise WorkflowError(f"{path} does not exist: run `course hub --exchange ngshare` (as root) to write it"
                                ) from None


def check_db_url(url: str | None) -> str:
    """The gradebook's and ngshare's database: a PostgreSQL URL (else WorkflowError saying how to give one)."""
    if not url:
        raise WorkflowError("the ngshare exchange needs PostgreSQL: set COURSE_DB_URL to the course's database, "
                            "e.g. postgresql+psycopg2://kam:<password>@127.0.0.1/kam (README, 'Beyond one machine')")
    if not url.startswith(("postgresql://", "postgresql+psycopg2://")):
        raise WorkflowError(f"COURSE_DB_URL must be a PostgreSQL URL (postgresql+psycopg2://...) for the ngshare "
                            f"exchange, not {url.split(':', 1)[0]}:...")
    return url


def new_secrets(path: Path, db_url: str) -> Secrets:
    """The secrets for this run: the given database URL; the service token kept from an earlier run, else new."""
    token = Secrets.load(path).admin_token if path.is_file() else secrets.token_hex(32)
    made = Secrets(db_url, token)
    made.save(path)
    return made


def service_port(hub_port: int) -> int:
    return hub_port + 5  # + 3: certificates, + 4: sittings (course.hub.hubconfig)


def services(hub_port: int, env: Path, storage: Path, found: Secrets) -> list[dict[str, Any]]:
    """The hub's ngshare service (managed: the hub starts and stops it) and the course service (a token)."""
    port = service_port(hub_port)
    ngshare = {
        "name": SERVICE, "url": f"http://127.0.0.1:{port}", "display": False,
        # -I: the script's own folder (course/hub, with this module named ngshare) is not on sys.path
        "command": [str(env / "bin" / "python"), "-I", str(SERVICE_SCRIPT), "--admins", ADMIN_SERVICE,
                    "--storage", str(storage / "files")],
        "environment": {"NGSHARE_DB_URL": found.db_url, "NGSHARE_DB_SCHEMA": SCHEMA, "LANG": "C.UTF-8"},
    }
    return [ngshare, {"name": ADMIN_SERVICE, "api_token": found.admin_token, "display": False}]


def roles(instructors_group: str) -> list[dict[str, Any]]:
    """The course service may create tokens for instructors, nothing else."""
    return [{"name": ADMIN_SERVICE, "description": "enrols the course in ngshare; tokens for instructors' commands",
             "scopes": [f"tokens!group={instructors_group}"], "services": [ADMIN_SERVICE]}]


# ------------------------------------------------------------------ environments
def service_requirements() -> list[str]:
    return [*SERVICE_REQUIREMENTS, *(f"{name}=={metadata.version(name)}" for name in SERVICE_PINNED)]


def ensure_env(env: Path) -> bool:
    """ngshare's own virtualenv (root only runs it); True if anything was installed."""
    wanted = {"requirements": service_requirements()}
    stamp = env / STAMP
    if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == wanted:
        return False
    learnerenv.new_venv(env)
    learnerenv.pip_install(env, wanted["requirements"], what="ngshare's environment")
    stamp.write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
    return True


def ensure_client() -> bool:
    """ngshare_exchange in the course's own environment (instructors' servers and commands); True if installed."""
    try:
        if metadata.version(learnerenv.CLIENT_NAME) == learnerenv.CLIENT_VERSION:
            return False
    except metadata.PackageNotFoundError:
        pass
    learnerenv.install_exchange_client(Path(sys.prefix))
    return True


# ------------------------------------------------------------------ talking to the hub and to ngshare
def _call(url: str, token: str, method: str = "GET", form: dict[str, str] | None = None,
          body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data, headers = None, {"Authorization": f"token {token}"}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, {"message": text.decode("utf-8", "replace")[:200]}
    except urllib.error.URLError as exc:
        raise WorkflowError(f"{url.split('/services/')[0].split('/hub/')[0]} does not answer ({exc.reason}): "
                            "the hub and its ngshare service must run (`course hub --exchange ngshare`)") from None


def api_url(hub_url: str) -> str:
    """ngshare's API as servers reach it: through the hub's proxy, on loopback."""
    return f"{hub_url}/services/{SERVICE}"


def wait_until_ready(hub_url: str, alive: Any, seconds: float = 180) -> None:
    """Until ngshare answers through the proxy; ``alive()`` false (the hub stopped) or time out: WorkflowError."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{api_url(hub_url)}/healthz", timeout=5) as response:
                if json.loads(response.read()).get("success"):
                    return
        except (OSError, ValueError):
            pass
        if not alive():
            raise WorkflowError("JupyterHub stopped before the ngshare service answered: see its log above")
        if time.monotonic() > deadline:
            raise WorkflowError(f"the ngshare service did not answer at {api_url(hub_url)}/healthz within "
                                f"{seconds:.0f} s: see the hub's log (the service's own errors are there)")
        time.sleep(0.5)


def enroll(hub_url: str, course_id: str, instructors: list[str], learners: list[str], found: Secrets) -> None:
    """Create the course in ngshare with its instructors and enrol the learners (again: nothing changes)."""
    base, token = api_url(hub_url), found.admin_token
    status, answer = _call(f"{base}/course/{course_id}", token, "POST", form={"instructors": json.dumps(instructors)})
    if status == 409:  # the course exists: make sure each instructor teaches it
        for name in instructors:
            status, answer = _call(f"{base}/instructor/{course_id}/{name}", token, "POST",
                                   form={"first_name": "", "last_name": "", "email": ""})
            _expect(status, answer, f"adding instructor {name} to {course_id} in ngshare")
    else:
        _expect(status, answer, f"creating the course {course_id} in ngshare")
    if learners:
        rows = [{"username": n, "first_name": "", "last_name": "", "email": ""} for n in learners]
        status, answer = _call(f"{base}/students/{course_id}", token, "POST", form={"students": json.dumps(rows)})
        _expect(status, answer, f"enrolling {len(learners)} learner(s) in {course_id} in ngshare")
        refused = [f"{s['username']}: {s.get('message')}" for s in answer.get("status", []) if not s.get("success")]
        if refused:
            raise WorkflowError(f"ngshare refused to enrol: {'; '.join(refused)} (an instructor cannot be a learner)")


def user_token(hub_url: str, name: str, found: Secrets, seconds: int = TOKEN_SECONDS) -> str:
    """A short-lived hub token of ``name`` (an instructor) that can only identify its owner: all ngshare needs."""
    status, answer = _call(f"{hub_url}/hub/api/users/{name}/tokens", found.admin_token, "POST",
                           body={"note": "course hub: an instructor's command", "expires_in": seconds, "scopes": []})
    _expect(status, answer, f"asking the hub for a token of {name}", ok=(200, 201))
    return str(answer["token"])


def _expect(status: int, answer: dict[str, Any], what: str, ok: tuple[int, ...] = (200,)) -> None:
    if status not in ok or answer.get("success") is False:
        raise WorkflowError(f"{what} failed: HTTP {status}: {answer.get('message', answer)}")
