"""The reader's mechanisms that the final hand-written set found wanting (issue 15), one test per
mechanism, each on sentences written for this test (none copied from the hand-written sets).

Each test fails on the mechanism as it was before: a dictated compound written as two words,
a size after "now" taken for the prior one, a negation reaching into the next clause, a
location line that only denies a finding read as a lesion, a templated "Observation 1:" block
merged into the line before it, and hard-wrapped lines that break a reference or an acronym.
"""

from __future__ import annotations

from radlite_fhir.features.lexicon import load_lexicon
from radlite_fhir.features.reader import read_features
from radlite_fhir.features.text import measurements, negated, units
from radlite_fhir.guidelines import RadsSystem
from radlite_fhir.sections import split_sections


def read(text: str, exam: str | None = None):
    return read_features(text, split_sections(text), exam)


def test_a_dictated_compound_reads_as_its_hyphenated_term() -> None:
    # Speech recognition writes "non-rim", "hyper-enhancement", "hypo-intense" as two words.
    text = (
        "MRI liver. History: cirrhosis from hepatitis C.\n"
        "Findings: A 14 mm observation in segment 8 with non rim arterial phase hyper "
        "enhancement and wash out on the delayed phase. No capsule.\n"
    )
    reading = read(text, "MRI abdomen liver protocol")
    (lesion,) = reading.lesions
    assert lesion.values()["aphe"] == "nonrim"
    assert lesion.features["aphe"].text == "non rim arterial phase hyper enhancement"
    assert lesion.values()["washout"] is True
    assert reading.assessment().category == "5"  # 10-19 mm, nonrim APHE + washout


def test_a_size_after_now_is_the_current_size_not_the_prior_one() -> None:
    lexicon = load_lexicon()
    text = "On the last scan it measured 6 mm and currently 11 mm."
    found = measurements(lexicon, text, 0, len(text))
    assert [(m.max_mm, m.prior) for m in found] == [(6.0, True), (11.0, False)]
    still_prior = "On the last scan it measured 6 mm and 7 mm."
    assert all(m.prior for m in measurements(lexicon, still_prior, 0, len(still_prior)))


def test_a_negation_stops_where_a_new_clause_names_its_own_subject() -> None:
    lexicon = load_lexicon()
    text = "The mass has no internal septations, and its border is lobulated."
    start = text.index("lobulated")
    assert not negated(lexicon, text, start, start + len("lobulated"))
    listed = "The mass has no septations, papillary projections or flow."
    start = listed.index("flow")
    assert negated(lexicon, listed, start, start + len("flow"))


def test_a_location_line_that_only_denies_a_finding_is_no_lesion() -> None:
    text = (
        "Bilateral diagnostic mammogram.\n"
        "Right breast: No mass. No suspicious calcifications.\n"
        "Left breast: No mass. No architectural distortion.\n"
    )
    reading = read(text, "Mammogram diagnostic bilateral")
    assert [lesion.values()["kind"] for lesion in reading.lesions] == ["none"]
    assert reading.assessment().category == "1"


def test_an_item_label_line_opens_the_block_of_its_own_lesion() -> None:
    # "Finding N:" is no lesion word of Lung-RADS: the label alone must open the block.
    text = (
        "Low-dose CT for lung cancer screening, annual round.\n\n"
        "Finding 1:\n"
        "Site: right upper lobe\n"
        "Attenuation: solid, densely calcified\n"
        "Size: 5 mm\n\n"
        "Finding 2:\n"
        "Site: left lower lobe\n"
        "Attenuation: solid\n"
        "Size: 12 x 10 mm\n"
        "Change: new compared with last year\n"
    )
    reading = read(text, "CT chest low dose screening")
    assert len(reading.lesions) == 2
    first, second = (lesion.values() for lesion in reading.lesions)
    assert first["benign_features"] is True and "change" not in first
    assert second["change"] == "new" and "benign_features" not in second
    assert second["size_mm"] == 11.0
    assert reading.assessment().category == "4B"  # new solid >= 8 mm


def test_a_reference_back_broken_by_a_line_wrap_still_joins_its_lesion() -> None:
    text = (
        "Thyroid ultrasound.\n"
        "Right lobe: a solid hypoechoic nodule, wider than tall, with smooth margins.\n"
        "No other nodules in the right lobe. On the sagittal sweep through the lobe it\n"
        "measures 14 mm.\n"
    )
    reading = read(text, "US thyroid")
    (lesion,) = reading.lesions
    assert lesion.values()["size_mm"] == 14.0
    assert lesion.features["size_mm"].text == "14 mm"


def test_a_wrapped_line_that_continues_with_an_acronym_stays_one_sentence() -> None:
    text = (
        "The nodule in the left lobe is moderately hypointense on the\n"
        "ADC map and bright at high b.\n"
        "ADC: 900.\n"
    )
    sentences = [u.text for u in units(text, 0, len(text))]
    assert sentences[0].endswith("bright at high b.")
    assert sentences[1] == "ADC: 900."  # a label line is not a continuation


def test_a_dash_in_a_table_cell_states_nothing_and_a_header_row_is_no_lesion() -> None:
    text = (
        "MRI liver with gadoxetate. History: cirrhosis, hepatitis C.\n"
        "Obs | seg | size | APHE | washout | capsule | comment\n"
        "A | 4 | 9 mm | - | - | - | simple cyst\n"
        "B | 7 | 12 mm | nonrim | n/a | - | \n"
    )
    reading = read(text, "MRI liver")
    first, second = (lesion.values() for lesion in reading.lesions)  # the header row is none
    assert first["benign"] == "definitely_benign"
    assert not {"aphe", "washout", "capsule"} & first.keys()
    assert second["aphe"] == "nonrim" and not {"washout", "capsule"} & second.keys()
    assert reading.assessment().category == "3"  # 10-19 mm nonrim APHE, no stated feature
    spans = [text[lesion.start : lesion.end] for lesion in reading.lesions]
    assert spans == ["A | 4 | 9 mm | - | - | - | simple cyst", "B | 7 | 12 mm | nonrim | n/a | - |"]


CT_NECK = (
    "CT SOFT TISSUE NECK WITH IV CONTRAST\n"
    "Indication: dysphagia.\n"
    "Findings: A 16 mm solid hypodense nodule in the left thyroid lobe, wider than tall. No\n"
    "cervical lymphadenopathy.\n"
    "Impression: Left thyroid nodule. Suggest thyroid ultrasound (US) for characterisation.\n"
)


def test_a_thyroid_nodule_on_ct_is_no_ti_rads_case() -> None:
    # ACR TI-RADS is an ultrasound lexicon: the examination's modality decides, whether the
    # record names the examination or only the report's title does; an ultrasound the report
    # recommends is not the examination.
    assert read(CT_NECK, "CT neck with contrast").system is None
    assert read(CT_NECK).system is None
    ultrasound = CT_NECK.replace("CT SOFT TISSUE NECK WITH IV CONTRAST", "THYROID ULTRASOUND")
    assert read(ultrasound).system is RadsSystem.TI_RADS


def test_a_negated_mention_in_the_examination_name_does_not_apply_a_system() -> None:
    text = "CT chest: a 7 mm solid nodule in the right upper lobe, new since last year.\n"
    assert read(text, "CT chest, follow-up of a known nodule, not screening").system is None
    assert read(text, "CT chest low-dose screening").system is RadsSystem.LUNG_RADS


def test_an_examination_name_that_names_nothing_leaves_the_choice_to_the_report() -> None:
    text = (
        "Low-dose CT chest, annual lung screening.\n"
        "Right lower lobe: 9 mm solid nodule, new since last year.\n"
    )
    # A document title decides nothing: the report's own title and words do.
    assert read(text, "Diagnostic Imaging Report").system is RadsSystem.LUNG_RADS
    # A name that does say something still decides: a radiograph is no screening CT.
    assert read(text, "XR chest PA and lateral").system is None
