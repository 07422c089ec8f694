"""Published decision rules for the generator: a category follows from findings, so a generated
label is right.

The RADS decisions are the product's own tables (radlite_fhir.guidelines): this module only
maps the generator's report words to the tables' terms, so training and the product can never
disagree about a category. AJCC 8 lung TNM (not a RADS table) stays here.
"""

from __future__ import annotations

from radlite_fhir.guidelines import GUIDELINES, RadsSystem, assess, ti_rads
from radlite_fhir.guidelines.ti_rads import level

# ACR TI-RADS: the generator's words for each feature -> the table's term (the words the
# generator writes are the keys; the points come from the product's table).
TIRADS_TERMS = {
    "composition": {
        "cystic": "cystic",
        "spongiform": "spongiform",
        "mixed cystic and solid": "mixed",
        "solid": "solid",
    },
    "echogenicity": {
        "anechoic": "anechoic",
        "hyperechoic": "hyperechoic",
        "isoechoic": "isoechoic",
        "hypoechoic": "hypoechoic",
        "very hypoechoic": "very_hypoechoic",
    },
    "shape": {"wider-than-tall": "wider_than_tall", "taller-than-wide": "taller_than_wide"},
    "margin": {
        "smooth": "smooth",
        "ill-defined": "ill_defined",
        "lobulated": "lobulated_irregular",
        "irregular": "lobulated_irregular",
        "extrathyroidal extension": "extrathyroidal_extension",
    },
    "foci": {
        "none": "none",
        "comet-tail artifacts": "comet_tail",
        "macrocalcifications": "macrocalcification",
        "peripheral rim calcifications": "peripheral_rim",
        "punctate echogenic foci": "punctate",
    },
}


def _tirads_record(features: dict[str, str]) -> dict[str, object]:
    record: dict[str, object] = {
        name: TIRADS_TERMS[name][word] for name, word in features.items() if name != "foci"
    }
    if "foci" in features:
        record["echogenic_foci"] = [TIRADS_TERMS["foci"][features["foci"]]]
    return record


def tirads_points(features: dict[str, str]) -> int:
    """Points of the white paper's chart, from the product's table (spongiform adds none)."""
    total = ti_rads.points(GUIDELINES[RadsSystem.TI_RADS].record(_tirads_record(features)))
    if total is None:
        raise ValueError(f"TI-RADS needs composition and echogenicity: {features}")
    return total


def tirads_level(points: int) -> str:
    """TR1 0 points, TR2 2, TR3 3, TR4 4-6, TR5 7 or more (1 point is not a defined level)."""
    found = level(points)
    if found is None:
        raise ValueError("1 point has no TI-RADS level")
    return found


def category(system: RadsSystem, lesions: list[dict[str, object]]) -> str | None:
    """The report-level category the product's table computes from the lesions' feature
    records (the highest-risk lesion decides); None when the table cannot decide."""
    return assess(system, lesions).category


def lesion_category(system: RadsSystem, lesion: dict[str, object]) -> str | None:
    """One lesion's category by the product's table (None: indeterminate)."""
    return assess(system, [lesion]).category


def _decided(system: RadsSystem, lesions: list[dict[str, object]]) -> str:
    assessment = assess(system, lesions)
    if assessment.category is None:
        raise ValueError(f"{system}: the table cannot decide {lesions} ({assessment.missing})")
    return assessment.category


def lung_rads(kind: str, size_mm: float, solid_mm: float = 0.0) -> str:
    """Lung-RADS v2022 at baseline screening, most suspicious nodule.

    kind: 'none', 'solid', 'part-solid', 'ground-glass', 'perifissural' (solid, smooth).
    """
    if kind == "none":
        return _decided(RadsSystem.LUNG_RADS, [{"nodule_type": "none"}])
    nodule: dict[str, object] = {"size_mm": float(size_mm), "change": "baseline"}
    if kind == "perifissural":
        nodule |= {"nodule_type": "solid", "juxtapleural": True}
    else:
        nodule["nodule_type"] = kind.replace("-", "_")
    if kind == "part-solid":
        nodule["solid_component_mm"] = float(solid_mm)
    return _decided(RadsSystem.LUNG_RADS, [nodule])


def li_rads(size_mm: float, aphe: bool, washout: bool, capsule: bool, growth: bool) -> str:
    """LI-RADS v2018 CT/MRI diagnostic table (untreated observation in a patient at risk)."""
    observation = {
        "at_risk": True,
        "size_mm": float(size_mm),
        "aphe": "nonrim" if aphe else "none",
        "washout": washout,
        "capsule": capsule,
        "threshold_growth": growth,
    }
    return _decided(RadsSystem.LI_RADS, [observation])


def pi_rads(zone: str, t2: int, dwi: int, dce_positive: bool) -> str:
    """PI-RADS v2.1 from sequence scores (DWI dominant in the PZ, T2W in the TZ)."""
    lesion = {
        "zone": zone,
        "t2_score": t2,
        "dwi_score": dwi,
        "dce": "positive" if dce_positive else "negative",
    }
    return _decided(RadsSystem.PI_RADS, [lesion])


# The generator's O-RADS lesion words -> the table's lexicon type (and contour for solids).
ORADS_TERMS = {
    "follicle": {"lesion": "follicle"},
    "simple cyst": {"lesion": "simple_cyst"},
    "hemorrhagic cyst": {"lesion": "hemorrhagic_cyst"},
    "dermoid cyst": {"lesion": "dermoid"},
    "endometrioma": {"lesion": "endometrioma"},
    "multilocular smooth": {"lesion": "multilocular", "inner_wall": "smooth"},
    "unilocular with solid component": {"lesion": "unilocular_solid"},
    "solid smooth": {"lesion": "solid", "solid_contour": "smooth"},
    "solid irregular": {"lesion": "solid", "solid_contour": "irregular"},
    "ascites and peritoneal nodules": {"lesion": "solid", "peritoneal_disease": True},
}


def o_rads(
    lesion: str,
    size_cm: float,
    color_score: int = 1,
    papillary: int = 0,
    menopause: str = "premenopausal",
) -> str:
    """O-RADS US v2022 risk category for the lexicon descriptors the generator uses."""
    if lesion not in ORADS_TERMS:
        raise ValueError(f"unknown O-RADS lesion {lesion!r}")
    record: dict[str, object] = {
        **ORADS_TERMS[lesion],
        "size_mm": round(size_cm * 10, 1),
        "color_score": color_score,
        "papillary_projections": papillary,
        "menopausal_status": menopause,
    }
    if record.get("solid_contour") is None and record["lesion"] == "solid":
        record["solid_contour"] = "smooth"
    return _decided(RadsSystem.O_RADS, [record])


# BI-RADS: the assessment language of the ACR atlas names the category.
BIRADS_ASSESSMENT = {
    "0": "Incomplete: additional imaging evaluation is needed",
    "1": "Negative",
    "2": "Benign finding",
    "3": "Probably benign finding; short-interval (6-month) follow-up is suggested",
    "4A": "Low suspicion for malignancy; tissue sampling is recommended",
    "4B": "Moderate suspicion for malignancy; biopsy is recommended",
    "4C": "High suspicion for malignancy; biopsy is recommended",
    "5": "Highly suggestive of malignancy; appropriate action should be taken",
    "6": "Known biopsy-proven malignancy",
}


def lung_t(
    size_cm: float, invades_mediastinum: bool = False, same_lobe_nodule: bool = False
) -> str:
    """AJCC 8th edition lung T by greatest dimension, with two size-independent upgrades."""
    if invades_mediastinum:
        return "T4"
    size_t = (
        "T1a"
        if size_cm <= 1
        else "T1b"
        if size_cm <= 2
        else "T1c"
        if size_cm <= 3
        else "T2a"
        if size_cm <= 4
        else "T2b"
        if size_cm <= 5
        else "T3"
        if size_cm <= 7
        else "T4"
    )
    if same_lobe_nodule and size_t < "T3":
        return "T3"
    return size_t


LUNG_N = {
    "none": "N0",
    "ipsilateral hilar": "N1",
    "ipsilateral mediastinal": "N2",
    "subcarinal": "N2",
    "contralateral mediastinal": "N3",
    "supraclavicular": "N3",
}


def lung_m(metastases: list[str]) -> str:
    """M0 none; M1a contralateral lung or pleural; M1b one extrathoracic; M1c several."""
    if not metastases:
        return "M0"
    thoracic = {"contralateral lung nodule", "pleural nodules", "malignant pleural effusion"}
    extra = [m for m in metastases if m not in thoracic]
    if not extra:
        return "M1a"
    return "M1b" if len(extra) == 1 else "M1c"
