"""Entities: RadLite's line format, grounding in the report text, and refusal to invent."""

from __future__ import annotations

from radlite_fhir.report import Status
from radlite_fhir.tasks.impression import ImpressionTask
from radlite_fhir.tasks.ner import NerTask, parse_entities
from tests.helpers import answers, report

TEXT = (
    "FINDINGS:\nThe lungs are clear. No pleural effusion. Possible small nodule in the left lung."
)


def test_radlite_line_format_with_varying_indentation() -> None:
    answer = (
        "<think>\n\n</think>\n\nAnatomy: lungs; left lung\n  Observation (Present): clear\n"
        "- Observation (Absent): pleural effusion\nObservation (Uncertain): nodule\n"
    )
    assert parse_entities(answer) == [
        ("anatomy", "lungs"),
        ("anatomy", "left lung"),
        ("observation_present", "clear"),
        ("observation_absent", "pleural effusion"),
        ("observation_uncertain", "nodule"),
    ]


def test_entities_get_spans_and_invented_ones_are_not_coded() -> None:
    answer = (
        "Anatomy: lungs; heart\nObservation (Absent): pleural effusion\nObservation (Present): none"
    )
    results = NerTask().interpret(report(TEXT), answers(radiology_ner=answer))
    coded = [
        (r.kind, r.value, TEXT[r.evidence.start : r.evidence.end])
        for r in results
        if r.status is Status.CODED
    ]
    assert coded == [
        ("entity:anatomy", "lungs", "lungs"),
        ("entity:observation_absent", "pleural effusion", "pleural effusion"),
    ]
    assert [(r.value, r.status) for r in results if r.status is not Status.CODED] == [
        ("heart", Status.UNGROUNDED)
    ]


def test_answer_without_the_format_is_unparseable() -> None:
    results = NerTask().interpret(report(TEXT), answers(radiology_ner="The lungs are fine."))
    assert [(r.status, r.raw_answer) for r in results] == [
        (Status.UNPARSEABLE, "The lungs are fine.")
    ]


def test_impression_result_and_empty_answer() -> None:
    task = ImpressionTask()
    coded = task.interpret(report(TEXT), answers(impression_generation=" No acute disease. "))
    assert [(r.status, r.value) for r in coded] == [(Status.CODED, "No acute disease.")]
    empty = task.interpret(report(TEXT), answers(impression_generation="<think></think>"))
    assert [r.status for r in empty] == [Status.UNPARSEABLE]
