"""The reader's mechanisms that the sixth hand-written set (training/sixthset) found wanting
(issue 15, third round), one test per mechanism, each on sentences written for this test (none
copied from the hand-written sets).

Each test fails on the mechanism as it was before this round.
"""

from __future__ import annotations

from radlite_fhir.features.reader import read_features
from radlite_fhir.features.text import units
from radlite_fhir.sections import split_sections


def read(text: str, exam: str | None = None):
    return read_features(text, split_sections(text), exam)


def test_a_numbered_items_number_stays_with_its_text_and_a_denying_item_ends_the_lesion() -> None:
    # "2. No new nodules." is a list item of its own: its number is no sentence, its negated
    # "new" no value of the nodule before it; an item that only states the course ("3. Stable
    # since 2022.") describes no lesion; "3-month control" is the 3-month follow-up LDCT.
    text = (
        "Low-dose chest CT, 3-month control.\n"
        "Comparison: LDCT of three months ago.\n\n"
        "1. Left upper lobe: solid nodule 10 x 8 mm, no change from the prior (10 x 8 mm).\n"
        "2. No new nodules.\n"
        "3. Stable since 2022.\n"
        "New baseline imaging not needed.\n"
    )
    sentences = [u.text for u in units(text, 0, len(text))]
    assert "2. No new nodules." in sentences
    assert "2." not in sentences
    reading = read(text, "CT chest low dose screening")
    (lesion,) = reading.lesions
    values = lesion.values()
    assert values["change"] == "stable"
    assert values["follow_up"] == "three_month"
    assert reading.assessment().category == "3"  # a 4A-size nodule stable at 3 months
