"""What the backtest says, in a sentence per target: the model's list against the
office's own rule, by the cases that had the event among the list's places, with exact
intervals, and whether the difference is beyond chance at this office's size.

An analyst new to the report found no sentence saying whether the model beats the
office's rule, and no uncertainty anywhere: at a county's size the two lists' intervals
often overlap, and the report should say so before anyone promotes on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

from earlywarn.contract.rules import TARGET_NAMES

RULE = "office rule"


@dataclass(frozen=True)
class Share:
    hits: int
    places: int

    @property
    def rate(self) -> float:
        return self.hits / self.places if self.places else 0.0

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson, as the monitoring's matured precision has it: exact, never
        narrower than it should be."""
        if not self.places:
            return 0.0, 1.0
        found = binomtest(self.hits, self.places).proportion_ci(level, method="exact")
        return float(found.low), float(found.high)

    def words(self) -> str:
        low, high = self.interval()
        return f"{self.hits:,}/{self.places:,} ({self.rate:.1%}; 95% {low:.1%}–{high:.1%})"


def _share(figures: dict[str, float]) -> Share | None:
    if "capacity_places" not in figures:
        return None
    return Share(int(figures["capacity_hits"]), int(figures["capacity_places"]))


def verdict(target: str, metrics: dict[str, dict[str, float]], days: int) -> tuple[str, str]:
    """The sentence in Chinese and in English."""
    model, rule = _share(metrics.get("model", {})), _share(metrics.get(RULE, {}))
    name_zh, name_en = TARGET_NAMES[target]
    if model is None or rule is None or not model.places:
        return (
            f"{name_zh}：回测没有可比较的清单。",
            f"{name_en}: the backtest has no list to compare.",
        )
    ahead = model.rate > rule.rate
    beyond = model.interval()[0] > rule.interval()[1]
    if beyond:
        zh, en = "模型优于现行办法，超出偶然波动", "the model's list is ahead, beyond chance"
    elif ahead:
        zh = "模型领先，但两者区间重叠：在这个规模上尚不能排除偶然"
        en = (
            "the model's list is ahead, but the intervals overlap: at this size chance is "
            "not ruled out"
        )
    else:
        zh = "模型未优于现行办法：不宜据此推广"
        en = "the model's list is not ahead of the office's rule: do not promote on this backtest"
    same = (
        "各回测日的事项多有重复，实际不确定性大于所示区间。",
        "the backtest days share most of their cases, so the real uncertainty is wider than shown.",
    )
    return (
        f"{name_zh}：{days} 个回测日的清单位置中，模型清单命中 {model.words()}，现行办法命中 "
        f"{rule.words()}；{zh}。{same[0]}",
        f"{name_en}: of the list places on {days} backtest days, the model's list held "
        f"{model.words()} cases that had the event, the office rule's {rule.words()}; {en}; "
        f"{same[1]}",
    )
