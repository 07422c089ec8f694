"""Small builders shared by the task and writer tests."""

from __future__ import annotations

import math

from radlite_fhir.engine.calls import Completion
from radlite_fhir.guidelines import RadsSystem
from radlite_fhir.report import ModelInfo, Report, digest
from radlite_fhir.sections import split_sections
from radlite_fhir.tasks import Answer, answer_from
from radlite_fhir.tasks.rads_features import FeatureQuestion, question_call

MODEL = ModelInfo(
    name="test-model",
    sha256="ab" * 32,
    version="test",
    profile="structured",
    prompt_version="structured-v1",
)


def report(text: str, exam: str | None = None) -> Report:
    return Report(
        text=text,
        code_text=exam,
        source_path="test.json",
        source_reference={"reference": "DiagnosticReport/t1"},
        subject={"reference": "Patient/p1"},
        sections=split_sections(text),
        source_digest=digest(text),
    )


def answers(**texts: str) -> dict[str, Answer]:
    return {key: Answer(text, MODEL) for key, text in texts.items()}


def feature_answer(
    question: FeatureQuestion,
    words: str,
    probability: float = 0.9,
    system: RadsSystem = RadsSystem.TI_RADS,
) -> Answer:
    """A feature question's answer as the pipeline returns it (answer_from: our label as a piece
    of its own, then the model's words), whose log-probabilities put `probability` on the
    value."""
    value, bar, rest = words.partition(" |")
    pieces = [(" " + value.strip(), math.log(probability))]
    if bar:
        pieces.append((bar + rest, 0.0))
    call = question_call("report", system, question)
    completion = Completion(words, 1, 1, 2, 0.0, 0.0, "stop", tuple(pieces))
    return answer_from(call, completion, MODEL)
