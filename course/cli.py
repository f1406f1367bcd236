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
AssignmentsArg = Annotated[
    list[str] | None, typer.Argument(help="Chapter ids (jc01), paper ids (L4-2026a: all its variants) or one "
                                          "variant (L4-2026a-zhang.san); default: every chapter and paper.",
                                     show_default=False, metavar="CHAPTER|PAPER")
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


def _selection(root: Path, content: Path | None, ids: list[str] | None) -> tuple[Any, Any]:
    """The course and the chapters and paper variants ``ids`` name (course.instructor.assignments)."""
    from course.instructor.assignments import select
    from course.loader import load_course

    course = load_course(content)
    return course, select(root, course, ids)


def _sittings_of(root: Path) -> dict[str, list[Any]]:
    """Paper id → the sittings (考试场次) that hold it, when the gradebook has any."""
    from course.sittings import records

    found: dict[str, list[Any]] = {}
    with _sittings_engine(root).connect() as conn:
        for sitting in records.current(conn):
            found.setdefault(sitting.paper, []).append(sitting)
    return found


def _sittings_engine(root: Path) -> Any:
    from course.nbconfig import course_config, db_url
    from course.sittings.store import open_url

    return open_url(db_url(root), str(course_config(root).CourseDirectory.course_id))


@app.command()
@reports_errors
def validate(
    content: ContentOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only problems and the final OK line.")] = False,
    review: Annotated[bool, typer.Option(
        "--review", help="Then list the items the latest cohort's statistics flag (needs a gradebook).")] = False,
    lint: Annotated[bool, typer.Option(
        "--lint", help="List every item-writing flaw the linter finds, with file:line, rule and fix.")] = False,
    root: RootOpt = Path("."),
) -> None:
    """Check the whole course content; report every problem as file:line, then print a summary.

    With `quality:` in course.yaml it also runs the item-writing-flaw linter and measures the bank: it fails
    when a rule finds more flaws than course.yaml allows or a goal is missed.
    """
    from course.loader import load_course
    from course.summary import format_table

    course = load_course(content)
    if review:
        from course.analytics.review import review_report

        typer.echo(review_report(root, content))
        return
    if not quiet:
        from course.summary import render

        typer.echo(render(course))
        if (course.root / "certification.yaml").exists():
            from course.certification.capacity import bank_capacity, render_capacity
            from course.certification.config import load_certification

            cert = load_certification(course)
            typer.echo("== 试卷题量 ==")
            typer.echo(render_capacity(course, cert, bank_capacity(course, cert)))
    if course.settings.quality is not None:
        from course.bank import lint as linter
        from course.bank import metrics

        findings = linter.lint(course)
        measures = metrics.measure(course, findings)
        if not quiet:
            typer.echo("== 题目编写缺陷（item-writing flaws; `course validate --lint` lists them）==")
            typer.echo(format_table(linter.summary(course, findings)))
            typer.echo("== 题库指标（bank measures）==")
            typer.echo(format_table(metrics.table(measures), "指标编号"))
        if lint:
            for finding in findings:
                typer.echo(str(finding))
        if failed := metrics.problems(course, findings, measures):
            raise ContentError(failed)
    typer.echo(f"OK: {len(course.questions)} questions in {len(course.chapters)} chapters.")


@app.command()
@reports_errors
def build(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    check: Annotated[bool, typer.Option("--check", help="Fail if source/ is not what the content builds.")] = False,
) -> None:
    """Generate the nbgrader source notebooks source/<chapter>/<chapter>.ipynb from the content."""
    from course.errors import WorkflowError

    course, selected = _chapters(content, chapters)
    from course.build import stale_sources, write_sources  # nbformat's validation: after the arguments are checked

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
def generate(chapters: AssignmentsArg = None, content: ContentOpt = None, root: RootOpt = Path(".")) -> None:
    """Run nbgrader generate_assignment: student versions under release/, hidden tests stripped."""
    root = _course_root(root)
    _, selection = _selection(root, content, chapters)
    from course import workflow

    workflow.generate(root, selection.assignments)
    typer.echo(f"generated {len(selection.assignments)} assignment(s) under release/.")


@app.command()
@reports_errors
def release(
    chapters: AssignmentsArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    exchange: Annotated[bool, typer.Option(
        "--exchange", help="Also put papers in the exchange for untimed practice (a paper sat in a sitting never "
        "goes there: learners receive it when they start).")] = False,
) -> None:
    """Run nbgrader release_assignment for chapters; check that papers are ready for their sittings."""
    from course.errors import WorkflowError

    root = _course_root(root)
    _, selection = _selection(root, content, chapters)
    from course import workflow

    missing = [a for a in selection.variants if not (root / "release" / a / f"{a}.ipynb").is_file()]
    if missing:
        raise WorkflowError(f"{len(missing)} paper variant(s) not generated ({', '.join(missing[:5])}"
                            f"{', ...' if len(missing) > 5 else ''}): run `course generate "
                            f"{' '.join(selection.papers)}` first")
    if exchange and selection.papers:
        held = sorted(set(selection.papers) & set(_sittings_of(root)))
        if held:
            raise WorkflowError(f"paper(s) {', '.join(held)} are sat in a sitting: the exchange would let learners "
                                "fetch them before it opens; release them without --exchange")
    workflow.release(root, selection.chapters)
    if exchange:
        workflow.release(root, selection.variants)
    typer.echo(f"released {len(selection.chapters) + (len(selection.variants) if exchange else 0)} assignment(s).")
    for paper, variants in selection.papers.items():
        where = ("in the exchange" if exchange else
                 "not in the exchange: learners receive their variant when they start their sitting "
                 "(`course sitting create`)")
        typer.echo(f"paper {paper}: {len(variants)} variant(s) ready, {where}.")


@app.command()
@reports_errors
def collect(chapters: AssignmentsArg = None, content: ContentOpt = None, root: RootOpt = Path(".")) -> None:
    """Run nbgrader collect; a paper sat in a sitting is collected from the sittings service's records."""
    from course.errors import WorkflowError
    from course.nbconfig import COURSE_ID, exchange_root, exchange_service

    root = _course_root(root)
    _, selection = _selection(root, content, chapters)
    held = _sittings_of(root) if selection.papers else {}
    through_exchange = selection.chapters + [a for p, vs in selection.papers.items() if p not in held for a in vs]
    inbound = exchange_root(root) / COURSE_ID / "inbound"
    in_exchange = exchange_service() or inbound.is_dir()  # the ngshare service has no folder: it answers itself
    if through_exchange and not in_exchange and not (set(selection.papers) & set(held)):
        raise WorkflowError(f"nothing to collect: {inbound} does not exist, so no learner has submitted yet; "
                            "run `course release` first and let learners submit in the Assignments tab")
    collected = 0
    if through_exchange and in_exchange:
        from course import workflow

        before = _submitted(root, through_exchange)
        workflow.collect(root, through_exchange)
        after = _submitted(root, through_exchange)
        collected += sum(after[k] != before.get(k) for k in after)
    for paper in selection.papers:
        for sitting in held.get(paper, []):
            collected += _collect_sitting(root, sitting)
    typer.echo(f"collected {collected} new or updated submission(s) of {len(selection.assignments)} assignment(s).")


def _submitted(root: Path, assignments: list[str]) -> dict[tuple[str, str], str]:
    """(learner, assignment) → the submission's timestamp.txt, for what is in ``submitted/`` now."""
    wanted, found = set(assignments), {}
    for stamp in (root / "submitted").glob("*/*/timestamp.txt"):
        if stamp.parent.name in wanted:
            found[stamp.parent.parent.name, stamp.parent.name] = stamp.read_text(encoding="utf-8", errors="replace")
    return found


def _collect_sitting(root: Path, sitting: Any) -> int:
    """Each learner's counted answers of ``sitting`` (whose time is over) become their submission; print who ran
    over and who is still sitting it; the number of submissions written."""
    from course.sittings import clock
    from course.sittings.collect import outcomes, report_lines, write_submission

    with _sittings_engine(root).connect() as conn:
        found = outcomes(conn, root, sitting, clock.now())
    done = [o for o in found if o.tally is not None and not o.running]
    for outcome in done:
        write_submission(root, outcome)
    for line in report_lines(sitting, found):
        typer.echo(line)
    return len(done)


def print_grading_summary(report: Any) -> None:
    """What a grading run did: graded, failed (who and why), waiting for hand grading."""
    for problem in report.problems:
        typer.echo(f"Warning: {problem}", err=True)
    for (student, chapter), error in sorted(report.failed.items()):
        typer.echo(f"Error: learner {student}, {chapter}: not graded: {error}", err=True)
    for student, qid in sorted(report.rereview):
        typer.echo(f"Warning: learner {student} changed the answer to {qid} after it was hand-graded: "
                   "the grade is kept and flagged for review in formgrader", err=True)
    for student, qid in sorted(report.unrecorded):
        typer.echo(f"Warning: learner {student}'s answer to {qid} was hand-graded before the gradebook recorded "
                   "which answer a grade was given to: the grade is kept and flagged for review in formgrader "
                   "(once; from now on only a changed answer is flagged)", err=True)
    waiting = len(report.pending_manual)
    typer.echo(f"graded {len(report.graded)} submission(s); failed {len(report.failed)}"
               + (f" ({', '.join(f'{s}/{c}' for s, c in sorted(report.failed))})" if report.failed else "")
               + f"; waiting for hand grading {waiting} answer(s)"
               + (" (grade them in formgrader)" if waiting else "")
               + f"; {report.rows_written} gradebook row(s) written.")
    if report.log_file:
        typer.echo(f"details: {report.log_file}")


@app.command()
@reports_errors
def autograde(
    chapters: AssignmentsArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    student: Annotated[list[str] | None, typer.Option("--student", help="Only this learner (repeat for more).",
                                                      metavar="LEARNER")] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", min=1, help="Worker processes (at least 1).")] = 2,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    execute: Annotated[bool, typer.Option(
        "--execute", help="Run learner code in a kernel, sandboxed (needs root): only for assignments with "
        "code answers; quizzes never need it.")] = False,
) -> None:
    """Grade the submitted answers files into nbgrader's gradebook; no learner code runs."""
    root = _course_root(root)
    course, selection = _selection(root, content, chapters)
    selected = selection.assignments
    check_submissions(root, selected if chapters else None, student)
    from course import workflow

    if execute:
        report = workflow.autograde_executing(root, selected, student)
    else:
        report = workflow.autograde(root, course, selected, student, workers=workers, progress=progress)
    print_grading_summary(report)
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


def _numbered(waiting: dict[str, list[str]], numbers: dict[str, int]) -> str:
    """``li 第7题; wang 第3、7题``: learners and the numbers of their questions."""
    return "; ".join(f"{s} 第{'、'.join(str(numbers.get(q, q)) for q in qs)}题" for s, qs in sorted(waiting.items()))


@app.command()
@reports_errors
def feedback(
    chapters: AssignmentsArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    hold_pending: Annotated[bool, typer.Option(
        "--hold-pending",
        help="Hold back a learner's feedback while any of their case answers waits for a hand grade.")] = False,
) -> None:
    """Generate and release feedback for every chapter with graded submissions (no hidden tests, no rubrics)."""
    from course.errors import WorkflowError
    from course.status import autograded, pending_manual

    root = _course_root(root)
    course, selection = _selection(root, content, chapters)
    if selection.papers and chapters:
        raise WorkflowError(f"{', '.join(selection.papers)}: exam papers get no item feedback (it would show the keys "
                            "of items other learners may still be given); learners receive their 成绩通知单 from "
                            "`course certify results`")
    selected = selection.chapters
    graded = {c: learners for c, learners in autograded(root, selected).items() if learners}
    if not graded:
        raise WorkflowError(f"no graded submissions of {', '.join(chapters) if chapters else 'any chapter'}: "
                            "run `course autograde` first")
    for chapter in chapters or []:
        if chapter not in graded:
            typer.echo(f"Warning: {chapter} has no graded submissions: skipped (run `course autograde {chapter}`)",
                       err=True)
    pending, review = pending_manual(root)
    from course import workflow

    released, held = 0, 0
    for chapter in (c for c in selected if c in graded):
        numbers = {q.id: i for i, q in enumerate(course.questions_of(chapter), 1)}
        ungraded = {s: qs for (s, c), qs in pending.items() if c == chapter and s in graded[chapter]}
        stale = {s: qs for (s, c), qs in review.items() if c == chapter and s in graded[chapter]}
        if ungraded:
            action = "their feedback is held back" if hold_pending else "their feedback shows these as 待评分"
            typer.echo(f"Warning: {chapter}: {sum(map(len, ungraded.values()))} case answer(s) of "
                       f"{len(ungraded)} learner(s) still wait for a hand grade ({_numbered(ungraded, numbers)}); "
                       f"{action}. Grade them in formgrader, then run `course feedback {chapter}` again.", err=True)
        if stale:
            action = "their feedback is held back" if hold_pending else "their feedback shows these as 待复核"
            typer.echo(f"Warning: {chapter}: {sum(map(len, stale.values()))} hand-graded answer(s) of "
                       f"{len(stale)} learner(s) were changed after grading and wait for review "
                       f"({_numbered(stale, numbers)}); {action}. Review them in formgrader, then run "
                       f"`course feedback {chapter}` again.", err=True)
        waiting = ungraded.keys() | stale.keys()
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
    paper: Annotated[str | None, typer.Option(
        "--paper", help="The answers are of this exam paper (sat on paper): each learner's own variant.")] = None,
    date: Annotated[str | None, typer.Option(
        "--date", help="With --paper: the day it was sat, YYYY-MM-DD (default: today).")] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="With --paper: put these answers in place of a learner's submission (one they already "
        "have, or one collected from a sitting).")] = False,
) -> None:
    """Turn answers given elsewhere (paper exam, another system) into real nbgrader submissions."""
    import datetime as dt

    from course.errors import WorkflowError
    from course.loader import load_course

    root = _course_root(root)
    if not csv_file.is_file():
        raise WorkflowError(f"answers file {csv_file} does not exist: give the path of a CSV with columns "
                            "student_id,question_id,answer")
    from course.import_answers import import_answers as run
    from course.import_answers import import_paper_answers

    if paper is None:
        created = run(root, load_course(content), csv_file)
        typer.echo(f"created and collected {len(created)} submission(s); run `course autograde` to grade them.")
        return
    try:
        day = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        raise WorkflowError(f"--date {date!r} is not a day like 2026-12-04") from None
    sat = dt.datetime.combine(day, dt.time(12)).astimezone()
    from course.sittings import records

    with _sittings_engine(root).connect() as conn:
        online = {lr for s in _sittings_of(root).get(paper, []) for lr in records.started(conn, s.sitting)}
    created = import_paper_answers(root, load_course(content), csv_file, paper, sat, online, replace)
    typer.echo(f"created {len(created)} submission(s) of paper {paper}; run `course autograde {paper}` to grade them.")


DEMO_CHAPTERS = ["jc01", "jc04", "jc05", "jc07", "js01", "xs01"]  # one chapter per knowledge area


@app.command()
@reports_errors
def simulate(
    chapters: ChaptersArg = None, content: ContentOpt = None, root: RootOpt = Path("."),
    learners: Annotated[int, typer.Option("--learners", "-n", min=1, help="Cohort size (at least 1).")] = 30,
    seed: SeedOpt = 2026,
) -> None:
    """Release chapters and have a synthetic 2PL cohort answer and submit them through nbgrader's exchange."""
    root = _course_root(root)
    course, selected = _chapters(content, chapters or DEMO_CHAPTERS)
    from course.simulate import Settings
    from course.simulate import simulate as run

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
    from course.status import has_grades

    root = _course_root(root)
    course, selected = _chapters(content, chapters)
    if not has_grades(root):
        raise WorkflowError(f"no grades yet in the gradebook of {root}: nothing to hand-grade; "
                            "run `course autograde` first")
    from course.simulate import hand_grade as run

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
    learner: Annotated[str | None, typer.Option(
        "--learner", help="Learner id(s) for the drill-down page, comma-separated; without it the page lists "
        "learners to choose from.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default reports/<time>).")] = None,
) -> None:
    """Run the analytics notebooks headless (papermill) and write HTML reports for managers."""
    from course.errors import WorkflowError
    from course.loader import load_course
    from course.status import has_grades

    root = _course_root(root)
    course = load_course(content)
    if level not in course.weights.tables:
        raise WorkflowError(f"unknown level '{level}': use one of {', '.join(course.weights.tables)}")
    if roster is not None and not roster.is_file():
        raise WorkflowError(f"roster file {roster} does not exist: give --roster the path of the roster CSV "
                            "(columns learner_id,name,region,department,target_level), or leave --roster out")
    if not has_grades(root):
        raise WorkflowError(f"no grades yet in the gradebook of {root}: nothing to report; "
                            "run `course autograde` first, then `course report`")
    roster = roster or (root / "roster.csv" if (root / "roster.csv").exists() else None)
    from course.report import parameters
    from course.report import report as run

    params = parameters(content=str(content) if content else None,
                        roster_csv=str(roster.resolve()) if roster else None,
                        level=level, region=region, since=since, until=until, learner=learner)
    pages = run(root, params, out)
    _warn_unreadable(root)
    for page in pages:
        typer.echo(f"wrote {page}")
    typer.echo(f"Report: {pages[0]}")


def _warn_unreadable(root: Path) -> None:
    """Name the answers files the report could not read: it left them out and went on."""
    from course.analytics.snapshot import unreadable_answer_files
    from course.report import SNAPSHOT_DIR

    skipped = unreadable_answer_files(root / SNAPSHOT_DIR)
    if skipped:
        listed = "; ".join(f"{learner}/{chapter}" for learner, chapter in skipped[:5])
        listed += "; …" if len(skipped) > 5 else ""
        typer.echo(f"Warning: {len(skipped)} answers file(s) could not be read and are left out of the distractor "
                   f"analysis ({listed}): `course autograde` names the problem and the fix of each.", err=True)


@app.command()
@reports_errors
def demo(
    root: RootOpt = Path("."),
    learners: Annotated[int, typer.Option("--learners", "-n", min=1, help="Cohort size (at least 1).")] = 30,
) -> None:
    """The whole job on embedded defaults: build -> simulate -> autograde -> hand-grade -> certify -> report."""
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
    typer.echo(f"1/6 build: {len(write_sources(course, root / 'source'))} source notebook(s) updated")
    run_simulate(root, course, DEMO_CHAPTERS, Settings(learners=learners))
    typer.echo(f"2/6 simulate: {learners} learners submitted {', '.join(DEMO_CHAPTERS)}")
    result = workflow.autograde(root, course, DEMO_CHAPTERS)
    typer.echo(f"3/6 autograde: {len(result.graded)} submission(s) graded, {len(result.failed)} failed")
    if result.failed:
        print_grading_summary(result)
        raise typer.Exit(1)
    typer.echo(f"4/6 hand-grade: {run_hand_grade(root, course, DEMO_CHAPTERS)} case answer(s)")
    from course.certification import demo_round

    cert = demo_round(root, course)
    typer.echo(f"5/6 certification: {cert.certified} of {cert.learners} learner(s) certified")
    pages = run_report(root, parameters(roster_csv=str(root / "roster.csv")))
    typer.echo(f"6/6 report: {len(pages)} page(s)")
    typer.echo(f"Results: {cert.excel}")
    typer.echo(f"Certificates: {cert.certificates_dir}")
    typer.echo(f"Report: {pages[0]}")


@app.command()
@reports_errors
def hub(
    home: Annotated[Path, typer.Option("--home", help="Folder of the course, content, exchange, hub state.")] = Path(
        "/srv/kam-cert"),
    port: Annotated[int, typer.Option(
        "--port", min=1, max=65530,
        help="Hub port on 127.0.0.1 (the next five are used too: hub API, proxy API, services).")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Create demo accounts and passwords; release ch. 1.")] = False,
    instructor: Annotated[list[str] | None, typer.Option("--instructor", help="An instructor's OS account.")] = None,
    learner: Annotated[list[str] | None, typer.Option("--learner", help="A learner's OS account.")] = None,
    chapters: Annotated[list[str] | None, typer.Option("--release", help="Chapter to generate and release.")] = None,
    content: ContentOpt = None,
    setup_only: Annotated[bool, typer.Option("--setup-only", help="Prepare everything, do not start the hub.")] = False,
    learner_env: Annotated[Path | None, typer.Option(
        "--learner-env", help="The learners' environment (built if missing; default <home>/envs/learner).")] = None,
    exchange: Annotated[str, typer.Option(
        "--exchange", help="closed: nbgrader's file exchange, closed by OS accounts (one machine); ngshare: the "
        "ngshare service with PostgreSQL (COURSE_DB_URL), the national path.")] = "closed",
) -> None:
    """Run a multi-user JupyterHub for the course: one OS account per user, a closed exchange (as root).

    Learners' servers run an environment without the course or its keys; the hub starts only after a
    probe run as a learner finds no key it could read. With --exchange ngshare, the exchange is the
    ngshare service and the gradebook and exchange live in PostgreSQL (COURSE_DB_URL): no shared folder.
    """
    from course.hub import serve

    acc = serve.demo_accounts() if demo else serve.Accounts(list(instructor or []), list(learner or []), {})
    settings = serve.setup(home.resolve(), port, acc, content, learner_env.resolve() if learner_env else None,
                           exchange=exchange, db_url=os.environ.get("COURSE_DB_URL"))
    wanted = list(chapters or [])
    if demo and not wanted:
        from course.loader import load_course

        wanted = list(load_course(Path(settings.content)).chapters)[:1]
    if settings.uses_ngshare:
        if setup_only:
            typer.echo(serve.logins_text(settings, acc))
            return
        proc = serve.start(settings)  # the exchange is a hub service: the hub runs before anything is released
        try:
            serve.wait_until_up(settings, proc)
            serve.enroll(settings)
            _release_as_instructor(serve, settings, wanted)
            typer.echo(serve.logins_text(settings, acc))
        except BaseException:
            serve.stop(proc, settings)
            raise
        raise typer.Exit(serve.serve_until_stopped(proc, settings))
    _release_as_instructor(serve, settings, wanted)
    typer.echo(serve.logins_text(settings, acc))
    if not setup_only:
        serve.run(settings)


def _release_as_instructor(serve: Any, settings: Any, chapters: list[str]) -> None:
    for chapter in chapters:
        serve.as_instructor(settings, ["generate", chapter])
        serve.as_instructor(settings, ["release", chapter])
        typer.echo(f"released {chapter}")


# ---------------------------------------------------------------- certification (course.certification)
paper_app = typer.Typer(no_args_is_help=True, help="Exam papers drawn to a level's 比重表, one variant per learner.")
certify_app = typer.Typer(no_args_is_help=True, help="Certification records, rounds, decisions, appeals and the "
                          "audit trail.")
certificate_app = typer.Typer(no_args_is_help=True, help="The certificate register: verify, list, suspend, "
                              "reinstate, revoke; the verification page.")
app.add_typer(paper_app, name="paper")
app.add_typer(certify_app, name="certify")
app.add_typer(certificate_app, name="certificate")
sitting_app = typer.Typer(no_args_is_help=True, help="Exam sittings (考试场次): a paper sat at a set time, for a set "
                          "duration, once; the clock is the hub's sittings service.")
app.add_typer(sitting_app, name="sitting")


def _paper_learners(course: Any, level: str, learner: list[str] | None, roster: Path | None) -> list[str]:
    from course.errors import WorkflowError

    if learner:
        return list(learner)
    if roster is None:
        raise WorkflowError("no learners: give --learner ID (repeatable) or --roster roster.csv")
    from course.analytics.roster import read_roster

    frame = read_roster(roster, course)
    return [str(x) for x in frame.index[frame["target_level"] == level]]


@paper_app.command("create")
@reports_errors
def paper_create(
    level: Annotated[str, typer.Argument(help="Certification level id (L4 L3 L2 L1).")],
    paper: Annotated[str, typer.Option("--paper", help="Paper id, e.g. L3-2026a (assignments: <paper>-<learner>).")],
    seed: Annotated[str, typer.Option("--seed", help="Paper seed: same seed and learner, same paper.")] = "2026",
    learner: Annotated[list[str] | None, typer.Option("--learner", help="Learner id (repeatable).")] = None,
    roster: Annotated[Path | None, typer.Option("--roster", help="Roster CSV: its learners of this level.")] = None,
    resit: Annotated[bool, typer.Option("--resit", help="Re-sit: avoid every item of the learners' earlier papers.")]
    = False,
    content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Draw one paper variant per learner to the level's blueprint; write source/<paper>-<learner>/."""
    from course.certification.config import load_certification
    from course.loader import load_course

    course = load_course(content)
    cert = load_certification(course)
    learners = _paper_learners(course, level, learner, roster)
    from course.certification.papers import create_paper, render_report  # the solver: after the arguments

    made = create_paper(course, cert, root.resolve(), paper, level, seed, learners, resit=resit)
    first = next(iter(made.variants))
    typer.echo(render_report(course, made.plans[first], made.variants[first]))
    missed = [v.miss for v in made.variants.values() if v.miss]
    for note in missed:
        typer.echo(note)
    if missed:
        typer.echo(f"{len(missed)} of {len(made.variants)} variant(s) outside the balancing tolerance (see above): "
                   "add items to the cells named, or run `course paper estimate` on more graded answers.")
    typer.echo(f"{len(made.variants)} variant(s) of {paper} written to source/; run `course generate {paper}`, "
               f"then open a sitting: `course sitting create {paper} --opens ... --closes ... --minutes ...`.")


@paper_app.command("report")
@reports_errors
def paper_report(
    paper: Annotated[str, typer.Argument(help="Paper id.")],
    variants: Annotated[bool, typer.Option("--variants", help="Print every variant's blueprint.")] = False,
    content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """A paper's blueprint check, the difficulty spread of its variants and, after grading, decision consistency."""
    from course.certification.config import load_certification
    from course.certification.manifest import manifest_path, read_manifest
    from course.errors import WorkflowError
    from course.loader import load_course

    course = load_course(content)
    cert = load_certification(course)
    root = root.resolve()
    path = manifest_path(root, paper)
    if not path.exists():
        raise WorkflowError(f"{path} does not exist: create the paper with `course paper create`")
    from course.certification.difficulty import estimates_dir, read_estimates
    from course.certification.fairness import render_decisions, render_fairness
    from course.certification.papers import render_report, stored_variant

    data = read_manifest(path)
    bad = []
    for learner in data["variants"]:
        plan, variant = stored_variant(data, learner)
        text = render_report(course, plan, variant)
        if variants or "✗" in text:
            bad.append(text)
    first = next(iter(data["variants"]))
    typer.echo(render_report(course, *stored_variant(data, first)) if not bad else "\n".join(bad))
    if not any("✗" in t for t in bad):
        typer.echo(f"全部 {len(data['variants'])} 份试卷的各知识领域与各题型分值均与蓝图一致。")
    name = (data.get("balance") or {}).get("estimates") or ""
    est = read_estimates(estimates_dir(root) / name) if name else None
    grades = _paper_grades(root, data)
    theory: dict[str, float] = {}
    table = None
    if grades is not None:
        from course.certification.consistency import decision_table
        from course.certification.fairness import sitting_theory

        theory = sitting_theory(data, grades)
        table = decision_table(course, cert, [data], grades)
        table = table[table["kind"] == "paper"]
    typer.echo(render_fairness(data, est, theory))
    if table is not None:
        typer.echo(render_decisions(table, cert.pass_marks.theory))


def _paper_grades(root: Path, data: dict[str, Any]) -> Any:
    """The gradebook's rows of a paper's assignments, or None when there is no gradebook yet."""
    from course.status import is_course_folder

    if not is_course_folder(root):
        return None
    from course.analytics.frames import read_grades
    from course.nbconfig import course_config, db_url

    url = db_url(root)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    grades = read_grades(url, course_config(root).CourseDirectory.course_id)
    return grades[grades["chapter"].isin({v["assignment"] for v in data["variants"].values()})]


@paper_app.command("estimate")
@reports_errors
def paper_estimate(
    irt: Annotated[bool, typer.Option("--irt/--no-irt", help="Calibrate items with enough respondents "
                                      "(graded response model); --no-irt: facility only.")] = True,
    content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Item difficulty from the gradebook (chapters and earlier papers), stored under papers/estimates/."""
    import datetime as dt

    from course.analytics.frames import read_grades
    from course.nbconfig import course_config, db_url

    root = _course_root(root)
    as_of = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    grades = read_grades(db_url(root), course_config(root).CourseDirectory.course_id)  # before the solvers load
    from course.certification.config import load_certification
    from course.certification.difficulty import estimate, responses_from_grades, write_estimates
    from course.certification.manifest import manifests
    from course.loader import load_course

    course = load_course(content)
    cert = load_certification(course)
    papers_of = {v["assignment"]: d["paper"] for d in manifests(root) for v in d["variants"].values()}
    est = write_estimates(root, estimate(course.questions, cert, responses_from_grades(grades, papers_of), as_of,
                                         calibrate=irt))
    counts = {s: sum(1 for i in est.items.values() if i.source == s) for s in ("grm", "facility", "prior")}
    typer.echo(f"题目难度估计（{est.respondents} 名作答者，数据截至 {est.as_of}）：等级反应模型标定 "
               f"{counts['grm']} 题，得分率 {counts['facility']} 题，先验值 {counts['prior']} 题。")
    typer.echo(f"written papers/estimates/{est.name}; `course paper create` balances new papers with it.")


RosterOpt = Annotated[Path | None, typer.Option(
    "--roster", help="Roster CSV whose learner ids the file may name (default: ./roster.csv in the course folder).")]
AllowNewOpt = Annotated[bool, typer.Option("--allow-new", help="Accept learner ids that are not in the roster.")]
RoundOpt = Annotated[str, typer.Option("--round", help="Certification round (认证批次) id, e.g. 2026A.")]
DateOpt = Annotated[str | None, typer.Option("--date", help="The day (YYYY-MM-DD; default: today).")]


def _day(text: str | None) -> Any:
    import datetime as dt

    from course.errors import WorkflowError

    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise WorkflowError(f"--date '{text}' is not a date: write YYYY-MM-DD") from None


def _import_learners(root: Path, content: Path | None, roster: Path | None, allow_new: bool) -> tuple[Any, Any]:
    from course.certification.imports import learners
    from course.loader import load_course

    course = load_course(content)
    return course, learners(root.resolve(), course, roster, allow_new)


@certify_app.command("import-training")
@reports_errors
def certify_import_training(
    data_file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or .xlsx: learner_id,course,hours,date.")],
    roster: RosterOpt = None, allow_new: AllowNewOpt = False, content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Add training records (every row checked first; a bad file imports nothing; audited)."""
    _, who = _import_learners(root, content, roster, allow_new)
    from course.certification.eligibility import import_training, training_store

    done = import_training(root.resolve(), data_file, who)
    typer.echo(f"imported {data_file}: {done.added} training record(s) added, {done.total} in {training_store(root)}.")


@certify_app.command("import-applicants")
@reports_errors
def certify_import_applicants(
    data_file: Annotated[Path, typer.Argument(
        help="CSV (UTF-8 or GBK) or .xlsx: learner_id,years_in_post,held_level,education.")],
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace all applicant records with this file's (default: merge by learner id).")] = False,
    roster: RosterOpt = None, allow_new: AllowNewOpt = False, content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Import the applicants' 申报信息 (文化程度, years in post, level held), merged by learner id (audited)."""
    from course.certification.config import load_certification

    course, who = _import_learners(root, content, roster, allow_new)
    from course.certification.eligibility import applicant_store, import_applicants

    done = import_applicants(root.resolve(), data_file, course, load_certification(course), who, replace=replace)
    typer.echo(f"imported {data_file}: {done.added} applicant(s) added, {done.replaced} changed; "
               f"{done.total} in {applicant_store(root)}.")


@certify_app.command("import-ratings")
@reports_errors
def certify_import_ratings(
    data_file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or .xlsx: learner_id,competency,level,rater.")],
    roster: RosterOpt = None, allow_new: AllowNewOpt = False, content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Import managers' competency ratings (初级/中级/高级/资深 per item); a later rating replaces an earlier one."""
    course, who = _import_learners(root, content, roster, allow_new)
    from course.certification.ratings import import_ratings, ratings_store

    frame = import_ratings(root.resolve(), data_file, course, who)
    typer.echo(f"{len(frame)} rating(s) in {ratings_store(root)}.")


@certify_app.command("rating-notebook")
@reports_errors
def certify_rating_notebook(
    roster: Annotated[Path, typer.Option("--roster", help="Roster CSV of the learners to rate.")],
    out: Annotated[Path, typer.Option("--out", help="Notebook to write.")] = Path("ratings.ipynb"),
    content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Write a notebook in which a manager rates learners with dropdowns; it saves a ratings CSV."""
    from course.errors import WorkflowError

    if not roster.is_file():
        raise WorkflowError(f"roster file {roster} does not exist: give --roster the path of the roster CSV "
                            "(columns learner_id,name,region,department,target_level) of the learners to rate")
    from course.certification.rating_widgets import write_rating_notebook

    path = write_rating_notebook(out, root.resolve(), roster.resolve(), content)
    typer.echo(f"wrote {path}; open it in JupyterLab and run all cells.")


LocalLinkOpt = Annotated[bool, typer.Option(
    "--local-link", help="Link certificates to this machine's hub (http://127.0.0.1:8000/services/certificates/), "
    "for a demonstration; otherwise COURSE_VERIFY_URL must be set.")]


def _print_run(run: Any, base: str) -> None:
    if run.run is None:
        typer.echo(f"round {run.round_id}: nothing changed since the last run; no decision, certificate or file "
                   "written.")
        return
    passed = int((run.results["结论"] == "通过").sum())
    typer.echo(f"round {run.round_id}, run {run.run} (papers {', '.join(run.papers)}): {len(run.decided)} "
               f"decision(s) recorded; {passed} of {len(run.results)} learner(s) certified.")
    for cert in run.issued:
        renew = f", renews {cert['renews']}" if cert["renews"] else ""
        typer.echo(f"issued {cert['number']} to {cert['learner']} ({cert['level_title']}{renew})")
    for number in run.revoked:
        typer.echo(f"revoked {number}: the pass it was issued on was withdrawn")
    for number in run.restored:
        typer.echo(f"reinstated {number}: the pass is restored")
    for number in run.not_restored:
        typer.echo(f"Warning: {number} was revoked by hand and stays revoked, although the learner passes again",
                   err=True)
    if run.issued:
        typer.echo(f"The certificates link to {base}")
    typer.echo(f"Notices: {run.folder / 'notices'} ({len(run.notices)} PDF)")
    typer.echo(f"Results: {run.excel}")
    typer.echo(f"Certificates: {run.folder.parents[3] / 'certificates'} ({len(run.pdfs)} new PDF)")


@certify_app.command("results")
@reports_errors
def certify_results(
    round_id: RoundOpt,
    paper: Annotated[list[str] | None, typer.Option(
        "--paper", help="A paper this round counts (repeatable); default on a round's first run: every paper no "
        "other round counts.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The round's name, e.g. 2026年第一批.")] = None,
    date: DateOpt = None,
    roster: Annotated[Path | None, typer.Option("--roster", help="Roster CSV (default: ./roster.csv).")] = None,
    local_link: LocalLinkOpt = False, content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Decide the round, record the decisions, issue and revoke certificates; write results.xlsx and notices."""
    from course.certification.certificates import verify_base
    from course.loader import load_course
    from course.status import roster_file

    root, day = _course_root(root), _day(date)
    roster_file(root, roster)  # the common mistake, said before the round's libraries load
    base = verify_base(local_link)  # a certificate never links to a guessed address
    from course.certification.rounds import run_round

    run = run_round(root, load_course(content), round_id, roster_csv=roster, papers=paper, title=title, issue_date=day,
                    verify_url=base)
    _print_run(run, base)


@certify_app.command("appeal")
@reports_errors
def certify_appeal(
    learner: Annotated[str, typer.Argument(help="The learner who appealed (复核).")],
    round_id: RoundOpt,
    reason: Annotated[str, typer.Option("--reason", help="What the appeal asked for, e.g. 申请复核案例分析评分.")],
    date: DateOpt = None,
    roster: Annotated[Path | None, typer.Option("--roster", help="Roster CSV (default: ./roster.csv).")] = None,
    local_link: LocalLinkOpt = False, content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """After re-marking in formgrader: re-decide the learner, record the appeal and its outcome, update the register."""
    from course.certification.certificates import verify_base
    from course.errors import WorkflowError
    from course.loader import load_course
    from course.status import roster_file

    if not reason.strip():
        raise WorkflowError("give the appeal's reason with --reason (it is kept with the appeal)")
    root, day = _course_root(root), _day(date)
    roster_file(root, roster)
    base = verify_base(local_link)
    from course.certification.rounds import Appeal, run_round

    run = run_round(root, load_course(content), round_id, roster_csv=roster, issue_date=day,
                    appeal=Appeal(learner, reason.strip()), verify_url=base)
    typer.echo(f"appeal of {learner} in round {round_id}: {run.appeal_outcome}")
    _print_run(run, base)


@certify_app.command("audit")
@reports_errors
def certify_audit(
    round_id: Annotated[str | None, typer.Option("--round", help="Only this round's entries.")] = None,
    learner: Annotated[str | None, typer.Option("--learner", help="Only this learner's entries.")] = None,
    root: RootOpt = Path("."),
) -> None:
    """List the audit trail in order: who did what, when, with the values before and after."""
    from course.certification import store
    from course.nbconfig import db_url

    try:
        engine = store.existing(db_url(root.resolve()))
    except store.RegisterMissing as exc:
        from course.errors import WorkflowError

        raise WorkflowError(f"no audit trail: {exc}; run an import or `course certify results` first, or pass --root"
                            ) from None
    from course.certification import audit

    lines = audit.render(audit.entries(engine, round_id, learner))
    typer.echo("序号\t时间\t操作人\t操作\t批次/学员\t对象\t变更前 → 变更后")
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} entr{'y' if len(lines) == 1 else 'ies'}.")


def _register(root: Path) -> Any:
    from course.certification import store
    from course.errors import WorkflowError

    try:
        return store.existing(store.course_url(root.resolve()))
    except store.RegisterMissing as exc:
        raise WorkflowError(f"no certificate register: {exc}; pass --root <course folder>") from None


@certificate_app.command("verify")
@reports_errors
def certificate_verify(
    code: Annotated[str, typer.Argument(help="The verification code printed on the certificate.")],
    on: Annotated[str | None, typer.Option("--on", help="Status on this day (YYYY-MM-DD; default: today).")] = None,
    root: RootOpt = Path("."),
) -> None:
    """Check a verification code against the register of a course folder (--root works from any folder)."""
    from course.certification import register, store

    root = root.resolve()
    result = register.verify(root, store.course_url(root), code, _day(on))
    typer.echo(result.message)
    if not result.valid:
        raise typer.Exit(2 if result.status == register.UNAVAILABLE else 1)


@certificate_app.command("list")
@reports_errors
def certificate_list(
    round_id: Annotated[str | None, typer.Option("--round", help="Only this round's certificates.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Status on this day (YYYY-MM-DD; default: today).")] = None,
    root: RootOpt = Path("."),
) -> None:
    """The register: every certificate with its number, holder, level, round, dates and status."""
    engine, day = _register(root), _day(on)
    from course.certification.register import register_frame

    frame = register_frame(engine, day, round_id)
    typer.echo(frame.to_csv(sep="\t", index=False).rstrip("\n"))


def _move(action: str, number: str, reason: str, date: str | None, root: Path) -> None:
    engine, day = _register(root), _day(date)
    from course.certification import register

    status = register.move(root.resolve(), engine, number, action, reason, day)
    typer.echo(f"certificate {number}: {status}")


ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (shown on the verification page and kept).")]
NumberArg = Annotated[str, typer.Argument(help="The certificate number, e.g. 2026A-0001.")]


@certificate_app.command("suspend")
@reports_errors
def certificate_suspend(number: NumberArg, reason: ReasonOpt, date: DateOpt = None, root: RootOpt = Path(".")) -> None:
    """有效 → 暂停: suspend a certificate until it is reinstated."""
    _move("suspend", number, reason, date, root)


@certificate_app.command("reinstate")
@reports_errors
def certificate_reinstate(number: NumberArg, reason: ReasonOpt, date: DateOpt = None,
                          root: RootOpt = Path(".")) -> None:
    """暂停 → 有效: lift a suspension."""
    _move("reinstate", number, reason, date, root)


@certificate_app.command("revoke")
@reports_errors
def certificate_revoke(number: NumberArg, reason: ReasonOpt, date: DateOpt = None, root: RootOpt = Path(".")) -> None:
    """有效, 暂停 or 过期 → 撤销: revoke a certificate for good."""
    _move("revoke", number, reason, date, root)


@certificate_app.command("draw")
@reports_errors
def certificate_draw(
    numbers: Annotated[list[str] | None, typer.Argument(help="Certificate numbers, e.g. 2026A-0001.",
                                                        show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every certificate of the register.")] = False,
    local_link: LocalLinkOpt = False, content: ContentOpt = None, root: RootOpt = Path("."),
) -> None:
    """Draw certificates' PDFs again, linking to the verification address set now (COURSE_VERIFY_URL); audited."""
    from course.certification.certificates import verify_base
    from course.errors import WorkflowError

    if bool(numbers) == all_:
        raise WorkflowError("name the certificates to draw (e.g. 2026A-0001) or pass --all, not both")
    base = verify_base(local_link)
    engine = _register(root)
    from course.certification import manifest
    from course.certification.certificates import redraw
    from course.certification.outputs import paper_names
    from course.loader import load_course

    root = root.resolve()
    course = load_course(content)
    paths = redraw(root, engine, course.settings.title, base, paper_names(course, manifest.manifests(root)),
                   None if all_ else list(numbers or []))
    typer.echo(f"drew {len(paths)} certificate(s) linking to {base}: {', '.join(p.name for p in paths)}")


@certificate_app.command("serve")
@reports_errors
def certificate_serve(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8010,
    prefix: Annotated[str | None, typer.Option(
        "--prefix", help="URL path of the page (default: $JUPYTERHUB_SERVICE_PREFIX under the hub, else /).")] = None,
    address: Annotated[str, typer.Option(
        "--address", help="Address to listen on (0.0.0.0 in a container behind the hub's proxy).")] = "127.0.0.1",
    root: RootOpt = Path("."),
) -> None:
    """Serve the verification page (the hub runs it as its certificates service)."""
    from course.certification import store
    from course.certification.verify_page import serve

    root = root.resolve()
    typer.echo(f"verification page on http://{address}:{port}{prefix or '/'}", err=True)
    serve(root, store.course_url(root), port, prefix, address)


# ---------------------------------------------------------------- exam sittings (course.sittings)
SittingArg = Annotated[str, typer.Argument(help="The sitting's name (course sitting list).", metavar="SITTING")]


@sitting_app.command("create")
@reports_errors
def sitting_create(
    paper: Annotated[str, typer.Argument(help="The paper sat (its variants must be generated).", metavar="PAPER")],
    opens: Annotated[str, typer.Option("--opens", help="When learners may start, '2026-12-10 09:00' (China time).")],
    closes: Annotated[str, typer.Option("--closes", help="After this no one may start, and every time ends by it.")],
    minutes: Annotated[int, typer.Option("--minutes", help="The time each learner has from their start.")],
    learner: Annotated[list[str] | None, typer.Option(
        "--learner", help="An admitted learner (repeatable; default: every learner with a variant).")] = None,
    extra: Annotated[list[str] | None, typer.Option(
        "--extra", help="Extra minutes for one learner (accommodation): LEARNER=MINUTES, repeatable.")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="The sitting's name (default <paper>-<n>); an existing one is changed (new version).")] = None,
    root: RootOpt = Path("."),
) -> None:
    """Open a sitting of a paper: learners start it on their course page, each on the service's clock."""
    from course.errors import WorkflowError
    from course.sittings import admin, clock
    from course.sittings.clock import china

    root = _course_root(root)
    start, end, more = admin.parse_time(opens, "--opens"), admin.parse_time(closes, "--closes"), admin.parse_extra(
        extra or [])
    admin.admitted_learners(root, paper, start, end, minutes, learner or [], more)  # before a gradebook is opened
    from course import workflow
    from course.instructor.assignments import paper_variants

    exposed = sorted(set(paper_variants(root).get(paper, [])) & workflow.released(root))
    if exposed:
        raise WorkflowError(f"paper {paper} is in the exchange ({', '.join(exposed[:3])}"
                            f"{', ...' if len(exposed) > 3 else ''}), where learners can fetch it at any time: "
                            "a sitting needs a paper no learner has seen; create a new paper "
                            "(`course paper create`) for the sitting")
    with _sittings_engine(root).begin() as conn:
        sitting = admin.define(conn, root, paper, name, start, end, minutes, learner or [], more, clock.now())
    typer.echo(f"sitting {sitting.sitting}: paper {paper}, {len(sitting.learners)} learner(s), {minutes} min, "
               f"opens {china(sitting.opens)}, closes {china(sitting.closes)} (China time).")


@sitting_app.command("list")
@reports_errors
def sitting_list(root: RootOpt = Path(".")) -> None:
    """Every sitting, as its latest version defines it."""
    from course.sittings import records
    from course.sittings.clock import china

    root = _course_root(root)
    with _sittings_engine(root).connect() as conn:
        found = records.current(conn)
    for s in found:
        typer.echo(f"{s.sitting}\tpaper {s.paper}\t{s.minutes} min\t{china(s.opens)} – {china(s.closes)}\t"
                   f"{len(s.learners)} learner(s)")
    if not found:
        typer.echo("no sittings yet: `course sitting create PAPER --opens ... --closes ... --minutes ...`")


@sitting_app.command("report")
@reports_errors
def sitting_report(sitting: SittingArg, root: RootOpt = Path(".")) -> None:
    """Who started when, whose time ended when, who ran over and by how much (writes nothing)."""
    from course.sittings import clock, records
    from course.sittings.collect import outcomes, report_lines

    root = _course_root(root)
    with _sittings_engine(root).connect() as conn:
        found = records.find(conn, sitting)
        lines = report_lines(found, outcomes(conn, root, found, clock.now()))
    for line in lines:
        typer.echo(line)


@sitting_app.command("reopen")
@reports_errors
def sitting_reopen(
    sitting: SittingArg,
    learner: Annotated[str, typer.Option("--learner", help="The learner allowed one more attempt.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")],
    until: Annotated[str | None, typer.Option(
        "--until", help="The attempt must start by then and ends by then (default: the sitting's closing time; "
        "required once the sitting has closed).")] = None,
    root: RootOpt = Path("."),
) -> None:
    """Allow one learner another attempt at a sitting, with a reason that is logged."""
    from course.sittings import admin, clock
    from course.sittings.clock import china

    root = _course_root(root)
    with _sittings_engine(root).begin() as conn:
        number, closes = admin.reopen(conn, sitting, learner, reason,
                                      admin.parse_time(until, "--until") if until else None, clock.now())
    typer.echo(f"sitting {sitting} reopened for {learner}: attempt {number}, to start and end by {china(closes)} "
               "(China time; audited).")


@sitting_app.command("serve")
@reports_errors
def sitting_serve(
    root: RootOpt = Path("."),
    port: Annotated[int, typer.Option("--port", min=1, max=65535,
                                      help="Port on 127.0.0.1 (the hub routes /services/sittings/).")] = 8004,
) -> None:
    """Run the sittings service (course hub starts it as the JupyterHub service `sittings`)."""
    from course.nbconfig import course_config, db_url
    from course.sittings.service import serve

    root = _course_root(root)
    serve(root, db_url(root), str(course_config(root).CourseDirectory.course_id), port)


def main() -> None:
    app(prog_name="course")


if __name__ == "__main__":
    main()
