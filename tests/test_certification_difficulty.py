"""Item difficulty estimates: priors, facility pulled towards them, score levels, storage, and the paper report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy
from typer.testing import CliRunner

from course.certification import difficulty as d
from course.certification.config import load_certification
from course.cli import app
from course.loader import load_course

CERT = Path(__file__).parent / "fixtures" / "cert"


def test_a_prior_curve_averages_its_mastery_facility_over_the_cohort() -> None:
    """A 掌握 item (prior 0.6) has a curve whose mean over N(0, 1) abilities is 0.6."""
    course = load_course(CERT)
    cert = load_certification(course)
    item = d.prior_estimate(course.questions[0], cert)
    theta = np.linspace(-8, 8, 16001)
    mean = float((item.expected(theta) * np.exp(-theta ** 2 / 2)).sum() / np.exp(-theta ** 2 / 2).sum())
    assert (item.source, item.n, item.a) == ("prior", 0, 1.7) and mean == pytest.approx(0.6, abs=1e-6)


def test_few_respondents_are_pulled_towards_the_prior_as_prior_weight_respondents() -> None:
    """10 respondents at facility 0.9 with a prior of 0.6 weighing 10: (10·0.9 + 10·0.6)/20 = 0.75."""
    course = load_course(CERT)
    cert = load_certification(course)
    q = course.questions[0]
    responses = pd.DataFrame({"respondent": [f"r{i}" for i in range(10)], "question": q.id,
                              "proportion": [1.0] * 9 + [0.0]})
    est = d.estimate([q], cert, responses, "2026-12-01T00:00:00+00:00")
    item = est.items[q.id]
    assert (item.source, item.n, item.facility, est.respondents) == ("facility", 10, 0.9, 10)
    assert item.b == (d.location_for(0.75, 1.7),)


def test_score_levels_with_few_respondents_merge_into_their_smaller_neighbour() -> None:
    """Levels 0 (×30), 0.5 (×4), 1 (×20): 0.5 has fewer than 10 and joins 1, worth (4·0.5 + 20)/24."""
    values = np.array([0.0] * 30 + [0.5] * 4 + [1.0] * 20)
    codes, levels = d._levels(values)
    assert levels == (0.0, pytest.approx(22.0 / 24)) and list(np.bincount(codes)) == [30, 24]


def test_responses_count_each_paper_sitting_as_its_own_respondent() -> None:
    grades = pd.DataFrame({"learner": ["a", "a", "a"], "chapter": ["ch01", "P-a", "ch01"],
                           "question": ["q1", "q1", "setup"], "max_score": [2.0, 2.0, 0.0],
                           "score": [1.0, 2.0, 0.0]})
    out = d.responses_from_grades(grades, {"P-a": "P"})
    assert out.to_dict("records") == [{"respondent": "a", "question": "q1", "proportion": 0.5},
                                      {"respondent": "a@P", "question": "q1", "proportion": 1.0}]


def test_estimates_are_stored_as_new_files_and_read_back(tmp_path: Path) -> None:
    course = load_course(CERT)
    cert = load_certification(course)
    est = d.priors(course.questions, cert)
    est = d.Estimates("2026-12-01T08:00:00+00:00", 0, "prior", est.items)
    first = d.write_estimates(tmp_path, est)
    second = d.write_estimates(tmp_path, est)
    assert (first.name, second.name) == ("20261201T080000Z.json", "20261201T080000Z-2.json")
    assert d.latest_estimates(tmp_path) == second
    (tmp_path / "papers" / "estimates" / "20261201T080000Z-3.json").write_text("{", encoding="utf-8")
    with pytest.raises(Exception, match=r"20261201T080000Z-3\.json: cannot be read as item estimates"):
        d.latest_estimates(tmp_path)


def test_paper_report_prints_the_blueprint_check_and_the_spread(tmp_path: Path) -> None:
    """Two variants drawn with priors: the report names them, the ability rows and the estimates' source."""
    runner = CliRunner()
    made = runner.invoke(app, ["paper", "create", "L4", "--paper", "L4-t", "--learner", "a", "--learner", "b",
                               "--content", str(CERT), "--root", str(tmp_path)])
    assert made.exit_code == 0, made.output
    data = json.loads((tmp_path / "papers" / "L4-t.json").read_text(encoding="utf-8"))
    report = runner.invoke(app, ["paper", "report", "L4-t", "--content", str(CERT), "--root", str(tmp_path)])
    assert report.exit_code == 0, report.output
    lines = report.output.splitlines()
    assert "全部 2 份试卷的各知识领域与各题型分值均与蓝图一致。" in lines
    assert "  题目难度估计：先验值（无作答数据）；容差 ±0.5 分（理论满分 20）" in lines
    zero = next(line for line in lines if line.startswith("   +0.0"))
    expected = [v["expected"][1] for v in data["variants"].values()]
    assert zero.split()[2] == f"{np.mean(expected):.1f}" and zero.split()[-1] == "2/2"
    # with priors only, a complete answer is the expected score: the second table repeats the first
    assert data["balance"]["measures"] == ["expected", "complete"]
    assert data["balance"]["solver"] == f"scipy {scipy.__version__} milp (HiGHS)"
    assert all(v["complete"] == v["expected"] for v in data["variants"].values())
    first, second = lines.index("  预期得分："), lines.index("  完整作答得分：")
    assert lines[first + 1:first + 5] == lines[second + 1:second + 5]
    assert lines[-1] == "  尚无已评分的作答：考试后再运行本报告可看到各组实际成绩。"


def simulated_cohort(ids: list[str], truth: dict[str, tuple[float, float]], theta: np.ndarray,
                     rng: np.random.Generator, kinds: dict[str, str]) -> pd.DataFrame:
    """Respondents × items answering by a 2PL P = expit(a(θ − b)): all-or-nothing items right with P; a
    multiple-choice item full credit with P, else half or none; a matching item of four pairs and options
    each pair right with P, else a blind guess (one in four)."""
    from scipy.special import expit

    rows = []
    for qid in ids:
        a, b = truth[qid]
        p = expit(a * (theta - b))
        knows = rng.random(len(theta)) < p
        if kinds.get(qid) == "multiple":
            share = np.where(knows, 1.0, rng.choice([0.0, 0.5], size=len(theta)))
        elif kinds.get(qid) == "matching":
            pairs = (rng.random((len(theta), 4)) < p[:, None]) | (rng.random((len(theta), 4)) < 0.25)
            share = pairs.mean(axis=1)
        else:
            share = knows.astype(float)
        rows += [{"respondent": f"r{i:03d}", "question": qid, "proportion": float(x)} for i, x in enumerate(share)]
    return pd.DataFrame(rows)


def test_the_graded_response_calibration_recovers_known_2pl_items() -> None:
    """Do 600 respondents of known ability give, for every item with ≥ 200, a `grm` estimate whose b is within
    0.3 and a within 35 % of the truth on the cohort's own scale (the estimates' scale is the cohort's mean
    and sd), with complete-answer curves for multiple choice and matching? An item all but 5 answer right
    (one score level once levels under 10 merge) keeps its facility."""
    from course import model as m

    course = load_course()
    cert = load_certification(course)
    singles = [q.id for q in course.questions if q.type == "single"][:9]
    multiple = next(q.id for q in course.questions if isinstance(q, m.MultipleChoice) and q.scoring == "partial")
    matching = next(q.id for q in course.questions if isinstance(q, m.Matching) and len(q.options) == 4
                    and len(q.answer) == 4)
    ids = [*singles, multiple, matching]
    rng = np.random.default_rng(26)
    theta = rng.normal(0, 1, 600)
    truth = {qid: (float(rng.uniform(1.0, 2.0)), float(rng.uniform(-1.0, 1.0))) for qid in ids}
    kinds = {multiple: "multiple", matching: "matching"}
    responses = simulated_cohort(ids, truth, theta, rng, kinds)
    easy = next(q.id for q in course.questions if q.type == "truefalse")
    responses = pd.concat([responses, pd.DataFrame({"respondent": [f"r{i:03d}" for i in range(600)],
                                                    "question": easy, "proportion": [1.0] * 595 + [0.0] * 5})])
    est = d.estimate([course.by_id[q] for q in [*ids, easy]], cert, responses, "2026-12-01T00:00:00+00:00")
    mu, sd = theta.mean(), theta.std()
    for qid in ids:
        item, (a, b) = est.items[qid], truth[qid]
        assert (item.source, item.n) == ("grm", 600), qid
        top = item.complete if kinds.get(qid) else (item.a, item.b[-1])
        assert top is not None and abs(top[1] - (b - mu) / sd) <= 0.3, (qid, top, (b - mu) / sd)
        assert abs(top[0] / (a * sd) - 1) <= 0.35, (qid, top, a * sd)
    assert est.items[matching].guess == 0.25
    assert (est.items[easy].source, est.items[easy].facility) == ("facility", 595 / 600)


def test_a_common_guessing_floor_is_found_where_the_profile_likelihood_peaks() -> None:
    """Two items whose full-credit rates at three abilities are exactly 0.2 + 0.8·expit(a(θ − b)) (shares as
    quasi-likelihood answers of respondents known to sit there): the floor that fits both is 0.2, and with it
    each item's own a and b come back."""
    from scipy.special import expit

    nodes = [12, 20, 28]
    theta = d._NODES[nodes]
    posterior = np.zeros((30, len(d._NODES)))
    for k, node in enumerate(nodes):
        posterior[10 * k:10 * (k + 1), node] = 1.0
    items = []
    for a, b in ((1.5, 0.0), (0.8, 1.0)):
        rate = 0.2 + 0.8 * expit(a * (theta - b))
        items.append((np.repeat(rate, 10), posterior, (1.0, 0.0)))
    floor = d.common_floor(items)
    assert floor == pytest.approx(0.2, abs=2e-3)
    fit = d._complete_curve(items[1][0], floor, posterior, (1.0, 0.0))
    assert fit is not None and fit == (pytest.approx(0.8, abs=0.02), pytest.approx(1.0, abs=0.02))
    # rates with no floor at all: the floor is 0, not a value inside the search interval
    bare = [(np.repeat(expit(1.5 * theta), 10), posterior, (1.0, 0.0))]
    assert d.common_floor(bare) == 0.0


def test_observed_thirds_put_the_expected_score_on_100_beside_the_observed() -> None:
    """Theory maximum 20; variants expected to score 10, 12 and 14 points (50, 60, 70 on 100) at θ = 0: the
    easiest third is the 70 one (its learner scored 75), the hardest the 50 one; c did not sit."""
    from course.certification.fairness import observed_by_group

    data = {"theory_max": 20, "variants": {x: {"expected": [e - 4, e, e + 4]} for x, e in
                                           (("a", 12.0), ("b", 14.0), ("c", 10.0))}}
    table = observed_by_group(data, {"a": 65.0, "b": 75.0}, 1)
    assert table.to_dict("records") == [
        {"group": "较易的三分之一", "variants": 1, "expected": 70.0, "sat": 1, "observed": 75.0},
        {"group": "中间的三分之一", "variants": 1, "expected": 60.0, "sat": 1, "observed": 65.0},
        {"group": "较难的三分之一", "variants": 1, "expected": 50.0, "sat": 0, "observed": pytest.approx(np.nan,
                                                                                                nan_ok=True)}]
