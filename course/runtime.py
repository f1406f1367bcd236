"""The learner-side code of a generated notebook: draw widgets, save answers.

:mod:`course.build` pastes this module (after :mod:`course.scoring`) into the
hidden, locked setup cell of every notebook, so learners need nothing but
ipywidgets installed, and no answer key ever reaches them: the question specs
given to :class:`Quiz` hold stems' options but no keys.

Every change is written at once, atomically, to ``<notebook>.answers.json``
beside the notebook (the kernel's working directory); re-running the cells
shows the saved answers. That file travels with ``nbgrader submit``.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML, Markdown, display

from course.scoring import check_shape, is_answered, score  # notebook: drop

ANSWERS_FORMAT = "kam-answers/1"


def learner_id() -> str:
    """The learner: the hub's user name on JupyterHub, else the OS account."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def shuffled(keys: list[str], learner: str, qid: str) -> list[str]:
    """Option order for one learner: stable for that learner, different across learners."""
    seed = int.from_bytes(hashlib.sha256(f"{learner}\0{qid}".encode()).digest()[:8], "big")
    order = list(keys)
    random.Random(seed).shuffle(order)
    return order


def read_answers(path: Path) -> dict[str, Any]:
    """The saved answers; raise ValueError if the file is not a valid answers file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != ANSWERS_FORMAT or not isinstance(data.get("answers"), dict):
        raise ValueError(f"not a {ANSWERS_FORMAT} file")
    return data["answers"]


def write_answers(path: Path, notebook: str, learner: str, answers: dict[str, Any]) -> None:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    payload = {
        "format": ANSWERS_FORMAT,
        "notebook": notebook,
        "learner": learner,
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "answers": answers,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Quiz:
    """The questions of one notebook and the learner's saved answers."""

    def __init__(self, notebook: str, questions: dict[str, dict[str, Any]]) -> None:
        self.notebook = notebook
        self.questions = questions
        self.learner = learner_id()
        self.path = Path(f"{notebook}.answers.json")
        self.answers = self._load()
        self.progress = widgets.HTML()
        self.widgets: dict[str, widgets.Widget] = {}  # the latest widget drawn per question
        self._refresh()

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
        self._refresh()

    def _answered(self) -> list[str]:
        return [q for q in self.questions if is_answered(self.answers.get(q))]

    def _refresh(self) -> None:
        done, total = len(self._answered()), len(self.questions)
        self.progress.value = f"<b>作答进度：已作答 {done} / {total} 题</b>（答案会自动保存）"

    # ------------------------------------------------------------ widgets
    def show(self, qid: str) -> None:
        """Draw the answer widget of one question, showing any saved answer."""
        spec = self.questions[qid]
        saved = self.answers.get(qid)
        if check_shape(spec["type"], saved, spec.get("width")):
            saved = None
        self.widgets[qid] = _DRAW[spec["type"]](self, qid, spec, saved)
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

    def _ordering(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        choices = [("（请选择）", None), *self._options(qid, spec["items"])]
        values = list(saved or [None] * spec["width"])
        menus = [widgets.Dropdown(options=choices, value=v, description=f"第{i + 1}位")
                 for i, v in enumerate(values)]

        def changed(_: Any) -> None:
            self.save(qid, [m.value for m in menus])

        for menu in menus:
            menu.observe(changed, "value")
        return widgets.VBox(menus)

    def _matching(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        choices = [("（请选择）", None), *self._options(qid, spec["options"])]
        saved = saved or {}
        menus = {p: widgets.Dropdown(options=choices, value=saved.get(p), description=text,
                                     style={"description_width": "initial"})
                 for p, text in spec["prompts"].items()}

        def changed(_: Any) -> None:
            self.save(qid, {p: m.value for p, m in menus.items()})

        for menu in menus.values():
            menu.observe(changed, "value")
        return widgets.VBox(list(menus.values()))

    def _case(self, qid: str, spec: dict[str, Any], saved: Any) -> widgets.Widget:
        w = widgets.Textarea(value=saved or "", placeholder="请在此输入你的分析与方案（自动保存）",
                             layout=widgets.Layout(width="95%", height="220px"))
        w.observe(lambda ch: self.save(qid, ch["new"]), "value")
        return w

    # ------------------------------------------------------------ learner actions
    def unanswered_message(self) -> str:
        missing = [str(spec["no"]) for q, spec in self.questions.items() if not is_answered(self.answers.get(q))]
        if missing:
            return f"尚未作答：第 {'、'.join(missing)} 题。"
        return "全部题目均已作答。请在 **Assignments（作业）** 页面提交。"

    def check(self) -> None:
        """Show the progress and a button listing unanswered questions (never the keys)."""
        out = widgets.Output()
        self.check_button = widgets.Button(description="检查作答情况", button_style="info", icon="check")

        def clicked(_: Any) -> None:
            out.clear_output()
            with out:
                display(Markdown(self.unanswered_message()))

        self.check_button.on_click(clicked)
        display(widgets.VBox([self.progress, self.check_button, out]))

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
