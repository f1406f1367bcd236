"""Does every rule of the item-writing-flaw linter flag its flawed item, with the exact words, and pass a good one?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from course import model as m
from course.bank.lint import (
    RULES,
    Context,
    Flag,
    check_item,
    elements,
    key_count_findings,
    key_count_groups,
    key_count_share,
    keys_in_other_items,
    labelled,
    markers,
    unlabelled_terms,
)

_QUESTION: TypeAdapter[m.Question] = TypeAdapter(m.Question)
HISTORY = Context(historical=(m.HistoricalTerm(term="小灵通", note="已退网"),
                              m.HistoricalTerm(term="合同法", note="已废止")))


def item(kind: str, **fields: Any) -> m.Question:
    common = {"id": "ch01-001", "section": "s", "mastery": "了解", "stem": "题干（ ）。", "explanation": "解析。",
              "provenance": {"source": "general"}, "points": 2, "type": kind}
    return _QUESTION.validate_python({**common, **fields})


def flags(q: m.Question, rule: str, ctx: Context | None = None) -> list[Flag]:
    return [f for r, f in check_item(q, ctx) if r == rule]


# ---------------------------------------------------------------- one bad and one good item per rule
# rule id -> (flawed item, its one flag's English and Chinese detail and whether it is a cue, a good item)
CASES: dict[str, tuple[m.Question, tuple[str, str, bool], m.Question]] = {
    "longest-key": (
        item("single", stem="PON中“无源”的含义是（ ）。",
             options={"A": "光分配网中没有有源电子设备，只用无源分光器", "B": "用户终端不需要供电",
                      "C": "局端设备不需要供电", "D": "分光器由局端供电"}, answer="A"),
        ("the key has at least 21 characters, the longest distractor 9", "正确项至少 21 字，最长的干扰项 9 字", True),
        item("single", stem="PON中“无源”的含义是（ ）。",
             options={"A": "光分配网中只用无源器件", "B": "用户终端无需外接电源", "C": "局端OLT不用电",
                      "D": "分光器由局端远程供电"}, answer="A"),
    ),
    "marked-options": (
        item("multiple", stem="拜访前适宜准备的有（ ）。",
             options={"A": "产品宣传资料", "B": "行业成功案例", "C": "只带报价单", "D": "竞争对手的私人联系方式"},
             answer=["A", "B"]),
        ("distractors marked by give-away words: “只带报价单”（只）、“竞争对手的私人联系方式”（私人）",
         "干扰项带有提示性的词：“只带报价单”（只）、“竞争对手的私人联系方式”（私人）", True),
        item("multiple", stem="拜访前适宜准备的有（ ）。",
             options={"A": "产品宣传资料", "B": "行业成功案例", "C": "上季度的全省资费目录", "D": "竞争对手的报价单"},
             answer=["A", "B"]),
    ),
    "stem-echo": (
        item("single", stem="客户积分回馈计划的主要作用是（ ）。",
             options={"A": "按消费累积积分并给予回馈", "B": "提高资费", "C": "减少客服人员", "D": "统计话务量"},
             answer="A"),
        ("the key shares 2 character pairs with the stem, no distractor more than 0",
         "正确项与题干有 2 个相同的双字组合，干扰项最多 0 个", True),
        item("single", stem="客户积分回馈计划的主要作用是（ ）。",
             options={"A": "提高客户忠诚度", "B": "提高资费水平", "C": "减少客服人员", "D": "统计话务量"},
             answer="A"),
    ),
    "absolute-truefalse": (
        item("truefalse", stem="售后回访只需在客户投诉时进行。", answer=False),
        ("the statement says 只 and is keyed false", "题干含绝对词“只”，答案为错", True),
        item("truefalse", stem="售后回访应在客户投诉时进行，平时不安排回访。", answer=False),
    ),
    "key-count": (
        item("multiple", options={"A": "甲", "B": "乙", "C": "丙", "D": "丁", "E": "戊"}, answer=["A", "B", "C"]),
        ("3 keys but 2 wrong option(s)", "正确项 3 个，错误项只有 2 个", False),
        item("multiple", options={"A": "甲", "B": "乙", "C": "丙", "D": "丁", "E": "戊"}, answer=["A", "B"]),
    ),
    "explanation-absent-option": (
        item("multiple", stem="品牌识别的基本要素有（ ）。",
             options={"A": "品牌名称", "B": "品牌标识", "C": "企业组织架构", "D": "产品资费标准"}, answer=["A", "B"],
             explanation="名称和标识构成品牌识别；注册资本是企业的财务信息，不是品牌要素。"),
        ("the explanation refutes “注册资本”, which is in no option",
         "解析否定了“注册资本”，但没有哪个选项是它", False),
        item("multiple", stem="品牌识别的基本要素有（ ）。",
             options={"A": "品牌名称", "B": "品牌标识", "C": "企业组织架构", "D": "产品资费标准"}, answer=["A", "B"],
             explanation="名称和标识构成品牌识别；企业组织架构不是品牌要素，资费标准也不属于品牌识别。"),
    ),
    "historical-unlabelled": (
        item("single", stem="小灵通的发射功率仅为移动手机的（ ）。",
             options={"A": "1/100", "B": "1/5", "C": "1/10", "D": "1/50"}, answer="A"),
        ("mentions 小灵通 without the label 历史", "含有过时内容 小灵通（已退网），题干却没有“历史”标注", False),
        item("single", stem="（历史考题）小灵通的发射功率仅为移动手机的（ ）。",
             options={"A": "1/100", "B": "1/5", "C": "1/10", "D": "1/50"}, answer="A"),
    ),
    "blank-unit": (
        item("blank", stem="用户申诉应在____天内答复。", blanks=[["20", "二十"]]),
        ("blank 1 is followed by 天 but refuses “20天”", "第1空后面印有“天”，却不接受“20天”", False),
        item("blank", stem="用户申诉应在____天内答复。", blanks=[["20", "二十", "20天"]]),
    ),
    "rubric-levels": (
        item("case", points=4, rubric=[{"criterion": "判断客户类型", "points": 4}]),
        ("criterion 1 has no partial-credit level", "第1条评分要点没有说明怎样得部分分", False),
        item("case", points=4, rubric=[{"criterion": "判断客户类型", "points": 4, "levels": [
            {"points": 4, "descriptor": "判断正确并说明依据"}, {"points": 2, "descriptor": "判断正确但没有依据"}]}]),
    ),
}


# rules that read a chapter, not one item: their bad and good examples are chapters (tests below)
CHAPTER_RULES = {"key-in-other-item"}


def test_every_rule_has_a_bad_and_a_good_example() -> None:
    """Is each rule of the table covered by a failing and a passing item (or chapter)?"""
    assert set(CASES) | CHAPTER_RULES == {r.id for r in RULES}


@pytest.mark.parametrize("rule", list(CASES))
def test_rule_flags_the_flawed_item_with_its_words(rule: str) -> None:
    """Does the rule flag the flawed item once, in English and Chinese, and say whether it gives the key away?"""
    bad, (en, zh, cue), _ = CASES[rule]
    assert [(f.en, f.zh, f.cue) for f in flags(bad, rule, HISTORY)] == [(en, zh, cue)]


@pytest.mark.parametrize("rule", list(CASES))
def test_rule_passes_the_revised_item(rule: str) -> None:
    """Does the revised item pass every rule, not only this one?"""
    _, _, good = CASES[rule]
    assert check_item(good, HISTORY) == []


# ---------------------------------------------------------------- the rules' edges
def test_longest_key_needs_both_the_ratio_and_the_characters() -> None:
    """Is a key 1.25 times as long but only 1 character longer (1/100 against 1/10) left alone?"""
    q = item("single", options={"A": "1/100", "B": "1/5", "C": "1/10", "D": "1/50"}, answer="A")
    assert flags(q, "longest-key") == []
    q = item("single", options={"A": "甲乙丙丁戊", "B": "甲乙丙丁", "C": "甲", "D": "乙"}, answer="A")
    assert flags(q, "longest-key") == []  # 5 against 4 characters: 1.25 times, 1 more


def test_longest_key_of_a_multiple_choice_item_needs_every_key_longer() -> None:
    """Are multiple-choice keys flagged only when each of them outlasts every distractor by the margin?"""
    options = {"A": "一二三四五六七八", "B": "一二三四五六七八九", "C": "一二三", "D": "一二三四五"}
    assert [f.en for f in flags(item("multiple", options=options, answer=["A", "B"]), "longest-key")] == [
        "every key has at least 8 characters, the longest distractor 5"]
    options["D"] = "一二三四五六七"
    assert flags(item("multiple", options=options, answer=["A", "B"]), "longest-key") == []


def test_markers_are_not_counted_when_negated_or_part_of_not_only() -> None:
    """Do 不夸大, 避免贬低, 不仅, 不一定, 一定程度, 逐一定价 and 一只 carry no marker, while 不必, 只需 and
    一定会 do?"""
    assert markers("如实介绍，不夸大产品性能", ("夸大",)) == []
    assert markers("避免贬低竞争对手", ("贬低",)) == []
    assert markers("不仅要听，还要问；而不是只按技术分类", ("只", "仅")) == []
    assert markers("结果不一定立竿见影", ("一定",)) == []
    assert markers("在一定程度上有效；由监管机构逐一定价", ("一定",)) == []
    assert markers("客户一定会接受", ("一定",)) == ["一定"]
    assert markers("找出问题的根本原因", ("根本",)) == []
    assert markers("防火墙根本无法防御内部违规", ("根本",)) == ["根本"]
    assert markers("购买服务一般不转移所有权；生产资料所有制", ("所有",)) == []
    assert markers("介绍所有产品", ("所有",)) == ["所有"]
    assert markers("桌上有一只杯子", ("只",)) == []
    assert markers("只需登记问题，不必跟踪", ("只", "不必")) == ["只", "不必"]


def test_unethical_keys_in_a_negative_stem_are_flagged() -> None:
    """When only the keys describe misconduct (下列禁止的行为有), is that a give-away too?"""
    q = item("multiple", stem="招标投标法禁止的行为有（ ）。",
             options={"A": "投标人相互串通投标报价", "B": "向评标委员会成员行贿", "C": "在截止时间前补充投标文件",
                      "D": "两个以上法人组成联合体投标"}, answer=["A", "B"])
    assert [(f.en, f.cue) for f in flags(q, "marked-options")] == [
        ("only keys describe misconduct: “投标人相互串通投标报价”（串通）、“向评标委员会成员行贿”（行贿）", True)]


def test_marked_distractors_are_a_cue_only_when_removing_them_leaves_the_keys() -> None:
    """Is one marked distractor of three flagged but not counted as giving the key away?"""
    q = item("single", options={"A": "结合卫星与基站辅助定位", "B": "只依靠基站定位", "C": "依靠Wi-Fi热点定位",
                                "D": "依靠北斗短报文定位"}, answer="A")
    assert [(f.en, f.cue) for f in flags(q, "marked-options")] == [
        ("distractors marked by give-away words: “只依靠基站定位”（只）", False)]


def test_matching_names_that_pair_half_the_prompts_are_flagged() -> None:
    """Do 物流运输公司→物流e通, 公交公司→公交e通 and 供电企业→电能信息采集 give 3 of 4 pairs away (公安机关→警务e通
    shares no character), and do options without the prompts' characters give none?"""
    q = item("matching", prompts={"1": "物流运输公司", "2": "公交公司", "3": "公安机关", "4": "供电企业"},
             options={"A": "物流e通", "B": "公交e通", "C": "警务e通", "D": "电能信息采集", "E": "数字医院"},
             answer={"1": "A", "2": "B", "3": "C", "4": "D"})
    assert [f.en for f in flags(q, "stem-echo")] == [
        "3 of 4 pairs share a name no other option shares: "
        "物流运输公司→物流e通、公交公司→公交e通、供电企业→电能信息采集"]
    q = item("matching", prompts={"1": "物流运输公司", "2": "公安机关", "3": "供电企业", "4": "环境保护部门"},
             options={"A": "车辆调度与在途跟踪", "B": "警务e通", "C": "远程抄表与负荷监测", "D": "污染源在线监测",
                      "E": "数字医院"}, answer={"1": "A", "2": "B", "3": "C", "4": "D"})
    assert flags(q, "stem-echo") == []


RIGHTS = {"A": "人身、财产安全不受损害的权利", "B": "知悉商品或服务真实情况的权利", "C": "自主选择商品或者服务的权利",
          "D": "公平交易的权利", "E": "拒绝支付已使用服务费用的权利", "F": "查阅经营者商业秘密的权利"}
PROMOTION = {"A": "广告", "B": "人员推销", "C": "营业推广（销售促进）", "D": "公共关系", "E": "产品定价",
             "F": "渠道建设"}


@pytest.mark.parametrize(("stem", "options", "explanation", "en"), [
    ("根据《消费者权益保护法》，消费者依法享有的权利包括（ ）。", RIGHTS,
     "消费者依法享有安全保障权、知悉真情权、自主选择权、公平交易权、依法求偿权等权利；法律并未赋予消费者要求无条件降价的权利。",
     "the explanation refutes “消费者要求无条件降价”, which is in no option"),
    ("促销组合的基本构成要素包括（ ）。", PROMOTION,
     "促销组合由广告、人员推销、营业推广和公共关系构成；面向政企客户时，人员推销尤为重要。产品研发属于产品策略。",
     "the explanation files “产品研发”, which is in no option"),
], ids=["jc04-009", "jc07-026"])
def test_an_explanation_denying_a_right_or_filing_an_option_elsewhere_is_read(
        stem: str, options: dict[str, str], explanation: str, en: str) -> None:
    """Are issue 22's jc04-009 (法律并未赋予…无条件降价) and jc07-026 (产品研发属于产品策略), as they were before
    the revision, flagged for refuting an option that no longer exists?"""
    q = item("multiple", stem=stem, options=options, answer=["A", "B", "C", "D"], explanation=explanation)
    assert [f.en for f in flags(q, "explanation-absent-option")] == [en]


@pytest.mark.parametrize(("options", "explanation"), [
    ({**RIGHTS, "G": "要求经营者无条件降价的权利"},
     "消费者依法享有安全保障权等权利。商业秘密受法律保护，消费者无权查阅；法律也没有赋予消费者要求无条件降价的权利。"),
    ({**PROMOTION, "F": "产品研发"},
     "促销组合由广告、人员推销、营业推广和公共关系构成。产品定价属于价格策略，产品研发属于产品策略。"),
    (PROMOTION, "促销组合由广告、人员推销、营业推广和公共关系构成。其中人员推销属于面对面的沟通，题干没有体现这一点。"),
])
def test_an_explanation_denying_or_filing_only_present_options_passes(options: dict[str, str],
                                                                      explanation: str) -> None:
    """With the refuted option present, or a classification of what the first sentence names, or 没有 describing
    the stem, is nothing flagged?"""
    q = item("multiple", stem="题干（ ）。", options=options, answer=["A", "B"], explanation=explanation)
    assert flags(q, "explanation-absent-option") == []


def test_a_matching_explanation_filing_each_prompt_is_not_a_refutation() -> None:
    """In matching, “X属于Y” pairs a prompt with its option: is it left alone?"""
    q = item("matching", stem="请判断下列客户各属于哪一类。", prompts={"1": "某省公安厅", "2": "某连锁超市集团"},
             options={"A": "重要客户", "B": "集团客户", "C": "高值客户"}, answer={"1": "A", "2": "B"},
             explanation="党、政、军部门等属于重要客户；由一个单位统一租用网络的同系统单位群体属于集团客户。")
    assert flags(q, "explanation-absent-option") == []


def test_history_in_the_running_text_is_no_label() -> None:
    """A stem telling the company's 发展历史 next to 小灵通 is not labelled; （历史考题） at the start and a note
    after the term (互联星空（已停止使用的历史品牌）) are?"""
    bad = item("single", stem="回顾公司的发展历史，小灵通的发射功率仅为移动手机的（ ）。",
               options={"A": "1/100", "B": "1/5", "C": "1/10", "D": "1/50"}, answer="A")
    assert [f.en for f in flags(bad, "historical-unlabelled", HISTORY)] == ["mentions 小灵通 without the label 历史"]
    assert not labelled("回顾公司的发展历史，小灵通的发射功率", "历史")
    assert labelled("（历史考题）小灵通的发射功率", "历史")
    assert labelled("互联星空（已停止使用的历史品牌）属于客户品牌。", "历史")
    assert labelled("(历史数据)注册资本", "历史")


def test_historical_terms_after_yuan_are_labelled() -> None:
    """Does 原《合同法》 label the term, while a second, bare 合同法 in an option does not?"""
    terms = HISTORY.historical
    assert unlabelled_terms("按照原《合同法》的规定", terms, "原") == []
    assert [h.term for h in unlabelled_terms("原《合同法》与《合同法》实施条例", terms, "原")] == ["合同法"]
    q = item("single", stem="按照原《合同法》，要约可以（ ）。",
             options={"A": "撤回", "B": "依《合同法》撤销", "C": "转让", "D": "质押"}, answer="A")
    assert [f.en for f in flags(q, "historical-unlabelled", HISTORY)] == ["mentions 合同法 without the label 历史"]


def test_a_current_word_holding_a_historical_term_is_not_flagged() -> None:
    """Is 网通 inside 一网通办 (listed in except_in) left alone, while 网通 on its own is still found?"""
    terms = (m.HistoricalTerm(term="网通", note="已并入中国联通", except_in=["一网通办"]),)
    assert unlabelled_terms("区政府正在推进“一网通办”", terms, "原") == []
    assert [h.term for h in unlabelled_terms("推进一网通办，对手是网通", terms, "原")] == ["网通"]


def test_a_blank_accepting_the_unit_through_its_comparison_passes() -> None:
    """Is a blank whose accepted answer is a date (2000年9月25日, then 颁布) or already carries the unit left alone?"""
    assert flags(item("blank", stem="条例于____颁布。", blanks=[["2000年9月25日"]]), "blank-unit") == []
    assert flags(item("blank", stem="指甲不得长于____mm。", blanks=[["1", "1mm"]]), "blank-unit") == []
    assert flags(item("blank", stem="IC卡和____卡。", blanks=[["300"]]), "blank-unit")[0].en == (
        "blank 1 is followed by 卡 but refuses “300卡”")


def test_rubric_criteria_packing_many_elements_are_flagged() -> None:
    """Is a criterion listing five elements flagged against the limit of four?"""
    q = item("case", points=4, rubric=[{"criterion": "仪容、着装、名片、握手、称呼得当", "points": 4, "levels": [
        {"points": 4, "descriptor": "五项都得当"}, {"points": 2, "descriptor": "三项得当"}]}])
    assert [f.en for f in flags(q, "rubric-levels")] == ["criterion 1 packs 5 elements (limit 4)"]


@pytest.mark.parametrize(("criterion", "count"), [
    ("明确约见的对象、事由、时间和地点，事由从客户价值出发", 5),   # 4 members of one list, then a clause
    ("书面合同写明标的、数量与质量、价款、履行期限", 4),             # 与 inside an earlier member: pairs, not a list
    ("与客户、施工队和内部支撑部门定期沟通", 3),                     # the opening 与 is a preposition
    ("演示与呈现：围绕场景、邀请体验和准备预案", 3),                 # the heading before ： is not a member
    ("拒绝串通投标和好处费", 1),                                     # no 、-list: a pair is one element
    ("及时回访、确认满意度以及后续安排", 3),                         # 以及 counts, 及时 does not
    ("判断客户类型，并据此确定方案主线", 2),
])
def test_rubric_elements_count_the_conjunction_closing_a_list(criterion: str, count: int) -> None:
    """Does the element count add the 和/与/及 that joins a 、-list's last member, and only that one?"""
    assert elements(criterion) == count


def test_a_list_closed_by_he_is_flagged_at_five_elements() -> None:
    """仪容、着装、名片和握手 with a second clause is 5 elements (the old count, ignoring 和, said 4)?"""
    q = item("case", points=4, rubric=[{"criterion": "仪容、着装、名片和握手得当，称呼恰当", "points": 4, "levels": [
        {"points": 4, "descriptor": "五项都得当"}, {"points": 2, "descriptor": "三项得当"}]}])
    assert [f.en for f in flags(q, "rubric-levels")] == ["criterion 1 packs 5 elements (limit 4)"]


def test_key_count_share_names_the_most_common_count() -> None:
    """Of 2-, 4- and 4-key items, is 4 keys the most common, in 2 of 3?"""
    five = {"A": "甲", "B": "乙", "C": "丙", "D": "丁", "E": "戊", "F": "己"}
    bank = [item("multiple", options=five, answer=k) for k in (["A", "B"], ["A", "B", "C", "D"], ["A", "B", "C", "E"])]
    assert key_count_share(bank) == (4, 2, 3)
    assert key_count_share([]) == (0, 0, 0)


def mc_bank(*specs: tuple[int, int, int]) -> list[m.Question]:
    """Multiple-choice items: (how many, options, keys) per group."""
    bank: list[m.Question] = []
    for count, n_options, n_keys in specs:
        letters = "ABCDEFGH"[:n_options]
        options = {k: f"选项{k}" for k in letters}
        bank += [item("multiple", id=f"c{len(bank) + 1:02d}-001", options=options, answer=list(letters[:n_keys]))
                 for _ in range(count)]
    return bank


def test_one_key_count_in_most_of_the_bank_is_found_at_course_yaml() -> None:
    """6 of 10 items with 3 keys (more than half): one bank finding at course.yaml's quality line; 5 of 10: none?"""
    bad = mc_bank((6, 6, 3), (2, 8, 2), (2, 8, 4))
    assert [(f.file, f.line, f.subject, f.rule, f.en, f.zh) for f in key_count_findings(bad, ("course.yaml", 7))] == [
        ("course.yaml", 7, "question bank", "key-count", "6 of 10 multiple-choice items have 3 keys (more than 50%)",
         "10 道多选题中有 6 道都是 3 个正确项（超过 50%）")]
    good = mc_bank((5, 6, 3), (1, 6, 2), (2, 8, 2), (2, 8, 4))
    assert key_count_findings(good, ("course.yaml", 7)) == []


def test_one_key_count_among_items_with_the_same_options_is_found() -> None:
    """Every one of 10 eight-option items with 4 keys gives the count away though the bank as a whole is spread
    (2, 3 and 4 keys in 5, 5 and 10 of 20); with half of them at 3 keys, is nothing found?"""
    bad = mc_bank((5, 6, 2), (5, 6, 3), (10, 8, 4))
    assert key_count_groups(bad) == {6: (2, 5, 10), 8: (4, 10, 10)}
    assert [f.en for f in key_count_findings(bad, ("course.yaml", 7))] == [
        "10 of 10 multiple-choice items with 8 options have 4 keys (more than 50%)"]
    assert [f.zh for f in key_count_findings(bad, ("course.yaml", 7))] == [
        "10 道多选题（8 个选项）中有 10 道都是 4 个正确项（超过 50%）"]
    good = mc_bank((5, 6, 2), (5, 6, 3), (5, 8, 3), (5, 8, 4))
    assert key_count_findings(good, ("course.yaml", 7)) == []


def test_option_counts_with_fewer_than_min_items_are_not_judged() -> None:
    """Nine 8-option items all with 4 keys are below min_items 10 on their own: no group finding?"""
    bank = mc_bank((9, 8, 4), (6, 6, 2), (6, 6, 3))
    assert key_count_findings(bank, ("course.yaml", 7)) == []


def test_format_md_documents_every_rule_with_its_thresholds() -> None:
    """Does FORMAT.md's linter table have a row per rule naming each threshold with its value?"""
    doc = (Path(m.__file__).parent / "content" / "FORMAT.md").read_text(encoding="utf-8")
    for rule in RULES:
        row = next((ln for ln in doc.splitlines() if ln.startswith(f"| `{rule.id}` |")), "")
        assert row, f"FORMAT.md has no row for {rule.id}"
        for name, value in rule.thresholds.items():
            assert f"`{name}: {value:g}`" in row, f"{rule.id}: {name}"


# ---------------------------------------------------------------- key-in-other-item (a chapter's items together)
MASK = item("blank", id="js02-013", stem="把192.168.1.0/24划分为/26子网，子网掩码是____。",
            blanks=[["255.255.255.192"]])
RATE = item("blank", id="jc01-007", stem="1989年全国电话普及率为每百人____部。", blanks=[["0.98", "0.98部"]])


def shown(bank: list[m.Question], ctx: Context | None = None) -> list[tuple[str, tuple[str | int, ...], str, str]]:
    return [(q.id, f.field, f.en, f.zh) for q, f in keys_in_other_items(bank, ctx)]


def test_an_option_showing_another_items_fill_in_key_is_flagged() -> None:
    """The audit's two give-aways: js02-015 offers 255.255.255.192（/26）, the mask blank's key, and jc01-006 offers
    0.98%, the key of jc01-007 (a number counts as a whole number, 0.98 inside 0.98%); each found at its option?"""
    subnet = item("single", id="js02-015", stem="约50台终端，最合适的子网掩码是（ ）。",
                  options={"A": "255.255.255.0（/24）", "B": "255.255.255.192（/26）", "C": "255.255.255.224（/27）",
                           "D": "255.255.255.240（/28）"}, answer="B")
    rate = item("single", id="jc01-006", stem="1980年底全国电话普及率仅为（ ）。",
                options={"A": "0.43%", "B": "4.3%", "C": "0.98%", "D": "0.34%"}, answer="A")
    assert shown([MASK, subnet, RATE, rate]) == [
        ("js02-015", ("options", "B"), "shows “255.255.255.192”, the answer of blank 1 of js02-013",
         "含有同一章 js02-013 第1空的答案“255.255.255.192”"),
        ("jc01-006", ("options", "C"), "shows “0.98”, the answer of blank 1 of jc01-007",
         "含有同一章 jc01-007 第1空的答案“0.98”")]


def test_revised_options_and_other_chapters_show_no_key() -> None:
    """The revised distractor 0.043% holds no 0.98; 10.98% and 0.985 are other numbers; the mask in another
    chapter's item is not handed out with js02-013: nothing found?"""
    rate = item("single", id="jc01-006", stem="1980年底全国电话普及率仅为（ ）。",
                options={"A": "0.43%", "B": "4.3%", "C": "0.043%", "D": "10.98%"}, answer="A")
    other = item("truefalse", id="jc01-020", stem="某指标为0.985。", answer=True)
    elsewhere = item("single", id="js05-001", stem="子网掩码（ ）对应/26。",
                     options={"A": "255.255.255.192", "B": "255.255.255.0", "C": "255.255.0.0", "D": "255.0.0.0"},
                     answer="A")
    assert shown([MASK, RATE, rate, other, elsewhere]) == []


def test_short_answers_shared_terms_and_choice_keys_without_digits() -> None:
    """A 3-character answer (below min_chars 4), an answer listed in shared_terms, and a choice key without a
    digit are not searched; a choice key holding a digit (2002年5月) is, and a longer accepted answer is named
    rather than its shorter form (二氧化碳灭火器, not 二氧化碳)?"""
    blank = item("blank", id="jc04-031", stem="灭火器有____灭火器、____灭火器、____灭火器。",
                 blanks=[["泡沫", "泡沫灭火器"], ["二氧化碳", "二氧化碳灭火器"], ["干粉灭火器"]])
    choice = item("single", id="jc04-034", stem="带电设备起火不宜使用（ ）。",
                  options={"A": "干粉灭火器", "B": "二氧化碳灭火器", "C": "泡沫灭火器", "D": "七氟丙烷灭火器"},
                  answer="C")
    ctx = Context(shared=frozenset({"干粉灭火器"}))
    assert shown([blank, choice], ctx) == [
        ("jc04-034", ("options", "B"), "shows “二氧化碳灭火器”, the answer of blank 2 of jc04-031",
         "含有同一章 jc04-031 第2空的答案“二氧化碳灭火器”"),
        ("jc04-034", ("options", "C"), "shows “泡沫灭火器”, the answer of blank 1 of jc04-031",
         "含有同一章 jc04-031 第1空的答案“泡沫灭火器”")]
    founded = item("single", id="jc02-001", stem="集团公司成立于（ ）。",
                   options={"A": "2000年5月", "B": "2002年5月", "C": "2002年11月", "D": "2003年底"}, answer="B")
    capital = item("blank", id="jc02-002", stem="（历史数据）集团公司2002年5月成立时注册资本____亿元。",
                   blanks=[["1580"]])
    named = item("single", id="jc02-010", stem="集团公司成立于2002年11月。以下（ ）正确。",
                 options={"A": "甲方", "B": "乙方", "C": "丙方", "D": "丁方"}, answer="A")
    assert [(q, f, en) for q, f, en, _ in shown([founded, capital, named])] == [
        ("jc02-002", ("stem",), "shows “2002年5月”, the answer of key B of jc02-001")]
