"""The sittings service: hands each learner their paper, keeps the clock, records every answer with its own time.

A JupyterHub-managed service (``/services/sittings/``, started by ``course hub``) that learners reach
only with their hub token (the scope ``access:services!service=sittings``), so it knows who asks.
The learner cannot write its records: they live in the gradebook's database
(:mod:`course.sittings.store`), which learners cannot reach. Its JSON API, for the learner's
kernel (:mod:`course_runtime.exam`) and course page (:mod:`course_runtime.coursepage`):

=========================================  ===============================================
``GET  api/sittings``                      the learner's sittings with their status
``GET  api/sittings/<assignment>``         one sitting's status (remaining time, end)
``POST api/sittings/<assignment>/start``   start (or resume) it; returns the paper notebook
``POST api/sittings/<assignment>/answers`` ``{"answers": {question: value}}``: recorded with
                                           the service's time; says whether they count
``POST api/sittings/<assignment>/finish``  hand in (交卷): the learner's time ends now
=========================================  ===============================================

The paper is handed out only here, never through the exchange, so the start recorded is the
moment the learner first had the questions. What one learner's attempt may store is bounded
(``MAX_ROWS_PER_ATTEMPT``, ``MAX_CHARS_PER_ATTEMPT``, ``MAX_LATE_ROWS``): the records are append-only,
so a kernel posting in a loop is refused with 409 rather than growing the gradebook for ever.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tornado import web

from course.certification.manifest import manifest_path, read_manifest
from course.sittings import records
from course.sittings.clock import UTC, Sitting, status

MAX_ANSWERS_PER_POST = 500
MAX_BODY_BYTES = 2_000_000
# What one learner's attempt may store in tables nothing can be deleted from. In time: 5,000 rows (a
# 40-question paper answered and changed over 100 times per question) and 10 million characters (a
# 20,000-character case answer saved 500 times). After their end: 200 rows, enough to show who ran over.
MAX_ROWS_PER_ATTEMPT = 5_000
MAX_CHARS_PER_ATTEMPT = 10_000_000
MAX_LATE_ROWS = 200
LIMITS = {"answer limit": "本场考试的作答保存次数已达上限，之后的修改不再记录。请联系监考老师。",
          "late limit": "考试时间已到，之后的作答不再记录。"}


@dataclass(frozen=True)
class Paper:
    """A learner's variant of a sitting's paper."""

    sitting: Sitting
    assignment: str
    questions: frozenset[str]
    notebook: Path
    title: str


@dataclass
class State:
    open_engine: Callable[[], sa.Engine]  # the gradebook, opened at the first request (the hub waits for a port)
    root: Path
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC)

    @functools.cached_property
    def engine(self) -> sa.Engine:
        return self.open_engine()

    def papers(self, learner: str) -> list[Paper]:
        """The learner's variants of the sittings that admit them (a paper without their variant is skipped)."""
        with self.engine.connect() as conn:
            sittings = records.admitted_sittings(records.current(conn), learner)
        found = []
        for sitting in sittings:
            path = manifest_path(self.root, sitting.paper)
            if not path.is_file():
                continue
            variant = read_manifest(path)["variants"].get(learner)
            if variant is None:
                continue
            assignment = variant["assignment"]
            notebook = self.root / "release" / assignment / f"{assignment}.ipynb"
            found.append(Paper(sitting, assignment, frozenset(variant["theory"]) | frozenset(variant["skills"]),
                               notebook, _title(notebook, assignment)))
        return found

    def paper(self, learner: str, assignment: str) -> Paper:
        for paper in self.papers(learner):
            if paper.assignment == assignment:
                return paper
        raise web.HTTPError(404, reason="not a sitting of this learner")


def _title(notebook: Path, fallback: str) -> str:
    try:
        title = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["course"].get("title")
    except (OSError, ValueError, KeyError):
        return fallback
    return title if isinstance(title, str) else fallback


class Api(web.RequestHandler):
    """Base: the hub's identity (token), JSON in and out, Chinese messages for the learner."""

    state: State

    def initialize(self, state: State) -> None:
        self.state = state

    def check_xsrf_cookie(self) -> None:  # token-authenticated JSON API: no cookies, no forms
        return

    def learner(self) -> str:
        user = self.get_current_user()
        if not user:
            raise web.HTTPError(403, reason="no hub token")
        return str(user["name"]) if isinstance(user, dict) else str(user)

    def reply(self, payload: dict[str, Any], code: int = 200) -> None:
        self.set_status(code)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(payload, ensure_ascii=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {403: "请先登录。", 404: "没有这场考试。", 400: "请求无法识别。", 409: "考试状态不允许此操作。"}
        message = LIMITS.get(self._reason) or messages.get(status_code, "服务暂时不可用，请稍后重试。")
        self.reply({"error": self._reason, "message": message}, status_code)

    def status_of(self, paper: Paper, learner: str) -> dict[str, Any]:
        now = self.state.clock()
        with self.state.engine.connect() as conn:
            attempt = records.attempt(conn, paper.sitting.sitting, learner)
        payload = status(paper.sitting, learner, attempt, now).as_json(now)
        return {**payload, "assignment": paper.assignment, "title": paper.title, "sitting": paper.sitting.sitting}


def _authenticated() -> type:
    """HubAuthenticated from JupyterHub (imported when the service starts, not when this module is read)."""
    from jupyterhub.services.auth import HubAuthenticated

    return HubAuthenticated


class ListHandler(Api):
    def get(self) -> None:
        learner = self.learner()
        self.reply({"sittings": [self.status_of(p, learner) for p in self.state.papers(learner)]})


class StatusHandler(Api):
    def get(self, assignment: str) -> None:
        learner = self.learner()
        self.reply(self.status_of(self.state.paper(learner, assignment), learner))


class StartHandler(Api):
    def post(self, assignment: str) -> None:
        learner = self.learner()
        paper = self.state.paper(learner, assignment)
        try:  # before the start is recorded: a paper that cannot be handed out must not start anyone's clock
            notebook = json.loads(paper.notebook.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise web.HTTPError(503, reason=f"{paper.notebook} cannot be read: run `course generate`") from None
        now = self.state.clock()
        with self.state.engine.begin() as conn:
            attempt = records.attempt(conn, paper.sitting.sitting, learner)
            state = status(paper.sitting, learner, attempt, now).state
            if state == "ready":
                records.start(conn, paper.sitting.sitting, learner, attempt.number, now)
            elif state != "running":  # resuming a running sitting returns the paper again
                raise web.HTTPError(409, reason=f"cannot start: {state}")
        self.reply({**self.status_of(paper, learner), "notebook": notebook})


class AnswersHandler(Api):
    def post(self, assignment: str) -> None:
        learner = self.learner()
        paper = self.state.paper(learner, assignment)
        if len(self.request.body) > MAX_BODY_BYTES:
            raise web.HTTPError(400, reason="body too large")
        try:
            answers = json.loads(self.request.body)["answers"]
        except (ValueError, KeyError, TypeError):
            raise web.HTTPError(400, reason="not {\"answers\": {...}}") from None
        if not isinstance(answers, dict) or len(answers) > MAX_ANSWERS_PER_POST or not set(answers) <= paper.questions:
            raise web.HTTPError(400, reason="answers of questions not on this paper")
        if any(len(json.dumps(v, ensure_ascii=False)) > records.MAX_VALUE_CHARS for v in answers.values()):
            raise web.HTTPError(400, reason="an answer is too long")
        now = self.state.clock()
        with self.state.engine.begin() as conn:
            attempt = records.attempt(conn, paper.sitting.sitting, learner)
            end = attempt.end(paper.sitting, learner)
            if attempt.started is None or end is None:
                raise web.HTTPError(409, reason="not started")
            rows, chars, late = records.answer_load(conn, paper.sitting.sitting, learner, attempt.number, end)
            adding = sum(len(json.dumps(v, ensure_ascii=False, sort_keys=True)) for v in answers.values())
            if now > end and late + len(answers) > MAX_LATE_ROWS:
                raise web.HTTPError(409, reason="late limit")
            if rows + len(answers) > MAX_ROWS_PER_ATTEMPT or chars + adding > MAX_CHARS_PER_ATTEMPT:
                raise web.HTTPError(409, reason="answer limit")
            records.save_answers(conn, paper.sitting.sitting, learner, attempt.number, answers, now)
        current = self.status_of(paper, learner)
        self.reply({**current, "saved_at": now.isoformat(timespec="seconds"), "counted": current["state"] == "running"})


class FinishHandler(Api):
    def post(self, assignment: str) -> None:
        learner = self.learner()
        paper = self.state.paper(learner, assignment)
        now = self.state.clock()
        with self.state.engine.begin() as conn:
            attempt = records.attempt(conn, paper.sitting.sitting, learner)
            if status(paper.sitting, learner, attempt, now).state == "running":
                records.finish(conn, paper.sitting.sitting, learner, attempt.number, now)
        self.reply(self.status_of(paper, learner))


def make_app(state: State, prefix: str, auth: type | None = None) -> web.Application:
    """The service's routes; ``auth`` supplies ``get_current_user`` (JupyterHub's HubAuthenticated by default)."""
    auth = auth or _authenticated()
    api = prefix.rstrip("/") + "/api/sittings"
    handlers = [(api, ListHandler), (api + r"/([^/]+)", StatusHandler), (api + r"/([^/]+)/start", StartHandler),
                (api + r"/([^/]+)/answers", AnswersHandler), (api + r"/([^/]+)/finish", FinishHandler)]
    routes = [(path, type(cls.__name__, (auth, cls), {}), {"state": state}) for path, cls in handlers]
    return web.Application(routes)


def serve(root: Path, url: str, course_id: str, port: int) -> None:
    """Run the service until stopped (the hub starts it with JUPYTERHUB_SERVICE_PREFIX and its token)."""
    import asyncio

    from course.sittings.store import open_url

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/sittings/")

    async def forever() -> None:
        # listen inside the running loop: a server bound before asyncio.run would sit on another loop
        make_app(State(functools.partial(open_url, url, course_id), root), prefix).listen(port, "127.0.0.1")
        await asyncio.Event().wait()

    asyncio.run(forever())
