"""Shared helpers for tasks: the span a model read, choosing among explicit statements, the
one shape of a result that is not coded, and the confidence of a label answer."""

from __future__ import annotations

import math

from radlite_fhir.report import Evidence, ModelInfo, Origin, Report, Status, TaskResult

PREFERRED_SECTIONS = ("impression", "conclusion", "findings")


def model_input_evidence(report: Report, *section_keys: str) -> Evidence:
    """Evidence for a model answer: the first present section of `section_keys`, else all."""
    for key in section_keys:
        span = report.section_span(key)
        if span:
            return Evidence(span[0], span[1], report.text[span[0] : span[1]], kind="model-input")
    return Evidence(0, len(report.text), report.text, kind="model-input")


def section_rank(report: Report, offset: int) -> int:
    """Lower is more authoritative: impression, conclusion, findings, anything else."""
    for section in report.sections:
        if section.start <= offset <= section.end:
            if section.key in PREFERRED_SECTIONS:
                return PREFERRED_SECTIONS.index(section.key)
            if section.key in {"comparison", "history", "indication", "clinical_information"}:
                return 9  # statements about prior studies or the request, not this study
            return len(PREFERRED_SECTIONS)
    return len(PREFERRED_SECTIONS)


def uncoded(
    task: str,
    kind: str,
    raw_answer: str | None,
    model: ModelInfo | None,
    status: Status = Status.UNPARSEABLE,
    reason: str | None = None,
    item_key: str = "",
) -> TaskResult:
    """A model answer kept for review but never coded (unparseable or not applicable)."""
    return TaskResult(
        task=task,
        kind=kind,
        value=None,
        status=status,
        origin=Origin.MODEL,
        raw_answer=raw_answer,
        model=model,
        item_key=item_key,
        detail={"reason": reason} if reason else {},
    )


def label_confidence(
    token_logprobs: tuple[tuple[str, float], ...], start: int = 0, end: int | None = None
) -> float | None:
    """Probability the model gave to the characters [start, end) of its answer: the product
    of the probabilities of the tokens that begin there, under its full (unconstrained)
    distribution, so a grammar forcing the label does not inflate it. None without data."""
    if not token_logprobs:
        return None
    total, position, used = 0.0, 0, False
    for piece, logprob in token_logprobs:
        if position >= start and (end is None or position < end):
            total += logprob
            used = True
        position += len(piece)
    return math.exp(total) if used else None
