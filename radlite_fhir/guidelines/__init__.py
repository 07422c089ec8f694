"""The published RADS decision tables as product code: a typed feature record per lesion and
`categorize(record) -> Assessment` with reasons, "indeterminate" when a required feature is
missing. Tasks, writers and training import these; they import nothing of ours but `base`.

The tables, field by field, are in docs/rads-feature-tables.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from radlite_fhir.guidelines import bi_rads, li_rads, lung_rads, o_rads, pi_rads, ti_rads
from radlite_fhir.guidelines.base import (
    Assessment,
    FeatureError,
    FieldKind,
    FieldSpec,
    RadsSystem,
    highest,
    record_fields,
    record_from_mapping,
    record_values,
)

__all__ = [
    "GUIDELINES",
    "Assessment",
    "FeatureError",
    "FieldKind",
    "FieldSpec",
    "Guideline",
    "RadsSystem",
    "assess",
    "record_fields",
    "record_from_mapping",
    "record_values",
]


@dataclass(frozen=True)
class Guideline:
    """One system's table: its lesion record type, per-lesion and report-level decisions."""

    system: RadsSystem
    record_type: type
    categorize: Callable[[Any], Assessment]
    order: tuple[str, ...]
    version: str

    def assess(self, records: Sequence[Any]) -> Assessment:
        """The report level: the highest-risk lesion the table could categorize."""
        return highest(self.system, self.order, [self.categorize(r) for r in records])

    def fields(self) -> tuple[FieldSpec, ...]:
        return record_fields(self.record_type)

    def record(self, values: Mapping[str, Any]) -> Any:
        return record_from_mapping(self.record_type, values)

    def reachable(self, values: Mapping[str, Any], depth: int | None = None) -> frozenset[str]:
        """The categories an indeterminate lesion could still take: each feature the table says
        it lacks, tried over its allowed values (sizes over `SIZE_GRID`), up to `depth` missing
        features deep. A decided lesion reaches only its own category."""
        assessment = self.categorize(self.record(values))
        if assessment.category is not None:
            return frozenset({assessment.category})
        depth = REACH_DEPTH if depth is None else depth
        if depth == 0:
            return frozenset()
        specs = {spec.name: spec for spec in self.fields()}
        out: set[str] = set()
        for need in assessment.missing:
            for name in (part.strip() for part in need.split(" or ")):
                if name in specs:
                    for value in _candidates(specs[name]):
                        out |= self.reachable({**values, name: value}, depth - 1)
        return frozenset(out)


# Sizes (mm) that cross every size threshold of the tables (4, 6, 8, 10, 15, 20, 30, 100 mm).
SIZE_GRID = (3.0, 5.0, 7.0, 9.0, 12.0, 17.0, 25.0, 40.0, 120.0)
REACH_DEPTH = 4


def _candidates(spec: FieldSpec) -> list[Any]:
    """Every value a missing feature could take, for `Guideline.reachable`."""
    if spec.kind is FieldKind.TERM:
        return list(spec.terms)
    if spec.kind is FieldKind.TERMS:
        return [[term] for term in spec.terms]
    if spec.kind is FieldKind.FLAG:
        return [True, False]
    if spec.kind is FieldKind.SCORE:
        return list(range(spec.low, spec.high + 1))
    return list(SIZE_GRID)


GUIDELINES: dict[RadsSystem, Guideline] = {
    g.system: g
    for g in (
        Guideline(
            RadsSystem.BI_RADS,
            bi_rads.Finding,
            bi_rads.categorize,
            bi_rads.ORDER,
            "ACR BI-RADS Atlas 5th ed. (2013)",
        ),
        Guideline(
            RadsSystem.TI_RADS,
            ti_rads.Nodule,
            ti_rads.categorize,
            ti_rads.ORDER,
            "ACR TI-RADS 2017",
        ),
        Guideline(
            RadsSystem.LUNG_RADS,
            lung_rads.Nodule,
            lung_rads.categorize,
            lung_rads.ORDER,
            "ACR Lung-RADS v2022",
        ),
        Guideline(
            RadsSystem.LI_RADS,
            li_rads.Observation,
            li_rads.categorize,
            li_rads.ORDER,
            "ACR LI-RADS v2018 CT/MRI",
        ),
        Guideline(
            RadsSystem.PI_RADS,
            pi_rads.Lesion,
            pi_rads.categorize,
            pi_rads.ORDER,
            "PI-RADS v2.1",
        ),
        Guideline(
            RadsSystem.O_RADS,
            o_rads.Lesion,
            o_rads.categorize,
            o_rads.ORDER,
            "ACR O-RADS US v2022",
        ),
    )
}


def assess(system: RadsSystem | str, lesions: Sequence[Mapping[str, Any]]) -> Assessment:
    """The report-level assessment of `system` from plain feature mappings (one per lesion)."""
    guideline = GUIDELINES[RadsSystem(system)]
    return guideline.assess([guideline.record(values) for values in lesions])
