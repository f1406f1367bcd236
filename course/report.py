"""``course report``: run the analytics notebooks headless with papermill and write HTML for managers."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbconvert import HTMLExporter
from tqdm import tqdm

from course.analytics import snapshot as snapshots
from course.analytics.snapshot import Snapshot
from course.errors import CourseError
from course.ostools import die_with_parent

ANALYTICS = Path(__file__).resolve().parents[1] / "analytics"
# the pages in order; another page is one more name here (its notebook declares the same parameters)
NOTEBOOKS: list[str] = ["01_cohort_overview", "02_knowledge_gaps", "03_item_analysis", "04_learner_drilldown",
                        "05_certification"]
SNAPSHOT_DIR = Path("reports") / "snapshot"
WORKERS = 2  # notebooks rendered at the same time (the 2-core reference machine)
# pages reading the learners' answers (the item analysis, also the longest page): started first when
# the snapshot has the answers, else as soon as they are read, while the other pages render
NEEDS_ANSWERS = {"03_item_analysis"}

PRINT_CSS = """
<style>
  body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif; }
  .jp-OutputArea-output img, .jp-OutputArea-output svg { max-width: 100%; height: auto; }
  table { border-collapse: collapse; font-size: 12px; }
  th, td { padding: 2px 6px; border-bottom: 1px solid #ddd; }
  @page { size: A4; margin: 15mm 12mm; }
  @media print {
    body { font-size: 11pt; color: #000; background: #fff; }
    .jp-Cell, .jp-OutputArea-child, img, svg, table, tr { break-inside: avoid; page-break-inside: avoid; }
    h2 { break-before: auto; break-after: avoid; }
    .jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser { display: none !important; }
    .jp-Notebook, .jp-Cell { padding: 0 !important; margin: 0 !important; }
    a { color: #000; text-decoration: none; }
  }
</style>
"""


def parameters(*, content: str | None = None, roster_csv: str | None = None, level: str = "L4",
               region: str | None = None, since: str | None = None, until: str | None = None,
               learner: str | None = None, snapshot: str | None = None) -> dict[str, Any]:
    """The papermill parameters every analytics notebook declares (besides ``course_root``).

    ``learner``: one learner id or several, comma-separated, for the drill-down page.
    ``snapshot``: the gradebook snapshot folder; ``report`` sets it, so pages never open the gradebook.
    """
    return {"content": content, "roster_csv": roster_csv, "level": level, "region": region,
            "since": since, "until": until, "learner": learner, "snapshot": snapshot}


def analytics_dir() -> Path:
    if not ANALYTICS.is_dir():
        raise CourseError(f"{ANALYTICS} is missing: the analytics notebooks ship in the repository's analytics/ "
                          "folder; run from a checkout of the course repository")
    return ANALYTICS


# In a report's page workers: the lock a page holds while its kernel starts (see _kernel_start).
_KERNEL_START: Any = None


def _init_worker(lock: Any, parent: int) -> None:
    die_with_parent(parent)  # a killed `course report` leaves no page rendering on
    global _KERNEL_START
    _KERNEL_START = lock


@contextlib.contextmanager
def _kernel_start() -> Iterator[Callable[..., None]]:
    """One kernel starting at a time among a report's workers; yields the hook that ends the turn.

    jupyter_client picks free TCP ports in the launching process and the kernel binds them a moment
    later, so two pages starting at once can pick the same port; the kernel then fails to bind and
    hangs for the 60 s start-up timeout (seen in CI: "Address already in use"). The turn ends when
    the first cell starts (the kernel is up) or when the page ends.
    """
    lock = _KERNEL_START
    held = lock is not None and lock.acquire()

    def done(**_hook: Any) -> None:
        nonlocal held
        if held:
            held = False
            lock.release()

    try:
        yield done
    finally:
        done()


def render(notebook: Path, out_dir: Path, parameters: dict[str, Any]) -> Path:
    """Execute one notebook with ``parameters``; write the executed .ipynb and an HTML without code."""
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / notebook.name
    try:
        with _kernel_start() as started:
            papermill.execute_notebook(str(notebook), str(executed), parameters=parameters, kernel_name="python3",
                                       progress_bar=False, cwd=str(out_dir), on_cell_start=started)
    except papermill.PapermillExecutionError as exc:
        raise CourseError(f"{notebook.name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}; "
                          f"the executed notebook with the traceback is {executed}") from None
    nb = nbformat.read(executed, as_version=4)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(nb)
    html = print_friendly(html, landscape=nb.metadata.get("course", {}).get("print") == "landscape")
    target = executed.with_suffix(".html")
    target.write_text(html, encoding="utf-8")
    return target


def print_friendly(html: str, landscape: bool = False) -> str:
    """The exported page with print CSS (A4, no prompts, figures and tables kept whole on a page).

    ``landscape``: the page prints across (a notebook asks with ``metadata.course.print``), for a
    table as wide as the certification results list.
    """
    css = PRINT_CSS.replace("size: A4;", "size: A4 landscape;") if landscape else PRINT_CSS
    return html.replace("</head>", css + "</head>", 1)


def _warm_up() -> None:
    """Run in a fresh worker: this module (papermill, nbconvert) is imported by the time it runs."""


def take_snapshot(root: Path, content: str | None = None, *, responses: bool = True) -> Snapshot:
    """Read the gradebook once into ``reports/snapshot/`` (kept while the gradebook is unchanged)."""
    from course.nbconfig import course_config, db_url

    course_id = course_config(root).CourseDirectory.course_id
    return snapshots.ensure(root, db_url(root), course_id, root / SNAPSHOT_DIR, Path(content) if content else None,
                            responses=responses)


def report(root: Path, parameters: dict[str, Any], out_dir: Path | None = None,
           notebooks: Sequence[str] | None = None, progress: bool = True) -> list[Path]:
    """Snapshot the gradebook once, render every analytics notebook from it into ``reports/<timestamp>/``.

    Returns the HTML paths. A ``snapshot`` in ``parameters`` is used as it is (no gradebook read).
    """
    source = analytics_dir()
    root = root.resolve()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = out_dir or root / "reports" / stamp
    names = list(notebooks or NOTEBOOKS)
    # pages are independent once the snapshot exists: rendered in processes, because papermill changes
    # the working directory of the whole process for each page; the longest page starts first
    context = multiprocessing.get_context("spawn")
    workers = min(WORKERS, len(names)) or 1
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(context.Lock(), os.getpid())) as pool:
        for _ in range(workers):
            pool.submit(_warm_up)  # workers start and import while the snapshot is checked or taken
        content = Path(parameters["content"]) if parameters.get("content") else None
        snap = None if parameters.get("snapshot") else take_snapshot(root, parameters.get("content"),
                                                                     responses=False)
        folder = str(snap.folder) if snap is not None else parameters["snapshot"]
        params = {"course_root": str(root), **parameters, "snapshot": folder}
        order = sorted(names, key=lambda n: n not in NEEDS_ANSWERS)
        answers_later = snap is not None and not snapshots.has_responses(snap, content)
        jobs = {name: pool.submit(render, source / f"{name}.ipynb", out_dir, params)
                for name in order if not (answers_later and name in NEEDS_ANSWERS)}
        if snap is not None and answers_later:
            snapshots.add_responses(root, snap, content)  # while the pages above render
            jobs |= {name: pool.submit(render, source / f"{name}.ipynb", out_dir, params)
                     for name in order if name in NEEDS_ANSWERS}
        for _ in tqdm(as_completed(jobs.values()), total=len(jobs), desc="report", unit="nb",
                      disable=not progress):
            pass
        return [jobs[name].result() for name in names]
