"""JupyterLab setting defaults for learners, without a lab extension.

``course/labconfig/kam-course.json`` holds them: ipywidgets' "save widget state
automatically" (a reload shows the widgets with their answers, even before the
kernel is back) and a short autosave interval (Run All leaves the notebook
saved, so a reload does not ask "leave site?"). A regular ``pip install``
puts the file in ``<prefix>/etc/jupyter/labconfig/default_setting_overrides.d/``
(pyproject data-files); an editable install does not, so
:func:`install_learner_settings` writes it into a Jupyter config folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

SETTINGS_FILE = Path(__file__).parent / "labconfig" / "kam-course.json"


def learner_settings() -> dict[str, Any]:
    """Setting defaults by JupyterLab plugin id."""
    data: dict[str, Any] = json.loads(SETTINGS_FILE.read_text(encoding="utf-8"))
    return data


def install_learner_settings(config_dir: Path) -> Path:
    """Copy the defaults into ``<config_dir>/labconfig/default_setting_overrides.d/`` (a Jupyter config dir)."""
    target = config_dir / "labconfig" / "default_setting_overrides.d" / SETTINGS_FILE.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SETTINGS_FILE, target)
    return target
