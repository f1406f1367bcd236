"""The instructor's side of sittings: create or change one, reopen a learner's, with the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from course.certification import audit
from course.certification import store as cert_store
from course.certification.manifest import manifest_path, read_manifest
from course.errors import WorkflowError
from course.sittings import records
from course.sittings.clock import Sitting, china, iso

CHINA = ZoneInfo("Asia/Shanghai")


def parse_time(text: str, option: str) -> dt.datetime:
    """``2026-12-10 09:00`` (China time unless it carries an offset)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise WorkflowError(f"{option} {text!r} is not a time like '2026-12-10 09:00' (China time)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def parse_extra(items: Sequence[str]) -> dict[str, int]:
    """``zhang.san=15`` → extra minutes for that learner (accommodation)."""
    extra = {}
    for item in items:
        learner, sep, minutes = item.partition("=")
        if not sep or not learner.strip() or not minutes.strip().isdigit():
            raise WorkflowError(f"--extra {item!r}: write LEARNER=MINUTES, e.g. zhang.san=15")
        extra[learner.strip()] = int(minutes)
    return extra


def admitted_learners(root: Path, paper: str, opens: dt.datetime, closes: dt.datetime, minutes: int,
                      learners: Sequence[str], extra: Mapping[str, int]) -> list[str]:
    """The learners a sitting of ``paper`` admits, once every argument is checked (no gradebook needed)."""
    path = manifest_path(root, paper)
    if not path.is_file():
        raise WorkflowError(f"{path} does not exist: create the paper first "
                            f"(`course paper create LEVEL --paper {paper}`)")
    variants = read_manifest(path)["variants"]
    admitted = list(learners) or sorted(variants)
    without = [lr for lr in admitted if lr not in variants]
    if without:
        raise WorkflowError(f"{', '.join(without)} have no variant of paper {paper}: create theirs with "
                            "`course paper create` or leave them out")
    if closes <= opens:
        raise WorkflowError(f"--closes {closes:%Y-%m-%d %H:%M} is not after --opens {opens:%Y-%m-%d %H:%M}")
    if minutes < 1:
        raise WorkflowError(f"--minutes {minutes}: a sitting lasts at least one minute")
    unknown = [lr for lr in extra if lr not in admitted]
    if unknown:
        raise WorkflowError(f"--extra for {', '.join(unknown)}, who are not admitted to this sitting")
    ungenerated = [variants[lr]["assignment"] for lr in admitted
                   if not (root / "release" / variants[lr]["assignment"] / f"{variants[lr]['assignment']}.ipynb")
                   .is_file()]
    if ungenerated:
        raise WorkflowError(f"{len(ungenerated)} variant(s) of paper {paper} not generated "
                            f"({', '.join(ungenerated[:5])}{', ...' if len(ungenerated) > 5 else ''}): "
                            f"run `course generate {paper}` first")
    return admitted


def define(conn: sa.Connection, root: Path, paper: str, name: str | None, opens: dt.datetime, closes: dt.datetime,
           minutes: int, learners: Sequence[str], extra: Mapping[str, int], now: dt.datetime) -> Sitting:
    """Create the sitting ``name`` of ``paper`` (or a new version of it, pointing to the last); audited."""
    admitted = admitted_learners(root, paper, opens, closes, minutes, learners, extra)
    existing = {s.sitting: s for s in records.current(conn)}
    name = name or f"{paper}-{1 + sum(s.paper == paper for s in existing.values())}"
    if name in existing and existing[name].paper != paper:
        raise WorkflowError(f"sitting {name} holds paper {existing[name].paper}, not {paper}: choose another --name")
    # one sitting per learner and paper: another attempt is a reopening, with its reason in the audit trail
    for other in existing.values():
        twice = [lr for lr in admitted if other.paper == paper and other.sitting != name and other.admits(lr)]
        if twice:
            raise WorkflowError(f"{', '.join(twice)} already admitted to sitting {other.sitting} of paper {paper}: "
                                f"give them another attempt with `course sitting reopen {other.sitting} --learner "
                                f"{twice[0]} --reason ...`, or leave them out (--learner)")
    sitting = Sitting(name, paper, opens, closes, minutes, tuple(admitted), dict(extra))
    records.define(conn, sitting, cert_store.who(), now)
    before = existing.get(name)
    audit.record(conn, "sitting", name, before=_summary(before) if before else None, after=_summary(sitting),
                 at=iso(now))
    return sitting


def _summary(s: Sitting) -> dict[str, object]:
    return {"paper": s.paper, "opens": iso(s.opens), "closes": iso(s.closes), "minutes": s.minutes,
            "learners": list(s.learners), "extra": dict(s.extra)}


def reopen(conn: sa.Connection, name: str, learner: str, reason: str, until: dt.datetime | None,
           now: dt.datetime) -> tuple[int, dt.datetime]:
    """Allow ``learner`` another attempt at ``name`` (a reason is required), audited: the attempt's number and
    its closing time (``until``, default the sitting's), by which it must start and ends."""
    sitting = records.find(conn, name)
    if not sitting.admits(learner):
        raise WorkflowError(f"{learner} is not admitted to sitting {name}: admit them with `course sitting create "
                            f"{sitting.paper} --name {name} --learner ...`")
    if not reason.strip():
        raise WorkflowError("--reason is empty: say why the sitting is reopened (it is kept in the audit trail)")
    if until is not None and until <= now:
        raise WorkflowError(f"--until {china(until)} is past: give the time by which the new attempt must start "
                            "(it also ends by then), e.g. '2026-12-11 17:00' (China time)")
    if until is None and sitting.closes <= now:
        raise WorkflowError(f"sitting {name} closed at {china(sitting.closes)}: give --until, the time by which the "
                            "new attempt must start (it also ends by then), e.g. '2026-12-11 17:00' (China time)")
    number = records.reopen(conn, name, learner, reason.strip(), until, cert_store.who(), now)
    audit.record(conn, "sitting-reopen", name, learner=learner, before={"attempt": number - 1},
                 after={"attempt": number, "reason": reason.strip(), "until": iso(until)}, at=iso(now))
    return number, until or sitting.closes
