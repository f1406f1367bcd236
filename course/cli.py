"""The ``course`` command: a thin edge that turns errors into ``Error: ...`` and an exit code."""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from course.errors import ContentError, CourseError

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)
F = TypeVar("F", bound=Callable[..., Any])

ContentOpt = Annotated[
    Path | None,
    typer.Option("--content", help="Content folder (default: $COURSE_CONTENT or the one shipped in the package)."),
]
RootOpt = Annotated[Path, typer.Option("--root", help="The course folder holding nbgrader_config.py.")]
ChaptersArg = Annotated[
    list[str] | None, typer.Argument(help="Chapter ids (e.g. jc01 js03); default: every chapter.", show_default=False,
                                     metavar="CHAPTER")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same result).")]


@app.callback()
def _root() -> None:
    """Course and grading toolkit for the key-account-manager certification (政企客户经理岗位技能认证)."""
    # nbgrader's Gradebook shells out to `alembic`, installed beside this interpreter but maybe not on PATH.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def reports_errors(func: F) -> F:
    """Print a CourseError as ``Error: ...`` lines and exit 1 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ContentError as exc:
            for problem in exc.problems:
                typer.echo(f"Error: {problem}", err=True)
            typer.echo(f"{len(exc.problems)} problem(s) found.", err=True)
            raise typer.Exit(1) from None
        except CourseError as exc:
            for line in str(exc).splitlines():
                typer.echo(f"Error: {line}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _course_root(root: Path) -> Path:
    """The course folder, resolved; a WorkflowError if it has no nbgrader_config.py."""
    from course.errors import WorkflowError
    from course.status import is_course_folder

    root = root.resolve()
    if not is_course_folder(root):
        raise WorkflowError(f"{root} is not a course folder (it has no nbgrader_config.py): "
                            "run the command in the course folder, or pass --root <course folder>")
    return root


def _chapters(content: Path | None, chapters: list[str] | None) -> tuple[Any, list[str]]:
    from course.errors import WorkflowError
    from course.loader import load_course

    course = load_course(content)
    unknown = [c for c in chapters or [] if c not in course.chapters]
    if unknown:
        raise WorkflowError(f"unknown chapter(s) {', '.join(unknown)}: use ids from syllabus.yaml "
                            f"({', '.join(course.chapters)})")
    return course, list(chapters or course.chapters)


@app.command()
@reports_errors
def validate(
    content: ContentOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only problems and the final OK line.")] = False,
) -> None:
    """Check the whole course content; report every problem as file:line, then print a summary."""
    from course.loader import load_course
    from course.summary import render

    course = load_course(content)
    if not quiet:
        typer.echo(render(course))
    typer.echo(f"OK: {len(course.questions)} questions in {len(course.chapters)} chapters.")


@app.command()
@reports_errors
def build(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    check: Annotated[bool, typer.Option("--check", help="Fail if source/ is not what the content builds.")] = False,
) -> None:
    """Generate the nbgrader source notebooks source/<chapter>/<chapter>.ipynb from the content."""
    from course.build import stale_sources, write_sources
    from course.errors import WorkflowError

    course, selected = _chapters(content, chapters)
    if check:
        stale = stale_sources(course, root / "source")
        if stale:
            raise WorkflowError("out of date: " + ", ".join(map(str, stale)) + "; run `course build` and commit")
        typer.echo(f"source/ is up to date ({len(course.chapters)} notebooks).")
        return
    written = write_sources(course, root / "source", selected)
    typer.echo(f"{len(written)} notebook(s) written, {len(selected) - len(written)} unchanged.")


@app.command()
@reports_errors
def generate(chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path(".")) -> None:
    """Run nbgrader generate_assignment: student versions under release/, hidden tests stripped."""
    from course import workflow

    root = _course_root(root)
    _, selected = _chapters(content, chapters)
    workflow.generate(root, selected)
    typer.echo(f"generated {len(selected)} assignment(s) under release/.")


@app.command()
@reports_errors
def release(chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path(".")) -> None:
    """Run nbgrader release_assignment: put the assignments in the exchange for learners."""
    from course import workflow

    root = _course_root(root)
    _, selected = _chapters(content, chapters)
    workflow.release(root, selected)
    typer.echo(f"released {len(selected)} assignment(s).")


@app.command()
@reports_errors
def collect(chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path(".")) -> None:
    """Run nbgrader collect: copy submissions from the exchange into submitted/."""
    from course import workflow
    from course.errors import WorkflowError
    from course.nbconfig import COURSE_ID, exchange_root

    root = _course_root(root)
    _, selected = _chapters(content, chapters)
    inbound = exchange_root(root) / COURSE_ID / "inbound"
    if not inbound.is_dir():
        raise WorkflowError(f"nothing to collect: {inbound} does not exist, so no learner has submitted yet; "
                            "run `course release` first and let learners submit in the Assignments tab")
    workflow.collect(root, selected)
    typer.echo(f"collected {len(selected)} assignment(s).")


@app.command()
@reports_errors
def autograde(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    student: Annotated[list[str] | None, typer.Option("--student", help="Only this learner (repeat for more).",
                                                      metavar="LEARNER")] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", min=1, help="Worker processes (at least 1).")] = 2,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Autograde all submissions in parallel, then put trusted quiz scores into the gradebook."""
    from course import workflow

    root = _course_root(root)
    course, selected = _chapters(content, chapters)
    check_submissions(root, selected if chapters else None, student)
    report = workflow.autograde(root, course, selected, student, workers=workers, progress=progress)
    for problem in report.problems:
        typer.echo(f"Warning: {problem}", err=True)
    for (s, c), error in sorted(report.failed.items()):
        typer.echo(f"Error: autograde of {c} for {s} failed: {error}", err=True)
    typer.echo(f"autograded {len(report.graded)} notebook(s); {len(report.failed)} failed; "
               f"{len(report.problems)} answer problem(s).")
    if report.failed:
        raise typer.Exit(1)


def check_submissions(root: Path, chapters: list[str] | None, students: list[str] | None) -> None:
    """Raise a WorkflowError naming what to run when autograde would find nothing to grade."""
    from course.errors import WorkflowError
    from course.status import submissions

    found = submissions(root, chapters)
    which = ", ".join(chapters) if chapters else "any chapter"
    if not found:
        raise WorkflowError(f"nothing to grade: {root / 'submitted'} holds no submissions of {which}; "
                            "run `course collect` first (learners submit in the Assignments tab)")
    if students:
        present = sorted({s for learners in found.values() for s in learners})
        unknown = [s for s in students if s not in present]
        if unknown:
            raise WorkflowError(f"no submissions of {which} from {', '.join(unknown)} in {root / 'submitted'}: "
                                f"check the learner id (learners with submissions: {', '.join(present)})")


@app.command()
@reports_errors
def feedback(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    hold_pending: Annotated[bool, typer.Option(
        "--hold-pending",
        help="Hold back a learner's feedback while any of their case answers waits for a hand grade.")] = False,
) -> None:
    """Generate and release feedback for every chapter with graded submissions (no hidden tests, no rubrics)."""
    from course import workflow
    from course.errors import WorkflowError
    from course.status import autograded, pending_manual

    root = _course_root(root)
    course, selected = _chapters(content, chapters)
    graded = {c: learners for c, learners in autograded(root, selected).items() if learners}
    if not graded:
        raise WorkflowError(f"no graded submissions of {', '.join(chapters) if chapters else 'any chapter'}: "
                            "run `course autograde` first")
    for chapter in chapters or []:
        if chapter not in graded:
            typer.echo(f"Warning: {chapter} has no graded submissions: skipped (run `course autograde {chapter}`)",
                       err=True)
    pending = pending_manual(root)
    released, held = 0, 0
    for chapter in (c for c in selected if c in graded):
        numbers = {q.id: i for i, q in enumerate(course.questions_of(chapter), 1)}
        waiting = {s: qs for (s, c), qs in pending.items() if c == chapter and s in graded[chapter]}
        if waiting:
            names = "; ".join(f"{s} 第{'、'.join(str(numbers.get(q, q)) for q in qs)}题"
                              for s, qs in sorted(waiting.items()))
            action = "their feedback is held back" if hold_pending else "their feedback shows these as 待评分"
            typer.echo(f"Warning: {chapter}: {sum(map(len, waiting.values()))} case answer(s) of "
                       f"{len(waiting)} learner(s) still wait for a hand grade ({names}); {action}. "
                       f"Grade them in formgrader, then run `course feedback {chapter}` again.", err=True)
        learners = [s for s in graded[chapter] if not (hold_pending and s in waiting)]
        held += len(graded[chapter]) - len(learners)
        if learners:
            # nbgrader skips feedback that exists unless forced; grades may have changed since (hand grading)
            for learner in learners:
                shutil.rmtree(root / "feedback" / learner / chapter, ignore_errors=True)
            workflow.feedback(root, [chapter], learners if hold_pending and waiting else None)
            released += len(learners)
    typer.echo(f"feedback released to {released} learner(s) in {len(graded)} chapter(s)"
               + (f"; {held} held back until hand grading is done." if held else "."))


@app.command("import-answers")
@reports_errors
def import_answers(
    csv_file: Annotated[Path, typer.Argument(help="CSV with columns student_id,question_id,answer.")],
    content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Turn answers given elsewhere (paper exam, another system) into real nbgrader submissions."""
    from course.errors import WorkflowError
    from course.import_answers import import_answers as run
    from course.loader import load_course

    root = _course_root(root)
    if not csv_file.is_file():
        raise WorkflowError(f"answers file {csv_file} does not exist: give the path of a CSV with columns "
                            "student_id,question_id,answer")
    created = run(root, load_course(content), csv_file)
    typer.echo(f"created and collected {len(created)} submission(s); run `course autograde` to grade them.")


DEMO_CHAPTERS = ["jc01", "jc04", "jc05", "jc07", "js01", "xs01"]  # one chapter per knowledge area


@app.command()
@reports_errors
def simulate(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    learners: Annotated[int, typer.Option("--learners", "-n", min=1, help="Cohort size (at least 1).")] = 30,
    seed: SeedOpt = 2026,
) -> None:
    """Release chapters and have a synthetic 2PL cohort answer and submit them through nbgrader's exchange."""
    from course.simulate import Settings
    from course.simulate import simulate as run

    root = _course_root(root)
    course, selected = _chapters(content, chapters or DEMO_CHAPTERS)
    roster = run(root, course, selected, Settings(learners=learners, seed=seed))
    typer.echo(f"{len(roster)} simulated learners submitted {', '.join(selected)}; roster written to "
               f"{root / 'roster.csv'}.")


@app.command("hand-grade")
@reports_errors
def hand_grade(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    seed: SeedOpt = 2026,
) -> None:
    """Simulation only: play the instructor and give every ungraded case answer a rubric score."""
    from course.errors import WorkflowError
    from course.simulate import hand_grade as run
    from course.status import graded_count

    root = _course_root(root)
    course, selected = _chapters(content, chapters)
    if graded_count(root) == 0:
        raise WorkflowError(f"no grades yet in the gradebook of {root}: nothing to hand-grade; "
                            "run `course autograde` first")
    typer.echo(f"hand-graded {run(root, course, selected, seed)} case answer(s).")


@app.command()
@reports_errors
def report(
    root: RootOpt = Path("."), content: ContentOpt = None,
    roster: Annotated[Path | None, typer.Option("--roster", help="Roster CSV (default: ./roster.csv).")] = None,
    level: Annotated[str, typer.Option("--level", help="Certification level (weight table): L4 L3 L2 L1.")] = "L4",
    region: Annotated[str | None, typer.Option("--cohort", help="Only this region/company.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Submissions from this date (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Submissions up to this date (YYYY-MM-DD).")] = None,
    learner: Annotated[str | None, typer.Option("--learner", help="Learner for the drill-down.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default reports/<time>).")] = None,
) -> None:
    """Run the analytics notebooks headless (papermill) and write HTML reports for managers."""
    from course.errors import WorkflowError
    from course.loader import load_course
    from course.report import parameters
    from course.report import report as run
    from course.status import graded_count

    root = _course_root(root)
    course = load_course(content)
    if level not in course.weights.tables:
        raise WorkflowError(f"unknown level '{level}': use one of {', '.join(course.weights.tables)}")
    if roster is not None and not roster.is_file():
        raise WorkflowError(f"roster file {roster} does not exist: give --roster the path of the roster CSV "
                            "(columns learner_id,name,region,department,target_level), or leave --roster out")
    if graded_count(root) == 0:
        raise WorkflowError(f"no grades yet in the gradebook of {root}: nothing to report; "
                            "run `course autograde` first, then `course report`")
    roster = roster or (root / "roster.csv" if (root / "roster.csv").exists() else None)
    params = parameters(content=str(content) if content else None,
                        roster_csv=str(roster.resolve()) if roster else None,
                        level=level, region=region, since=since, until=until, learner=learner)
    pages = run(root, params, out)
    for page in pages:
        typer.echo(f"wrote {page}")
    typer.echo(f"Report: {pages[0]}")


@app.command()
@reports_errors
def demo(
    root: RootOpt = Path("."),
    learners: Annotated[int, typer.Option("--learners", "-n", min=1, help="Cohort size (at least 1).")] = 30,
) -> None:
    """The whole job on embedded defaults: build -> simulate -> autograde -> hand-grade -> report."""
    from course import workflow
    from course.build import write_sources
    from course.loader import load_course
    from course.report import parameters
    from course.report import report as run_report
    from course.simulate import Settings
    from course.simulate import hand_grade as run_hand_grade
    from course.simulate import simulate as run_simulate

    course = load_course()
    root = root.resolve()
    typer.echo(f"1/5 build: {len(write_sources(course, root / 'source'))} source notebook(s) updated")
    run_simulate(root, course, DEMO_CHAPTERS, Settings(learners=learners))
    typer.echo(f"2/5 simulate: {learners} learners submitted {', '.join(DEMO_CHAPTERS)}")
    result = workflow.autograde(root, course, DEMO_CHAPTERS)
    typer.echo(f"3/5 autograde: {len(result.graded)} notebook(s), {len(result.failed)} failed")
    typer.echo(f"4/5 hand-grade: {run_hand_grade(root, course, DEMO_CHAPTERS)} case answer(s)")
    pages = run_report(root, parameters(roster_csv=str(root / "roster.csv")))
    typer.echo(f"5/5 report: {len(pages)} page(s)")
    typer.echo(f"Report: {pages[0]}")


def main() -> None:
    app(prog_name="course")


if __name__ == "__main__":
    main()
