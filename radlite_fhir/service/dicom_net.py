"""The service's DICOM network edge: a C-STORE SCP that drops received SRs into the inbox, and a
C-STORE SCU that sends result SRs to the configured destination.

Received SRs take the same path as dropped files (claim, ledger, error folder, retries): the
SCP only writes each instance atomically into the inbox as `<SOPInstanceUID>.dcm`. When a list
of calling AE titles is set, associations from any other title are rejected.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radlite_fhir.convert import write_atomic
from radlite_fhir.errors import ConfigError

log = logging.getLogger("radlite.service")
SUCCESS, OUT_OF_RESOURCES, CANNOT_UNDERSTAND = 0x0000, 0xA700, 0xC000


def _sr_storage_classes() -> list[str]:
    from pynetdicom import sop_class

    return [
        sop_class.BasicTextSRStorage,
        sop_class.EnhancedSRStorage,
        sop_class.ComprehensiveSRStorage,
        sop_class.Comprehensive3DSRStorage,
        sop_class.ExtensibleSRStorage,
    ]


@dataclass(frozen=True)
class Destination:
    """Where result SRs go: `AE_TITLE@host:port`."""

    ae_title: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Destination:
        match = re.fullmatch(r"([^@\s]{1,16})@([^:\s]+):(\d{1,5})", text.strip())
        if not match:
            raise ConfigError(f"DICOM destination must be AE_TITLE@host:port, not {text!r}")
        return cls(match.group(1), match.group(2), int(match.group(3)))


def start_listener(
    ae_title: str, host: str, port: int, inbox: Path, allowed_callers: tuple[str, ...]
) -> Any:
    """A running C-STORE SCP (and C-ECHO) in a background thread; `.shutdown()` stops it and
    `.server_address` gives the bound port."""
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import Verification

    ae = AE(ae_title=ae_title)
    for sop_class in _sr_storage_classes():
        ae.add_supported_context(sop_class)
    ae.add_supported_context(Verification)
    if allowed_callers:
        ae.require_calling_aet = list(allowed_callers)

    def on_store(event: Any) -> int:
        calling = event.assoc.requestor.ae_title
        try:
            uid = str(event.request.AffectedSOPInstanceUID)
            if not re.fullmatch(r"[0-9.]{1,64}", uid):
                log.error("C-STORE refused: bad SOP Instance UID", extra={"calling_ae": calling})
                return CANNOT_UNDERSTAND
            write_atomic(inbox / f"{uid}.dcm", event.encoded_dataset())
        except OSError as exc:
            log.error("C-STORE not stored", extra={"calling_ae": calling, "reason": str(exc)})
            return OUT_OF_RESOURCES
        log.info("C-STORE received", extra={"calling_ae": calling, "file": f"{uid}.dcm"})
        return SUCCESS

    inbox.mkdir(parents=True, exist_ok=True)
    return ae.start_server((host, port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])


class SendError(RuntimeError):
    """A result SR could not be delivered by C-STORE."""


def send(path: Path, destination: Destination, calling_ae: str) -> None:
    """C-STORE one SR file to the destination; SendError on any failure."""
    from pydicom import dcmread
    from pynetdicom import AE

    dataset = dcmread(path)
    ae = AE(ae_title=calling_ae)
    ae.add_requested_context(dataset.SOPClassUID)
    assoc = ae.associate(destination.host, destination.port, ae_title=destination.ae_title)
    if not assoc.is_established:
        raise SendError(
            f"{path.name}: no association with {destination.ae_title}@"
            f"{destination.host}:{destination.port}"
        )
    try:
        status = assoc.send_c_store(dataset)
    finally:
        assoc.release()
    code = getattr(status, "Status", None)
    if code != SUCCESS:
        raise SendError(
            f"{path.name}: {destination.ae_title} answered C-STORE with status "
            f"{'none' if code is None else hex(code)}"
        )
