"""What does `course hub` give each role, and when does it refuse to start? (no accounts needed)"""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from course.errors import WorkflowError
from course.hub import learnerenv, ngshare, sandbox
from course.hub.hubconfig import (
    HubSettings,
    hub_services,
    instructor_bashrc,
    role_files,
    role_of,
    server_environment,
    verify_service,
)
from course.hub.serve import Accounts, check_exchange, check_interpreter, closed_folder

SETTINGS = HubSettings(root="/srv/k/course", exchange="/srv/k/exchange", content="/srv/k/content",
                       state="/srv/k/state", port=8000, course_id="kam-cert", instructors=["t"], learners=["l"])


def test_a_learners_lab_has_no_nbgrader_tool_and_the_chinese_course_page() -> None:
    """No nbgrader plugin in the lab (its English Assignments tab included); the course page's server side on."""
    files = role_files(SETTINGS, "learner")
    disabled = json.loads(files["labconfig/page_config.json"])["disabledExtensions"]
    assert set(disabled) == {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                             "@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:course-list",
                             "@jupyter/nbgrader:menu", "@jupyter/nbgrader:assignment-list"}
    server = json.loads(files["jupyter_server_config.json"])["ServerApp"]
    assert server["jpserver_extensions"] == {
        "nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.validate_assignment": False,
        "nbgrader.server_extensions.course_list": False, "course_runtime.coursepage": True}
    assert server["tornado_settings"]["headers"] == {"Content-Security-Policy": "frame-ancestors 'self'"}
    assert server["terminado_settings"] == {"shell_command": ["/bin/bash", "-i"]}  # the account's shell is nologin
    assert "configure_learner_exchange(c)" in files["nbgrader_config.py"]
    imports = [ln for ln in files["nbgrader_config.py"].splitlines() if "import" in ln]
    assert imports == ["from course_runtime.exchange import configure_learner_exchange"]  # nothing of the course


def test_every_role_gets_the_course_lab_defaults_and_learners_chinese_menus() -> None:
    """Do the lab settings reach every server the hub starts (a config folder, whatever the install mode)?"""
    learner = json.loads(role_files(SETTINGS, "learner")["labconfig/default_setting_overrides.d/kam-course.json"])
    teacher = json.loads(role_files(SETTINGS, "instructor")["labconfig/default_setting_overrides.d/kam-course.json"])
    assert learner["@jupyter-widgets/jupyterlab-manager:plugin"] == {"saveState": True}
    assert learner["@jupyterlab/docmanager-extension:plugin"] == {"autosave": True, "autosaveInterval": 1}
    assert learner["@jupyterlab/translation-extension:plugin"] == {"locale": "zh_CN"}
    assert "@jupyterlab/translation-extension:plugin" not in teacher
    assert teacher["@jupyter-widgets/jupyterlab-manager:plugin"] == {"saveState": True}


def test_an_instructors_lab_has_formgrader_and_the_course_folder() -> None:
    files = role_files(SETTINGS, "instructor")
    assert json.loads(files["labconfig/page_config.json"]) == {}
    server = json.loads(files["jupyter_server_config.json"])["ServerApp"]
    assert server["tornado_settings"]["headers"] == {"Content-Security-Policy": "frame-ancestors 'self'"}
    assert server["terminado_settings"]["shell_command"] == [
        "/bin/bash", "--rcfile", "/srv/k/state/jupyter/instructor/bashrc", "-i"]
    assert f'export PATH="{SETTINGS.bindir}:$PATH"' in files["bashrc"]
    assert "[ \"$PWD\" = \"$HOME\" ] && cd '/srv/k/course'" in files["bashrc"]
    assert "configure(c, Path('/srv/k/course'))" in files["nbgrader_config.py"]
    assert server_environment(SETTINGS, "instructor")["COURSE_EXCHANGE"] == "/srv/k/exchange"
    assert "COURSE_EXCHANGE" not in server_environment(SETTINGS, "learner")


def test_an_instructors_terminal_has_the_course_command_and_starts_in_the_course_folder(tmp_path: Path) -> None:
    """Run as the terminal runs it (bash --rcfile ... -i, from the home folder), under a ~/.bashrc that resets PATH:
    is `course` the instructors' own, and is the shell in the course folder?"""
    home, root = tmp_path / "home", tmp_path / "course"
    home.mkdir()
    root.mkdir()
    (home / ".bashrc").write_text("export PATH=/usr/bin:/bin\n", encoding="utf-8")
    settings = HubSettings(root=str(root), exchange="/srv/k/exchange", content="/srv/k/content",
                           state="/srv/k/state", port=8000, course_id="kam-cert")
    rc = tmp_path / "bashrc"
    rc.write_text(instructor_bashrc(settings), encoding="utf-8")
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run([bash, "--rcfile", str(rc), "-i"], input="command -v course\npwd\nexit\n", cwd=home,
                          env={"HOME": str(home), "PWD": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.splitlines()[-2:] == [f"{settings.bindir}/course", str(root)], done.stderr


def test_the_role_comes_from_the_hub_group() -> None:
    assert role_of(SETTINGS, ["formgrade-kam-cert", "nbgrader-kam-cert"]) == "instructor"
    assert role_of(SETTINGS, ["nbgrader-kam-cert"]) == "learner"


def test_the_hub_runs_the_certificate_verification_page_as_a_service() -> None:
    """Does the hub start `course certificate serve` on the course folder, routed at /services/certificates/?"""
    service = verify_service(SETTINGS)
    assert (service["name"], service["url"]) == ("certificates", "http://127.0.0.1:8003")
    assert service["command"][1:] == ["certificate", "serve", "--root", "/srv/k/course", "--port", "8003"]
    assert Path(service["command"][0]).name == "course"


def test_instructors_certificates_link_to_the_page_the_hub_serves_or_the_address_set() -> None:
    """Does an instructor's `certify results` on the hub get the verification address (learners do not)?"""
    assert server_environment(SETTINGS, "instructor")["COURSE_VERIFY_URL"] == (
        "http://127.0.0.1:8000/services/certificates/")
    public = dataclasses.replace(SETTINGS, verify_url="https://cert.example.cn/services/certificates/")
    assert server_environment(public, "instructor")["COURSE_VERIFY_URL"] == (
        "https://cert.example.cn/services/certificates/")
    assert "COURSE_VERIFY_URL" not in server_environment(public, "learner")


def test_an_interpreter_other_accounts_cannot_reach_is_refused() -> None:
    tmp_path = Path(tempfile.mkdtemp(prefix="kamhub-cfg-", dir="/tmp"))  # pytest's tmp_path is 0700 itself
    closed = tmp_path / "home"
    (closed / "venv" / "bin").mkdir(parents=True)
    (closed / "venv" / "bin" / "python").write_text("")
    closed.chmod(0o700)
    tmp_path.chmod(0o755)
    try:
        if closed_folder(tmp_path) is not None:
            pytest.skip("the temporary folder itself is closed to other accounts")
        assert closed_folder(closed / "venv" / "bin" / "python") == closed
        with pytest.raises(WorkflowError) as err:
            check_interpreter(closed / "venv" / "bin")
        assert str(err.value) == (
            f"{closed / 'venv' / 'bin' / 'python'} is inside {closed}, which other accounts cannot enter: users' "
            f"servers could not start. Install the course with a Python outside it, or `chmod o+x {closed}`")
    finally:
        closed.chmod(0o755)
        shutil.rmtree(tmp_path)


# ---------------------------------------------------------------- the national path: the ngshare exchange
NATIONAL = HubSettings(root="/srv/k/course", exchange="/srv/k/exchange", content="/srv/k/content", state="/srv/k/state",
                       port=8000, course_id="kam-cert", instructors=["t"], learners=["l"], exchange_mode="ngshare",
                       ngshare_env="/srv/k/envs/ngshare", ngshare_storage="/srv/k/ngshare")
FOUND = ngshare.Secrets(db_url="postgresql+psycopg2://kam:s3cret@127.0.0.1/kam", admin_token="a" * 64)


def test_with_ngshare_a_learners_nbgrader_talks_to_the_service_with_the_hub_token() -> None:
    """The learner's nbgrader config names ngshare_exchange and the service through the proxy; nothing of the course."""
    text = role_files(NATIONAL, "learner")["nbgrader_config.py"]
    assert [ln for ln in text.splitlines() if "import" in ln] == ["from ngshare_exchange import configureExchange"]
    assert "configureExchange(c, 'http://127.0.0.1:8000/services/ngshare')" in text
    assert "c.Exchange.root" not in text


def test_with_ngshare_only_instructors_get_the_database() -> None:
    """The gradebook's URL (with its password) reaches instructors' servers, never a learner's."""
    learner = server_environment(NATIONAL, "learner", FOUND)
    teacher = server_environment(NATIONAL, "instructor", FOUND)
    assert learner["COURSE_EXCHANGE_MODE"] == teacher["COURSE_EXCHANGE_MODE"] == "ngshare"
    assert "s3cret" not in json.dumps(learner) and "COURSE_NGSHARE_URL" not in learner
    assert teacher["COURSE_DB_URL"] == FOUND.db_url
    assert teacher["COURSE_NGSHARE_URL"] == "http://127.0.0.1:8000/services/ngshare"
    assert "COURSE_EXCHANGE" not in teacher  # no exchange folder


def test_with_ngshare_the_hub_runs_the_service_and_knows_the_course_service() -> None:
    """ngshare beside the certificates page: its database URL in its environment, never on its command line."""
    services = {s["name"]: s for s in hub_services(NATIONAL, FOUND)}
    assert sorted(services) == ["certificates", "kam-course-admin", "ngshare", "sittings"]
    service = services["ngshare"]
    assert service["url"] == "http://127.0.0.1:8005"
    assert service["command"][:2] == ["/srv/k/envs/ngshare/bin/python", "-I"]
    assert service["command"][2:] == [str(ngshare.SERVICE_SCRIPT), "--admins", "kam-course-admin",
                                      "--storage", "/srv/k/ngshare/files"]
    assert service["environment"]["NGSHARE_DB_URL"] == FOUND.db_url and "s3cret" not in json.dumps(service["command"])
    assert services["kam-course-admin"] == {"name": "kam-course-admin", "api_token": FOUND.admin_token,
                                            "display": False}
    assert services["certificates"]["environment"]["COURSE_DB_URL"] == FOUND.db_url
    assert services["sittings"]["environment"]["COURSE_DB_URL"] == FOUND.db_url  # the sittings' clock, same gradebook
    assert ngshare.roles("formgrade-kam-cert") == [{
        "name": "kam-course-admin", "description": "enrols the course in ngshare; tokens for instructors' commands",
        "scopes": ["tokens!group=formgrade-kam-cert"], "services": ["kam-course-admin"]}]


@pytest.mark.parametrize(("exchange", "db_url", "names", "message"), [
    ("shared", None, ["t"], "unknown exchange 'shared': use closed (one machine) or ngshare (the national path)"),
    ("ngshare", None, ["t"], "the ngshare exchange needs PostgreSQL: set COURSE_DB_URL to the course's database, e.g. "
     "postgresql+psycopg2://kam:<password>@127.0.0.1/kam (README, 'Beyond one machine')"),
    ("ngshare", "sqlite:////srv/k/gradebook.db", ["t"],
     "COURSE_DB_URL must be a PostgreSQL URL (postgresql+psycopg2://...) for the ngshare exchange, not sqlite:..."),
    ("ngshare", FOUND.db_url, ["t", "kam-course-admin"], "kam-course-admin is the name of the course's own hub service "
     "(ngshare's administrator): no user may have it; rename that account"),
])
def test_the_exchange_is_refused_before_anything_is_made(exchange: str, db_url: str | None, names: list[str],
                                                         message: str) -> None:
    with pytest.raises(WorkflowError) as err:
        check_exchange(exchange, db_url, Accounts(names[:1], names[1:], {}))
    assert str(err.value) == message


def test_check_exchange_passes_the_database_url_on() -> None:
    assert check_exchange("closed", None, Accounts(["t"], [], {})) is None
    assert check_exchange("ngshare", FOUND.db_url, Accounts(["t"], ["l"], {})) == FOUND.db_url


def test_an_instructors_command_without_the_ngshare_address_says_what_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from traitlets.config import Config

    from course.nbconfig import configure

    monkeypatch.setenv("COURSE_EXCHANGE_MODE", "ngshare")
    monkeypatch.delenv("COURSE_NGSHARE_URL", raising=False)
    with pytest.raises(ValueError) as err:
        configure(Config(), Path(tempfile.mkdtemp(prefix="kam-cfg-")))
    assert str(err.value) == (
        "COURSE_EXCHANGE_MODE=ngshare needs COURSE_NGSHARE_URL, the ngshare service's address (e.g. "
        "http://127.0.0.1:8000/services/ngshare); `course hub` sets both in instructors' servers")


def test_the_secrets_file_is_roots_alone(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    ngshare.new_secrets(path, FOUND.db_url)
    first = ngshare.Secrets.load(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and first.db_url == FOUND.db_url and len(first.admin_token) == 64
    assert ngshare.new_secrets(path, "postgresql://other/db").admin_token == first.admin_token  # kept across runs
    with pytest.raises(WorkflowError) as err:
        ngshare.Secrets.load(tmp_path / "missing.json")
    assert str(err.value) == (f"{tmp_path / 'missing.json'} does not exist: run `course hub --exchange ngshare` "
                              "(as root) to write it")


def test_the_learners_environment_has_the_exchange_client_only_for_ngshare(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    """Added for ngshare, removed again for a closed-exchange hub; a runtime change reinstalls only that."""
    calls: list[str] = []
    monkeypatch.setattr(learnerenv, "new_venv", lambda env: calls.append("venv"))
    monkeypatch.setattr(learnerenv, "pip_install", lambda env, args, what="": calls.append(f"pip {args[0]}"))
    monkeypatch.setattr(learnerenv, "install_exchange_client", lambda env: calls.append("client"))
    monkeypatch.setattr(learnerenv, "remove_exchange_client", lambda env: calls.append("no client"))
    monkeypatch.setattr(learnerenv, "install_runtime", lambda env, runtime: calls.append("runtime"))
    env = tmp_path / "env"
    env.mkdir()
    assert learnerenv.ensure(env) and calls == ["venv", f"pip {learnerenv.requirements()[0]}", "runtime"]
    calls.clear()
    assert learnerenv.ensure(env, exchange_client=True) and calls == ["client"]
    calls.clear()
    assert not learnerenv.ensure(env, exchange_client=True) and calls == []
    assert learnerenv.ensure(env) and calls == ["no client"]  # a closed-exchange hub: exactly its tested parts
    calls.clear()
    monkeypatch.setattr(learnerenv, "runtime_digest", lambda runtime_dir=None: "changed")
    assert learnerenv.ensure(env) and calls == ["runtime"]


def test_a_learners_server_sees_the_system_read_only_and_only_its_own_folders_writable(tmp_path: Path) -> None:
    """Which folders does the sandbox bind, read-only or writable, for a closed-exchange hub and an ngshare one?"""
    env = tmp_path / "learner-env"
    env.mkdir()
    (env / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n", encoding="utf-8")
    home, config, exchange = Path("/home/l"), Path("/srv/k/state/jupyter/learner"), Path("/srv/k/exchange")
    args = sandbox.view_args(home, env, config, exchange)
    pairs = list(itertools.pairwise(args))
    binds = [(flag, src) for flag, src in pairs if flag in ("--bind", "--ro-bind")]
    assert binds == [("--ro-bind", "/usr"), ("--ro-bind", "/etc")] + [
        ("--ro-bind", d) for d in sandbox.SYSTEM_LINKS if Path(d).is_dir() and not Path(d).is_symlink()] + [
        ("--ro-bind", str(env)), ("--ro-bind", str(config)), ("--bind", str(exchange)), ("--bind", str(home))]
    assert ("--tmpfs", "/tmp") in pairs and ("--chdir", str(home)) in pairs and "--unshare-pid" in args
    assert ("--bind", str(exchange)) not in itertools.pairwise(sandbox.view_args(home, env, config, None))


def test_a_hub_without_bubblewrap_or_with_a_broken_learners_environment_says_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyvenv.cfg").write_text("version = 3.11.7\n", encoding="utf-8")
    with pytest.raises(WorkflowError) as err:
        sandbox.base_prefix(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'pyvenv.cfg'} names no `home`: the learners' environment is not a "
                              "virtual environment; fix: delete it and run `course hub` again")
    monkeypatch.setattr(sandbox, "BWRAP", "bwrap-not-installed")
    with pytest.raises(WorkflowError) as err:
        sandbox.bwrap()
    assert str(err.value).startswith("bubblewrap is not installed: learners' servers run in its sandbox") \
        and str(err.value).endswith("fix: `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`, "
                                    "then run `course hub` again")
