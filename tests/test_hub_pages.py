"""Are the hub's own pages (login, start-up, home, not running, and every page's navigation) in Chinese?

Each page is rendered with a Jinja environment built as JupyterHub 6 builds its own (``JupyterHub.template_paths``
first, JupyterHub's templates after them and under the ``templates/`` prefix), and the text a learner sees
(the visible text, titles, labels and button texts; not scripts) holds no English word.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from jupyterhub.app import JupyterHub

from course.hub.hubconfig import TEMPLATES

HUB_TEMPLATES = str(Path(JupyterHub().data_files_path) / "templates")
PAGES = ("login.html", "spawn_pending.html", "home.html", "not_running.html")
ENGLISH = re.compile(r"[A-Za-z]?[a-z]{2,}")  # a word; HTTPS and other acronyms may stay
SHOWN_ATTRIBUTES = ("title", "alt", "aria-label", "placeholder", "value")


def hub_environment(template_paths: list[str]) -> Environment:
    """JupyterHub 6's loader (jupyterhub.app.JupyterHub.init_tornado_settings), as a synchronous environment."""
    paths = [*template_paths, HUB_TEMPLATES]
    loader = ChoiceLoader([PrefixLoader({"templates": FileSystemLoader([HUB_TEMPLATES])}, "/"),
                           FileSystemLoader(paths)])
    return Environment(loader=loader, autoescape=True)


class ShownText(HTMLParser):
    """The text a reader with JavaScript sees: element text outside scripts, styles, ``<noscript>`` and elements
    hidden until a script shows them (``aria-hidden``: JupyterHub's error dialog), and the attributes shown."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._open: list[bool] = []  # per open element: hidden (itself or an ancestor)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = dict(attrs)
        hidden = (bool(self._open and self._open[-1]) or tag in ("script", "style", "noscript", "title")
                  or shown.get("aria-hidden") == "true")
        if tag not in self.VOID:
            self._open.append(hidden)
        if hidden:
            return
        if tag == "input" and shown.get("type") in ("hidden", "text", "password"):
            shown.pop("value", None)  # a form's data, not a label
        self.parts += [v for k, v in shown.items() if k in SHOWN_ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not (self._open and self._open[-1]) and data.strip():
            self.parts.append(data.strip())


def shown_text(html: str) -> list[str]:
    parser = ShownText()
    parser.feed(html)
    return parser.parts


def namespace(**extra: Any) -> dict[str, Any]:
    """What JupyterHub's handlers pass a page (BaseHandler.template_namespace and the page's own)."""
    spawner = SimpleNamespace(active=True, ready=False, name="", options_form=None)
    user = SimpleNamespace(name="王五", spawner=spawner)
    return {"base_url": "/hub/", "prefix": "/hub/", "user": user, "login_url": "/hub/login", "login_service": "",
            "logout_url": "/hub/logout", "static_url": lambda path, **_: f"/hub/static/{path}", "version_hash": "1",
            "services": [], "parsed_scopes": set(), "expanded_scopes": set(), "xsrf": "x", "xsrf_token": "x",
            "authenticator_login_url": "/hub/login", "username": "", "login_error": None,
            "progress_url": "/hub/api/progress", "default_server": spawner, "url": "/user/王五/",
            "spawn_url": "/hub/spawn/王五", "server_name": "", "failed": False, "implicit_spawn_seconds": 0,
            "allow_named_servers": False, **extra}


CASES = [(page, {}) for page in PAGES] + [
    ("home.html", {"default_server": SimpleNamespace(active=False)}),
    ("not_running.html", {"failed": True, "failed_message": "启动超时"}),
    ("not_running.html", {"implicit_spawn_seconds": 5}),
    ("login.html", {"user": None, "login_error": "Invalid username or password"}),
]


@pytest.mark.parametrize(("page", "extra"), CASES)
def test_a_hub_page_shows_no_english(page: str, extra: dict[str, Any]) -> None:
    html = hub_environment([str(TEMPLATES)]).get_template(page).render(**namespace(**extra))
    text = shown_text(html)
    assert text  # the page rendered, with text
    assert [t for t in text if ENGLISH.search(t)] == []


def test_the_navigation_is_chinese_and_the_token_page_is_for_administrators() -> None:
    env = hub_environment([str(TEMPLATES)])
    learner = shown_text(env.get_template("home.html").render(**namespace()))
    assert learner[:4] == ["主页", "主页", "展开导航", "主页"]  # the logo's text and title, the narrow-screen button
    assert "退出登录" in learner and "令牌" not in learner and "管理" not in learner
    admin = shown_text(env.get_template("home.html").render(**namespace(parsed_scopes={"admin-ui"})))
    assert "令牌" in admin and "管理" in admin
    starting = shown_text(env.get_template("spawn_pending.html").render(**namespace()))
    assert starting == ["主页", "主页", "展开导航", "主页", "切换深色模式", "切换深色模式", "王五", "退出登录",
                        "正在启动你的学习环境，请稍候……", "准备好后页面会自动跳转。", "已完成", "0%",
                        "启动日志", "停止"]


def test_jupyterhubs_own_pages_would_show_english() -> None:
    """Without the course's templates, the same check finds JupyterHub's English (the check can fail)."""
    env = hub_environment([])
    found = {page: sorted({w for t in shown_text(env.get_template(page).render(**namespace()))
                           for w in ENGLISH.findall(t)}) for page in ("spawn_pending.html", "not_running.html")}
    assert {"Event", "Stop", "Server", "Home", "Logout"} <= set(found["spawn_pending.html"])
    assert {"Server", "running", "Launch"} <= set(found["not_running.html"])
