"""PI-RADS v2.1 (Turkbey et al., Eur Urol 2019;76:340-351): the dominant sequence decides (DWI in
the peripheral zone, T2W in the transition zone), with the DCE and DWI upgrades.

Sequence scores come from the report when it gives them ("DWI 4/5"), else from the descriptors
(a focal markedly hypointense ADC lesion is DWI 4, or 5 at >= 15 mm or with extraprostatic
extension). A sequence score is not the category: the table combines them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from radlite_fhir.guidelines.base import Assessment, RadsSystem, Reasons, feature, score

SYSTEM = RadsSystem.PI_RADS
ORDER = ("1", "2", "3", "4", "5")


class Zone(StrEnum):
    PERIPHERAL = "peripheral"
    TRANSITION = "transition"


class DwiFinding(StrEnum):
    NORMAL = "normal"
    INDISTINCT = "indistinct"
    FOCAL_MILD_MODERATE = "focal_mild_moderate"
    FOCAL_MARKED = "focal_marked"


class T2Finding(StrEnum):
    TYPICAL_NODULE = "typical_nodule"
    ATYPICAL_NODULE = "atypical_nodule"
    HETEROGENEOUS = "heterogeneous"
    LENTICULAR = "lenticular"


class Dce(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


@dataclass(frozen=True)
class Lesion:
    """One prostate lesion (or no focal lesion: no zone and a normal DWI)."""

    zone: Zone | None = feature("peripheral or transition zone")
    dwi_score: int | None = score(1, 5, "the DWI/ADC sequence score the report gives")
    t2_score: int | None = score(1, 5, "the T2W sequence score the report gives")
    dwi_finding: DwiFinding | None = feature("ADC / high b-value appearance")
    t2_finding: T2Finding | None = feature("T2W appearance in the transition zone")
    dce: Dce | None = feature("early focal enhancement matching the lesion")
    size_mm: float | None = feature("largest dimension")
    epe: bool | None = feature("definite extraprostatic extension or invasive behaviour")


def _large(lesion: Lesion) -> bool:
    return bool(lesion.epe) or (lesion.size_mm or 0.0) >= 15


# Sequence score of each descriptor; the 4/5 descriptor is 5 at >= 15 mm or with EPE.
DWI_SCORES = {
    DwiFinding.NORMAL: 1,
    DwiFinding.INDISTINCT: 2,
    DwiFinding.FOCAL_MILD_MODERATE: 3,
    DwiFinding.FOCAL_MARKED: 4,
}
T2_SCORES = {
    T2Finding.TYPICAL_NODULE: 1,
    T2Finding.ATYPICAL_NODULE: 2,
    T2Finding.HETEROGENEOUS: 3,
    T2Finding.LENTICULAR: 4,
}


def _sequence_score(
    lesion: Lesion, given: int | None, finding: DwiFinding | T2Finding | None
) -> int | None:
    """The score the report gives, else the one its descriptor has in the table."""
    if given is not None:
        return given
    if finding is None:
        return None
    table: dict[Any, int] = DWI_SCORES if isinstance(finding, DwiFinding) else T2_SCORES
    score_of = table[finding]
    return 5 if score_of == 4 and _large(lesion) else score_of


def dwi_score(lesion: Lesion) -> int | None:
    return _sequence_score(lesion, lesion.dwi_score, lesion.dwi_finding)


def t2_score(lesion: Lesion) -> int | None:
    return _sequence_score(lesion, lesion.t2_score, lesion.t2_finding)


def categorize(lesion: Lesion) -> Assessment:
    why = Reasons(SYSTEM)
    dwi = dwi_score(lesion)
    if lesion.zone is None:
        if dwi == 1:
            why.say("no focal lesion -> 1")
            return why.result("1")
        why.need("zone", None)
        return why.indeterminate()
    if lesion.zone is Zone.PERIPHERAL:
        if not why.need("dwi_score or dwi_finding", dwi):
            return why.indeterminate()
        assert dwi is not None
        if dwi == 3:
            if not why.need("dce", lesion.dce):
                return why.indeterminate()
            category = "4" if lesion.dce is Dce.POSITIVE else "3"
            why.say(f"peripheral zone, DWI 3, DCE {getattr(lesion.dce, 'value', '')} -> {category}")
            return why.result(category)
        why.say(f"peripheral zone, DWI {dwi} -> {dwi}")
        return why.result(str(dwi))
    t2 = t2_score(lesion)
    if not why.need("t2_score or t2_finding", t2):
        return why.indeterminate()
    assert t2 is not None
    category = t2
    if t2 in (2, 3):
        if not why.need("dwi_score or dwi_finding", dwi):
            return why.indeterminate()
        assert dwi is not None
        if t2 == 2 and dwi >= 4:
            category = 3
        elif t2 == 3 and dwi == 5:
            category = 4
    why.say(
        f"transition zone, T2 {t2}"
        + (f", DWI {dwi}" if dwi is not None else "")
        + f" -> {category}"
    )
    return why.result(str(category))
