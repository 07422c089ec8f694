"""FHIR R4 JSON input: a DiagnosticReport, a Bundle of any type, or an NDJSON bulk export.

Every failure is an `InputError` naming the file (and NDJSON line) and the cause. Structure is
checked with fhir.resources.R4B (R4 element names; R5-only elements are rejected) and with the
official R4 JSON schema (code enums, required elements), so what we enrich is valid R4.

Messages name the element and the rule, never the value: the value may be report text, and
these messages go to logs, error files and the ledger. Hostile shapes are refused up front,
before they can exhaust the stack (JSON nested deeper than MAX_DEPTH) or the clock (HTML:
see html_text).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from radlite_fhir.errors import InputError
from radlite_fhir.fhir_schema import resource_types, schema_errors
from radlite_fhir.readers.files import read_limited
from radlite_fhir.readers.html_text import HtmlRefused, html_to_text
from radlite_fhir.readers.pdf_text import PdfRefused, pdf_text
from radlite_fhir.readers.rtf_text import RtfRefused, rtf_text
from radlite_fhir.report import Report, digest
from radlite_fhir.sections import split_sections

RADIOLOGY_CATEGORY_CODES = {"RAD", "LP29684-5", "394914008", "imaging", "18748-4"}
ACCESSION_TYPE = "ACSN"
DICOM_UID_SYSTEM = "urn:dicom:uid"
NDJSON_SKIPPED = {"Patient", "ImagingStudy", "Observation", "Provenance", "Device"}
MAX_DEPTH = 64  # objects and arrays; R4 resources nest about 15 deep, validators recurse
_RESOURCE_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{0,63}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NOT_UNICODE = "holds a lone surrogate (a \\u escape that is no Unicode character)"
_ABSENT = object()
# Values the pydantic message may quote (custom validators): the type name is said instead.
_PYDANTIC_QUOTING = {"value_error", "assertion_error"}


@dataclass
class ReadOutcome:
    """Reports read from one file, and the per-line errors of an NDJSON file."""

    reports: list[Report] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def read_fhir_file(path: Path | str, max_bytes: int) -> ReadOutcome:
    """Read every DiagnosticReport in `path`; raise InputError when nothing can be read."""
    path = Path(path)
    return read_fhir_bytes(path, read_limited(path, max_bytes))


def read_fhir_bytes(path: Path, data: bytes) -> ReadOutcome:
    """Every DiagnosticReport in `data`, the content of `path` (which names the input in
    errors; its suffix picks NDJSON). Kept apart from the file so that what arrives as bytes
    (HTTP, DICOM network, the fuzz tests) takes the same path."""
    text = _text(path, data)
    if path.suffix.lower() in {".ndjson", ".jsonl"}:
        return _read_ndjson(path, text)
    try:
        resource = _loads(path, text, line=None)
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", line=exc.lineno
        ) from None
    return ReadOutcome(reports=_reports_from_resource(path, resource, line=None))


def _loads(path: Path, text: str, line: int | None) -> Any:
    """json.loads, with nesting deeper than MAX_DEPTH refused as an InputError: the json
    module, pydantic and jsonschema recurse per level, and a RecursionError is no message."""
    try:
        value = json.loads(text)
        too_deep = _depth(value) > MAX_DEPTH
    except RecursionError:
        too_deep = True
    if too_deep:
        raise InputError(
            path, f"JSON nested deeper than {MAX_DEPTH} levels: not a FHIR resource", line
        )
    # Text decoded from UTF-8 holds no surrogate: only a \\u escape can put one in a string.
    _check_tree(path, value, line, strings=_SURROGATE_ESCAPE.search(text) is not None)
    return value


def _check_tree(path: Path, value: Any, line: int | None, strings: bool) -> None:
    """One pass over the parsed JSON for what the validators do not refuse cleanly:
    - a string (or object key) holding a lone surrogate, which JSON's \\u escapes can spell
      but is no Unicode text: it would fail later, when a writer, the tokenizer or SQLite
      encodes it as UTF-8;
    - a resource inside the resource (a Bundle entry, a contained one) whose resourceType is
      not an R4 type name: fhir.resources looks the name up unchecked and fails with
      KeyError or TypeError instead of a validation error.
    The top level's resourceType is checked where the reader dispatches on it. Strings are
    looked at only when `strings` (the text holds an escape that may spell a surrogate)."""
    kind = value.get("resourceType") if isinstance(value, dict) else None
    root = kind if isinstance(kind, str) and kind in resource_types() else "(root)"
    stack: list[tuple[Any, str]] = [(value, root)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise InputError(path, f"{where}: {_NOT_UNICODE}", line)
            continue
        if isinstance(node, dict):
            if strings and any(_SURROGATE.search(key) for key in node):
                raise InputError(path, f"{where}: an element name {_NOT_UNICODE}", line)
            children: Any = node.items()
            inner_type = node.get("resourceType", _ABSENT)
            if (
                node is not value
                and inner_type is not _ABSENT
                and (not isinstance(inner_type, str) or inner_type not in resource_types())
            ):
                raise InputError(path, f"{where}.resourceType: not an R4 resource type name", line)
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        for key, child in children:
            if isinstance(child, dict | list) or (strings and isinstance(child, str)):
                inner = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key[:40]}"
                stack.append((child, inner))


def _depth(value: Any) -> int:
    """Nesting depth of objects and arrays, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _text(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start} (FHIR JSON must be UTF-8)",
        ) from None
    if "\x00" in text:
        raise InputError(path, "binary content (NUL bytes): not FHIR JSON")
    if not text.strip():
        raise InputError(path, "file holds only white space")
    return text


def _read_ndjson(path: Path, text: str) -> ReadOutcome:
    """One resource per line. Lines end at "\n" only (a "\r" before it is JSON white
    space): `str.splitlines` would also break at U+2028, U+0085 and others, which JSON strings
    may hold raw, and so cut a resource in two."""
    outcome = ReadOutcome()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            resource = _loads(path, line, line=number)
            if isinstance(resource, dict) and resource.get("resourceType") in NDJSON_SKIPPED:
                continue  # bulk exports interleave resource types; only reports are ours
            outcome.reports.extend(_reports_from_resource(path, resource, line=number))
        except json.JSONDecodeError as exc:
            outcome.errors.append(
                InputError(path, f"not JSON: {exc.msg} (column {exc.colno})", line=number)
            )
        except InputError as exc:
            outcome.errors.append(exc)
    if not outcome.reports and not outcome.errors:
        raise InputError(path, "NDJSON file holds no DiagnosticReport")
    if not outcome.reports and len(outcome.errors) == 1:
        raise outcome.errors[0]
    return outcome


def _reports_from_resource(path: Path, resource: Any, line: int | None) -> list[Report]:
    if not isinstance(resource, dict):
        raise InputError(path, f"expected a JSON object, found {type(resource).__name__}", line)
    kind = resource.get("resourceType")
    if kind == "DiagnosticReport":
        return [_report(path, resource, {}, line)]
    if kind == "Bundle":
        return _reports_from_bundle(path, resource, line)
    if kind is None:
        raise InputError(path, "no resourceType: not a FHIR resource", line)
    if not isinstance(kind, str) or not _RESOURCE_TYPE_NAME.fullmatch(kind):
        raise InputError(path, "resourceType is not a FHIR resource type name", line)
    raise InputError(
        path, f"resourceType '{kind}' is neither a DiagnosticReport nor a Bundle", line
    )


def _reports_from_bundle(path: Path, bundle: dict[str, Any], line: int | None) -> list[Report]:
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        raise InputError(path, f"not a valid R4 Bundle: {_pydantic_summary(exc)}", line) from None
    # Valid R4 may still say null where an element is absent: read null as absent.
    entries = [(e, _object(e.get("resource"))) for e in _objects(bundle.get("entry"))]
    index: dict[str, dict[str, Any]] = {}
    reports = []
    for entry, resource in entries:
        if entry.get("fullUrl"):
            index[entry["fullUrl"]] = resource
        if resource.get("id"):
            index[f"{resource.get('resourceType')}/{resource['id']}"] = resource
    for entry, resource in entries:
        if resource.get("resourceType") == "DiagnosticReport":
            reports.append(_report(path, resource, index, line, entry.get("fullUrl")))
    if not reports:
        raise InputError(path, "Bundle holds no DiagnosticReport", line)
    return reports


def _object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (null, absent)."""
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in `value` when it is an array (null members left out), else none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _pydantic_summary(exc: Any) -> str:
    """The first errors as "element path: message"; a message that may quote the value (a
    custom validator's) is replaced by its error type."""
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p)[:64] for p in error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown element (not in FHIR R4; R5-only?)"
        elif error["type"] in _PYDANTIC_QUOTING or _quotes(message, error.get("input")):
            message = error["type"]
        parts.append(f"{where}: {message}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _quotes(message: str, value: Any) -> bool:
    return isinstance(value, str) and len(value) > 2 and value in message


def _report(
    path: Path,
    resource: dict[str, Any],
    index: dict[str, dict[str, Any]],
    line: int | None,
    full_url: str | None = None,
) -> Report:
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport
    from pydantic import ValidationError

    report_id = resource.get("id", "?")
    label = f"DiagnosticReport '{str(report_id)[:64]}'"
    try:
        parsed = DiagnosticReport.model_validate(resource)
    except ValidationError as exc:
        raise InputError(path, f"{label} is not valid R4: {_pydantic_summary(exc)}", line) from None
    problems = schema_errors(resource)
    if problems:
        raise InputError(path, f"{label} fails the FHIR R4 schema: {'; '.join(problems[:3])}", line)
    _refuse_non_radiology(path, resource, label, line)
    text = _report_text(path, parsed, resource, label, line)
    study = _resolve(index, (resource.get("imagingStudy") or [{}])[0].get("reference"))
    return Report(
        text=text,
        source_path=str(path),
        source_reference=_source_reference(resource, full_url),
        source_format="fhir",
        subject=_subject_reference(resource.get("subject"), index),
        study_uid=_study_uid(study),
        accession=_accession(resource) or _accession(study or {}),
        code_text=_code_text(resource.get("code") or {}),
        sections=split_sections(text),
        source_digest=digest(json.dumps(resource, sort_keys=True, separators=(",", ":"))),
        source_resource=resource,
    )


class BodyKind(StrEnum):
    """How a presentedForm body is read: as text, as (X)HTML, a PDF's text layer, or RTF."""

    TEXT = "text"
    HTML = "html"
    PDF = "pdf"
    RTF = "rtf"


# presentedForm MIME types read as report text (US Core sends application/xhtml and
# application/pdf; dictation systems and older RIS send RTF, text/rtf or application/rtf).
BODY_KINDS = {
    "text/rtf": BodyKind.RTF,
    "application/rtf": BodyKind.RTF,
    "text/plain": BodyKind.TEXT,
    "text/html": BodyKind.HTML,
    "application/xhtml": BodyKind.HTML,
    "application/xhtml+xml": BodyKind.HTML,
    "application/pdf": BodyKind.PDF,
}


def _refuse_non_radiology(
    path: Path, resource: dict[str, Any], label: str, line: int | None
) -> None:
    codes = {c.get("code") for cat in resource.get("category", []) for c in cat.get("coding", [])}
    if codes and not codes & RADIOLOGY_CATEGORY_CODES:
        raise InputError(
            path,
            f"{label} is category {', '.join(sorted(filter(None, codes)))}, "
            "not a radiology report: not enriched",
            line,
        )


def _report_text(
    path: Path, parsed: Any, resource: dict[str, Any], label: str, line: int | None
) -> str:
    not_fetched = 0
    for attachment in parsed.presentedForm or []:
        content_type = (attachment.contentType or "").lower()
        mime = content_type.split(";")[0].strip()
        body = BODY_KINDS.get(mime)
        if body is not None and attachment.data is None and attachment.url:
            not_fetched += 1  # a Binary (or other) reference: this reader fetches nothing
        if body is None or attachment.data is None:
            continue
        charset = "utf-8"
        for parameter in content_type.split(";")[1:]:
            key, _, value = parameter.partition("=")
            if key.strip() == "charset" and value.strip():
                charset = value.strip().strip('"')
        raw = attachment.data
        if isinstance(raw, str):  # fhir.resources returns bytes; be safe with str
            try:
                raw = base64.b64decode(raw, validate=True)
            except binascii.Error:
                raise InputError(path, f"{label}: presentedForm data is not base64", line) from None
        if body is BodyKind.PDF:
            try:
                text = pdf_text(raw)
            except PdfRefused as exc:
                raise InputError(path, f"{label}: presentedForm is {exc}", line) from None
        elif body is BodyKind.RTF:
            try:
                text = rtf_text(raw)
            except RtfRefused as exc:
                raise InputError(path, f"{label}: presentedForm is {exc}", line) from None
        else:
            decoded = _decode(path, raw, charset, label, line)
            text = _html_text(path, decoded, label, line) if body is BodyKind.HTML else decoded
        text = text.replace("\r\n", "\n")
        if text.strip():
            return text.strip()
    if (resource.get("conclusion") or "").strip():
        return resource["conclusion"].strip()
    div = (resource.get("text") or {}).get("div")
    if div:
        text = _html_text(path, div, label, line)
        if text.strip():
            return text
    if not_fetched:
        raise InputError(
            path,
            f"{label}: its report text is behind a presentedForm url (not fetched: this reader "
            "reads attachment data only; send the Binary's data inline)",
            line,
        )
    raise InputError(
        path,
        f"{label} carries no report text (no text, HTML, XHTML, PDF or RTF presentedForm, "
        "no conclusion, no narrative)",
        line,
    )


def _decode(path: Path, raw: bytes, charset: str, label: str, line: int | None) -> str:
    """`raw` decoded with the declared charset. Any codec failure is the input's fault: an
    unknown name, a codec that is no text encoding, or one that raises plain UnicodeError or
    ValueError (charset=idna does, on text that is no host name)."""
    shown = charset[:40]
    try:
        text = raw.decode(charset)
        if not _SURROGATE.search(text):
            return text
        problem = "gives text with lone surrogates (no Unicode text)"
    except LookupError:
        problem = "is not a known text encoding"
    except UnicodeDecodeError as exc:
        problem = f"fails at byte offset {exc.start} ({exc.reason})"
    except (UnicodeError, ValueError) as exc:
        problem = f"fails ({type(exc).__name__})"
    raise InputError(path, f"{label}: presentedForm charset '{shown}' {problem}", line)


def _html_text(path: Path, markup: str, label: str, line: int | None) -> str:
    try:
        return html_to_text(markup)
    except HtmlRefused as exc:
        raise InputError(path, f"{label}: {exc}", line) from None


def _resolve(index: dict[str, dict[str, Any]], reference: str | None) -> dict[str, Any] | None:
    return index.get(reference) if reference else None


def _source_reference(resource: dict[str, Any], full_url: str | None) -> dict[str, Any] | None:
    if resource.get("id"):
        return {"reference": f"DiagnosticReport/{resource['id']}"}
    if full_url and full_url.startswith("http"):
        return {"reference": full_url}
    for identifier in resource.get("identifier", []):
        if identifier.get("value"):
            return {
                "type": "DiagnosticReport",
                "identifier": {k: identifier[k] for k in ("system", "value") if k in identifier},
            }
    return None


def _subject_reference(
    subject: dict[str, Any] | None, index: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    if not subject:
        return None
    reference = subject.get("reference")
    if reference and reference.startswith("urn:"):
        # A bundle-local reference means nothing outside this bundle: make it resolvable.
        patient = index.get(reference)
        if patient and patient.get("id"):
            out = {"reference": f"{patient.get('resourceType', 'Patient')}/{patient['id']}"}
        elif patient and patient.get("identifier"):
            first = patient["identifier"][0]
            out = {
                "type": patient.get("resourceType", "Patient"),
                "identifier": {k: first[k] for k in ("system", "value") if k in first},
            }
        else:
            return None
        if subject.get("display"):
            out["display"] = subject["display"]
        return out
    return {k: v for k, v in subject.items() if k in {"reference", "type", "identifier", "display"}}


def _study_uid(study: dict[str, Any] | None) -> str | None:
    for identifier in (study or {}).get("identifier", []):
        if identifier.get("system") == DICOM_UID_SYSTEM and identifier.get("value"):
            return identifier["value"].removeprefix("urn:oid:")
    return None


def _accession(resource: dict[str, Any]) -> str | None:
    for identifier in resource.get("identifier", []):
        codes = {c.get("code") for c in (identifier.get("type") or {}).get("coding", [])}
        if ACCESSION_TYPE in codes and identifier.get("value"):
            return identifier["value"]
    return None


def _code_text(code: dict[str, Any]) -> str | None:
    if code.get("text"):
        return code["text"]
    for coding in code.get("coding", []):
        if coding.get("display"):
            return coding["display"]
    return None
