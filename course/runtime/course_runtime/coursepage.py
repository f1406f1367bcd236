"""课程作业: a learner's page of chapters and papers by their Chinese titles, with fetch, submit and feedback.

nbgrader's Assignments tab is English and lists assignments by id (``jc01``) and UTC timestamps.
This Jupyter server extension serves one server-rendered page at ``<base_url>kam/assignments``
(the learner's landing page on the hub) that lists the same assignments through nbgrader's own
``assignment_list`` manager, with each one's title from its notebook (``metadata.course.title``),
its state in Chinese, and buttons that run nbgrader's own fetch, submit and fetch-feedback. No
nbgrader code is patched; nothing of the course is needed (titles travel with the released notebook).
An exchange that lists a release without its notebook (the ngshare service lists ids only) gets its
title read once from the release itself, by nbgrader's own fetch into a temporary folder, and kept in
the learner's Jupyter data folder. Errors are logged in full for the instructor and shown to the
learner in Chinese only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from course_runtime import exam

PAGE = "kam/assignments"
TITLES_FILE = "kam-course-titles.json"  # in the learner's Jupyter data folder: titles of releases not yet fetched
COURSE_ID = "kam-cert"
CHINA = ZoneInfo("Asia/Shanghai")
ACTIONS = {"fetch": "获取", "submit": "提交", "fetch_feedback": "获取反馈"}
STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;max-width:960px;
color:#222;line-height:1.6}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.5em}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.6em;text-align:left;vertical-align:middle}th{background:#f4f6f8}
form{display:inline}
button,a.button{font:inherit;padding:.3em 1em;margin-right:.4em;border:1px solid #1976d2;border-radius:4px;
background:#1976d2;color:#fff;cursor:pointer;text-decoration:none}a.secondary,button.secondary{background:#fff;
color:#1976d2}
.notice{padding:.6em 1em;border-radius:4px;background:#e8f5e9;margin-bottom:1em}.error{background:#fdecea}
.muted{color:#777}
"""


def when(stamp: str | None) -> str:
    """nbgrader's UTC timestamp as China time, to the minute.

    The file exchange writes ``... UTC``; the ngshare exchange writes the time alone, also UTC (never the
    server's local time, which in China is eight hours ahead).
    """
    if not stamp:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(stamp.replace(" UTC", "+00:00"))
    except ValueError:
        return ""
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def notebook_title(path: str | None) -> str | None:
    """The title an assignment's notebook carries (``metadata.course.title``), if any."""
    if not path or not os.path.isfile(path) or os.path.getsize(path) > 5_000_000:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            title = json.load(fh).get("metadata", {}).get("course", {}).get("title")
    except (OSError, ValueError):
        return None
    return title if isinstance(title, str) else None


def titles_needed(listing: list[dict[str, Any]]) -> list[str]:
    """Released assignments listed without a notebook on disk (the ngshare service lists their ids only). Pure."""
    return sorted({item["assignment_id"] for item in listing if item.get("status") == "released"
                   and not any(nb.get("path") for nb in item.get("notebooks", []))})


def release_title(manager: Any, course_id: str, assignment_id: str) -> str | None:
    """The title inside a release, from nbgrader's own fetch into a temporary folder (whatever the exchange)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory

    with manager.get_assignment_dir_config() as config, tempfile.TemporaryDirectory(prefix="kam-title-") as tmp:
        config.CourseDirectory.course_id = course_id
        config.CourseDirectory.assignment_id = assignment_id
        config.Exchange.assignment_dir = tmp
        ExchangeFactory(config=config).FetchAssignment(
            coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config),
            config=config).start()
        for path in sorted(Path(tmp).rglob("*.ipynb")):
            title = notebook_title(str(path))
            if title:
                return title
    return None


def rows(listing: list[dict[str, Any]], root: str, titles: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per assignment: id, title, state in Chinese, actions, feedback link. Pure.

    ``titles``: for releases listed without their notebook, titles read before (:func:`release_title`).
    """
    by_id: dict[str, dict[str, Any]] = {}
    for item in listing:
        aid = item["assignment_id"]
        row = by_id.setdefault(aid, {"id": aid, "title": aid, "released": False, "fetched": None,
                                     "submitted": None, "feedback": None, "feedback_ready": False})
        if item.get("status") in ("released", "fetched"):
            row["released"] = True
            row["title"] = (titles or {}).get(aid, row["title"])
            for nb in item.get("notebooks", []):  # a fetched notebook's path is relative to the server's root
                if not nb.get("path"):
                    continue
                path = nb["path"] if os.path.isabs(nb["path"]) else os.path.join(root, nb["path"])
                row["title"] = notebook_title(path) or row["title"]
                if item["status"] == "fetched":
                    row["fetched"] = nb["path"]
        elif item.get("status") == "submitted":
            last = item["submissions"][-1]
            row["submitted"] = last["timestamp"]
            row["feedback_ready"] = bool(last.get("has_exchange_feedback"))
            if last.get("local_feedback_path"):
                row["feedback"] = f"{last['local_feedback_path']}/{aid}.html"
    out = []
    for row in sorted(by_id.values(), key=lambda r: r["id"]):
        if row["submitted"]:
            state = f"已提交（{when(row['submitted'])}）"
            state += "，反馈已获取" if row["feedback"] else ("，反馈可获取" if row["feedback_ready"] else "，等待评分")
        elif row["fetched"]:
            state = "已获取，未提交"
        else:
            state = "未获取"
        actions = []
        if row["released"] and not row["fetched"]:
            actions.append("fetch")
        if row["fetched"]:
            actions.append("submit")
        if row["feedback_ready"]:
            actions.append("fetch_feedback")
        out.append({**row, "state": state, "actions": actions})
    return out


def title_of(items: list[dict[str, Any]], assignment: str) -> str:
    """The title the page shows for ``assignment`` (its id if the page has no row or title for it)."""
    return next((r["title"] for r in items if r["id"] == assignment), assignment)


def action_notice(action: str, ok: bool, title: str) -> str:
    """The notice after fetch, submit or fetch-feedback, naming the chapter or paper by its title."""
    if ok:
        return f"{ACTIONS[action]}成功：{title}"
    return f"{ACTIONS[action]}失败：{title}。请刷新页面重试；如仍失败，请联系讲师。"


def exam_rows(sittings: list[dict[str, Any]], base_url: str, xsrf: str, root: str) -> str:
    """The 考试 table: each timed sitting of the learner, its state, start/continue and hand-in (escaped)."""
    esc = html.escape
    body = []
    for s in sittings:
        aid, state = s["assignment"], s["state"]
        buttons = []
        if state in ("ready", "running"):
            label = "开始考试" if state == "ready" else "继续考试"
            confirm = " onsubmit=\"return confirm('开始后立即计时，确定开始考试吗？')\"" if state == "ready" else ""
            buttons.append(f'<form method="post" action="{esc(url_path_join(base_url, PAGE, "exam_start"))}"{confirm}>'
                           f'{xsrf}<input type="hidden" name="assignment_id" value="{esc(aid)}">'
                           f"<button type=\"submit\">{label}</button></form>")
        if state == "running":
            buttons.append(f'<form method="post" action="{esc(url_path_join(base_url, PAGE, "exam_finish"))}" '
                           "onsubmit=\"return confirm('交卷后不能再作答，确定交卷吗？')\">"
                           f'{xsrf}<input type="hidden" name="assignment_id" value="{esc(aid)}">'
                           '<button type="submit" class="secondary">交卷</button></form>')
        body.append(f"<tr><td>{esc(s.get('title') or aid)}</td><td>{esc(s.get('message', ''))}</td>"
                    f"<td>{''.join(buttons)}</td></tr>")
    if not body:
        return ""
    return ("<h2>考试</h2><table><thead><tr><th>试卷</th><th>状态</th><th>操作</th></tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


def page(items: list[dict[str, Any]], base_url: str, xsrf: str, notice: str = "", error: bool = False,
         exams: str = "") -> str:
    """The course page's HTML (every value escaped)."""
    esc = html.escape
    body = []
    for r in items:
        buttons = [
            f'<form method="post" action="{esc(url_path_join(base_url, PAGE, action))}">{xsrf}'
            f'<input type="hidden" name="assignment_id" value="{esc(r["id"])}">'
            f'<button type="submit">{ACTIONS[action]}</button></form>'
            for action in r["actions"]]
        if r["fetched"]:
            target = url_path_join(base_url, "lab", "tree", r["fetched"])
            buttons.insert(0, f'<a class="button" href="{esc(target)}">打开作答</a>')
        if r["feedback"]:
            target = url_path_join(base_url, "files", r["feedback"])
            buttons.append(f'<a class="button secondary" href="{esc(target)}" target="_blank">查看反馈</a>')
        body.append(f"<tr><td>{esc(r['title'])}</td><td>{esc(r['state'])}</td><td>{''.join(buttons)}</td></tr>")
    table = ("<table><thead><tr><th>章节 / 试卷</th><th>状态</th><th>操作</th></tr></thead><tbody>"
             + "".join(body) + "</tbody></table>") if body else '<p class="muted">讲师尚未发布作业。</p>'
    flash = f'<p class="notice{" error" if error else ""}">{esc(notice)}</p>' if notice else ""
    lab = esc(url_path_join(base_url, "lab"))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>课程作业</title>'
            f"<style>{STYLE}</style></head><body><h1>课程作业</h1>{flash}"
            "<p>先点击 <b>获取</b>，再点击 <b>打开作答</b>；在作业中选择菜单 <b>运行 → 运行所有单元格</b> 后作答，"
            "答案自动保存。完成后回到本页点击 <b>提交</b>。讲师评分后可 <b>获取反馈</b>。</p>"
            f'{exams}<h2>章节练习</h2>{table}<p class="muted"><a href="{lab}">进入 JupyterLab 工作区</a></p>'
            "</body></html>")


class CoursePageHandler(JupyterHandler):
    """GET: the page; POST <action>: nbgrader's fetch, submit or fetch-feedback, or a sitting's start or hand-in."""

    def _manager(self) -> Any:
        manager = self.settings.get("assignment_list_manager")
        if manager is None:
            raise web.HTTPError(503, "nbgrader's assignment_list server extension is not enabled")
        return manager

    @property
    def _root(self) -> str:
        return str(self.settings.get("server_root_dir", os.getcwd()))

    async def _render(self, notice: str = "", error: bool = False,
                      done: tuple[str, str, bool] | None = None) -> None:
        """The page; ``done`` (action, assignment id, success) gives the notice, naming the row's title."""
        listing = self._manager().list_assignments(course_id=COURSE_ID)
        if not listing.get("success"):
            self.log.error("course page: listing assignments failed: %s", listing.get("value"))
            items, notice, error = [], "暂时无法读取作业列表，请稍后刷新；如仍有问题请联系讲师。", True
        else:
            titles = await asyncio.to_thread(self._release_titles, titles_needed(listing["value"]))
            items = rows(listing["value"], self._root, titles)
            if done is not None:
                action, assignment, ok = done
                notice, error = action_notice(action, ok, title_of(items, assignment)), not ok
        exams = ""
        if exam.service_url() is not None:
            reply = await asyncio.to_thread(exam.call, "")
            if reply is None or reply.get("state") == "error":
                exams = '<h2>考试</h2><p class="notice error">暂时无法连接考试服务，请稍后刷新。</p>'
            else:
                exams = exam_rows(reply.get("sittings", []), self.base_url, self.xsrf_form_html(), self._root)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page(items, self.base_url, self.xsrf_form_html(), notice, error, exams))

    def _release_titles(self, wanted: list[str]) -> dict[str, str]:
        """Titles of releases listed without their notebook: remembered, else read once from the release."""
        if not wanted:
            return {}
        path = Path(jupyter_data_dir()) / TITLES_FILE
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
            known = {k: v for k, v in known.items() if isinstance(k, str) and isinstance(v, str)}
        except (OSError, ValueError, AttributeError):
            known = {}
        missing = [aid for aid in wanted if aid not in known]
        for aid in missing:
            try:
                title = release_title(self._manager(), COURSE_ID, aid)
            except Exception:  # the page still lists it, by its id
                self.log.exception("course page: reading the title of release %s failed", aid)
                continue
            if title:
                known[aid] = title
        if missing:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        return known

    @web.authenticated
    async def get(self) -> None:
        await self._render()

    @web.authenticated
    async def post(self, action: str) -> None:
        assignment = self.get_body_argument("assignment_id", "")
        if action in ("exam_start", "exam_finish"):
            await self._exam(action, assignment)
            return
        if action not in ACTIONS:
            raise web.HTTPError(404)
        manager = self._manager()
        run = {"fetch": manager.fetch_assignment, "submit": manager.submit_assignment,
               "fetch_feedback": manager.fetch_feedback}[action]
        result = run(COURSE_ID, assignment)
        if not result.get("success"):
            self.log.error("course page: %s %s failed: %s", action, assignment, result.get("value"))
        await self._render(done=(action, assignment, bool(result.get("success"))))

    async def _exam(self, action: str, assignment: str) -> None:
        """Start (or resume) a sitting: the service hands out the paper, which is saved here and opened."""
        if "/" in assignment or assignment.startswith("."):
            raise web.HTTPError(400)
        verb = "start" if action == "exam_start" else "finish"
        reply = await asyncio.to_thread(exam.call, f"{assignment}/{verb}", {})
        if reply is None or reply.get("state") == "error":
            self.log.error("course page: sitting %s %s refused: %s", verb, assignment, reply)
            message = (reply or {}).get("message") or "暂时无法连接考试服务，请稍后重试。"
            await self._render(f"{'开始考试' if verb == 'start' else '交卷'}未成功：{message}", error=True)
            return
        if verb == "finish":
            await self._render(f"已交卷：{reply.get('title', assignment)}。")
            return
        folder = os.path.join(self._root, assignment)
        path = os.path.join(folder, f"{assignment}.ipynb")
        if not os.path.exists(path):  # resuming keeps the notebook (and its saved widgets) as it is
            os.makedirs(folder, exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(reply["notebook"], fh, ensure_ascii=False, indent=1)
        self.redirect(url_path_join(self.base_url, "lab", "tree", assignment, f"{assignment}.ipynb"))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "course_runtime.coursepage"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [
        (url_path_join(base, PAGE), CoursePageHandler),
        (url_path_join(base, PAGE, r"(fetch|submit|fetch_feedback|exam_start|exam_finish)"), CoursePageHandler),
    ])
