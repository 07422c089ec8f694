"""LI-RADS v2018 ancillary features, against the rules of the CT/MRI core.

Source: ACR CT/MRI LI-RADS v2018 Core, diagnostic algorithm, "Optional: apply ancillary
features": "AFs favoring malignancy: upgrade by 1 category up to LR-4. Absence of these AFs
should not be used to downgrade"; "AFs favoring benignity: downgrade by 1 category"; "If there
are AFs favoring malignancy and AFs favoring benignity, do not adjust category"; "AFs cannot be
used to upgrade to LR-5". LR-M and LR-TIV are decided before the diagnostic table and are not
on the scale the step moves along. Each case starts from a diagnostic-table row of the same core.
"""

from __future__ import annotations

from typing import Any

import pytest

from radlite_fhir.guidelines import RadsSystem, assess

AT_RISK: dict[str, Any] = {"at_risk": True}
LR3 = {**AT_RISK, "size_mm": 15, "aphe": "none"}  # no APHE, < 20 mm, no feature -> LR-3
LR4 = {**AT_RISK, "size_mm": 15, "aphe": "nonrim", "capsule": True}  # 10-19, capsule -> LR-4
LR5 = {**AT_RISK, "size_mm": 24, "aphe": "nonrim", "washout": True}  # >= 20, washout -> LR-5
LR2 = {**AT_RISK, "benign": "probably_benign"}
MALIGNANT = {"ancillary_malignancy": True}
BENIGN = {"ancillary_benignity": True}


@pytest.mark.parametrize(
    ("features", "expected", "rule"),
    [
        ({**LR3, **MALIGNANT}, "4", "AFs favouring malignancy upgrade LR-3 by one"),
        ({**LR2, **MALIGNANT}, "3", "AFs favouring malignancy upgrade LR-2 by one"),
        ({**LR4, **MALIGNANT}, "4", "AFs cannot be used to upgrade to LR-5"),
        ({**LR5, **MALIGNANT}, "5", "LR-5 stays: there is nothing above it to upgrade to"),
        ({**LR5, **BENIGN}, "4", "AFs favouring benignity downgrade LR-5 by one"),
        ({**LR3, **BENIGN}, "2", "AFs favouring benignity downgrade LR-3 by one"),
        ({**LR4, **MALIGNANT, **BENIGN}, "4", "both kinds present: do not adjust"),
        ({**LR3, **MALIGNANT, **BENIGN}, "3", "both kinds present: do not adjust"),
        (
            {**AT_RISK, "benign": "definitely_benign", **BENIGN},
            "1",
            "LR-1 is the floor",
        ),
        (
            {**AT_RISK, "size_mm": 30, "aphe": "rim", **BENIGN},
            "M",
            "LR-M is not adjusted",
        ),
        (
            {**AT_RISK, "tumor_in_vein": True, **BENIGN},
            "TIV",
            "LR-TIV is not adjusted",
        ),
        ({**LR3, "ancillary_malignancy": False}, "3", "absence of AFs changes nothing"),
    ],
)
def test_ancillary_features_adjust_by_one_category(
    features: dict[str, Any], expected: str, rule: str
) -> None:
    assessment = assess(RadsSystem.LI_RADS, [features])
    assert assessment.category == expected, (rule, assessment.reasons)


def test_the_adjustment_is_named_in_the_reasons() -> None:
    reasons = assess(RadsSystem.LI_RADS, [{**LR3, **MALIGNANT}]).reasons
    assert reasons[-1] == "ancillary features favour malignancy -> LR-4 (up one)"


def test_ancillary_features_are_never_required() -> None:
    # An observation that says nothing of ancillary features is decided by the major features.
    assessment = assess(RadsSystem.LI_RADS, [LR5])
    assert assessment.category == "5"
    assert assessment.missing == ()
