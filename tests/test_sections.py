"""Section splitting on the heading styles real reports use."""

from __future__ import annotations

import csv
from pathlib import Path

from radlite_fhir.sections import split_sections


def _keys_and_texts(text: str) -> list[tuple[str, str]]:
    return [(s.key, text[s.start : s.end]) for s in split_sections(text)]


def test_colon_headings_on_their_own_lines() -> None:
    text = (
        "EXAMINATION: CT chest\nCLINICAL HISTORY: cough.\nFINDINGS:\nA 6 mm nodule.\n\n"
        "IMPRESSION:\n1. Nodule."
    )
    assert _keys_and_texts(text) == [
        ("technique", "CT chest"),
        ("history", "cough."),
        ("findings", "A 6 mm nodule."),
        ("impression", "1. Nodule."),
    ]


def test_capital_headings_without_colon() -> None:
    assert _keys_and_texts("FINDINGS\nclear lungs\nIMPRESSION\nnormal") == [
        ("findings", "clear lungs"),
        ("impression", "normal"),
    ]


def test_lowercase_word_without_colon_is_not_a_heading() -> None:
    text = "Findings:\nThe impression\nof the cortex is normal."
    assert [k for k, _ in _keys_and_texts(text)] == ["findings"]


def test_text_without_headings_is_one_findings_section() -> None:
    assert _keys_and_texts("Unremarkable study") == [("findings", "Unremarkable study")]


def test_mtsamples_comma_line_breaks(shared_data: Path) -> None:
    with (shared_data / "mtsamples_radiology.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        text = row["transcription"]
        keys = {s.key for s in split_sections(text)}
        for heading, key in (("IMPRESSION:", "impression"), ("FINDINGS:", "findings")):
            if heading in text:
                assert key in keys, (row["note_id"], heading)
    first = _keys_and_texts(rows[0]["transcription"])
    assert first[0] == ("technique", "Ultrasound examination of the scrotum.")
    assert ("indication", "Scrotal pain.") in first


def test_assessment_observations_clinical_and_prior_examinations_headings() -> None:
    text = (
        "Clinical: 61F, lump.\nPrior examinations: Mammography 2022.\n"
        "Observations: Oval mass right breast.\nAssessment: Probably a cyst."
    )
    assert [key for key, _ in _keys_and_texts(text)] == [
        "clinical_information",
        "comparison",
        "findings",
        "conclusion",
    ]
    profile = "Clinical profile: 40 year old.\nObservations:\nNormal study."
    assert _keys_and_texts(profile) == [
        ("clinical_information", "40 year old."),
        ("findings", "Normal study."),
    ]


def test_a_heading_in_capitals_may_carry_one_qualifying_word() -> None:
    text = "Lead placement uneventful.,SONOGRAPHIC FINDINGS:, Normal.,CLINICAL HISTORY: pain."
    assert _keys_and_texts(text) == [("findings", "Normal."), ("history", "pain.")]
    # in lower case the qualifier makes it a sentence, not a heading
    assert [k for k, _ in _keys_and_texts("Our findings: normal.\nIMPRESSION: none")] == [
        "impression"
    ]


def test_a_heading_may_carry_a_qualifier_after_it_before_its_colon() -> None:
    # Addenda and continued sections are headed so; a dash qualifier without the colon
    # ("Impression - see above") is text.
    text = (
        "Findings (continued): the spleen is normal.\n"
        "ADDENDUM - CORRECTED: outside images now compared.\n"
        "Impression - see above\n"
    )
    keys = _keys_and_texts(text)
    assert keys[0] == ("findings", "the spleen is normal.")
    assert keys[1] == ("addendum", "outside images now compared.\nImpression - see above")


def test_two_qualifying_capital_words_and_a_revised_impression() -> None:
    text = "FINAL ATTENDING ADDENDUM:\nImages reviewed.\nRevised impression: benign."
    assert _keys_and_texts(text) == [
        ("addendum", "Images reviewed."),
        ("impression", "benign."),
    ]
