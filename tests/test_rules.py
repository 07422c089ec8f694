"""Explicit RADS and TNM statements, from the issue's examples and the shared corpora."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from radlite_fhir.rules import find_rads, find_tnm


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("BIRADS Classification 2 - Benign", "BI-RADS 2"),
        ("BI-RADS 4B", "BI-RADS 4B"),
        ("LR-5", "LI-RADS 5"),
        ("LI-RADS 3", "LI-RADS 3"),
        ("Lung-RADS 4A", "Lung-RADS 4A"),
        ("PI-RADS v2.1 score 1", "PI-RADS 1"),
        ("O-RADS US 2", "O-RADS 2"),
        ("TI-RADS TR3", "TI-RADS 3"),
        ("CAD-RADS 4A", "CAD-RADS 4A"),
        ("NI-RADS 2a", "NI-RADS 2a"),
        ("BIRADS IV mammogram", "BI-RADS 4"),  # as written in the TCGA corpus
        ("ACR TI-RADS: TR5", "TI-RADS 5"),
        ("LR-TR Nonviable", "LI-RADS TR Nonviable"),
        ("LI-RADS TR Viable", "LI-RADS TR Viable"),
        ("GB-RADS 3", "GB-RADS 3"),
        ("VI-RADS 5", "VI-RADS 5"),
        ("LR-M", "LI-RADS M"),
    ],
)
def test_explicit_rads_statement(text: str, label: str) -> None:
    statements = find_rads(f"Impression: {text}.")
    assert [s.category.label for s in statements] == [label]
    assert text.startswith(statements[0].text.split(" (")[0][:4])


def test_rads_statement_span_points_into_text() -> None:
    text = "Findings: mass.\nImpression: suspicious, BI-RADS 5, biopsy."
    statement = find_rads(text)[0]
    assert text[statement.start : statement.end] == statement.text == "BI-RADS 5"


def test_invalid_category_is_not_a_statement() -> None:
    assert find_rads("BI-RADS 9 and PI-RADS 7 are not categories") == []


def test_ni_rads_composite_keeps_neck_category() -> None:
    statement = find_rads("NI-RADS 2a // 3")[0]
    assert (statement.category.label, statement.composite) == ("NI-RADS 2a", "3")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("BIRADS CATEGORY M/5", "BI-RADS 5"),
        ("BI-RADS M4", "BI-RADS 4"),
        ("BI-RADS U/4", "BI-RADS 4"),
        ("BI-RADS U3", "BI-RADS 3"),
        ("BI-RADS: 4", "BI-RADS 4"),
        ("ACR TI-RADS TR4", "TI-RADS 4"),
        ("TR 4", "TI-RADS 4"),
        ("TR4", "TI-RADS 4"),
        ("LR-TIV", "LI-RADS TIV"),
        ("LR-M", "LI-RADS M"),
        ("O-RADS US 3", "O-RADS 3"),
        ("PI-RADS v2.1 assessment 4/5", "PI-RADS 4"),
        ("PI-RADS 3 out of 5", "PI-RADS 3"),
        ("Lung-RADS v2022 4B", "Lung-RADS 4B"),
        ("Lung-RADS v1.1 4B", "Lung-RADS 4B"),
        ("Lung-RADS (v2022) 3", "Lung-RADS 3"),
        ("Lung-RADS version 2022 category 2", "Lung-RADS 2"),
    ],
)
def test_rads_as_radiologists_write_it(text: str, label: str) -> None:
    report = f"Impression: suspicious finding. {text}. Recommend follow-up."
    statements = find_rads(report)
    assert [s.category.label for s in statements] == [label]
    start = report.index(text)
    assert (statements[0].start, statements[0].end) == (start, start + len(text))
    assert statements[0].text == text


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Lesion was prior BI-RADS 3", "BI-RADS 3"),
        ("This lesion was previously BI-RADS 3", "BI-RADS 3"),
        ("The mass was BI-RADS 3 on the prior study", "BI-RADS 3"),
        ("Observation is not LR-5", "LI-RADS 5"),
        ("The observation is no longer LR-4", "LI-RADS 4"),
        ("Categorised LR-4 rather than LR-5", "LI-RADS 5"),
        ("Nodule downgraded from TR4", "TI-RADS 4"),
        ("Smaller compared with the previous PI-RADS 4", "PI-RADS 4"),
        ("Upgraded from BI-RADS 3 to BI-RADS 4", "BI-RADS 3"),
        ("Lung-RADS 2 on 2021 screening, now Lung-RADS 4A", "Lung-RADS 2"),
        ("No LR-M features", "LI-RADS M"),
    ],
)
def test_negated_or_historical_rads_is_not_a_statement(text: str, label: str) -> None:
    statements = find_rads(f"Impression: {text}.")
    assert label not in [s.category.label for s in statements]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Upgraded from BI-RADS 3 to BI-RADS 4", "BI-RADS 4"),
        ("LR-4, not LR-5", "LI-RADS 4"),
        ("BI-RADS 4, previously BI-RADS 3", "BI-RADS 4"),
        ("No suspicious mass, BI-RADS 1", "BI-RADS 1"),
        ("Known biopsy-proven malignancy. BI-RADS 6", "BI-RADS 6"),
    ],
)
def test_current_statement_beside_a_historical_one_is_kept(text: str, kept: str) -> None:
    assert [s.category.label for s in find_rads(f"Impression: {text}.")] == [kept]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Category 4A", "BI-RADS 4A"),
        ("Assessment category: 3", "BI-RADS 3"),
        ("Final assessment: 4B", "BI-RADS 4B"),
        ("Overall assessment: 2", "BI-RADS 2"),
        ("Final assessment category: 5", "BI-RADS 5"),
    ],
)
def test_bare_category_is_read_as_the_default_system(text: str, label: str) -> None:
    report = f"Right breast mass.\nIMPRESSION: {text}. Biopsy."
    assert find_rads(report) == []
    statements = find_rads(report, default_system="BI-RADS")
    assert [s.category.label for s in statements] == [label]
    assert report[statements[0].start : statements[0].end] == text


def test_default_system_does_not_override_a_named_system() -> None:
    statements = find_rads("Impression: PI-RADS category 4.", default_system="BI-RADS")
    assert [s.category.label for s in statements] == ["PI-RADS 4"]


def test_default_system_skips_historical_and_non_categories() -> None:
    text = "Prior category 3. This category of findings; category 2 cm; category 9."
    assert find_rads(text, default_system="BI-RADS") == []


def test_unknown_default_system_is_refused() -> None:
    with pytest.raises(ValueError, match="XY-RADS"):
        find_rads("Category 4", default_system="XY-RADS")


@pytest.mark.parametrize(
    "text",
    [
        "Prostate lesion: T2 4/5, DWI 4/5, DCE positive.",
        "TRansverse and sagittal images. TRV 4 cm.",
        "Mild TR. TR 2.5 m/s; TR 2+.",
        "This category of findings is benign; category 2 is not used here.",
        "Screening in 2022 and 2023, version 2022.",
        "Mass M5 on the left, U4 segment of the liver.",
        "LR-TR 4 and LR TR 3 are not categories.",
        "Lung-RADS v2022 was applied.",
    ],
)
def test_ordinary_text_is_not_a_rads_statement(text: str) -> None:
    assert find_rads(text) == []


def test_pi_rads_out_of_five_never_reads_the_scale() -> None:
    statements = find_rads("T2 3/5, DWI 4/5. PI-RADS v2.1 assessment 2/5.")
    assert [(s.category.label, s.text) for s in statements] == [
        ("PI-RADS 2", "PI-RADS v2.1 assessment 2/5")
    ]


@pytest.mark.parametrize(
    ("text", "pathologic", "values"),
    [
        ("cT2 N1 M0", False, {"T": "T2", "N": "N1", "M": "M0"}),
        ("pT3N0M1", True, {"T": "T3", "N": "N0", "M": "M1"}),
        ("T2,N1a,M0", False, {"T": "T2", "N": "N1a", "M": "M0"}),
        ("T3aN2Mx", False, {"T": "T3a", "N": "N2", "M": "MX"}),
        ("pT4b N2b Mx", True, {"T": "T4b", "N": "N2b", "M": "MX"}),
        ("ypT0N0", True, {"T": "T0", "N": "N0"}),
    ],
)
def test_explicit_tnm(text: str, pathologic: bool, values: dict[str, str]) -> None:
    statement = find_tnm(f"Stage: {text}.")[0]
    assert (statement.pathologic, statement.values) == (pathologic, values)


def test_vertebral_levels_are_not_tnm() -> None:
    assert find_tnm("Compression fracture of T12 and L1; T4 N-acetyl level normal") == []


def _rows(shared_data: Path, name: str) -> list[dict[str, str]]:
    with (shared_data / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_tcga_statements_agree_with_ajcc_labels(shared_data: Path) -> None:
    agree = found = 0
    for row in _rows(shared_data, "tcga_pathology_tnm.csv"):
        statements = find_tnm(row["text"])
        if not statements:
            continue
        found += 1
        agree += re.sub(r"[a-e]$", "", statements[0].values["T"]) == row["T"]
    # Development figures measured on this corpus: 111 reports state TNM, 108 agree with GDC.
    assert found >= 100
    assert agree / found >= 0.95


def test_no_rads_or_tnm_invented_in_chest_radiographs(shared_data: Path) -> None:
    rows = _rows(shared_data, "openi_reports.csv")
    assert len(rows) > 2000
    for row in rows:
        text = f"{row['findings']} {row['impression']}"
        assert find_rads(text) == [], row["uid"]
        assert find_tnm(text) == [], row["uid"]
