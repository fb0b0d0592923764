"""Words and number/date formats of the office page: Chinese first, English on request."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from earlywarn.contract.names import ACTION_TYPE_ZH, CATEGORY_ZH, CHANNEL_ZH, LEVEL_ZH, OUTCOME_ZH
from earlywarn.contract.rules import OFFICE_ZONE

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

_CATEGORY_EN: dict[str, str] = {
    "land_requisition": "land requisition",
    "demolition_resettlement": "demolition and resettlement",
    "land_dispute": "land dispute",
    "wage_arrears": "wage arrears",
    "social_security": "social security",
    "cadre_conduct": "cadre conduct",
    "village_affairs": "village affairs",
    "neighbor_dispute": "neighbour dispute",
    "economic_dispute": "economic dispute",
    "law_litigation": "law and litigation",
    "reservoir_migration": "reservoir migration",
    "enterprise_restructuring": "enterprise restructuring",
    "veterans_resettlement": "veterans' resettlement",
    "retiree_benefits": "retiree benefits",
    "environment": "environment",
    "urban_management": "urban management",
    "other": "other",
}
# The Chinese names are the contract's own (``contract/names.py``).
CATEGORY: dict[str, tuple[str, str]] = {c: (CATEGORY_ZH[c], en) for c, en in _CATEGORY_EN.items()}
LEVEL: dict[str, tuple[str, str]] = {level: (zh, level) for level, zh in LEVEL_ZH.items()}
# A case's history in the office's words; in English, the contract's codes as words.
CHANNEL = {code: (zh, code.replace("_", " ")) for code, zh in CHANNEL_ZH.items()}
ACTION = {code: (zh, code.replace("_", " ")) for code, zh in ACTION_TYPE_ZH.items()}
OUTCOME = {code: (zh, code.replace("_", " ")) for code, zh in OUTCOME_ZH.items()}
BAND: dict[str, tuple[str, str]] = {
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}
DECISION: dict[str, tuple[str, str]] = {
    "acknowledged": ("已知悉", "acknowledged"),
    "action_taken": ("已采取措施", "action taken"),
    "dismissed": ("不予采纳", "dismissed"),
}
ROLE: dict[str, tuple[str, str]] = {
    "case_system": ("案件系统", "case system"),
    "office": ("信访办", "office"),
    "analyst": ("分析员", "analyst"),
    "admin": ("管理员", "admin"),
}
TARGET: dict[str, tuple[str, str]] = {
    "escalation": ("越级访风险", "escalation risk"),
    "collective": ("集体访风险", "collective-petition risk"),
}
STATUS: dict[str, tuple[str, str]] = {
    "ok": ("正常", "ok"),
    "warn": ("注意", "warn"),
    "alert": ("告警", "alert"),
}
CHECK: dict[str, tuple[str, str]] = {
    "backlog_psi": ("在办时长漂移（积压，PSI）", "age of open cases (backlog, PSI)"),
    "precision_shortfall": (
        "到期清单精确率低于承诺（百分点）",
        "matured list: precision below the promise (points)",
    ),
    "input_psi": ("输入漂移（PSI）", "input drift (PSI)"),
    "score_shift": ("评分漂移（标准差）", "score drift (standard deviations)"),
    "share_flagged": ("预警比例", "share flagged"),
    "scoring_population": ("在办事项数", "open cases scored"),
    "mean_probability": ("平均概率", "mean probability"),
    "expected_precision": ("预期精确率（估计）", "expected precision (estimate)"),
    "newest_record_days": ("最新记录距今天数", "age of the newest record (days)"),
    "quarantine_share": ("隔离行比例", "share of rows quarantined"),
    "unmapped_share": ("导入未识别值比例", "share of imported rows with unknown values"),
    "unmapped_headers": ("导入未识别列", "imported columns not read"),
    "matured_precision": ("到期清单精确率", "matured list: precision"),
    "matured_recall": ("到期清单召回率", "matured list: recall"),
    "matured_precision_acted": (
        "到期清单精确率（已采取措施）",
        "matured list: precision, acted on",
    ),
    "matured_precision_not_acted": (
        "到期清单精确率（未采取措施）",
        "matured list: precision, not acted on",
    ),
    "matured_auc": ("到期清单 ROC-AUC", "matured list: ROC-AUC"),
    "calibration_gap": ("校准偏差", "calibration gap"),
}

# Interface words: key -> (中文, English)
WORDS: dict[str, tuple[str, str]] = {
    "app": ("信访事项风险预警", "Petition early warning"),
    "daily_list": ("每日风险清单", "Daily risk list"),
    "trends": ("趋势与成效", "Trends and track record"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "key": ("访问密钥", "Access key"),
    "key_help": (
        "请输入本单位的访问密钥。密钥不会出现在网址中。",
        "Enter your office's access key. It never appears in an address.",
    ),
    "bad_key": ("密钥无效或已停用。", "The key is unknown or revoked."),
    "wrong_role": (
        "此密钥不能查看清单（仅限信访办、分析和管理密钥）。",
        "This key cannot view lists (office, analyst and admin keys only).",
    ),
    "county": ("县区", "County"),
    "all_counties": ("全部县区", "all counties"),
    "date": ("清单日期", "List date"),
    "category": ("类别", "Category"),
    "township": ("乡镇", "Township"),
    "band": ("风险等级", "Band"),
    "flag": ("预警", "Flag"),
    "flagged": ("已预警", "flagged"),
    "not_flagged": ("未预警", "not flagged"),
    "reviewed": ("核查状态", "Review"),
    "yes_reviewed": ("已核查", "reviewed"),
    "not_reviewed": ("未核查", "not reviewed"),
    "any": ("全部", "any"),
    "apply": ("筛选", "Filter"),
    "sort": ("排序", "Sort"),
    "sort_rank": ("按排名", "by rank"),
    "sort_escalation": ("按越级访风险", "by escalation risk"),
    "sort_collective": ("按集体访风险", "by collective risk"),
    "sort_days": ("按距上次来访天数", "by days since last contact"),
    "page_size": ("每页", "Per page"),
    "rank": ("排名", "Rank"),
    "case": ("事项编号", "Case"),
    "escalation": ("越级访", "Escalation"),
    "collective": ("集体访", "Collective"),
    "reasons": ("主要原因", "Main reasons"),
    "step": ("建议措施", "Recommended step"),
    "changes": ("较上期变化", "Since the last list"),
    "days_since": ("距上次来访", "Since last contact"),
    "days_unit": ("天", "days"),
    "review_state": ("核查", "Review"),
    "export_xlsx": ("导出 Excel", "Export Excel"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page_of": ("第 {page} / {pages} 页，共 {total} 件", "Page {page} of {pages}, {total} cases"),
    "no_list": ("该日没有风险清单。", "There is no risk list for that day."),
    "no_rows": ("没有符合筛选条件的事项。", "No case matches these filters."),
    "no_rows_at_all": (
        "这一天的清单没有可显示的事项（本单位所辖范围内无待办事项）。",
        "This day's list holds no case this key may see.",
    ),
    "no_list_that_day": ("（无清单）", "(no list)"),
    "nearest_lists": ("最近的清单：", "The nearest lists:"),
    "changes_since": ("与{date}清单相比", "against the list of {date}"),
    "no_earlier_list": (
        "无上期清单可比较（生成时尚无更早的清单）",
        "no earlier list to compare with (none was stored when it was built)",
    ),
    "more_steps": ("另有 {n} 项，见事项页", "{n} more on the case page"),
    "odd_parameters": (
        "以下筛选条件无法识别，已忽略：{names}",
        "Ignored what the page does not know: {names}",
    ),
    "page_beyond": (
        "没有第 {asked} 页（共 {pages} 页），显示最后一页。",
        "There is no page {asked} (of {pages}): the last page is shown.",
    ),
    "page_before": (
        "没有第 {asked} 页，显示第一页。",
        "There is no page {asked}: the first page is shown.",
    ),
    "size_limits": (
        "每页条数须在 1 至 {most} 之间（请求的是 {asked}），按 {size} 条显示。",
        "A page holds 1 to {most} cases ({asked} asked): {size} are shown.",
    ),
    "odd_date": (
        "日期“{date}”无法识别，显示最新清单。",
        "The date “{date}” is not a date: the newest list is shown.",
    ),
    "capacity_note": (
        "处理能力：每天 {capacity} 件，即全清单排名前 {capacity} 件（标“今日”），先处理。",
        "Capacity: {capacity} cases a day, the list's first {capacity} by rank (marked "
        "“today”): work them first.",
    ),
    "over_capacity": (
        "清单上（不计筛选）高风险事项 {high} 件，其中标“今日”的 {todays} 件先处理，"
        "其余高风险事项持续关注。",
        "{high} high-band cases on the list (whatever the filters), of which the {todays} "
        "marked “today” come first; watch the other high cases.",
    ),
    "capacity_line": (
        "以上为今日工作量（全清单排名前 {capacity} 件）",
        "Above: today's work (the list's first {capacity} by rank)",
    ),
    "today_mark": ("今日", "today"),
    "list_age": (
        "注意：这是 {days} 天前的清单，不是今天的。",
        "Note: this list is {days} days old, not today's.",
    ),
    "as_of": ("数据截至", "Data as of"),
    "models": ("模型版本", "Models"),
    "advice": (
        "评分仅供参考，须由工作人员核实后处置。",
        "Scores are advice to a person: check before acting.",
    ),
    "timeline": ("来访与办理时间线", "Contacts and handling over time"),
    "timeline_help": (
        "圆点：来访，纵轴为层级，大小为人数；竖线：办理环节；阴影：敏感时期。",
        "Dots: contacts, height = level, size = group size; ticks: handling steps; "
        "shading: sensitive periods.",
    ),
    "contributions": ("影响评分的因素", "What moved the score"),
    "contributions_help": (
        "向右（红）提高风险，向左（蓝）降低风险。",
        "Right (red) raises the risk, left (blue) lowers it.",
    ),
    "history": ("历次清单中的评分", "Score on earlier lists"),
    "review_form": ("核查登记", "Record the review"),
    "decision": ("核查结论", "Decision"),
    "reason": ("说明", "Reason"),
    "reason_help": (
        "不予采纳时必填；请勿填写姓名、身份证号或电话。",
        "Required when dismissed; no names, ID or phone numbers.",
    ),
    "submit": ("提交", "Submit"),
    "saved": ("已保存核查结论。", "The review was saved."),
    "past_reviews": ("核查记录", "Reviews so far"),
    "on_list_of": ("{date}清单", "list of {date}"),
    "review_older_list": (
        "注意：这是{day}的清单，已有更新的清单（{newer}）。在此提交的核查记在{day}的清单上。",
        "Note: this is the list of {day}; a newer list exists ({newer}). A review submitted "
        "here is recorded on the list of {day}.",
    ),
    "reviewed_before": ("上次核查：{date}，{decision}", "last reviewed {date}: {decision}"),
    "recorded_by": ("记录人密钥", "recorded with key"),
    "contacts": ("来访记录", "Contacts"),
    "actions": ("办理环节", "Handling steps"),
    "not_found": ("未找到该事项，或无权查看。", "Case not found, or not visible to this key."),
    "loading": ("案件历史正在加载，请稍后刷新。", "Case histories are loading; refresh shortly."),
    "flags_per_day": ("每日预警数（按目标）", "Flags per day by target"),
    "flags_by_category": ("预警数（按类别，最近清单）", "Flags by category (latest list)"),
    "share_reviewed": ("已核查比例", "Share reviewed"),
    "precision": ("往期清单的精确率", "How past lists turned out"),
    "precision_help": (
        "预警事项在其后 {days} 天内实际越级或集体访的比例；仅统计已到期的清单。",
        "Share of flagged cases that did escalate or come back as a group within "
        "{days} days; only lists whose window has passed.",
    ),
    "no_matured": ("尚无到期的清单。", "No list has matured yet."),
    "monitor": ("模型监测", "Model monitoring"),
    "monitor_help": (
        "输入漂移、评分漂移、数据质量与到期清单的实际效果；各项阈值见本页末尾。",
        "Input drift, score drift, data quality and how matured lists turned out; each "
        "check's thresholds are at the end of this page.",
    ),
    "thresholds": ("各项检查的阈值", "Each check's thresholds"),
    "no_monitoring": (
        "尚无监测记录：请运行 earlywarn monitor。",
        "Nothing monitored yet: run earlywarn monitor.",
    ),
    "checks": ("检查项", "Checks"),
    "check": ("检查", "Check"),
    "subject": ("对象", "Subject"),
    "bounds": ("注意 / 告警阈值", "Warn / alert from"),
    "status": ("状态", "Status"),
    "monitored_days": ("近期监测", "Days monitored"),
    "monitor_alert": ("模型监测告警", "Monitoring alert"),
    "monitor_warn": ("模型监测提示", "Monitoring warning"),
    "analysts_only": (
        "仅分析员和管理员可查看模型监测。",
        "Model monitoring is for analysts and admins.",
    ),
    "language": ("English", "中文"),
    "skip": ("跳到主要内容", "Skip to main content"),
    "level": ("层级", "Level"),
    "group_size": ("人数", "Group size"),
    "channel": ("方式", "Channel"),
    "when": ("时间", "When"),
    "type": ("环节", "Type"),
    "outcome": ("结果", "Outcome"),
    "value": ("取值", "Value"),
    "back": ("返回清单", "Back to the list"),
    "bad_request": (
        "请求中有无效的值，请返回后重试。",
        "Something in the request is not valid; go back and try again.",
    ),
    "page_not_found": ("没有这个页面。", "There is no such page."),
    "forbidden": ("此密钥无权进行该操作。", "This key may not do this."),
    "too_large": ("提交的内容过大。", "What was sent is too large."),
    "cross_site": (
        "只能从本系统的登录页登录。",
        "Sign in from this service's own sign-in page.",
    ),
    "too_many_attempts": (
        "失败次数过多，请稍后再试。",
        "Too many failed attempts; try again later.",
    ),
    "store_busy": ("系统暂时繁忙，请稍后刷新。", "The service is busy; refresh shortly."),
    "internal_error": (
        "系统出现内部错误，已记录；请稍后重试。",
        "Something went wrong inside the service; it has been logged. Try again shortly.",
    ),
    "form_renewed": (
        "表单来自之前的登录（可能在其他窗口重新登录过），尚未保存：请核对后再次提交。",
        "The form came from an earlier sign-in (signed in again in another window?) and "
        "was not saved: check it and send it again.",
    ),
    "case_not_that_day": (
        "该事项不在这一天的清单上。它在以下清单上：",
        "This case is not on that day's list. It was on these lists:",
    ),
    "step_help": (
        "所选措施只在“已采取措施”时记录。",
        "The step is recorded only with “action taken”.",
    ),
    "session_ended": ("登录已过期，请重新登录。", "Your session has ended: sign in again."),
    "session_ended_unsaved": (
        "登录已过期，刚才提交的内容未能保存：重新登录后请再次填写。",
        "Your session ended before the form was sent, so it was not saved: sign in and "
        "enter it again.",
    ),
    "county_not_listed": (
        "县区“{county}”在这一天的清单上没有事项：请核对县区代码。",
        "County “{county}” has no case on this day's list: check the county code.",
    ),
    "data_table": ("数据表", "table of values"),
    "first_page": ("第一页", "first"),
    "last_page": ("最后一页", "last"),
    "page_n": ("第 {page} / {pages} 页", "page {page} of {pages}"),
    "nav_main": ("主导航", "main"),
    "nav_pages": ("翻页", "pages"),
    "print_scope": ("范围：{county}；{filters}", "Scope: {county}; {filters}"),
    "whole_list": ("全部事项（未筛选）", "all cases (no filter)"),
    "form_token": (
        "表单已失效，请刷新页面后重新提交。",
        "The form has expired; reload the page and send it again.",
    ),
    "may_not_review": ("此密钥不能登记核查结论。", "This key may not record reviews."),
    "no_export": (
        "没有该日的清单，或不支持该导出格式。",
        "There is no list for that day, or no such export format.",
    ),
    "review_decision": ("请选择核查结论。", "Choose a decision."),
    "review_step": ("请选择所采取的措施。", "Choose the step that was taken."),
    "review_reason": ("不予采纳时须填写说明。", "A dismissal needs a reason."),
    "review_text": (
        "说明含有无法保存的字符，或超过 2000 字。",
        "The reason holds a character that cannot be stored, or is over 2,000 characters.",
    ),
    "probability": ("概率", "Probability"),
    "lists": ("清单数", "Lists"),
    "flagged_cases": ("预警事项", "Flagged cases"),
    "hits": ("实际发生", "Happened"),
    "precision_short": ("精确率", "Precision"),
}


def word(key: str, language: Language, **values: object) -> str:
    """A word of ``WORDS`` in one language, its ``{placeholders}`` filled from ``values``."""
    pair = WORDS[key]
    text = pair[0] if language == "zh" else pair[1]
    return text.format(**values) if values else text


def label(table: dict[str, tuple[str, str]], key: str | None, language: Language) -> str:
    if key is None:
        return "-"
    pair = table.get(key)
    if pair is None:
        return key
    return pair[0] if language == "zh" else pair[1]


def date_text(day: dt.date | dt.datetime | None, language: Language) -> str:
    """2025年10月31日 in Chinese, 2025-10-31 in English."""
    if day is None:
        return "-"
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%Y-%m-%d")


def month_text(day: dt.date, language: Language) -> str:
    return f"{day.year}年{day.month}月" if language == "zh" else f"{day:%Y-%m}"


def moment_text(moment: dt.datetime | None, language: Language) -> str:
    if moment is None:
        return "-"
    return f"{date_text(moment, language)} {moment:%H:%M}"


def as_of_text(moment: dt.datetime | None, language: Language) -> str:
    """A list's moment: the end of its day said as that day's 24:00, not the next day's
    00:00 beside the list's own date (清单日期 12月31日, 数据截至 12月31日 24:00)."""
    if moment is not None and moment.time() == dt.time():
        return f"{date_text(moment - dt.timedelta(days=1), language)} 24:00"
    return moment_text(moment, language)


def recorded_text(moment_utc: dt.datetime | None, language: Language) -> str:
    """When the service recorded something (its clock is UTC), in the office's time."""
    if moment_utc is None:
        return "-"
    local = moment_utc.replace(tzinfo=dt.UTC).astimezone(OFFICE_ZONE)
    return f"{moment_text(local, language)} {'北京时间' if language == 'zh' else 'Beijing time'}"


def percent(probability: float | None) -> str:
    if probability is None or math.isnan(probability):
        return "-"
    return f"{probability * 100:.1f}%"


def whole_days(days: float | None) -> str:
    """Whole days gone, as the ledger counts them (down: 22.9 days is 22)."""
    if days is None or math.isnan(days):
        return "-"
    return number(math.floor(days))


def number(value: float | int | None, digits: int = 0) -> str:
    """Thousands grouped with commas in both languages (the Chinese convention too)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"
