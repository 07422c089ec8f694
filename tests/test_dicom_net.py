"""`radlite dicom listen` against a real PACS: Orthanc (Debian package) on loopback sends a
source SR by C-STORE, the product enriches it and C-STOREs its result SR back; Orthanc's REST
API shows the result in the same study, parsed."""

from __future__ import annotations

import json
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
from pydicom import dcmread

from radlite_fhir.errors import ConfigError
from radlite_fhir.readers import read_path
from radlite_fhir.service.dicom_net import Destination
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
