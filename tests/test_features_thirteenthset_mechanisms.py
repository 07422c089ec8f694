"""The reader's mechanisms that the thirteenth hand-written set (training/thirteenthset) found
wanting (issue 15, ninth round), one test per mechanism, each on sentences written for this test
(none copied from the hand-written sets).

Each test fails on the reader as it was when the thirteenth set was measured blind.
"""

from __future__ import annotations

import pytest

from radlite_fhir.features.reader import choose_system
from radlite_fhir.guidelines import RadsSystem
from tests.reading import only_lesion, read


@pytest.mark.parametrize(
    ("exam", "text", "system"),
    [
        ("Resonancia magnetica de prostata", "Left PZ focal lesion 8 mm.", RadsSystem.PI_RADS),
        ("Ecografia tiroidea", "Right lobe: solid nodule 12 mm.", RadsSystem.TI_RADS),
        ("Ultrasonido mamario", "Left breast: oval mass 9 mm.", RadsSystem.BI_RADS),
        # The name leaves out the body part; the report's own title names it.
        (
            "Low-dose CT screening",
            "LOW-DOSE CT OF THE LUNGS\nSolid nodule 6 mm.",
            RadsSystem.LUNG_RADS,
        ),
    ],
)
def test_examination_names_in_other_languages_and_titles_that_complete_them(
    exam: str, text: str, system: RadsSystem
) -> None:
    assert choose_system(text, exam)[0] is system


def test_increased_vascularity_is_not_growth_and_a_nodular_image_is_a_mass() -> None:
    text = (
        "Left breast at 3 o'clock: hypoechoic solid nodular image, oval, circumscribed, "
        "parallel to the skin, 11 mm. Increased internal vascularity.\n"
    )
    values = only_lesion(text, "Breast ultrasound")
    assert values["kind"] == "mass" and values.get("change") != "increasing"


def test_a_corresponding_lesion_on_another_modality_is_the_same_lesion() -> None:
    text = (
        "Mammography: right breast, upper outer quadrant, new oval equal-density mass, 10 mm.\n"
        "Ultrasound: corresponding solid oval hypoechoic lesion at 10 o'clock, 10 x 6 mm, "
        "circumscribed, parallel orientation.\n"
    )
    values = only_lesion(text, "Mammography and ultrasound right breast")
    assert values["change"] == "new" and values["orientation"] == "parallel"


def test_a_liver_cyst_by_its_mr_signal_and_no_enhancement_on_any_image() -> None:
    text = (
        "MRI LIVER. History: alcohol cirrhosis.\nFINDINGS:\nA 15 mm lesion in segment 3 is "
        "homogeneously bright on T2 and does not enhance on any of the post contrast images.\n"
    )
    assert read(text, "MRI liver").assessment().category == "1"


def test_no_flow_on_colour_doppler_is_this_examination_s_colour_score() -> None:
    text = (
        "Left adnexa: solid ovarian mass 30 mm with a smooth outer contour. Postmenopausal.\n"
        "No flow detected on colour Doppler.\n"
    )
    assert only_lesion(text, "Transvaginal ultrasound")["color_score"] == 1


def test_a_multilocular_cyst_denying_its_solid_part_late_in_the_sentence() -> None:
    text = (
        "Right ovary: multilocular cyst 70 x 52 mm with five locules of anechoic and low-level "
        "content, thin smooth septa and a smooth inner wall throughout, with no solid component "
        "or papillary projection.\n"
    )
    assert only_lesion(text, "Transvaginal ultrasound")["lesion"] == "multilocular"


def test_no_early_or_focal_enhancement_is_dce_negative() -> None:
    text = "mpMRI prostate.\nLeft PZ apex: focal lesion 7 mm. DCE: no early or focal enhancement.\n"
    assert only_lesion(text, "MRI prostate")["dce"] == "negative"
