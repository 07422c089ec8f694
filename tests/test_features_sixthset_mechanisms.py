"""The reader's mechanisms that the sixth hand-written set (training/sixthset) found wanting
(issue 15, third round), one test per mechanism, each on sentences written for this test (none
copied from the hand-written sets).

Each test fails on the mechanism as it was before this round.
"""

from __future__ import annotations

from radlite_fhir.features.lexicon import load_lexicon
from radlite_fhir.features.text import negated, units
from tests.reading import read


def test_a_numbered_items_number_stays_with_its_text_and_a_denying_item_ends_the_lesion() -> None:
    # "2. No new nodules." is a list item of its own: its number is no sentence, its negated
    # "new" no value of the nodule before it; an item that only states the course ("3. Stable
    # since 2022.") describes no lesion; "3-month control" is the 3-month follow-up LDCT.
    text = (
        "Low-dose chest CT, 3-month control.\n"
        "Comparison: LDCT of three months ago.\n\n"
        "1. Left upper lobe: solid nodule 10 x 8 mm, no change from the prior (10 x 8 mm).\n"
        "2. No new nodules.\n"
        "3. Stable since 2022.\n"
        "New baseline imaging not needed.\n"
    )
    sentences = [u.text for u in units(text, 0, len(text))]
    assert "2. No new nodules." in sentences
    assert "2." not in sentences
    reading = read(text, "CT chest low dose screening")
    (lesion,) = reading.lesions
    values = lesion.values()
    assert values["change"] == "stable"
    assert values["follow_up"] == "three_month"
    assert reading.assessment().category == "3"  # a 4A-size nodule stable at 3 months


def test_an_item_label_after_a_blank_line_keeps_its_block() -> None:
    # A template block ("TARGET 2" then its lines) written after a blank line: every line of
    # the block is that item's, including a feature line that names a zone in passing.
    text = (
        "MRI PROSTATE\n"
        "FINDINGS:\nGland volume 41 mL.\n\n"
        "NODULE 1\n"
        "- Site: left transition zone, apex\n"
        "- Size: 8 mm\n"
        "- T2: lenticular, homogeneously moderately hypointense\n"
        "- ADC/b-value: marked focal hypointensity on ADC, bright on b2000\n"
        "- DCE: negative (not used in the TZ)\n"
        "\nPERIPHERAL ZONE: No focal lesion.\n"
    )
    reading = read(text, "MRI prostate")
    (lesion,) = reading.lesions
    values = lesion.values()
    assert values["t2_finding"] == "lenticular"
    assert values["dwi_finding"] == "focal_marked"
    assert reading.assessment().category == "4"  # TZ: T2 4, < 15 mm, no EPE


def test_a_mild_to_moderate_adc_signal_in_its_written_forms() -> None:
    forms = (
        "mildly to moderately low on the ADC map",
        "ADC mildly-moderately hypointense",
        "mild/moderate hypointensity on ADC",
        "mildly-moderately restricted diffusion",
    )
    for form in forms:
        text = (
            "MRI prostate.\nFindings: Right peripheral zone, mid gland: 7 mm focal lesion, "
            f"{form}. No early enhancement on DCE.\n"
        )
        (lesion,) = read(text, "MRI prostate").lesions
        assert lesion.values().get("dwi_finding") == "focal_mild_moderate", form
        assert read(text, "MRI prostate").assessment().category == "3", form


def test_a_margin_written_as_sharply_or_smoothly_delineated_is_circumscribed_or_smooth() -> None:
    breast = (
        "Bilateral mammography.\nFindings: Right breast, 7 o'clock: a new oval mass of 9 mm, "
        "sharply delineated, parallel to the skin.\n"
    )
    (lesion,) = read(breast, "Mammography bilateral").lesions
    assert lesion.values()["margin"] == "circumscribed"
    assert read(breast, "Mammography bilateral").assessment().category == "4A"  # new
    adnexa = (
        "Transvaginal ultrasound. Postmenopausal.\nFindings: Left adnexa: solid lesion of "
        "30 x 28 mm, well delineated, with moderate internal flow (colour score 3).\n"
    )
    (lesion,) = read(adnexa, "US pelvis transvaginal").lesions
    assert lesion.values()["solid_contour"] == "smooth"
    assert read(adnexa, "US pelvis transvaginal").assessment().category == "4"
    thyroid = (
        "Thyroid ultrasound.\nFindings: Right lobe: 16 mm solid isoechoic nodule, "
        "wider than tall, sharply demarcated, no echogenic foci.\n"
    )
    (lesion,) = read(thyroid, "US thyroid").lesions
    assert lesion.values()["margin"] == "smooth"


def test_a_bracketed_aside_neither_ends_nor_starts_a_negation() -> None:
    # The aside's own "no ... with ..." neither ends the outer denial nor counts as its reach;
    # "of a", "or of an" are no distance; a size in an aside still ends a negation.
    text = (
        "Pelvic ultrasound. Postmenopausal.\nFindings: Left adnexa: a 64 x 50 mm unilocular cyst "
        "with uniform low-level echoes and a smooth inner wall, no solid component, no flow. "
        "It lacks the appearance of a haemorrhagic cyst (no lace-like strands with retracting "
        "clot) or of an endometrioma.\n"
    )
    reading = read(text, "US pelvis")
    (lesion,) = reading.lesions
    assert lesion.values()["lesion"] == "smooth_nonsimple_cyst"
    assert reading.assessment().category == "3"  # postmenopausal, 30 to < 100 mm
    lexicon = load_lexicon()
    sized = "Not seen in 2021, grown since 2022 (then 6 mm) and now a developing asymmetry."
    at = sized.index("developing")
    assert not negated(lexicon, sized, at, at + len("developing asymmetry"))


def test_an_adnexal_area_that_cannot_be_characterised_is_o_rads_0() -> None:
    # A region described by its appearance ("a heterogeneous area") is a lesion; when the
    # examination could not characterise it, O-RADS US v2022 gives 0 (incomplete evaluation).
    text = (
        "Transabdominal pelvic ultrasound. Postmenopausal. Bladder poorly filled.\n"
        "Findings: The ovaries are not identified. Left adnexa: a heterogeneous area of about "
        "35 mm, partially visualised, which cannot be assessed further through the bowel.\n"
    )
    reading = read(text, "US pelvis")
    (lesion,) = reading.lesions
    assert lesion.values()["incomplete"] is True
    assert reading.assessment().category == "0"


def test_how_the_examination_went_on_the_other_side_is_no_feature_of_this_lesion() -> None:
    # "The left ovary is not well seen" says nothing of a right ovarian cyst, and a line that
    # only says so ("Left ovary: obscured by bowel gas.") is no lesion of its own: the cyst,
    # missing its type, stays indeterminate instead of becoming 0.
    exam = "US pelvis"
    for other in (
        "The left ovary is not well seen because of bowel gas.",
        "\nLeft ovary: obscured by bowel gas.",
    ):
        text = (
            "Pelvic ultrasound. Premenopausal.\nFindings: Right ovary: 41 mm cyst with a thick "
            f"septum. {other}\n"
        )
        reading = read(text, exam)
        assert [le.values().get("incomplete") for le in reading.lesions] == [None], other
        assert reading.assessment().category is None, other


def test_a_consolidation_of_the_past_or_explained_as_atelectasis_is_no_active_process() -> None:
    exam = "CT chest low dose screening"
    base = "Low-dose CT, baseline screening.\nFindings: Left lower lobe: 7 mm solid nodule. "
    for sentence in (
        "Patchy consolidation at the right base with subsegmental atelectasis.",
        "Band of scarring in the lingula at the site of previous consolidation.",
        "Stable scarring in the right middle lobe.",
    ):
        reading = read(base + sentence + "\n", exam)
        assert reading.assessment().category == "3", sentence  # baseline 6 to < 8 mm
        assert reading.lesions[0].values().get("change") == "baseline", sentence
    active = read(base + "Consolidation with air bronchograms in the right lower lobe.\n", exam)
    assert active.assessment().category == "0"


def test_a_nodule_distinct_from_the_background_liver_is_read_as_distinctive() -> None:
    text = (
        "MRI liver. Hepatitis B cirrhosis, surveillance.\nFindings: Segment 6: 11 mm nodule, "
        "T2 hypointense, clearly distinct from the surrounding parenchyma. No arterial phase "
        "hyperenhancement, no washout, no capsule.\n"
    )
    reading = read(text, "MRI liver")
    (lesion,) = reading.lesions
    assert lesion.values()["distinctive"] is True
    assert reading.assessment().category == "2"
    large = text.replace("11 mm", "24 mm")
    assert read(large, "MRI liver").assessment().category == "3"
