"""The certificate register: numbers, validity, status, and verification codes that resist forgery.

**A certificate** (``kam_certificate``) states who (learner, name, region, department), what
(level), from which round and paper or sitting, the exam date, the issue date and the last day it is
valid (``validity_years`` per level in certification.yaml; a default). Its verification code is an
HMAC-SHA256, under the office's secret key, of **every other field of the row** (:data:`SIGNED`,
derived from the table itself, so a field added later is signed too): change any field in the
database and the code no longer matches.

**Its status** comes from signed events (``kam_certificate_event``), applied in order up to the day
asked about. The events are a chain: each is signed with the signature of the one before (the
certificate's code for the first), and numbered 1, 2, 3, ... without gaps, so an event deleted in the
middle breaks the chain. The last one cannot be deleted unnoticed either: after every change the
signature of the certificate's latest event is written outside the database, to its **head**
(``certificates/.head/<number>.json``), and verification requires the chain to reach it. (A head
behind the chain, after a crash between the commit and the write, is harmless: a later event is
signed and chained like any other. No head at all, for a register made before heads existed or
copied without its certificates folder, checks the chain alone.)

- 有效 from the issue (and again after a reinstatement);
- 暂停 (suspended) by ``course certificate suspend``, until ``course certificate reinstate``;
- 撤销 (revoked, with reason and date) by ``course certificate revoke``, or automatically when a
  re-decision withdraws the pass it was issued on; a revocation by hand is final, one by a
  re-decision is lifted if a later decision (an appeal) restores the pass;
- 过期 (expired) on every day after ``valid_until``, unless revoked.

**The certificates folder** is ``certificates/`` in the course folder, or ``$COURSE_CERTIFICATES_DIR``
(on a cluster: a volume the instructors' servers and the verification page share).

**The secret** (``.secret`` in the certificates folder, mode 600) is created once, with the
first certificate, and never silently replaced: each certificate records the key id (a hash of the
secret), and issuing stops with a message when the file is missing or differs. Verification tells
"the register or the secret is missing" apart from "no such certificate" and from "altered".
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from course.certification import audit, store
from course.errors import WorkflowError

if TYPE_CHECKING:
    import pandas as pd

VALID, SUSPENDED, REVOKED, EXPIRED = "有效", "暂停", "撤销", "过期"
NOT_FOUND, ALTERED, UNAVAILABLE = "未找到", "已被改动", "无法核验"
SIGNED = [c.name for c in store.certificates.columns if c.name != "code"]
EVENT_SIGNED = [c.name for c in store.events.columns if c.name not in ("id", "mac")]


def cert_dir(root: Path) -> Path:
    """The certificates folder: ``$COURSE_CERTIFICATES_DIR``, else ``certificates/`` in the course folder."""
    shared = os.environ.get("COURSE_CERTIFICATES_DIR")
    return Path(shared) if shared else root / "certificates"


def secret_path(root: Path) -> Path:
    return cert_dir(root) / ".secret"


def pdf_path(root: Path, number: str) -> Path:
    return cert_dir(root) / f"{number}.pdf"


def head_path(root: Path, number: str) -> Path:
    return cert_dir(root) / ".head" / f"{number}.json"


def key_id(secret: bytes) -> str:
    """A public name of the secret (it cannot be turned back into the secret)."""
    return hashlib.sha256(b"kam-cert key id\0" + secret).hexdigest()[:16]


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def code_for(secret: bytes, record: dict[str, Any]) -> str:
    """A 20-character code: base32 of the first 100 bits of HMAC-SHA256(every signed field), in groups of 4."""
    digest = hmac.new(secret, _canonical({k: record[k] for k in SIGNED}), hashlib.sha256).digest()
    text = base64.b32encode(digest).decode()[:20]
    return "-".join(text[i:i + 4] for i in range(0, 20, 4))


def event_mac(secret: bytes, event: dict[str, Any]) -> str:
    """HMAC-SHA256 of every signed field; an event recorded before the chain (``prev_mac`` empty) was signed
    without that field, and is checked as it was signed."""
    fields = [k for k in EVENT_SIGNED if k != "prev_mac" or event["prev_mac"]]
    return hmac.new(secret, _canonical({k: event[k] for k in fields}), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    """A code as typed: case, spaces and missing hyphens do not matter."""
    bare = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(bare[i:i + 4] for i in range(0, len(bare), 4)) if len(bare) == 20 else code.strip().upper()


# ---------------------------------------------------------------- the secret
def issuing_key(root: Path, conn: sa.Connection) -> bytes:
    """The key to sign with: the one the register's certificates were issued with.

    Created only while the register holds no certificate; afterwards a missing or different
    ``.secret`` stops issuing (a new key would make every earlier code read as altered).
    """
    path = secret_path(root)
    issued = sorted(r[0] for r in conn.execute(sa.select(store.certificates.c.key_id).distinct()))
    count = conn.execute(sa.select(sa.func.count()).select_from(store.certificates)).scalar_one()
    if not path.exists():
        if issued:
            raise WorkflowError(
                f"{path} is missing, but the register holds {count} certificate(s) issued with key "
                f"{', '.join(issued)}: restore the file from your backup (`course certificate verify` names the key "
                "a file holds); nothing was issued. A new key is never made while certificates exist: every "
                "earlier code would then read as altered")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        secret = read_secret(path)
        audit.record(conn, "key", f"新建验证密钥 {path}", after={"key": key_id(secret)})
        return secret
    secret = read_secret(path)
    if issued and key_id(secret) not in issued:
        raise WorkflowError(
            f"{path} is not the key the register's {count} certificate(s) were issued with (it is key "
            f"{key_id(secret)}, they need {', '.join(issued)}): restore the original file from your backup; "
            "nothing was issued")
    return secret


def read_secret(path: Path) -> bytes:
    return path.read_text(encoding="ascii").strip().encode()


# ---------------------------------------------------------------- issuing and status
def next_number(conn: sa.Connection, round_id: str) -> str:
    count = conn.execute(sa.select(sa.func.count()).select_from(store.certificates)
                         .where(store.certificates.c.round_id == round_id)).scalar_one()
    return f"{round_id}-{count + 1:04d}"


def valid_until(issue_date: str, years: int) -> str:
    """The last valid day: the day before the ``years``-th anniversary (29 February → 28 February)."""
    start = dt.date.fromisoformat(issue_date)
    try:
        end = start.replace(year=start.year + years)
    except ValueError:
        end = start.replace(year=start.year + years, day=28) + dt.timedelta(days=1)
    return (end - dt.timedelta(days=1)).isoformat()


def _add_event(conn: sa.Connection, secret: bytes, number: str, status: str, reason: str, effective_date: str,
               cause: str) -> None:
    """Append a signed event chained to the certificate's last one; its head is written after the commit."""
    last = conn.execute(sa.select(store.events.c.seq, store.events.c.mac).where(store.events.c.number == number)
                        .order_by(store.events.c.seq.desc())).first()
    if last is None:
        prev = conn.execute(sa.select(store.certificates.c.code).where(store.certificates.c.number == number)
                            ).scalar_one()
    seq, prev = (1, prev) if last is None else (last.seq + 1, last.mac)
    event = {"number": number, "seq": seq, "status": status, "reason": reason, "effective_date": effective_date,
             "cause": cause, "recorded_at": store.now(), "recorded_by": store.who(), "prev_mac": prev}
    mac = event_mac(secret, event)
    conn.execute(store.events.insert().values(**event, mac=mac))
    conn.info.setdefault(HEADS, {})[number] = {"number": number, "seq": seq, "mac": mac}


HEADS = "kam_certificate_heads"  # conn.info key: the heads a transaction's events move


def write_head(root: Path, head: dict[str, Any]) -> None:
    path = head_path(root, head["number"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(head, sort_keys=True), encoding="ascii")
    os.replace(tmp, path)


def read_head(root: Path, number: str) -> dict[str, Any] | None:
    """The certificate's head, None without one; a head that is not one reads as altered (raises ValueError)."""
    path = head_path(root, number)
    if not path.exists():
        return None
    head = json.loads(path.read_text(encoding="ascii"))
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or not isinstance(head.get("mac"), str):
        raise ValueError(f"{path} is not a head")
    return head


@contextmanager
def transaction(root: Path, engine: sa.Engine) -> Iterator[sa.Connection]:
    """A register transaction: once it commits, the heads of the certificates it moved are written."""
    with store.transaction(engine) as conn:
        yield conn
        heads = dict(conn.info.pop(HEADS, {}))
    for head in heads.values():
        write_head(root, head)


def issue(conn: sa.Connection, secret: bytes, fields: dict[str, Any], verify_url: str | None = None
          ) -> dict[str, Any]:
    """Register one certificate (``fields``: every signed field but number and key_id); return its row.

    ``verify_url``: the verification page's address its PDF links to, kept in the audit entry."""
    record = {**fields, "number": next_number(conn, fields["round_id"]), "key_id": key_id(secret)}
    record["code"] = code_for(secret, record)
    conn.execute(store.certificates.insert().values(**record))
    _add_event(conn, secret, record["number"], VALID, "颁发", record["issue_date"], "issue")
    audit.record(conn, "issue", f"证书 {record['number']}", round_id=record["round_id"], learner=record["learner"],
                 after={"级别": record["level_title"], "有效期至": record["valid_until"],
                        **({"复审换发": record["renews"]} if record["renews"] else {}),
                        **({"核验地址": verify_url} if verify_url else {})})
    return record


def certificate(conn: sa.Connection, number: str) -> dict[str, Any]:
    row = conn.execute(sa.select(store.certificates).where(store.certificates.c.number == number)).mappings().first()
    if row is None:
        raise WorkflowError(f"there is no certificate {number} in the register: see `course certificate list`")
    return dict(row)


def event_rows(conn: sa.Connection, number: str) -> list[dict[str, Any]]:
    query = sa.select(store.events).where(store.events.c.number == number).order_by(store.events.c.seq)
    return [dict(r) for r in conn.execute(query).mappings()]


def status_on(cert: dict[str, Any], events: list[dict[str, Any]], on: dt.date) -> tuple[str, dict[str, Any]]:
    """The status on day ``on`` and the event it comes from (the issue's for 过期)."""
    current = events[0]
    for event in events[1:]:
        if dt.date.fromisoformat(event["effective_date"]) <= on:
            current = event
    if current["status"] == REVOKED:
        return REVOKED, current
    if on > dt.date.fromisoformat(cert["valid_until"]):
        return EXPIRED, current
    return str(current["status"]), current


# the manual moves: command → (statuses it starts from, status it sets)
MOVES = {"suspend": ((VALID,), SUSPENDED), "reinstate": ((SUSPENDED,), VALID), "revoke": ((VALID, SUSPENDED, EXPIRED),
                                                                                          REVOKED)}


def move(root: Path, engine: sa.Engine, number: str, action: str, reason: str, on: dt.date) -> str:
    """Suspend, reinstate or revoke a certificate by hand (signed event and audit entry); its new status."""
    starts, target = MOVES[action]
    if not reason.strip():
        raise WorkflowError(f"give the reason for the {action} with --reason (it is shown on the verification page)")
    with transaction(root, engine) as conn:
        cert = certificate(conn, number)
        secret = issuing_key(root, conn)
        events = event_rows(conn, number)
        if on.isoformat() < max(cert["issue_date"], events[-1]["effective_date"]):
            raise WorkflowError(f"--date {on.isoformat()} is before certificate {number}'s last change (issued "
                                f"{cert['issue_date']}, last change effective {events[-1]['effective_date']}): a "
                                "change takes effect on or after it")
        now_status, _ = status_on(cert, events, on)
        if now_status not in starts:
            hint = {"suspend": "only a 有效 certificate can be suspended",
                    "reinstate": "only a 暂停 certificate can be reinstated",
                    "revoke": "a revoked certificate stays revoked"}[action]
            raise WorkflowError(f"certificate {number} is {now_status} on {on.isoformat()}: {hint}")
        _add_event(conn, secret, number, target, reason.strip(), on.isoformat(), "manual")
        audit.record(conn, action, f"证书 {number}", round_id=cert["round_id"], learner=cert["learner"],
                     before={"状态": now_status},
                     after={"状态": target, "原因": reason.strip(), "日期": on.isoformat()})
    return target


def revoke_by_decision(conn: sa.Connection, secret: bytes, number: str, reason: str, on: dt.date) -> bool:
    """Revoke a certificate whose pass a re-decision withdrew; False if it is revoked already."""
    cert = certificate(conn, number)
    status, _ = status_on(cert, event_rows(conn, number), max(on, dt.date.fromisoformat(cert["issue_date"])))
    if status == REVOKED:
        return False
    _add_event(conn, secret, number, REVOKED, reason, on.isoformat(), "decision")
    audit.record(conn, "revoke", f"证书 {number}", round_id=cert["round_id"], learner=cert["learner"],
                 before={"状态": status}, after={"状态": REVOKED, "原因": reason, "日期": on.isoformat()})
    return True


def restore_by_decision(conn: sa.Connection, secret: bytes, number: str, reason: str, on: dt.date) -> bool:
    """Lift a revocation a re-decision made, once a later decision restores the pass; False if it cannot be."""
    events = event_rows(conn, number)
    last = events[-1]
    if last["status"] != REVOKED or last["cause"] != "decision":
        return False
    cert = certificate(conn, number)
    _add_event(conn, secret, number, VALID, reason, on.isoformat(), "decision")
    audit.record(conn, "reinstate", f"证书 {number}", round_id=cert["round_id"], learner=cert["learner"],
                 before={"状态": REVOKED}, after={"状态": VALID, "原因": reason, "日期": on.isoformat()})
    return True


# ---------------------------------------------------------------- verification
@dataclass(frozen=True)
class Verification:
    """What a code says: ``status`` is one of 有效 暂停 撤销 过期 未找到 已被改动 无法核验."""

    code: str
    status: str
    message: str
    record: dict[str, Any] | None = None
    event: dict[str, Any] | None = None
    renewed_by: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.status == VALID


def _describe(cert: dict[str, Any]) -> str:
    return (f"{cert['name']}，{cert['level_title']}，证书编号 {cert['number']}，{cert['issue_date']} 颁发，"
            f"有效期至 {cert['valid_until']}")


def intact(secret: bytes, cert: dict[str, Any], events: list[dict[str, Any]], head: dict[str, Any] | None) -> bool:
    """Whether the events are the certificate's whole chain: signed, numbered 1..n, each naming the one before,
    and reaching the head (the latest event recorded outside the database), if there is one."""
    prev, chained = cert["code"], False
    for seq, event in enumerate(events, start=1):
        before_chain = event["prev_mac"] == ""  # from a register upgraded in place (store.upgrade)
        if (event["seq"] != seq or event["number"] != cert["number"] or (before_chain and chained)
                or (not before_chain and event["prev_mac"] != prev)
                or not hmac.compare_digest(event_mac(secret, event), event["mac"])):
            return False
        prev, chained = event["mac"], chained or not before_chain
    if head is not None and not (head.get("number") == cert["number"] and 1 <= head["seq"] <= len(events)
                                 and hmac.compare_digest(events[head["seq"] - 1]["mac"], head["mac"])):
        return False
    return bool(events)


def check(secret: bytes, cert: dict[str, Any], events: list[dict[str, Any]], code: str, on: dt.date,
          head: dict[str, Any] | None = None) -> Verification:
    """Verify one register row, its events and its head under ``secret``."""
    genuine = hmac.compare_digest(code_for(secret, cert), code) and hmac.compare_digest(cert["code"], code)
    if not genuine or not intact(secret, cert, events, head):
        return Verification(code, ALTERED, f"验证码 {code} 无效：证书记录已被改动。")
    status, event = status_on(cert, events, on)
    text = {
        VALID: f"验证码 {code} 有效：{_describe(cert)}。",
        SUSPENDED: f"验证码 {code} 对应的证书已暂停（自 {event['effective_date']}，原因：{event['reason']}）："
                   f"{_describe(cert)}。",
        REVOKED: f"验证码 {code} 对应的证书已撤销（{event['effective_date']}，原因：{event['reason']}）："
                 f"{_describe(cert)}。",
        EXPIRED: f"验证码 {code} 对应的证书已过期（有效期至 {cert['valid_until']}）：{_describe(cert)}。",
    }[status]
    return Verification(code, status, text, cert, event)


def verify(root: Path, url: str, code: str, on: dt.date | None = None) -> Verification:
    """Whether ``code`` is a certificate of the register at ``url`` (secret in ``root``), and its status on ``on``."""
    code = normalise_code(code)
    on = on or dt.date.today()
    try:
        engine = store.existing(url)
    except store.RegisterMissing as exc:
        return Verification(code, UNAVAILABLE, f"无法核验验证码 {code}：找不到证书登记册（{exc}）。"
                                               "请在课程文件夹中运行，或用 --root 指定课程文件夹。")
    path = secret_path(root)
    if not path.exists():
        return Verification(code, UNAVAILABLE, f"无法核验验证码 {code}：验证密钥 {path} 缺失。请从备份恢复该文件"
                                               "（不要新建密钥：新密钥无法核验已颁发的证书）。")
    secret = read_secret(path)
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.certificates).where(store.certificates.c.code == code)).mappings().first()
        if row is None:
            return Verification(code, NOT_FOUND, f"验证码 {code} 无效：未找到该证书。")
        cert = dict(row)
        events = event_rows(conn, cert["number"])
        later = [r[0] for r in conn.execute(sa.select(store.certificates.c.number)
                                            .where(store.certificates.c.renews == cert["number"]))]
        made = [json.loads(r[0])["key"] for r in conn.execute(sa.select(store.audit.c.after)
                                                               .where(store.audit.c.action == "key"))]
    if cert["key_id"] not in made:  # no key of that name was ever made here: the field was edited
        return Verification(code, ALTERED, f"验证码 {code} 无效：证书记录已被改动。")
    if cert["key_id"] != key_id(secret):
        return Verification(code, UNAVAILABLE, f"无法核验验证码 {code}：{path} 不是颁发该证书时的验证密钥"
                                               f"（需要密钥 {cert['key_id']}，现为 {key_id(secret)}）。"
                                               "请从备份恢复原密钥文件。")
    try:
        head = read_head(root, cert["number"])
    except ValueError:
        return Verification(code, ALTERED, f"验证码 {code} 无效：证书记录已被改动。")
    result = check(secret, cert, events, code, on, head)
    return Verification(result.code, result.status, result.message, result.record, result.event, later)


# ---------------------------------------------------------------- reading the register
REGISTER_COLUMNS = ["证书编号", "学员编号", "姓名", "级别", "批次", "试卷/场次", "考试日期", "颁发日期", "有效期至",
                    "复审换发自", "状态", "说明"]


def register_frame(engine: sa.Engine, on: dt.date, round_id: str | None = None) -> pd.DataFrame:
    """Every certificate with its status on ``on`` (signatures not checked here: see :func:`verify`)."""
    query = sa.select(store.certificates).order_by(store.certificates.c.number)
    if round_id is not None:
        query = query.where(store.certificates.c.round_id == round_id)
    rows = []
    with engine.connect() as conn:
        for cert in conn.execute(query).mappings():
            status, event = status_on(dict(cert), event_rows(conn, cert["number"]), on)
            note = "" if event["cause"] == "issue" else f"{event['effective_date']} {event['reason']}"
            rows.append([cert["number"], cert["learner"], cert["name"], cert["level_title"], cert["round_id"],
                         cert["sitting"], cert["exam_date"], cert["issue_date"], cert["valid_until"],
                         cert["renews"] or "", status, note])
    import pandas as pd  # only where a frame is made: a command that stops early never loads it

    return pd.DataFrame(rows, columns=REGISTER_COLUMNS)
