"""`radlite dicom listen` against a real PACS: Orthanc (Debian package) on loopback sends a
source SR by C-STORE, the product enriches it and C-STOREs its result SR back; Orthanc's REST
API shows the result in the same study, parsed. The SCP's edges (UIDs that are no file names,
oversized datasets, re-sent UIDs, binding beyond loopback) over real pynetdicom associations."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydicom import Dataset, dcmread

from radlite_fhir.errors import ConfigError
from radlite_fhir.readers import read_path
from radlite_fhir.service.dicom_net import (
    Destination,
    StoreStatus,
    is_dicom_uid,
    is_loopback,
    start_listener,
)
from tests.conftest import SAMPLES
from tests.sr_files import make_sr

COMPREHENSIVE_3D = "1.2.840.10008.5.1.4.1.1.88.34"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Orthanc:
    http: int
    dicom: int
    ours: int

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}{path}", timeout=30) as reply:
            return json.loads(reply.read())

    def post(self, path: str, body: bytes) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http}{path}", data=body, method="POST"
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            return json.loads(reply.read() or b"{}")


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    peer = Orthanc(_free_port(), _free_port(), _free_port())
    config = tmp_path / "orthanc.json"
    config.write_text(
        json.dumps(
            {
                "Name": "radlite-test",
                "StorageDirectory": str(tmp_path / "orthanc-db"),
                "IndexDirectory": str(tmp_path / "orthanc-db"),
                "HttpPort": peer.http,
                "RemoteAccessAllowed": False,
                "AuthenticationEnabled": False,
                "DicomAet": "ORTHANC",
                "DicomPort": peer.dicom,
                "DicomModalities": {"radlite": ["RADLITE", "127.0.0.1", peer.ours]},
                "Plugins": [],
            }
        )
    )
    log = (tmp_path / "orthanc.log").open("w")
    process = subprocess.Popen(["Orthanc", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                peer.get("/system")
                break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    pytest.fail(f"Orthanc did not start: {(tmp_path / 'orthanc.log').read_text()}")
                time.sleep(0.3)
        yield peer
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _until(check: Any, seconds: float, what: str) -> Any:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.model
def test_orthanc_sends_an_sr_and_gets_the_result_sr_in_the_same_study(
    orthanc: Orthanc, home_with_models: Path, tmp_path: Path
) -> None:
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    mammo = read_path(SAMPLES / "mammo-birads4b.json", 10_000_000).reports[0]
    source = make_sr(
        tmp_path / "source.dcm",
        {
            "findings": mammo.section_text("findings") or "",
            "impression": mammo.section_text("impression") or "",
        },
    )
    stored = orthanc.post("/instances", source.read_bytes())
    study = stored["ParentStudy"]
    state = tmp_path / "state"
    command = [
        sys.executable,
        "-m",
        "radlite_fhir.cli",
        "dicom",
        "listen",
        "--inbox",
        str(tmp_path / "inbox"),
        "--outbox",
        str(tmp_path / "outbox"),
        "--state-dir",
        str(state),
        "--port",
        str(orthanc.ours),
        "--host",
        "127.0.0.1",
        "--allowed-ae",
        "ORTHANC",
        "--send-to",
        f"ORTHANC@127.0.0.1:{orthanc.dicom}",
        "--model",
        "smollm2-135m",
        "--tasks",
        "rads,impression",
        "--min-age-ms",
        "0",
        "--metrics-port",
        "0",
    ]
    log = (tmp_path / "radlite.log").open("w")
    process = subprocess.Popen(command, stderr=log, env=os.environ.copy())
    try:
        _until(
            lambda: orthanc.post("/modalities/radlite/echo", b"{}") == {},
            60,
            "radlite's C-ECHO",
        )
        orthanc.post("/modalities/radlite/store", stored["ID"].encode())
        instances = _until(
            lambda: [
                i for i in orthanc.get(f"/studies/{study}/instances") if i["ID"] != stored["ID"]
            ],
            240,
            "the result SR in Orthanc",
        )
        ours = orthanc.get(f"/instances/{instances[0]['ID']}/simplified-tags")
        assert ours["SOPClassUID"] == COMPREHENSIVE_3D and ours["Manufacturer"] == "radlite-fhir"
        assert (
            ours["StudyInstanceUID"]
            == orthanc.get(f"/studies/{study}")["MainDicomTags"]["StudyInstanceUID"]
        )
        assert ours["VerificationFlag"] == "UNVERIFIED"
        # Orthanc parsed the content tree: the TID 1500 root and our impression text.
        assert ours["ConceptNameCodeSequence"][0]["CodeMeaning"] == "Imaging Measurement Report"
        assert "Qualitative Evaluations" in json.dumps(ours["ContentSequence"])
        received = f"{dcmread(source).SOPInstanceUID}.dcm"  # through the drop-folder path
        assert [p.name for p in (state / "processed").iterdir()] == [received]
        # A calling AE title not on the list is refused.
        intruder = AE(ae_title="INTRUDER")
        intruder.add_requested_context(Verification)
        association = intruder.associate("127.0.0.1", orthanc.ours, ae_title="RADLITE")
        assert not association.is_established and association.is_rejected
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
        log.close()
    assert code == 0, (tmp_path / "radlite.log").read_text()[-2000:]


def test_destination_is_checked_at_start() -> None:
    assert Destination.parse("PACS@10.0.0.5:104") == Destination("PACS", "10.0.0.5", 104)
    for bad in ("PACS@host", "@host:104", "A VERY LONG AE TITLE@h:1"):
        with pytest.raises(ConfigError, match="AE_TITLE@host:port"):
            Destination.parse(bad)


@dataclass
class Listener:
    port: int
    inbox: Path


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    """Our SCP on a free loopback port, 20 kB dataset cap; pynetdicom's temporary files go to
    a private folder the tests can inspect."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    server = start_listener(
        "RADLITE", "127.0.0.1", 0, tmp_path / "inbox", (), max_dataset_bytes=20_000
    )
    try:
        yield Listener(server.server_address[1], tmp_path / "inbox")
    finally:
        server.shutdown()


def _store(port: int, dataset: Dataset) -> tuple[int | None, bool]:
    """C-STORE one dataset as a plain SCU would: (status or None, association aborted)."""
    from pynetdicom import AE

    ae = AE(ae_title="SENDER")
    ae.add_requested_context(dataset.SOPClassUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="RADLITE")
    assert assoc.is_established
    status = getattr(assoc.send_c_store(dataset), "Status", None)
    if status is None:  # no answer: the peer's A-ABORT is on its way
        _until(lambda: not assoc.is_established, 60, "the association to end")
    aborted = assoc.is_aborted
    if assoc.is_established:
        assoc.release()
    return status, aborted


def _sr(tmp_path: Path, text: str, uid: str | None = None) -> Dataset:
    source = tmp_path / "sent" / f"{len(text)}-{hash(text)}.dcm"
    dataset = dcmread(make_sr(source, {"findings": text}))
    if uid is not None:
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = uid
    return dataset


def _findings_text(path: Path) -> str:
    container = dcmread(path).ContentSequence[1]
    return "\n".join(item.TextValue for item in container.ContentSequence)


def test_a_resent_uid_is_kept_apart_never_overwritten(listener: Listener, tmp_path: Path) -> None:
    first = _sr(tmp_path, "Clear lungs.")
    uid = first.SOPInstanceUID
    texts = ["Clear lungs.", "Addendum: a 6 mm nodule in the right upper lobe.", "Third copy."]
    for text in texts:
        assert _store(listener.port, _sr(tmp_path, text, uid)) == (StoreStatus.SUCCESS, False)
    names = [f"{uid}.dcm", f"{uid}_2.dcm", f"{uid}_3.dcm"]
    assert sorted(p.name for p in listener.inbox.iterdir()) == sorted(names)
    assert [_findings_text(listener.inbox / name) for name in names] == texts
    assert all(dcmread(listener.inbox / name).SOPInstanceUID == uid for name in names)


@pytest.mark.parametrize("uid", [".1.2.3", "1.2.3a", "1..2", "1.02.3", "../1.2", "1.2.3."])
def test_a_uid_that_is_not_a_dicom_uid_is_refused_and_nothing_is_written(
    listener: Listener, tmp_path: Path, uid: str
) -> None:
    status, _ = _store(listener.port, _sr(tmp_path, "Clear lungs.", uid))
    assert status == StoreStatus.CANNOT_UNDERSTAND
    assert list(listener.inbox.iterdir()) == []  # no hidden file, nothing outside either
    assert list(listener.inbox.parent.glob("*.dcm")) == []


def test_dicom_uid_rule() -> None:
    assert is_dicom_uid("1.2.840.10008.5.1.4.1.1.88.34") and is_dicom_uid("0.1")
    assert is_dicom_uid("1." * 31 + "12") and not is_dicom_uid("1." * 31 + "123")  # 64 / 65
    assert not any(map(is_dicom_uid, ["", ".", "1.2/3", "1.2 ", "-1.2", "1.2\x00"]))


def test_a_dataset_over_the_cap_is_refused_with_out_of_resources(
    listener: Listener, tmp_path: Path
) -> None:
    status, aborted = _store(listener.port, _sr(tmp_path, "x" * 25_000))
    assert (status, aborted) == (StoreStatus.OUT_OF_RESOURCES, False)
    assert list(listener.inbox.iterdir()) == []
    assert list((tmp_path / "tmp").iterdir()) == []  # pynetdicom's temporary file is gone
    small = _sr(tmp_path, "Clear lungs.")
    assert _store(listener.port, small) == (StoreStatus.SUCCESS, False)
    assert [p.name for p in listener.inbox.iterdir()] == [f"{small.SOPInstanceUID}.dcm"]


def test_a_dataset_streaming_past_twice_the_cap_is_cut_off(
    listener: Listener, tmp_path: Path
) -> None:
    status, aborted = _store(listener.port, _sr(tmp_path, "y" * 200_000))
    assert status is None and aborted
    _until(lambda: not list((tmp_path / "tmp").iterdir()), 60, "the partial file removed")
    assert list(listener.inbox.iterdir()) == []
    small = _sr(tmp_path, "Clear lungs.")  # the listener goes on
    assert _store(listener.port, small) == (StoreStatus.SUCCESS, False)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_binding_beyond_loopback_without_an_allow_list_warns(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5")
    records = _Records()
    service_log = logging.getLogger("radlite.service")
    service_log.addHandler(records)
    try:
        warned = []
        for host, callers in [("0.0.0.0", ()), ("0.0.0.0", ("PACS",)), ("127.0.0.1", ())]:
            records.messages.clear()
            server = start_listener("RADLITE", host, 0, tmp_path / "inbox", callers)
            server.shutdown()
            warned.append(any("allow-list" in m for m in records.messages))
    finally:
        service_log.removeHandler(records)
    assert warned == [True, False, False]


def test_dicom_listen_binds_loopback_and_takes_its_cap_from_the_command_line(
    tmp_path: Path,
) -> None:
    """`radlite dicom listen` without --host binds 127.0.0.1; --max-dataset-mb reaches the
    settings the listener is started with."""
    from radlite_fhir.cli import _watch_settings, build_parser

    common = ["dicom", "listen", "--inbox", str(tmp_path / "in"), "--outbox", str(tmp_path / "out")]
    default = _watch_settings(build_parser().parse_args(common))
    assert default.dicom_host == "127.0.0.1"
    assert default.dicom_max_dataset_mb == 20.0
    chosen = _watch_settings(
        build_parser().parse_args([*common, "--host", "0.0.0.0", "--max-dataset-mb", "2.5"])
    )
    assert (chosen.dicom_host, chosen.dicom_max_dataset_mb) == ("0.0.0.0", 2.5)
