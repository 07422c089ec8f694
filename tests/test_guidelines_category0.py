"""Category 0 (incomplete) rows of Lung-RADS v2022 and O-RADS US v2022, and where 0 ranks.

Sources: ACR Lung-RADS v2022 assessment categories (Christensen et al., CHEST
2024;165:738-753), category 0, "Incomplete": "prior chest CT examination(s) being located for
comparison; part or all of lungs cannot be evaluated; findings suggestive of an inflammatory or
infectious process" (management: additional LDCT in 1-3 months for the last). O-RADS US v2022
(Strachowski et al., Radiology 2023;308:e230685), category 0, "Incomplete evaluation": "lesion
not adequately characterized due to technical factors (e.g. bowel gas, large size of lesion,
body habitus, adnexa not visualized, patient declined or could not tolerate transvaginal
exam)"; management: repeat study or alternate study.
"""

from __future__ import annotations

from radlite_fhir.guidelines import GUIDELINES, RadsSystem, assess


def test_an_incomplete_lung_screen_is_category_0_whatever_its_nodules() -> None:
    nodule = {"nodule_type": "solid", "size_mm": 9, "change": "new"}
    assert assess(RadsSystem.LUNG_RADS, [nodule]).category == "4B"  # new solid >= 8 mm
    incomplete = {**nodule, "incomplete": True}
    assert assess(RadsSystem.LUNG_RADS, [incomplete]).category == "0"
    no_nodules = {"nodule_type": "none", "incomplete": True}
    assert assess(RadsSystem.LUNG_RADS, [no_nodules]).category == "0"
    assert assess(RadsSystem.LUNG_RADS, [{**nodule, "incomplete": False}]).category == "4B"


def test_an_uncharacterised_adnexal_lesion_with_an_incomplete_evaluation_is_o_rads_0() -> None:
    seen_partly = {"menopausal_status": "postmenopausal", "size_mm": 45, "incomplete": True}
    assert assess(RadsSystem.O_RADS, [seen_partly]).category == "0"
    # The same lesion with no reason given is indeterminate, never a guess.
    silent = {"menopausal_status": "postmenopausal", "size_mm": 45}
    assert assess(RadsSystem.O_RADS, [silent]).category is None
    # Characterised despite the limits: its own row applies.
    simple = {**seen_partly, "lesion": "simple_cyst"}
    assert assess(RadsSystem.O_RADS, [simple]).category == "2"


def test_category_0_ranks_above_3_and_below_4_in_both_systems() -> None:
    lung = GUIDELINES[RadsSystem.LUNG_RADS].order
    assert lung.index("3") < lung.index("0") < lung.index("4A")
    ovary = GUIDELINES[RadsSystem.O_RADS].order
    assert ovary.index("3") < ovary.index("0") < ovary.index("4")
    cyst = {"menopausal_status": "premenopausal", "lesion": "simple_cyst", "size_mm": 40}
    unseen = {"menopausal_status": "premenopausal", "size_mm": 50, "incomplete": True}
    solid = {"lesion": "solid", "solid_contour": "irregular", "size_mm": 60}
    assert assess(RadsSystem.O_RADS, [cyst, unseen]).category == "0"
    assert assess(RadsSystem.O_RADS, [cyst, unseen, solid]).category == "5"
