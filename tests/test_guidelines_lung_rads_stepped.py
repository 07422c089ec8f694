"""Lung-RADS v2022 stepped management of stable and decreased nodules.

Source: ACR Lung-RADS v2022 assessment categories (release November 2022; Christensen et al.,
CHEST 2024;165:738-753), the rows that step a nodule down: category 3 includes "category 4A
lesion that is stable or decreased in size at 3-month follow-up CT"; category 2 includes
"category 3 lesion that is stable or decreased in size at 6-month follow-up CT" and "category 4B
lesion proven to be benign in etiology following appropriate diagnostic workup" (stability alone
does not step a 4B nodule down). Category 4X: "category 3 or 4 nodules with additional features
or imaging findings that increase the suspicion of lung cancer". The starting categories come
from the same table's size rows (solid 8 to < 15 mm baseline: 4A; 6 to < 8 mm: 3; >= 15 mm:
4B; part-solid with a solid component >= 8 mm: 4B).
"""

from __future__ import annotations

from typing import Any

import pytest

from radlite_fhir.guidelines import RadsSystem, assess

SOLID = {"nodule_type": "solid"}


@pytest.mark.parametrize(
    ("features", "expected", "row"),
    [
        (
            {**SOLID, "size_mm": 10, "change": "stable", "follow_up": "three_month"},
            "3",
            "4A (solid 8 to < 15 mm) stable at the 3-month follow-up -> 3",
        ),
        (
            {**SOLID, "size_mm": 11, "change": "decreased", "follow_up": "three_month"},
            "3",
            "4A decreased at the 3-month follow-up -> 3",
        ),
        (
            {**SOLID, "size_mm": 7, "change": "stable", "follow_up": "six_month"},
            "2",
            "3 (solid 6 to < 8 mm) stable at the 6-month follow-up -> 2",
        ),
        (
            {**SOLID, "size_mm": 18, "change": "stable", "follow_up": "three_month"},
            "4B",
            "4B (solid >= 15 mm): stability alone does not step down",
        ),
        (
            {
                "nodule_type": "part_solid",
                "size_mm": 14,
                "solid_component_mm": 9,
                "change": "stable",
                "follow_up": "three_month",
            },
            "4B",
            "4B (part-solid, solid component >= 8 mm): stability alone does not step down",
        ),
        (
            {
                **SOLID,
                "size_mm": 10,
                "change": "stable",
                "follow_up": "three_month",
                "suspicious_features": True,
            },
            "4X",
            "category 3 with additional suspicious features -> 4X",
        ),
        (
            {**SOLID, "size_mm": 18, "change": "stable", "benign_features": True},
            "1",
            "benign calcification decides before any step",
        ),
        (
            {**SOLID, "size_mm": 10, "change": "stable"},
            "2",
            "stable at an annual screen (follow-up unstated): benign behaviour -> 2",
        ),
        (
            {**SOLID, "size_mm": 10, "change": "growing", "follow_up": "three_month"},
            "4B",
            "growing at the 3-month follow-up is not stable: growing >= 8 mm -> 4B",
        ),
    ],
)
def test_stable_nodules_step_down_as_v2022_prescribes(
    features: dict[str, Any], expected: str, row: str
) -> None:
    assessment = assess(RadsSystem.LUNG_RADS, [features])
    assert assessment.category == expected, (row, assessment.reasons)


def test_the_step_is_named_in_the_reasons() -> None:
    features = {**SOLID, "size_mm": 10, "change": "stable", "follow_up": "three_month"}
    reasons = assess(RadsSystem.LUNG_RADS, [features]).reasons
    assert reasons[-1] == "solid 10 mm, stable at the 3-month follow-up: stepped management -> 3"
