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


def test_a_learners_lab_keeps_only_the_assignments_tab() -> None:
    files = role_files(SETTINGS, "learner")
    disabled = json.loads(files["labconfig/page_config.json"])["disabledExtensions"]
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
            "@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:menu"} <= set(disabled)
    server = json.loads(files["jupyter_server_config.json"])["ServerApp"]["jpserver_extensions"]
    assert server["nbgrader.server_extensions.formgrader"] is False
    assert "nbgrader.server_extensions.assignment_list" not in server
    assert "configure_learner_exchange(c)" in files["nbgrader_config.py"]


def test_an_instructors_lab_has_formgrader_and_the_course_folder() -> None:
    files = role_files(SETTINGS, "instructor")
    assert json.loads(files["labconfig/page_config.json"]) == {}
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
