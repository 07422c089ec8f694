"""The reader's mechanisms that the eighteenth hand-written set (training/eighteenthset) found
wanting (issue 15, fourteenth round), one test per mechanism, each on sentences written for this
test (none copied from the hand-written sets).

Each test fails on the reader as it was when the eighteenth set was measured blind.
"""

from __future__ import annotations

from tests.reading import only_lesion, read


def test_ancillary_features_written_as_template_labels() -> None:
    # LI-RADS v2018: LR-3 (< 20 mm, no APHE, washout only) raised one step by two or more
    # ancillary features favouring malignancy -> LR-4.
    text = (
        "MRI liver (gadoxetate). Cirrhosis.\nObservation 1\n  Size: 15 mm\n  Arterial phase: "
        "no hyperenhancement\n  Washout: yes\n  T2: mildly hyperintense\n  DWI: restricted\n"
    )
    assert read(text, "MRI liver").assessment().category == "4"


def test_the_size_after_from_and_to_is_todays() -> None:
    # LI-RADS v2018: 10-19 mm nonrim APHE with threshold growth -> LR-5.
    text = (
        "Triple-phase CT liver. Hepatitis C cirrhosis. Compared with CT of 4 months ago.\n"
        "Segment 8 nodule has grown from 10 mm to 17 mm, with nonrim arterial phase "
        "hyperenhancement and no washout.\n"
    )
    assert only_lesion(text, "CT liver")["size_mm"] == 17
    assert read(text, "CT liver").assessment().category == "5"


def test_prior_images_not_yet_transferred_make_the_screen_incomplete() -> None:
    # Lung-RADS v2022 category 0: a prior chest CT being located for comparison.
    text = (
        "LDCT lung screening.\nComparison: CT at another hospital in 2023, images not yet "
        "received.\nRight upper lobe solid nodule 7 mm.\n"
    )
    assert read(text, "LDCT chest").assessment().category == "0"


def test_a_nature_that_cannot_be_determined_is_an_incomplete_evaluation() -> None:
    text = (
        "Transabdominal pelvic ultrasound. LMP: 10 years ago.\nLeft adnexa: a 25 mm hypoechoic "
        "area whose nature cannot be determined transabdominally.\n"
    )
    values = only_lesion(text, "US pelvis")
    assert values["menopausal_status"] == "postmenopausal"
    assert read(text, "US pelvis").assessment().category == "0"


def test_adc_as_a_template_label_before_its_degree() -> None:
    # PI-RADS v2.1 PZ: DWI 3 with negative DCE -> 3.
    text = (
        "MRI prostate.\nLESION 1\n  Location: right PZ, apex\n  Size: 7 mm\n  ADC: focal, "
        "mildly to moderately hypointense\n  DCE: negative\n"
    )
    assert read(text, "MRI prostate").assessment().category == "3"


def test_a_fluid_filled_nodule_is_cystic() -> None:
    text = "Thyroid ultrasound.\nLeft lobe: 11 mm fluid-filled nodule with a smooth outline.\n"
    assert only_lesion(text, "US thyroid")["composition"] == "cystic"


def test_a_measured_coarse_calcification_that_shadows_is_a_macrocalcification() -> None:
    for wording in ("a coarse 3 mm calcification", "a calcification casting an acoustic shadow"):
        text = f"Thyroid ultrasound.\nRight lobe: solid isoechoic nodule 16 mm with {wording}.\n"
        values = only_lesion(text, "US thyroid")
        assert values["echogenic_foci"] == ["macrocalcification"], wording
