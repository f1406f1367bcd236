"""Is the national deployment consistent: does the values file pass the chart's own schema, and hold the design?

The Zero to JupyterHub chart's values schema and defaults are vendored at the pinned chart version
(deploy/z2jh/chart/, SOURCE.md names the source). Helm validates the chart's defaults coalesced with the
user's values (and ``--set-file``) before it renders anything; so does this, with the same schema.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from course.hub import learnerenv, ngshare
from course.hub.hubconfig import TEMPLATES, HubSettings, lab_defaults, role_files

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
VALUES = DEPLOY / "z2jh" / "values.yaml"
CHART = DEPLOY / "z2jh" / "chart"
CHART_VERSION = "4.4.0"
LINT = "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}"
# the install command's --set-file: Helm puts the file's text at that key before validating
HUB_COURSE = DEPLOY / "z2jh" / "hub_course.py"
SET_FILES = [("hub/extraFiles/course/stringData", HUB_COURSE),
             *((f"hub/extraFiles/tpl-{t.stem.replace('_', '-')}/stringData", t) for t in sorted(TEMPLATES.glob("*")))]
IN_CLUSTER_NGSHARE = "http://proxy-public/services/ngshare"


def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def coalesce(defaults: Any, given: Any) -> Any:
    """Helm's merge of a chart's defaults with the user's values: maps deep, a given null deletes the key."""
    if not (isinstance(defaults, dict) and isinstance(given, dict)):
        return copy.deepcopy(given)
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = coalesce(defaults.get(key), value)
    return out


def installed_values() -> dict[str, Any]:
    """What Helm validates for the README's install command: the chart's defaults, our values, the --set-file."""
    given = values()
    for key, path in SET_FILES:
        *parents, last = key.split("/")
        at(given, "/".join(parents))[last] = path.read_text(encoding="utf-8")
    return coalesce(yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8")), given)


def schema_errors(tree: dict[str, Any]) -> list[str]:
    schema = yaml.safe_load((CHART / "values.schema.yaml").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(tree))


def at(tree: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("/"):
        tree = tree[key]
    return tree


def test_the_values_file_validates_against_the_charts_schema() -> None:
    """Would `helm upgrade --install ... --version 4.4.0` accept the values (its schema check, before rendering)?"""
    text = VALUES.read_text(encoding="utf-8")
    assert f"--version {CHART_VERSION}" in text
    assert re.findall(r"--set-file (\S+)", text) == [
        f"{key.replace('/', '.')}={path.relative_to(DEPLOY.parent)}" for key, path in SET_FILES]
    assert f"tag `{CHART_VERSION}`" in (CHART / "SOURCE.md").read_text(encoding="utf-8")
    assert schema_errors(installed_values()) == []


@pytest.mark.parametrize(("change", "error"), [
    (("singleuser/memory", {"guarantee": "512M", "limt": "1G"}),
     "singleuser/memory: Additional properties are not allowed ('limt' was unexpected)"),
    (("singleuser/networkPolicy/egressAllowRules", {"privateIPs": "no"}),
     "singleuser/networkPolicy/egressAllowRules/privateIPs: 'no' is not of type 'boolean'"),
    (("cull/timeout", "30m"), "cull/timeout: '30m' is not of type 'integer', 'null'"),
])
def test_the_schema_check_catches_a_wrong_value(change: tuple[str, Any], error: str) -> None:
    """Can the check fail: does a misspelt key or a wrongly typed value come out named?"""
    tree = installed_values()
    key, value = change
    *parents, last = key.split("/")
    at(tree, "/".join(parents))[last] = value
    assert schema_errors(tree) == [error]


def test_the_values_file_lints() -> None:
    done = subprocess.run([sys.executable, "-m", "yamllint", "-d", LINT, str(VALUES)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(("path", "wanted"), [
    ("hub/db/type", "postgres"),                        # the hub's own state, not sqlite on a volume
    ("singleuser/extraEnv/COURSE_EXCHANGE_MODE", "ngshare"),   # no shared filesystem
    ("singleuser/networkPolicy/egressAllowRules/privateIPs", False),  # learners cannot reach PostgreSQL
    ("singleuser/defaultUrl", "/kam/assignments"),      # the Chinese course page, as on one machine
    ("hub/config/Authenticator/blocked_users", [ngshare.ADMIN_SERVICE]),
    ("singleuser/storage/type", "dynamic"),             # one private volume per learner
    ("scheduling/userScheduler/enabled", True),
    ("cull/enabled", True),
    ("hub/loadRoles/formgrader/groups", ["formgrade-kam-cert"]),
    ("hub/config/GenericOAuthenticator/allowed_groups", ["nbgrader-kam-cert", "formgrade-kam-cert"]),
])
def test_the_design_keys(path: str, wanted: Any) -> None:
    assert at(values(), path) == wanted


def test_the_hub_pages_are_those_of_course_hub_in_chinese() -> None:
    """Does the national hub show the Chinese pages of `course hub` (every template, from the course's own files),
    and its login page a Chinese button to the identity provider?"""
    from tests.test_hub_pages import ENGLISH, hub_environment, namespace, shown_text

    config, files = at(values(), "hub/config"), at(values(), "hub/extraFiles")
    folder = Path(config["JupyterHub"]["template_paths"][0])
    assert config["JupyterHub"]["template_paths"] == ["/usr/local/share/jupyterhub/kam-templates"]
    mounted = {Path(f["mountPath"]) for key, f in files.items() if key.startswith("tpl-")}
    assert mounted == {folder / t.name for t in TEMPLATES.glob("*")} and len(mounted) == 5
    page = hub_environment([str(TEMPLATES)]).get_template("login.html").render(**namespace(
        user=None, login_service=config["GenericOAuthenticator"]["login_service"],
        authenticator_login_url="/hub/oauth_login"))
    assert '<a role="button" class="btn btn-jupyter btn-lg" href="/hub/oauth_login">通过统一身份认证登录</a>' in page
    assert [t for t in shown_text(page) if ENGLISH.search(t)] == [] and "用户名：" not in shown_text(page)


def national(port: int = 8000) -> HubSettings:
    return HubSettings(root="/srv/k/course", exchange="/srv/k/exchange", content="/srv/k/content", state="/srv/k/state",
                       port=port, course_id="kam-cert", exchange_mode="ngshare")


def test_learner_servers_get_the_files_course_hub_writes() -> None:
    """Are a learner pod's Jupyter files those of a learner's server on `course hub --exchange ngshare`?

    No nbgrader tool, the course page on, Chinese menus and saved widget state, the ngshare exchange (at
    its in-cluster address).
    """
    files = at(values(), "singleuser/extraFiles")
    mine = role_files(national(), "learner")
    assert files["labconfig"]["data"] == json.loads(mine["labconfig/page_config.json"])
    assert files["serverconfig"]["data"] == json.loads(mine["jupyter_server_config.json"])
    assert files["labdefaults"]["data"] == lab_defaults("learner")
    assert files["nbgrader"]["stringData"] == mine["nbgrader_config.py"].replace(
        national().ngshare_url, IN_CLUSTER_NGSHARE)


def test_the_hub_roles_are_those_of_course_hub() -> None:
    """The course service may create instructors' tokens only, in both places."""
    (role,) = ngshare.roles("formgrade-kam-cert")
    given = at(values(), f"hub/loadRoles/{role['name']}")
    assert {k: given[k] for k in ("scopes", "services")} == {k: role[k] for k in ("scopes", "services")}


def test_the_learner_image_holds_no_course() -> None:
    """Of this repository, only course/runtime enters the learners' image; ngshare's client without its pin."""
    text = (DEPLOY / "images" / "learner" / "Dockerfile").read_text(encoding="utf-8")
    copies = [line.split()[1] for line in text.splitlines() if line.startswith("COPY")]
    assert copies == ["deploy/images/learner/requirements.txt", "course/runtime"]
    assert f"--no-deps {learnerenv.CLIENT_NAME}=={learnerenv.CLIENT_VERSION}" in text
    assert "python -m course.hub.learnerenv 5.5.0 > deploy/images/learner/requirements.txt" in text


def test_the_learner_image_installs_what_the_learners_environment_does() -> None:
    """`python -m course.hub.learnerenv 5.5.0`: the same parts, jupyterhub at the chart's hub version."""
    done = subprocess.run([sys.executable, "-m", "course.hub.learnerenv", "5.5.0"], capture_output=True, text=True,
                          check=True)
    wanted = [*learnerenv.requirements(), *learnerenv.client_requirements()]
    assert done.stdout.split() == [r if not r.startswith("jupyterhub==") else "jupyterhub==5.5.0" for r in wanted]


def test_the_ngshare_image_runs_what_course_hub_runs() -> None:
    text = (DEPLOY / "images" / "ngshare" / "Dockerfile").read_text(encoding="utf-8")
    assert all(r in text for r in ngshare.SERVICE_REQUIREMENTS)
    assert '"-I", "/srv/ngshare_service.py", "--admins", "kam-course-admin"' in text
    assert "COPY course/hub/ngshare_service.py /srv/ngshare_service.py" in text


def test_the_capacity_numbers_match_the_values_file() -> None:
    """deploy/CAPACITY.md's memory guarantee and cull timeout are the values file's."""
    text = (DEPLOY / "CAPACITY.md").read_text(encoding="utf-8")
    v = values()
    assert at(v, "singleuser/memory/guarantee") == "512M" and "guaranteed **512 MB**" in text
    assert at(v, "cull/timeout") == 1800 and "| idle cull | 30 min |" in text
    assert "PLACEHOLDER" not in text and re.search(r"\*\*418 submissions/s\*\*", text)  # the grading benchmark


CERTIFICATES = DEPLOY / "z2jh" / "certificates.yaml"


def test_the_cluster_serves_the_verification_page_and_instructors_link_to_it() -> None:
    """On the national deployment: is there a verification page routed at /services/certificates/, reading the
    register and the certificates folder the instructors write, and do their certificates link to it?"""
    service = at(values(), "hub/services/certificates")
    assert service == {"url": "http://kam-certificates.kam-cert.svc:8010", "display": False}  # no login, no token
    docs = {d["kind"]: d for d in yaml.safe_load_all(CERTIFICATES.read_text(encoding="utf-8")) if d}
    assert set(docs) == {"PersistentVolumeClaim", "Deployment", "Service"}
    assert (docs["Service"]["metadata"]["name"], docs["Service"]["spec"]["ports"][0]["port"]) == (
        "kam-certificates", 8010)
    assert docs["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteMany"]  # shared by many pods
    pod = docs["Deployment"]["spec"]["template"]
    [page] = pod["spec"]["containers"]
    assert page["command"] == ["course", "certificate", "serve", "--root", "/srv/kam-certificates", "--address",
                               "0.0.0.0", "--port", "8010", "--prefix", "/services/certificates/"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in page["env"]}
    assert env == {"COURSE_CERTIFICATES_DIR": "/srv/kam-certificates",
                   "COURSE_DB_URL": {"secretKeyRef": {"name": "kam-gradebook", "key": "url"}}}
    assert page["volumeMounts"] == [{"name": "certificates", "mountPath": "/srv/kam-certificates", "readOnly": True}]
    assert pod["metadata"]["labels"]["kam-cert/gradebook"] == "true"  # admitted to PostgreSQL
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "kam-certificates"

    class Spawner:  # what KubeSpawner's pre_spawn_hook reads and sets
        def __init__(self, groups: list[str]) -> None:
            self.user = type("User", (), {"groups": [type("Group", (), {"name": g})() for g in groups]})()
            self.environment: dict[str, str] = {}
            self.volumes: list[dict[str, Any]] = []
            self.volume_mounts: list[dict[str, Any]] = []
            self.extra_labels: dict[str, str] = {}
            self.image = "learner"

    config = type("Config", (), {"KubeSpawner": type("KubeSpawner", (), {})()})()
    namespace: dict[str, Any] = {"get_config": lambda: config}
    with pytest.MonkeyPatch.context() as env_vars:
        env_vars.setenv("COURSE_DB_URL", "postgresql+psycopg2://x@pg/db")
        exec(compile(HUB_COURSE.read_text(encoding="utf-8"), str(HUB_COURSE), "exec"), namespace)
        teacher, learner = Spawner(["formgrade-kam-cert"]), Spawner(["nbgrader-kam-cert"])
        config.KubeSpawner.pre_spawn_hook(teacher)
        config.KubeSpawner.pre_spawn_hook(learner)
    host = at(values(), "ingress/hosts")[0]
    assert teacher.environment["COURSE_VERIFY_URL"] == f"https://{host}/services/certificates/"
    assert teacher.environment["COURSE_CERTIFICATES_DIR"] == "/srv/kam-certificates"
    assert teacher.volume_mounts == [{"name": "kam-certificates", "mountPath": "/srv/kam-certificates"}]
    assert teacher.volumes == [{"name": "kam-certificates", "persistentVolumeClaim": {"claimName": "kam-certificates"}}]
    assert (learner.environment, learner.volumes, learner.image) == ({}, [], "learner")


def test_the_certificates_manifest_lints() -> None:
    done = subprocess.run([sys.executable, "-m", "yamllint", "-d", LINT, str(CERTIFICATES)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
