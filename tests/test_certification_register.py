"""The certificate register: does every field count, does every status read as itself, is the secret never replaced?"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from course.certification import register, store
from course.cli import app
from course.errors import WorkflowError
from tests.conftest import with_register

FIELDS = {"learner": "zhang.san", "name": "张三丰", "region": "华东", "department": "政企客户部", "level": "L3",
          "level_title": "岗位技能三级（中级）", "round_id": "2026A", "sitting": "L3-2026a", "exam_date": "2026-11-20",
          "issue_date": "2026-12-01", "valid_until": "2029-11-30", "renews": None}
DESCRIBED = "张三丰，岗位技能三级（中级），证书编号 2026A-0001，2026-12-01 颁发，有效期至 2029-11-30"
ON = dt.date(2026, 12, 5)


def issue_one(root: Path, **changes: object) -> dict[str, object]:
    engine = store.open_course(root)
    with register.transaction(root, engine) as conn:
        secret = register.issuing_key(root, conn)
        if conn.execute(sa.select(store.rounds)).first() is None:
            conn.execute(store.rounds.insert().values(id="2026A", title="2026年第一批", opened_at=store.now(),
                                                      opened_by="t"))
        key = conn.execute(store.decisions.insert().values(
            round_id="2026A", run=1, learner="zhang.san", level="L3", outcome="通过", row="{}", evidence="{}",
            decided_at=store.now(), decided_by="t")).inserted_primary_key
        assert key is not None
        return register.issue(conn, secret, {**FIELDS, **changes, "decision_id": key[0]})


@pytest.fixture
def root(tmp_path: Path, empty_register: Path) -> Path:
    return with_register(tmp_path, empty_register)


@pytest.fixture
def issued(root: Path) -> tuple[Path, str]:
    return root, str(issue_one(root)["code"])


def verify(root: Path, code: str, on: dt.date = ON) -> register.Verification:
    return register.verify(root, store.course_url(root), code, on)


def tamper(root: Path, sql: str, table: str = "kam_certificate") -> None:
    """What someone with write access to the database could do: drop the guard, edit a row."""
    with store.engine_for(store.course_url(root)).begin() as conn:
        conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
        conn.exec_driver_sql(sql)


def test_an_issued_code_verifies_and_names_the_certificate(issued: tuple[Path, str]) -> None:
    root, code = issued
    result = verify(root, code.lower().replace("-", " "))
    assert (result.status, result.message) == ("有效", f"验证码 {code} 有效：{DESCRIBED}。")


def test_the_signed_fields_are_every_column_of_the_certificate_but_its_code() -> None:
    assert [c.name for c in store.certificates.columns if c.name != "code"] == register.SIGNED
    assert set(register.SIGNED) == {*FIELDS, "number", "decision_id", "key_id"}


@pytest.mark.parametrize("column", [c.name for c in store.certificates.columns if c.name != "code"])
def test_changing_any_field_in_the_register_makes_verification_fail(issued: tuple[Path, str], column: str) -> None:
    root, code = issued
    value = {"number": "'2026A-0002'", "decision_id": "decision_id + 1", "renews": "'2023A-0007'"}.get(
        column, f"{column} || 'X'")
    tamper(root, f"UPDATE kam_certificate SET {column} = {value}")
    if column == "number":  # the events follow the number, or their absence alone would give it away
        tamper(root, "UPDATE kam_certificate_event SET number = '2026A-0002'", "kam_certificate_event")
    assert verify(root, code).message == f"验证码 {code} 无效：证书记录已被改动。"


@pytest.mark.parametrize("column", register.EVENT_SIGNED)
def test_changing_any_field_of_a_status_event_makes_verification_fail(issued: tuple[Path, str], column: str) -> None:
    root, code = issued
    value = {"seq": "seq + 5", "number": "'2026A-0009'"}.get(column, f"{column} || 'X'")
    tamper(root, f"UPDATE kam_certificate_event SET {column} = {value}", "kam_certificate_event")
    assert verify(root, code).message == f"验证码 {code} 无效：证书记录已被改动。"


def test_every_signed_field_is_in_the_code_itself(issued: tuple[Path, str]) -> None:
    """Does the code change with each field alone (no other defence, such as the events' own signature, counts)?"""
    root, code = issued
    secret = register.read_secret(register.secret_path(root))
    with store.existing(store.course_url(root)).connect() as conn:
        row = register.certificate(conn, "2026A-0001")
        events = register.event_rows(conn, "2026A-0001")
    assert register.code_for(secret, row) == code and register.check(secret, row, events, code, ON).status == "有效"
    for column in register.SIGNED:
        changed = {**row, column: "2099-01-01" if column.endswith("date") else f"{row[column]}X"}
        assert register.code_for(secret, changed) != code, column
        assert register.check(secret, changed, events, code, ON).status == "已被改动", column


def moved(root: Path) -> None:
    """Issued 2026-12-01, suspended on the 2nd, reinstated on the 3rd, revoked on the 4th: events 1 to 4."""
    engine = store.existing(store.course_url(root))
    for action, day in (("suspend", 2), ("reinstate", 3), ("revoke", 4)):
        register.move(root, engine, "2026A-0001", action, "原因", dt.date(2026, 12, day))


@pytest.mark.parametrize(("deleted", "then"), [("seq = 4", "有效"), ("seq = 2", "撤销"), ("seq IN (3, 4)", "暂停")])
def test_deleting_a_status_event_makes_verification_fail(issued: tuple[Path, str], deleted: str, then: str) -> None:
    """Can a revocation (the last event) or an event in the middle be deleted unnoticed? (``then``: what the
    remaining events alone would say.)"""
    root, code = issued
    moved(root)
    assert verify(root, code).status == "撤销"
    with store.engine_for(store.course_url(root)).begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER kam_certificate_event_no_delete")
        conn.exec_driver_sql(f"DELETE FROM kam_certificate_event WHERE {deleted}")
        left = [dict(r) for r in conn.execute(sa.select(store.events)).mappings()]
    assert register.status_on(FIELDS, left, ON)[0] == then
    assert verify(root, code).message == f"验证码 {code} 无效：证书记录已被改动。"


def test_the_head_holds_the_latest_event_and_a_head_behind_the_chain_still_verifies(issued: tuple[Path, str]
                                                                                     ) -> None:
    """Is the head written after each change, and does a head left behind by a crash (before it was written)
    still verify, with the status of the whole chain?"""
    root, code = issued
    first = register.read_head(root, "2026A-0001")
    moved(root)
    with store.existing(store.course_url(root)).connect() as conn:
        macs = [e["mac"] for e in register.event_rows(conn, "2026A-0001")]
    assert first == {"number": "2026A-0001", "seq": 1, "mac": macs[0]}
    assert register.read_head(root, "2026A-0001") == {"number": "2026A-0001", "seq": 4, "mac": macs[3]}
    register.write_head(root, first)
    assert verify(root, code).status == "撤销"
    register.head_path(root, "2026A-0001").write_text("{}", encoding="ascii")
    assert verify(root, code).message == f"验证码 {code} 无效：证书记录已被改动。"


def test_a_register_made_before_the_chain_is_upgraded_in_place_and_chained_from_its_last_event(
        issued: tuple[Path, str]) -> None:
    """Does a register whose events carry no ``prev_mac`` (made before the chain) keep its status, chain the
    next change to its last event, and still catch a deleted change?"""
    root, code = issued
    engine = store.existing(store.course_url(root))
    register.move(root, engine, "2026A-0001", "suspend", "原因", dt.date(2026, 12, 2))
    secret = register.read_secret(register.secret_path(root))
    with engine.begin() as conn:  # what the earlier version wrote: events signed without prev_mac, no head
        rows = [dict(r) for r in conn.execute(sa.select(store.events).order_by(store.events.c.seq)).mappings()]
        conn.exec_driver_sql("DROP TABLE kam_certificate_event")
        legacy = [c for c in store.events.columns if c.name != "prev_mac"]
        conn.exec_driver_sql("CREATE TABLE kam_certificate_event (" + ", ".join(
            f"{c.name} {c.type.compile(engine.dialect)}" for c in legacy) + ")")
        for row in rows:
            row.pop("prev_mac")
            row["mac"] = hmac.new(secret, json.dumps({k: row[k] for k in register.EVENT_SIGNED if k != "prev_mac"},
                                                     ensure_ascii=False, sort_keys=True, separators=(",", ":")
                                                     ).encode(), hashlib.sha256).hexdigest()
            conn.execute(sa.text(f"INSERT INTO kam_certificate_event ({', '.join(row)}) "
                                 f"VALUES ({', '.join(':' + k for k in row)})"), row)
    shutil.rmtree(register.head_path(root, "2026A-0001").parent)
    assert verify(root, code).status == "暂停"
    upgraded = store.existing(store.course_url(root))
    register.move(root, upgraded, "2026A-0001", "reinstate", "原因", dt.date(2026, 12, 3))
    with upgraded.connect() as conn:
        events = register.event_rows(conn, "2026A-0001")
    assert [(e["seq"], e["prev_mac"]) for e in events] == [(1, ""), (2, ""), (3, events[1]["mac"])]
    assert verify(root, code).status == "有效"
    with upgraded.begin() as conn:
        conn.exec_driver_sql("DELETE FROM kam_certificate_event WHERE seq = 3")  # the legacy table has no guard
    assert verify(root, code).message == f"验证码 {code} 无效：证书记录已被改动。"


def test_a_changed_code_is_not_found(issued: tuple[Path, str]) -> None:
    root, code = issued
    tamper(root, "UPDATE kam_certificate SET code = 'AAAA-BBBB-CCCC-DDDD-EEEE'")
    assert verify(root, code).message == f"验证码 {code} 无效：未找到该证书。"


@pytest.mark.parametrize("table", store.TABLES)
def test_every_table_of_the_register_is_append_only(issued: tuple[Path, str], table: str) -> None:
    root, _ = issued
    engine = store.engine_for(store.course_url(root))
    with engine.begin() as conn:  # a row in the tables issuing leaves empty, so a trigger has one to guard
        conn.execute(store.round_papers.insert().values(round_id="2026A", paper="L3-2026a", added_at="t", added_by="t"))
        conn.execute(store.appeals.insert().values(round_id="2026A", learner="zhang.san", reason="r", filed_at="t",
                                                   filed_by="t", decision_before=1, outcome="o"))
    column = list(store.metadata.tables[table].columns)[-1].name
    for statement in (f"UPDATE {table} SET {column} = {column}",
                      f"DELETE FROM {table}"):
        with pytest.raises(sa.exc.IntegrityError, match=f"{table} is append-only: add a new row instead"), \
                engine.begin() as conn:
            conn.exec_driver_sql(statement)


# ---------------------------------------------------------------- validity and status
def test_a_certificate_expires_after_its_last_valid_day(issued: tuple[Path, str]) -> None:
    root, code = issued
    assert verify(root, code, dt.date(2029, 11, 30)).status == "有效"
    expired = verify(root, code, dt.date(2029, 12, 1))
    assert (expired.status, expired.message) == (
        "过期", f"验证码 {code} 对应的证书已过期（有效期至 2029-11-30）：{DESCRIBED}。")


@pytest.mark.parametrize(("start", "years", "last"), [("2026-12-01", 3, "2029-11-30"), ("2028-02-29", 1, "2029-02-28"),
                                                      ("2026-01-01", 2, "2027-12-31")])
def test_the_last_valid_day(start: str, years: int, last: str) -> None:
    assert register.valid_until(start, years) == last


def test_suspend_reinstate_and_revoke_move_the_status(issued: tuple[Path, str]) -> None:
    root, code = issued
    engine = store.existing(store.course_url(root))
    assert register.move(root, engine, "2026A-0001", "suspend", "资格复查中", dt.date(2026, 12, 5)) == "暂停"
    assert verify(root, code, dt.date(2026, 12, 4)).status == "有效"  # before the suspension took effect
    assert verify(root, code, dt.date(2026, 12, 6)).message == (
        f"验证码 {code} 对应的证书已暂停（自 2026-12-05，原因：资格复查中）：{DESCRIBED}。")
    with pytest.raises(WorkflowError, match=r"^certificate 2026A-0001 is 暂停 on 2026-12-06: only a 有效 "
                                            r"certificate can be suspended$"):
        register.move(root, engine, "2026A-0001", "suspend", "again", dt.date(2026, 12, 6))
    assert register.move(root, engine, "2026A-0001", "reinstate", "复查完毕", dt.date(2026, 12, 8)) == "有效"
    assert verify(root, code, dt.date(2026, 12, 9)).status == "有效"
    assert register.move(root, engine, "2026A-0001", "revoke", "考试作弊", dt.date(2026, 12, 10)) == "撤销"
    revoked = verify(root, code, dt.date(2030, 1, 1))  # revoked stays revoked, also after its validity
    assert revoked.message == f"验证码 {code} 对应的证书已撤销（2026-12-10，原因：考试作弊）：{DESCRIBED}。"
    for action, hint in (("reinstate", "only a 暂停 certificate can be reinstated"),
                         ("revoke", "a revoked certificate stays revoked")):
        with pytest.raises(WorkflowError, match=f"^certificate 2026A-0001 is 撤销 on 2026-12-11: {hint}$"):
            register.move(root, engine, "2026A-0001", action, "x", dt.date(2026, 12, 11))


def test_a_move_needs_a_reason_and_a_known_number(issued: tuple[Path, str]) -> None:
    root, _ = issued
    engine = store.existing(store.course_url(root))
    with pytest.raises(WorkflowError, match=r"^give the reason for the revoke with --reason \(it is shown on the "
                                            r"verification page\)$"):
        register.move(root, engine, "2026A-0001", "revoke", " ", ON)
    with pytest.raises(WorkflowError, match=r"^there is no certificate 2026A-0099 in the register: see `course "
                                            r"certificate list`$"):
        register.move(root, engine, "2026A-0099", "revoke", "x", ON)


def test_a_change_dated_before_the_issue_or_the_last_change_is_refused(issued: tuple[Path, str]) -> None:
    root, code = issued
    engine = store.existing(store.course_url(root))
    with pytest.raises(WorkflowError) as caught:
        register.move(root, engine, "2026A-0001", "revoke", "考试作弊", dt.date(2026, 11, 30))
    assert str(caught.value) == ("--date 2026-11-30 is before certificate 2026A-0001's last change (issued 2026-12-01, "
                                 "last change effective 2026-12-01): a change takes effect on or after it")
    register.move(root, engine, "2026A-0001", "suspend", "资格复查中", dt.date(2026, 12, 5))
    with pytest.raises(WorkflowError, match=r"^--date 2026-12-04 is before certificate 2026A-0001's last change "
                                            r"\(issued 2026-12-01, last change effective 2026-12-05\)"):
        register.move(root, engine, "2026A-0001", "reinstate", "复查完毕", dt.date(2026, 12, 4))
    assert verify(root, code, dt.date(2026, 12, 6)).status == "暂停"


# ---------------------------------------------------------------- the secret
def test_a_removed_secret_stops_issuing_and_verification_says_why(issued: tuple[Path, str]) -> None:
    root, code = issued
    key = register.key_id(register.read_secret(register.secret_path(root)))
    register.secret_path(root).unlink()
    with pytest.raises(WorkflowError) as caught:
        issue_one(root, learner="li.si")
    assert str(caught.value) == (
        f"{register.secret_path(root)} is missing, but the register holds 1 certificate(s) issued with key {key}: "
        "restore the file from your backup (`course certificate verify` names the key a file holds); nothing was "
        "issued. A new key is never made while certificates exist: every earlier code would then read as altered")
    assert not register.secret_path(root).exists()
    result = verify(root, code)
    assert (result.status, result.message) == (
        "无法核验", f"无法核验验证码 {code}：验证密钥 {register.secret_path(root)} "
        "缺失。请从备份恢复该文件（不要新建密钥：新密钥无法核验已颁发的证书）。")


def test_a_changed_secret_stops_issuing_and_verification_says_why(issued: tuple[Path, str]) -> None:
    root, code = issued
    path = register.secret_path(root)
    old = register.key_id(register.read_secret(path))
    path.write_text("0" * 64, encoding="ascii")
    new = register.key_id(b"0" * 64)
    with pytest.raises(WorkflowError) as caught:
        issue_one(root, learner="li.si")
    assert str(caught.value) == (f"{path} is not the key the register's 1 certificate(s) were issued with (it is key "
                                 f"{new}, they need {old}): restore the original file from your backup; nothing "
                                 "was issued")
    assert verify(root, code).message == (f"无法核验验证码 {code}：{path} 不是颁发该证书时的验证密钥（需要密钥 {old}，"
                                          f"现为 {new}）。请从备份恢复原密钥文件。")


def test_the_secret_is_made_once_private_to_the_owner_and_audited(issued: tuple[Path, str]) -> None:
    root, _ = issued
    assert register.secret_path(root).stat().st_mode & 0o077 == 0
    with store.existing(store.course_url(root)).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.audit)
                            .where(store.audit.c.action == "key")).scalar_one() == 1


def test_without_a_register_verification_says_so_not_not_found(tmp_path: Path) -> None:
    code = "AAAA-BBBB-CCCC-DDDD-EEEE"
    result = verify(tmp_path, code)
    assert (result.status, result.message) == ("无法核验", (
        f"无法核验验证码 {code}：找不到证书登记册（there is no gradebook at "
        f"{tmp_path / 'gradebook' / 'gradebook.db'}）。"
        "请在课程文件夹中运行，或用 --root 指定课程文件夹。"))


# ---------------------------------------------------------------- commands
def test_verify_works_from_any_folder_given_the_register(issued: tuple[Path, str], tmp_path_factory:
                                                         pytest.TempPathFactory) -> None:
    root, code = issued
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    here = Path.cwd()
    os.chdir(elsewhere)
    try:
        runner = CliRunner()
        ok = runner.invoke(app, ["certificate", "verify", code, "--root", str(root), "--on", "2026-12-05"])
        lost = runner.invoke(app, ["certificate", "verify", code])
    finally:
        os.chdir(here)
    assert (ok.exit_code, ok.output) == (0, f"验证码 {code} 有效：{DESCRIBED}。\n")
    assert lost.exit_code == 2 and "找不到证书登记册" in lost.output and "未找到该证书" not in lost.output


def test_the_commands_move_a_certificate_and_list_the_register(issued: tuple[Path, str]) -> None:
    root, code = issued
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["certificate", *args, "--root", str(root)])
        return result.exit_code, result.output

    assert run("suspend", "2026A-0001", "--reason", "资格复查中", "--date", "2026-12-05") == (
        0, "certificate 2026A-0001: 暂停\n")
    assert run("reinstate", "2026A-0001", "--reason", "复查完毕", "--date", "2026-12-06") == (
        0, "certificate 2026A-0001: 有效\n")
    assert run("revoke", "2026A-0001", "--reason", "考试作弊", "--date", "2026-12-07") == (
        0, "certificate 2026A-0001: 撤销\n")
    assert run("revoke", "2026A-0001", "--reason", "again", "--date", "2026-12-08") == (
        1, "Error: certificate 2026A-0001 is 撤销 on 2026-12-08: a revoked certificate stays revoked\n")
    status, listing = run("list", "--on", "2026-12-08")
    assert status == 0 and listing.splitlines() == [
        "证书编号\t学员编号\t姓名\t级别\t批次\t试卷/场次\t考试日期\t颁发日期\t有效期至\t复审换发自\t状态\t说明",
        "2026A-0001\tzhang.san\t张三丰\t岗位技能三级（中级）\t2026A\tL3-2026a\t2026-11-20\t2026-12-01\t2029-11-30\t\t撤销\t"
        "2026-12-07 考试作弊"]
    assert run("verify", code, "--on", "2026-12-08")[0] == 1


@pytest.mark.parametrize(("args", "message"), [
    ([], "name the certificates to draw (e.g. 2026A-0001) or pass --all, not both"),
    (["2026A-0001", "--all"], "name the certificates to draw (e.g. 2026A-0001) or pass --all, not both"),
    (["2026A-0001", "2026A-0009"], "there is no certificate 2026A-0009 in the register: see `course certificate "
                                   "list`; nothing was drawn")])
def test_drawing_again_names_what_to_draw(issued: tuple[Path, str], args: list[str], message: str) -> None:
    root, _ = issued
    result = CliRunner().invoke(app, ["certificate", "draw", *args, "--local-link", "--root", str(root)])
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    assert not register.pdf_path(root, "2026A-0001").exists()


def test_on_postgresql_the_register_issues_verifies_and_refuses_edits(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Is a national (PostgreSQL) gradebook's register guarded and verified like SQLite's?"""
    from tests import pg

    if not pg.available() and not os.environ.get("CI"):
        pytest.skip("PostgreSQL is not installed (CI installs it)")
    server = pg.Postgres()
    url = server.start()
    try:
        monkeypatch.setenv("COURSE_DB_URL", url)
        code = str(issue_one(tmp_path)["code"])
        assert verify(tmp_path, code).message == f"验证码 {code} 有效：{DESCRIBED}。"
        with pytest.raises(sa.exc.DBAPIError, match="kam_certificate is append-only: add a new row instead"), \
                store.engine_for(url).begin() as conn:
            conn.exec_driver_sql("UPDATE kam_certificate SET level = 'L1'")
        assert verify(tmp_path, code).status == "有效"
    finally:
        server.stop()
