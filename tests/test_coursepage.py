"""Does the learners' course page show times in China time, and releases and its notices by title, whichever
exchange listed them?"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from course_runtime.coursepage import action_notice, rows, title_of, titles_needed, when


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


# nbgrader's assignment_list as the ngshare exchange answers it: a release is listed by id, without a notebook path
NGSHARE_LISTING = [
    {"course_id": "kam-cert", "assignment_id": "jc01", "status": "released", "notebooks": [{"notebook_id": "jc01"}]},
    {"course_id": "kam-cert", "assignment_id": "jc02", "status": "released", "notebooks": [{"notebook_id": "jc02"}]},
    {"course_id": "kam-cert", "assignment_id": "jc03", "status": "submitted", "submissions": [
        {"timestamp": "2026-12-04 09:21:14.887507", "has_exchange_feedback": False, "local_feedback_path": None}]},
]


def test_a_release_listed_without_its_notebook_needs_its_title_read() -> None:
    """Which releases must the page read a title for (ngshare lists ids only)?"""
    assert titles_needed(NGSHARE_LISTING) == ["jc01", "jc02"]


def test_releases_are_shown_by_the_titles_read_and_by_id_otherwise() -> None:
    """A title read from the release shows; one that could not be read leaves the id, never an error."""
    found = {r["id"]: (r["title"], r["state"], r["actions"]) for r in
             rows(NGSHARE_LISTING, "/home/li", {"jc01": "基础篇　通信行业概况"})}
    assert found == {"jc01": ("基础篇　通信行业概况", "未获取", ["fetch"]), "jc02": ("jc02", "未获取", ["fetch"]),
                     "jc03": ("jc03", "已提交（2026-12-04 17:21），等待评分", [])}


def test_the_notices_after_fetch_submit_and_feedback_name_the_chapter_by_its_title(tmp_path: Path) -> None:
    """Do 获取成功 / 提交成功 / 获取失败 name the chapter by the title the page lists, and by id only without one?"""
    (tmp_path / "jc01").mkdir()
    (tmp_path / "jc01" / "jc01.ipynb").write_text(json.dumps(
        {"metadata": {"course": {"title": "基础篇　通信行业概况"}}, "cells": []}, ensure_ascii=False), encoding="utf-8")
    listing = [  # the file exchange, after a fetch: the fetched notebook's path is relative to the server's root
        {"course_id": "kam-cert", "assignment_id": "jc01", "status": "fetched",
         "notebooks": [{"notebook_id": "jc01", "path": "jc01/jc01.ipynb"}]},
        *NGSHARE_LISTING[1:],
    ]
    items = rows(listing, str(tmp_path), {"jc02": "基础篇　客户关系管理"})
    assert action_notice("fetch", True, title_of(items, "jc01")) == "获取成功：基础篇　通信行业概况"
    assert action_notice("submit", True, title_of(items, "jc01")) == "提交成功：基础篇　通信行业概况"
    assert action_notice("fetch", False, title_of(items, "jc02")) == (
        "获取失败：基础篇　客户关系管理。请刷新页面重试；如仍失败，请联系讲师。")
    assert action_notice("fetch_feedback", True, title_of(items, "jc03")) == "获取反馈成功：jc03"  # no title read
    assert title_of(items, "jc09") == "jc09"  # not listed (withdrawn meanwhile)
