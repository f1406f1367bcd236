"""The audit trail: who did what to the certification records, when, with the values before and after.

Every import, every hand-grade change a decision saw, every decision, issue, suspension,
reinstatement and revocation, every appeal and every reopened sitting is one row of
``kam_audit`` (:mod:`course.certification.store`), appended in the same transaction as the
change it describes. ``course certify audit`` lists them in order.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from course.certification import store

if TYPE_CHECKING:
    import pandas as pd

# action → its name for the certification office
ACTIONS = {
    "import": "导入",
    "round": "批次",
    "grade-change": "成绩变更",
    "decision": "判定",
    "issue": "颁发",
    "suspend": "暂停",
    "reinstate": "恢复",
    "revoke": "撤销",
    "appeal": "复核",
    "sitting": "考试场次",  # a sitting created or changed (course.sittings.admin)
    "sitting-reopen": "重开场次",  # a learner's sitting reopened, with the reason
    "key": "密钥",
    "draw": "重新生成证书",  # a certificate's PDF drawn again (a new verification address, say)
}


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def record(conn: sa.Connection, action: str, subject: str, *, round_id: str | None = None,
           learner: str | None = None, before: Any = None, after: Any = None, at: str | None = None) -> None:
    """Append one audit entry (inside the caller's transaction, so it stands or falls with the change)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: use one of {', '.join(ACTIONS)}")
    conn.execute(store.audit.insert().values(
        at=at or store.now(), who=store.who(), action=action, round_id=round_id, learner=learner,
        subject=subject, before=_json(before), after=_json(after)))


def entries(engine: sa.Engine, round_id: str | None = None, learner: str | None = None) -> pd.DataFrame:
    """The audit trail in the order it was written, optionally of one round and/or one learner.

    A round's entries include those of no round written before its last one: the imports, keys and
    sittings its decisions could rest on (the imported stores hold every earlier import).
    """
    a = store.audit
    query = sa.select(a).order_by(a.c.id)
    if round_id is not None:
        last = sa.select(sa.func.max(a.c.id)).where(a.c.round_id == round_id).scalar_subquery()
        query = query.where(sa.or_(a.c.round_id == round_id, sa.and_(a.c.round_id.is_(None), a.c.id < last)))
    if learner is not None:
        query = query.where(store.audit.c.learner == learner)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    import pandas as pd  # only where a frame is made: a command that stops early never loads it

    return pd.DataFrame(rows, columns=[c.name for c in store.audit.columns], dtype=object)


# keys some entries store in English (course.sittings.admin), as the office reads them
KEYS = {"paper": "试卷", "opens": "开始", "closes": "结束", "minutes": "时长（分钟）", "learners": "考生",
        "extra": "延时（分钟）", "attempt": "次数", "reason": "原因", "until": "截止"}


def _short(text: str | None) -> str:
    if text is None:
        return "—"
    value = json.loads(text)
    if isinstance(value, dict):
        return "，".join(f"{KEYS.get(k, k)}={'—' if v is None else v}" for k, v in value.items())
    return str(value)


def render(frame: pd.DataFrame) -> list[str]:
    """One line per entry: number, time, who, action, round, learner, subject, before → after."""
    lines = []
    for row in frame.itertuples(index=False):
        where = " ".join(x for x in (row.round_id, row.learner) if x)
        lines.append(f"{row.id}\t{row.at}\t{row.who}\t{ACTIONS[row.action]}\t{where}\t{row.subject}\t"
                     f"{_short(row.before)} → {_short(row.after)}")
    return lines
