"""Reading and appending the sittings' records (:mod:`course.sittings.store`); times come from the caller."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from course.errors import WorkflowError
from course.sittings import store
from course.sittings.clock import Attempt, Sitting, iso, latest_attempt, parse, stamp

MAX_VALUE_CHARS = 60_000  # one answer's JSON: a case answer is capped at 20,000 characters by the widget


def define(conn: sa.Connection, sitting: Sitting, who: str, now: dt.datetime) -> int:
    """Record (a new version of) a sitting's definition; the id of the new row."""
    previous = conn.execute(sa.select(sa.func.max(store.sittings.c.id))
                            .where(store.sittings.c.sitting == sitting.sitting)).scalar()
    result = conn.execute(store.sittings.insert().values(
        sitting=sitting.sitting, paper=sitting.paper, opens_at=iso(sitting.opens), closes_at=iso(sitting.closes),
        minutes=sitting.minutes, learners=json.dumps(list(sitting.learners), ensure_ascii=False),
        extra=json.dumps(dict(sitting.extra), ensure_ascii=False), recorded_at=iso(now), recorded_by=who,
        supersedes=previous))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _sitting(row: Mapping[str, Any]) -> Sitting:
    return Sitting(row["sitting"], row["paper"], parse(row["opens_at"]), parse(row["closes_at"]), row["minutes"],
                   tuple(json.loads(row["learners"])), json.loads(row["extra"]))


def current(conn: sa.Connection) -> list[Sitting]:
    """Every sitting as its latest version defines it, in the order they were first created."""
    latest = sa.select(sa.func.max(store.sittings.c.id)).group_by(store.sittings.c.sitting)
    rows = conn.execute(sa.select(store.sittings).where(store.sittings.c.id.in_(latest))
                        .order_by(store.sittings.c.id)).mappings()
    return [_sitting(dict(r)) for r in rows]


def find(conn: sa.Connection, name: str) -> Sitting:
    for sitting in current(conn):
        if sitting.sitting == name:
            return sitting
    known = ", ".join(s.sitting for s in current(conn)) or "none yet"
    raise WorkflowError(f"no sitting named {name!r} (sittings: {known}): create it with `course sitting create`")


def _rows(conn: sa.Connection, table: sa.Table, sitting: str, learner: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(table).where(table.c.sitting == sitting)
    if learner is not None:
        query = query.where(table.c.learner == learner)
    return [dict(r) for r in conn.execute(query.order_by(table.c.id)).mappings()]


def attempt(conn: sa.Connection, sitting: str, learner: str, *, counted: bool = False) -> Attempt:
    """The learner's current attempt (``counted``: the one whose answers count; see clock.latest_attempt)."""
    return latest_attempt(learner, _rows(conn, store.starts, sitting, learner),
                          _rows(conn, store.finishes, sitting, learner), _rows(conn, store.reopens, sitting, learner),
                          counted=counted)


def attempts(conn: sa.Connection, sitting: str) -> dict[str, Attempt]:
    """Every learner's latest attempt (learners who never started included only if reopened)."""
    starts, finishes = _rows(conn, store.starts, sitting), _rows(conn, store.finishes, sitting)
    reopens = _rows(conn, store.reopens, sitting)
    learners = {r["learner"] for r in starts} | {r["learner"] for r in reopens}
    return {lr: latest_attempt(lr, starts, finishes, reopens) for lr in sorted(learners)}


def started(conn: sa.Connection, sitting: str) -> set[str]:
    """The learners who started ``sitting`` (any attempt)."""
    return {r["learner"] for r in _rows(conn, store.starts, sitting)}


def start(conn: sa.Connection, sitting: str, learner: str, number: int, now: dt.datetime) -> None:
    conn.execute(store.starts.insert().values(sitting=sitting, learner=learner, attempt=number, started_at=stamp(now)))


def finish(conn: sa.Connection, sitting: str, learner: str, number: int, now: dt.datetime) -> None:
    conn.execute(store.finishes.insert().values(sitting=sitting, learner=learner, attempt=number,
                                                finished_at=stamp(now)))


def save_answers(conn: sa.Connection, sitting: str, learner: str, number: int, answers: Mapping[str, Any],
                 now: dt.datetime) -> None:
    rows = [{"sitting": sitting, "learner": learner, "attempt": number, "question": qid,
             "value": json.dumps(value, ensure_ascii=False, sort_keys=True), "saved_at": stamp(now)}
            for qid, value in answers.items()]
    if rows:
        conn.execute(store.answers.insert(), rows)


def answer_load(conn: sa.Connection, sitting: str, learner: str, number: int,
                end: dt.datetime) -> tuple[int, int, int]:
    """What one attempt has stored: (answer rows, their characters, rows saved after ``end``)."""
    t = store.answers
    late = sa.case((t.c.saved_at > stamp(end), 1), else_=0)  # stamps are UTC ISO to the microsecond: they sort
    row = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.func.length(t.c.value)), 0),
                                 sa.func.coalesce(sa.func.sum(late), 0))
                       .where(t.c.sitting == sitting, t.c.learner == learner, t.c.attempt == number)).one()
    return int(row[0]), int(row[1]), int(row[2])


def answer_rows(conn: sa.Connection, sitting: str, learner: str, number: int) -> list[dict[str, Any]]:
    return [r for r in _rows(conn, store.answers, sitting, learner) if r["attempt"] == number]


def reopen(conn: sa.Connection, sitting: str, learner: str, reason: str, until: dt.datetime | None, who: str,
           now: dt.datetime) -> int:
    """Allow ``learner`` one more attempt; the new attempt's number."""
    number = attempt(conn, sitting, learner).number + 1
    conn.execute(store.reopens.insert().values(sitting=sitting, learner=learner, attempt=number,
                                               closes_at=iso(until), reason=reason, reopened_at=iso(now),
                                               reopened_by=who))
    return number


def reopen_rows(conn: sa.Connection, sitting: str) -> list[dict[str, Any]]:
    return _rows(conn, store.reopens, sitting)


def admitted_sittings(sittings: Iterable[Sitting], learner: str) -> list[Sitting]:
    return [s for s in sittings if s.admits(learner)]
