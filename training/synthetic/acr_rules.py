"""Published decision rules: a category follows from findings, so a generated label is right.

Each function takes the findings a generator chose and returns the category the ACR document
(or AJCC 8th edition, for lung TNM) assigns. Only the parts of each system a report's words can
settle are encoded; the generators draw findings inside these parts.
"""

from __future__ import annotations

# ACR TI-RADS (2017 white paper): points per feature.
TIRADS_POINTS = {
    "composition": {"cystic": 0, "spongiform": 0, "mixed cystic and solid": 1, "solid": 2},
    "echogenicity": {
        "anechoic": 0,
        "hyperechoic": 1,
        "isoechoic": 1,
        "hypoechoic": 2,
        "very hypoechoic": 3,
    },
    "shape": {"wider-than-tall": 0, "taller-than-wide": 3},
    "margin": {
        "smooth": 0,
        "ill-defined": 0,
        "lobulated": 2,
        "irregular": 2,
        "extrathyroidal extension": 3,
    },
    "foci": {
        "none": 0,
        "comet-tail artifacts": 0,
        "macrocalcifications": 1,
        "peripheral rim calcifications": 2,
        "punctate echogenic foci": 3,
    },
}


def tirads_points(features: dict[str, str]) -> int:
    return sum(TIRADS_POINTS[name][value] for name, value in features.items())


def tirads_level(points: int) -> str:
    """TR1 0 points, TR2 2, TR3 3, TR4 4-6, TR5 7 or more (1 point is not a defined level)."""
    if points == 1:
        raise ValueError("1 point has no TI-RADS level")
    if points == 0:
        return "1"
    if points <= 3:
        return str(points)
    return "4" if points <= 6 else "5"


def lung_rads(kind: str, size_mm: float, solid_mm: float = 0.0) -> str:
    """Lung-RADS v2022, baseline screening, most suspicious nodule.

    kind: 'none', 'solid', 'part-solid', 'ground-glass', 'perifissural' (solid, < 10 mm).
    """
    if kind == "none":
        return "1"
    if kind == "perifissural":
        return "2" if size_mm < 10 else lung_rads("solid", size_mm)
    if kind == "solid":
        if size_mm < 6:
            return "2"
        if size_mm < 8:
            return "3"
        return "4A" if size_mm < 15 else "4B"
    if kind == "part-solid":
        if size_mm < 6:
            return "2"
        if solid_mm < 6:
            return "3"
        return "4A" if solid_mm < 8 else "4B"
    if kind == "ground-glass":
        return "2" if size_mm < 30 else "3"
    raise ValueError(f"unknown nodule kind {kind!r}")


def li_rads(size_mm: float, aphe: bool, washout: bool, capsule: bool, growth: bool) -> str:
    """LI-RADS v2018 CT/MRI diagnostic table (untreated observation in a patient at risk)."""
    features = sum((washout, capsule, growth))
    if not aphe:
        if size_mm < 20:
            return "4" if features >= 2 else "3"
        return "4" if features >= 1 else "3"
    if size_mm < 10:
        return "4" if features >= 1 else "3"
    if size_mm < 20:
        if features == 0:
            return "3"
        if features >= 2 or washout or growth:
            return "5"
        return "4"  # enhancing capsule alone
    return "5" if features >= 1 else "4"


def pi_rads(zone: str, t2: int, dwi: int, dce_positive: bool) -> str:
    """PI-RADS v2.1: DWI dominant in the peripheral zone (DCE upgrades 3 to 4), T2W dominant
    in the transition zone (DWI >= 4 upgrades T2 2 to 3; DWI 5 upgrades T2 3 to 4)."""
    if zone == "peripheral":
        return "4" if dwi == 3 and dce_positive else str(dwi)
    if zone != "transition":
        raise ValueError(f"unknown zone {zone!r}")
    if t2 == 2 and dwi >= 4:
        return "3"
    if t2 == 3 and dwi == 5:
        return "4"
    return str(t2)


def o_rads(
    lesion: str,
    size_cm: float,
    color_score: int = 1,
    papillary: int = 0,
    menopause: str = "premenopausal",
) -> str:
    """O-RADS US v2022 risk category for the lexicon descriptors the generator uses."""
    if lesion == "follicle":
        return "1" if size_cm <= 3 and menopause == "premenopausal" else "2"
    if lesion == "simple cyst":
        return "2" if size_cm < 10 else "3"
    if lesion in ("hemorrhagic cyst", "dermoid cyst", "endometrioma"):
        return "2" if size_cm < 10 else "3"
    if lesion == "multilocular smooth":
        return "3" if size_cm < 10 and color_score < 4 else "4"
    if lesion == "unilocular with solid component":
        return "5" if papillary >= 4 else "4"
    if lesion == "solid smooth":
        return "4" if color_score >= 2 else "3"
    if lesion in ("solid irregular", "ascites and peritoneal nodules"):
        return "5"
    raise ValueError(f"unknown O-RADS lesion {lesion!r}")


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
