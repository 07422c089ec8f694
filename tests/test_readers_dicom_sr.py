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


MARKER = "Zq7MarkerText"


def _patched(path: Path, tag: int, vr: bytes) -> Path:
    """The SR at `path` with the VR bytes of element `tag` replaced (the file stays parseable:
    the length field keeps its size)."""
    from tests.test_fuzz_dicom_sr import raw_elements

    data = bytearray(path.read_bytes())
    element = next(e for e in raw_elements(bytes(data)) if e.tag == tag)
    assert element.vr_at is not None
    data[element.vr_at : element.vr_at + 2] = vr
    patched = path.with_name(f"patched-{path.name}")
    patched.write_bytes(bytes(data))
    return patched


def test_pydicom_messages_that_quote_values_are_not_passed_on(tmp_path: Path) -> None:
    """Fuzzing found: a person name read as FD made pydicom raise with the name's bytes in its
    message, and that message became the error (the ledger, error files, HTTP bodies)."""
    source = make_sr(tmp_path / "in.dcm", {"impression": IMPRESSION})
    dataset = dcmread(source)
    dataset.PatientName = f"{MARKER}^Jane"
    dataset.save_as(source)
    problem = _error(_patched(source, 0x00100010, b"FD"))
    assert problem == "corrupt DICOM SR: PatientName: value cannot be read (BytesLengthException)"
    assert MARKER not in problem


def test_unknown_vr_is_an_input_error_naming_the_element(tmp_path: Path) -> None:
    """Fuzzing found: an empty top-level element with a VR pydicom does not know raised
    NotImplementedError out of the truncation check, past every handler."""
    source = make_sr(tmp_path / "in.dcm", {"impression": IMPRESSION})
    dataset = dcmread(source)
    dataset.StudyID = ""
    dataset.save_as(source)
    problem = _error(_patched(source, 0x00200010, b"Q\x00"))
    assert problem == "corrupt DICOM SR: StudyID: value cannot be read (NotImplementedError)"
    # Not empty, the same element fails where every value is converted: the same message.
    problem = _error(_patched(make_sr(tmp_path / "full.dcm", {"impression": IMPRESSION}),
                              0x00100010, b"Q\x00"))  # fmt: skip
    assert problem == "corrupt DICOM SR: PatientName: value cannot be read (NotImplementedError)"


def test_a_content_item_that_is_no_sequence_is_named(tmp_path: Path) -> None:
    source = make_sr(tmp_path / "in.dcm", {"impression": IMPRESSION})
    dataset = dcmread(source)
    del dataset.ContentSequence[1].ConceptNameCodeSequence
    dataset.ContentSequence[1].add_new(0x0040A043, "LO", "Impressions")
    dataset.save_as(source)
    assert _error(source) == (
        "corrupt DICOM SR: ContentSequence[1].ConceptNameCodeSequence: not a sequence (VR LO)"
    )


@pytest.mark.filterwarnings("ignore")  # pydicom warns about the UID it is given
def test_an_unregistered_sop_class_is_not_quoted(tmp_path: Path) -> None:
    """Found: pydicom's UID.name gives back any string, so a SOP Class UID holding text was
    quoted in "DICOM ... instance, not a structured report"."""
    source = make_sr(tmp_path / "in.dcm", {"impression": IMPRESSION})
    dataset = dcmread(source)
    dataset.SOPClassUID = MARKER
    del dataset.ValueType
    dataset.save_as(source)
    assert _error(source) == "DICOM unknown SOP class instance, not a structured report"


@pytest.mark.filterwarnings("ignore")  # pydicom warns about every malformed value
def test_malformed_dates_and_names_are_read_as_text(tmp_path: Path) -> None:
    """DA, DT and PN values that break their VR's rules (issue 11: a malformed DA stopped the
    service) are carried as text; the reader never parses them."""
    source = make_sr(tmp_path / "in.dcm", {"impression": IMPRESSION}, "enhanced")
    dataset = dcmread(source)
    dataset.StudyDate, dataset.PatientBirthDate = "2025-13-45", "1970023"
    dataset.add_new(0x0008002A, "DT", "20251301250000.000000+2500")  # AcquisitionDateTime
    dataset.ContentSequence[0].PersonName = "A^B^C^D^E^F=G"
    dataset.ContentSequence[1].ContentSequence[-1].Date = "abcd"
    dataset.save_as(source)
    report = read_path(source, LIMIT).reports[0]
    assert report.dicom is not None
    assert (report.dicom.study_date, report.dicom.patient_birth_date) == ("2025-13-45", "1970023")
    assert "Person Observer Name: A B C D E F=G" in report.text
    assert "Study Date: abcd" in report.text
