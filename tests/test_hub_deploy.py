"""Is the national deployment on paper consistent: does the values file lint, and hold what the design needs?

The chart's JSON schema (zero-to-jupyterhub-k8s ``values.schema.yaml``) is not vendored here (see
deploy/CAPACITY.md); this lints the file and checks each key the design relies on.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
VALUES = DEPLOY / "z2jh" / "values.yaml"
LINT = "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}"


def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def at(tree: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("/"):
        tree = tree[key]
    return tree


def test_the_values_file_lints() -> None:
    done = subprocess.run([sys.executable, "-m", "yamllint", "-d", LINT, str(VALUES)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(("path", "wanted"), [
    ("hub/db/type", "postgres"),                        # the hub's own state, not sqlite on a volume
    ("singleuser/extraEnv/COURSE_EXCHANGE_MODE", "ngshare"),   # no shared filesystem
    ("singleuser/storage/type", "dynamic"),             # one private volume per learner
    ("scheduling/userScheduler/enabled", True),
    ("cull/enabled", True),
    ("hub/loadRoles/formgrader/groups", ["formgrade-kam-cert"]),
    ("hub/config/GenericOAuthenticator/allowed_groups", ["nbgrader-kam-cert", "formgrade-kam-cert"]),
])
def test_the_design_keys(path: str, wanted: Any) -> None:
    assert at(values(), path) == wanted


def test_learner_servers_have_no_instructor_tools() -> None:
    """The same plugins and server extensions as `course hub` disables for learners."""
    from course.hub.hubconfig import LEARNER_DISABLED_PLUGINS, LEARNER_DISABLED_SERVER_EXTENSIONS

    files = at(values(), "singleuser/extraFiles")
    assert sorted(files["labconfig"]["data"]["disabledExtensions"]) == sorted(LEARNER_DISABLED_PLUGINS)
    server = files["serverconfig"]["data"]["ServerApp"]["jpserver_extensions"]
    assert server == dict.fromkeys(LEARNER_DISABLED_SERVER_EXTENSIONS, False)


def test_the_capacity_numbers_match_the_values_file() -> None:
    """deploy/CAPACITY.md's memory guarantee and cull timeout are the values file's."""
    text = (DEPLOY / "CAPACITY.md").read_text(encoding="utf-8")
    v = values()
    assert at(v, "singleuser/memory/guarantee") == "512M" and "guaranteed **512 MB**" in text
    assert at(v, "cull/timeout") == 1800 and "| idle cull | 30 min |" in text
    assert "PLACEHOLDER" not in text and re.search(r"\*\*418 submissions/s\*\*", text)  # the grading benchmark
