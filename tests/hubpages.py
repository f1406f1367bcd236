"""A real browser on the hub, as users drive it: log in, the course page, JupyterLab's menus.

Shared by the hub's browser tests; import it only once Chromium is known to be installed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.hubtools import HubCourse

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SLOW = 180_000  # ms: spawning a server on 2 shared cores


def login(browser: Any, hc: HubCourse, name: str) -> Any:
    """Log in (the login page is in Chinese); a learner lands on the course page, an instructor in JupyterLab."""
    page = browser.new_context(viewport={"width": 1280, "height": 1800}).new_page()
    page.set_default_timeout(SLOW)
    page.goto(f"{hc.settings.url}/hub/login")
    text = page.locator("body").inner_text()
    assert "用户名：" in text and "密码：" in text and "Sign in" not in text, text  # the login page in Chinese
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", hc.passwords[name])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_selector(".jp-LabShell" if name in hc.settings.instructors else "h1:has-text('课程作业')")
    return page


def course_page(page: Any, hc: HubCourse, name: str, action: str | None = None) -> str:
    """The learner's course page (课程作业); with ``action``, click that button and return the notice."""
    page.goto(f"{hc.settings.url}/user/{name}/kam/assignments")
    if action is None:
        return str(page.locator("body").inner_text())
    page.get_by_role("button", name=action, exact=True).click()
    return str(page.locator(".notice").inner_text())


def saved(path: Path, qid: str, wanted: Any) -> bool:
    """Whether the learner's answers file holds ``wanted`` for ``qid`` yet (polled, never timed)."""
    for _ in range(150):
        if path.exists() and json.loads(path.read_text(encoding="utf-8"))["answers"].get(qid) == wanted:
            return True
        time.sleep(0.2)
    return False


def menu(page: Any, label: str, item: str) -> None:
    """Open the menu ``label`` in the menu bar and choose ``item`` (a click on an open bar may close it: retry)."""
    entry = page.locator(".lm-Menu-itemLabel", has_text=item).first
    for _ in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text=label).click()
        try:
            entry.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:  # the menu did not open: try again
            continue
    entry.click()


def menu_items(page: Any, menu: str) -> list[str]:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).click()
    page.locator(".lm-Menu-itemLabel").first.wait_for()
    items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    page.locator(".lm-Menu").first.wait_for(state="hidden")
    return [str(i) for i in items]
