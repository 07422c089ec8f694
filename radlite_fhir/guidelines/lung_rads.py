"""ACR Lung-RADS v2022 (Christensen et al., CHEST 2024;165:738-753): lung cancer screening CT.

Sizes are mean diameters in mm. Stepped management of stable nodules is simplified to "stable or
decreased -> 2" (benign behaviour); airway nodules and atypical cysts are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from radlite_fhir.guidelines.base import Assessment, RadsSystem, Reasons, feature

SYSTEM = RadsSystem.LUNG_RADS
ORDER = ("1", "2", "3", "4A", "4B", "4X")


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


def _solid(size: float, change: Change) -> str:
    if change is Change.GROWING:
        return "4A" if size < 8 else "4B"
    if change is Change.NEW:
        return "2" if size < 4 else "3" if size < 6 else "4A" if size < 8 else "4B"
    return "2" if size < 6 else "3" if size < 8 else "4A" if size < 15 else "4B"


def categorize(nodule: Nodule) -> Assessment:
    why = Reasons(SYSTEM)
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
        why.say(f"{said}: benign behaviour -> 2")
        return why.result("2")
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
    if nodule.suspicious_features and category in ("3", "4A", "4B"):
        why.say(f"additional suspicious features: {category} -> 4X")
        category = "4X"
    return why.result(category)
