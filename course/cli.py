"""The ``course`` command: a thin edge that turns errors into ``Error: ...`` and an exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from course.errors import ContentError, CourseError

app = typer.Typer(no_args_is_help=True, add_completion=False)
F = TypeVar("F", bound=Callable[..., Any])

ContentOpt = Annotated[
    Path | None,
    typer.Option("--content", help="Content folder (default: $COURSE_CONTENT or the one shipped in the package)."),
]
RootOpt = Annotated[Path, typer.Option("--root", help="The course folder holding nbgrader_config.py.")]
ChaptersArg = Annotated[
    list[str] | None, typer.Argument(help="Chapter ids (e.g. jc01 js03); default: every chapter.", show_default=False)
]


@app.callback()
def _root() -> None:
    """Course and grading toolkit for the key-account-manager certification (政企客户经理岗位技能认证)."""


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
def validate(content: ContentOpt = None, quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
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

    _, selected = _chapters(content, chapters)
    workflow.generate(root.resolve(), selected)
    typer.echo(f"generated {len(selected)} assignment(s) under release/.")


@app.command()
@reports_errors
def release(chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path(".")) -> None:
    """Run nbgrader release_assignment: put the assignments in the exchange for learners."""
    from course import workflow

    _, selected = _chapters(content, chapters)
    workflow.release(root.resolve(), selected)
    typer.echo(f"released {len(selected)} assignment(s).")


@app.command()
@reports_errors
def collect(chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path(".")) -> None:
    """Run nbgrader collect: copy submissions from the exchange into submitted/."""
    from course import workflow

    _, selected = _chapters(content, chapters)
    workflow.collect(root.resolve(), selected)
    typer.echo(f"collected {len(selected)} assignment(s).")


@app.command()
@reports_errors
def autograde(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    student: Annotated[list[str] | None, typer.Option("--student", help="Only these learners.")] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", help="Worker processes (default 2).")] = 2,
) -> None:
    """Autograde all submissions in parallel, then put trusted quiz scores into the gradebook."""
    from course import workflow

    course, selected = _chapters(content, chapters)
    report = workflow.autograde(root, course, selected, student, workers=workers)
    for problem in report.problems:
        typer.echo(f"Warning: {problem}", err=True)
    for (s, c), error in sorted(report.failed.items()):
        typer.echo(f"Error: autograde of {c} for {s} failed: {error}", err=True)
    typer.echo(f"autograded {len(report.graded)} notebook(s); {len(report.failed)} failed; "
               f"{len(report.problems)} answer problem(s).")
    if report.failed:
        raise typer.Exit(1)


@app.command()
@reports_errors
def feedback(chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path(".")) -> None:
    """Generate and release feedback (scores and explanations; no hidden tests, no rubrics)."""
    from course import workflow

    _, selected = _chapters(content, chapters)
    workflow.feedback(root.resolve(), selected)
    typer.echo(f"feedback released for {len(selected)} assignment(s).")


@app.command("import-answers")
@reports_errors
def import_answers(
    csv_file: Annotated[Path, typer.Argument(help="CSV with columns student_id,question_id,answer.")],
    content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Turn answers given elsewhere (paper exam, another system) into real nbgrader submissions."""
    from course.import_answers import import_answers as run
    from course.loader import load_course

    created = run(root, load_course(content), csv_file)
    typer.echo(f"created and collected {len(created)} submission(s); run `course autograde` to grade them.")


DEMO_CHAPTERS = ["jc01", "jc04", "jc05", "jc07", "js01", "xs01"]  # one chapter per knowledge area


@app.command()
@reports_errors
def simulate(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    learners: Annotated[int, typer.Option("--learners", "-n", help="Cohort size.")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same cohort).")] = 2026,
) -> None:
    """Release chapters and have a synthetic 2PL cohort answer and submit them through nbgrader's exchange."""
    from course.simulate import Settings
    from course.simulate import simulate as run

    course, selected = _chapters(content, chapters or DEMO_CHAPTERS)
    roster = run(root, course, selected, Settings(learners=learners, seed=seed))
    typer.echo(f"{len(roster)} simulated learners submitted {', '.join(selected)}; roster written to "
               f"{root / 'roster.csv'}.")


@app.command("hand-grade")
@reports_errors
def hand_grade(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    seed: Annotated[int, typer.Option("--seed")] = 2026,
) -> None:
    """Simulation only: play the instructor and give every ungraded case answer a rubric score."""
    from course.simulate import hand_grade as run

    course, selected = _chapters(content, chapters)
    typer.echo(f"hand-graded {run(root.resolve(), course, selected, seed)} case answer(s).")


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

    course = load_course(content)
    if level not in course.weights.tables:
        raise WorkflowError(f"unknown level '{level}': use one of {', '.join(course.weights.tables)}")
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
    learners: Annotated[int, typer.Option("--learners", "-n", help="Cohort size.")] = 30,
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


@app.command()
@reports_errors
def hub(
    home: Annotated[Path, typer.Option("--home", help="Folder of the course, content, exchange, hub state.")] = Path(
        "/srv/kam-cert"),
    port: Annotated[int, typer.Option("--port", help="Hub port on 127.0.0.1 (the next two are used too).")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Create demo accounts and passwords; release ch. 1.")] = False,
    instructor: Annotated[list[str] | None, typer.Option("--instructor", help="An instructor's OS account.")] = None,
    learner: Annotated[list[str] | None, typer.Option("--learner", help="A learner's OS account.")] = None,
    chapters: Annotated[list[str] | None, typer.Option("--release", help="Chapter to generate and release.")] = None,
    content: ContentOpt = None,
    setup_only: Annotated[bool, typer.Option("--setup-only", help="Prepare everything, do not start the hub.")] = False,
) -> None:
    """Run a multi-user JupyterHub for the course: one OS account per user, a closed exchange (as root)."""
    from course.hub import serve

    acc = serve.demo_accounts() if demo else serve.Accounts(list(instructor or []), list(learner or []), {})
    settings = serve.setup(home.resolve(), port, acc, content)
    wanted = list(chapters or [])
    if demo and not wanted:
        from course.loader import load_course

        wanted = list(load_course(Path(settings.content)).chapters)[:1]
    for chapter in wanted:
        serve.as_instructor(settings, ["generate", chapter])
        serve.as_instructor(settings, ["release", chapter])
        typer.echo(f"released {chapter}")
    typer.echo(serve.logins_text(settings, acc))
    if not setup_only:
        raise typer.Exit(serve.run(settings))


def main() -> None:
    app(prog_name="course")


if __name__ == "__main__":
    main()
