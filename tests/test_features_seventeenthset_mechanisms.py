"""The reader's mechanisms that the seventeenth hand-written set (training/seventeenthset) found
wanting (issue 15, thirteenth round), one test per mechanism, each on sentences written for this
test (none copied from the hand-written sets).

Each test fails on the reader as it was when the seventeenth set was measured blind.
"""

from __future__ import annotations

from radlite_fhir.guidelines import RadsSystem
from tests.reading import only_lesion, read


def test_u_slash_s_names_an_ultrasound() -> None:
    text = "Right lobe: solid hypoechoic nodule 11 mm, smooth margin, wider than tall.\n"
    assert read(text, "Thyroid U/S").system is RadsSystem.TI_RADS


def test_an_anechoic_oval_lesion_with_an_imperceptible_wall_is_a_simple_cyst() -> None:
    # BI-RADS Atlas 5th ed.: a simple cyst is benign (2).
    text = (
        "Breast ultrasound.\nAt 8 o'clock an anechoic round lesion of 10 mm, imperceptible wall, "
        "posterior acoustic enhancement.\n"
    )
    assert only_lesion(text, "US breast")["kind"] == "benign"


def test_thin_linear_and_branching_calcifications_are_fine_linear() -> None:
    text = (
        "Diagnostic mammogram, left.\nA group of thin, linear and branching calcifications over "
        "6 mm in the upper inner quadrant.\n"
    )
    assert only_lesion(text, "Mammography left")["calc_morphology"] == "fine_linear"


def test_fluid_attenuation_with_no_enhancement_is_a_cyst() -> None:
    # LI-RADS v2018 LR-1: a cyst.
    text = (
        "Multiphase CT liver. Hepatitis B cirrhosis.\nSegment 4: 11 mm lesion of 6 HU, no "
        "enhancement in any phase.\n"
    )
    assert only_lesion(text, "CT liver")["benign"] == "definitely_benign"


def test_peripheral_nodular_enhancement_filling_in_centripetally_is_a_haemangioma() -> None:
    # LI-RADS v2018 LR-1: a haemangioma.
    text = (
        "MRI liver. Cirrhosis.\nSegment 6: 18 mm lesion with peripheral discontinuous nodular "
        "enhancement in the arterial phase and progressive centripetal fill-in on later phases.\n"
    )
    assert read(text, "MRI liver").assessment().category == "1"


def test_a_contrast_phase_as_a_bulleted_sub_item_belongs_to_the_observation() -> None:
    text = (
        "MRI liver. Alcoholic cirrhosis.\n- Segment 3: 14 mm nodule.\n- Arterial phase: "
        "nonrim hyperenhancement.\n- Portal venous phase: washout.\n"
    )
    reading = read(text, "MRI liver")
    assert len(reading.lesions) == 1
    # LI-RADS v2018: 10-19 mm, nonrim APHE with nonperipheral washout -> LR-5.
    assert reading.assessment().category == "5"


def test_not_resolved_because_of_bowel_gas_is_an_incomplete_evaluation() -> None:
    text = (
        "Transabdominal pelvic ultrasound. Postmenopausal.\nUterus small.\nRight adnexa: a "
        "possible fullness, not resolved because of overlying bowel gas.\n"
    )
    assert read(text, "US pelvis").assessment().category == "0"


def test_adc_written_before_its_degree_and_dark_for_low() -> None:
    for wording, finding in (
        ("ADC moderately low", "focal_mild_moderate"),
        ("ADC mildly to moderately reduced", "focal_mild_moderate"),
        ("markedly dark ADC", "focal_marked"),
    ):
        text = f"MRI prostate.\nLeft PZ, base: focal lesion 9 mm, {wording}.\n"
        assert only_lesion(text, "MRI prostate")["dwi_finding"] == finding, wording


def test_fully_liquid_content_is_a_cystic_composition() -> None:
    text = "Thyroid ultrasound.\nLeft lobe: anechoic formation 12 mm with fully liquid content.\n"
    assert only_lesion(text, "US thyroid")["composition"] == "cystic"
