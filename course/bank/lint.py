"""Item-writing-flaw linter: wording that lets a test-wise learner answer without the knowledge.

Every rule is one row of :data:`RULES` (its id, the types it reads, its thresholds and word
lists, what it finds and the fix, in Chinese and English); ``FORMAT.md`` prints the same table.
:func:`lint` runs them all and returns one :class:`Finding` per flaw, located at ``file:line``.
``course validate`` prints the count per rule and fails when a count is above the allowance
set in ``course.yaml`` (``quality.lint.allowed``, default 0), so the bank cannot slide back.

A finding that alone tells a learner the whole key (the longest option, the only options
without a give-away word, the one option repeating the stem, a false statement flagged by
an absolute word) is a *cue*: :mod:`course.bank.metrics` counts the items with one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
from course_runtime.scoring import blank_matches

from course import model as m
from course.rules import bigrams

if TYPE_CHECKING:
    from course.loader import Course

Path_ = tuple[str | int, ...]

# ---------------------------------------------------------------- word lists (part of the rule table)
# Specific determiners: options and statements that carry them are usually wrong, and test-wise learners know it.
ABSOLUTE_WORDS: tuple[str, ...] = (
    "必须", "一定", "所有", "全部", "完全", "绝对", "从不", "从来", "总是", "任何", "一律", "永远", "彻底",
    "必然", "唯一", "一切", "凡是", "决不", "绝不", "根本", "无需", "不必", "不需要", "只", "仅",
)
# Behaviour no professional would choose: a distractor built from them is a strawman.
# (Not 威胁, 攻击, 虚假异议 or 反驳 alone: 五力模型的“威胁”, DDoS攻击 and 直接反驳法 are terms of the field.)
UNETHICAL_WORDS: tuple[str, ...] = (
    "夸大", "贬低", "诋毁", "虚假宣传", "虚假承诺", "隐瞒", "回扣", "送礼", "私下", "不正当", "泄露", "行贿",
    "受贿", "欺骗", "强迫", "强行", "敷衍", "推诿", "搪塞", "串通", "好处费", "误导", "恐吓", "攻击竞争对手",
    "争辩", "不理会", "冷落", "家庭背景", "隐私", "私人",
)
# A marker after one of these in the same clause is negated ("不夸大", "避免贬低"): no cue.
NEGATORS: tuple[str, ...] = ("不", "勿", "未", "非", "无", "没", "避免", "禁止", "杜绝", "防止", "严禁", "切忌", "反对")
# Words with which an explanation refutes an option: its subject ("注册资本不是品牌要素") ...
REFUTATIONS: tuple[str, ...] = ("不是", "不属于", "并非", "不包括", "无关", "不等于", "而非", "不构成", "不算")
# ... or its object ("法律并未赋予消费者要求无条件降价的权利", "消费者无权查阅商业秘密"). Not 没有 or 未
# alone: "此处没有对应语句", "都没有弄清客户的想法", "未取得许可的" refute no option.
OBJECT_REFUTATIONS: tuple[str, ...] = ("并未", "无权", "没有赋予", "未赋予", "没有规定", "未规定")
# Words with which an explanation files an option under another heading ("产品研发属于产品策略").
CLASSIFICATIONS: tuple[str, ...] = ("属于",)
# Units a stem may print right after a blank ("____天"): the answer with the unit repeated must be accepted.
UNITS: tuple[str, ...] = (
    "Mbit/s", "Gbit/s", "kbit/s", "亿元", "万元", "元", "个月", "小时", "分钟", "秒", "天", "日", "月", "年",
    "毫瓦", "mm", "cm", "毫米", "厘米", "公分", "米", "%", "％", "个", "位", "声", "卡", "名", "人", "次", "项",
    "倍", "部",
)


# ---------------------------------------------------------------- the table
@dataclass(frozen=True)
class Flag:
    """One flaw of one item, before it is located: the field, the detail in both languages, and
    whether the flaw alone gives the whole key away (a cue)."""

    field: Path_
    en: str
    zh: str
    cue: bool = False


@dataclass(frozen=True)
class Rule:
    """One row of the linter's table."""

    id: str
    types: tuple[str, ...]          # question types it reads ("bank": the bank as a whole)
    title: str                      # Chinese title, for the summary table
    flaw: str                       # what it finds, in English
    fix_zh: str
    fix_en: str
    thresholds: Mapping[str, float] = field(default_factory=dict)
    words: tuple[str, ...] = ()


CHOICE = ("single", "multiple")
RULES: tuple[Rule, ...] = (
    Rule("longest-key", CHOICE, "正确项最长",
         "the key is the longest option by a margin (multiple: every key longer than every distractor)",
         "把干扰项写到与正确项相当的长度和具体程度，删去正确项中自带的解释",
         "write distractors as long and specific as the key; cut the justification out of the key",
         {"ratio": 1.25, "chars": 3}),
    Rule("marked-options", CHOICE, "干扰项带绝对词或违规词",
         "absolute words (必须、只…) or unethical behaviour (夸大、私下…) mark only distractors, or unethical "
         "behaviour marks only keys",
         "干扰项改写为业内常见的误解，不用绝对词和明显违规的做法",
         "rewrite the distractors as real misconceptions of the field, without absolute words or misconduct",
         words=ABSOLUTE_WORDS + UNETHICAL_WORDS),
    Rule("stem-echo", (*CHOICE, "matching"), "正确项重复题干用词",
         "the key repeats the stem's words that no distractor repeats (matching: names pair half the prompts "
         "with their options)",
         "换用不与题干字面重合的表述，或让干扰项同样使用题干的词",
         "reword the key, or let distractors use the stem's words as well",
         {"min_shared": 2, "margin": 2, "matching_share": 0.5}),
    Rule("absolute-truefalse", ("truefalse",), "判断题含绝对词",
         "a true/false statement with an absolute word (一定、必须、所有、从不、只…)",
         "写明真实的条件或范围，不用绝对词", "state the real condition or scope instead of an absolute word",
         words=ABSOLUTE_WORDS),
    Rule("key-count", ("multiple", "bank"), "多选题正确项数量有规律",
         "more keys than wrong options, or one key count in more than max_share of the multiple-choice items, "
         "over the bank and among the items with the same number of options (each with at least min_items items)",
         "减少正确项或增加干扰项，使各题正确项数（2、3、4个）分布均衡",
         "drop a key or add a distractor, so key counts (2, 3, 4) vary across the bank",
         {"max_share": 0.5, "min_items": 10}),
    Rule("explanation-absent-option", ("single", "multiple", "matching", "ordering"), "解析提到不存在的选项",
         "the explanation refutes a phrase, or files it under another heading (X属于Y), that is in no option and "
         "not in the stem (a leftover of an old option)",
         "按现有选项改写解析", "rewrite the explanation for the options as they are",
         {"coverage": 0.5, "max_chars": 12}, words=REFUTATIONS + OBJECT_REFUTATIONS + CLASSIFICATIONS),
    Rule("historical-unlabelled", ("single", "multiple", "truefalse", "blank", "ordering", "matching", "case"),
         "过时内容未标注历史",
         "a historical term of course.yaml (quality.lint.historical) in the stem, options or key, with no "
         "bracketed note holding 历史 in the stem (（历史考题）, not 发展历史) and no 原 before the term",
         "在题干用括注标明“历史”（如“（历史考题）”）或在该词前加“原”（如“原《合同法》”），或改写为现行的通用知识，或删除该题",
         "label the stem 历史 (e.g. （历史考题）) or write 原 before the term (原《合同法》), rewrite the item to "
         "today's general knowledge, or remove it"),
    Rule("blank-unit", ("blank",), "填空题不接受重复的单位",
         "the stem prints a unit right after a blank, and the answer written with that unit is not accepted",
         "在该空的答案中加上带单位的写法", "add the answer written with the unit to the blank's accepted answers",
         words=UNITS),
    Rule("key-in-other-item", ("blank", "single", "multiple"), "答案出现在同章其他题中",
         "another item of the chapter shows, in its stem, options, items or prompts, an accepted fill-in answer "
         "(one holding a digit as a whole number, from min_number_chars characters; other text from min_chars) or "
         "a single/multiple-choice key holding a digit; answers listed in quality.lint.shared_terms are the "
         "chapter's vocabulary",
         "改写含有答案的那道题的干扰项或题干措辞（种子题的答案不变）；确属本章必须写出的名称，"
         "写进 shared_terms 并说明理由",
         "reword the distractor or stem that shows the answer (seed items keep their answers); if it is a term the "
         "chapter must name, list it in shared_terms with why",
         {"min_chars": 4, "min_number_chars": 2}),
    Rule("rubric-levels", ("case",), "评分要点缺少部分得分说明",
         "a rubric criterion without partial-credit levels, or packing more elements than the limit (parts between "
         "、，；, and the 和/与/及 before the last member of a 、-list)",
         "为每条评分要点写出得满分、部分分的表现（levels），要素过多的拆成几条",
         "give every criterion levels saying what earns full and part of its points; split crowded criteria",
         {"max_elements": 4}),
)
RULE_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


@dataclass(frozen=True, order=True)
class Finding:
    """One flaw at ``file:line`` with its rule, what is wrong and the fix, in English and Chinese."""

    file: str
    line: int
    subject: str
    rule: str
    en: str
    zh: str
    cue: bool = field(default=False, compare=False)

    @property
    def question(self) -> str | None:
        return self.subject.split("'")[1] if self.subject.startswith("question '") else None

    def __str__(self) -> str:
        rule = RULE_BY_ID[self.rule]
        return (f"{self.file}:{self.line}: {self.subject}: [{self.rule}] {self.en}: {rule.fix_en}\n"
                f"    {self.zh}：{rule.fix_zh}")


@dataclass(frozen=True)
class Context:
    """What the rules need beyond the item: the historical terms and their label."""

    historical: tuple[m.HistoricalTerm, ...] = ()
    label: str = "历史"
    former: str = "原"
    shared: frozenset[str] = frozenset()  # fill-in answers other items of the chapter may show


# ---------------------------------------------------------------- text helpers
def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def length(text: str) -> int:
    """Characters a learner reads: NFKC, without spaces."""
    return len("".join(_nfkc(text).split()))


_CLAUSE = re.compile(r"[，,。；;：:、！!？?（）()]")
# Words that are absolute only in some uses: 只/仅 (not 不仅, 一只, 只读), 一定 (not 一定的, 一定程度, 逐一定价),
# 根本 (only 根本不/没/无/就, not 根本原因), 所有 (not 所有权, 所有者, 所有制).
_ONLY = re.compile(r"(?<![不非一两几])(?<!不是)(?<!并非)[只仅](?![读])")
_SPECIAL: dict[str, re.Pattern[str]] = {
    "只": _ONLY, "仅": _ONLY, "一定": re.compile(r"(?<![逐不])一定(?![的程比数范时期条金额量价])"),
    "根本": re.compile(r"根本(?=[不没无就])"), "所有": re.compile(r"所有(?![权者制])"),
}


def markers(text: str, words: Iterable[str]) -> list[str]:
    """The words of ``words`` in ``text`` that no negator before them in the same clause takes back."""
    found: list[str] = []
    for clause in _CLAUSE.split(_nfkc(text)):
        for word in words:
            if word in _SPECIAL:
                hits = [mt.start() for mt in _SPECIAL[word].finditer(clause) if clause.startswith(word, mt.start())]
            else:
                hits = [mt.start() for mt in re.finditer(re.escape(word), clause)]
            for at in hits:
                before = clause[:at]
                negated = not word.startswith("不") and any(n in before for n in NEGATORS)
                if not negated and word not in found:
                    found.append(word)
    return found


def _keys(q: m.SingleChoice | m.MultipleChoice) -> set[str]:
    return {q.answer} if isinstance(q, m.SingleChoice) else set(q.answer)


def _quote(text: str, limit: int = 16) -> str:
    text = _nfkc(text)
    return text if len(text) <= limit else text[:limit] + "…"


# ---------------------------------------------------------------- the rules
def _longest_key(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    if not isinstance(q, m.SingleChoice | m.MultipleChoice):
        return
    keys = _keys(q)
    lens = {k: length(v) for k, v in q.options.items()}
    shortest_key = min(lens[k] for k in keys)
    longest_wrong = max(v for k, v in lens.items() if k not in keys)
    ratio, chars = rule.thresholds["ratio"], rule.thresholds["chars"]
    if shortest_key >= ratio * longest_wrong and shortest_key - longest_wrong >= chars:
        which, zh = ("the key", "正确项") if len(keys) == 1 else ("every key", "每个正确项")
        yield Flag(("options",), f"{which} has at least {shortest_key} characters, the longest distractor "
                   f"{longest_wrong}", f"{zh}至少 {shortest_key} 字，最长的干扰项 {longest_wrong} 字", cue=True)


def _marked_options(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    if not isinstance(q, m.SingleChoice | m.MultipleChoice):
        return
    keys = _keys(q)
    absolute = {k: markers(v, ABSOLUTE_WORDS) for k, v in q.options.items()}
    unethical = {k: markers(v, UNETHICAL_WORDS) for k, v in q.options.items()}
    with_absolute = {k for k, w in absolute.items() if w}
    with_unethical = {k for k, w in unethical.items() if w}
    marked = with_absolute | with_unethical
    eliminated = set(q.options) - marked == keys  # dropping every marked option leaves exactly the keys
    if (with_absolute and not with_absolute & keys) or (with_unethical and not with_unethical & keys):
        shown = "、".join(f"“{_quote(q.options[k], 12)}”（{'、'.join(absolute[k] + unethical[k])}）"
                         for k in sorted(marked - keys))
        yield Flag(("options",), f"distractors marked by give-away words: {shown}",
                   f"干扰项带有提示性的词：{shown}", cue=eliminated)
    elif with_unethical and with_unethical <= keys:
        shown = "、".join(f"“{_quote(q.options[k], 12)}”（{'、'.join(unethical[k])}）" for k in sorted(with_unethical))
        yield Flag(("options",), f"only keys describe misconduct: {shown}", f"只有正确项描述违规行为：{shown}",
                   cue=with_unethical == keys)


def _shared(a: str, b: str) -> int:
    return len(bigrams(a) & bigrams(b))


_NOT_NAME = re.compile(r"[\W\d_]")
_FUNCTION_CHARS = frozenset("的和与及或等之")


def _name_chars(text: str) -> set[str]:
    return {ch for ch in _nfkc(text).casefold() if not _NOT_NAME.match(ch) and ch not in _FUNCTION_CHARS}


def _stem_echo(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    t = rule.thresholds
    if isinstance(q, m.SingleChoice | m.MultipleChoice):
        keys = _keys(q)
        echo = {k: _shared(q.stem, v) for k, v in q.options.items()}
        low_key = min(echo[k] for k in keys)
        high_wrong = max(v for k, v in echo.items() if k not in keys)
        if low_key >= t["min_shared"] and low_key - high_wrong >= t["margin"]:
            yield Flag(("options",), f"the key shares {low_key} character pairs with the stem, no distractor more "
                       f"than {high_wrong}", f"正确项与题干有 {low_key} 个相同的双字组合，干扰项最多 {high_wrong} 个",
                       cue=True)
    elif isinstance(q, m.Matching):
        given = []
        for prompt, key in q.answer.items():
            mine = _name_chars(q.prompts[prompt])
            shared = {k: mine & _name_chars(v) for k, v in q.options.items()}
            others = set().union(*(s for k, s in shared.items() if k != key))
            if shared.get(key, set()) - others:
                given.append(f"{q.prompts[prompt]}→{q.options[key]}")
        if given and len(given) >= t["matching_share"] * len(q.answer):
            pairs = "、".join(given)
            yield Flag(("prompts",), f"{len(given)} of {len(q.answer)} pairs share a name no other option shares: "
                       f"{pairs}", f"{len(q.answer)} 对中有 {len(given)} 对靠名称中的相同字即可配对：{pairs}",
                       cue=True)


def _absolute_truefalse(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    if isinstance(q, m.TrueFalse) and (words := markers(q.stem, ABSOLUTE_WORDS)):
        shown = "、".join(words)
        yield Flag(("stem",), f"the statement says {shown} and is keyed {'true' if q.answer else 'false'}",
                   f"题干含绝对词“{shown}”，答案为{'对' if q.answer else '错'}", cue=not q.answer)


def _key_count(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    if isinstance(q, m.MultipleChoice):
        keys, wrong = len(set(q.answer)), len(set(q.options) - set(q.answer))
        if keys > wrong:
            yield Flag(("answer",), f"{keys} keys but {wrong} wrong option(s)",
                       f"正确项 {keys} 个，错误项只有 {wrong} 个")


_TOPIC = re.compile(r"是|属于|为|指")
_LEAD = re.compile(r"^(而|但|但是|至于|其中|另外|此外|而且|并且|选项|所谓|和|与|及|以及|或|也|则|如|例如|即)+")
_TAIL = re.compile(r"(都|均|也|则|而|本身|等|等等|这类|之类)+$")
_PRONOUN = re.compile(r"^(它|二者|两者|双方|其|这|那|以上|上述|后者|前者|该|此|剩下)")
# What stands between an object-refuting word and its object ("并未赋予消费者…的权利"), and after it.
_OBJECT_LEAD = re.compile(r"^(也|再|还|都|赋予|给予|规定|允许|包括|涉及|提供)+")
_OBJECT_TAIL = re.compile(r"(的)?(权利|义务|职责|内容|规定)$")
_PARTS = re.compile(r"[、和与及或]|以及")


def _terms(phrase: str, max_chars: int, lead: re.Pattern[str] = _LEAD,
           tail: re.Pattern[str] = _TAIL) -> Iterator[str]:
    for part in _PARTS.split(phrase):
        term = tail.sub("", lead.sub("", re.sub(r"[\W_]+", "", part)))
        if 2 <= len(term) <= max_chars and not _PRONOUN.match(term):
            yield term


def _refuted_terms(explanation: str, max_chars: int, classified: bool = True) -> Iterator[tuple[str, bool]]:
    """The phrases an explanation refutes, each with whether it was filed under another heading.

    A refutation word (不是, 不属于…) refutes its clause's subject; an object-refuting word (并未,
    没有, 无权) what follows it ("法律并未赋予消费者要求无条件降价的权利"); a classification (属于)
    outside the first sentence files its subject elsewhere ("产品研发属于产品策略"; choice items only:
    in matching, filing each prompt is the item).
    """
    refute = re.compile("|".join(REFUTATIONS))
    refute_object = re.compile("|".join(OBJECT_REFUTATIONS))
    classify = re.compile(r"(?<!不)(?:" + "|".join(CLASSIFICATIONS) + ")")
    for n, sentence in enumerate(re.split(r"[。；;!！?？]", _nfkc(explanation))):
        clauses = re.split(r"[，,：:]", sentence)
        for i, clause in enumerate(clauses):
            if found := refute.search(clause):
                subject = clause[:found.start()]
                if not re.sub(r"[\W_]+", "", subject) and i > 0:  # "注册资本是财务信息，不是品牌要素"
                    prev = _TOPIC.search(clauses[i - 1])
                    subject = clauses[i - 1][:prev.start()] if prev else ""
                yield from ((t, False) for t in _terms(subject, max_chars))
            elif found := refute_object.search(clause):
                obj = clause[found.end():]
                yield from ((t, False) for t in _terms(obj, max_chars, _OBJECT_LEAD, _OBJECT_TAIL))
            elif classified and n > 0 and (found := classify.search(clause)):
                yield from ((t, True) for t in _terms(clause[:found.start()], max_chars))


def _explanation_absent_option(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    if not isinstance(q, m.SingleChoice | m.MultipleChoice | m.Matching | m.Ordering):
        return
    texts = [q.stem, *getattr(q, "options", {}).values(), *getattr(q, "items", {}).values(),
             *getattr(q, "prompts", {}).values()]
    present = frozenset().union(*(bigrams(t) for t in texts))
    # what the first sentence states is the answer's content, not a refuted option
    stated = present | bigrams(re.split(r"[。；;!！?？]", _nfkc(q.explanation))[0])
    choice = isinstance(q, m.SingleChoice | m.MultipleChoice)
    for term, classified in _refuted_terms(q.explanation, int(rule.thresholds["max_chars"]), choice):
        grams = bigrams(term)
        if grams and len(grams & (stated if classified else present)) / len(grams) < rule.thresholds["coverage"]:
            en, zh = ("files", "归入别处") if classified else ("refutes", "否定了")
            yield Flag(("explanation",), f"the explanation {en} “{term}”, which is in no option",
                       f"解析{zh}“{term}”，但没有哪个选项是它")


def unlabelled_terms(text: str, terms: Iterable[m.HistoricalTerm], former: str) -> list[m.HistoricalTerm]:
    """The historical terms in ``text`` at least once not introduced by ``former`` (原《合同法》, 原信息产业部)."""
    text = _nfkc(text)
    out = []
    for h in terms:
        term = _nfkc(h.term)
        current = [(mt.start() + w.index(term), len(w)) for w in map(_nfkc, h.except_in) if term in w
                   for mt in re.finditer(re.escape(w), text)]
        starts = [mt.start() for mt in re.finditer(re.escape(term), text)
                  if not any(at <= mt.start() < at + n for at, n in current)]
        if any(not text[:at].rstrip("《“\"").endswith(former) for at in starts):
            out.append(h)
    return out


def labelled(stem: str, label: str) -> bool:
    """Does the stem carry the label in a bracketed note (（历史考题）, 互联星空（已停止使用的历史品牌）)? The
    word in the running text (公司的发展历史) labels nothing."""
    return re.search(rf"[（(][^（）()]*{re.escape(label)}[^（）()]*[）)]", _nfkc(stem)) is not None


def _historical_unlabelled(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    if labelled(q.stem, ctx.label):
        return
    found: list[m.HistoricalTerm] = []
    for _, text in m.question_texts(q, blanks=True, reference=True):  # what an item states
        found += [h for h in unlabelled_terms(text, ctx.historical, ctx.former) if h not in found]
    if found:
        terms = "；".join(f"{h.term}（{h.note}）" for h in found)
        yield Flag(("stem",), f"mentions {'、'.join(h.term for h in found)} without the label {ctx.label}",
                   f"含有过时内容 {terms}，题干却没有“{ctx.label}”标注")


def _blank_unit(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    if not isinstance(q, m.FillBlank):
        return
    after = q.stem.split(m.BLANK)[1:]
    for i, (text, alts) in enumerate(zip(after, q.blanks, strict=False)):
        unit = next((u for u in UNITS if _nfkc(text).startswith(_nfkc(u))), None)
        if unit is None:
            continue
        written = alts[0] + unit
        if not any(blank_matches(alt, written, q.compare == "text") for alt in alts):
            yield Flag(("blanks", i), f"blank {i + 1} is followed by {unit} but refuses “{written}”",
                       f"第{i + 1}空后面印有“{unit}”，却不接受“{written}”")


_ELEMENTS = re.compile(r"[、，,；;]")
# 和/与/及 as a conjunction; not in 及时, 涉及, 普及, 参与, 与其, 和谐.
_AND = re.compile(r"以及|(?<![涉普])及(?![时格])|(?<!参)与(?!其)|和(?!谐)")


def elements(criterion: str) -> int:
    """Elements a criterion lists: its parts between 、，；, plus the 和/与/及 that joins the last member of a
    、-list ("对象、事由、时间和地点": 4). A conjunction inside an earlier member pairs words within the members
    ("稳定与安全、带宽与时延": 2); one opening the list is a preposition ("与客户、施工队和…沟通": 3)."""
    count = len(_ELEMENTS.split(criterion))
    for clause in re.split(r"[，,；;]", _nfkc(criterion)):
        members = re.split(r"[：:]", clause)[-1].split("、")  # the list after a heading ("开场白：问候、…")
        members[0] = _AND.sub("", members[0], count=1) if _AND.match(members[0]) else members[0]
        if len(members) > 1 and _AND.search(members[-1]) and not any(_AND.search(x) for x in members[:-1]):
            count += 1
    return count


def _rubric_levels(q: m.Question, rule: Rule, ctx: Context) -> Iterator[Flag]:
    if not isinstance(q, m.CaseAnalysis):
        return
    limit = int(rule.thresholds["max_elements"])
    for i, item in enumerate(q.rubric):
        partial = [lv for lv in item.levels if 0 < lv.points < item.points]
        if not partial:
            yield Flag(("rubric", i), f"criterion {i + 1} has no partial-credit level",
                       f"第{i + 1}条评分要点没有说明怎样得部分分")
        found = elements(item.criterion)
        if found > limit:
            yield Flag(("rubric", i), f"criterion {i + 1} packs {found} elements (limit {limit})",
                       f"第{i + 1}条评分要点包含 {found} 个要素（上限 {limit}）")


CHECKS: dict[str, Callable[[m.Question, Rule, Context], Iterator[Flag]]] = {
    "longest-key": _longest_key,
    "marked-options": _marked_options,
    "stem-echo": _stem_echo,
    "absolute-truefalse": _absolute_truefalse,
    "key-count": _key_count,
    "explanation-absent-option": _explanation_absent_option,
    "historical-unlabelled": _historical_unlabelled,
    "blank-unit": _blank_unit,
    "rubric-levels": _rubric_levels,
}


def check_item(q: m.Question, ctx: Context | None = None) -> list[tuple[str, Flag]]:
    """Every flaw of one item, as (rule id, flag)."""
    ctx = ctx or Context()
    return [(rule.id, flag) for rule in RULES if q.type in rule.types and rule.id in CHECKS
            for flag in CHECKS[rule.id](q, rule, ctx)]


def holds(text: str, key: str) -> bool:
    """Is ``key`` in ``text``? One holding a digit only as a whole number (``20`` is not in ``2031`` or ``0.20``)."""
    if re.search(r"\d", key):
        return re.search(rf"(?<![\d.,_]){re.escape(key)}(?![\d.,_])", text) is not None
    return key in text


def given_keys(q: m.Question, shared: frozenset[str] = frozenset()) -> list[tuple[str, str, str]]:
    """The keys of ``q`` no other item of its chapter may show, each with its place in English and Chinese:
    every accepted fill-in answer (holding a digit: from ``min_number_chars`` characters; other text: from
    ``min_chars``) and every choice key holding a digit, except the answers listed in ``shared``."""
    t = RULE_BY_ID["key-in-other-item"].thresholds
    found: list[tuple[str, str, str]] = []
    if isinstance(q, m.FillBlank):
        for i, alts in enumerate(q.blanks):
            found += [(_nfkc(a).strip(), f"blank {i + 1}", f"第{i + 1}空的答案") for a in alts]
    elif isinstance(q, m.SingleChoice | m.MultipleChoice):
        found += [(_nfkc(q.options[k]).strip(), f"key {k}", f"正确项{k}") for k in sorted(_keys(q))
                  if re.search(r"\d", q.options[k])]
    return [(key, en, zh) for key, en, zh in found if key not in shared
            and len(key) >= (t["min_number_chars"] if re.search(r"\d", key) else t["min_chars"])]


def keys_in_other_items(questions: Iterable[m.Question], ctx: Context | None = None) -> list[tuple[m.Question, Flag]]:
    """``key-in-other-item`` over a bank: (item, flag) for each place where a learner reads a key of another
    item of the same chapter (the chapter's notebook hands both out together); one flag per place and owner's
    blank or key, naming the longest answer found."""
    ctx = ctx or Context()
    chapters: dict[str, list[m.Question]] = {}
    for q in questions:
        chapters.setdefault(q.chapter, []).append(q)
    out: list[tuple[m.Question, Flag]] = []
    for items in chapters.values():
        keys = [(owner, given_keys(owner, ctx.shared)) for owner in items]
        for holder in items:
            for place, text in m.question_texts(holder):  # what the released notebook shows
                text = _nfkc(text)
                for owner, owned in keys:
                    shown: dict[str, tuple[str, str]] = {}
                    for key, en, zh in owned if owner is not holder else ():
                        if holds(text, key) and len(key) > len(shown.get(en, ("", ""))[0]):
                            shown[en] = (key, zh)
                    out += [(holder, Flag(place, f"shows “{key}”, the answer of {en} of {owner.id}",
                                          f"含有同一章 {owner.id} {zh}“{key}”")) for en, (key, zh) in shown.items()]
    return out


def key_count_share(questions: Iterable[m.Question]) -> tuple[int, int, int]:
    """The most common key count among multiple-choice items: (key count, items with it, all items)."""
    counts = Counter(len(set(q.answer)) for q in questions if isinstance(q, m.MultipleChoice))
    if not counts:
        return 0, 0, 0
    keys, most = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
    return keys, most, sum(counts.values())


def key_count_groups(questions: Iterable[m.Question]) -> dict[int, tuple[int, int, int]]:
    """:func:`key_count_share` per number of options: a learner who knows that every 8-option item has
    4 keys ticks 4 of 8 without the knowledge."""
    by_options: dict[int, list[m.Question]] = {}
    for q in questions:
        if isinstance(q, m.MultipleChoice):
            by_options.setdefault(len(q.options), []).append(q)
    return {n: key_count_share(items) for n, items in sorted(by_options.items())}


def key_count_findings(questions: Iterable[m.Question], located: tuple[str, int]) -> list[Finding]:
    """The bank-level half of ``key-count``: one key count in more than ``max_share`` of the multiple-choice
    items, over the bank and within each option count with at least ``min_items`` items."""
    limits = RULE_BY_ID["key-count"].thresholds
    share = limits["max_share"]
    items = list(questions)
    groups: list[tuple[str, str, tuple[int, int, int]]] = [("", "", key_count_share(items))]
    groups += [(f" with {n} options", f"（{n} 个选项）", found) for n, found in key_count_groups(items).items()]
    out = []
    for en, zh, (keys, most, total) in groups:
        if total >= limits["min_items"] and most > share * total:
            out.append(Finding(
                *located, "question bank", "key-count",
                f"{most} of {total} multiple-choice items{en} have {keys} keys (more than {share:.0%})",
                f"{total} 道多选题{zh}中有 {most} 道都是 {keys} 个正确项（超过 {share:.0%}）"))
    return out


def context(course: Course) -> Context:
    quality = course.settings.quality
    settings = quality.lint if quality is not None else m.LintSettings()
    return Context(tuple(settings.historical), settings.label, settings.former,
                   frozenset(_nfkc(s.term).strip() for s in settings.shared_terms))


def lint(course: Course) -> list[Finding]:
    """Every flaw of the bank, in file and line order."""
    ctx = context(course)
    findings: list[Finding] = []
    flagged = [(q, rule_id, flag) for q in course.questions for rule_id, flag in check_item(q, ctx)]
    flagged += [(q, "key-in-other-item", flag) for q, flag in keys_in_other_items(course.questions, ctx)]
    for q, rule_id, flag in flagged:
        src = course.sources[q.id]
        findings.append(Finding(src.file, src.line(*flag.field), f"question '{q.id}'", rule_id, flag.en, flag.zh,
                                flag.cue))
    located = course.files["course.yaml"]
    findings += key_count_findings(course.questions, (located.file, located.line(("quality",))))
    return sorted(findings)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per rule id, every rule listed (0 when clean)."""
    tally = Counter(f.rule for f in findings)
    return {rule.id: tally.get(rule.id, 0) for rule in RULES}


def over_allowance(course: Course, findings: list[Finding]) -> dict[str, tuple[int, int]]:
    """Rules whose count exceeds its allowance in ``course.yaml``: rule id -> (count, allowed)."""
    quality = course.settings.quality
    allowed = quality.lint.allowed if quality is not None else {}
    return {rule: (n, allowed.get(rule, 0)) for rule, n in counts(findings).items() if n > allowed.get(rule, 0)}


def unknown_rules(course: Course) -> list[str]:
    """Allowances in ``course.yaml`` naming no rule of the table (a typo would silently allow nothing)."""
    quality = course.settings.quality
    return [r for r in (quality.lint.allowed if quality is not None else {}) if r not in RULE_BY_ID]


def summary(course: Course, findings: list[Finding]) -> pd.DataFrame:
    """Per rule: its Chinese title, findings, of them cues, and the allowance, for ``course validate``."""
    quality = course.settings.quality
    allowed = quality.lint.allowed if quality is not None else {}
    tally = counts(findings)
    cues = Counter(f.rule for f in findings if f.cue)
    rows = [{"规则": rule.title, "发现": tally[rule.id], "其中可猜中": cues.get(rule.id, 0),
             "允许": allowed.get(rule.id, 0)} for rule in RULES]
    return pd.DataFrame(rows, index=pd.Index([r.id for r in RULES], name="规则编号"))
