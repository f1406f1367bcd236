"""The learner-side code of a generated notebook: draw widgets, save answers.

The hidden, locked setup cell of every notebook imports :class:`Quiz` from here and
passes it the questions' public specs (stems' options, never keys), so no answer key
ever reaches a learner: this package holds none, and learners' servers run an
environment with this package and without the course content (README, "What a
learner's environment holds").

Every change is written at once, atomically, to ``<notebook>.answers.json``
beside the notebook (the kernel's working directory); re-running the cells
shows the saved answers. That file travels with ``nbgrader submit``.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import html
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML, Markdown, display

from course_runtime import exam as exam_mod

# the answers file lives in its own module; these names stay importable from here too
from course_runtime.answersfile import ANSWERS_FORMAT as ANSWERS_FORMAT
from course_runtime.answersfile import read_answers as read_answers
from course_runtime.answersfile import write_answers
from course_runtime.scoring import check_shape, score

CASE_MAX_CHARS = 20_000  # a case answer's saved length; the grader reads up to 50,000 characters of a text
NOT_CHOSEN = ""  # a dropdown's （请选择） entry; saved as None
# Shown only once the setup cell has run: hide the code of every cell that draws a question widget
# (JupyterLab would otherwise show a collapsed cell's first line) and the output prompts.
STYLE = (
    "<style>"
    ".jp-CodeCell:has(.kam-quiz) .jp-Cell-inputWrapper,"
    ".jp-CodeCell:has(.kam-quiz) .jp-OutputArea-promptOverlay{display:none}"
    ".jp-CodeCell:has(.kam-quiz) .jp-OutputPrompt{visibility:hidden}"  # keeps widgets in line with the stems
    ".kam-quiz .widget-dropdown{width:100%;max-width:100%}"
    ".kam-quiz .widget-dropdown select{width:100%;height:auto;white-space:normal}"
    ".kam-quiz .kam-prompt{line-height:1.5;margin-top:6px}"
    ".kam-quiz .kam-warning{color:#b00;font-weight:bold}"
    # the chosen true/false button must stand out (ipywidgets' default is grey on grey)
    ".kam-quiz .widget-toggle-button.mod-active{background:#1976d2;color:#fff}"
    # After a kernel restart the saved widgets still show every answer, disconnected: no broken-chain icon,
    # dimmed, and the progress line says what to do to change an answer.
    ".jupyter-widgets-disconnected.kam-quiz::before,.jupyter-widgets-disconnected .kam-quiz::before,"
    ".kam-quiz .jupyter-widgets-disconnected::before{content:none;display:none}"
    ".jupyter-widgets-disconnected.kam-quiz{opacity:.75}"
    ".jupyter-widgets-disconnected.kam-progress{flex-wrap:wrap}"
    ".jupyter-widgets-disconnected.kam-progress::after{flex-basis:100%;color:#b00;font-weight:bold;"
    "content:'内核已重启：以上答案均已保存。如需修改答案，请选择菜单 运行 → 运行所有单元格。'}"
    "</style>"
)


def missing_parts(spec: dict[str, Any], response: Any) -> list[str] | None:
    """The parts of a question still to give: None if nothing is given at all, [] if complete.

    A question is answered only when every blank, position and pair is given.
    """
    def given(x: Any) -> bool:
        return x is not None and (not isinstance(x, str) or bool(x.strip()))

    kind = spec["type"]
    if kind in ("blank", "ordering"):
        values = list(response) if isinstance(response, list) else []
        values += [None] * (spec["width"] - len(values))
        unit = "空" if kind == "blank" else "位"
        missing = [f"第{i}{unit}" for i, v in enumerate(values, 1) if not given(v)]
    elif kind == "matching":
        pairs = response if isinstance(response, dict) else {}
        missing = [f"第{i}项" for i, p in enumerate(spec["prompts"], 1) if not given(pairs.get(p))]
        values = list(pairs.values())
    else:
        if isinstance(response, list):
            return [] if response else None
        return [] if given(response) else None
    if not any(given(v) for v in values):
        return None
    return missing


def repeated_items(order: list[Any]) -> list[Any]:
    """Items placed at more than one position of an ordering answer."""
    seen: set[Any] = set()
    twice = []
    for item in order:
        if item is not None and item in seen and item not in twice:
            twice.append(item)
        seen.add(item)
    return twice


def learner_id() -> str:
    """The learner: the hub's user name on JupyterHub, else the OS account."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def shuffled(keys: list[str], learner: str, qid: str) -> list[str]:
    """Option order for one learner: stable for that learner, different across learners."""
    seed = int.from_bytes(hashlib.sha256(f"{learner}\0{qid}".encode()).digest()[:8], "big")
    order = list(keys)
    random.Random(seed).shuffle(order)
    return order


class Quiz:
    """The questions of one notebook and the learner's saved answers."""

    def __init__(self, notebook: str, questions: dict[str, dict[str, Any]], exam: bool = False) -> None:
        self.notebook = notebook
        self.questions = questions
        self.learner = learner_id()
        self.path = Path(f"{notebook}.answers.json")
        self.answers = self._load()
        self.progress = widgets.HTML()
        self.progress.add_class("kam-quiz")
        self.progress.add_class("kam-progress")
        self.check_result = widgets.HTML()  # what 检查作答情况 found; empty until clicked
        self.widgets: dict[str, widgets.Widget] = {}  # the latest widget drawn per question
        self.clock = widgets.HTML()  # a timed sitting's remaining time (empty otherwise)
        self.clock.add_class("kam-clock")
        self.sender: exam_mod.Sender | None = None
        self._refresh()
        if exam:
            self._start_exam()

    def top(self) -> list[widgets.Widget]:
        """What the setup cell shows above the questions: the sitting's clock (if any) and the progress line."""
        return [self.clock, self.progress] if self.sender is not None else [self.progress]

    # ------------------------------------------------------------ a timed sitting (course_runtime.exam)
    def _start_exam(self) -> None:
        """A paper: if a sitting of the sittings service holds it, report every answer there and show the time."""
        if exam_mod.service_url() is None:
            return  # no hub service (a paper sat on paper, a test run): an ordinary quiz
        first = exam_mod.call(self.notebook)
        if first is not None and first.get("code") == 404:
            return  # this paper is not sat in a sitting
        self._exam_status: dict[str, Any] = {}
        self._received = _dt.datetime.now(_dt.UTC)
        self._over = False
        self.sender = exam_mod.Sender(self.notebook, self._on_status)
        if first is None or first.get("state") == "running":
            # After a kernel restart: answers saved while the service was out of reach live only in the file.
            # Send them all again; the service stamps each with its own time, so a late one stays late.
            for qid, value in self.answers.items():
                self.sender.put(qid, value)
        self._on_status(first or {})
        threading.Thread(target=self._tick, daemon=True, name="kam-exam-clock").start()

    def _on_status(self, status: dict[str, Any]) -> None:
        if status:
            self._exam_status, self._received = status, _dt.datetime.now(_dt.UTC)
        if status.get("state") == "over":
            self._lock()
        self._show_clock()

    def _show_clock(self) -> None:
        left = exam_mod.remaining(self._exam_status, self._received, _dt.datetime.now(_dt.UTC))
        unsent = self.sender.unsent() if self.sender else 0
        self.clock.value = f"<b>{html.escape(exam_mod.clock_text(left, self._exam_status, unsent))}</b>"
        if left == 0 and not self._over:
            self._on_status(exam_mod.call(self.notebook) or {"state": "over"})

    def _tick(self) -> None:
        while not self._over:
            time.sleep(1)
            self._show_clock()

    def _lock(self) -> None:
        """Time is up: no widget takes an answer any more (the service would not count it anyway)."""
        self._over = True
        for widget in self.widgets.values():
            for part in [widget, *getattr(widget, "children", ())]:
                for w in [part, *getattr(part, "children", ())]:
                    if hasattr(w, "disabled"):
                        w.disabled = True

    # ------------------------------------------------------------ answers
    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            return read_answers(self.path)
        except (ValueError, OSError) as exc:
            # Keep the damaged file for the instructor; never overwrite it.
            stamp = _dt.datetime.now().strftime("%Y%m%d%H%M%S")
            backup = self.path.with_name(f"{self.path.stem}.damaged-{stamp}.json")
            self.path.rename(backup)
            display(HTML(f"<b style='color:#b00'>答案文件已损坏（{exc}），已另存为 {backup.name}，"
                         "请重新作答并联系讲师。</b>"))
            return {}

    def save(self, qid: str, value: Any) -> None:
        self.answers[qid] = value
        write_answers(self.path, self.notebook, self.learner, self.answers)
        if self.sender is not None:
            self.sender.put(qid, value)  # in a sitting, the service's record is what counts
        self._refresh()
        self._touch_soon()

    def _touch_soon(self, delay: float = 0.2) -> None:
        """After an answer, change the empty output once: a widget change alone does not mark the notebook
        changed, so without this the next autosave could keep an older progress line in the file."""
        handle = getattr(self, "_touch_handle", None)
        if handle is None:
            return
        old = getattr(self, "_touch_timer", None)
        if old is not None:
            old.cancel()
        self._touches = getattr(self, "_touches", 0) + 1
        timer = threading.Timer(delay, handle.update, args=(HTML(f"<span data-touch='a{self._touches}'></span>"),))
        timer.daemon = True
        timer.start()
        self._touch_timer = timer

    def _status(self) -> tuple[list[str], dict[str, list[str]], list[str]]:
        """Question numbers answered, partly answered (with the missing parts) and not answered."""
        done, partial, blank = [], {}, []
        for qid, spec in self.questions.items():
            missing = missing_parts(spec, self.answers.get(qid))
            number = str(spec["no"])
            if missing is None:
                blank.append(number)
            elif missing:
                partial[number] = missing
            else:
                done.append(number)
        return done, partial, blank

    @staticmethod
    def _partial_text(partial: dict[str, list[str]]) -> str:
        return "；".join(f"第{n}题（缺{'、'.join(parts)}）" for n, parts in partial.items())

    def _refresh(self) -> None:
        done, partial, _ = self._status()
        line = f"<b>作答进度：已作答 {len(done)} / {len(self.questions)} 题</b>"
        if partial:
            line += f"，部分作答 {len(partial)} 题：{html.escape(self._partial_text(partial))}"
        self.progress.value = line + "（答案会自动保存）"
        if self.check_result.value:
            self._show_check()  # a shown check result follows every change

    # ------------------------------------------------------------ widgets
    def show(self, qid: str) -> None:
        """Draw the answer widget of one question, showing any saved answer."""
        spec = self.questions[qid]
        saved = self.answers.get(qid)
        if check_shape(spec["type"], saved, spec.get("width")):
            saved = None
        self.widgets[qid] = _DRAW[spec["type"]](self, qid, spec, saved)
        self.widgets[qid].add_class("kam-quiz")
        display(self.widgets[qid])

    def _options(self, qid: str, options: dict[str, str]) -> list[tuple[str, str]]:
        order = shuffled(list(options), self.learner, qid)
        return [(f"{chr(65 + i)}. {options[k]}", k) for i, k in enumerate(order)]

    def _single(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        w = widgets.RadioButtons(options=self._options(qid, spec["options"]), value=saved,
                                 layout=widgets.Layout(width="auto"))
        w.observe(lambda ch: self.save(qid, ch["new"]), "value")
        return w

    def _multiple(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        chosen = set(saved or [])
        pairs = self._options(qid, spec["options"])
        boxes = [widgets.Checkbox(value=k in chosen, description=label, indent=False,
                                  layout=widgets.Layout(width="auto"))
                 for label, k in pairs]
        keys = [k for _, k in pairs]

        def changed(_: Any) -> None:
            self.save(qid, sorted(k for k, b in zip(keys, boxes, strict=True) if b.value))

        for box in boxes:
            box.observe(changed, "value")
        return widgets.VBox(boxes)

    def _truefalse(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        w = widgets.ToggleButtons(options=[("正确 ✓", True), ("错误 ✗", False)], value=saved)
        w.observe(lambda ch: self.save(qid, ch["new"]), "value")
        return w

    def _blank(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        values = list(saved or [""] * spec["width"])
        boxes = [widgets.Text(value=v or "", description=f"第{i + 1}空", placeholder="请填写")
                 for i, v in enumerate(values)]

        def changed(_: Any) -> None:
            self.save(qid, [b.value for b in boxes])

        for box in boxes:
            box.observe(changed, "value")
        return widgets.VBox(boxes)

    def _menu(self, qid: str, options: dict[str, str], saved: Any) -> widgets.Dropdown:
        """A full-width dropdown that starts at （请选择） (ipywidgets shows a None value as empty)."""
        choices = [("（请选择）", NOT_CHOSEN), *self._options(qid, options)]
        value = saved if saved in options else NOT_CHOSEN
        return widgets.Dropdown(options=choices, value=value, layout=widgets.Layout(width="100%"))

    @staticmethod
    def _prompt(text: str) -> widgets.HTML:
        label = widgets.HTML(text, layout=widgets.Layout(width="100%"))
        label.add_class("kam-prompt")
        return label

    def _ordering(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        values = list(saved or [None] * spec["width"])
        menus = [self._menu(qid, spec["items"], v) for v in values]
        warning = widgets.HTML()
        warning.add_class("kam-warning")
        reverting: list[bool] = []

        def changed(change: dict[str, Any]) -> None:
            if reverting:
                return
            order = [m.value or None for m in menus]
            # check_shape is the one shape rule (a permutation of distinct item keys); a partial order is fine.
            if repeated_items(order) or (all(order) and check_shape("ordering", order, spec["width"])):
                # Refuse the repeat: put the menu back; the saved answer stays as it was.
                position = menus.index(change["owner"]) + 1
                item = spec["items"].get(change["new"], change["new"])
                reverting.append(True)
                try:
                    change["owner"].value = change["old"]
                finally:
                    reverting.clear()
                warning.value = (f"“{html.escape(item)}”已排在其他位置，每一项只能排一次；"
                                 f"第{position}位未更改，请先把原位置改为其他项。")
                return
            warning.value = ""
            self.save(qid, order)

        for menu in menus:
            menu.observe(changed, "value")
        rows: list[widgets.Widget] = []
        for i, menu in enumerate(menus, 1):
            rows += [self._prompt(f"<b>第{i}位</b>"), menu]
        return widgets.VBox([*rows, warning], layout=widgets.Layout(width="95%"))

    def _matching(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        saved = saved if isinstance(saved, dict) else {}
        menus = {p: self._menu(qid, spec["options"], saved.get(p)) for p in spec["prompts"]}

        def changed(_: Any) -> None:
            self.save(qid, {p: m.value or None for p, m in menus.items()})

        for menu in menus.values():
            menu.observe(changed, "value")
        rows: list[widgets.Widget] = []
        for i, (p, text) in enumerate(spec["prompts"].items(), 1):
            rows += [self._prompt(f"<b>第{i}项</b>　{html.escape(text)}"), menus[p]]
        return widgets.VBox(rows, layout=widgets.Layout(width="95%"))

    def _case(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        w = widgets.Textarea(value=saved or "", placeholder="请在此输入你的分析与方案（自动保存）",
                             layout=widgets.Layout(width="95%", height="220px"))
        warning = widgets.HTML()
        warning.add_class("kam-warning")

        def changed(change: dict[str, Any]) -> None:
            text = change["new"]
            # The grader refuses a text far longer than any answer: keep what is saved below that.
            warning.value = (f"答案已超过 {CASE_MAX_CHARS:,} 字，超出部分不会保存，请精简。"
                             if len(text) > CASE_MAX_CHARS else "")
            self.save(qid, text[:CASE_MAX_CHARS])

        w.observe(changed, "value")
        return widgets.VBox([w, warning], layout=widgets.Layout(width="95%"))

    # ------------------------------------------------------------ learner actions
    def unanswered_message(self) -> str:
        _, partial, blank = self._status()
        parts = []
        if blank:
            parts.append(f"尚未作答：第 {'、'.join(blank)} 题。")
        if partial:
            parts.append(f"部分作答：{self._partial_text(partial)}。")
        if parts:
            return "\n\n".join(parts)
        return "全部题目均已作答。请回到“课程作业”页面点击“提交”。"

    def check(self) -> None:
        """Show the progress and a button listing unanswered questions (never the keys)."""
        self.check_button = widgets.Button(description="检查作答情况", button_style="info", icon="check")

        def clicked(_: Any) -> None:
            self._show_check()

        self.check_button.on_click(clicked)
        box = widgets.VBox([self.progress, self.check_button, self.check_result])
        box.add_class("kam-quiz")
        display(box)
        self._touch_handle = self._touch_after_run_all()

    @staticmethod
    def _touch_after_run_all(delays: tuple[float, ...] = (1.5, 4.0)) -> Any:
        """Change one empty output a little after Run All, so JupyterLab's autosave saves every widget.

        JupyterLab marks a notebook saved when a save returns, even if outputs arrived while it was in
        flight; such a notebook would come back after a reload with some widgets missing. A later change
        makes the next autosave write them all.
        """
        handle = display(HTML(""), display_id=True)
        for i, delay in enumerate(delays):
            timer = threading.Timer(delay, handle.update, args=(HTML(f"<span data-touch='{i}'></span>"),))
            timer.daemon = True
            timer.start()
        return handle

    def _show_check(self) -> None:
        lines = self.unanswered_message().split("\n\n")
        self.check_result.value = "<br>".join(html.escape(line) for line in lines)

    # ------------------------------------------------------------ grading kernel
    def grade(self, qid: str, key: dict[str, Any]) -> float:
        """Called by the hidden test at autograde: show the explanation, return the points."""
        answers = self._load()
        earned = score(key, answers.get(qid))
        display(Markdown(f"**解析**：{key.get('explanation', '')}"))
        return earned


_DRAW = {
    "single": Quiz._single, "multiple": Quiz._multiple, "truefalse": Quiz._truefalse,
    "blank": Quiz._blank, "ordering": Quiz._ordering, "matching": Quiz._matching, "case": Quiz._case,
}
