"""ACR Lung-RADS v2022 (Christensen et al., CHEST 2024;165:738-753): lung cancer screening CT.

Sizes are mean diameters in mm. Stepped management of a stable or decreased solid or part-solid
nodule follows v2022: at the 3-month follow-up that a category 4A nodule gets, it becomes
category 3; at the 6-month follow-up of a category 3 nodule, category 2; a category 4B nodule
does not step down by stability alone (only when proven benign, which the report states as a
benign feature). Where the report does not say which follow-up this is (an annual screen), a
stable nodule shows benign behaviour -> 2. Airway nodules and atypical cysts are not modelled.

Category 0 (incomplete) is an examination-level row of v2022: a prior chest CT being located for
comparison, part or all of the lungs that cannot be evaluated, or findings suggestive of an
inflammatory or infectious process (a 1-3 month LDCT follows). It comes before every nodule
row: while it holds, no nodule's size category is final. In the order it ranks above 3 and
below 4A, as BI-RADS 0 does: a nodule suspicious enough for 4A is worked up whatever else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from radlite_fhir.guidelines.base import Assessment, RadsSystem, Reasons, feature

SYSTEM = RadsSystem.LUNG_RADS
ORDER = ("1", "2", "3", "0", "4A", "4B", "4X")


class NoduleType(StrEnum):
    NONE = "none"
    SOLID = "solid"
    PART_SOLID = "part_solid"
    GROUND_GLASS = "ground_glass"


class Change(StrEnum):
    BASELINE = "baseline"
    NEW = "new"
    GROWING = "growing"
    STABLE = "stable"
    DECREASED = "decreased"


class FollowUp(StrEnum):
    """Which examination this is for the nodule: the interval its last category prescribed."""

    THREE_MONTH = "three_month"  # the 3-month LDCT of category 4A
    SIX_MONTH = "six_month"  # the 6-month LDCT of category 3
    ANNUAL = "annual"  # the 12-month screen of categories 1-2


INTERVAL_NAMES = {
    FollowUp.THREE_MONTH: "3-month",
    FollowUp.SIX_MONTH: "6-month",
    FollowUp.ANNUAL: "12-month",
}
# v2022 stepped management: the category a stable or decreased nodule takes at each follow-up.
STEPPED = {FollowUp.THREE_MONTH: "3", FollowUp.SIX_MONTH: "2", FollowUp.ANNUAL: "2"}
# Stability alone never steps down a nodule whose size is in category 4B (baseline rows:
# solid >= 15 mm, part-solid with a solid component >= 8 mm).
SOLID_4B_MM = 15.0
PART_SOLID_4B_MM = 8.0


@dataclass(frozen=True)
class Nodule:
    """One pulmonary nodule on a screening CT (or `none`: no nodules)."""

    nodule_type: NoduleType | None = feature("solid, part-solid, ground-glass; none: no nodules")
    size_mm: float | None = feature("mean diameter")
    solid_component_mm: float | None = feature("mean diameter of the solid part")
    change: Change | None = feature("against prior screening; baseline when none")
    benign_features: bool | None = feature("benign calcification pattern or fat")
    juxtapleural: bool | None = feature("smooth juxtapleural or perifissural solid nodule")
    suspicious_features: bool | None = feature("spiculation, lymphadenopathy, metastasis")
    follow_up: FollowUp | None = feature(
        "the follow-up this examination is: 3-month (after 4A), 6-month (after 3), annual"
    )
    incomplete: bool | None = feature(
        "prior CT being located, lungs not fully evaluable, or findings suggesting infection"
    )


def _solid(size: float, change: Change) -> str:
    if change is Change.GROWING:
        return "4A" if size < 8 else "4B"
    if change is Change.NEW:
        return "2" if size < 4 else "3" if size < 6 else "4A" if size < 8 else "4B"
    return "2" if size < 6 else "3" if size < 8 else "4A" if size < 15 else "4B"


def _stepped(nodule: Nodule, kind: NoduleType, size: float, said: str, why: Reasons) -> Assessment:
    """A stable or decreased solid or part-solid nodule under v2022 stepped management."""
    if nodule.follow_up is None:
        why.say(f"{said}: benign behaviour -> 2")
        return why.result("2")
    interval = INTERVAL_NAMES[nodule.follow_up]
    solid = nodule.solid_component_mm
    size_4b = (kind is NoduleType.SOLID and size >= SOLID_4B_MM) or (
        kind is NoduleType.PART_SOLID and solid is not None and solid >= PART_SOLID_4B_MM
    )  # the size is category 4B by the baseline rows
    if size_4b:
        why.say(f"{said} at the {interval} follow-up: a 4B nodule does not step down -> 4B")
        return why.result(_upgraded(nodule, "4B", why))
    category = STEPPED[nodule.follow_up]
    why.say(f"{said} at the {interval} follow-up: stepped management -> {category}")
    return why.result(_upgraded(nodule, category, why))


def _upgraded(nodule: Nodule, category: str, why: Reasons) -> str:
    """4X: a category 3 or 4 nodule with additional features that raise suspicion."""
    if nodule.suspicious_features and category in ("3", "4A", "4B"):
        why.say(f"additional suspicious features: {category} -> 4X")
        return "4X"
    return category


def categorize(nodule: Nodule) -> Assessment:
    why = Reasons(SYSTEM)
    if nodule.incomplete:
        why.say("incomplete: prior CT awaited, lungs not evaluable or infection suspected -> 0")
        return why.result("0")
    kind = nodule.nodule_type
    if kind is NoduleType.NONE:
        why.say("no pulmonary nodules -> 1")
        return why.result("1")
    if nodule.benign_features:
        why.say("benign calcification or fat -> 1")
        return why.result("1")
    if kind is None:
        if nodule.size_mm is None:
            why.need("nodule_type", None)
            return why.indeterminate()
        kind = NoduleType.SOLID
        why.say("nodule type unstated: solid (subsolid nodules are described as such)")
    if not why.need("size_mm", nodule.size_mm):
        return why.indeterminate()
    size = nodule.size_mm or 0.0
    change = nodule.change or Change.BASELINE
    said = f"{kind.value} {size:g} mm, {change.value}" + (
        "" if nodule.change else " (no prior stated)"
    )
    if (
        kind is NoduleType.SOLID
        and nodule.juxtapleural
        and size < 10
        and change
        in (
            Change.BASELINE,
            Change.NEW,
        )
    ):
        why.say(f"{said}; juxtapleural/perifissural, smooth, < 10 mm -> 2")
        return why.result("2")
    if kind is not NoduleType.GROUND_GLASS and change in (Change.STABLE, Change.DECREASED):
        return _stepped(nodule, kind, size, said, why)
    if kind is NoduleType.SOLID:
        category = _solid(size, change)
    elif kind is NoduleType.GROUND_GLASS:
        category = "3" if size >= 30 and change in (Change.BASELINE, Change.NEW) else "2"
    else:
        solid = nodule.solid_component_mm
        if change is Change.BASELINE and size < 6:
            category = "2"
        elif change is Change.NEW and size < 6:
            category = "3"
        elif not why.need("solid_component_mm", solid):
            return why.indeterminate()
        else:
            assert solid is not None
            said += f", solid part {solid:g} mm"
            if change in (Change.NEW, Change.GROWING) and solid > 0:
                category = "4A" if solid < 4 else "4B"
            else:
                category = "3" if solid < 6 else "4A" if solid < 8 else "4B"
    why.say(f"{said} -> {category}")
    return why.result(_upgraded(nodule, category, why))
