"""The Chinese name of every code of the contract, as offices write them.

One table for everything that shows or reads a code in Chinese: the office page,
the exports, and the import of an office's own files (which also knows the
variants offices use, in ``ingest/vocabulary.py``).
"""

from __future__ import annotations

CATEGORY_ZH: dict[str, str] = {
    "land_requisition": "征地补偿",
    "demolition_resettlement": "拆迁安置",
    "land_dispute": "土地纠纷",
    "wage_arrears": "拖欠工资",
    "social_security": "社会保障",
    "cadre_conduct": "干部作风",
    "village_affairs": "村务管理",
    "neighbor_dispute": "邻里纠纷",
    "economic_dispute": "经济纠纷",
    "law_litigation": "涉法涉诉",
    "reservoir_migration": "水库移民",
    "enterprise_restructuring": "企业改制",
    "veterans_resettlement": "退役军人安置",
    "retiree_benefits": "退休待遇",
    "environment": "环境保护",
    "urban_management": "城市管理",
    "other": "其他",
}
NATURE_ZH: dict[str, str] = {
    "appeal": "申诉求决",
    "report": "揭发控告",
    "suggestion": "意见建议",
    "inquiry": "咨询",
}
CHANNEL_ZH: dict[str, str] = {
    "letter": "来信",
    "visit": "来访",
    "online": "网上信访",
    "phone": "电话",
}
LEVEL_ZH: dict[str, str] = {
    "village": "村",
    "township": "乡镇",
    "county": "县",
    "city": "市",
    "province": "省",
    "national": "国家",
}
ACTION_TYPE_ZH: dict[str, str] = {
    "accepted": "受理",
    "rejected": "不予受理",
    "assigned": "交办",
    "transferred": "转送",
    "leader_reception": "领导接访",
    "mediation": "调解",
    "responded": "答复",
    "satisfaction": "满意度评价",
    "review_requested": "申请复查",
    "review_decided": "复查决定",
    "re_review_requested": "申请复核",
    "re_review_decided": "复核决定",
    "relief_granted": "救助",
    "closed": "办结",
    "reopened": "重新办理",
    "terminated": "终结",
}
OUTCOME_ZH: dict[str, str] = {
    "agreed": "达成协议",
    "failed": "调解不成",
    "supported": "支持",
    "partly_supported": "部分支持",
    "not_supported": "不支持",
    "satisfied": "满意",
    "unsatisfied": "不满意",
    "upheld": "维持",
    "changed": "变更",
}
# The contract column each table of names belongs to.
NAMES_ZH: dict[str, dict[str, str]] = {
    "category": CATEGORY_ZH,
    "nature": NATURE_ZH,
    "channel": CHANNEL_ZH,
    "level": LEVEL_ZH,
    "action_type": ACTION_TYPE_ZH,
    "outcome": OUTCOME_ZH,
}
