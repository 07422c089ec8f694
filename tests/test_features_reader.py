"""The feature reader: which system applies, lesions, negation, sizes, spans (no model).

The development set (training/devset, hand-written, labelled by the tables) is the yardstick:
its labels must follow the tables, its reports must not state their category, and the reader
must compute the labelled category on most of them. The exact figures are printed by
`python -m training.evaluate --devset-only`; this test guards a floor.
"""

from __future__ import annotations

from collections import Counter

import pytest

from radlite_fhir.features.lexicon import load_lexicon
from radlite_fhir.features.reader import read_features
from radlite_fhir.features.text import measurements, negated, units
from radlite_fhir.guidelines import GUIDELINES, RadsSystem, assess
from radlite_fhir.rules import find_rads
from radlite_fhir.sections import split_sections
from training.development_set import load_devset

DEVSET = load_devset()


def read(text: str, exam: str | None = None):
    return read_features(text, split_sections(text), exam)


def test_devset_has_twenty_reports_per_system_and_unique_ids() -> None:
    per_system = Counter(r.system.value if r.system else "none" for r in DEVSET)
    assert all(per_system[s.value] >= 20 for s in RadsSystem), per_system
    assert per_system["none"] >= 20
    assert len({r.record_id for r in DEVSET}) == len(DEVSET)


@pytest.mark.parametrize("record", [r for r in DEVSET if r.system], ids=lambda r: r.record_id)
def test_devset_labels_follow_the_tables(record) -> None:
    assessment = assess(record.system, record.lesions)
    assert assessment.category == record.category, assessment.reasons


@pytest.mark.parametrize("record", DEVSET, ids=lambda r: r.record_id)
def test_devset_reports_do_not_state_their_category(record) -> None:
    system = record.system.value if record.system else None
    assert find_rads(record.text, default_system=system) == []


def test_reader_computes_the_labelled_category_on_the_devset() -> None:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for record in DEVSET:
        reading = read(record.text, record.exam)
        assessment = reading.assessment()
        got = (reading.system, assessment.category if assessment else None)
        key = record.system.value if record.system else "none"
        total[key] += 1
        right[key] += got == (record.system, record.category)
    for key in total:
        assert right[key] / total[key] >= 0.85, (key, right[key], total[key])


def test_every_value_read_is_a_span_of_the_report() -> None:
    for record in DEVSET:
        reading = read(record.text, record.exam)
        for grounded in reading.system_evidence:
            assert record.text[grounded.start : grounded.end] == grounded.text
        for lesion in reading.lesions:
            for grounded in lesion.features.values():
                assert record.text[grounded.start : grounded.end] == grounded.text


def test_values_are_valid_terms_of_the_tables() -> None:
    for record in DEVSET:
        reading = read(record.text, record.exam)
        if reading.system is None:
            continue
        guideline = GUIDELINES[reading.system]
        for lesion in reading.lesions:
            guideline.record(lesion.values())  # raises FeatureError on an unknown term


LR5 = (
    "LIVER MRI. History: cirrhosis.\nFINDINGS:\nSegment 7: 24 mm observation with nonrim arterial "
    "phase hyperenhancement, nonperipheral washout and an enhancing capsule.\n"
)


def test_textbook_lr5_is_computed_with_grounded_features() -> None:
    reading = read(LR5, "MRI liver")
    assessment = reading.assessment()
    assert reading.system is RadsSystem.LI_RADS and assessment and assessment.category == "5"
    features = reading.lesions[0].features
    assert features["size_mm"].value == 24.0 and features["size_mm"].text == "24 mm"
    assert features["aphe"].value == "nonrim"
    assert features["washout"].value is True and features["capsule"].value is True
    assert features["at_risk"].text == "cirrhosis"


def test_negation_scope_covers_a_list_and_stops_at_but() -> None:
    text = LR5.replace(
        "nonperipheral washout and an enhancing capsule", "no washout or capsule"
    ).replace("24 mm", "15 mm")
    lesion = read(text, "MRI liver").lesions[0]
    assert lesion.features["washout"].value is False and lesion.features["capsule"].value is False
    assert read(text, "MRI liver").assessment().category == "3"  # 10-19 mm APHE, no feature
    shown = "No washout, but an enhancing capsule is present."
    lexicon = load_lexicon()
    start = shown.index("capsule")
    assert not negated(lexicon, shown, start, start + len("capsule"))
    assert negated(lexicon, shown, shown.index("washout"), shown.index("washout") + 7)


def test_sizes_in_cm_and_triples_are_millimetres() -> None:
    text = "Nodule 1.2 x 0.9 x 1.0 cm, previously 8 mm."
    found = measurements(load_lexicon(), text, 0, len(text))
    assert found[0].dims_mm == (12.0, 9.0, 10.0) and not found[0].prior
    assert found[0].mean2_mm == 10.5
    assert found[1].dims_mm == (8.0,) and found[1].prior


def test_negated_applicability_does_not_apply_a_system() -> None:
    text = (
        "CT chest (not a screening study).\nFINDINGS:\n6 mm solid nodule in the right upper lobe."
    )
    assert read(text, "CT chest with contrast").system is None
    screening = text.replace("(not a screening study)", "for lung cancer screening")
    assert read(screening, "Low-dose CT chest").system is RadsSystem.LUNG_RADS


def test_a_heading_of_several_nodules_is_inherited_by_its_items() -> None:
    text = (
        "FINDINGS:\nLungs: two small solid nodules.\n"
        "- Right upper lobe: 4 x 3 mm.\n- Left lower lobe: 9 x 7 mm.\nNo other nodules.\n"
    )
    reading = read(text, "LDCT lung cancer screening")
    sizes = [lesion.values().get("size_mm") for lesion in reading.lesions]
    assert 3.5 in sizes and 8.0 in sizes
    assert reading.assessment().category == "4A"  # solid 8 mm at baseline


def test_advice_in_the_impression_does_not_decide() -> None:
    text = (
        "FINDINGS:\nRight lobe: 14 mm solid isoechoic nodule, smooth, wider than tall, "
        "no echogenic foci.\nIMPRESSION:\nMarkedly hypoechoic? FNA recommended.\n"
    )
    reading = read(text, "US thyroid")
    assert reading.lesions[0].values()["echogenicity"] == "isoechoic"
    assert reading.assessment().category == "3"


def test_sentences_split_on_lines_and_stops_not_decimals() -> None:
    text = "Nodule 1.2 cm. It is solid.\nNo foci"
    assert [u.text for u in units(text, 0, len(text))] == [
        "Nodule 1.2 cm.",
        "It is solid.",
        "No foci",
    ]
