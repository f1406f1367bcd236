"""``course report``: run the analytics notebooks headless with papermill and write HTML for managers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbconvert import HTMLExporter
from tqdm import tqdm

from course.errors import CourseError

ANALYTICS = Path(__file__).resolve().parents[1] / "analytics"
NOTEBOOKS = ("01_cohort_overview", "02_knowledge_gaps", "03_item_analysis", "04_learner_drilldown", "05_certification")


def parameters(*, content: str | None = None, roster_csv: str | None = None, level: str = "L4",
               region: str | None = None, since: str | None = None, until: str | None = None,
               learner: str | None = None) -> dict[str, Any]:
    """The papermill parameters every analytics notebook declares (besides ``course_root``)."""
    return {"content": content, "roster_csv": roster_csv, "level": level, "region": region,
            "since": since, "until": until, "learner": learner}


def analytics_dir() -> Path:
    if not ANALYTICS.is_dir():
        raise CourseError(f"{ANALYTICS} is missing: the analytics notebooks ship in the repository's analytics/ "
                          "folder; run from a checkout of the course repository")
    return ANALYTICS


def render(notebook: Path, out_dir: Path, parameters: dict[str, Any]) -> Path:
    """Execute one notebook with ``parameters``; write the executed .ipynb and an HTML without code."""
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / notebook.name
    try:
        papermill.execute_notebook(str(notebook), str(executed), parameters=parameters, kernel_name="python3",
                                   progress_bar=False, cwd=str(out_dir))
    except papermill.PapermillExecutionError as exc:
        raise CourseError(f"{notebook.name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}; "
                          f"the executed notebook with the traceback is {executed}") from None
    nb = nbformat.read(executed, as_version=4)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(nb)
    target = executed.with_suffix(".html")
    target.write_text(html, encoding="utf-8")
    return target


def report(root: Path, parameters: dict[str, Any], out_dir: Path | None = None,
           notebooks: tuple[str, ...] = NOTEBOOKS, progress: bool = True) -> list[Path]:
    """Render every analytics notebook into ``reports/<timestamp>/``; return the HTML paths."""
    source = analytics_dir()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = out_dir or root.resolve() / "reports" / stamp
    params = {"course_root": str(root.resolve()), **parameters}
    return [render(source / f"{name}.ipynb", out_dir, params)
            for name in tqdm(notebooks, desc="report", unit="nb", disable=not progress)]
