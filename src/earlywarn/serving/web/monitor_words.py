"""Words of the monitoring page (模型监测) beyond the shared ones of ``i18n``: the
verdict, what a check not judged yet waits for, the precision comparison, the
backlog. Chinese first, English second. Feature names are the catalogue's."""

from __future__ import annotations

from earlywarn.features.catalogue import BY_NAME
from earlywarn.serving.web import i18n

KIND: dict[str, tuple[str, str]] = {
    "model": ("模型", "model"),
    "data": ("数据", "data"),
    "backlog": ("积压", "backlog"),
}
# What a check is about, when it is not a feature or a target.
SUBJECT: dict[str, tuple[str, str]] = {
    "cases": ("事项", "cases"),
    "contacts": ("来访记录", "contacts"),
    "actions": ("办理环节", "handling steps"),
    "contacts+actions": ("来访与办理记录", "contacts and handling steps"),
    "import": ("最近一次导入", "the last import"),
}

WORDS: dict[str, tuple[str, str]] = {
    "verdict": ("结论", "Verdict"),
    "v_none": (
        "该日没有任何检查记录，无法判断模型是否仍然适用。",
        "No check was recorded for this day: whether the model still fits cannot be told.",
    ),
    "v_none_step": (
        "请运行 earlywarn monitor --data <数据集目录> --date {day}。",
        "Run earlywarn monitor --data <dataset directory> --date {day}.",
    ),
    "v_waiting": (
        "尚不能判断：当日的检查都还在等待数据。",
        "Cannot tell yet: every check of the day is still waiting for data.",
    ),
    "v_fits": (
        "模型仍然适用：已判断的 {n} 项检查均正常，无需处理。",
        "The model still fits: all {n} checks judged are fine; nothing to do.",
    ),
    "v_watch": (
        "需要关注：{names} 为“注意”。模型可以继续使用。",
        "Watch: {names} warn. The model can stay in use.",
    ),
    "v_watch_model": (
        "留意这些检查在接下来几天是否升为告警；若升为告警，按告警处理。",
        "See whether they turn into alerts over the next days; if they do, act on the alert.",
    ),
    "v_watch_data": (
        "核对当晚的导出是否完整，以及导入报告中的未识别值。",
        "Check that the night's export was complete, and the unknown values in the import report.",
    ),
    "v_retrain": (
        "模型可能已不符合当前数据：{names} 告警。",
        "The model may no longer fit the data: {names} alert.",
    ),
    "v_retrain_step": (
        "下一步：重新训练。运行 earlywarn retrain --data <数据集目录> 训练挑战者版本，"
        "用 earlywarn models 对比回测，较优时用 earlywarn promote --target <目标> "
        "--version <版本> 替换正式版本。",
        "Next step: retrain. Run earlywarn retrain --data <dataset directory> to train a "
        "challenger, compare the backtests with earlywarn models, and make it the champion "
        "with earlywarn promote --target <target> --version <version> when it is better.",
    ),
    "v_scores": (
        "评分分布突变：{names} 告警，但输入特征和到期清单都没有告警。",
        "The scores moved: {names} alert, while no input feature and no matured list does.",
    ),
    "v_scores_step": (
        "下一步：先核对当日清单：临近敏感节点、集中来访都会真实地推高评分。"
        "若连续几天仍告警，再重新训练（earlywarn retrain --data <数据集目录>）。",
        "Next step: look at the day's list first: an approaching sensitive period or a wave "
        "of contacts raises the scores for real. If it still alerts after a few days, retrain "
        "(earlywarn retrain --data <dataset directory>).",
    ),
    "v_fix_import": (
        "当晚的数据有问题：{names} 告警。其他检查读的都是这份数据，结论暂不可信。",
        "The night's data is wrong: {names} alert. Every other check read that data, so "
        "their results cannot be trusted yet.",
    ),
    "v_fix_import_step": (
        "下一步：修复数据导入。核对办公室的导出、导入报告（数据集目录中的 "
        "import-report.json）和隔离文件，修复后重新运行 earlywarn daily --source <导出> "
        "--date {day}。",
        "Next step: fix the import. Check the office's export, the import report "
        "(import-report.json in the dataset directory) and the quarantine files, then run "
        "earlywarn daily --source <export> --date {day} again.",
    ),
    "v_after": (
        "修复后若 {names} 仍告警，再重新训练。",
        "If {names} still alert once the import is fixed, retrain.",
    ),
    "v_waiting_list": ("尚未判断 {n} 项：{items}。", "{n} not judged yet: {items}."),
    "v_backlog": (
        "积压：{names}，在办事项比训练时更老。这是办公室的积压，不是模型失效，"
        "不计入以上结论，也不需要因此重新训练；请清理长期未结的事项。",
        "Backlog: {names}: the open cases are older than at training. That is the office's "
        "backlog, not the model failing; it is left out of the verdict above and is no "
        "reason to retrain. Work through the long-open cases.",
    ),
    "and_more": ("等共 {n} 项", "and more, {n} in all"),
    "not_judged": ("尚未判断", "not judged yet"),
    "wait_earlier_days": (
        "需要此前 28 天内至少 {needs} 个已监测的日子，目前 {days} 个；"
        "每天监测（每日任务即如此）才能判断",
        "needs {needs} monitored days among the 28 before, has {days}: monitor every day "
        "(the nightly job does), or it is never judged",
    ),
    "wait_matured_list": (
        "还没有到期的清单；最早的清单（{first}）将于 {matures} 到期",
        "no list has matured yet; the first list ({first}) matures on {matures}",
    ),
    "wait_no_list": (
        "还没有到期的清单，也没有已存储的清单",
        "no list has matured yet, and none is stored",
    ),
    "wait_flagged": (
        "到期清单上没有未采取措施的预警事项",
        "the matured list has no flagged case the office did not act on",
    ),
    "wait_retrained": (
        "模型训练时未保存回测各日的预警比例；重新训练后即可判断",
        "the model keeps no backtest days' share flagged: judged once it is retrained",
    ),
    "wait_unknown": ("缺少判断所需的数据", "the data it needs is missing"),
    "kind": ("类别", "Kind"),
    "why": ("说明", "Note"),
    "points": ("{value} 个百分点", "{value} points"),
    "bounds_shortfall": (
        "{warn} / {alert} 个百分点，且 p < {p_warn} / {p_alert}",
        "{warn} / {alert} points, with p < {p_warn} / {p_alert}",
    ),
    "precision_title": ("承诺精确率与到期精确率", "Promised and matured precision"),
    "precision_help": (
        "承诺：到期清单上预警事项的平均预测概率；到期：其中在 {days} 天内实际发生的比例。"
        "只比较未采取措施的预警事项（措施可能正是事项未升级的原因）。"
        "区间为精确（Clopper-Pearson）95% 区间，p 值为单侧精确二项检验："
        "差距至少 {warn} 个百分点且 p < {p_warn} 为注意，至少 {alert} 个百分点且 "
        "p < {p_alert} 为告警。",
        "Promised: the mean predicted probability of the matured list's flagged cases; "
        "matured: the share of them that happened within {days} days. Only flagged cases "
        "the office did not act on are compared (an action may be why a case did not "
        "escalate). The interval is the exact (Clopper-Pearson) 95% interval, the p-value a "
        "one-sided exact binomial test: a gap of {warn} points or more with p < {p_warn} "
        "warns, {alert} points or more with p < {p_alert} alerts.",
    ),
    "col_target": ("目标", "Target"),
    "col_list": ("到期清单", "Matured list"),
    "col_promised": ("承诺", "Promised"),
    "col_matured": ("到期", "Matured"),
    "col_gap": ("低于承诺（承诺 − 到期）", "Short of the promise (promised − matured)"),
    "col_cases": ("事项数（发生）", "Cases (happened)"),
    "col_interval": ("95% 区间", "95% interval"),
    "col_p": ("p 值", "p-value"),
    "col_reading": ("判读", "Reading"),
    "col_today": ("今日清单预期（估计）", "Today's list, expected (estimate)"),
    "read_short_sig": ("低于承诺，超出偶然波动", "below the promise, beyond chance"),
    "read_short_chance": ("低于承诺，但在偶然波动范围内", "below the promise, within chance"),
    "read_above": ("不低于承诺", "at or above the promise"),
    "acted_out": ("另有 {n} 件已采取措施，未计入", "{n} acted on, left out"),
    "no_comparison": (
        "此日的记录未含比较（较早的记录）",
        "not compared in this day's record (an older record)",
    ),
    "backlog_title": ("在办事项时长（积压）", "Age of open cases (backlog)"),
    "backlog_help": (
        "登记以来天数和距首次来信来访天数，事项每多开一天就加一天；长期未结的事项越多，"
        "它们离训练时越远。这是积压，不是模型失效：单独判断，不计入当日状态和结论。",
        "Days since registration and since the first contact grow by one each day a case "
        "stays open; the more long-open cases, the further they sit from training. That is "
        "the backlog, not the model failing: judged apart, left out of the day's status and "
        "verdict.",
    ),
    "col_median": ("今日中位数（天）", "Median today (days)"),
    "col_beyond": (
        "超过训练时第 90 百分位的比例：今日 / 训练时",
        "Beyond training's 90th percentile: today / at training",
    ),
    "beyond": ("{today} / {reference}（{p90} 天以上）", "{today} / {reference} (over {p90} days)"),
    "measures_title": ("其他度量（无状态）", "Other measures (no status of their own)"),
    "list_of": ("{day}清单", "list of {day}"),
}


def word(key: str, lang: i18n.Language, **values: object) -> str:
    zh, en = WORDS[key]
    return (zh if lang == "zh" else en).format(**values)


def feature_name(code: str, lang: i18n.Language) -> str | None:
    """The catalogue's name of a feature in the page's language; None for another code."""
    spec = BY_NAME.get(code)
    if spec is None:
        return None
    return spec.label_zh if lang == "zh" else spec.label_en


def joined(names: list[str], lang: i18n.Language, most: int = 5) -> str:
    """Names in a sentence: the first ``most``, then how many in all."""
    shown = ("、" if lang == "zh" else "; ").join(names[:most])
    if len(names) > most:
        shown += ("" if lang == "zh" else ", ") + word("and_more", lang, n=len(names))
    return shown
