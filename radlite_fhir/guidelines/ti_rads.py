"""ACR TI-RADS (Tessler et al., JACR 2017;14:587-595): points per feature, level from the sum.

The report-level category is the highest level among the nodules described.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from radlite_fhir.guidelines.base import Assessment, RadsSystem, Reasons, feature

SYSTEM = RadsSystem.TI_RADS
ORDER = ("1", "2", "3", "4", "5")


class Composition(StrEnum):
    CYSTIC = "cystic"
    SPONGIFORM = "spongiform"
    MIXED = "mixed"
    SOLID = "solid"


class Echogenicity(StrEnum):
    ANECHOIC = "anechoic"
    HYPERECHOIC = "hyperechoic"
    ISOECHOIC = "isoechoic"
    HYPOECHOIC = "hypoechoic"
    VERY_HYPOECHOIC = "very_hypoechoic"


class Shape(StrEnum):
    WIDER_THAN_TALL = "wider_than_tall"
    TALLER_THAN_WIDE = "taller_than_wide"


class Margin(StrEnum):
    SMOOTH = "smooth"
    ILL_DEFINED = "ill_defined"
    LOBULATED_IRREGULAR = "lobulated_irregular"
    EXTRATHYROIDAL_EXTENSION = "extrathyroidal_extension"


class Focus(StrEnum):
    NONE = "none"
    COMET_TAIL = "comet_tail"
    MACROCALCIFICATION = "macrocalcification"
    PERIPHERAL_RIM = "peripheral_rim"
    PUNCTATE = "punctate"


POINTS: dict[str, dict[str, int]] = {
    "composition": {"cystic": 0, "spongiform": 0, "mixed": 1, "solid": 2},
    "echogenicity": {
        "anechoic": 0,
        "hyperechoic": 1,
        "isoechoic": 1,
        "hypoechoic": 2,
        "very_hypoechoic": 3,
    },
    "shape": {"wider_than_tall": 0, "taller_than_wide": 3},
    "margin": {
        "smooth": 0,
        "ill_defined": 0,
        "lobulated_irregular": 2,
        "extrathyroidal_extension": 3,
    },
    "echogenic_foci": {
        "none": 0,
        "comet_tail": 0,
        "macrocalcification": 1,
        "peripheral_rim": 2,
        "punctate": 3,
    },
}


@dataclass(frozen=True)
class Nodule:
    """One thyroid nodule as the white paper scores it."""

    composition: Composition | None = feature("cystic, spongiform, mixed cystic and solid, solid")
    echogenicity: Echogenicity | None = feature("of the solid part; anechoic for cystic nodules")
    shape: Shape | None = feature("taller-than-wide on a transverse image")
    margin: Margin | None = feature("smooth, ill-defined, lobulated or irregular, extrathyroidal")
    echogenic_foci: tuple[Focus, ...] | None = feature("every type of echogenic focus seen")
    size_mm: float | None = feature("maximum dimension")


def level(points: int) -> str | None:
    """TR1 0 points, TR2 2, TR3 3, TR4 4-6, TR5 7 or more; 1 point has no level."""
    if points == 1:
        return None
    if points == 0:
        return "1"
    if points <= 3:
        return str(points)
    return "4" if points <= 6 else "5"


def _echogenicity(nodule: Nodule) -> Echogenicity | None:
    """As stated; a cystic nodule is anechoic when the report says nothing more."""
    if nodule.echogenicity is None and nodule.composition is Composition.CYSTIC:
        return Echogenicity.ANECHOIC
    return nodule.echogenicity


def _parts(nodule: Nodule) -> list[tuple[str, str, int]] | None:
    """(feature, value as read, points) for a non-spongiform nodule, unstated shape, margin
    and foci at their 0-point terms; None without composition or echogenicity."""
    echogenicity = _echogenicity(nodule)
    if nodule.composition is None or echogenicity is None:
        return None
    shape = nodule.shape or Shape.WIDER_THAN_TALL
    margin = nodule.margin or Margin.SMOOTH
    foci = nodule.echogenic_foci or (Focus.NONE,)
    parts = [
        ("composition", nodule.composition.value, POINTS["composition"][nodule.composition]),
        ("echogenicity", echogenicity.value, POINTS["echogenicity"][echogenicity]),
        ("shape", shape.value + ("" if nodule.shape else " (unstated)"), POINTS["shape"][shape]),
        (
            "margin",
            margin.value + ("" if nodule.margin else " (unstated)"),
            POINTS["margin"][margin],
        ),
    ]
    parts += [
        (
            "echogenic foci",
            f.value + ("" if nodule.echogenic_foci else " (unstated)"),
            POINTS["echogenic_foci"][f],
        )
        for f in dict.fromkeys(foci)
    ]
    return parts


def points(nodule: Nodule) -> int | None:
    """The white paper's point total (spongiform: 0, nothing added); None when unscorable."""
    if nodule.composition is Composition.SPONGIFORM:
        return 0
    parts = _parts(nodule)
    return None if parts is None else sum(p for _, _, p in parts)


def categorize(nodule: Nodule) -> Assessment:
    why = Reasons(SYSTEM)
    if not why.need("composition", nodule.composition):
        return why.indeterminate()
    if nodule.composition is Composition.SPONGIFORM:
        why.say("spongiform: 0 points, no further points added")
        return why.result("1")
    parts = _parts(nodule)
    if not why.need("echogenicity", _echogenicity(nodule)) or parts is None:
        return why.indeterminate()
    total = sum(p for _, _, p in parts)
    why.say(" + ".join(f"{name} {value} {p}" for name, value, p in parts) + f" = {total} points")
    category = level(total)
    if category is None:
        why.missing.append("a level for 1 point (the white paper defines none)")
        return why.indeterminate()
    why.say(f"{total} points -> TR{category}")
    return why.result(category)
