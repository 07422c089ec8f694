"""Small builders shared by the task and writer tests."""

from __future__ import annotations

from radlite_fhir.report import ModelInfo, Report, digest
from radlite_fhir.sections import split_sections
from radlite_fhir.tasks import Answer

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
