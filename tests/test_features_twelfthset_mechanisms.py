"""The reader's mechanisms that the twelfth hand-written set (training/twelfthset) found wanting
(issue 15, eighth round), one test per mechanism, each on sentences written for this test (none
copied from the hand-written sets).

Each test fails on the reader as it was when the twelfth set was measured blind.
"""

from __future__ import annotations

import pytest

from tests.reading import only_lesion, read


def test_mg_names_a_mammogram() -> None:
    text = "Both breasts: scattered fibroglandular tissue. No mass, no suspicious calcification.\n"
    assert read(text, "MG diagnostic bilateral").assessment().category == "1"


def test_a_cyst_described_by_its_atlas_features_at_a_distance_from_the_nipple() -> None:
    text = (
        "Right breast, 7 o'clock, 3 cm from the nipple: an anechoic structure of 1.1 x 0.8 cm, "
        "imperceptible wall, posterior acoustic enhancement.\n"
    )
    assert read(text, "US breast right").assessment().category == "2"


def test_an_opacity_and_its_ultrasound_correlate_are_one_stable_mass() -> None:
    text = (
        "Left breast, upper outer quadrant: oval circumscribed opacity of 9 mm, unchanged since "
        "2022.\nOn ultrasound this corresponds to an oval, circumscribed, parallel hypoechoic "
        "nodule of 9 x 5 mm.\n"
    )
    values = only_lesion(text, "MG and US left breast")
    assert values["kind"] == "mass" and values["orientation"] == "parallel"
    assert values["change"] == "stable"


def test_a_screening_round_is_no_shape_and_an_assessment_clinic_is_a_recall() -> None:
    text = (
        "Right breast: unchanged since the previous round.\nLeft breast, lower inner: a new "
        "focal asymmetry on the CC view only.\nThe woman is invited to the assessment clinic.\n"
    )
    reading = read(text, "MG screening bilateral")
    assert all(lesion.values().get("shape") != "round" for lesion in reading.lesions)
    assert reading.assessment().category == "0"


def test_listed_fine_linear_calcifications_are_calcifications_and_regional_nodes_no_spread() -> (
    None
):
    text = (
        "Right breast, 11 o'clock: a group of fine linear and thin branching calcifications, "
        "5 mm, new.\nRegional lymph nodes unremarkable.\n"
    )
    reading = read(text, "MG diagnostic right")
    (lesion,) = [lesion.values() for lesion in reading.lesions if lesion.values()]
    assert lesion["kind"] == "calcifications" and lesion["calc_distribution"] == "grouped"
    assert reading.assessment().category == "4C"


def test_punctate_hyperechoic_foci_are_punctate_echogenic_foci() -> None:
    text = "Left lobe: solid hypoechoic nodule 12 mm with punctate hyperechoic foci.\n"
    assert only_lesion(text, "US thyroid")["echogenic_foci"] == ["punctate"]


def test_qualified_template_labels_stay_with_their_observation() -> None:
    text = (
        "MRI LIVER. History: HCV cirrhosis.\nFINDINGS:\n- Observation A: segment 3, 1.4 cm.\n"
        "  - APHE: yes, nonrim.\n  - Washout: no.\n  - Enhancing capsule: yes.\n"
    )
    reading = read(text, "MRI liver")
    assert len(reading.lesions) == 1
    assert reading.assessment().category == "4"  # 10-19 mm nonrim APHE with capsule only


def test_a_vein_filled_with_soft_tissue_is_tumour_in_vein() -> None:
    text = (
        "CT LIVER. History: HBV cirrhosis.\nFINDINGS:\nSegment 6 mass 50 mm, nonrim APHE, "
        "washout. The right portal vein is filled with soft tissue that enhances arterially.\n"
    )
    assert read(text, "CT liver multiphase").assessment().category == "TIV"


def test_a_context_heading_in_a_one_paragraph_report_holds_only_its_first_sentence() -> None:
    text = (
        "MRI prostate, 3 T. Indication: PSA 8.1, negative biopsy 2024. In the right peripheral "
        "zone at the base there is an 8 mm focal lesion, markedly hypointense on ADC. "
        "Opinion: right PZ lesion."
    )
    values = only_lesion(text, "MRI prostate")
    assert values["zone"] == "peripheral" and values["dwi_finding"] == "focal_marked"


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        ("sharply restricted diffusion", "focal_marked"),
        ("markedly hyperintense on DWI b2000", "focal_marked"),
        ("marked restriction (dark ADC, bright high b)", "focal_marked"),
        ("mild-to-moderate ADC lowering", "focal_mild_moderate"),
    ],
)
def test_pi_rads_dwi_phrasings(sentence: str, value: str) -> None:
    text = "mpMRI prostate.\nLeft PZ apex: focal lesion 7 mm with " + sentence + ".\n"
    assert only_lesion(text, "MRI prostate")["dwi_finding"] == value
