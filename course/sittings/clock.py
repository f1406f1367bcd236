"""The rules of a sitting's clock, as pure functions of its definition and the service's records.

- A learner admitted to a sitting may **start** between its opening and closing time. The start is
  the moment the sittings service first hands them their paper.
- Their **end** is ``start + duration + extra``, and never later than ``closes + extra`` (as a quiz
  with a time limit and a closing date: the closing date cuts a late start short). Handing in (交卷)
  ends it earlier.
- A **reopened** attempt has its own closing time: the reopening's ``--until`` (default the
  sitting's). It may start until then and ends by then (+ extra), as a first attempt by ``closes``.
- **Counted** answers: for each question, the last answer the service received at or before the
  end. Answers received later are kept (the record shows who ran over, and by how much) but never
  scored.
- **One attempt** per learner and sitting; an instructor's reopening (with a reason) allows one more.
  The reopened attempt replaces the earlier one once the learner starts it; until then (and if they
  never start it) the earlier attempt is the one that counts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

UTC = dt.UTC


@dataclass(frozen=True)
class Sitting:
    sitting: str
    paper: str
    opens: dt.datetime
    closes: dt.datetime
    minutes: int
    learners: tuple[str, ...]
    extra: Mapping[str, int] = field(default_factory=dict)

    def admits(self, learner: str) -> bool:
        return learner in self.learners

    def end(self, learner: str, started: dt.datetime, finished: dt.datetime | None = None,
            closes: dt.datetime | None = None) -> dt.datetime:
        """When the learner's time is up (handing in ends it at once); ``closes``: a reopened attempt's own."""
        extra = dt.timedelta(minutes=self.extra.get(learner, 0))
        ends = min(started + dt.timedelta(minutes=self.minutes) + extra, (closes or self.closes) + extra)
        return min(ends, finished) if finished is not None else ends


@dataclass(frozen=True)
class Attempt:
    """What the records say of one learner's latest attempt at a sitting."""

    number: int  # 1, or 1 + the reopenings
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    may_start_until: dt.datetime | None = None  # a reopening's own closing time, if it set one

    def end(self, sitting: Sitting, learner: str) -> dt.datetime | None:
        """When this attempt's time is up (None: not started)."""
        if self.started is None:
            return None
        return sitting.end(learner, self.started, self.finished, self.may_start_until)


@dataclass(frozen=True)
class Status:
    state: str  # not-admitted, not-open, ready, running, over, missed
    message: str  # the learner's Chinese text
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    remaining_seconds: int | None = None
    attempt: int = 1

    def as_json(self, now: dt.datetime) -> dict[str, Any]:
        return {"state": self.state, "message": self.message, "attempt": self.attempt, "now": iso(now),
                "start": iso(self.start), "end": iso(self.end), "remaining_seconds": self.remaining_seconds}


def now() -> dt.datetime:
    """The instructor's commands' clock (the service has its own, :class:`course.sittings.service.State`)."""
    return dt.datetime.now(UTC)


def iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment is not None else None


def stamp(moment: dt.datetime) -> str:
    """A start, hand-in or answer as the service saw it, to the microsecond: cut to the second, an answer
    received up to a second after the end would compare equal to it and count."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


def china(moment: dt.datetime) -> str:
    """A time as the learner reads it: China time, to the minute."""
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def status(sitting: Sitting, learner: str, attempt: Attempt, now: dt.datetime) -> Status:
    """Where ``learner`` stands in ``sitting`` at ``now``."""
    if not sitting.admits(learner):
        return Status("not-admitted", "你未被安排参加本场考试，如有疑问请联系讲师。")
    if attempt.started is None:
        deadline = attempt.may_start_until or sitting.closes
        if now < sitting.opens and attempt.number == 1:
            return Status("not-open", f"考试尚未开始：开考时间 {china(sitting.opens)}，"
                                      f"考试时长 {sitting.minutes} 分钟。", attempt=attempt.number)
        if now >= deadline:
            return Status("missed", f"本场考试已于 {china(deadline)} 截止，你未参加。", attempt=attempt.number)
        return Status("ready", f"可以开始考试：考试时长 {sitting.minutes + sitting.extra.get(learner, 0)} 分钟，"
                               f"须在 {china(deadline)} 前开始。点击“开始考试”后开始计时。", attempt=attempt.number)
    end = sitting.end(learner, attempt.started, attempt.finished, attempt.may_start_until)
    if now < end:
        left = int((end - now).total_seconds())
        return Status("running", f"考试进行中：剩余时间 {left // 60} 分 {left % 60:02d} 秒。", attempt.started, end,
                      left, attempt.number)
    said = "你已交卷" if attempt.finished is not None and attempt.finished <= end else "考试时间已到"
    return Status("over", f"{said}（{china(end)}）。之后的作答不再计分。", attempt.started, end, 0, attempt.number)


def latest_attempt(learner: str, starts: Iterable[Mapping[str, Any]], finishes: Iterable[Mapping[str, Any]],
                   reopens: Iterable[Mapping[str, Any]], *, counted: bool = False) -> Attempt:
    """The learner's current attempt from the service's rows (of one sitting).

    ``counted``: the attempt whose answers count instead — the latest one the learner started (a
    reopening they never took up leaves the earlier attempt counted), else the current one.
    """
    starts, finishes = list(starts), list(finishes)
    allowed = {1: None} | {r["attempt"]: r.get("closes_at") for r in reopens if r["learner"] == learner}
    begun = {r["attempt"]: parse(r["started_at"]) for r in starts if r["learner"] == learner}
    number = max(allowed)
    if counted and number not in begun and begun:
        number = max(n for n in begun if n in allowed)
    finished = next((parse(r["finished_at"]) for r in finishes
                     if r["learner"] == learner and r["attempt"] == number), None)
    until = allowed[number]
    return Attempt(number, begun.get(number), finished, parse(until) if until else None)


@dataclass(frozen=True)
class Tally:
    """A learner's answers of one attempt, split by the end of their time."""

    counted: dict[str, Any]  # question → the last answer saved by the end
    late: int  # answers saved after the end (kept, not scored)
    overrun_seconds: int  # how long after the end the last late answer came
    last_saved: dt.datetime | None


def tally(rows: Iterable[Mapping[str, Any]], end: dt.datetime) -> Tally:
    """Counted answers and overrun from the answer rows of one learner's attempt (any order)."""
    counted: dict[str, tuple[dt.datetime, int, Any]] = {}
    late, overrun, last = 0, 0, None
    for row in rows:
        saved = parse(row["saved_at"])
        last = saved if last is None or saved > last else last
        if saved > end:
            late += 1
            overrun = max(overrun, int((saved - end).total_seconds()))
            continue
        key = (saved, int(row.get("id", 0)))
        if row["question"] not in counted or key >= counted[row["question"]][:2]:
            counted[row["question"]] = (*key, json.loads(row["value"]))
    return Tally({q: v[2] for q, v in counted.items()}, late, overrun, last)
