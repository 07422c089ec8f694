"""The reader's mechanisms that the eighth hand-written set (training/eighthset) and the earlier
LI-RADS misses found wanting (issue 15, fifth round): LI-RADS v2018 ancillary features read from
the text, one test per mechanism, each on sentences written for this test (none copied from the
hand-written sets).

The ancillary step is optional in the v2018 core; the product applies it only when at least two
ancillary features point the same way (docs/rads-feature-tables.md gives the reason). Each test
fails on the reader as it was before this round, which had no ancillary words.
"""

from __future__ import annotations

import pytest

from radlite_fhir.features.reader import read_features
from radlite_fhir.sections import split_sections

HEAD = "MRI LIVER WITH GADOXETATE. History: alcohol-related cirrhosis, surveillance.\nFINDINGS:\n"
# 13 mm, no APHE, no washout, no capsule -> LR-3 by the diagnostic table.
LR3_LESION = (
    "Segment 2: 13 mm observation without arterial phase hyperenhancement, no washout and no "
    "capsule. "
)


def read(text: str):
    return read_features(text, split_sections(text), "MRI liver")


@pytest.mark.parametrize(
    "ancillary",
    [
        "It restricts on DWI and is hypointense on the hepatobiliary phase.",
        "Moderately T2 hyperintense, with HBP hypointensity.",
        "There is diffusion restriction (low ADC) and a nodule-in-nodule architecture.",
        "Mosaic architecture and intralesional fat are present.",
    ],
)
def test_two_ancillary_features_favouring_malignancy_upgrade_lr3_to_lr4(ancillary: str) -> None:
    reading = read(HEAD + LR3_LESION + ancillary + "\n")
    (lesion,) = reading.lesions
    assert lesion.values()["ancillary_malignancy"] is True
    assessment = reading.assessment()
    assert assessment.category == "4"
    assert any("ancillary features favour malignancy" in reason for reason in assessment.reasons)


@pytest.mark.parametrize(
    "ancillary",
    [
        "Mildly T2 hyperintense; no diffusion restriction.",
        "It is hypointense in the transitional phase.",
        "No restricted diffusion, no hepatobiliary phase hypointensity, no corona enhancement.",
    ],
)
def test_one_ancillary_feature_or_negated_ones_leave_the_table_category(ancillary: str) -> None:
    reading = read(HEAD + LR3_LESION + ancillary + "\n")
    (lesion,) = reading.lesions
    assert lesion.values().get("ancillary_malignancy") is not True
    assert reading.assessment().category == "3"


def test_ancillary_features_never_upgrade_to_lr5() -> None:
    # 15 mm nonrim APHE with an enhancing capsule only -> LR-4; AFs cannot reach LR-5.
    text = (
        HEAD + "Segment 8: 15 mm nodule with nonrim APHE and an enhancing capsule, no washout. "
        "Restricted diffusion and mild-moderate T2 hyperintensity.\n"
    )
    assert read(text).assessment().category == "4"


def test_two_ancillary_features_favouring_benignity_downgrade_by_one() -> None:
    text = HEAD + LR3_LESION + "Unchanged in size for 3 years and isointense in the HBP.\n"
    (lesion,) = read(text).lesions
    assert lesion.values()["ancillary_benignity"] is True
    assert read(text).assessment().category == "2"


def test_a_nonenhancing_capsule_is_an_ancillary_feature_not_the_major_feature() -> None:
    # 15 mm nonrim APHE: an enhancing capsule would make LR-4; a nonenhancing one is not the
    # major feature (with one more ancillary feature it upgrades LR-3 to LR-4 instead).
    alone = HEAD + "Segment 6: 15 mm nodule, nonrim APHE and a nonenhancing capsule; no washout.\n"
    (lesion,) = read(alone).lesions
    assert lesion.values().get("capsule") is not True
    assert read(alone).assessment().category == "3"
    enhancing = alone.replace("nonenhancing capsule", "enhancing capsule")
    assert read(enhancing).assessment().category == "4"
