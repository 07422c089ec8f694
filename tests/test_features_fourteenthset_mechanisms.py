"""The reader's mechanisms that the fourteenth hand-written set (training/fourteenthset) found
wanting (issue 15, tenth round), one test per mechanism, each on sentences written for this test
(none copied from the hand-written sets).

Each test fails on the reader as it was when the fourteenth set was measured blind.
"""

from __future__ import annotations

from radlite_fhir.features.reader import choose_system
from radlite_fhir.guidelines import RadsSystem
from tests.reading import only_lesion, read


def test_not_hyperenhancing_in_the_arterial_phase_is_no_aphe() -> None:
    # No APHE, < 20 mm, washout only -> LR-3.
    text = (
        "CT LIVER. History: HBV cirrhosis.\nFINDINGS:\nSegment 5: 13 mm observation, not "
        "hyperenhancing in the arterial phase, with washout on the delayed phase. No capsule.\n"
    )
    assert read(text, "CT liver triphasic").assessment().category == "3"


def test_images_requested_make_the_screen_incomplete() -> None:
    text = (
        "LDCT LUNG SCREENING\nCOMPARISON: CT elsewhere in 2023, images requested.\nFINDINGS:\n"
        "Left lower lobe solid nodule 7 mm.\n"
    )
    assert read(text, "LDCT chest").assessment().category == "0"


def test_a_line_headed_by_the_earlier_examination_is_not_a_lesion_of_this_one() -> None:
    # v2022: a 3 (6-<8 mm solid) stable at its 6-month follow-up steps down to 2.
    text = (
        "LDCT chest - 6-month control.\nPrior LDCT in May: RUL solid nodule 7 mm.\n"
        "Today: RUL solid nodule 7 mm, unchanged.\n"
    )
    reading = read(text, "LDCT chest")
    assert len(reading.lesions) == 1
    assert reading.assessment().category == "2"


def test_a_solid_component_named_in_brackets_before_the_total_size() -> None:
    text = (
        "LDCT screening, baseline.\nLeft upper lobe part-solid nodule (ground glass with a solid "
        "component) of 14 x 10 mm, with a solid component of 4 mm.\n"
    )
    values = only_lesion(text, "LDCT chest")
    assert values["solid_component_mm"] == 4


def test_an_adnexa_not_visualised_for_bowel_gas_with_an_unconfirmed_area_is_category_0() -> None:
    text = (
        "Transabdominal pelvic US. Postmenopausal.\nRight ovary atrophic.\nLeft adnexa: not "
        "visualised because of bowel gas; a cystic area could not be confirmed.\n"
    )
    assert read(text, "US pelvis").assessment().category == "0"


def test_pi_rads_heterogeneous_t2_whose_margins_are_obscured_and_a_reduction_in_adc() -> None:
    text = (
        "MRI prostate.\nIn the right transition zone a 14 mm area of heterogeneous T2 signal "
        "whose margins are obscured, with a mild to moderate reduction in ADC.\n"
    )
    values = only_lesion(text, "MRI prostate")
    assert values["t2_finding"] == "heterogeneous"
    assert values["dwi_finding"] == "focal_mild_moderate"


def test_a_french_thyroid_ultrasound_name() -> None:
    text = "Lobe droit / right lobe: solid hypoechoic thyroid nodule 9 mm."
    assert choose_system(text, "Échographie thyroïdienne")[0] is RadsSystem.TI_RADS
