"""The decision tables against worked examples and table rows of the published documents.

Each case cites where its row comes from; the category is what that row assigns.
"""

from __future__ import annotations

from typing import Any

import pytest

from radlite_fhir.guidelines import GUIDELINES, FeatureError, RadsSystem, assess, record_fields
from radlite_fhir.guidelines.base import FieldKind

TI = RadsSystem.TI_RADS
LUNG = RadsSystem.LUNG_RADS
LI = RadsSystem.LI_RADS
PI = RadsSystem.PI_RADS
O = RadsSystem.O_RADS  # noqa: E741
BI = RadsSystem.BI_RADS

# (system, lesions, expected category, source)
CASES: list[tuple[RadsSystem, list[dict[str, Any]], str | None, str]] = [
    # ACR TI-RADS white paper (Tessler 2017), Fig. 1 chart: points per feature, levels by sum.
    (TI, [{"composition": "spongiform"}], "1", "TI-RADS chart: spongiform, no further points"),
    (TI, [{"composition": "cystic"}], "1", "TI-RADS chart: cystic + anechoic = 0 -> TR1"),
    (
        TI,
        [{"composition": "mixed", "echogenicity": "isoechoic", "echogenic_foci": ["comet_tail"]}],
        "2",
        "1+1+0 = 2 -> TR2",
    ),
    (TI, [{"composition": "solid", "echogenicity": "isoechoic"}], "3", "2+1 = 3 -> TR3"),
    (
        TI,
        [
            {
                "composition": "solid",
                "echogenicity": "hypoechoic",
                "margin": "smooth",
                "shape": "wider_than_tall",
            }
        ],
        "4",
        "2+2 = 4 -> TR4",
    ),
    (
        TI,
        [
            {
                "composition": "solid",
                "echogenicity": "hypoechoic",
                "shape": "taller_than_wide",
                "echogenic_foci": ["punctate"],
            }
        ],
        "5",
        "2+2+3+3 = 10 -> TR5",
    ),
    (
        TI,
        [
            {
                "composition": "mixed",
                "echogenicity": "hyperechoic",
                "echogenic_foci": ["macrocalcification", "punctate"],
            }
        ],
        "4",
        "foci add up: 1+1+1+3 = 6 -> TR4",
    ),
    (TI, [{"composition": "solid"}], None, "echogenicity required for a solid nodule"),
    # Lung-RADS v2022 summary table (ACR; Christensen et al. CHEST 2024).
    (LUNG, [{"nodule_type": "none"}], "1", "no nodules -> 1"),
    (
        LUNG,
        [{"nodule_type": "solid", "size_mm": 12, "benign_features": True}],
        "1",
        "benign calcification -> 1",
    ),
    (LUNG, [{"nodule_type": "solid", "size_mm": 5}], "2", "solid < 6 mm baseline -> 2"),
    (LUNG, [{"nodule_type": "solid", "size_mm": 7}], "3", "solid 6 to < 8 baseline -> 3"),
    (LUNG, [{"nodule_type": "solid", "size_mm": 10}], "4A", "solid 8 to < 15 baseline -> 4A"),
    (LUNG, [{"nodule_type": "solid", "size_mm": 16}], "4B", "solid >= 15 baseline -> 4B"),
    (LUNG, [{"nodule_type": "solid", "size_mm": 5, "change": "new"}], "3", "new 4 to < 6 -> 3"),
    (
        LUNG,
        [{"nodule_type": "solid", "size_mm": 6.5, "change": "growing"}],
        "4A",
        "growing < 8 -> 4A",
    ),
    (
        LUNG,
        [{"nodule_type": "solid", "size_mm": 8, "juxtapleural": True}],
        "2",
        "juxtapleural < 10 -> 2",
    ),
    (
        LUNG,
        [{"nodule_type": "part_solid", "size_mm": 10, "solid_component_mm": 5}],
        "3",
        "part-solid >= 6 with solid < 6 -> 3",
    ),
    (
        LUNG,
        [{"nodule_type": "part_solid", "size_mm": 12, "solid_component_mm": 7}],
        "4A",
        "solid part 6 to < 8 -> 4A",
    ),
    (
        LUNG,
        [{"nodule_type": "part_solid", "size_mm": 14, "solid_component_mm": 5, "change": "new"}],
        "4B",
        "new solid part >= 4 -> 4B",
    ),
    (LUNG, [{"nodule_type": "ground_glass", "size_mm": 32}], "3", "GGN >= 30 baseline -> 3"),
    (
        LUNG,
        [{"nodule_type": "ground_glass", "size_mm": 32, "change": "stable"}],
        "2",
        "GGN >= 30 stable -> 2",
    ),
    (
        LUNG,
        [{"nodule_type": "solid", "size_mm": 10, "suspicious_features": True}],
        "4X",
        "4A with spiculation -> 4X",
    ),
    (
        LUNG,
        [{"nodule_type": "solid", "size_mm": 5}, {"nodule_type": "solid", "size_mm": 9}],
        "4A",
        "most suspicious nodule decides",
    ),
    # LI-RADS v2018 CT/MRI diagnostic table.
    (
        LI,
        [{"at_risk": True, "size_mm": 24, "aphe": "nonrim", "washout": True, "capsule": True}],
        "5",
        ">= 20 mm, nonrim APHE, >= 1 feature -> LR-5",
    ),
    (
        LI,
        [{"at_risk": True, "size_mm": 15, "aphe": "nonrim", "capsule": True}],
        "4",
        "10-19 mm, capsule only -> LR-4",
    ),
    (
        LI,
        [{"at_risk": True, "size_mm": 15, "aphe": "nonrim", "washout": True}],
        "5",
        "10-19 mm, washout -> LR-5",
    ),
    (LI, [{"at_risk": True, "size_mm": 8, "aphe": "nonrim"}], "3", "< 10 mm, no feature -> LR-3"),
    (
        LI,
        [{"at_risk": True, "size_mm": 25, "aphe": "none", "washout": True}],
        "4",
        "no APHE >= 20 mm, 1 feature -> LR-4",
    ),
    (
        LI,
        [{"at_risk": True, "size_mm": 15, "aphe": "none", "washout": True}],
        "3",
        "no APHE < 20 mm, 1 feature -> LR-3",
    ),
    (
        LI,
        [{"at_risk": True, "tumor_in_vein": True}],
        "TIV",
        "enhancing soft tissue in vein -> LR-TIV",
    ),
    (LI, [{"at_risk": True, "size_mm": 30, "aphe": "rim"}], "M", "rim APHE -> LR-M"),
    (LI, [{"at_risk": True, "benign": "definitely_benign"}], "1", "simple cyst -> LR-1"),
    (
        LI,
        [{"at_risk": False, "size_mm": 24, "aphe": "nonrim", "washout": True}],
        None,
        "not at risk: LI-RADS does not apply",
    ),
    (LI, [{"at_risk": True, "size_mm": 24}], None, "APHE required"),
    # PI-RADS v2.1 assessment tables (Turkbey 2019, Tables 1-2 and the DCE/DWI upgrades).
    (PI, [{"zone": "peripheral", "dwi_score": 3, "dce": "positive"}], "4", "PZ DWI 3 + DCE+ -> 4"),
    (PI, [{"zone": "peripheral", "dwi_score": 3, "dce": "negative"}], "3", "PZ DWI 3 + DCE- -> 3"),
    (
        PI,
        [{"zone": "peripheral", "dwi_finding": "focal_marked", "size_mm": 18}],
        "5",
        "focal marked >= 15 mm -> DWI 5",
    ),
    (
        PI,
        [{"zone": "peripheral", "dwi_finding": "focal_marked", "size_mm": 11}],
        "4",
        "focal marked < 15 mm -> DWI 4",
    ),
    (PI, [{"zone": "transition", "t2_score": 2, "dwi_score": 4}], "3", "TZ T2 2 + DWI >= 4 -> 3"),
    (PI, [{"zone": "transition", "t2_score": 3, "dwi_score": 5}], "4", "TZ T2 3 + DWI 5 -> 4"),
    (
        PI,
        [{"zone": "transition", "t2_finding": "lenticular", "size_mm": 12}],
        "4",
        "TZ lenticular < 15 mm -> 4",
    ),
    (PI, [{"zone": "peripheral", "dwi_score": 3}], None, "PZ DWI 3 needs DCE"),
    (PI, [{"dwi_finding": "normal"}], "1", "no focal lesion -> 1"),
    # O-RADS US v2022 risk stratification table (Strachowski 2023).
    (
        O,
        [{"lesion": "simple_cyst", "size_mm": 25, "menopausal_status": "premenopausal"}],
        "1",
        "simple cyst <= 3 cm premenopausal -> 1",
    ),
    # The O-RADS US lexicon (Andreotti et al., Radiology 2018;288:318-328) defines a follicle
    # as a simple cyst <= 3 cm in a premenopausal woman: the term needs no measurement.
    (O, [{"lesion": "follicle"}], "1", "follicle (<= 3 cm by definition) -> 1"),
    (O, [{"lesion": "follicle", "size_mm": 45}], "2", "a 'follicle' over 3 cm is a simple cyst"),
    (O, [{"lesion": "simple_cyst", "size_mm": 50}], "2", "simple cyst < 10 cm -> 2"),
    (O, [{"lesion": "simple_cyst", "size_mm": 110}], "3", "unilocular >= 10 cm -> 3"),
    (O, [{"lesion": "dermoid", "size_mm": 40}], "2", "classic dermoid < 10 cm -> 2"),
    (
        O,
        [{"lesion": "multilocular", "size_mm": 60, "color_score": 2}],
        "3",
        "multilocular smooth < 10 cm CS < 4 -> 3",
    ),
    (
        O,
        [{"lesion": "unilocular_solid", "papillary_projections": 4}],
        "5",
        ">= 4 papillary projections -> 5",
    ),
    (
        O,
        [{"lesion": "solid", "solid_contour": "smooth", "color_score": 1}],
        "3",
        "solid smooth CS 1 -> 3",
    ),
    (O, [{"lesion": "solid", "solid_contour": "irregular"}], "5", "solid irregular -> 5"),
    (
        O,
        [{"lesion": "multilocular_solid", "color_score": 3}],
        "5",
        "multilocular with solid CS 3-4 -> 5",
    ),
    (
        O,
        [{"lesion": "dermoid", "size_mm": 30}, {"peritoneal_disease": True}],
        "5",
        "ascites/peritoneal nodules -> 5",
    ),
    # BI-RADS Atlas 5th ed.: categories by likelihood of malignancy and descriptor PPVs.
    (BI, [{"kind": "none"}], "1", "negative -> 1"),
    (BI, [{"kind": "benign"}], "2", "benign finding -> 2"),
    (
        BI,
        [{"kind": "mass", "shape": "oval", "margin": "circumscribed"}],
        "3",
        "circumscribed oval solid mass, baseline -> 3",
    ),
    # The Atlas's 4A example: "a partially circumscribed solid mass with ultrasound features
    # suggestive of a fibroadenoma"; the same margin over the whole edge is 4B.
    (
        BI,
        [{"kind": "mass", "shape": "oval", "margin": "indistinct", "margin_in_part": True}],
        "4A",
        "oval mass indistinct in part, otherwise circumscribed -> 4A",
    ),
    # A margin recorded as circumscribed "but for a part" is still not circumscribed (Atlas: a
    # mass with any part of its margin not circumscribed is not circumscribed): never 3.
    (
        BI,
        [{"kind": "mass", "shape": "oval", "margin": "circumscribed", "margin_in_part": True}],
        "4A",
        "circumscribed but for a part -> 4A, not 3",
    ),
    (BI, [{"kind": "mass", "shape": "oval", "margin": "indistinct"}], "4B", "oval indistinct"),
    (
        BI,
        [
            {
                "kind": "mass",
                "shape": "oval",
                "margin": "microlobulated",
                "margin_in_part": True,
                "orientation": "not_parallel",
            }
        ],
        "4B",
        "partly microlobulated but not parallel: no longer fibroadenoma-like",
    ),
    (
        BI,
        [{"kind": "mass", "shape": "oval", "margin": "circumscribed", "change": "stable"}],
        "2",
        "stable -> 2",
    ),
    (
        BI,
        [{"kind": "mass", "shape": "irregular", "margin": "spiculated"}],
        "5",
        "irregular spiculated mass -> 5",
    ),
    (
        BI,
        [
            {
                "kind": "calcifications",
                "calc_morphology": "fine_linear",
                "calc_distribution": "segmental",
            }
        ],
        "5",
        "segmental fine linear -> 5",
    ),
    (
        BI,
        [{"kind": "calcifications", "calc_morphology": "amorphous"}],
        "4B",
        "amorphous (PPV ~21%) -> 4B",
    ),
    (BI, [{"kind": "mass", "known_malignancy": True}], "6", "biopsy-proven -> 6"),
    (
        BI,
        [{"kind": "asymmetry", "needs_additional_imaging": True}, {"kind": "benign"}],
        "0",
        "recall outranks benign -> 0",
    ),
    (BI, [{"kind": "mass", "shape": "irregular"}], None, "margin required for a mass"),
]


@pytest.mark.parametrize(
    ("system", "lesions", "expected", "source"), CASES, ids=[c[3] for c in CASES]
)
def test_published_rows(
    system: RadsSystem, lesions: list[dict[str, Any]], expected: str | None, source: str
) -> None:
    assessment = assess(system, lesions)
    assert assessment.category == expected, (source, assessment)
    if expected is None:
        assert assessment.missing, "an indeterminate assessment names what is missing"
    else:
        assert assessment.reasons


def test_every_record_schema_is_typed() -> None:
    for guideline in GUIDELINES.values():
        fields = guideline.fields()
        assert fields
        for spec in fields:
            if spec.kind in (FieldKind.TERM, FieldKind.TERMS):
                assert spec.terms, spec
            if spec.kind is FieldKind.SCORE:
                assert spec.low <= spec.high


def test_unknown_feature_or_value_is_refused_by_name() -> None:
    with pytest.raises(FeatureError, match="unknown feature 'colour'"):
        assess(O, [{"colour": 3}])
    with pytest.raises(FeatureError, match="margin"):
        assess(BI, [{"kind": "mass", "shape": "oval", "margin": "wobbly"}])
    with pytest.raises(FeatureError, match="1-5"):
        assess(PI, [{"zone": "peripheral", "dwi_score": 7}])


def test_record_fields_follow_type_hints() -> None:
    names = {s.name: s for s in record_fields(GUIDELINES[TI].record_type)}
    assert names["echogenic_foci"].kind is FieldKind.TERMS
    assert names["size_mm"].kind is FieldKind.NUMBER
    assert "punctate" in names["echogenic_foci"].terms
