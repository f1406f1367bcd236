"""Does the learners' course page show submission times in China time, whichever exchange wrote them?"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from course_runtime.coursepage import when


@pytest.fixture
def server_in_china() -> Iterator[None]:
    """The learner's server runs with the local time zone of a server in China."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.parametrize(("stamp", "shown"), [
    ("2026-12-04 09:21:14.887507 UTC", "2026-12-04 17:21"),   # nbgrader's file exchange
    ("2026-12-04 09:21:14.887507", "2026-12-04 17:21"),       # the ngshare exchange: UTC without the label
    ("2026-12-04 20:00:00.000000", "2026-12-05 04:00"),       # past midnight in China
    ("", ""),
    ("昨天", ""),
])
def test_a_submission_time_is_shown_in_china_time(server_in_china: None, stamp: str, shown: str) -> None:
    """Is a time without a zone read as UTC (as both exchanges write it), not as the server's local time?"""
    assert when(stamp) == shown
