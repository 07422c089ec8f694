"""DICOM Structured Report input: Basic Text, Enhanced, Comprehensive and Comprehensive 3D SR.

The content tree is walked with pydicom, not highdicom: highdicom's reader refuses Basic Text
SR and by-reference content items, both common in what reporting systems send. Section
containers are recognised by their LOINC code and by the older DCM codes (CID 7001 and its
predecessors, mappings/sections.yaml); every TEXT, CODE, NUM, PNAME and DATE item becomes a
line of the report text, in tree order, under the canonical heading of its section, so the
product's one sectioning rule (sections.py) applies to SR and FHIR input alike.
By-reference items point at content written elsewhere in the tree and are not repeated.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from radlite_fhir.coding import DicomCode, load_code_tables
from radlite_fhir.errors import InputError
from radlite_fhir.readers.files import read_limited
from radlite_fhir.report import DicomSource, Report, digest
from radlite_fhir.sections import split_sections

DICOM_UID_SYSTEM = "urn:dicom:uid"
TEXT_VALUE_TYPES = {"TEXT", "CODE", "NUM", "PNAME", "DATE"}
CONTEXT_RELATIONSHIPS = {"HAS OBS CONTEXT", "HAS ACQ CONTEXT"}


def is_dicom(head: bytes) -> bool:
    """Part 10 files carry 'DICM' after a 128-byte preamble."""
    return len(head) >= 132 and head[128:132] == b"DICM"


def read_dicom_sr(path: Path | str, max_bytes: int) -> Report:
    """The report an SR file carries; InputError naming the file for anything else."""
    path = Path(path)
    return read_dicom_sr_bytes(path, read_limited(path, max_bytes))


def read_dicom_sr_bytes(path: Path, data: bytes) -> Report:
    """The report `data`, the content of `path` (named in errors), carries.

    pydicom's own messages quote values (a birth date, a name, report text), so none is
    passed on: a message names the element path, the tag keyword and the rule."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(io.BytesIO(data))
    except InvalidDicomError:
        raise InputError(path, "not a DICOM file (no DICM preamble)") from None
    except Exception as exc:  # pydicom raises many types on truncated or garbled data
        raise InputError(
            path, f"corrupt DICOM file: cannot be parsed ({type(exc).__name__})"
        ) from None
    try:
        _refuse_truncated(path, dataset, len(data))
        return _report(path, dataset, digest(data))
    except InputError:
        raise
    except _Malformed as exc:
        raise InputError(path, f"corrupt DICOM SR: {exc.where}: {exc.rule}") from None
    except Exception as exc:  # a shape no rule above foresaw: still the file's fault
        raise InputError(path, f"corrupt DICOM SR: cannot be read ({type(exc).__name__})") from None


class _Malformed(Exception):
    """An element that cannot be what the SR reader needs: where it is, and the rule."""

    def __init__(self, where: str, rule: str) -> None:
        super().__init__(f"{where}: {rule}")
        self.where, self.rule = where, rule


def _tag_name(tag: Any) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag) or f"({tag.group:04X},{tag.element:04X})"


def _str(item: Any, keyword: str, where: str = "") -> str:
    """The value of `keyword` in `item` as text ("" when absent or empty). pydicom converts
    an element on first access (and decodes a person name on first use): a value it cannot
    convert is refused here, naming its element path."""
    try:
        value = item.get(keyword)
        return "" if value is None else str(value)
    except Exception as exc:
        raise _Malformed(
            f"{where}{keyword}", f"value cannot be read ({type(exc).__name__})"
        ) from None


def _sequence(item: Any, keyword: str, where: str) -> list[Any]:
    """The items of the sequence `keyword` of `item` (none when absent or empty)."""
    if keyword not in item:
        return []
    try:
        element = item[keyword]
    except Exception as exc:
        raise _Malformed(
            f"{where}{keyword}", f"value cannot be read ({type(exc).__name__})"
        ) from None
    if element.VR != "SQ":
        raise _Malformed(f"{where}{keyword}", f"not a sequence (VR {element.VR})")
    return list(element.value or [])


def _refuse_truncated(path: Path, dataset: Any, size: int) -> None:
    """pydicom reads a cut-off file without complaint: a top-level element whose declared
    length runs past the end of the file means the transfer was cut."""
    for tag in list(dataset.keys()):  # iterating a Dataset would convert raw elements
        try:
            raw = dataset.get_item(tag)  # converts too where the VR is not known
        except Exception as exc:
            raise _Malformed(
                _tag_name(tag), f"value cannot be read ({type(exc).__name__})"
            ) from None
        length, offset = getattr(raw, "length", None), getattr(raw, "value_tell", None)
        if length is None or offset is None or length == 0xFFFFFFFF:
            continue
        if offset + length > size:
            raise InputError(
                path,
                f"corrupt DICOM file: truncated ({raw.tag} declares {length} bytes at offset "
                f"{offset}, the file ends at {size})",
            )


def _report(path: Path, dataset: Any, source_digest: str) -> Report:
    sop_class = _str(dataset, "SOPClassUID")
    if _str(dataset, "ValueType") != "CONTAINER" or "ContentSequence" not in dataset:
        raise InputError(
            path, f"DICOM {_sop_class_name(sop_class)} instance, not a structured report"
        )
    if _str(dataset, "Manufacturer") == load_code_tables().dicom_sr["manufacturer"]:
        raise InputError(path, "an AI result SR written by radlite-fhir: not enriched again")
    text = _text(dataset)
    if not text.strip():
        raise InputError(path, "DICOM SR carries no report text (no TEXT, CODE, NUM items)")
    sop_instance = _str(dataset, "SOPInstanceUID")
    study_uid = _str(dataset, "StudyInstanceUID") or None
    source = DicomSource(
        sop_class_uid=sop_class,
        sop_instance_uid=sop_instance,
        series_uid=_str(dataset, "SeriesInstanceUID"),
        patient_id=_str(dataset, "PatientID"),
        patient_name=_str(dataset, "PatientName"),
        patient_birth_date=_str(dataset, "PatientBirthDate"),
        patient_sex=_str(dataset, "PatientSex"),
        study_date=_str(dataset, "StudyDate"),
        study_time=_str(dataset, "StudyTime"),
        study_id=_str(dataset, "StudyID"),
        referring_physician=_str(dataset, "ReferringPhysicianName"),
    )
    if not (sop_instance and study_uid):
        raise InputError(path, "DICOM SR lacks its SOP Instance UID or Study Instance UID")
    title = _concept(dataset)
    return Report(
        text=text,
        source_path=str(path),
        source_reference={
            "type": "DocumentReference",
            "identifier": {"system": DICOM_UID_SYSTEM, "value": f"urn:oid:{sop_instance}"},
        },
        source_format="dicom-sr",
        subject=(
            {"type": "Patient", "identifier": {"value": source.patient_id}}
            if source.patient_id
            else None
        ),
        study_uid=study_uid,
        accession=_str(dataset, "AccessionNumber") or None,
        code_text=title[1] if title else None,
        sections=split_sections(text),
        source_digest=source_digest,
        dicom=source,
    )


def _sop_class_name(uid: str) -> str:
    """The registered name of a SOP Class UID; the UID itself is a value from the file
    (pydicom's `UID.name` gives back any unregistered string), so it is not shown."""
    from pydicom.uid import UID_dictionary

    entry = UID_dictionary.get(uid)
    return str(entry[0]) if entry else "unknown SOP class"


@cache
def _section_headings() -> dict[tuple[str, str], tuple[str, str]]:
    """(scheme, code) of a section container -> (section key, the heading we write)."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for section in load_code_tables().sections.values():
        heading = section.headings[0].upper()
        out[("LN", section.loinc)] = (section.key, heading)
        for code in section.dcm:
            out[("DCM", code)] = (section.key, heading)
    return out


def _concept(item: Any, where: str = "") -> tuple[tuple[str, str], str] | None:
    """((scheme, code), meaning) of an item's concept name, or None."""
    sequence = _sequence(item, "ConceptNameCodeSequence", where)
    if not sequence:
        return None
    code, at = sequence[0], f"{where}ConceptNameCodeSequence[0]."
    value = next(
        (v for k in ("CodeValue", "LongCodeValue", "URNCodeValue") if (v := _str(code, k, at))),
        "",
    )
    return (_str(code, "CodingSchemeDesignator", at), value), _str(code, "CodeMeaning", at)


def _text(dataset: Any) -> str:
    """The report text: section headings where the section changes, one line per item.
    Empty when only observation or acquisition context was found (no report in it)."""
    lines: list[str] = []
    current: str | None = None
    content = False
    items = _sequence(dataset, "ContentSequence", "")
    for section, line, context in _walk(items, None, "ContentSequence"):
        content = content or not context
        if section is not None and section[0] != current:
            current = section[0]
            if lines:
                lines.append("")
            lines.append(f"{section[1]}:")
        lines.append(line)
    return "\n".join(lines).strip() if content else ""


def _walk(
    items: list[Any], section: tuple[str, str] | None, where: str
) -> Iterator[tuple[tuple[str, str] | None, str, bool]]:
    """(section, line, whether the item is context) for every item that has text; `where`
    is the element path of `items`, for messages."""
    for number, item in enumerate(items):
        here = f"{where}[{number}]."
        if "ReferencedContentItemIdentifier" in item:
            continue  # by-reference: its content is written where it sits in the tree
        value_type = _str(item, "ValueType", here)
        concept = _concept(item, here)
        inner = section
        if value_type == "CONTAINER" and concept is not None:
            inner = _section_headings().get(concept[0], section)
        elif value_type in TEXT_VALUE_TYPES:
            line = _line(item, value_type, concept[1] if concept else "", here)
            if line:
                relationship = _str(item, "RelationshipType", here)
                yield section, line, relationship in CONTEXT_RELATIONSHIPS
        children = _sequence(item, "ContentSequence", here)
        if children:
            yield from _walk(children, inner, f"{here}ContentSequence")


def _line(item: Any, value_type: str, name: str, where: str) -> str:
    if value_type == "TEXT":
        return _str(item, "TextValue", where).strip()
    if value_type == "CODE":
        codes = _sequence(item, "ConceptCodeSequence", where)
        at = f"{where}ConceptCodeSequence[0]."
        value = _str(codes[0], "CodeMeaning", at) if codes else ""
    elif value_type == "NUM":
        measured = _sequence(item, "MeasuredValueSequence", where)
        if not measured:
            return ""
        at = f"{where}MeasuredValueSequence[0]."
        number = _str(measured[0], "NumericValue", at).strip()
        units = _sequence(measured[0], "MeasurementUnitsCodeSequence", at)
        at = f"{at}MeasurementUnitsCodeSequence[0]."
        unit = _str(units[0], "CodeValue", at) if units else ""
        value = f"{number} {unit}".strip() if unit not in ("1", "{ratio}") else number
    elif value_type == "PNAME":
        value = _str(item, "PersonName", where).replace("^", " ").strip()
    else:  # DATE
        raw = _str(item, "Date", where)
        value = f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}" if len(raw) == 8 else raw
    value = value.strip()
    if not value:
        return ""
    return f"{name}: {value}" if name else value


@dataclass(frozen=True)
class ResultSr:
    """What a result SR of ours says: result key -> label, the impression, the algorithms."""

    coded: dict[str, str]
    impression: str | None
    algorithms: tuple[str, ...]
    study_uid: str


def read_result_sr(path: Path | str) -> ResultSr:
    """Read back a TID 1500 SR this product wrote (the round trip of writers/dicom_sr.py):
    each measurement group's tracking identifier and the label its value code stands for."""
    import pydicom

    dataset = pydicom.dcmread(path)
    tables = load_code_tables()
    coded: dict[str, str] = {}
    algorithms: list[str] = []
    impression = None
    for item in _all_items(dataset.ContentSequence):
        concept = _concept(item)
        if concept is None or item.get("ValueType") != "CONTAINER":
            continue
        if concept[0] == ("DCM", "125007"):  # Measurement Group
            children = {(_concept(c) or ((), ""))[0]: c for c in item.ContentSequence}
            key = str(children[("DCM", "112039")].TextValue)  # Tracking Identifier
            algorithms.append(str(children[("DCM", "111001")].TextValue))  # Algorithm Name
            value = next(c for c in item.ContentSequence if c.ValueType == "CODE")
            code = value.ConceptCodeSequence[0]
            label = tables.label_of_dicom_value(
                DicomCode(
                    str(code.get("CodeValue") or code.get("LongCodeValue")),
                    str(code.CodingSchemeDesignator),
                    str(code.CodeMeaning),
                )
            )
            coded[key] = label or str(code.CodeMeaning)
        elif concept[0] == ("UMLS", "C0034375"):  # Qualitative Evaluations
            impression = next(
                (str(c.TextValue) for c in item.ContentSequence if c.ValueType == "TEXT"), None
            )
    return ResultSr(coded, impression, tuple(dict.fromkeys(algorithms)), dataset.StudyInstanceUID)


def _all_items(items: Any) -> Iterator[Any]:
    for item in items:
        yield item
        if "ContentSequence" in item:
            yield from _all_items(item.ContentSequence)
