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
