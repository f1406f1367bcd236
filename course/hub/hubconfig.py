"""JupyterHub settings for one course on one machine, and each role's Jupyter configuration.

``course hub`` writes a settings file; ``deploy/jupyterhub_config.py`` reads it and calls
:func:`configure_hub`. Learners and instructors are PAM accounts spawned as themselves by
JupyterHub's LocalProcessSpawner. The role decides the Jupyter configuration folder the server
gets (``JUPYTER_CONFIG_DIR``, owned by root so a learner cannot change it): a learner's lab
keeps only nbgrader's Assignments tab; an instructor's lab has formgrader and runs in the
course folder.
"""

from __future__ import annotations

import json
import os
import pwd
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from course.hub import ngshare, sandbox
from course.hub.accounts import CourseGroups
from course.lab import learner_settings

LOCALE_PLUGIN = "@jupyterlab/translation-extension:plugin"
TEMPLATES = Path(__file__).parent / "templates"

# nbgrader's lab plugins a learner must not see. Its English Assignments tab goes too: learners use the
# Chinese course page (course_runtime.coursepage) over nbgrader's own assignment_list server extension.
LEARNER_DISABLED_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:validate-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:assignment-list",
)
LEARNER_DISABLED_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.course_list",
)
COURSE_PAGE = "kam/assignments"  # course_runtime.coursepage: a learner's landing page
# JupyterHub 6 sends `frame-ancestors 'none'` unless the server sets a policy: allow framing by the same origin
# only, so formgrader's tab inside JupyterLab shows (and no other site can frame the servers).
SAME_ORIGIN_FRAMES = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}


@dataclass(frozen=True)
class HubSettings:
    root: str
    exchange: str
    content: str
    state: str
    port: int
    course_id: str
    instructors: list[str] = field(default_factory=list)
    learners: list[str] = field(default_factory=list)
    proxy: str = "configurable-http-proxy"
    bindir: str = str(Path(sys.executable).parent)  # the instructors' environment (the course's own install)
    learner_env: str = ""  # the learners' environment (course.hub.learnerenv): no course, no keys
    exchange_mode: str = "closed"  # "closed": nbgrader's file exchange, closed; "ngshare": the ngshare service
    ngshare_env: str = ""  # ngshare's own environment (course.hub.ngshare)
    ngshare_storage: str = ""  # ngshare's files: root only
    verify_url: str = ""  # the verification page's public address (default: this hub's own, certificates_url)

    @property
    def learner_bindir(self) -> str:
        return str(Path(self.learner_env) / "bin")

    @property
    def certificates_url(self) -> str:
        """The address certificates link to: ``verify_url``, else the page this hub serves (``/services/certificates/``
        on its own address)."""
        return self.verify_url or f"http://127.0.0.1:{self.port}/services/certificates/"

    @property
    def uses_ngshare(self) -> bool:
        return self.exchange_mode == "ngshare"

    @property
    def secrets_path(self) -> Path:
        """The database URL and the course service's token (ngshare exchange): root only, 0600."""
        return Path(self.state) / "secrets.json"

    @property
    def ngshare_url(self) -> str:
        return ngshare.api_url(self.url)

    @property
    def groups(self) -> CourseGroups:
        return CourseGroups(self.course_id)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def role_dir(self, role: str) -> Path:
        return Path(self.state) / "jupyter" / role

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> HubSettings:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def learner_nbgrader_config(settings: HubSettings) -> str:
    if settings.uses_ngshare:
        return "\n".join([
            "# Written by `course hub`: a learner's nbgrader settings (the ngshare exchange; identity: the hub token).",
            "from ngshare_exchange import configureExchange",
            "c = get_config()  # noqa: F821",
            f"c.CourseDirectory.course_id = {settings.course_id!r}",
            f"configureExchange(c, {settings.ngshare_url!r})",
            "",
        ])
    return "\n".join([
        "# Written by `course hub`: a learner's nbgrader settings (the exchange, the closed steps).",
        "from course_runtime.exchange import configure_learner_exchange",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.course_id = {settings.course_id!r}",
        f"c.Exchange.root = {settings.exchange!r}",
        "configure_learner_exchange(c)",
        "",
    ])


def instructor_nbgrader_config(settings: HubSettings) -> str:
    return "\n".join([
        "# Written by `course hub`: the instructors' nbgrader settings are the course folder's.",
        "from pathlib import Path",
        "from course.nbconfig import configure",
        "c = get_config()  # noqa: F821",
        f"configure(c, Path({settings.root!r}))",
        "",
    ])


def lab_defaults(role: str) -> dict[str, Any]:
    """JupyterLab setting defaults of a role: the course's (course/labconfig), and Chinese menus for learners."""
    defaults = learner_settings()
    if role == "learner":
        defaults[LOCALE_PLUGIN] = {"locale": "zh_CN"}
        # A plain restart leaves the widgets without their kernel (and the next autosave keeps no widget state):
        # learners restart only with "restart and run all", which draws every saved answer again.
        defaults["@jupyterlab/notebook-extension:panel"] = {"toolbar": [{"name": "restart", "disabled": True}]}
        defaults["@jupyterlab/shortcuts-extension:shortcuts"] = {"shortcuts": [
            {"command": "kernelmenu:restart", "keys": ["0", "0"], "disabled": True,
             "selector": "[data-jp-kernel-user]:not(.jp-mod-readWrite) :focus:not(:read-write)"}]}
    return defaults


def instructor_bashrc(settings: HubSettings) -> str:
    return "\n".join([
        "# Written by `course hub`: an instructor's terminal has the course tools and starts in the course folder.",
        "[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc",
        "[ -f ~/.bashrc ] && . ~/.bashrc",
        f'export PATH="{settings.bindir}:$PATH"',
        f'[ "$PWD" = "$HOME" ] && cd {settings.root!r}',
        "",
    ])


def role_files(settings: HubSettings, role: str) -> dict[str, str]:
    """Relative path → text of the Jupyter configuration folder of ``role`` (learner or instructor)."""
    if role == "learner":
        page = {"disabledExtensions": dict.fromkeys(LEARNER_DISABLED_PLUGINS, True)}
        extensions = {**dict.fromkeys(LEARNER_DISABLED_SERVER_EXTENSIONS, False), "course_runtime.coursepage": True}
        # A learner's login shell is nologin (course.hub.accounts): their terminal runs bash, in the sandbox.
        server = {"ServerApp": {"jpserver_extensions": extensions, "tornado_settings": SAME_ORIGIN_FRAMES,
                                "terminado_settings": {"shell_command": ["/bin/bash", "-i"]}}}
        nbgrader = learner_nbgrader_config(settings)
        extra = {}
    else:
        # The terminal: the course tools on PATH, in the course folder (a login shell would reset PATH).
        shell = ["/bin/bash", "--rcfile", str(settings.role_dir(role) / "bashrc"), "-i"]
        server = {"ServerApp": {"tornado_settings": SAME_ORIGIN_FRAMES, "terminado_settings": {"shell_command": shell}}}
        page, nbgrader = {}, instructor_nbgrader_config(settings)
        extra = {"bashrc": instructor_bashrc(settings)}
    return {"labconfig/page_config.json": json.dumps(page, indent=2) + "\n",
            # Read from every Jupyter config folder whatever the install mode (jupyterlab_server's
            # default_setting_overrides): saved widget state, a short autosave, the language.
            "labconfig/default_setting_overrides.d/kam-course.json": json.dumps(lab_defaults(role), indent=2) + "\n",
            "jupyter_server_config.json": json.dumps(server, indent=2) + "\n",
            "nbgrader_config.py": nbgrader,
            # jupyter_core writes this once per config folder, which is read-only here
            "migrated": "written by course hub\n", **extra}


def write_role_dirs(settings: HubSettings) -> None:
    for role in ("learner", "instructor"):
        for rel, text in role_files(settings, role).items():
            path = settings.role_dir(role) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
            path.parent.chmod(0o755)
        settings.role_dir(role).chmod(0o755)
    for folder in (Path(settings.state), Path(settings.state) / "jupyter"):
        folder.chmod(0o755)


def learner_menu_settings(name: str) -> dict[str, Any]:
    """A learner's own 作业 menu (the Chinese course page, in a browser tab of its own); no plain kernel restart."""
    page = {"url": f"/user/{name}/{COURSE_PAGE}", "text": "课程作业（获取、提交、反馈）", "newBrowserTab": True}
    plain_restarts = [{"command": c, "disabled": True} for c in ("kernelmenu:restart", "kernelmenu:restart-and-clear")]
    return {"menus": [{"id": "jp-mainmenu-kam-assignments", "label": "作业", "rank": 5,
                       "items": [{"command": "help:open", "args": page}]},
                      {"id": "jp-mainmenu-kernel", "items": plain_restarts}]}


MENU_SETTINGS_FILE = Path("@jupyterlab/mainmenu-extension/plugin.jupyterlab-settings")


def user_lab_dirs(home: Path) -> dict[str, str]:
    """JupyterLab's settings and workspaces in the user's home (the config folder is root's, read-only)."""
    return {"JUPYTERLAB_SETTINGS_DIR": str(home / ".jupyter" / "lab" / "user-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / ".jupyter" / "lab" / "workspaces")}


def write_learner_menu(name: str) -> None:
    """Give the learner's lab the 作业 menu, unless the learner has menu settings of their own."""
    user = pwd.getpwnam(name)
    path = Path(user_lab_dirs(Path(user.pw_dir))["JUPYTERLAB_SETTINGS_DIR"]) / MENU_SETTINGS_FILE
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(learner_menu_settings(name), ensure_ascii=False, indent=2), encoding="utf-8")
    folder = path
    while folder != Path(user.pw_dir):
        os.chown(folder, user.pw_uid, user.pw_gid)
        folder = folder.parent


def role_of(settings: HubSettings, groups: list[str]) -> str:
    return "instructor" if settings.groups.instructors in groups else "learner"


def server_environment(settings: HubSettings, role: str, secrets: ngshare.Secrets | None = None) -> dict[str, str]:
    """What the hub adds to a server's environment. ``secrets`` (ngshare exchange): the instructors' database URL."""
    bindir = settings.bindir if role == "instructor" else settings.learner_bindir
    env = {"JUPYTER_CONFIG_DIR": str(settings.role_dir(role)), "COURSE_EXCHANGE_MODE": settings.exchange_mode,
           "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    if role == "instructor":
        env["COURSE_CONTENT"] = settings.content
        env["COURSE_VERIFY_URL"] = settings.certificates_url  # certificates link to the page this hub serves
        if settings.uses_ngshare:
            env["COURSE_NGSHARE_URL"] = settings.ngshare_url
            if secrets is not None:
                env["COURSE_DB_URL"] = secrets.db_url
        else:
            env["COURSE_EXCHANGE"] = settings.exchange
    else:
        env["KAM_SITTINGS_URL"] = sittings_url(settings)  # course_runtime.exam: the timed sittings' clock
    return env


def learner_command(settings: HubSettings, home: Path, argv: list[str]) -> list[str]:
    """``argv`` as a learner's server runs it: inside the learner's view of the machine (course.hub.sandbox)."""
    exchange = None if settings.uses_ngshare else Path(settings.exchange)
    return sandbox.command(argv, home, Path(settings.learner_env), settings.role_dir("learner"), exchange)


def verify_service(settings: HubSettings, secrets: ngshare.Secrets | None = None) -> dict[str, Any]:
    """The certificate verification page as a hub-managed service at ``/services/certificates/``.

    The hub starts it (as the hub's own account, which can read the register and the key) and its
    proxy routes to it without a login: whoever holds a certificate may check it. Port: the hub's + 3.
    """
    port = settings.port + 3
    env = {"LANG": "C.UTF-8"}
    db_url = secrets.db_url if secrets is not None else os.environ.get("COURSE_DB_URL")
    if db_url:
        env["COURSE_DB_URL"] = db_url
    return {"name": "certificates", "url": f"http://127.0.0.1:{port}", "display": False, "environment": env,
            "command": [str(Path(settings.bindir) / "course"), "certificate", "serve", "--root", settings.root,
                        "--port", str(port)]}


SITTINGS = "sittings"


def sittings_url(settings: HubSettings) -> str:
    """The sittings service, as learners' servers and kernels reach it (directly, on the loopback)."""
    return f"http://127.0.0.1:{settings.port + 4}/services/{SITTINGS}/"


def sittings_service(settings: HubSettings, secrets: ngshare.Secrets | None = None) -> dict[str, Any]:
    """The exam sittings' clock (course.sittings.service) as a hub-managed service at ``/services/sittings/``.

    It runs as the hub's own account (it writes the gradebook's sittings tables and reads the
    generated papers); learners reach it only with their hub token. Port: the hub's + 4.
    """
    env = {"LANG": "C.UTF-8"}
    db_url = secrets.db_url if secrets is not None else os.environ.get("COURSE_DB_URL")
    if db_url:
        env["COURSE_DB_URL"] = db_url
    return {"name": SITTINGS, "url": f"http://127.0.0.1:{settings.port + 4}", "display": False, "environment": env,
            "command": [str(Path(settings.bindir) / "course"), "sitting", "serve", "--root", settings.root,
                        "--port", str(settings.port + 4)]}


def hub_services(settings: HubSettings, secrets: ngshare.Secrets | None) -> list[dict[str, Any]]:
    """The hub's services (ports: the hub's + 3, + 4, + 5). A service of the course is added here, beside these."""
    found = [verify_service(settings, secrets), sittings_service(settings, secrets)]
    if settings.uses_ngshare and secrets is not None:
        found += ngshare.services(settings.port, Path(settings.ngshare_env), Path(settings.ngshare_storage), secrets)
    return found


def configure_hub(c: Any, settings: HubSettings) -> None:
    """Fill the JupyterHub config object ``c`` for ``settings``."""
    state = Path(settings.state)
    secrets = ngshare.Secrets.load(settings.secrets_path) if settings.uses_ngshare else None
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = settings.port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings.port + 1
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.port + 2}"
    c.ConfigurableHTTPProxy.command = [settings.proxy]
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.template_paths = [str(TEMPLATES)]  # the login and start-up pages in Chinese
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.open_sessions = False
    c.Authenticator.allowed_users = set(settings.instructors) | set(settings.learners)
    c.JupyterHub.load_groups = {
        settings.groups.instructors: {"users": list(settings.instructors)},
        settings.groups.learners: {"users": list(settings.learners)},
    }
    c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = [str(Path(settings.bindir) / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 90

    def pre_spawn(spawner: Any) -> None:
        role = role_of(settings, [g.name for g in spawner.user.groups])
        home = Path(pwd.getpwnam(spawner.user.name).pw_dir)
        spawner.environment = {**spawner.environment, **server_environment(settings, role, secrets),
                               **user_lab_dirs(home)}
        if role == "learner":
            write_learner_menu(spawner.user.name)
            # no course, no keys; and nothing else of the machine (course.hub.sandbox)
            server = str(Path(settings.learner_bindir) / "jupyterhub-singleuser")
            spawner.cmd = learner_command(settings, home, [server])
            spawner.default_url = f"/{COURSE_PAGE}"
        spawner.notebook_dir = settings.root if role == "instructor" else "~"

    c.Spawner.pre_spawn_hook = pre_spawn
    c.JupyterHub.services = hub_services(settings, secrets)
    # Users may call the sittings service, and their servers' tokens (which their kernels hold) carry that scope.
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", f"access:services!service={SITTINGS}"]}]
    c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                     f"access:services!service={SITTINGS}"]
    if settings.uses_ngshare:
        c.JupyterHub.load_roles += ngshare.roles(settings.groups.instructors)
        c.Authenticator.blocked_users = {ngshare.ADMIN_SERVICE}  # ngshare's administrator is the service only
