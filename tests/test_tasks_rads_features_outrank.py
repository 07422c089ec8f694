"""The model is asked about an indeterminate lesion only where its answers could change the
report's category: when another lesion is decided, a lesion that cannot outrank it (whatever
its missing features turn out to be) gets no question. Sentences written for this test."""

from __future__ import annotations

from radlite_fhir.features.reader import read_features
from radlite_fhir.report import Origin, Status
from radlite_fhir.sections import split_sections
from radlite_fhir.tasks.profiles import STRUCTURED
from radlite_fhir.tasks.rads import RadsTask
from radlite_fhir.tasks.rads_features import questions
from radlite_fhir.tasks.rads_policy import reading_of
from tests.helpers import feature_answer, report


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


# A spongiform nodule the table decides (TR1) beside a solid one whose echogenicity is worded as
# no lexicon words it: the undecided nodule could outrank the decided one.
TWO_NODULES = (
    "FINDINGS: Left lobe nodule 12 mm, spongiform, wider than tall, smooth margins. No "
    "calcification.\nRight lobe nodule 18 mm, solid, wider than tall, smooth margins, darker "
    "than the surrounding gland. No calcification."
)


def test_the_pipeline_asks_about_a_lesion_that_could_outrank_the_decided_one() -> None:
    rep = report(TWO_NODULES, "US thyroid")
    assert [a.category for a in reading_of(rep).assessments()] == ["1", None]
    calls = RadsTask().calls(rep, STRUCTURED)
    assert [c.key for c in calls] == ["rads_assignment", "rads_feature:1:echogenicity"]
    (question,) = questions(reading_of(rep))
    words = ' hypoechoic | "darker than the surrounding gland"'
    # Without a kept answer the decided nodule's category stands.
    (unsure,) = RadsTask().interpret(rep, {question.key: feature_answer(question, words, 0.2)})
    assert (unsure.value, unsure.origin) == ("TI-RADS 1", Origin.GUIDELINE)
    assert "read_by_model" not in unsure.detail
    # A grounded answer decides the other nodule, which outranks it: 2 + 2 + 0 + 0 + 0 points.
    (result,) = RadsTask().interpret(rep, {question.key: feature_answer(question, words, 0.9)})
    assert (result.value, result.origin, result.status) == (
        "TI-RADS 4",
        Origin.GUIDELINE,
        Status.CODED,
    )
    assert result.detail["read_by_model"] == ["lesion 2: echogenicity"]
