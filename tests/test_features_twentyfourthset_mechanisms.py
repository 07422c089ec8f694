"""The reader's mechanisms that the twenty-fourth hand-written set (training/twentyfourthset)
found wanting (issue 15, twentieth round), one test per mechanism, each on sentences written
for this test (none copied from the hand-written sets).

Each test fails on the reader as it was when the twenty-fourth set was measured blind.
"""

from __future__ import annotations

from tests.reading import only_lesion, read


def test_a_field_equals_none_export_is_a_negative_study() -> None:
    text = (
        "Exam = Screening mammogram\nComposition = Heterogeneously dense\nLeft breast mass = "
        "None\nLeft breast calcifications = None\nRight breast mass = None\n"
    )
    assert read(text, "Mammography screening").assessment().category == "1"


def test_an_unticked_checklist_option_is_not_stated() -> None:
    # ACR TI-RADS 2017: solid 2 + hypoechoic 2 + wider 0 + smooth 0 + none 0 = 4 (TR4).
    text = (
        "Thyroid ultrasound, right lobe nodule 16 mm.\n"
        "Composition: [ ] cystic [ ] spongiform [x] solid\n"
        "Echogenicity: [ ] isoechoic [x] hypoechoic\n"
        "Shape: [x] wider than tall [ ] taller than wide\n"
        "Margin: [x] smooth [ ] lobulated\n"
        "Echogenic foci: [x] none [ ] punctate\n"
    )
    values = only_lesion(text, "US thyroid")
    assert (values["composition"], values["shape"]) == ("solid", "wider_than_tall")


def test_a_checklist_answered_n_after_a_dotted_leader_is_denied() -> None:
    # BI-RADS Atlas: grouped fine pleomorphic calcifications are 4B; a distortion would be 4C.
    text = (
        "Diagnostic mammogram, right.\nRight upper inner quadrant: fine pleomorphic "
        "calcifications, grouped.\nArchitectural distortion .......... N\n"
        "Associated mass ...... N\n"
    )
    assert read(text, "Mammography right").assessment().category == "4B"


def test_the_known_mass_at_a_clock_time_is_the_mass_described_before() -> None:
    text = (
        "Mammogram and ultrasound, left. Core biopsy last week: invasive ductal carcinoma.\n"
        "(a) Left breast: irregular spiculated mass at 2:00 containing the biopsy clip, 15 mm.\n"
        "(b) The known left 2:00 mass is irregular and not parallel, 16 x 12 mm.\n"
    )
    reading = read(text, "Mammography and US left breast")
    assert len(reading.lesions) == 1
    assert reading.assessment().category == "6"


def test_lower_lobes_only_partly_imaged_make_the_screen_incomplete() -> None:
    text = (
        "LDCT lung screening, baseline.\nCoverage: scan ends above the diaphragm; both lower "
        "lobes only partly imaged.\nNo nodules in the imaged lungs.\n"
    )
    assert read(text, "LDCT chest screening").assessment().category == "0"


def test_an_ovary_not_seen_apart_from_the_mass_is_no_incomplete_study() -> None:
    # O-RADS US v2022: a smooth solid lesion with colour score 2 is 4.
    text = (
        "TVUS pelvis. Postmenopausal.\nRight adnexa: solid mass 42 mm, smooth outer contour, "
        "minimal to mild internal flow.\nThe right ovary cannot be seen apart from it.\n"
    )
    values = only_lesion(text, "US pelvis")
    assert (values.get("incomplete"), values["color_score"]) == (None, 2)


def test_tiny_non_shadowing_dots_are_punctate_echogenic_foci() -> None:
    text = "Thyroid US.\nLeft lobe: 12 mm solid nodule with several tiny non-shadowing dots.\n"
    assert only_lesion(text, "US thyroid")["echogenic_foci"] == ["punctate"]


def test_from_is_a_prior_cue_only_right_before_the_size() -> None:
    text = (
        "US pelvis. Postmenopausal.\nLeft adnexa: solid mass, separate from the uterus, 45 x 38 "
        "mm, smooth outer contour, moderate flow.\n"
    )
    assert only_lesion(text, "US pelvis")["size_mm"] == 45.0
