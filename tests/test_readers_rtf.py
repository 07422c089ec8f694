"""RTF report bodies (text/rtf, application/rtf): read through striprtf, refused by rule."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from radlite_fhir.errors import InputError
from radlite_fhir.readers import read_path
from radlite_fhir.rules import find_rads, find_tnm

FIXTURE = Path(__file__).parent / "data" / "rtf" / "ct-chest-dictation.rtf"
LIMIT = 20_000_000
MARKER = "ZZMARKERZZ"  # report-like text that must never appear in an error


def _with_rtf(tmp_path: Path, data: bytes, content_type: str = "text/rtf") -> Path:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "rtf-1",
        "status": "final",
        "code": {"text": "CT chest"},
        "subject": {"reference": "Patient/p1"},
        "presentedForm": [
            {"contentType": content_type, "data": base64.b64encode(data).decode("ascii")}
        ],
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "content_type", ["text/rtf", "application/rtf", "text/rtf; charset=us-ascii"]
)
def test_the_dictation_fixture_reads_as_its_text(tmp_path: Path, content_type: str) -> None:
    (report,) = read_path(_with_rtf(tmp_path, FIXTURE.read_bytes(), content_type), LIMIT).reports
    lines = report.text.splitlines()
    assert lines[0] == "CT CHEST WITH CONTRAST"
    # \'eb in the declared code page (1252), \endash, \rquote; \u8805 as Unicode
    assert (
        "Referring clinician: Dr Zoë Adler – radiologist’s note: no prior for comparison." in lines
    )
    assert "Lesion|2.4 cm|" in lines  # a table row: its cells on one line
    assert report.section_text("impression").endswith("Solid component ≥ 8 mm.")
    assert "Invented Imaging Centre" not in report.text  # the page header is not report text
    assert "Arial" not in report.text and "Dictation system" not in report.text
    assert [s.text for s in find_tnm(report.text)] == ["cT1c N1 M0"]
    assert [s.category.label for s in find_rads(report.text)] == ["Lung-RADS 4B"]


def test_the_declared_code_page_decodes_the_escapes(tmp_path: Path) -> None:
    cyrillic = rb"{\rtf1\ansi\ansicpg1251 IMPRESSION:\par \'ce\'e1\'fa\'b8\'ec 12 \'ec\'ec.\par}"
    (report,) = read_path(_with_rtf(tmp_path, cyrillic), LIMIT).reports
    assert report.text == "IMPRESSION:\nОбъём 12 мм."


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (f"IMPRESSION: {MARKER}".encode(), "not an RTF document"),
        (
            rb"{\rtf1\ansi\ansicpg99999 " + MARKER.encode() + rb"\par}",
            "unknown code page (cp99999)",
        ),
        (rb"{\rtf1\ansi " + MARKER.encode() + b"\x81" + rb"\par}", "bytes outside its code page"),
        (rb"{\rtf1\ansi{\fonttbl{\f0 " + MARKER.encode() + rb";}}\par}", "without text"),
    ],
)
def test_a_body_that_cannot_be_read_is_refused_by_its_rule_not_its_content(
    tmp_path: Path, data: bytes, rule: str
) -> None:
    with pytest.raises(InputError) as raised:
        read_path(_with_rtf(tmp_path, data), LIMIT)
    assert rule in str(raised.value)
    assert "presentedForm is" in str(raised.value)
    assert MARKER not in str(raised.value)
