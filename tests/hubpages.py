"""A real browser on the hub, as users drive it: log in, the course page, JupyterLab's menus.

Shared by the hub's browser tests; import it only once Chromium is known to be installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import answers_saved
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
    """Whether the learner's answers file holds ``wanted`` for ``qid`` within 30 s."""
    return answers_saved(path, {qid: wanted}, timeout=30).get(qid) == wanted


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
    """The items of the menu ``menu``, which is closed again."""
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).click()
    page.locator(".lm-Menu-itemLabel").first.wait_for()
    items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
    close_menus(page)
    return [str(i) for i in items]


def close_menus(page: Any) -> None:
    """Close an open menu: Escape reaches it only while it has the keyboard focus (two CI runs kept the Kernel
    menu open after a reload), so then a click on the menu bar's empty end, which Lumino takes as "close"."""
    bar = page.locator(".lm-MenuBar").first
    for attempt in range(5):
        if attempt % 2 == 0:
            page.keyboard.press("Escape")
        else:
            bar.click(position=_bar_end(bar))
        try:
            page.locator(".lm-Menu").first.wait_for(state="hidden", timeout=3_000)
            return
        except PlaywrightTimeout:
            continue
    page.locator(".lm-Menu").first.wait_for(state="hidden")


def _bar_end(bar: Any) -> dict[str, float]:
    box = bar.bounding_box()
    return {"x": box["width"] - 4, "y": box["height"] / 2}
