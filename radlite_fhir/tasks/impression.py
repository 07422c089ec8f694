"""Impression generation: a concise clinical impression written from the findings.

The result is a new Observation (LOINC 19005-8 valueString); the radiologist's own
impression or conclusion is never touched.
"""

from __future__ import annotations

from radlite_fhir.report import Origin, Report, Status, TaskResult
from radlite_fhir.tasks import Answer
from radlite_fhir.tasks.evidence import model_input_evidence, uncoded
from radlite_fhir.tasks.profiles import (
    RADLITE,
    ModelCall,
    radlite_call,
    strip_think,
    structured_call,
    without_label,
)

KEY = "impression_generation"


class ImpressionTask:
    name = "impression"

    def answered_by_text(self, report: Report) -> bool:
        return False  # the model's output is the result; the text cannot state it

    def calls(self, report: Report, profile: str) -> list[ModelCall]:
        if profile == RADLITE:
            findings = report.section_text("findings") or report.text
            return [radlite_call(KEY, findings)]
        return [structured_call(KEY, report.text, max_tokens=160)]

    def interpret(self, report: Report, answers: dict[str, Answer]) -> list[TaskResult]:
        answer = answers.get(KEY)
        if answer is None:
            return []
        text = without_label(strip_think(answer.text), KEY)
        if not text:
            return [
                uncoded(self.name, "impression", answer.text, answer.model, reason="empty answer")
            ]
        return [
            TaskResult(
                task=self.name,
                kind="impression",
                value=text,
                status=Status.CODED,
                origin=Origin.MODEL,
                evidence=model_input_evidence(report, "findings"),
                raw_answer=answer.text,
                model=answer.model,
            )
        ]
