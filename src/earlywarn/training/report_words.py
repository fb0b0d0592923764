"""How to read the backtest report: every figure and every baseline in words, both
languages, printed at the top of the report (an analyst met bare names such as
``precision_at_top5pct`` and an "office rule" defined nowhere)."""

from __future__ import annotations

import html

import polars as pl

from earlywarn.training.metrics import BIAS_MIN_POSITIVES, CAUGHT_LESS_P, CAUGHT_LESS_RATIO

# The model card's entries in Chinese, beside their English names (the card's keys).
CARD_LABELS: dict[str, str] = {
    "intended use": "用途",
    "software": "软件版本",
    "command": "训练命令",
    "targets": "预测目标",
    "horizon": "预测期",
    "data": "数据集",
    "windows": "回测窗口",
    "contract": "数据合同版本",
    "capacity": "处理能力（每日清单长度）",
    "thresholds": "预警与中风险阈值",
    "evaluation": "评估方式",
    "tuning": "参数搜索",
    "simulated worlds": "模拟世界检验",
    "registered versions": "登记的模型版本",
    "against the champion": "与正式版本对比",
    "limits": "局限",
}


def caught_less_words(by: str, table: pl.DataFrame) -> str:
    """The groups the audit judged ``caught_less``, named in both languages, or ""."""
    named = table.filter(pl.col("caught_less"))
    if named.is_empty():
        return ""
    groups = "; ".join(
        f"{html.escape(str(group))} ({caught} of {positives}, {ratio:.2f} of all's rate)"
        for group, caught, positives, ratio in named.select(
            by, "true_positives", "positives", "tpr_vs_all"
        ).iter_rows()
    )
    return (
        f"<p><strong>明显漏判的组 / Groups caught clearly less often</strong>: {groups}. "
        "这些组中真正升级的案件入选清单明显少于全体，使用前请核查原因（数据缺失、类别代码、"
        "地方做法）。 Of these groups' cases that did escalate, the lists held clearly fewer "
        "than of all: find out why (missing records, a category's codes, local practice) "
        "before use.</p>"
    )


def card_label(key: str) -> str:
    """A model card entry's name in both languages."""
    chinese = CARD_LABELS.get(key)
    return f"{chinese} / {key}" if chinese else key


# figure, Chinese, English: what it is and which way is better.
FIGURES: tuple[tuple[str, str, str], ...] = (
    (
        "roc_auc",
        "随机抽一个发生事件和一个未发生事件的案件，模型给前者打分更高的概率；0.5 为随机，越高越好",
        "the chance that a case which had the event is ranked above one which did not; "
        "0.5 is chance, higher is better",
    ),
    (
        "pr_auc (average precision)",
        "按风险从高到低排序时各位置精确率的平均，对罕见事件比 ROC-AUC 更敏感；基准为发生率",
        "the mean precision down the ranking; for rare events it says more than ROC-AUC; "
        "chance equals the base rate",
    ),
    (
        "brier",
        "预测概率与实际结果（0/1）之差的平方的平均；越低越好",
        "the mean squared gap between the probability and the outcome (0 or 1); lower is better",
    ),
    (
        "ece",
        "校准误差：按预测概率分成 20 个等量组，各组实际发生率与平均预测概率之差的加权"
        "平均；越低越好；须与发生率对照（发生率 1.2% 时 0.004 相当于其三分之一）并看校准图",
        "calibration error: over 20 equal-count bins of the probability, the "
        "size-weighted mean gap between the observed rate and the mean probability; lower "
        "is better; read it beside the base rate (0.004 at a base rate of 1.2% is a third "
        "of it) and the calibration plot",
    ),
    (
        "precision_at_capacity / recall_at_capacity",
        "每个回测日按处理能力取排名最前的案件（即当日清单），其中实际发生事件的比例 /"
        " 发生事件的案件中被列入的比例",
        "each backtest day, the top cases up to the office's capacity (that day's list): "
        "the share that had the event / the share of the events the lists caught",
    ),
    (
        "capacity_hits / capacity_places",
        "各回测日清单位置之和，及其中实际发生事件的个数：容量内精确率的分子与分母（区间由此算出）",
        "the list places over the backtest days, and how many of them had the event: the "
        "numerator and denominator of precision at capacity (its interval comes from them)",
    ),
    (
        "bias audit: flag_rate / tpr, _max_gap / _max_ratio",
        "各县区、各类别的清单入选率与发生事件者的入选率，及组间最大差与最大比。比值超过 2 "
        "且组内正例不少于所列个数时值得查看：该组入选多，是因为事件确实多（看其发生率），"
        "还是模型对该组有偏？组内 ROC-AUC 低于 0.5 表示该组排序比随机还差",
        "per county and category, the share of cases on the lists and the share of those "
        "with the event on them, and the largest gap and ratio between groups. A ratio "
        "above 2 in groups with enough positives deserves a look: is the group flagged more "
        "because its events are more frequent (see its base rate), or is the model "
        "skewed? A group's ROC-AUC below 0.5 ranks it worse than chance",
    ),
    (
        "bias audit: tpr_vs_all, p_caught_this_few, caught_less",
        "该组发生事件者的入选率与全体之比；若按全体入选率，该组入选这么少的概率；"
        f"caught_less：比值低于 {CAUGHT_LESS_RATIO}、概率低于 {CAUGHT_LESS_P} 且正例不少于 "
        f"{BIAS_MIN_POSITIVES} 个的组，即该组真正升级的案件被明显漏掉，报告会点名，使用前请核查",
        "the group's true-positive rate over all positives' rate; the chance of catching "
        "this few of its positives at the overall rate; caught_less: a group with a ratio "
        f"under {CAUGHT_LESS_RATIO}, a chance under {CAUGHT_LESS_P} and at least "
        f"{BIAS_MIN_POSITIVES} positives, whose cases that did escalate the lists clearly "
        "missed more often: the report names it; look into it before use",
    ),
    (
        "precision_at_top1pct, _top5pct",
        "每日风险最高的 1% / 5% 案件中实际发生事件的比例",
        "the same for each day's riskiest 1% / 5% of cases",
    ),
    (
        "lift_at_capacity",
        "容量内精确率除以发生率：清单比随机抽取好多少倍",
        "precision at capacity over the base rate: how many times better than picking at random",
    ),
    (
        "rows / positives / base_rate",
        "回测的案件-日数、其中发生事件的个数及比例（计数，不是比例时为整数）",
        "the backtest's case-days, how many had the event, and their share",
    ),
    (
        "ratio (oracle)",
        "模型指标除以模拟真值（理想模型）的同一指标：只在模拟数据上有",
        "the model's figure over the oracle's (the simulator's own probabilities): "
        "simulated data only",
    ),
    (
        "None / nan / inf",
        "组内没有发生事件（或没有案件）时该指标无法计算；比值的分母为 0 时为 inf",
        "a figure that cannot be computed: no event (or no case) in the group; a ratio over 0",
    ),
)

BASELINES: tuple[tuple[str, str, str], ...] = (
    (
        "office rule",
        "信访部门的现行规则：越级访为 90 天内来信来访 3 次及以上，集体访为此前有过集"
        "体访；是/否在先，次数排序。它给的是名次不是概率，所以其 brier 与 ece 没有意"
        "义",
        "the office's rule of thumb: 3 or more contacts in 90 days (escalation), an "
        "earlier group visit (collective); yes or no first, the count breaking ties. It "
        "ranks, it gives no probability: its brier and ece mean nothing",
    ),
    (
        "logistic regression, hist gradient boosting",
        "同样的特征上训练的两种常用学习器，用来检验模型的增益（按评估计划可能抽样拟合"
        "，见“评估方式”）",
        "two standard learners fitted on the same features, to show what the model adds "
        '(fitted on a sample when the evaluation plan says so: see "how the evaluation '
        'was fitted")',
    ),
)


def reading_guide() -> str:
    """The report's first section: the figures and the baselines, in both languages."""
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(zh)}</td><td>{html.escape(en)}</td></tr>"
        for name, zh, en in (*FIGURES, *BASELINES)
    )
    return (
        "<h2>如何阅读本报告 / How to read this report</h2>"
        "<p>回测期内的案件-日从未用于拟合或校准；各表的指标如下。偏差审计只比较正例不少于 "
        f"{BIAS_MIN_POSITIVES} 个的组。 The backtest's case-days were never used to fit or "
        "calibrate; its figures are defined below. The bias audit compares groups with at "
        f"least {BIAS_MIN_POSITIVES} positives.</p>"
        f"<table><tr><th>figure</th><th>含义</th><th>meaning</th></tr>{rows}</table>"
    )
