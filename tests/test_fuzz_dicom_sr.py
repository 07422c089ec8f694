"""Fuzzing the DICOM SR reader (issue 11, item 7): valid SR files, mutated.

Bases: every flavour tests/sr_files.py writes (LOINC and DCM sections; defined and undefined
lengths), variants with content items, concept names or values taken out, and pydicom's own
SR test files. Mutations, located on the file's elements (explicit VR little endian): a wrong
VR, a malformed value (DA, DT, TM, PN, UI, IS, DS, CS, character sets, bytes that are not
the declared character set), a wrong length, another tag, an element dropped or repeated;
and blind ones: bytes flipped or inserted, the file cut.

Properties: `read_bytes` gives one report with Unicode text or an InputError, nothing else;
no message holds text planted in the file (pydicom's messages quote values, and none may be
passed on); each read ends long before HANG_CEILING_S.
"""

from __future__ import annotations

import contextlib
import copy
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydicom import dcmread, dcmwrite
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from radlite_fhir.errors import InputError
from radlite_fhir.readers import read_bytes
from tests.sr_files import FLAVOURS, make_sr
from tests.test_fuzz_support import (
    MARKER,
    Tally,
    fuzz_settings,
    note_input,
    op,
    ops,
    tallies,
    tally,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.filterwarnings("ignore")]  # pydicom warns a lot

FINDINGS = f"Irregular 14 mm mass {MARKER}.\nNo axillary lymphadenopathy ≥ 1 cm."
IMPRESSION = f"Suspicious mass. BI-RADS 4B. {MARKER}"
LONG_VRS = {
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"SQ",
    b"SV",
    b"UC",
    b"UN",
    b"UR",
    b"UT",
    b"UV",
}
VRS = [b"DA", b"DT", b"TM", b"PN", b"UI", b"SQ", b"US", b"UL", b"FD", b"OB", b"UN", b"LO",
       b"UT", b"CS", b"IS", b"DS", b"AT", b"SS", b"xx", b"\x00\x00"]  # fmt: skip
MARKED = MARKER.encode()
PAYLOADS = [
    # DA, DT, TM
    b"2025-13-45", b"20251345", b"abcd", b"2025", b"", b"99999999", b"20250230", b"1970010",
    b"20251301250000.000000+2500", b"2025010112", b"20250101000000+", b"256060", b"12:30",
    b"123456.1234567",
    # PN: too many components and groups, ISO 2022 escapes, not the declared character set
    b"A^B^C^D^E^F", b"====", b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B", b"\\\\\\",
    b"M\xfcller^J\xf6rg", "Müller^Jörg".encode(), b"\xff\xfe\xfd", MARKED + b"^" + MARKED,
    # UI, IS, DS, CS, character sets
    b"1..2", b".1.2", b"1.2.a", b"1" * 100, b"1.5", b"abc", b"1e999", b"nan", b"-",
    b"CONTAINER", b"container", b"TEXT", b"PNAME", b"DATE", b"NUM", b"CODE", b"X" * 20,
    b"ISO_IR 192", b"ISO 2022 IR 87", b"ISO_IR 999", b"\\ISO 2022 IR 13", b"GB18030",
    b"ISO_IR 100\\ISO_IR 192", b"utf-8",
    # values that carry planted text, and odd bytes
    MARKED, MARKED + b" \xe2\x80\xa8 \xff", b"\x00" * 8, b"\xff" * 9, MARKED * 3000,
]  # fmt: skip
# Keywords worth aiming at: values of every kind the reader reads or pydicom converts.
TARGETS = {
    0x0040A040, 0x0040A160, 0x0040A123, 0x0040A121, 0x0040A120, 0x0040A730, 0x0040A043,
    0x0040A168, 0x0040A300, 0x0040A30A, 0x00080100, 0x00080104, 0x00080102, 0x00080005,
    0x00100010, 0x00100030, 0x00080020, 0x00080030, 0x0020000D, 0x00080018, 0x00080016,
    0x0040A010, 0x0040DB73, 0x0040A504,
}  # fmt: skip
TAGS = [0x0040A160, 0x0040A040, 0x00100010, 0x00080005, 0x0040A730, 0x00091010, 0x7FE00010]


@dataclass(frozen=True)
class Raw:
    """One element as it sits in the file: where its tag, VR, length and value are."""

    start: int
    vr_at: int | None  # None: an item or a delimiter (no VR)
    length_at: int
    length_size: int
    value_at: int
    length: int
    tag: int


def raw_elements(data: bytes) -> list[Raw]:
    """The elements of an explicit VR little endian Part 10 file, items and nested ones
    included, in file order (as far as the bytes make sense)."""
    pos, out = 132, []
    while pos + 8 <= len(data):
        group, number = struct.unpack_from("<HH", data, pos)
        tag = group << 16 | number
        if group == 0xFFFE:  # item, item delimiter, sequence delimiter: step into it
            length = struct.unpack_from("<I", data, pos + 4)[0]
            out.append(Raw(pos, None, pos + 4, 4, pos + 8, length, tag))
            pos += 8
            continue
        vr = data[pos + 4 : pos + 6]
        if vr in LONG_VRS:
            if pos + 12 > len(data):
                break
            length = struct.unpack_from("<I", data, pos + 8)[0]
            out.append(Raw(pos, pos + 4, pos + 8, 4, pos + 12, length, tag))
            pos = pos + 12 if vr == b"SQ" else pos + 12 + length
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            out.append(Raw(pos, pos + 4, pos + 6, 2, pos + 8, length, tag))
            pos += 8 + length
    return out


def _with_length(data: bytearray, raw: Raw, length: int) -> None:
    limit = 0xFFFF if raw.length_size == 2 else 0xFFFFFFFF
    fmt = "<H" if raw.length_size == 2 else "<I"
    data[raw.length_at : raw.length_at + raw.length_size] = struct.pack(fmt, min(length, limit))


def mutate(base: bytes, control: str, blob: bytes) -> bytes:
    """Up to 4 mutations, 3 characters of `control` each: which element (odd: one of the
    TARGETS), what to do, and a parameter (a payload, a VR, a tag, an offset)."""
    data = bytearray(base)
    for start in range(0, len(control) - 2, 3):
        pick, action, parameter = (op(c) for c in control[start : start + 3])
        elements = raw_elements(bytes(data))
        aimed = [e for e in elements if e.tag in TARGETS]
        pool = aimed if pick % 2 and aimed else elements
        if not pool:
            break
        raw = pool[(pick // 2) % len(pool)]
        payload = PAYLOADS[parameter % len(PAYLOADS)] if parameter < 240 else blob
        # A length past the end of the file (a mutation made it) counts to the end.
        end = min(raw.value_at + (0 if raw.length == 0xFFFFFFFF else raw.length), len(data))
        length = end - raw.value_at
        match action % 10:
            case 0 if raw.vr_at is not None:  # a wrong VR
                data[raw.vr_at : raw.vr_at + 2] = VRS[parameter % len(VRS)]
            case 1 if raw.vr_at is not None and raw.length != 0xFFFFFFFF:  # another value
                value = payload[: 0xFFFF if raw.length_size == 2 else None]
                data[raw.value_at : end] = value
                _with_length(data, raw, len(value))
            case 2 if raw.length != 0xFFFFFFFF:  # another value, the length kept
                value = (payload * (length // max(len(payload), 1) + 1))[:length]
                data[raw.value_at : end] = value.ljust(length, b" ")
            case 3:  # dropped (a sequence or item: its header only)
                data[raw.start : raw.value_at if raw.length == 0xFFFFFFFF else end] = b""
            case 4:  # a wrong length
                lengths = [0, 1, length + 1, length * 2 + 7, 0xFFFF, 0xFFFFFFFF]
                _with_length(data, raw, lengths[parameter % len(lengths)])
            case 5:  # another tag
                struct.pack_into("<HH", data, raw.start, TAGS[parameter % len(TAGS)] >> 16,
                                 TAGS[parameter % len(TAGS)] & 0xFFFF)  # fmt: skip
            case 6:  # a byte flipped
                at = min(raw.start + parameter % 16, len(data) - 1)
                data[at] ^= 0xFF if blob[:1] == b"" else blob[0] or 1
            case 7:  # the file cut
                del data[raw.start + parameter % 16 :]
            case 8:  # bytes inserted
                data[raw.start : raw.start] = blob or payload
            case 9:  # the element repeated
                data[end:end] = data[raw.start : end]
            case _:
                pass
    return bytes(data)


def _undefined_lengths(dataset: Dataset) -> None:
    for element in dataset:
        if element.VR == "SQ":
            element.is_undefined_length = True
            for item in element.value:
                item.is_undefined_length_sequence_item = True
                _undefined_lengths(item)


def _written(dataset: Dataset) -> bytes:
    out = io.BytesIO()
    dcmwrite(out, dataset, enforce_file_format=True)
    return out.getvalue()


def _variants(dataset: Dataset) -> Iterator[Dataset]:
    """The dataset with undefined lengths, and with parts of its content tree taken out."""
    undefined = copy.deepcopy(dataset)
    _undefined_lengths(undefined)
    yield undefined
    for keyword in ("ConceptNameCodeSequence", "ValueType", "TextValue", "RelationshipType"):
        variant = copy.deepcopy(dataset)
        for container in variant.ContentSequence:
            for item in container.get("ContentSequence", []):
                if keyword in item:
                    delattr(item, keyword)
        yield variant
    empty = copy.deepcopy(dataset)
    empty.ContentSequence[-1].ContentSequence = []
    yield empty
    names = copy.deepcopy(dataset)
    names.PatientName = f"{MARKER}^Jane"
    names.SpecificCharacterSet = "ISO_IR 192"
    names.ContentSequence[0].PersonName = f"{MARKER}^Ω"
    yield names


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("fuzz-sr")
    found: list[bytes] = []
    for flavour in sorted(FLAVOURS):
        for scheme in ("LN", "DCM"):
            sections = {"findings": FINDINGS, "impression": IMPRESSION}
            path = make_sr(folder / f"{flavour}-{scheme}.dcm", sections, flavour, scheme)
            found.append(path.read_bytes())
            found.extend(_written(v) for v in _variants(dcmread(path)))
    for name in ("reportsi.dcm", "test-SR.dcm"):
        found.append(Path(get_testdata_file(name)).read_bytes())
    for data in found:  # the mutations find their elements in every base
        assert raw_elements(data)
        # One-time work (imports, code tables) is done before any read is timed; a variant
        # without concept names or values may hold no report text.
        with contextlib.suppress(InputError):
            read_bytes(Path("base.dcm"), data)
    return found


@pytest.fixture(scope="module")
def summary(request: pytest.FixtureRequest) -> Iterator[dict[str, Tally]]:
    with tallies(request) as found:
        yield found


def _check(data: bytes) -> None:
    try:
        outcome = read_bytes(Path("report.dcm"), data)
    except InputError as error:
        assert MARKER not in str(error), "an error message quotes a value"
        return
    (report,) = outcome.reports
    assert report.text.strip()
    report.text.encode("utf-8")  # Unicode, no lone surrogate


def test_mutated_sr_files(summary: dict[str, Tally], bases: list[bytes]) -> None:
    count = tally(summary, "dicom sr: mutated files")

    @fuzz_settings()
    @given(base=st.sampled_from(bases), control=ops(12), blob=st.binary(max_size=64))
    @example(base=bases[0], control="\ue001\ue001\ue000", blob=b"")  # a malformed value
    def check(base: bytes, control: str, blob: bytes) -> None:
        data = mutate(base, control, blob)
        note_input(base=bases.index(base), control=control, blob=blob)
        with count.timed():
            _check(data)

    check()
    count.done(fuzz_settings().max_examples)
