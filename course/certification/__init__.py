"""Certification: exam papers to each level's 比重表, eligibility, decisions, competency ratings, certificates.

Depends on :mod:`course.model`, :mod:`course.loader`, :mod:`course.build` and
:mod:`course.analytics`; nothing there depends on this package.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from course.certification.demo import DemoRound
    from course.loader import Course


def demo_round(root: Path, course: Course, **kwargs: Any) -> DemoRound:
    """One simulated certification round (see :func:`course.certification.demo.demo_round`)."""
    from course.certification.demo import demo_round as run  # nbgrader is slow to import: only when used

    return run(root, course, **kwargs)
