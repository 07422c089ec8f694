"""LI-RADS v2018 CT/MRI (ACR): the diagnostic table for an untreated observation in a patient at
risk for HCC, with LR-TIV, LR-M and the benign categories before it (LR-2 includes a distinctive
solid nodule < 20 mm without malignant imaging features, e.g. a siderotic nodule), then the
optional step of the v2018 core algorithm: ancillary features adjust the category by one
(favouring malignancy: up, but never up to LR-5, which only the major features earn; favouring
benignity: down; both kinds present: no adjustment). LR-M and LR-TIV are not adjusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from radlite_fhir.guidelines.base import Assessment, RadsSystem, Reasons, feature

SYSTEM = RadsSystem.LI_RADS
ORDER = ("1", "2", "3", "4", "5", "M", "TIV")


class Aphe(StrEnum):
    NONE = "none"
    NONRIM = "nonrim"
    RIM = "rim"


class Benign(StrEnum):
    DEFINITELY = "definitely_benign"
    PROBABLY = "probably_benign"


@dataclass(frozen=True)
class Observation:
    """One liver observation on multiphase CT or MRI."""

    at_risk: bool | None = feature("cirrhosis, chronic hepatitis B, or current or prior HCC")
    size_mm: float | None = feature("largest dimension")
    aphe: Aphe | None = feature("arterial phase hyperenhancement: none, nonrim, rim")
    washout: bool | None = feature("nonperipheral washout")
    capsule: bool | None = feature("enhancing capsule")
    threshold_growth: bool | None = feature("size increase >= 50% in <= 6 months")
    tumor_in_vein: bool | None = feature("enhancing soft tissue in a vein")
    targetoid: bool | None = feature("LR-M features: targetoid appearance")
    benign: Benign | None = feature("definitely or probably benign entity (cyst, hemangioma)")
    distinctive: bool | None = feature(
        "a solid nodule distinctive from the background liver (siderotic, T1-hyperintense "
        "regenerative or dysplastic nodule)"
    )
    ancillary_malignancy: bool | None = feature(
        "ancillary features favouring malignancy: restricted diffusion, mild-moderate T2 "
        "hyperintensity, corona enhancement, fat or iron sparing in a solid mass, transitional or "
        "hepatobiliary phase hypointensity, nonenhancing capsule, nodule-in-nodule, mosaic "
        "architecture, fat or blood products in the mass, subthreshold growth"
    )
    ancillary_benignity: bool | None = feature(
        "ancillary features favouring benignity: size stable >= 2 years, size reduction, "
        "parallels blood pool, undistorted vessels, iron in the mass, marked T2 hyperintensity, "
        "hepatobiliary phase isointensity"
    )


# The categories ancillary features may move between (v2018 core: upgrade by one "up to LR-4",
# downgrade by one); LR-M and LR-TIV are outside this scale and stay as they are.
ADJUSTABLE = ("1", "2", "3", "4", "5")
UPGRADE_CEILING = "4"
# v2018 LR-2: a distinctive solid nodule without malignant imaging features below this size.
DISTINCTIVE_BELOW_MM = 20


def diagnostic_table(size: float, aphe: Aphe, washout: bool, capsule: bool, growth: bool) -> str:
    features = sum((washout, capsule, growth))
    if aphe is Aphe.NONE:
        if size < 20:
            return "4" if features >= 2 else "3"
        return "4" if features >= 1 else "3"
    if size < 10:
        return "4" if features >= 1 else "3"
    if size < 20:
        if features == 0:
            return "3"
        if features >= 2 or washout or growth:
            return "5"
        return "4"  # enhancing capsule alone
    return "5" if features >= 1 else "4"


def adjust(category: str, observation: Observation, why: Reasons) -> str:
    """The optional ancillary-feature step: one category up (not beyond LR-4) for features
    favouring malignancy, one down for features favouring benignity, none when both are
    present. Absent ancillary features change nothing."""
    malignant, benign = (
        bool(observation.ancillary_malignancy),
        bool(observation.ancillary_benignity),
    )
    if category not in ADJUSTABLE or not (malignant or benign):
        return category
    if malignant and benign:
        why.say("ancillary features favour both malignancy and benignity -> not adjusted")
        return category
    index = ADJUSTABLE.index(category)
    if malignant:
        ceiling = ADJUSTABLE.index(UPGRADE_CEILING)
        if index >= ceiling:
            why.say(
                f"ancillary features favour malignancy; they never upgrade to LR-5 -> LR-{category}"
            )
            return category
        adjusted = ADJUSTABLE[index + 1]
        why.say(f"ancillary features favour malignancy -> LR-{adjusted} (up one)")
        return adjusted
    adjusted = ADJUSTABLE[max(index - 1, 0)]
    why.say(f"ancillary features favour benignity -> LR-{adjusted} (down one)")
    return adjusted


def categorize(observation: Observation) -> Assessment:
    why = Reasons(SYSTEM)
    if not why.need("at_risk", observation.at_risk):
        return why.indeterminate()
    if not observation.at_risk:
        why.missing.append("a patient at risk for HCC (LI-RADS does not apply)")
        return why.indeterminate()
    if observation.tumor_in_vein:
        why.say("enhancing soft tissue in vein -> LR-TIV")
        return why.result("TIV")
    if observation.targetoid or observation.aphe is Aphe.RIM:
        why.say("targetoid features / rim APHE -> LR-M")
        return why.result("M")
    if observation.benign is Benign.DEFINITELY:
        why.say("definitely benign entity -> LR-1")
        return why.result(adjust("1", observation, why))
    if observation.benign is Benign.PROBABLY:
        why.say("probably benign entity -> LR-2")
        return why.result(adjust("2", observation, why))
    has_size = why.need("size_mm", observation.size_mm)
    has_aphe = why.need("aphe", observation.aphe)
    if not (has_size and has_aphe):
        return why.indeterminate()
    assert observation.size_mm is not None and observation.aphe is not None
    washout, capsule = bool(observation.washout), bool(observation.capsule)
    growth = bool(observation.threshold_growth)
    # v2018 LR-2 criteria: a distinctive solid nodule < 20 mm without malignant imaging features
    # is probably benign; at >= 20 mm the diagnostic table's LR-3 stands.
    distinctive = (
        bool(observation.distinctive)
        and observation.aphe is Aphe.NONE
        and not (washout or capsule or growth)
    )
    if distinctive and observation.size_mm < DISTINCTIVE_BELOW_MM:
        why.say(
            f"distinctive nodule {observation.size_mm:g} mm (< {DISTINCTIVE_BELOW_MM} mm), "
            "no major features -> LR-2"
        )
        return why.result(adjust("2", observation, why))
    named = [
        n
        for n, on in (("washout", washout), ("capsule", capsule), ("threshold growth", growth))
        if on
    ]
    category = diagnostic_table(observation.size_mm, observation.aphe, washout, capsule, growth)
    why.say(
        f"{observation.aphe.value} APHE, {observation.size_mm:g} mm, additional major features: "
        f"{', '.join(named) or 'none'} -> LR-{category}"
    )
    return why.result(adjust(category, observation, why))
