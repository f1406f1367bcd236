"""nbgrader settings of this course; `nbgrader ...` and `course ...` both read them."""

from pathlib import Path

from course.nbconfig import configure

configure(get_config(), Path(__file__).parent)  # noqa: F821 - get_config is injected by traitlets
