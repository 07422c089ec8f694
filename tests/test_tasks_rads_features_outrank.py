"""The model is asked about an indeterminate lesion only where its answers could change the
report's category: when another lesion is decided, a lesion that cannot outrank it (whatever
its missing features turn out to be) gets no question. Sentences written for this test."""

from __future__ import annotations

from radlite_fhir.features.reader import read_features
from radlite_fhir.sections import split_sections
from radlite_fhir.tasks.rads_features import questions


def read(text: str, exam: str):
    return read_features(text, split_sections(text), exam)


def test_an_undecided_lesion_that_cannot_outrank_the_decided_one_is_not_asked_about() -> None:
    text = (
        "LDCT lung cancer screening, baseline.\n"
        "Findings:\n"
        "- Right upper lobe: spiculated solid nodule, mean 18 mm.\n"
        "- Left lower lobe: a pure ground-glass nodule, not measured on this series.\n"
    )
    reading = read(text, "CT chest low dose screening")
    categories = [a.category for a in reading.assessments()]
    assert categories == ["4X", None]  # the GGN lacks its size: at most 3, below 4X
    assert questions(reading) == []


def test_an_undecided_lesion_that_could_outrank_is_still_asked_about() -> None:
    text = (
        "LDCT lung cancer screening, baseline.\n"
        "Findings:\n"
        "- Right upper lobe: solid nodule, mean 4 mm.\n"
        "- Left lower lobe: solid nodule, size not recorded on this series.\n"
    )
    reading = read(text, "CT chest low dose screening")
    assert [a.category for a in reading.assessments()] == ["2", None]
    asked = questions(reading)
    assert [(q.lesion, q.spec.name) for q in asked] == [(1, "size_mm")]
