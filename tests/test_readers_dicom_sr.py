"""DICOM SR input: every flavour, sections by LOINC and DCM codes, third-party files, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from radlite_fhir.errors import InputError
from radlite_fhir.readers import read_path
from tests.sr_files import FLAVOURS, make_sr

FINDINGS = "Irregular 14 mm mass in the right breast at 10 o'clock.\nNo axillary lymphadenopathy."
IMPRESSION = "Suspicious right breast mass. BI-RADS 4B."
LIMIT = 10_000_000


@pytest.mark.parametrize("scheme", ["LN", "DCM"])
@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_every_flavour_gives_sections_items_and_identity(
    tmp_path: Path, flavour: str, scheme: str
) -> None:
    path = make_sr(
        tmp_path / "in.dcm",
        {"findings": FINDINGS, "impression": IMPRESSION},
        flavour,
        scheme,
        study_uid="1.2.3.4.5",
    )
    report = read_path(path, LIMIT).reports[0]
    assert report.section_text("impression") == IMPRESSION
    findings = report.section_text("findings")
    assert findings is not None and findings.startswith(FINDINGS)
    assert report.text.index("Person Observer Name: Reader Rob") < report.text.index("FINDINGS:")
    if flavour != "basic-text":  # CODE, NUM, DATE items, in tree order
        assert findings.endswith("Finding Site: Breast\nLength: 14 mm\nStudy Date: 2025-09-12")
    assert report.text.count(IMPRESSION) == 1  # the by-reference item repeats nothing
    source = dcmread(path)
    assert (report.study_uid, report.accession) == ("1.2.3.4.5", "ACC-77")
    assert report.dicom is not None
    assert report.dicom.sop_instance_uid == source.SOPInstanceUID
    assert report.dicom.sop_class_uid == FLAVOURS[flavour]
    assert report.dicom.patient_id == "MRN-00042"
    assert report.subject == {"type": "Patient", "identifier": {"value": "MRN-00042"}}
    assert report.source_reference["identifier"]["value"] == f"urn:oid:{source.SOPInstanceUID}"
    assert report.source_format == "dicom-sr" and len(report.source_digest) == 64


def test_third_party_srs_give_their_text(highdicom_sr_document: Path) -> None:
    expected = {
        get_testdata_file("reportsi.dcm"): "Observation Context Mode: DIRECT",
        get_testdata_file("test-SR.dcm"): "Diameter: 3 cm",
        highdicom_sr_document: "Area of defined region: 1.7 cm2",
    }
    for path, line in expected.items():
        report = read_path(path, LIMIT).reports[0]
        assert line in report.text.splitlines(), path


def test_a_dicom_file_is_read_whatever_its_name(tmp_path: Path) -> None:
    path = make_sr(tmp_path / "in.dcm", {"impression": IMPRESSION})
    renamed = path.rename(tmp_path / "ORU_0001")
    assert read_path(renamed, LIMIT).reports[0].section_text("impression") == IMPRESSION


def _error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_path(path, LIMIT)
    assert caught.value.path == str(path)
    return caught.value.problem


def test_non_sr_corrupt_and_empty_inputs_are_clear_errors(tmp_path: Path) -> None:
    assert _error(Path(get_testdata_file("CT_small.dcm"))) == (
        "DICOM CT Image Storage instance, not a structured report"
    )
    whole = make_sr(tmp_path / "whole.dcm", {"findings": FINDINGS}).read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    assert _error(cut).startswith("corrupt DICOM")
    garbage = tmp_path / "garbage.dcm"
    garbage.write_bytes(b"\x01\x02" * 400)
    assert _error(garbage).startswith("not a DICOM file")
    empty = make_sr(tmp_path / "empty.dcm", {"findings": ""}, extras=False)
    assert _error(empty) == "DICOM SR carries no report text (no TEXT, CODE, NUM items)"
    over = make_sr(tmp_path / "over.dcm", {"findings": FINDINGS})
    with pytest.raises(InputError, match="over the input limit"):
        read_path(over, 100)
