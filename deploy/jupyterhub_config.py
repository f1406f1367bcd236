"""JupyterHub configuration of one course on one machine; started by `course hub` (see README).

`course hub` writes the settings (ports, folders, accounts) to a JSON file and points
COURSE_HUB_SETTINGS at it; everything else is in course/hub/hubconfig.py.
"""

import os
from pathlib import Path

from course.hub.hubconfig import HubSettings, configure_hub

c = get_config()  # noqa: F821 - provided by JupyterHub
configure_hub(c, HubSettings.load(Path(os.environ["COURSE_HUB_SETTINGS"])))
