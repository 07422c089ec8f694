"""How a RADS result is decided, in one place (ARCHITECTURE.md: the order is the policy):

1. what the radiologist stated (rules.py), in the most authoritative section;
2. else the category the guideline table computes from the features the report states
   (radlite_fhir.features reads them, each grounded in a span; the table decides);
3. else the model's one-label answer, when its probability clears the confidence floor
   (the pipeline applies the floor);
4. else nothing.

A statement that the findings contradict is coded as stated and flagged by a result of its own
("rads-discordance": what the findings support), for radiology QA. The model's one-label answer
is always kept beside the result as a cross-check.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from radlite_fhir.coding import RadsCategory, load_code_tables
from radlite_fhir.features.reader import FeatureReading, Grounded, read_features
from radlite_fhir.guidelines import GUIDELINES, Assessment
from radlite_fhir.report import (
    RADS_DISCORDANCE,
    Evidence,
    ModelInfo,
    Origin,
    Report,
    Section,
    Status,
    TaskResult,
)


@lru_cache(maxsize=64)
def _reading(text: str, sections: tuple[Section, ...], exam: str | None) -> FeatureReading:
    return read_features(text, sections, exam)


def reading_of(report: Report) -> FeatureReading:
    """The features of the report's lesions (cached: the task asks before and after the model)."""
    return _reading(report.text, report.sections, report.code_text)


def computed(report: Report) -> tuple[FeatureReading, Assessment | None]:
    """The reading and, when the table decides a category, its report-level assessment."""
    reading = reading_of(report)
    assessment = reading.assessment()
    if assessment is None or assessment.category is None:
        return reading, None
    return reading, assessment


def label_of(assessment: Assessment) -> str:
    return f"{assessment.system.value} {assessment.category}"


def category_of(assessment: Assessment) -> RadsCategory | None:
    return load_code_tables().rads_category(label_of(assessment))


def _feature_detail(grounded: dict[str, Grounded]) -> list[dict[str, Any]]:
    return [
        {"name": name, "value": g.value, "start": g.start, "end": g.end, "text": g.text}
        for name, g in grounded.items()
    ]


def guideline_detail(reading: FeatureReading, assessment: Assessment) -> dict[str, Any]:
    """What a guideline-computed result carries: the system and table version, the deciding
    lesion's stated features with their spans, the table's reasons, and any lesion it could not
    categorize (and what that lesion lacked)."""
    assert reading.system is not None
    index = reading.decisive_lesion()
    lesion = reading.lesions[index] if index is not None else None
    return {
        "system": reading.system.value,
        "guideline": GUIDELINES[reading.system].version,
        "features": _feature_detail(lesion.features) if lesion else [],
        "reasons": list(assessment.reasons),
        "missing": list(assessment.missing),
        "lesions": len(reading.lesions),
    }


def lesion_evidence(report: Report, reading: FeatureReading) -> Evidence | None:
    index = reading.decisive_lesion()
    if index is None:
        return None
    lesion = reading.lesions[index]
    return Evidence(lesion.start, lesion.end, report.text[lesion.start : lesion.end], "findings")


def guideline_result(
    task: str,
    report: Report,
    reading: FeatureReading,
    assessment: Assessment,
    model_label: str | None,
    raw: str | None,
    model: ModelInfo | None,
) -> TaskResult:
    """The category the table computed, with the model's one-label answer as a cross-check."""
    label = label_of(assessment)
    conflict = None
    if raw is not None and model_label != label:
        conflict = f"model answered '{model_label or 'unparseable'}'; the findings give '{label}'"
    return TaskResult(
        task=task,
        kind="rads",
        value=label,
        status=Status.CODED,
        origin=Origin.GUIDELINE,
        evidence=lesion_evidence(report, reading),
        raw_answer=raw,
        model=model,
        conflict=conflict,
        detail=guideline_detail(reading, assessment),
    )


def discordance(
    task: str,
    report: Report,
    stated: RadsCategory,
    reading: FeatureReading,
    assessment: Assessment | None,
    model: ModelInfo | None,
) -> TaskResult | None:
    """A flag when the stated category and the one the findings support differ (same system)."""
    if assessment is None or assessment.system.value != stated.system:
        return None
    label = label_of(assessment)
    if label.lower() == stated.label.lower():
        return None
    return TaskResult(
        task=task,
        kind=RADS_DISCORDANCE,
        value=label,
        status=Status.CODED,
        origin=Origin.GUIDELINE,
        evidence=lesion_evidence(report, reading),
        model=model,
        item_key=RADS_DISCORDANCE,
        detail={**guideline_detail(reading, assessment), "stated": stated.label},
    )
