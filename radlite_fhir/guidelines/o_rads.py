"""O-RADS US v2022 (Strachowski et al., Radiology 2023;308:e230685): risk category per adnexal
lesion from its lexicon type, size, inner wall, solid parts and colour score; the highest lesion
decides. Sizes in mm (the document's 3 cm and 10 cm are 30 and 100 mm).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from radlite_fhir.guidelines.base import Assessment, RadsSystem, Reasons, feature, score

SYSTEM = RadsSystem.O_RADS
# O-RADS 0 (incomplete evaluation) ranks above 3 and below 4, as BI-RADS 0 does: an adnexa
# that could not be characterised needs imaging again, unless another lesion already needs more.
ORDER = ("1", "2", "3", "0", "4", "5")


class Menopause(StrEnum):
    PRE = "premenopausal"
    POST = "postmenopausal"


class LesionType(StrEnum):
    NORMAL_OVARY = "normal_ovary"
    FOLLICLE = "follicle"
    CORPUS_LUTEUM = "corpus_luteum"
    SIMPLE_CYST = "simple_cyst"
    SMOOTH_NONSIMPLE_CYST = "smooth_nonsimple_cyst"
    HEMORRHAGIC_CYST = "hemorrhagic_cyst"
    DERMOID = "dermoid"
    ENDOMETRIOMA = "endometrioma"
    PARAOVARIAN_CYST = "paraovarian_cyst"
    PERITONEAL_INCLUSION_CYST = "peritoneal_inclusion_cyst"
    HYDROSALPINX = "hydrosalpinx"
    MULTILOCULAR = "multilocular"
    UNILOCULAR_SOLID = "unilocular_solid"
    MULTILOCULAR_SOLID = "multilocular_solid"
    SOLID = "solid"


class Wall(StrEnum):
    SMOOTH = "smooth"
    IRREGULAR = "irregular"


CLASSIC = (LesionType.HEMORRHAGIC_CYST, LesionType.DERMOID, LesionType.ENDOMETRIOMA)
ALWAYS_BENIGN = (
    LesionType.PARAOVARIAN_CYST,
    LesionType.PERITONEAL_INCLUSION_CYST,
    LesionType.HYDROSALPINX,
)


@dataclass(frozen=True)
class Lesion:
    """One adnexal lesion (or a normal ovary)."""

    menopausal_status: Menopause | None = feature("premenopausal or postmenopausal")
    lesion: LesionType | None = feature("O-RADS lexicon lesion type")
    size_mm: float | None = feature("maximum diameter")
    inner_wall: Wall | None = feature("inner wall of a cyst without solid component")
    papillary_projections: int | None = score(0, 20, "number of papillary projections")
    solid_contour: Wall | None = feature("outer contour of a solid lesion")
    color_score: int | None = score(1, 4, "colour Doppler score")
    peritoneal_disease: bool | None = feature("ascites and/or peritoneal nodules")
    incomplete: bool | None = feature(
        "evaluation incomplete: bowel gas, lesion too large, habitus, technical limits"
    )


def categorize(lesion: Lesion) -> Assessment:
    """The lesion's row; a lesion the report could not characterise because the evaluation was
    incomplete (bowel gas, size, habitus, technical limits: the v2022 row) is O-RADS 0, not
    indeterminate: the report says why the features are missing."""
    assessment = _categorize(lesion)
    if assessment.category is None and lesion.incomplete:
        why = Reasons(SYSTEM)
        why.say(
            f"not characterised ({', '.join(assessment.missing)} unknown), evaluation "
            "incomplete -> 0"
        )
        return why.result("0")
    return assessment


def _categorize(lesion: Lesion) -> Assessment:
    why = Reasons(SYSTEM)
    if lesion.peritoneal_disease:
        why.say("ascites and/or peritoneal nodules -> 5")
        return why.result("5")
    if not why.need("lesion", lesion.lesion):
        return why.indeterminate()
    kind = lesion.lesion
    assert kind is not None
    if kind is LesionType.NORMAL_OVARY:
        why.say("normal ovary -> 1")
        return why.result("1")
    if kind in ALWAYS_BENIGN:
        why.say(f"{kind.value} -> 2")
        return why.result("2")
    if kind is LesionType.SOLID:
        if not why.need("solid_contour", lesion.solid_contour):
            return why.indeterminate()
        if lesion.solid_contour is Wall.IRREGULAR:
            why.say("solid, irregular contour -> 5")
            return why.result("5")
        if not why.need("color_score", lesion.color_score):
            return why.indeterminate()
        color = lesion.color_score or 1
        category = "3" if color == 1 else "4" if color <= 3 else "5"
        why.say(f"solid, smooth contour, colour score {color} -> {category}")
        return why.result(category)
    if kind is LesionType.UNILOCULAR_SOLID:
        projections = lesion.papillary_projections or 0
        category = "5" if projections >= 4 else "4"
        why.say(
            f"unilocular cyst with solid component, {projections} papillary projection(s)"
            f" -> {category}"
        )
        return why.result(category)
    if kind is LesionType.MULTILOCULAR_SOLID:
        if not why.need("color_score", lesion.color_score):
            return why.indeterminate()
        color = lesion.color_score or 1
        category = "4" if color <= 2 else "5"
        why.say(f"multilocular cyst with solid component, colour score {color} -> {category}")
        return why.result(category)
    if kind is LesionType.FOLLICLE and lesion.size_mm is None:
        # The lexicon's "follicle" is itself a size: a simple cyst of 3 cm or less in a
        # premenopausal ovary ("left ovary normal with follicles" needs no measurement).
        why.say("follicle (a simple cyst <= 3 cm by the lexicon's definition) -> 1")
        return why.result("1")
    if not why.need("size_mm", lesion.size_mm):
        return why.indeterminate()
    size = lesion.size_mm or 0.0
    wall = lesion.inner_wall or Wall.SMOOTH
    if kind is LesionType.MULTILOCULAR:
        if wall is Wall.IRREGULAR:
            why.say("multilocular, irregular inner wall -> 4")
            return why.result("4")
        if not why.need("color_score", lesion.color_score):
            return why.indeterminate()
        color = lesion.color_score or 1
        category = "4" if color == 4 or size >= 100 else "3"
        why.say(f"multilocular, smooth, {size:g} mm, colour score {color} -> {category}")
        return why.result(category)
    if kind in CLASSIC:
        category = "2" if size < 100 else "3"
        why.say(f"classic {kind.value}, {size:g} mm -> {category}")
        return why.result(category)
    if kind in (LesionType.FOLLICLE, LesionType.CORPUS_LUTEUM):
        if size <= 30:
            why.say(f"{kind.value} <= 30 mm -> 1")
            return why.result("1")
        kind = (
            LesionType.SIMPLE_CYST if kind is LesionType.FOLLICLE else LesionType.HEMORRHAGIC_CYST
        )
        return categorize(Lesion(**{**lesion.__dict__, "lesion": kind}))
    if size >= 100:
        why.say(f"unilocular cyst >= 10 cm ({size:g} mm) -> 3")
        return why.result("3")
    if kind is LesionType.SIMPLE_CYST:
        if size <= 30 and lesion.menopausal_status is Menopause.PRE:
            why.say(f"simple cyst <= 3 cm, premenopausal ({size:g} mm) -> 1")
            return why.result("1")
        if size <= 30 and not why.need("menopausal_status", lesion.menopausal_status):
            return why.indeterminate()
        why.say(f"simple cyst < 10 cm ({size:g} mm) -> 2")
        return why.result("2")
    # smooth non-simple unilocular or bilocular cyst
    if wall is Wall.IRREGULAR:
        why.say("unilocular cyst, irregular inner wall -> 3")
        return why.result("3")
    if size <= 30:
        why.say(f"smooth non-simple cyst <= 3 cm ({size:g} mm) -> 2")
        return why.result("2")
    if not why.need("menopausal_status", lesion.menopausal_status):
        return why.indeterminate()
    category = "2" if lesion.menopausal_status is Menopause.PRE else "3"
    why.say(
        f"smooth non-simple cyst 3 to < 10 cm, {getattr(lesion.menopausal_status, 'value', '')}"
        f" -> {category}"
    )
    return why.result(category)
