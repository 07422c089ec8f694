"""Fuzzing the FHIR reader (issue 11, item 7): DiagnosticReports, Bundles and NDJSON.

Inputs: random JSON and bytes; the samples mutated (elements dropped, replaced by the wrong
type, by huge or hostile strings, by deep nests; unknown elements added, array members
repeated); presentedForm with random base64, content types and charsets; Bundles of mutated
entries; NDJSON with U+2028, U+0085, CR, blank and broken lines.

Properties, on every input:
- nothing escapes `read_bytes` but an InputError (reports, or the file's errors);
- no error message holds text planted in a report (messages name the element and the rule);
- every report read has text, and that text is Unicode (it encodes to UTF-8: the writers,
  the tokenizer and SQLite all need that);
- the read ends long before HANG_CEILING_S.
NDJSON keeps its lines apart: n good lines give n reports with their own texts, in order.

The FHIR reader's 10,000 examples are shared by the four DiagnosticReport/Bundle tests;
NDJSON has its own 10,000.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from radlite_fhir.errors import InputError
from radlite_fhir.readers import ReadOutcome, read_bytes
from radlite_fhir.readers.fhir import MAX_DEPTH
from tests.test_fuzz_support import (
    MARKER,
    OP_BASE,
    SURROGATES,
    Tally,
    fuzz_settings,
    hostile_pool,
    json_value,
    note_input,
    op,
    ops,
    tallies,
    tally,
)

pytestmark = pytest.mark.fuzz

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
BASES: list[dict[str, Any]] = [
    json.loads(p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.json"))
]
REPORTS = [b for b in BASES if b["resourceType"] == "DiagnosticReport"]
BUNDLE = next(b for b in BASES if b["resourceType"] == "Bundle")

TEXTS = hostile_pool(seed=1, size=200, surrogates=True)
REPORT_TEXTS = [f"{a}{MARKER} {b}" for a, b in zip(TEXTS[::2], TEXTS[1::2], strict=True)]
HUGE = [
    unit * count
    for unit, count in [("x", 300_000), ("\u00a0", 60_000), ("\u2028 ", 40_000), ("<a ", 30_000),
                        ("é", 100_000), ("\\", 100_000), ("0", 50_000)]
]  # fmt: skip


def _nested(depth: int, leaf: Any, kind: str) -> Any:
    for _ in range(depth):
        leaf = [leaf] if kind == "array" else {"extension": leaf}
    return leaf


DEEP = [_nested(d, "x", k) for d in (MAX_DEPTH - 10, MAX_DEPTH, 300) for k in ("array", "obj")]
SCALARS: list[Any] = [None, True, False, 0, 1, -1, 2**63, 2**200, -(2**70), 0.5, 1e308, -0.0,
                      float("nan"), float("inf"), float("-inf"), "", " ", [], {}]  # fmt: skip
LEAVES = [*SCALARS, *TEXTS, *HUGE, *DEEP]  # no marker: for ids, codes, type names
LEAVES_TEXT = [*LEAVES, *REPORT_TEXTS]
NAMES = [  # element names of DiagnosticReport, Attachment and Bundle
    "resourceType", "id", "status", "code", "text", "div", "conclusion", "presentedForm",
    "contentType", "data", "category", "coding", "subject", "reference", "identifier", "value",
    "system", "entry", "resource", "fullUrl", "type", "imagingStudy", "extension", "url",
    "contained", "meta",
]  # fmt: skip
KEYS = [*NAMES, *TEXTS[3:20]]
QUOTABLE = {"id", "resourceType", "contentType", "code"}  # messages may name these values
TYPE_NAMES = ["DiagnosticReport", "Bundle", "Patient", "Resource", "X", "", "diagnosticreport"]
CHARSETS = [
    "utf-8", "UTF-8", '"utf-8"', "utf-16", "utf-16-le", "utf-32", "latin-1", "iso-8859-1",
    "windows-1252", "ascii", "shift_jis", "euc-kr", "gb18030", "utf-7", "idna", "punycode",
    "rot13", "base64", "hex", "zlib", "uu", "unicode_escape", "raw_unicode_escape", "mbcs",
    "undefined", "", "nonesuch", "utf-8'", "utf_8 ", *TEXTS[20:40],
]  # fmt: skip
MIMES = ["text/plain", "text/html", "TEXT/PLAIN", "Text/Html", "application/pdf", "", "text/", None]
CODECS = ["utf-8", "utf-16", "latin-1", "utf-8-sig", "shift_jis", "cp1252"]


def _at(pool: list[Any], program: str, index: int) -> Any:
    """The member of `pool` the program's character at `index` picks (the first when the
    program is shorter)."""
    return pool[op(program[index]) % len(pool)] if index < len(program) else pool[0]


def _encode(document: Any, ascii_only: bool) -> bytes:
    """JSON bytes; lone surrogates stay \\u escapes (ascii_only) or become bytes that are not
    UTF-8 (surrogatepass)."""
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# --- mutations of a valid document -----------------------------------------------------------


def _paths(document: Any) -> list[tuple[Any, ...]]:
    """Every element path in `document` (object keys and array indexes), the root excluded."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        node, prefix = stack.pop()
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            found.append((*prefix, key))
            if isinstance(child, dict | list):
                stack.append((child, (*prefix, key)))
    found.sort(key=lambda p: [str(k) for k in p])
    return found


def _mutate(document: Any, control: str, values: list[str], text: str) -> Any:
    """Up to 3 mutations, each two characters of `control` (which path, which action: drop,
    replace, add an element, repeat an array member) and a value program from `values`.
    Report text (with the marker) goes only where messages never name the value."""
    document = copy.deepcopy(document)
    for number in range(max(1, len(control) // 2)):
        paths = _paths(document)
        if not paths:
            break
        path = _at(paths, control, 2 * number)
        action = _at(["drop", "replace", "replace", "add", "repeat"], control, 2 * number + 1)
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        program = values[number] if number < len(values) else ""
        if action == "add" and isinstance(parent, dict):
            path = (*path[:-1], _at(KEYS, program, 0))
        leaves = [text, *(LEAVES if path[-1] in QUOTABLE else LEAVES_TEXT)]
        value = copy.deepcopy(json_value(program, leaves, KEYS))
        if action == "drop":
            del parent[path[-1]]
        elif action in {"replace", "add"}:
            parent[path[-1]] = value
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return document


def _with_marker(report: dict[str, Any]) -> dict[str, Any]:
    """The report with the marker in its conclusion and narrative."""
    report = copy.deepcopy(report)
    report["conclusion"] = f"Impression: {MARKER}."
    report["text"] = {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{MARKER}</p></div>',
    }
    return report


MUTATIONS = st.tuples(ops(6), st.lists(ops(12), max_size=3), st.text(max_size=16))


# --- presentedForm ---------------------------------------------------------------------------


def _attachments(program: str, raw: bytes, text: str) -> list[dict[str, Any]]:
    """One attachment per 6 program characters: content type, charset parameter form,
    charset, text, codec and data shape (base64 of the encoded text or of `raw`, MIME base64
    with line breaks, not base64, the wrong type)."""
    forms = []
    for start in range(0, max(len(program), 1), 6):
        chunk = program[start : start + 6]
        mime = _at(MIMES, chunk, 0)
        charset = _at([*CHARSETS, text[:20]], chunk, 2)
        parameters = _at(["", f"; charset={charset}", f";charset={charset}; x=y",
                          f"; CHARSET={charset}", f"; charset='{charset}'"], chunk, 1)  # fmt: skip
        body = _at([*REPORT_TEXTS[:20], *(f"<p>{t}</p>" for t in REPORT_TEXTS[20:40])], chunk, 3)
        codec = _at(CODECS, chunk, 4)
        encoded = body.encode(codec, "surrogatepass" if codec.startswith("utf") else "replace")
        shape = _at(["b64", "b64", "raw", "lines", "text", "value"], chunk, 5)
        data: Any = {
            "b64": base64.b64encode(encoded).decode("ascii"),
            "raw": base64.b64encode(raw).decode("ascii"),
            "lines": base64.encodebytes(encoded).decode("ascii") + text[:2],
            "text": text,
            "value": _at(LEAVES, chunk, 3),
        }[shape]
        attachment: dict[str, Any] = {"data": data}
        if mime is not None:
            attachment["contentType"] = mime + parameters
        forms.append(attachment)
    return forms


# --- the properties --------------------------------------------------------------------------


def _check(path: Path, content: bytes) -> ReadOutcome | None:
    """Read `content` as the input `path`: the properties every input must keep."""
    try:
        outcome = read_bytes(path, content)
    except InputError as error:
        assert MARKER not in str(error), "an error message quotes report text"
        return None
    for error in outcome.errors:
        assert isinstance(error, InputError)
        assert MARKER not in str(error), "an error message quotes report text"
    for report in outcome.reports:
        assert report.text.strip(), "a report with no text"
        report.text.encode("utf-8")  # Unicode, no lone surrogate
    return outcome


@pytest.fixture(scope="module")
def summary(request: pytest.FixtureRequest) -> Iterator[dict[str, Tally]]:
    """The tallies; the samples are read first, so that one-time work (imports, compiling
    the schema) is not counted as an input's time."""
    for sample in [*SAMPLES.glob("*.json"), *SAMPLES.glob("*.ndjson")]:
        read_bytes(sample, sample.read_bytes())
    with tallies(request) as found:
        yield found


def _random_content(kind: int, program: str, text: str, raw: bytes) -> bytes:
    """Random input of one of five kinds: JSON from the program, an object with a
    resourceType, bytes, brackets nested deep, text."""
    if kind == 0:
        return _encode(
            json_value(program, [text, *LEAVES_TEXT], KEYS), op(program[:1] or "\0") % 2 == 0
        )
    if kind == 1:
        members = json_value(chr(OP_BASE + 12) + program, [text, *LEAVES_TEXT], KEYS)
        members = members if isinstance(members, dict) else {"entry": members}
        return _encode({**members, "resourceType": _at(TYPE_NAMES, program, 0)}, True)
    if kind == 2:
        return raw
    if kind == 3:
        depth = 1 + len(text) * 250
        return (
            _at(["[", '{"a":'], program, 0) * depth + _at(["]", "}"], program, 1) * depth
        ).encode()
    return text.encode("utf-8", "surrogatepass")


def test_random_json_and_bytes(summary: dict[str, Tally]) -> None:
    count = tally(summary, "fhir: random JSON and bytes")

    @fuzz_settings(2_500)
    @given(
        kind=st.integers(0, 4),
        program=ops(40),
        text=st.text(max_size=20),
        raw=st.binary(max_size=300),
    )
    @example(kind=3, program="", text="x" * 40, raw=b"")  # 10,000 deep
    @example(kind=2, program="", text="", raw=b"[" * 100_000)
    @example(
        kind=4, program="", text='{"resourceType": "DiagnosticReport", "x": "\\ud800"}', raw=b""
    )
    def check(kind: int, program: str, text: str, raw: bytes) -> None:
        content = _random_content(kind, program, text, raw)
        note_input(kind=kind, program=program, text=text, raw=raw)
        with count.timed():
            _check(Path("random.json"), content)

    check()
    count.done(fuzz_settings(2_500).max_examples)


def test_mutated_reports(summary: dict[str, Tally]) -> None:
    count = tally(summary, "fhir: mutated DiagnosticReports")

    @fuzz_settings(3_500)
    @given(base=st.sampled_from(REPORTS), mutations=MUTATIONS, ascii_only=st.booleans())
    def check(
        base: dict[str, Any], mutations: tuple[str, list[str], str], ascii_only: bool
    ) -> None:
        content = _encode(_mutate(_with_marker(base), *mutations), ascii_only)
        note_input(base=base["id"], mutations=mutations, ascii_only=ascii_only)
        with count.timed():
            _check(Path("report.json"), content)

    check()
    count.done(fuzz_settings(3_500).max_examples)


def test_presented_forms(summary: dict[str, Tally]) -> None:
    count = tally(summary, "fhir: presentedForm")

    @fuzz_settings(2_000)
    @given(
        base=st.sampled_from(REPORTS),
        program=ops(18),
        raw=st.binary(max_size=120),
        text=st.text(max_size=20),
        conclusion=st.booleans(),
    )
    def check(base: dict[str, Any], program: str, raw: bytes, text: str, conclusion: bool) -> None:
        document = {k: v for k, v in base.items() if k not in {"presentedForm", "conclusion"}}
        document["presentedForm"] = _attachments(program, raw, text)
        if conclusion:
            document["conclusion"] = f"Impression: {MARKER}"
        note_input(base=base["id"], program=program, raw=raw, text=text, conclusion=conclusion)
        with count.timed():
            _check(Path("form.json"), _encode(document, True))

    check()
    count.done(fuzz_settings(2_000).max_examples)


def _bundle(extra: str) -> dict[str, Any]:
    """The sample Bundle (Patient, ImagingStudy, report) with a report more per character of
    `extra`, each pointing at the Patient and ImagingStudy by their urn:uuid fullUrls."""
    bundle = copy.deepcopy(BUNDLE)
    patient, study = (bundle["entry"][i]["fullUrl"] for i in (0, 1))
    bundle["entry"][2]["resource"] = _with_marker(bundle["entry"][2]["resource"])
    for number in range(len(extra)):
        resource = _with_marker(_at(REPORTS, extra, number))
        resource["subject"] = {"reference": patient, "display": "Synthetic patient"}
        resource["imagingStudy"] = [{"reference": study}]
        full_url = f"urn:uuid:{number:08d}-0000-4000-8000-000000000000"
        bundle["entry"].append({"fullUrl": full_url, "resource": resource})
    return bundle


def test_mutated_bundles(summary: dict[str, Tally]) -> None:
    count = tally(summary, "fhir: mutated Bundles")

    @fuzz_settings(2_000)
    @given(extra=ops(3), mutations=MUTATIONS)
    @example(extra="", mutations=("\ue006\ue001", ["\ue0ff"], ""))  # entry: null
    def check(extra: str, mutations: tuple[str, list[str], str]) -> None:
        content = _encode(_mutate(_bundle(extra), *mutations), True)
        note_input(extra=extra, mutations=mutations)
        with count.timed():
            _check(Path("bundle.json"), content)

    check()
    count.done(fuzz_settings(2_000).max_examples)


# --- NDJSON ----------------------------------------------------------------------------------

# As small as a report gets: the splitting is under test here, not validation (4x faster).
NDJSON_BASE = {"resourceType": "DiagnosticReport", "status": "final", "code": {"text": "CT"}}
# Inside a JSON string these stay raw (json.dumps escapes only C0 controls, '"' and '\\'): a
# splitter that breaks lines anywhere but at "\n" cuts the resource in two.
LINE_BREAKERS = ["\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c", "\r"]
LINE_TEXTS = [t for t in TEXTS if not any(s in t for s in SURROGATES)] + [
    "a\u2028b", "\u0085", "x\r\ny", "\u2029\u2029", "\x1c\x1d\x1e", "tab\tand\vform\ffeed",
]  # fmt: skip
LINE_TEXT = st.text(
    st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(LINE_BREAKERS)),
    max_size=20,
)
BLANKS = ["", " ", "\t", "\r", " \t\r", "\u2028", "\u00a0"]
NOT_OBJECTS = ["1", "[]", '"text"', "null", "[{}]", "true"]
SKIPPED = ["Patient", "Observation", "Device", "ImagingStudy"]
LINE_KINDS = ["report", "report", "report", "blank", "cut", "not object", "skipped"]


def _conclusion(text: str, number: int) -> str:
    return f"Line {number}: {text} {MARKER}"


def _ndjson_line(kind: str, code: int, text: str, number: int) -> str:
    ascii_only = code % 2 == 0
    if kind in {"report", "cut"}:
        line_text = text if code % 3 == 0 else LINE_TEXTS[code % len(LINE_TEXTS)]
        resource = {
            **NDJSON_BASE,
            "id": f"r{number}",
            "conclusion": _conclusion(line_text, number),
        }
        whole = json.dumps(resource, ensure_ascii=ascii_only)
        return whole if kind == "report" else whole[: max(1, len(whole) * code // 256)]
    if kind == "skipped":
        return json.dumps({"resourceType": SKIPPED[code % len(SKIPPED)], "id": f"x{number}"})
    return (BLANKS if kind == "blank" else NOT_OBJECTS)[code % 6]


def test_ndjson_lines_stay_apart(summary: dict[str, Tally]) -> None:
    """n report lines give n reports with their own text, in order, whatever they hold;
    every broken line is one error with its line number; blank lines and other resource
    types are skipped."""
    count = tally(summary, "ndjson: lines")

    @fuzz_settings()
    @given(kinds=ops(5), codes=ops(5), text=LINE_TEXT, layout=st.integers(0, 7))
    @example(kinds="\ue000\ue000", codes="\ue001\ue003", text="a\u2028b\u0085c", layout=1)
    @example(kinds="\ue003\ue000", codes="\ue003\ue000", text="x\ry", layout=6)
    def check(kinds: str, codes: str, text: str, layout: int) -> None:
        lines = [
            (_at(LINE_KINDS, kinds, n), op(codes[n]) if n < len(codes) else 0)
            for n in range(len(kinds))
        ]
        texts = [_ndjson_line(kind, code, text, n) for n, (kind, code) in enumerate(lines, 1)]
        newline = "\r\n" if layout & 1 else "\n"
        content = (
            ("\ufeff" if layout & 2 else "") + newline.join(texts) + (newline if layout & 4 else "")
        )
        expected = [
            json.loads(line)["conclusion"].strip()
            for line, (kind, _) in zip(texts, lines, strict=True)
            if kind == "report"
        ]
        bad = [n for n, (kind, _) in enumerate(lines, 1) if kind in {"cut", "not object"}]
        note_input(kinds=kinds, codes=codes, text=text, layout=layout)
        with count.timed():
            outcome = _check(Path("bulk.ndjson"), content.encode("utf-8"))
        if outcome is None:  # refused as a whole: only when no report line is in it
            assert not expected and len(bad) <= 1
            return
        assert [r.text for r in outcome.reports] == expected
        assert [e.line for e in outcome.errors] == bad

    check()
    count.done(fuzz_settings().max_examples)


# --- regressions: what the fuzzing found -------------------------------------------------------


def _problem(content: Any, name: str = "in.json") -> str:
    with pytest.raises(InputError) as caught:
        read_bytes(
            Path(name), _encode(content, True) if not isinstance(content, bytes) else content
        )
    return caught.value.problem


@pytest.mark.parametrize("kind", [[], "", "Foo", None, "Resource"])
def test_inner_resource_of_no_r4_type_is_an_input_error(kind: Any) -> None:
    """Found: fhir.resources raised KeyError ('R4.FooType') or TypeError for an entry or a
    contained resource whose resourceType is no type name, past every handler."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": kind}}],
    }
    assert _problem(bundle) == "Bundle.entry[0].resource.resourceType: not an R4 resource type name"
    report = {**NDJSON_BASE, "conclusion": "x", "contained": [{"resourceType": kind}]}
    assert _problem(report) == (
        "DiagnosticReport.contained[0].resourceType: not an R4 resource type name"
    )


def test_an_unknown_top_level_type_is_not_quoted_in_an_inner_path() -> None:
    """The element path of an inner problem starts with the resource type only when that is
    an R4 type name: any other string is a value from the file."""
    resource = {"resourceType": f"Report of {MARKER}", "contained": [{"resourceType": 1}]}
    assert _problem(resource) == "(root).contained[0].resourceType: not an R4 resource type name"


def test_bundle_with_null_entries_holds_no_report() -> None:
    """Found: "entry": null (valid for fhir.resources: null is absent) made the reader
    iterate None; an entry whose resource is null was read as an empty resource."""
    for entries in (None, [{"resource": None}], [{"fullUrl": None, "resource": None}]):
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
        assert _problem(bundle) == "Bundle holds no DiagnosticReport"


def test_lone_surrogates_are_refused_where_they_are() -> None:
    """Found by the writers' round trip: a \\ud800 escape in report text was read, then
    failed as UTF-8 when the output was written. Refused at the reader, by element."""
    report = {**NDJSON_BASE, "conclusion": f"a\ud800b {MARKER}"}
    assert _problem(report) == (
        "DiagnosticReport.conclusion: holds a lone surrogate (a \\u escape that is no Unicode "
        "character)"
    )
    unicode_escape = {
        **NDJSON_BASE,
        "presentedForm": [{"contentType": "text/plain; charset=unicode_escape",
                           "data": base64.b64encode(b"x \\udc80 " + MARKER.encode()).decode()}],
    }  # fmt: skip
    assert "gives text with lone surrogates" in _problem(unicode_escape)
    assert MARKER not in _problem(unicode_escape)


def test_issue_11_crafted_inputs_are_input_errors_without_text() -> None:
    """The crafted cases of issue 11 that reach the FHIR reader: each one an InputError that
    names the rule, none quoting the report text."""
    deep = '{"resourceType": "DiagnosticReport", "extension": ' + "[" * 1200 + "]" * 1200 + "}"
    idna = {
        **NDJSON_BASE,
        "presentedForm": [{"contentType": "text/plain; charset=idna",
                           "data": base64.b64encode(f"xn--{MARKER} nodule.".encode()).decode()}],
    }  # fmt: skip
    bomb = {
        **NDJSON_BASE,
        "conclusion": f"Impression: {MARKER}",
        "presentedForm": [{"contentType": "text/html",
                           "data": base64.b64encode(("<div>" + "<a " * 20_000).encode()).decode()}],
    }  # fmt: skip
    assert "nested deeper than" in _problem(deep.encode())
    assert _problem(idna).endswith("presentedForm charset 'idna' fails (UnicodeError)")
    # The tag soup (33 s in html.parser) holds no text: the conclusion is read instead.
    (report,) = read_bytes(Path("bomb.json"), _encode(bomb, True)).reports
    assert report.text == f"Impression: {MARKER}"
    status = {**NDJSON_BASE, "status": MARKER, "conclusion": "x"}
    assert _problem(status) == "DiagnosticReport '?' fails the FHIR R4 schema: " + (
        "DiagnosticReport.status: enum"
    )
