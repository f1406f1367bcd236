"""What does `course hub` give each role, and when does it refuse to start? (no accounts needed)"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from course.errors import WorkflowError
from course.hub.hubconfig import HubSettings, role_files, role_of, server_environment, verify_service
from course.hub.serve import check_interpreter, closed_folder

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


def test_the_role_comes_from_the_hub_group() -> None:
    assert role_of(SETTINGS, ["formgrade-kam-cert", "nbgrader-kam-cert"]) == "instructor"
    assert role_of(SETTINGS, ["nbgrader-kam-cert"]) == "learner"


def test_the_hub_runs_the_certificate_verification_page_as_a_service() -> None:
    """Does the hub start `course certificate serve` on the course folder, routed at /services/certificates/?"""
    service = verify_service(SETTINGS)
    assert (service["name"], service["url"]) == ("certificates", "http://127.0.0.1:8003")
    assert service["command"][1:] == ["certificate", "serve", "--root", "/srv/k/course", "--port", "8003"]
    assert Path(service["command"][0]).name == "course"


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
