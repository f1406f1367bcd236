"""A scripted certification round through real nbgrader: decisions, re-decisions, an appeal, recertification, audit.

Three L4 learners sit paper L4-r1 (20 theory points, one 10-point case graded by hand). All meet
every other condition (30 h, 大专 or 本科, every competency 初级), and every theory answer is right
(100). The case decides:

| step | date | what happens | a | b | c |
|---|---|---|---|---|---|
| 1 | 2026-11-01 | round 2026A runs | 8 → 通过, 2026A-0001 | 5 → 未通过 | 9 → 通过, 2026A-0002 |
| 2 | 2026-11-02 | the same command again | — | — | — |
| 3 | 2026-11-05 | c's case re-marked 4 | | | 未通过, 2026A-0002 撤销 |
| 4 | 2026-11-10 | b appeals, re-marked 7 | | 改判为通过, 2026A-0003 | |
| 5 | 2029-10-01 | a sits L4-r2 in round 2029A (复审) | 2029A-0001 renews 2026A-0001 | | |
| 6 | 2026-11-15 | c appeals, nothing re-marked | | | 维持原判定（未通过） |
| 7 | 2026-11-20 | b appeals again, re-marked 3 | | 改判为未通过, 2026A-0003 撤销 | |

Certificates of L4 are valid 3 years (the fixture's validity_years): 2026A-0001 up to 2029-10-31.
The certificates link to the office's page, https://cert.example.cn/services/certificates/ (COURSE_VERIFY_URL).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nbgrader.api import Gradebook
from typer.testing import CliRunner

from course import workflow
from course.certification import manifest, outputs, papers, register, store
from course.certification.config import load_certification
from course.cli import app
from course.nbconfig import db_url
from tests.conftest import make_course_dir

CERT = Path(__file__).parent / "fixtures" / "cert"
ROSTER = "learner_id,name,region,department,target_level\na,张三,华东,政企客户部,L4\nb,李四,华南,行业拓展部,L4\n" \
         "c,王五,华东,政企客户部,L4\n"
CASE = {"a": 8.0, "b": 5.0, "c": 9.0}
VERIFY_URL = "https://cert.example.cn/services/certificates/"


def cli(root: Path, *args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, [*args, "--root", str(root)])
    return result.exit_code, result.output.splitlines()


def sit(root: Path, paper: str, learners: dict[str, float], when: dt.datetime) -> dict[str, str]:
    """The paper's submissions in the gradebook as nbgrader and formgrader leave them: theory right, case as given."""
    data = manifest.read_manifest(manifest.manifest_path(root, paper))
    workflow.generate(root, [data["variants"][x]["assignment"] for x in learners])
    with Gradebook(db_url(root), course_id="kam-cert") as gb:
        for learner, case in learners.items():
            variant = data["variants"][learner]
            gb.update_or_create_student(learner)
            gb.add_submission(variant["assignment"], learner, timestamp=when)
            for qid in variant["theory"]:
                grade = gb.find_grade(qid, variant["assignment"], variant["assignment"], learner)
                grade.auto_score = grade.max_score
            mark(gb, variant, learner, case)
        gb.db.commit()
    return {x: str(data["variants"][x]["skills"][0]) for x in learners}


def mark(gb: Gradebook, variant: dict[str, Any], learner: str, score: float) -> None:
    grade = gb.find_grade(variant["skills"][0], variant["assignment"], variant["assignment"], learner)
    grade.manual_score = score
    grade.needs_manual_grade = False


def remark(root: Path, learner: str, score: float) -> None:
    """An instructor changes a case grade in formgrader."""
    variant = manifest.read_manifest(manifest.manifest_path(root, "L4-r1"))["variants"][learner]
    with Gradebook(db_url(root), course_id="kam-cert") as gb:
        mark(gb, variant, learner, score)
        gb.db.commit()


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COURSE_VERIFY_URL", VERIFY_URL)
        yield run_script(tmp_path_factory)


def run_script(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cd = make_course_dir(tmp_path_factory.mktemp("lifecycle") / "course", CERT)
    root, course = cd.root, cd.course
    cert = load_certification(course)
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    files = {
        "training.csv": "learner_id,course,hours,date\na,面授一,20,2026-09-01\na,面授二,10,2026-09-02\n"
                        "b,面授一,20,2026-09-01\nb,面授二,10,2026-09-02\nc,面授一,20,2026-09-01\nc,面授二,10,2026/9/2\n",
        "applicants.csv": "learner_id,years_in_post,held_level,education\na,1,,大专\nb,1,,本科\nc,1,,本科\n",
        "ratings.csv": "learner_id,competency,level,rater\n" + "".join(
            f"{x},{item},初级,李经理\n" for x in "abc" for item in ("成就导向", "沟通倾听能力", "执行能力")),
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    out: dict[str, Any] = {"root": root}
    for kind, name in (("import-training", "training.csv"), ("import-applicants", "applicants.csv"),
                       ("import-ratings", "ratings.csv")):
        out[kind] = cli(root, "certify", kind, str(root / name), "--content", str(CERT))
    papers.create_paper(course, cert, root, "L4-r1", "L4", "2026", ["a", "b", "c"])
    out["cases"] = sit(root, "L4-r1", CASE, dt.datetime(2026, 10, 20, 9, 30))
    results = ["certify", "results", "--round", "2026A", "--content", str(CERT)]
    out["run1"] = cli(root, *results, "--title", "2026年第一批", "--date", "2026-11-01")
    out["codes"] = {c["learner"]: c["code"] for c in _certificates(root)}
    out["run2"] = cli(root, *results, "--date", "2026-11-02")
    out["audit_after_run2"] = len(_audit(root))
    remark(root, "c", 4.0)
    out["run3"] = cli(root, *results, "--date", "2026-11-05")
    remark(root, "b", 7.0)
    out["appeal"] = cli(root, "certify", "appeal", "b", "--round", "2026A", "--reason", "申请复核案例分析评分",
                        "--date", "2026-11-10", "--content", str(CERT))
    papers.create_paper(course, cert, root, "L4-r2", "L4", "2029", ["a"])
    sit(root, "L4-r2", {"a": 9.0}, dt.datetime(2029, 9, 15, 9, 30))
    (root / "recert.csv").write_text(ROSTER.splitlines()[0] + "\n" + ROSTER.splitlines()[1] + "\n", encoding="utf-8")
    out["run5"] = cli(root, "certify", "results", "--round", "2029A", "--roster", str(root / "recert.csv"),
                      "--date", "2029-10-01", "--content", str(CERT))
    out["audit"] = cli(root, "certify", "audit")
    out["audit_2026A"] = cli(root, "certify", "audit", "--round", "2026A")
    appeal = ["certify", "appeal", "--round", "2026A", "--content", str(CERT)]
    out["appeal_kept"] = cli(root, *appeal[:2], "c", *appeal[2:], "--reason", "申请复核", "--date", "2026-11-15")
    remark(root, "b", 3.0)
    out["appeal_withdrawn"] = cli(root, *appeal[:2], "b", *appeal[2:], "--reason", "复查评分", "--date", "2026-11-20")
    out["audit_before_no_secret"] = len(_audit(root))
    secret = register.secret_path(root)
    kept = secret.read_bytes()
    secret.unlink()  # lost in a move to a new machine, say
    remark(root, "a", 2.0)
    out["no_secret"] = cli(root, *results, "--date", "2026-12-01")
    out["no_secret_verify"] = cli(root, "certificate", "verify", out["codes"]["a"], "--on", "2026-12-01")
    out["decisions_without_secret"] = len(_audit(root))
    secret.write_bytes(kept)
    return out


def _certificates(root: Path) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    with store.existing(db_url(root)).connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(store.certificates).order_by(store.certificates.c.number))
                .mappings()]


def _audit(root: Path) -> list[Any]:
    from course.certification import audit

    return list(audit.entries(store.existing(db_url(root))).itertuples())


def verify(script: dict[str, Any], learner: str, on: str) -> register.Verification:
    root = script["root"]
    return register.verify(root, db_url(root), script["codes"][learner], dt.date.fromisoformat(on))


def test_the_imports_report_what_they_added(script: dict[str, Any]) -> None:
    root = script["root"]
    assert script["import-training"] == (0, [f"imported {root / 'training.csv'}: 6 training record(s) added, 6 in "
                                             f"{root / 'certification' / 'training.csv'}."])
    assert script["import-ratings"][0] == 0 and script["import-applicants"][0] == 0


def test_the_first_run_decides_issues_and_writes_the_outputs(script: dict[str, Any]) -> None:
    root = script["root"]
    folder = root / "certification" / "rounds" / "2026A" / "001"
    code, lines = script["run1"]
    assert code == 0
    assert lines == [
        "round 2026A, run 1 (papers L4-r1): 3 decision(s) recorded; 2 of 3 learner(s) certified.",
        "issued 2026A-0001 to a (岗位技能四级)",
        "issued 2026A-0002 to c (岗位技能四级)",
        f"The certificates link to {VERIFY_URL}",
        f"Notices: {folder / 'notices'} (3 PDF)",
        f"Results: {folder / 'results.xlsx'}",
        f"Certificates: {root / 'certificates'} (2 new PDF)",
    ]
    first = outputs.read_excel_results(folder / "results.xlsx")
    assert first[["学员编号", "理论", "技能", "结论", "原因"]].values.tolist() == [
        ["a", 100.0, 80.0, "通过", "全部条件达到"], ["b", 100.0, 50.0, "未通过", "技能成绩 50 低于合格线 60"],
        ["c", 100.0, 90.0, "通过", "全部条件达到"]]
    assert sorted(p.name for p in (root / "certificates").glob("*.pdf")) == ["2026A-0001.pdf", "2026A-0002.pdf",
                                                                           "2026A-0003.pdf", "2029A-0001.pdf"]


def test_the_register_entry_names_the_sitting_the_exam_and_the_validity(script: dict[str, Any]) -> None:
    first = _certificates(script["root"])[0]
    assert {k: first[k] for k in ("number", "learner", "name", "level", "round_id", "sitting", "exam_date",
                                  "issue_date", "valid_until", "renews")} == {
        "number": "2026A-0001", "learner": "a", "name": "张三", "level": "L4", "round_id": "2026A",
        "sitting": "L4-r1", "exam_date": "2026-10-20", "issue_date": "2026-11-01", "valid_until": "2029-10-31",
        "renews": None}


def test_a_notice_tells_the_learner_each_result_against_its_standard(script: dict[str, Any]) -> None:
    from pypdf import PdfReader

    text = PdfReader(script["root"] / "certification" / "rounds" / "2026A" / "001" / "notices" / "b.pdf"
                     ).pages[0].extract_text()
    for part in ("成绩通知单", "认证批次：2026A（2026年第一批）", "李四（b）", "30 学时（标准 30 学时）", "本科",
                 "100.0（合格线 60）", "50.0（合格线 60）", "未通过", "技能成绩 50 低于合格线 60",
                 "通知日期：2026-11-01"):
        assert part in text


def test_a_second_run_issues_nothing_new(script: dict[str, Any]) -> None:
    assert script["run2"] == (0, ["round 2026A: nothing changed since the last run; no decision, certificate or file "
                                  "written."])
    # a folder per run that decided something: 1, the re-decision and three appeals; none for the second run
    assert sorted(p.name for p in (script["root"] / "certification" / "rounds" / "2026A").iterdir()) == [
        "001", "002", "003", "004", "005"]
    assert [c["number"] for c in _certificates(script["root"]) if c["round_id"] == "2026A"] == [
        "2026A-0001", "2026A-0002", "2026A-0003"]  # one per learner, level and round, the appeal's included
    assert script["audit_after_run2"] == 3 + 3 + 5  # imports; key, round, paper; 3 decisions and 2 issues


def test_a_re_decision_that_withdraws_a_pass_revokes_the_certificate(script: dict[str, Any]) -> None:
    code, lines = script["run3"]
    assert (code, lines[:2]) == (0, ["round 2026A, run 2 (papers L4-r1): 1 decision(s) recorded; 1 of 3 learner(s) "
                                     "certified.", "revoked 2026A-0002: the pass it was issued on was withdrawn"])
    result = verify(script, "c", "2026-11-06")
    assert result.message == (f"验证码 {script['codes']['c']} 对应的证书已撤销（2026-11-05，原因：重新判定为未通过："
                              "技能成绩 40 低于合格线 60）：王五，岗位技能四级，证书编号 2026A-0002，2026-11-01 颁发，"
                              "有效期至 2029-10-31。")
    assert verify(script, "c", "2026-11-04").status == "有效"  # before the revocation


def test_an_appeal_turns_a_fail_into_a_pass_and_issues(script: dict[str, Any]) -> None:
    code, lines = script["appeal"]
    assert (code, lines[:3]) == (0, ["appeal of b in round 2026A: 改判为通过",
                                     "round 2026A, run 3 (papers L4-r1): 1 decision(s) recorded; 2 of 3 learner(s) "
                                     "certified.", "issued 2026A-0003 to b (岗位技能四级)"])
    import sqlalchemy as sa

    with store.existing(db_url(script["root"])).connect() as conn:
        appeal = conn.execute(sa.select(store.appeals).order_by(store.appeals.c.id)).mappings().first()
        after = conn.execute(sa.select(store.decisions).where(store.decisions.c.appeal_id == appeal["id"])
                             ).mappings().one()
        before = conn.execute(sa.select(store.decisions).where(store.decisions.c.id == appeal["decision_before"])
                              ).mappings().one()
    assert (appeal["learner"], appeal["reason"], appeal["outcome"]) == ("b", "申请复核案例分析评分", "改判为通过")
    assert (before["outcome"], after["outcome"], after["supersedes"]) == ("未通过", "通过", before["id"])
    assert json.loads(after["evidence"])["sitting"]["scores"][script["cases"]["b"]] == 7.0


def test_recertification_issues_a_new_certificate_linked_to_the_old_one(script: dict[str, Any]) -> None:
    code, lines = script["run5"]
    assert (code, lines[:2]) == (0, ["round 2029A, run 1 (papers L4-r2): 1 decision(s) recorded; 1 of 1 learner(s) "
                                     "certified.", "issued 2029A-0001 to a (岗位技能四级, renews 2026A-0001)"])
    renewal = _certificates(script["root"])[-1]
    assert (renewal["renews"], renewal["issue_date"], renewal["valid_until"], renewal["sitting"]) == (
        "2026A-0001", "2029-10-01", "2032-09-30", "L4-r2")
    assert verify(script, "a", "2029-10-02").renewed_by == ["2029A-0001"]


def test_expiry_on_a_given_date(script: dict[str, Any]) -> None:
    assert verify(script, "a", "2029-10-31").status == "有效"
    expired = verify(script, "a", "2029-11-01")
    assert expired.message == (f"验证码 {script['codes']['a']} 对应的证书已过期（有效期至 2029-10-31）："
                               "张三，岗位技能四级，"
                               "证书编号 2026A-0001，2026-11-01 颁发，有效期至 2029-10-31。")


def test_the_audit_command_lists_every_change_of_the_round_in_order(script: dict[str, Any]) -> None:
    code, lines = script["audit"]
    root, case = script["root"], script["cases"]
    assert code == 0 and lines[0] == "序号\t时间\t操作人\t操作\t批次/学员\t对象\t变更前 → 变更后"
    rows = [line.split("\t") for line in lines[1:-1]]
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    issue = f"有效期至=2029-10-31，核验地址={VERIFY_URL}，级别=岗位技能四级"
    passed, skills50 = "— → 原因=全部条件达到，结论=通过", "原因=技能成绩 50 低于合格线 60，结论=未通过"
    assert [r[3:] for r in rows] == [
        ["导入", "", "培训记录 training.csv", rows[0][6]],
        ["导入", "", "申报信息 applicants.csv", rows[1][6]],
        ["导入", "", "能力素质评定 ratings.csv", rows[2][6]],
        ["密钥", "", f"新建验证密钥 {register.secret_path(root)}", rows[3][6]],
        ["批次", "2026A", "新建认证批次 2026A", "— → 名称=2026年第一批"],
        ["批次", "2026A", "批次 2026A 计入试卷 L4-r1", "— → 试卷=L4-r1"],
        ["判定", "2026A a", "岗位技能四级 判定", passed],
        ["颁发", "2026A a", "证书 2026A-0001", f"— → {issue}"],
        ["判定", "2026A b", "岗位技能四级 判定", f"— → {skills50}"],
        ["判定", "2026A c", "岗位技能四级 判定", passed],
        ["颁发", "2026A c", "证书 2026A-0002", f"— → {issue}"],
        ["成绩变更", "2026A c", f"L4-r1-c {case['c']}", "9.0 → 4.0"],
        ["判定", "2026A c", "岗位技能四级 判定",
         "原因=全部条件达到，结论=通过 → 原因=技能成绩 40 低于合格线 60，结论=未通过"],
        ["撤销", "2026A c", "证书 2026A-0002",
         "状态=有效 → 原因=重新判定为未通过：技能成绩 40 低于合格线 60，日期=2026-11-05，状态=撤销"],
        ["成绩变更", "2026A b", f"L4-r1-b {case['b']}", "5.0 → 7.0"],
        ["复核", "2026A b", "复核申请：申请复核案例分析评分", "结论=未通过 → 复核结果=改判为通过，结论=通过"],
        ["判定", "2026A b", "岗位技能四级 判定", f"{skills50} → 原因=全部条件达到，结论=通过"],
        ["颁发", "2026A b", "证书 2026A-0003", f"— → 有效期至=2029-11-09，核验地址={VERIFY_URL}，级别=岗位技能四级"],
        ["批次", "2029A", "新建认证批次 2029A", "— → 名称=2029A"],
        ["批次", "2029A", "批次 2029A 计入试卷 L4-r2", "— → 试卷=L4-r2"],
        ["判定", "2029A a", "岗位技能四级 判定", passed],
        ["颁发", "2029A a", "证书 2029A-0001",
         f"— → 复审换发=2026A-0001，有效期至=2032-09-30，核验地址={VERIFY_URL}，级别=岗位技能四级"],
    ]
    assert lines[-1] == f"{len(rows)} entries."


def test_without_the_secret_a_round_stops_before_deciding_and_verification_says_why(script: dict[str, Any]) -> None:
    root = script["root"]
    code, lines = script["no_secret"]
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"Error: {register.secret_path(root)} is missing, but the register holds 4 "
                               "certificate(s) issued with key ")
    assert lines[0].endswith("restore the file from your backup (`course certificate verify` names the key a file "
                             "holds); nothing was issued. A new key is never made while certificates exist: every "
                             "earlier code would then read as altered")
    assert script["decisions_without_secret"] == script["audit_before_no_secret"]  # nothing recorded: a's 2.0 unseen
    assert script["no_secret_verify"] == (2, [
        f"无法核验验证码 {script['codes']['a']}：验证密钥 {register.secret_path(root)} 缺失。请从备份恢复该文件"
        "（不要新建密钥：新密钥无法核验已颁发的证书）。"])


# ---------------------------------------------------------------- what a manager, a learner and a client read
def test_the_outputs_name_the_exam_never_its_id(script: dict[str, Any]) -> None:
    """Do the results list, the notices and the certificates name the exam (四级认证考试), not paper L4-r1?"""
    import re

    from pypdf import PdfReader

    root = script["root"]
    first = outputs.read_excel_results(root / "certification" / "rounds" / "2026A" / "001" / "results.xlsx")
    assert first["计分考试"].tolist() == ["四级认证考试"] * 3
    texts = [PdfReader(p).pages[0].extract_text() for p in sorted((root / "certification" / "rounds").rglob("*.pdf"))]
    texts += [PdfReader(p).pages[0].extract_text() for p in sorted((root / "certificates").glob("*.pdf"))]
    assert len(texts) == 3 + 1 + 1 + 1 + 1 + 1 + 4  # notices of runs 1, 2, 3 (2026A), 1 (2029A), 4, 5; certificates
    assert [t for t in texts if re.search(r"L4-r\d", t)] == []
    assert "考试：四级认证考试" in PdfReader(root / "certificates" / "2026A-0001.pdf").pages[0].extract_text()


def test_a_notice_says_the_certificate_a_re_decision_revoked(script: dict[str, Any]) -> None:
    from pypdf import PdfReader

    text = PdfReader(script["root"] / "certification" / "rounds" / "2026A" / "002" / "notices" / "c.pdf"
                     ).pages[0].extract_text()
    assert "证书状态" in text and "证书 2026A-0002 已撤销（2026-11-05）" in text and "证书编号" not in text


def test_a_decision_names_the_training_records_and_the_imported_files_it_rests_on(script: dict[str, Any]) -> None:
    import sqlalchemy as sa

    root = script["root"]
    with store.existing(db_url(root)).connect() as conn:
        first = conn.execute(sa.select(store.decisions.c.evidence).where(store.decisions.c.learner == "a")
                             .order_by(store.decisions.c.id)).scalars().first()
    evidence = json.loads(first)
    assert evidence["training"] == [["面授一", 20.0, "2026-09-01"], ["面授二", 10.0, "2026-09-02"]]
    stored = {kind: root / "certification" / f"{kind}.csv" for kind in ("training", "applicants", "ratings")}
    assert evidence["inputs"] == {kind: hashlib.sha256(path.read_bytes()).hexdigest() for kind, path in stored.items()}


def test_a_rounds_audit_includes_the_imports_it_rests_on(script: dict[str, Any]) -> None:
    code, lines = script["audit_2026A"]
    rows = [line.split("\t") for line in lines[1:-1]]
    assert code == 0 and [r[3] for r in rows[:4]] == ["导入", "导入", "导入", "密钥"]
    assert [r[4].split(" ")[0] for r in rows] == [""] * 4 + ["2026A"] * (len(rows) - 4)
    assert len(rows) == 18 and lines[-1] == "18 entries."  # 22 in all, less the 4 of round 2029A


def test_an_appeal_that_changes_nothing_keeps_the_outcome_and_is_recorded(script: dict[str, Any]) -> None:
    code, lines = script["appeal_kept"]
    assert (code, lines[:2]) == (0, ["appeal of c in round 2026A: 维持原判定（未通过）",
                                     "round 2026A, run 4 (papers L4-r1): 1 decision(s) recorded; 2 of 3 learner(s) "
                                     "certified."])
    assert verify(script, "c", "2026-11-16").status == "撤销"  # still revoked, not issued again


def test_an_appeal_that_withdraws_a_pass_revokes_with_the_appeal_as_reason(script: dict[str, Any]) -> None:
    code, lines = script["appeal_withdrawn"]
    assert (code, lines[:3]) == (0, ["appeal of b in round 2026A: 改判为未通过",
                                     "round 2026A, run 5 (papers L4-r1): 1 decision(s) recorded; 1 of 3 learner(s) "
                                     "certified.", "revoked 2026A-0003: the pass it was issued on was withdrawn"])
    root = script["root"]
    with store.existing(db_url(root)).connect() as conn:
        code_b = register.certificate(conn, "2026A-0003")["code"]
    result = register.verify(root, db_url(root), code_b, dt.date(2026, 11, 21))
    assert (result.status, result.event and result.event["reason"]) == (
        "撤销", "复核后判定为未通过：技能成绩 30 低于合格线 60")


def test_the_audit_names_english_keys_in_chinese() -> None:
    import pandas as pd

    from course.certification import audit

    frame = pd.DataFrame([{"id": 1, "at": "t", "who": "w", "action": "sitting-reopen", "round_id": None,
                           "learner": "b", "subject": "L4-s-1", "before": '{"attempt": 1}',
                           "after": '{"attempt": 2, "reason": "断网", "until": null}'}])
    assert audit.render(frame) == ["1\tt\tw\t重开场次\tb\tL4-s-1\t次数=1 → 次数=2，原因=断网，截止=—"]
