"""The ACR/AJCC rules on cases worked from the published tables, and the generated reports'
promises: labels follow the rules, stated categories are readable, withheld ones are not."""

from __future__ import annotations

import random

import pytest

from radlite_fhir.rules import find_rads, find_tnm
from training.records import NER, RADS, TNM
from training.synthetic import acr_rules
from training.synthetic.generator import GENERATORS, generate


@pytest.mark.parametrize(
    ("features", "points", "level"),
    [
        (
            {
                "composition": "spongiform",
                "echogenicity": "anechoic",
                "shape": "wider-than-tall",
                "margin": "smooth",
                "foci": "none",
            },
            0,
            "1",
        ),
        (
            {
                "composition": "solid",
                "echogenicity": "isoechoic",
                "shape": "wider-than-tall",
                "margin": "smooth",
                "foci": "none",
            },
            3,
            "3",
        ),
        (
            {
                "composition": "solid",
                "echogenicity": "hypoechoic",
                "shape": "wider-than-tall",
                "margin": "smooth",
                "foci": "none",
            },
            4,
            "4",
        ),
        (
            {
                "composition": "solid",
                "echogenicity": "very hypoechoic",
                "shape": "taller-than-wide",
                "margin": "irregular",
                "foci": "punctate echogenic foci",
            },
            13,
            "5",
        ),
    ],
)
def test_tirads_points(features, points, level) -> None:
    assert acr_rules.tirads_points(features) == points
    assert acr_rules.tirads_level(points) == level


def test_tirads_has_no_level_for_one_point() -> None:
    with pytest.raises(ValueError):
        acr_rules.tirads_level(1)


@pytest.mark.parametrize(
    ("kind", "size", "solid", "category"),
    [
        ("none", 0, 0, "1"),
        ("solid", 5.9, 0, "2"),
        ("solid", 6, 0, "3"),
        ("solid", 8, 0, "4A"),
        ("solid", 15, 0, "4B"),
        ("part-solid", 5, 2, "2"),
        ("part-solid", 10, 5, "3"),
        ("part-solid", 10, 6, "4A"),
        ("part-solid", 12, 8, "4B"),
        ("ground-glass", 29, 0, "2"),
        ("ground-glass", 30, 0, "3"),
        ("perifissural", 9, 0, "2"),
    ],
)
def test_lung_rads(kind, size, solid, category) -> None:
    assert acr_rules.lung_rads(kind, size, solid) == category


@pytest.mark.parametrize(
    ("size", "aphe", "washout", "capsule", "growth", "category"),
    [
        (15, False, False, False, False, "3"),
        (15, False, True, True, False, "4"),
        (25, False, True, False, False, "4"),
        (8, True, False, False, False, "3"),
        (8, True, True, False, False, "4"),
        (15, True, False, True, False, "4"),
        (15, True, True, False, False, "5"),
        (15, True, False, True, True, "5"),
        (25, True, False, False, False, "4"),
        (25, True, False, True, False, "5"),
    ],
)
def test_li_rads_table(size, aphe, washout, capsule, growth, category) -> None:
    assert acr_rules.li_rads(size, aphe, washout, capsule, growth) == category


@pytest.mark.parametrize(
    ("zone", "t2", "dwi", "dce", "category"),
    [
        ("peripheral", 1, 3, False, "3"),
        ("peripheral", 1, 3, True, "4"),
        ("peripheral", 5, 2, True, "2"),
        ("transition", 2, 4, False, "3"),
        ("transition", 3, 5, False, "4"),
        ("transition", 3, 4, True, "3"),
        ("transition", 5, 1, False, "5"),
    ],
)
def test_pi_rads(zone, t2, dwi, dce, category) -> None:
    assert acr_rules.pi_rads(zone, t2, dwi, dce) == category


def test_lung_tnm() -> None:
    assert acr_rules.lung_t(0.9) == "T1a"
    assert acr_rules.lung_t(3.5) == "T2a"
    assert acr_rules.lung_t(6.0) == "T3"
    assert acr_rules.lung_t(2.0, same_lobe_nodule=True) == "T3"
    assert acr_rules.lung_t(1.5, invades_mediastinum=True) == "T4"
    assert acr_rules.lung_m([]) == "M0"
    assert acr_rules.lung_m(["malignant pleural effusion"]) == "M1a"
    assert acr_rules.lung_m(["adrenal metastasis"]) == "M1b"
    assert acr_rules.lung_m(["adrenal metastasis", "bone metastases"]) == "M1c"


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_stated_categories_read_back_and_withheld_ones_do_not(name: str) -> None:
    rng = random.Random(3)
    for index in range(30):
        state = index % 2 == 0
        record = GENERATORS[name](rng, index, state)
        if name != "normal":  # exams outside every table carry no NER target
            entities = record.targets[NER]
            assert entities and all(text.lower() in record.text.lower() for _, text in entities)
        if RADS in record.targets and record.targets[RADS] != "No applicable RADS":
            found = find_rads(record.text)
            if state:
                assert [s.category.label for s in found] == [record.targets[RADS]], record.text
            else:
                assert found == [], record.text
        if name == "lungtnm":
            stated = find_tnm(record.text)
            assert bool(stated) == state, record.text
        assert "IMPRESSION" not in record.findings.upper()


def test_generation_is_seeded_and_covers_every_generator() -> None:
    first, again = generate(40, seed=5), generate(40, seed=5)
    assert [r.text for r in first] == [r.text for r in again]
    assert (
        generate(40, seed=6)[0].text != first[0].text
        or generate(40, seed=6)[1].text != first[1].text
    )
    kinds = {r.record_id.split("-")[0] for r in first}
    assert kinds == set(GENERATORS)
    assert any(TNM in r.targets and r.targets[TNM] for r in first)
