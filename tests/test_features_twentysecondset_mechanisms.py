"""The reader's mechanisms that the twenty-second hand-written set (training/twentysecondset)
found wanting (issue 15, eighteenth round), one test per mechanism, each on sentences written
for this test (none copied from the hand-written sets).

Each test fails on the reader as it was when the twenty-second set was measured blind.
"""

from __future__ import annotations

from radlite_fhir.features.lexicon import load_lexicon
from radlite_fhir.features.text import measurements
from tests.reading import only_lesion, read


def test_a_template_label_answered_none_negates_its_words() -> None:
    # Lung-RADS v2022: a solid nodule of 6 to < 8 mm at baseline is 3; "new" would make it 4A.
    text = (
        "LDCT lung screening, baseline round.\nNodule: left upper lobe, solid, mean 7 mm.\n"
        "New nodules: none.\nOther: mild emphysema.\n"
    )
    assert read(text, "LDCT chest screening").assessment().category == "3"


def test_a_denial_on_a_new_capitalised_line_does_not_reach_back() -> None:
    # O-RADS US v2022: a unilocular cyst with a solid component (< 4 papillary projections,
    # colour score 2, premenopausal) is 4; negated, the projection would leave a simple cyst (2).
    text = (
        "US pelvis, transvaginal. Premenopausal.\nLeft ovary: unilocular cyst 52 mm with one "
        "papillary projection, minimal flow in the papillary projection\nFREE FLUID: not seen.\n"
    )
    assert only_lesion(text, "US pelvis")["lesion"] == "unilocular_solid"


def test_prostate_diffusion_worded_as_a_focal_reduction_or_very_low() -> None:
    mild = "MRI prostate.\nLeft PZ base: 7 mm focus, mild focal ADC reduction.\n"
    assert only_lesion(mild, "MRI prostate")["dwi_finding"] == "focal_mild_moderate"
    marked = "MRI prostate.\nRight PZ apex: 12 mm lesion, very low on ADC.\n"
    assert only_lesion(marked, "MRI prostate")["dwi_finding"] == "focal_marked"


def test_no_definite_early_enhancement_is_a_negative_dce() -> None:
    text = (
        "MRI prostate.\nRight PZ mid: 8 mm focal lesion, moderately hypointense on ADC. No "
        "definite early enhancement.\n"
    )
    assert only_lesion(text, "MRI prostate")["dce"] == "negative"


def test_a_distance_from_the_nipple_is_no_size_and_no_prior() -> None:
    text = "Left breast at 2 o'clock, 5 cm from the nipple, an oval 9 mm mass."
    sizes = [(m.max_mm, m.prior) for m in measurements(load_lexicon(), text, 0, len(text))]
    assert sizes == [(9.0, False)]


def test_lmp_at_an_age_is_postmenopausal() -> None:
    text = (
        "Pelvic US. 63F, LMP aged 51.\nRight ovary: unilocular anechoic cyst 30 mm, thin smooth "
        "wall, no flow.\n"
    )
    assert only_lesion(text, "US pelvis")["menopausal_status"] == "postmenopausal"
