"""LI-RADS v2018 LR-2 for a distinctive nodule, against the CT/MRI core.

Source: ACR CT/MRI LI-RADS v2018 Core, LR-2 (probably benign) criteria: a distinctive solid
nodule (distinctive from the background liver, e.g. a siderotic nodule) < 20 mm without
malignant imaging features is LR-2; at >= 20 mm, or with a major feature, the diagnostic table
decides (no APHE, >= 20 mm, no additional feature: LR-3). The ancillary-feature step then applies
to LR-2 as to any category from 1 to 5.
"""

from __future__ import annotations

from typing import Any

import pytest

from radlite_fhir.guidelines import RadsSystem, assess

NODULE: dict[str, Any] = {"at_risk": True, "aphe": "none", "distinctive": True}


@pytest.mark.parametrize(
    ("features", "expected", "rule"),
    [
        ({**NODULE, "size_mm": 12}, "2", "distinctive, < 20 mm, no major feature -> LR-2"),
        ({**NODULE, "size_mm": 19.9}, "2", "below the 20 mm bound"),
        ({**NODULE, "size_mm": 20}, "3", ">= 20 mm: the table's no-APHE row, LR-3"),
        ({**NODULE, "size_mm": 12, "capsule": True}, "3", "a major feature: the table decides"),
        (
            {**NODULE, "size_mm": 15, "aphe": "nonrim", "washout": True},
            "5",
            "malignant imaging features: nonrim APHE 10-19 mm with washout -> LR-5",
        ),
        ({**NODULE, "size_mm": 12, "distinctive": False}, "3", "not distinctive: LR-3"),
        (
            {**NODULE, "size_mm": 12, "ancillary_malignancy": True},
            "3",
            "AFs favouring malignancy upgrade the LR-2 by one",
        ),
    ],
)
def test_a_distinctive_nodule_row(features: dict[str, Any], expected: str, rule: str) -> None:
    assert assess(RadsSystem.LI_RADS, [features]).category == expected, rule
