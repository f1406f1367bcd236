"""A whole certification round through real nbgrader, and the certification commands."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from course.certification import demo_round, manifest, outputs
from course.cli import app
from tests.conftest import CourseDir, make_course_dir

CERT = Path(__file__).parent / "fixtures" / "cert"
ROSTER = ("learner_id,name,region,department,target_level\n"
          "s1,张三,华东,政企客户部,L4\ns2,李四,华南,行业拓展部,L4\ns3,王五,华东,政企客户部,L1\n")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[CourseDir, object]:
    cd = make_course_dir(tmp_path_factory.mktemp("round") / "course", CERT)
    (cd.root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return cd, demo_round(cd.root, cd.course, progress=False)


def test_the_demo_round_writes_the_results_list_and_certificates(demo: tuple[CourseDir, object]) -> None:
    cd, result = demo
    assert result.excel == cd.root / "certification" / "rounds" / "demo" / "001" / "results.xlsx"  # type: ignore
    assert result.certificates_dir == cd.root / "certificates"  # type: ignore[attr-defined]
    frame = outputs.read_excel_results(result.excel)  # type: ignore[attr-defined]
    assert list(frame["学员编号"]) == ["s1", "s2", "s3"]
    pdfs = sorted(p.name for p in result.certificates_dir.glob("*.pdf"))  # type: ignore[attr-defined]
    assert len(pdfs) == result.certified == int((frame["结论"] == "通过").sum())  # type: ignore[attr-defined]
    assert result.certified >= 1  # type: ignore[attr-defined]


def test_paper_scores_reach_the_results_through_the_gradebook(demo: tuple[CourseDir, object]) -> None:
    """Every submitted paper is graded by nbgrader: theory and skills on 100 from its variant's cells."""
    cd, _ = demo
    rnd = outputs.load_round(cd.root, cd.course)
    scored = rnd.results.dropna(subset=["理论"])
    assert len(scored) >= 2
    assert scored["理论"].between(0, 100).all() and scored["技能"].between(0, 100).all()
    manifests = manifest.manifests(cd.root)
    assert [m["paper"] for m in manifests] == ["L1-demo", "L4-demo"]


def test_running_the_demo_round_again_changes_nothing(demo: tuple[CourseDir, object]) -> None:
    cd, _ = demo
    result = CliRunner().invoke(app, ["certify", "results", "--round", "demo", "--root", str(cd.root),
                                      "--content", str(CERT), "--local-link"])
    assert (result.exit_code, result.output) == (
        0, "round demo: nothing changed since the last run; no decision, certificate or file written.\n")


@pytest.mark.parametrize(("url", "message"), [
    (None, "Error: the verification address is not set: set COURSE_VERIFY_URL to the public address of the office's "
           "verification page (e.g. https://cert.example.cn/services/certificates/; `course hub` serves the page at "
           "/services/certificates/), or pass --local-link to link to this machine's hub "
           "(http://127.0.0.1:8000/services/certificates/, for a demonstration only); nothing was decided, issued or "
           "drawn\n"),
    ("cert.example.cn/verify", "Error: COURSE_VERIFY_URL 'cert.example.cn/verify' is not a web address: write it as "
                               "https://<host>/<path>/; nothing was decided, issued or drawn\n")])
def test_without_the_verification_address_nothing_is_decided(demo: tuple[CourseDir, object], url: str | None,
                                                             message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a round refuse to run (and so to issue) when the certificates would link to no address, or to no web
    address, instead of a guessed one?"""
    cd, _ = demo
    monkeypatch.delenv("COURSE_VERIFY_URL", raising=False)
    if url:
        monkeypatch.setenv("COURSE_VERIFY_URL", url)
    for command in (["certify", "results", "--round", "demo2"], ["certify", "appeal", "x", "--round", "demo",
                                                                 "--reason", "r"], ["certificate", "draw", "--all"]):
        result = CliRunner().invoke(app, [*command, "--root", str(cd.root), "--content", str(CERT)])
        assert (result.exit_code, result.output) == (1, message), command
    from course.certification import audit, store

    assert "demo2" not in set(audit.entries(store.existing(store.course_url(cd.root)))["round_id"])


def test_certify_results_needs_a_round_id(demo: tuple[CourseDir, object]) -> None:
    cd, _ = demo
    result = CliRunner().invoke(app, ["certify", "results", "--round", "bad id", "--root", str(cd.root),
                                      "--content", str(CERT), "--local-link"])
    assert (result.exit_code, result.output) == (1, "Error: round id 'bad id' may hold only letters, digits, _ and "
                                                    "single hyphens, at most 64 characters (e.g. 2026A)\n")


def test_certificate_verify_command(demo: tuple[CourseDir, object]) -> None:
    import sqlalchemy as sa

    from course.certification import store

    cd, _ = demo
    with store.existing(store.course_url(cd.root)).connect() as conn:
        registry = [dict(r) for r in conn.execute(sa.select(store.certificates)).mappings()]
    assert registry
    runner = CliRunner()
    for record in registry:
        ok = runner.invoke(app, ["certificate", "verify", record["code"], "--root", str(cd.root)])
        assert ok.exit_code == 0 and record["name"] in ok.output
    bad = runner.invoke(app, ["certificate", "verify", "AAAA-BBBB-CCCC-DDDD-EEEE", "--root", str(cd.root)])
    assert bad.exit_code == 1 and "无效" in bad.output


def test_paper_create_command_prints_the_blueprint_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["paper", "create", "L4", "--paper", "L4-t", "--learner", "a", "--learner", "b",
                                      "--content", str(CERT), "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "  电信基础知识: 14 / 14 ✓  " in result.output and "  法律知识: 6 / 6 ✓  " in result.output
    assert "  题型分值：单选题 8 / 8 ✓，判断题 12 / 12 ✓" in result.output
    assert (tmp_path / "source" / "L4-t-b" / "L4-t-b.ipynb").exists()


def test_paper_create_prints_every_variant_outside_the_tolerance(tmp_path: Path) -> None:
    """Cases expected to score 2, 8 and 8 of 10: the skills target is 10 × (0.2 + 0.8 + 0.8)/3 = 6, each case is
    4 or 2 points off (tolerance 1), so every variant takes a closest case, 2.00 off, and create says so."""
    from course.certification import difficulty as d

    def flat(share: float) -> d.ItemEstimate:
        return d.ItemEstimate("facility", 40, share, 1.7, (0.0,), (share, share))

    d.write_estimates(tmp_path, d.Estimates("2026-12-01T00:00:00+00:00", 40, "facility", {
        "ch01-038": flat(0.2), "ch01-039": flat(0.8), "ch01-040": flat(0.8)}))
    result = CliRunner().invoke(app, ["paper", "create", "L4", "--paper", "L4-t", "--learner", "a", "--learner", "b",
                                      "--content", str(CERT), "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [x for x in lines if "from its target" in x] == [
        f"{x}: the skills part's expected score is 2.00 points from its target (tolerance 1); the level's case "
        "questions differ too much in difficulty" for x in ("a", "b")]
    assert ("2 of 2 variant(s) outside the balancing tolerance (see above): add items to the cells named, or run "
            "`course paper estimate` on more graded answers.") in lines


def test_paper_create_refusal_is_an_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["paper", "create", "L4", "--paper", "bad id", "--learner", "a",
                                      "--content", str(CERT), "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "Error: paper id 'bad id' may hold only letters, digits, _ and single hyphens (e.g. L3-2026a)" in (
        result.output)


def test_import_training_command_reports_bad_rows(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("learner_id,course,hours,date\na,面授,x,2026-01-01\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["certify", "import-training", str(csv), "--allow-new", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == f"Error: {csv}: row 2, column hours: 'x' is not a number: write e.g. 4 or 2.5\n"


def test_rating_notebook_command_writes_a_form_notebook(tmp_path: Path) -> None:
    import nbformat

    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "ratings.ipynb"
    result = CliRunner().invoke(app, ["certify", "rating-notebook", "--roster", str(tmp_path / "roster.csv"),
                                      "--out", str(out), "--content", str(CERT), "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "rating_form(" in nbformat.read(out, as_version=4).cells[1].source


def test_the_rating_form_saves_through_the_csv_import(tmp_path: Path) -> None:
    from course.certification.rating_widgets import rating_form

    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    form = rating_form(tmp_path, tmp_path / "roster.csv", CERT)
    rater, accordion, save, status = form.children[1:]
    accordion.children[0].children[0].value = "中级"  # s1, 成就导向
    save.click()
    assert status.value == "请先填写评定人。"
    rater.value = "李经理"
    save.click()
    assert status.value == "已保存 1 条评定（共 1 条）。"
    stored = pd.read_csv(tmp_path / "certification" / "ratings.csv")
    assert stored.to_dict("records") == [{"learner_id": "s1", "competency": "achievement", "level": "intermediate",
                                          "rater": "李经理"}]


def test_the_manager_notebook_renders_the_results(demo: tuple[CourseDir, object], tmp_path: Path) -> None:
    from course.report import ANALYTICS, parameters, render

    cd, _ = demo
    params = {"course_root": str(cd.root), **parameters(content=str(CERT), roster_csv=str(cd.root / "roster.csv"))}
    html = render(ANALYTICS / "05_certification.ipynb", tmp_path, params).read_text(encoding="utf-8")
    assert "认证结果" in html and "张三" in html and "按各自目标级别" in html
    assert "Traceback" not in html
    # the certification section: where the estimates came from, and the observed score of each third
    assert "题目难度估计的来源" in html and "先验值（按掌握程度）" in html and "较难的三分之一" in html
    # the full list goes to a CSV beside the page (the page shows at most PAGE_ROWS learners)
    listed = pd.read_csv(tmp_path / "认证结果.csv", dtype={"学员编号": str}, encoding="utf-8-sig")
    assert "张三" in set(listed["姓名"]) and len(listed) == len(pd.read_csv(cd.root / "roster.csv"))


def test_the_manager_notebook_says_why_there_is_nothing_to_show(tmp_path: Path) -> None:
    import shutil

    from course.certification.outputs import manager_view

    bare = tmp_path / "content"
    shutil.copytree(CERT, bare)
    (bare / "certification.yaml").unlink()
    assert manager_view(tmp_path, content=bare) == "本课程未配置认证设置，没有认证结果。"
    assert manager_view(tmp_path, content=CERT) == ("没有学员名册（含每名学员的目标级别），无法判定认证结果："
                                                    "请讲师导入学员名册后重新生成报告。")


def test_every_certification_command_is_in_the_readme() -> None:
    """Is each certify/certificate subcommand named in the README's reference and in its certification section?"""
    import re

    from course.cli import certificate_app, certify_app

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    reference = readme[readme.index("## Command reference"):]
    for group, typer_app in (("certify", certify_app), ("certificate", certificate_app)):
        for command in typer_app.registered_commands:
            assert re.search(rf"`course {group} [^`]*{command.name}`|/ `{command.name}`", reference), command.name
            assert f"course {group} {command.name}" in readme or f"{command.name}|" in readme, command.name


def test_the_certification_page_tables_put_expected_and_observed_on_100(demo: tuple[CourseDir, object]) -> None:
    """The fixture's theory maximum is 20: a variant expected to score e points at θ = 0 shows e × 5 beside the
    learner's theory score on 100; the estimate sources name the priors the demo papers were balanced with."""
    from course.analytics.frames import read_grades
    from course.certification.decisions import sitting_scores
    from course.certification.fairness import page_tables
    from course.nbconfig import course_config, db_url

    cd, _ = demo
    fair = page_tables(cd.root, content=CERT)
    assert not isinstance(fair, str)
    data = manifest.read_manifest(manifest.manifest_path(cd.root, "L4-demo"))
    assert data["theory_max"] == 20
    grades = read_grades(db_url(cd.root), course_config(cd.root).CourseDirectory.course_id)
    theory = sitting_scores([data], grades).set_index("learner")["theory"]
    name = outputs.paper_names(cd.course, manifest.manifests(cd.root))["L4-demo"]
    rows = fair.observed[fair.observed["试卷"] == name]
    # two variants (ranked from the highest expected score, ties in the manifest's order) fill the middle and
    # the hardest third: each shows its expected score on 100 beside its learner's theory score
    assert list(rows["分组（按θ=0预期得分）"]) == ["较易的三分之一", "中间的三分之一", "较难的三分之一"]
    assert list(rows["份数"]) == [0, 1, 1]
    pairs = {(round(v["expected"][1] * 5, 6), theory[x]) for x, v in data["variants"].items()}
    shown = {(round(e, 6), o) for e, o in zip(rows["预期"].iloc[1:], rows["实际平均"].iloc[1:], strict=True)}
    assert {p for p in shown if pd.notna(p[1])} == {p for p in pairs if pd.notna(p[1])}
    expected = [v["expected"][1] * 5 for v in data["variants"].values()]
    balance = fair.balance[(fair.balance["试卷"] == name) & (fair.balance["指标"] == "预期得分")
                           & (fair.balance["能力θ"] == 0)]
    assert balance["平均"].iloc[0] == pytest.approx(sum(expected) / 2)
    assert set(fair.sources["估计来源"]) == {"先验值（按掌握程度）"}
    assert set(fair.sources["数据截至"]) == {"无作答数据"}


def test_paper_estimate_reads_the_papers_of_the_gradebook_and_writes_a_new_file(
        demo: tuple[CourseDir, object]) -> None:
    """After the demo round the gradebook holds only paper answers: each sitting is a respondent (learner@paper),
    each item answered in a sitting gets its facility (far under 200 respondents: no calibration), the rest
    their priors; the file written is the newest estimates and names every item."""
    import json

    from course.analytics.frames import read_grades
    from course.certification.difficulty import estimates_dir, latest_estimates
    from course.nbconfig import course_config, db_url

    cd, _ = demo
    grades = read_grades(db_url(cd.root), course_config(cd.root).CourseDirectory.course_id)
    graded = grades[grades["score"].notna() & (grades["max_score"] > 0) & (grades["question"] != "setup")]
    sittings = graded[["learner", "chapter"]].drop_duplicates()
    answered = set(graded["question"].astype(str))
    result = CliRunner().invoke(app, ["paper", "estimate", "--content", str(CERT), "--root", str(cd.root)])
    assert result.exit_code == 0, result.output
    est = latest_estimates(cd.root)
    assert est is not None
    first, second = result.output.splitlines()
    assert first == (f"题目难度估计（{len(sittings)} 名作答者，数据截至 {est.as_of}）：等级反应模型标定 0 题，"
                     f"得分率 {len(answered)} 题，先验值 {len(cd.course.questions) - len(answered)} 题。")
    assert second == f"written papers/estimates/{est.name}; `course paper create` balances new papers with it."
    stored = json.loads((estimates_dir(cd.root) / est.name).read_text(encoding="utf-8"))
    assert stored["respondents"] == len(sittings) and set(stored["items"]) == {q.id for q in cd.course.questions}
    assert {k for k, v in stored["items"].items() if v["source"] == "facility"} == answered
