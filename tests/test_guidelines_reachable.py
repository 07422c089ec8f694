"""Guideline.reachable: the categories an indeterminate lesion could still take once its missing
features are known (each tried over the table's allowed values), used to ask the model only
about lesions that could change the report's category. Rows cited: ACR Lung-RADS v2022
(ground-glass nodule < 30 mm -> 2, >= 30 mm baseline -> 3; solid baseline sizes 2 to 4B);
ACR TI-RADS 2017 (points by composition and echogenicity, TR1 to TR5).
"""

from __future__ import annotations

from radlite_fhir.guidelines import GUIDELINES, RadsSystem


def test_a_decided_lesion_reaches_only_its_own_category() -> None:
    lung = GUIDELINES[RadsSystem.LUNG_RADS]
    assert lung.reachable({"nodule_type": "solid", "size_mm": 9}) == {"4A"}


def test_an_unmeasured_ground_glass_nodule_can_reach_2_or_3_and_nothing_higher() -> None:
    lung = GUIDELINES[RadsSystem.LUNG_RADS]
    assert lung.reachable({"nodule_type": "ground_glass"}) == {"2", "3"}
    assert {"2", "3", "4A", "4B"} <= lung.reachable({"nodule_type": "solid"})


def test_a_thyroid_nodule_without_composition_or_echogenicity_reaches_every_level() -> None:
    ti = GUIDELINES[RadsSystem.TI_RADS]
    reach = ti.reachable({"shape": "wider_than_tall", "margin": "smooth"})
    assert {"1", "2", "3", "4"} <= reach
    assert "5" not in reach  # 2 + 3 points at most with a smooth, wider-than-tall nodule: TR4
