"""BI-RADS: a mass with associated calcifications is assessed by its most suspicious feature.

Source: ACR BI-RADS Atlas, 5th edition (2013), mammography: calcifications in or around a mass
are one of the mass's associated features, and the final assessment is based on the most
suspicious finding or feature. The product's table gives an irregular spiculated mass 5 and
grouped fine pleomorphic calcifications 4B (docs/rads-feature-tables.md): the two together are
5; a circumscribed oval mass with fine linear branching calcifications in a segment is the
calcifications' 5. A mass whose shape is not stated stays indeterminate: its calcifications do
not stand in for the features it lacks.
"""

from __future__ import annotations

from typing import Any

import pytest

from radlite_fhir.guidelines import RadsSystem, assess

CALCS: dict[str, Any] = {"calc_morphology": "fine_pleomorphic", "calc_distribution": "grouped"}


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ({"kind": "calcifications", **CALCS}, "4B"),
        ({"kind": "calcifications", **CALCS, "shape": "irregular", "margin": "spiculated"}, "5"),
        ({"kind": "mass", **CALCS, "shape": "irregular", "margin": "spiculated"}, "5"),
        (
            {
                "kind": "mass",
                "shape": "oval",
                "margin": "circumscribed",
                "calc_morphology": "fine_linear",
                "calc_distribution": "segmental",
            },
            "5",
        ),
        ({"kind": "calcifications", **CALCS, "margin": "spiculated"}, "4B"),
    ],
)
def test_the_most_suspicious_feature_decides(features: dict[str, Any], expected: str) -> None:
    assert assess(RadsSystem.BI_RADS, [features]).category == expected


def test_a_mass_without_its_shape_stays_indeterminate_despite_calcifications() -> None:
    result = assess(RadsSystem.BI_RADS, [{"kind": "mass", **CALCS, "margin": "indistinct"}])
    assert result.category is None
    assert result.missing == ("lesion 1: shape",)
