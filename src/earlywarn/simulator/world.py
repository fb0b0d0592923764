"""The static world of the simulator: areas, departments, categories and the rates
that drive petitioners and offices.

Every number here is a modelling choice, calibrated against the figures of
``shared/spec/domain.md`` (see docs/simulator.md for the table of targets).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from earlywarn.contract.spec import CATEGORIES, CATEGORY_FAMILY, LEVELS, NATURES

LEVEL = {name: index for index, name in enumerate(LEVELS)}
COUNTY = LEVEL["county"]
NATIONAL = LEVEL["national"]
CATEGORY = {name: index for index, name in enumerate(CATEGORIES)}

# Departments of a county government (code, the categories they own).
DEPARTMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ZRZYJ", ("land_requisition", "land_dispute")),  # 自然资源局
    ("ZJJ", ("demolition_resettlement",)),  # 住建局
    ("RSJ", ("wage_arrears", "social_security", "retiree_benefits")),  # 人社局
    ("MZJ", ("social_security",)),  # 民政局
    ("JWJ", ("cadre_conduct",)),  # 纪委监委
    ("NYNCJ", ("village_affairs", "land_dispute")),  # 农业农村局
    ("SFJ", ("neighbor_dispute", "economic_dispute", "law_litigation")),  # 司法局
    ("SLJ", ("reservoir_migration",)),  # 水利局
    ("GZW", ("enterprise_restructuring",)),  # 国资办
    ("TYJRJ", ("veterans_resettlement",)),  # 退役军人事务局
    ("STHJJ", ("environment",)),  # 生态环境局
    ("CGJ", ("urban_management", "demolition_resettlement")),  # 城管局
    ("XFJ", ("other",)),  # 信访局
)


@dataclass(frozen=True)
class CategoryProfile:
    """How cases of one category arrive and behave."""

    share: float  # of new cases
    shared_interest: float  # probability that many people share the grievance
    dispute: bool  # mediation is a usual step
    relief: bool  # hardship relief (救助) can apply
    report_share: float  # share of reports (揭发控告) among its cases
    resolvability: float  # mean of the hidden chance that the problem can be solved
    intensity: float  # median of the hidden grievance intensity


# Shares of new cases; land and money dominate, as in the brief's inspections.
PROFILES: dict[str, CategoryProfile] = {
    "land_requisition": CategoryProfile(0.18, 0.55, False, False, 0.15, 0.40, 1.9),
    "demolition_resettlement": CategoryProfile(0.07, 0.45, False, False, 0.15, 0.40, 1.3),
    "land_dispute": CategoryProfile(0.10, 0.10, True, False, 0.10, 0.55, 1.5),
    "wage_arrears": CategoryProfile(0.11, 0.50, False, True, 0.05, 0.60, 1.1),
    "social_security": CategoryProfile(0.07, 0.15, False, True, 0.05, 0.55, 1.0),
    "cadre_conduct": CategoryProfile(0.14, 0.05, False, False, 0.95, 0.45, 0.7),
    "village_affairs": CategoryProfile(0.06, 0.35, False, False, 0.70, 0.45, 0.9),
    "neighbor_dispute": CategoryProfile(0.05, 0.02, True, False, 0.05, 0.65, 0.7),
    "economic_dispute": CategoryProfile(0.04, 0.05, True, False, 0.10, 0.55, 0.8),
    "law_litigation": CategoryProfile(0.04, 0.05, False, False, 0.50, 0.30, 0.9),
    "reservoir_migration": CategoryProfile(0.03, 0.70, False, True, 0.05, 0.35, 1.8),
    "enterprise_restructuring": CategoryProfile(0.02, 0.70, False, False, 0.10, 0.35, 1.0),
    "veterans_resettlement": CategoryProfile(0.02, 0.60, False, False, 0.05, 0.35, 1.0),
    "retiree_benefits": CategoryProfile(0.03, 0.55, False, True, 0.05, 0.45, 1.0),
    "environment": CategoryProfile(0.03, 0.40, False, False, 0.20, 0.50, 0.9),
    "urban_management": CategoryProfile(0.03, 0.10, False, False, 0.15, 0.60, 1.0),
    "other": CategoryProfile(0.01, 0.05, False, False, 0.30, 0.60, 0.8),
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(CATEGORY_FAMILY.values()))


@dataclass(frozen=True)
class Rates:
    """Coefficients of the petitioner and office behaviour (per day unless named)."""

    contact_base: float = 0.011
    agitation_decay: float = 0.93
    agitation_per_contact: float = 0.28
    agitation_unsatisfied: float = 0.9
    weekend: float = 0.45
    sensitive_contact: float = 1.7
    local_event_contact: float = 2.5
    resolved_contact: float = 0.05
    overdue_per_day: float = 0.02
    # Logit of a skip-level contact.
    up_intercept: float = -5.0
    up_dissatisfied: float = 1.3
    up_overdue_per_day: float = 0.025
    up_transfer: float = 0.35
    up_earlier_escalation: float = 0.7
    up_sensitive: float = 0.9
    up_intensity: float = 0.6
    up_agitation: float = 0.45
    up_leader: float = -1.6
    # Logit of a group visit for a shared-interest case.
    group_intercept: float = -2.5
    group_sensitive: float = 1.0
    group_neighbours: float = 0.7
    group_agitation: float = 0.45
    group_dissatisfied: float = 0.7
    group_leader: float = -1.0
    group_turnout: float = 0.55
    # Offices.
    reject_share: float = 0.05
    answer_days_mean: float = 27.0
    transfer_base: float = 0.004
    leader_after_escalation: float = 0.5
    mediation_daily: float = 0.02
    relief_daily: float = 0.004
    reopen_daily: float = 0.004


@dataclass(frozen=True)
class Traits:
    """What else makes one world of the family differ from another (simulator/family.py).

    The defaults are the reference world, the one every earlier release simulated; with
    them the simulation draws exactly the random numbers it always drew.
    """

    category_shares: tuple[float, ...] = ()  # () : the profiles' shares
    # Standard deviation of the log of a petitioner's hidden temper: how much more (or
    # less) readily one person presses, climbs and rallies others than another with the
    # same grievance. Carried to every matter the same person brings.
    temper_spread: float = 0.0
    repeat_petitioner: float = 0.12  # share of new cases brought by someone with an earlier one
    local_events_per_county_year: float = 3.0  # unannounced events no calendar lists
    local_event_strength: tuple[float, float] = (1.8, 3.5)
    escalation_noise: float = 0.5  # sd of the per-contact noise in the skip-level logit

    def shares(self) -> np.ndarray:
        return np.asarray(self.category_shares) if self.category_shares else CATEGORY_SHARES


@dataclass
class World:
    """Counties, townships and departments, with the hidden quality of each department."""

    county_codes: tuple[str, ...]
    township_codes: tuple[str, ...]
    township_county: np.ndarray  # county index of each township
    unit_codes: tuple[str, ...]
    unit_county: np.ndarray
    unit_department: np.ndarray  # index into DEPARTMENTS
    unit_slowness: np.ndarray  # multiplies answer delays (hidden)
    unit_transfer: np.ndarray  # daily chance of passing a case on (hidden)
    rates: Rates = field(default_factory=Rates)
    traits: Traits = field(default_factory=Traits)

    @property
    def n_townships(self) -> int:
        return len(self.township_codes)

    def department_units(self, county: np.ndarray, category: np.ndarray) -> np.ndarray:
        """The unit that owns a new case: the department of its category in its county."""
        owner = np.array(
            [next(i for i, (_, cats) in enumerate(DEPARTMENTS) if c in cats) for c in CATEGORIES]
        )
        return county * len(DEPARTMENTS) + owner[category]


def build_world(
    rng: np.random.Generator, counties: int = 6, townships_per_county: int = 12
) -> World:
    """A prefecture-like area: counties with townships and a full set of departments each."""
    # Area codes in the style of GB/T 2260: prefecture 33xx, county two more digits.
    county_codes = tuple(
        f"33{2 + index // 90:02d}{11 + index % 90:02d}" for index in range(counties)
    )
    township_codes = tuple(
        f"{code}{t + 1:03d}" for code in county_codes for t in range(townships_per_county)
    )
    township_county = np.repeat(np.arange(counties), townships_per_county)
    unit_codes = tuple(f"{code}-{dept}" for code in county_codes for dept, _ in DEPARTMENTS)
    n_units = len(unit_codes)
    unit_county = np.repeat(np.arange(counties), len(DEPARTMENTS))
    unit_department = np.tile(np.arange(len(DEPARTMENTS)), counties)
    # A few slow departments answer late and pass cases around (推诿扯皮).
    slowness = rng.lognormal(0.0, 0.35, n_units)
    slow = rng.random(n_units) < 0.15
    slowness[slow] *= 1.8
    transfer = Rates().transfer_base * np.where(slow, 3.5, 1.0) * rng.lognormal(0.0, 0.4, n_units)
    return World(
        county_codes=county_codes,
        township_codes=township_codes,
        township_county=township_county,
        unit_codes=unit_codes,
        unit_county=unit_county,
        unit_department=unit_department,
        unit_slowness=slowness,
        unit_transfer=transfer,
    )


CATEGORY_SHARES = np.array([PROFILES[c].share for c in CATEGORIES])
CATEGORY_SHARES = CATEGORY_SHARES / CATEGORY_SHARES.sum()
FAMILY_OF_CATEGORY = np.array([FAMILIES.index(CATEGORY_FAMILY[c]) for c in CATEGORIES])
SHARED_INTEREST = np.array([PROFILES[c].shared_interest for c in CATEGORIES])
DISPUTE = np.array([PROFILES[c].dispute for c in CATEGORIES])
RELIEF = np.array([PROFILES[c].relief for c in CATEGORIES])
REPORT_SHARE = np.array([PROFILES[c].report_share for c in CATEGORIES])
RESOLVABILITY = np.array([PROFILES[c].resolvability for c in CATEGORIES])
INTENSITY = np.array([PROFILES[c].intensity for c in CATEGORIES])
NATURE = {name: index for index, name in enumerate(NATURES)}
