"""A rating notebook: managers rate learners on the competency items with dropdowns; saving imports a CSV.

The form writes the same CSV a manager could write by hand
(``learner_id,competency,level,rater``) and imports it with
:func:`course.certification.ratings.import_ratings`, so both ways go through
the same checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from course.analytics.roster import read_roster
from course.certification import ratings
from course.loader import Course, load_course


def rating_rows(values: dict[tuple[str, str], str | None], rater: str) -> pd.DataFrame:
    """The CSV rows of the form's chosen values (unset dropdowns are left out)."""
    rows = [{"learner_id": learner, "competency": item, "level": level, "rater": rater}
            for (learner, item), level in sorted(values.items()) if level]
    return pd.DataFrame(rows, columns=list(ratings.COLUMNS))


def rating_form(root: Path | str, roster_csv: Path | str, content: Path | str | None = None) -> Any:
    """An ipywidgets form: one dropdown per learner × rated item, a rater name and a 保存评定 button."""
    import ipywidgets as w

    root = Path(root)
    course: Course = load_course(Path(content) if content else None)
    roster = read_roster(Path(roster_csv), course)
    titles = [lv.title for lv in sorted(course.competencies.levels, key=lambda x: x.rank)]
    items = {c.id: c.title for c in course.competencies.items if c.assessed_by == "rating"}
    dropdowns: dict[tuple[str, str], Any] = {}
    panels = []
    for learner, person in roster.iterrows():
        boxes = []
        for item, label in items.items():
            dd = w.Dropdown(options=[("（未评定）", None), *[(t, t) for t in titles]], description=label,
                            style={"description_width": "120px"})
            dropdowns[(str(learner), item)] = dd
            boxes.append(dd)
        panels.append((f"{person['name']}（{learner}）", w.VBox(boxes)))
    accordion = w.Accordion(children=[p for _, p in panels], titles=tuple(t for t, _ in panels))
    rater = w.Text(description="评定人")
    status = w.HTML()
    save = w.Button(description="保存评定", button_style="primary")

    def on_save(_: Any) -> None:
        if not rater.value.strip():
            status.value = "请先填写评定人。"
            return
        frame = rating_rows({k: d.value for k, d in dropdowns.items()}, rater.value.strip())
        path = root / "certification" / "rating-form.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, encoding="utf-8")
        try:
            stored = ratings.import_ratings(root, path, course)
        except Exception as exc:  # shown to the manager in the notebook, not raised into the kernel log
            status.value = f"保存失败：{exc}"
            return
        status.value = f"已保存 {len(frame)} 条评定（共 {len(stored)} 条）。"

    save.on_click(on_save)
    return w.VBox([w.HTML("<b>能力素质评定</b>：为每位学员的每个项目选择级别，然后点击“保存评定”。"), rater, accordion,
                   save, status])


def rating_notebook(root: Path, roster_csv: Path, content: Path | None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 能力素质评定\n\n请点击 **运行 → 运行所有单元格**，然后在下方表单中评定。",
                                      id="intro"),
        nbformat.v4.new_code_cell(
            "from course.certification.rating_widgets import rating_form\n"
            f"rating_form({str(root)!r}, {str(roster_csv)!r}, {str(content) if content else None!r})",
            id="form"),
    ]
    return nb


def write_rating_notebook(out: Path, root: Path, roster_csv: Path, content: Path | None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(nbformat.writes(rating_notebook(root, roster_csv, content)) + "\n", encoding="utf-8")
    return out
