"""ACR BI-RADS Atlas, 5th edition (2013): an assessment category per finding from its lexicon
descriptors, and the overall assessment from the most worrisome finding.

The atlas does not publish a points table: it gives categories with their likelihood of
malignancy (4A > 2-10%, 4B > 10-50%, 4C > 50-< 95%, 5 >= 95%) and the positive predictive value
of each suspicious descriptor. This module is the product's reading of those figures, as one
table (docs/rads-feature-tables.md); the management advice of a report never decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from radlite_fhir.guidelines.base import Assessment, RadsSystem, Reasons, feature

SYSTEM = RadsSystem.BI_RADS
ORDER = ("1", "2", "3", "6", "0", "4A", "4B", "4C", "5")


class Kind(StrEnum):
    NONE = "none"
    BENIGN = "benign"
    MASS = "mass"
    CALCIFICATIONS = "calcifications"
    ASYMMETRY = "asymmetry"
    ARCHITECTURAL_DISTORTION = "architectural_distortion"
    COMPLICATED_CYST = "complicated_cyst"
    CLUSTERED_MICROCYSTS = "clustered_microcysts"


class Shape(StrEnum):
    OVAL = "oval"
    ROUND = "round"
    IRREGULAR = "irregular"


class Margin(StrEnum):
    CIRCUMSCRIBED = "circumscribed"
    OBSCURED = "obscured"
    MICROLOBULATED = "microlobulated"
    INDISTINCT = "indistinct"
    ANGULAR = "angular"
    SPICULATED = "spiculated"


class Orientation(StrEnum):
    PARALLEL = "parallel"
    NOT_PARALLEL = "not_parallel"


class CalcMorphology(StrEnum):
    AMORPHOUS = "amorphous"
    COARSE_HETEROGENEOUS = "coarse_heterogeneous"
    FINE_PLEOMORPHIC = "fine_pleomorphic"
    FINE_LINEAR = "fine_linear"


class CalcDistribution(StrEnum):
    DIFFUSE = "diffuse"
    REGIONAL = "regional"
    GROUPED = "grouped"
    LINEAR = "linear"
    SEGMENTAL = "segmental"


class AsymmetryType(StrEnum):
    ASYMMETRY = "asymmetry"
    GLOBAL = "global"
    FOCAL = "focal"
    DEVELOPING = "developing"


class Change(StrEnum):
    BASELINE = "baseline"
    NEW = "new"
    INCREASING = "increasing"
    STABLE = "stable"
    DECREASING = "decreasing"


@dataclass(frozen=True)
class Finding:
    """One breast finding (or `none`: a negative study)."""

    kind: Kind | None = feature("mass, calcifications, asymmetry, distortion, benign, none ...")
    shape: Shape | None = feature("mass shape")
    margin: Margin | None = feature("mass margin")
    orientation: Orientation | None = feature("ultrasound: parallel or not to the skin")
    margin_in_part: bool | None = feature(
        "the margin is circumscribed but for a part (indistinct or microlobulated in part)"
    )
    calc_morphology: CalcMorphology | None = feature("suspicious calcification morphology")
    calc_distribution: CalcDistribution | None = feature("calcification distribution")
    asymmetry_type: AsymmetryType | None = feature("asymmetry, global, focal, developing")
    change: Change | None = feature("against prior examinations")
    needs_additional_imaging: bool | None = feature("screening recall: work-up incomplete")
    known_malignancy: bool | None = feature("the finding is a biopsy-proven cancer")


PROBABLY_BENIGN = "3"
# Margins that, over only a part of an oval or round mass's edge, leave it low suspicion (4A).
PARTLY_BENIGN_MARGINS = (Margin.INDISTINCT, Margin.MICROLOBULATED)


def _mass(finding: Finding, why: Reasons) -> str | None:
    has_shape = why.need("shape", finding.shape)
    has_margin = why.need("margin", finding.margin)
    if not (has_shape and has_margin):
        return None
    shape, margin = finding.shape, finding.margin
    said = f"mass, {shape.value if shape else ''}, {margin.value if margin else ''}"
    if shape is Shape.IRREGULAR:
        category = {
            Margin.SPICULATED: "5",
            Margin.INDISTINCT: "4C",
            Margin.ANGULAR: "4C",
            Margin.MICROLOBULATED: "4C",
        }.get(margin, "4B")  # type: ignore[arg-type]
    elif margin is Margin.SPICULATED:
        category = "4C"
    elif (
        # "circumscribed but for a part" is no circumscribed margin: the Atlas calls a margin
        # circumscribed only when all of it is.
        (margin in PARTLY_BENIGN_MARGINS or margin is Margin.CIRCUMSCRIBED)
        and finding.margin_in_part
        and finding.orientation is not Orientation.NOT_PARALLEL
    ):
        # The Atlas's own 4A example: "a partially circumscribed solid mass with ultrasound
        # features suggestive of a fibroadenoma" (low suspicion), not the 4B of a mass whose
        # whole margin is indistinct or microlobulated.
        said += " in part, otherwise circumscribed"
        category = "4A"
    elif margin in (Margin.INDISTINCT, Margin.ANGULAR, Margin.MICROLOBULATED):
        category = "4B"
    elif margin is Margin.OBSCURED:
        category = "4A"
    elif finding.orientation is Orientation.NOT_PARALLEL:
        said += ", not parallel"
        category = "4A"
    elif finding.change in (Change.NEW, Change.INCREASING):
        said += f", {finding.change.value}"
        category = "4A"
    else:
        category = PROBABLY_BENIGN
    why.say(f"{said} -> {category}")
    return category


def _calcifications(finding: Finding, why: Reasons) -> str | None:
    if not why.need("calc_morphology", finding.calc_morphology):
        return None
    morphology = finding.calc_morphology
    distribution = finding.calc_distribution or CalcDistribution.GROUPED
    line = distribution in (CalcDistribution.LINEAR, CalcDistribution.SEGMENTAL)
    if morphology is CalcMorphology.FINE_LINEAR:
        category = "5" if line else "4C"
    elif morphology is CalcMorphology.FINE_PLEOMORPHIC:
        category = "4C" if line else "4B"
    else:
        category = "4B"
    why.say(
        f"calcifications, {morphology.value if morphology else ''}, {distribution.value}"
        + ("" if finding.calc_distribution else " (unstated)")
        + f" -> {category}"
    )
    return category


def _kind_from_descriptors(finding: Finding) -> Kind | None:
    """A finding described only by its descriptors is what they describe: calcification
    morphology -> calcifications, mass shape or margin -> mass, asymmetry type -> asymmetry."""
    if finding.calc_morphology is not None:
        return Kind.CALCIFICATIONS
    if finding.shape is not None or finding.margin is not None:
        return Kind.MASS
    if finding.asymmetry_type is not None:
        return Kind.ASYMMETRY
    return None


def _most_suspicious(first: str | None, second: str | None) -> str | None:
    """A mass with associated calcifications: the Atlas bases the assessment on the most
    suspicious feature, so the finding takes the higher of its mass and its calcifications
    categories (either alone when the other is not described)."""
    decided = [c for c in (first, second) if c is not None]
    return max(decided, key=ORDER.index) if decided else None


def categorize(finding: Finding) -> Assessment:
    why = Reasons(SYSTEM)
    if finding.known_malignancy:
        why.say("biopsy-proven malignancy -> 6")
        return why.result("6")
    if finding.needs_additional_imaging:
        why.say("screening finding needing additional imaging -> 0")
        return why.result("0")
    kind = finding.kind or _kind_from_descriptors(finding)
    if not why.need("kind", kind):
        return why.indeterminate()
    if finding.kind is None:
        why.say(f"finding type unstated: {kind.value if kind else ''} (from its descriptors)")
    stable = finding.change is Change.STABLE
    if kind is Kind.NONE:
        why.say("no finding -> 1")
        return why.result("1")
    if kind is Kind.BENIGN:
        why.say("benign finding -> 2")
        return why.result("2")
    if kind is Kind.MASS:
        category = _mass(finding, why)
        if category is not None and finding.calc_morphology is not None:  # calcs in the mass
            category = _most_suspicious(category, _calcifications(finding, why))
    elif kind is Kind.CALCIFICATIONS:
        category = _calcifications(finding, why)
        if finding.shape is not None and finding.margin is not None:  # the mass they lie in
            category = _most_suspicious(category, _mass(finding, why))
    elif kind is Kind.ARCHITECTURAL_DISTORTION:
        why.say("architectural distortion -> 4C")
        category = "4C"
    elif kind is Kind.ASYMMETRY:
        if not why.need("asymmetry_type", finding.asymmetry_type):
            return why.indeterminate()
        category = {
            AsymmetryType.ASYMMETRY: "2",
            AsymmetryType.GLOBAL: "2",
            AsymmetryType.FOCAL: PROBABLY_BENIGN,
            AsymmetryType.DEVELOPING: "4B",
        }[finding.asymmetry_type]  # type: ignore[index]
        why.say(f"{getattr(finding.asymmetry_type, 'value', '')} asymmetry -> {category}")
    else:
        why.say(f"{kind.value if kind else ''} -> 3")
        category = PROBABLY_BENIGN
    if category is None:
        return why.indeterminate()
    if category == PROBABLY_BENIGN and stable:
        why.say("probably benign finding, stable -> 2")
        category = "2"
    return why.result(category)
