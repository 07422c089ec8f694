"""FHIR input: third-party R4 examples, the project's samples, and every kind of bad input."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from radlite_fhir.errors import InputError
from radlite_fhir.fhir_schema import schema_errors, xsd_pattern
from radlite_fhir.readers import read_path
from radlite_fhir.readers.html_text import html_to_text
from tests.conftest import SAMPLES

LIMIT = 20_000_000
FIXTURES = Path(__file__).parent / "data" / "fhir"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _report(**overrides: object) -> dict:
    resource = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"text": "CT chest"},
        "subject": {"reference": "Patient/p1"},
        "conclusion": "No acute findings.",
    }
    resource.update(overrides)
    return {key: value for key, value in resource.items() if value is not None}


# The project's own fixtures in the shapes of the HL7 examples below (tests/data/README.md):
# they run from a clone with nothing beside it; the HL7 originals run where ../shared is.


def test_report_with_conclusion_only() -> None:
    reports = read_path(FIXTURES / "us-abdomen-conclusion.json", LIMIT).reports
    assert [r.text for r in reports] == ["Normal liver, gallbladder and kidneys."]
    assert reports[0].subject == {"reference": "Patient/example"}
    assert reports[0].source_reference == {"reference": "DiagnosticReport/us-abdomen"}


def test_report_with_conclusion_and_coded_diagnosis() -> None:
    report = read_path(FIXTURES / "ct-brain-coded-diagnosis.json", LIMIT).reports[0]
    assert report.text == "Enhancing mass at the clivus, suspicious for chordoma."
    assert report.subject == {"reference": "Patient/p7", "display": "Test Patient"}


def test_report_text_only_in_the_narrative() -> None:
    report = read_path(FIXTURES / "dxa-narrative-only.json", LIMIT).reports[0]
    assert report.text.startswith("DXA BONE DENSITOMETRY")
    assert "INDICATIONS Early menopause" in report.text  # table cells stay on their row's line
    assert "Femoral neck 0.891 g/cm\u00b2 -1.0" in report.text
    assert "<td>" not in report.text


def test_laboratory_report_is_refused_as_not_radiology() -> None:
    with pytest.raises(InputError, match="category LAB, not a radiology report"):
        read_path(FIXTURES / "lab-lipids-bundle.json", LIMIT)


def test_patient_fixture_is_refused() -> None:
    with pytest.raises(InputError, match="'Patient' is neither a DiagnosticReport nor a Bundle"):
        read_path(FIXTURES / "patient.json", LIMIT)


def test_hl7_ultrasound_example_uses_conclusion(shared_data: Path) -> None:
    reports = read_path(
        shared_data / "fhir-examples/diagnosticreport-example-ultrasound.json", LIMIT
    ).reports
    assert [r.text for r in reports] == ["Unremarkable study"]
    assert reports[0].subject == {"reference": "Patient/example"}
    assert reports[0].source_reference == {"reference": "DiagnosticReport/ultrasound"}


def test_hl7_brain_ct_example(shared_data: Path) -> None:
    report = read_path(
        shared_data / "fhir-examples/diagnosticreport-example-f201-brainct.json", LIMIT
    ).reports[0]
    assert report.text == "CT brains: large tumor sphenoid/clivus."
    assert report.subject == {"reference": "Patient/f201", "display": "Roel"}


def test_hl7_dxa_example_falls_back_to_narrative(shared_data: Path) -> None:
    report = read_path(
        shared_data / "fhir-examples/diagnosticreport-example-dxa.json", LIMIT
    ).reports[0]
    assert report.text.startswith("DXA BONE DENSITOMETRY")
    assert "NAME XXXXXXX" in report.text  # table cells stay on their row's line
    assert "<td>" not in report.text


def test_hl7_lab_bundle_is_refused_as_not_radiology(shared_data: Path) -> None:
    with pytest.raises(InputError, match="not a radiology report"):
        read_path(shared_data / "fhir-examples/diagnosticreport-example-lipids.json", LIMIT)


def test_patient_resource_is_refused(shared_data: Path) -> None:
    with pytest.raises(InputError, match="'Patient' is neither a DiagnosticReport nor a Bundle"):
        read_path(shared_data / "fhir-examples/patient-example-f201-roel.json", LIMIT)


def test_ihe_imr_style_html_report_keeps_sections() -> None:
    report = read_path(SAMPLES / "cxr-normal-html.json", LIMIT).reports[0]
    assert "<" not in report.text
    assert report.section_text("impression") == "No acute cardiopulmonary abnormality."
    assert report.section_text("findings").startswith("The heart size is normal.")
    assert report.section_text("comparison") == "None."


def test_charset_of_presented_form_is_honoured(tmp_path: Path) -> None:
    text = "BEFUND: Läsion im Oberlappen, 8 mm."
    form = {
        "contentType": "text/plain; charset=iso-8859-1",
        "data": base64.b64encode(text.encode("latin-1")).decode(),
    }
    path = _write(tmp_path, "r.json", json.dumps(_report(presentedForm=[form])))
    assert read_path(path, LIMIT).reports[0].text == text


def test_bundle_resolves_patient_and_imaging_study() -> None:
    report = read_path(SAMPLES / "bundle-ct-head.json", LIMIT).reports[0]
    assert report.subject == {"reference": "Patient/syn-patient-8"}
    assert report.study_uid == "1.2.826.0.1.3680043.10.1340.8.1"
    assert report.accession == "SYN-CT-0008"


def test_ndjson_reads_every_report_and_reports_bad_lines(tmp_path: Path) -> None:
    good = json.dumps(_report())
    path = _write(
        tmp_path,
        "export.ndjson",
        f"{good}\n{{not json\n\n{json.dumps({'resourceType': 'Patient'})}\n"
        f"{json.dumps(_report(id='r2', status='done'))}\n",
    )
    outcome = read_path(path, LIMIT)
    assert [r.source_reference for r in outcome.reports] == [{"reference": "DiagnosticReport/r1"}]
    assert [(e.line, e.problem.split(":")[0]) for e in outcome.errors] == [
        (2, "not JSON"),
        (5, "DiagnosticReport 'r2' fails the FHIR R4 schema"),
    ]
    assert str(outcome.errors[0]).startswith(f"{path}:2: ")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", b"", "file is empty"),
        ("blank.json", b"  \n", "only white space"),
        ("broken.json", b'{"resourceType": "DiagnosticReport",', "not JSON"),
        ("latin1.json", '{"conclusion": "L\xe4sion"}'.encode("latin-1"), "not UTF-8 text"),
        ("binary.json", b"\x00\x01\x02GGUF\x00", "binary content"),
        ("array.json", b"[1, 2]", "expected a JSON object"),
        ("noresource.json", b'{"id": "x"}', "no resourceType"),
        (
            "r5.json",
            json.dumps(_report(note=[{"text": "R5 only"}])).encode(),
            "note: unknown element",
        ),
        ("status.json", json.dumps(_report(status="done")).encode(), "fails the FHIR R4 schema"),
        ("notext.json", json.dumps(_report(conclusion=None)).encode(), "carries no report text"),
        (
            "emptybundle.json",
            b'{"resourceType": "Bundle", "type": "collection"}',
            "Bundle holds no DiagnosticReport",
        ),
    ],
)
def test_bad_input_names_file_and_cause(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(InputError) as caught:
        read_path(path, LIMIT)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(100_000_000)  # sparse: 100 MB on paper, nothing on disk
    with pytest.raises(InputError, match=r"file is 100.0 MB, over the input limit of 20.0 MB"):
        read_path(path, LIMIT)


# --- hostile input: issue 11 ------------------------------------------------------------


def test_ndjson_lines_end_at_newline_only(tmp_path: Path) -> None:
    """U+2028 and U+0085 are legal raw inside JSON strings: `splitlines` would cut there."""
    lines = [
        json.dumps(_report(conclusion="Nodule.\u2028Second line.\u0085Third."), ensure_ascii=False),
        json.dumps(_report(id="r2", conclusion="Crlf line.")),
    ]
    path = _write(tmp_path, "export.ndjson", lines[0] + "\n" + lines[1] + "\r\n")
    outcome = read_path(path, LIMIT)
    assert outcome.errors == []
    assert [r.text for r in outcome.reports] == [
        "Nodule.\u2028Second line.\u0085Third.",
        "Crlf line.",
    ]


@pytest.mark.parametrize("depth", [70, 1200, 100_000])
def test_deeply_nested_json_is_an_input_error(tmp_path: Path, depth: int) -> None:
    nested = '{"resourceType": "DiagnosticReport", "extension": ' + "[" * depth + "]" * depth + "}"
    path = _write(tmp_path, "deep.json", nested)
    with pytest.raises(InputError, match="nested deeper than 64 levels"):
        read_path(path, LIMIT)
    ndjson = _write(tmp_path, "deep.ndjson", json.dumps(_report()) + "\n" + nested + "\n")
    outcome = read_path(ndjson, LIMIT)
    assert len(outcome.reports) == 1 and "nested deeper" in outcome.errors[0].problem


@pytest.mark.parametrize("charset", ["idna", "rot13", "no-such-codec", "utf-16"])
def test_charset_that_cannot_decode_is_an_input_error(tmp_path: Path, charset: str) -> None:
    form = {
        "contentType": f"text/plain; charset={charset}",
        "data": base64.b64encode(b"Report text " * 20 + b"\xff").decode(),
    }
    path = _write(tmp_path, "r.json", json.dumps(_report(presentedForm=[form])))
    with pytest.raises(InputError, match=f"charset '{charset}'") as caught:
        read_path(path, LIMIT)
    assert "Report text" not in str(caught.value)


def test_quadratic_html_is_read_in_linear_time(tmp_path: Path) -> None:
    """html.parser takes over 30 s on this (every unclosed '<a ' re-scans the rest)."""
    for markup in (
        "<div>" + "<a " * 20000,
        "<div>" + "<!--" * 20000,
        "<div>" + "<a b='" * 20000,
        "<div>" + "<![CDATA[" * 20000,
        "<div>" + "<!-- x >" * 20000,
        "<p>x" + "<a" * 40000,
    ):
        form = {"contentType": "text/html", "data": base64.b64encode(markup.encode()).decode()}
        path = _write(tmp_path, "bomb.json", json.dumps(_report(presentedForm=[form])))
        started = time.perf_counter()
        read_path(path, LIMIT)  # falls back to the conclusion, or is parsed: either is fine
        assert time.perf_counter() - started < 2.0, markup[:20]
    many = {"contentType": "text/html", "data": base64.b64encode(b"<b>x</b>" * 30000).decode()}
    path = _write(tmp_path, "many.json", json.dumps(_report(presentedForm=[many])))
    with pytest.raises(InputError, match="more than 50000 tags"):
        read_path(path, LIMIT)


def test_hidden_html_is_not_report_text() -> None:
    markup = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<p>Findings: nodule.</p><!-- draft: malignant -->"
        '<div style="color:red; DISPLAY : none">hidden <div>nested</div> still hidden</div>'
        "<p hidden>also hidden</p><script>var t = '<p>not text</p>';</script>"
        "<template><p>template</p></template><p>Impression: benign &amp; stable, 3 &lt; 5.</p>"
        '<img style="display:none"><span>shown</span></body></html>'
    )
    assert html_to_text(markup) == "Findings: nodule.\n\nImpression: benign & stable, 3 < 5.\nshown"


def test_unicode_spaces_are_valid_r4_text(tmp_path: Path) -> None:
    """FHIR's string regex `^[ \\r\\n\\t\\S]+$` uses XML Schema white space: U+00A0, U+2009
    and U+2028 are text in R4, though Python's `\\s` matches them."""
    text = "Nodule\u00a08\u2009mm.\u2028No other finding."
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "finding"},
        "valueString": text,
    }
    assert schema_errors(observation) == []
    assert schema_errors({**observation, "status": "final\n"}) == ["Observation.status: enum"]
    assert schema_errors({**observation, "valueString": ""}) == ["Observation.valueString: pattern"]
    path = _write(tmp_path, "r.json", json.dumps(_report(conclusion=text), ensure_ascii=False))
    assert read_path(path, LIMIT).reports[0].text == text
    assert (
        xsd_pattern("^[^\\s]+(\\s[^\\s]+)*$") == "^[^ \\t\\n\\r]+([ \\t\\n\\r][^ \\t\\n\\r]+)*\\Z"
    )


def test_schema_and_validation_messages_never_quote_the_value(tmp_path: Path) -> None:
    secret = "ZZMARKERZZ patient text"
    cases = {
        "status.json": _report(status=secret),
        "issued.json": _report(issued=secret),
        "type.json": _report(conclusion=["list", secret]),
        "contained.json": _report(subject={"reference": secret, "display": 5}),
    }
    for name, resource in cases.items():
        path = _write(tmp_path, name, json.dumps(resource))
        with pytest.raises(InputError) as caught:
            read_path(path, LIMIT)
        assert "ZZMARKERZZ" not in str(caught.value), name
    problems = schema_errors({**_report(), "status": secret, "conclusion": 5})
    assert problems == [
        "DiagnosticReport.conclusion: type (expected string)",
        "DiagnosticReport.status: enum",
    ]


def _pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF whose text layer holds `lines` (Helvetica), xref exact; with no
    lines, a page with no content stream, as a scanned page without OCR has no text."""
    stream = (
        "BT /F1 11 Tf 72 720 Td 14 TL "
        + " ".join(f"({line.replace('(', '[').replace(')', ']')}) '" for line in lines)
        + " ET"
    )
    content = "/Contents 4 0 R " if lines else ""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] {content}"
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


def _with_form(
    tmp_path: Path, content_type: str, data: bytes | None, url: str | None = None
) -> Path:
    form: dict[str, str] = {"contentType": content_type}
    if data is not None:
        form["data"] = base64.b64encode(data).decode()
    if url is not None:
        form["url"] = url
    report = _report(conclusion=None, presentedForm=[form])
    return _write(tmp_path, "r.json", json.dumps(report))


def test_a_pdf_body_is_read_from_its_text_layer(tmp_path: Path) -> None:
    lines = [
        "FINDINGS: Right lobe nodule 18 mm, solid, hypoechoic.",
        "IMPRESSION: ACR TI-RADS TR4.",
    ]
    (report,) = read_path(_with_form(tmp_path, "application/pdf", _pdf(lines)), LIMIT).reports
    assert "Right lobe nodule 18 mm, solid, hypoechoic." in report.text
    assert report.section_text("impression") == "ACR TI-RADS TR4."


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (_pdf([]), "a PDF without a text layer"),
        (b"%PDF-1.4\nZZMARKERZZ garbage", "not a readable PDF"),
    ],
)
def test_a_pdf_without_text_is_a_clear_error_without_its_bytes(
    tmp_path: Path, data: bytes, rule: str
) -> None:
    with pytest.raises(InputError, match=rule) as caught:
        read_path(_with_form(tmp_path, "application/pdf", data), LIMIT)
    assert "ZZMARKERZZ" not in str(caught.value)


@pytest.mark.parametrize("mime", ["application/xhtml", "application/xhtml+xml"])
def test_an_xhtml_body_is_read_as_html(tmp_path: Path, mime: str) -> None:
    xhtml = (
        '<div xmlns="http://www.w3.org/1999/xhtml"><p>FINDINGS: Clear lungs.</p>'
        '<p style="display:none">hidden</p><p>IMPRESSION: Normal chest.</p></div>'
    )
    (report,) = read_path(_with_form(tmp_path, mime, xhtml.encode()), LIMIT).reports
    assert report.section_text("impression") == "Normal chest."
    assert "hidden" not in report.text


def test_a_body_behind_a_url_is_reported_as_not_fetched(tmp_path: Path) -> None:
    path = _with_form(tmp_path, "application/pdf", None, url="Binary/report-pdf-1")
    with pytest.raises(InputError, match="presentedForm url \\(not fetched"):
        read_path(path, LIMIT)
