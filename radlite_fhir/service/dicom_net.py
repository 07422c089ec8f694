"""The service's DICOM network edge: a C-STORE SCP that drops received SRs into the inbox, and a
C-STORE SCU that sends result SRs to the configured destination.

Received SRs take the same path as dropped files (claim, ledger, error folder, retries): the
SCP only writes each instance atomically into the inbox. What the SCP guarantees a sender:

- Success only for a file the worker will read: the SOP Instance UID must be a valid DICOM
  UID (PS3.5 9.1: digits and single dots, no leading zero in a component, at most 64
  characters), so no name can start with "." (hidden: the worker skips it), hold "/" or
  escape the inbox; any other UID is refused with 0xC000 (Cannot understand).
- Bounded resources: datasets stream to a temporary file, never whole into memory
  (pynetdicom's STORE_RECV_CHUNKED_DATASET); a dataset over `max_dataset_bytes` is refused
  with 0xA700 (Out of resources), and one still streaming past twice the cap is cut off with
  an A-ABORT and its partial file removed.
- Nothing overwritten: the first instance of a UID is `<uid>.dcm`; while that file is still in
  the inbox, a re-sent instance of the same UID becomes `<uid>_2.dcm`, `<uid>_3.dcm`, ... ("_"
  never occurs in a UID, so the names cannot meet another instance's). The drop folder's
  duplicate policy then decides (identical content is recognised by its digest).

When a list of calling AE titles is set, associations from any other title are rejected. The
listener binds where it is told; binding a non-loopback address with no such list is logged
as a warning, since any AE that can reach the port may then store into the inbox.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import re
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from radlite_fhir.errors import ConfigError

log = logging.getLogger("radlite.service")
DEFAULT_MAX_DATASET_MB = 20.0  # the worker's default input cap: a larger SR would be refused
MAX_COPIES = 999  # re-sent instances of one UID waiting in the inbox at once
_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


class StoreStatus(IntEnum):
    """C-STORE response statuses this product sends or checks (PS3.4 Table B.2-1)."""

    SUCCESS = 0x0000
    OUT_OF_RESOURCES = 0xA700
    CANNOT_UNDERSTAND = 0xC000


def is_dicom_uid(text: str) -> bool:
    """A UID as PS3.5 9.1 defines it, which is also a safe file name stem."""
    return 0 < len(text) <= 64 and _UID.fullmatch(text) is not None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"; False for 0.0.0.0 and every other address."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip()).is_loopback
    except ValueError:
        return False


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


class InboxWriter:
    """Puts a received dataset into the inbox under a name no other file has: written to a
    hidden temporary file (the worker skips dot-files), fsynced, then hard-linked to the first
    free name (a link never replaces an existing file, even against another process). Where
    the file system has no hard links, a lock and an existence check do the same for this
    process, the only writer of these names."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self._lock = threading.Lock()

    def store(self, received: Path, uid: str) -> Path:
        handle, name = tempfile.mkstemp(prefix=f".{uid}.", suffix=".tmp", dir=self.inbox)
        tmp = Path(name)
        try:
            with os.fdopen(handle, "wb") as out, received.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            return self._place(tmp, uid)
        finally:
            tmp.unlink(missing_ok=True)

    def _place(self, tmp: Path, uid: str) -> Path:
        for number in range(1, MAX_COPIES + 1):
            target = self.inbox / (f"{uid}.dcm" if number == 1 else f"{uid}_{number}.dcm")
            try:
                os.link(tmp, target)
                return target
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
            with self._lock:
                if not target.exists():
                    os.replace(tmp, target)
                    return target
        raise OSError(errno.EEXIST, f"{MAX_COPIES} instances of one UID wait in the inbox")


class _StreamGuard:
    """Counts the dataset bytes arriving on each association (P-DATA fragments, before they
    reach the temporary file) and aborts an association whose dataset passes `limit`: a
    sender cannot fill the disk with one endless C-STORE."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.received: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self.cut_off: weakref.WeakSet[Any] = weakref.WeakSet()

    def on_pdu(self, event: Any) -> None:
        items = getattr(event.pdu, "presentation_data_value_items", None)
        if not items or event.assoc in self.cut_off:
            return
        total = self.received.get(event.assoc, 0)
        for item in items:
            data = item.data  # the message control header byte, then the fragment
            if not data or data[0] & 1:  # a command fragment
                continue
            total += len(data) - 1
            if total > self.limit:
                self._cut_off(event.assoc)
                total = 0
            elif data[0] & 2:  # the dataset's last fragment: the next one starts afresh
                total = 0
        self.received[event.assoc] = total

    def _cut_off(self, assoc: Any) -> None:
        self.cut_off.add(assoc)
        log.error(
            "C-STORE aborted: dataset still streaming past the limit",
            extra={"calling_ae": assoc.requestor.ae_title, "reason": f"over {self.limit} bytes"},
        )
        message = getattr(getattr(assoc, "dimse", None), "message", None)
        partial = getattr(message, "_data_set_path", None)  # pynetdicom's temporary file
        if partial is not None:
            Path(partial).unlink(missing_ok=True)
        assoc.abort(block=False)  # inside pynetdicom's thread: queue the A-ABORT, do not wait


def start_listener(
    ae_title: str,
    host: str,
    port: int,
    inbox: Path,
    allowed_callers: tuple[str, ...],
    *,
    max_dataset_bytes: int = int(DEFAULT_MAX_DATASET_MB * 1_000_000),
) -> Any:
    """A running C-STORE SCP (and C-ECHO) in a background thread; `.shutdown()` stops it and
    `.server_address` gives the bound port."""
    from pynetdicom import AE, _config, evt
    from pynetdicom.sop_class import Verification

    _config.STORE_RECV_CHUNKED_DATASET = True  # datasets go to a temporary file, not memory
    ae = AE(ae_title=ae_title)
    for sop_class in _sr_storage_classes():
        ae.add_supported_context(sop_class)
    ae.add_supported_context(Verification)
    if allowed_callers:
        ae.require_calling_aet = list(allowed_callers)
    elif not is_loopback(host):
        log.warning(
            "dicom listening beyond loopback with no calling-AE allow-list: any AE that "
            "reaches the port can store into the inbox (set allowed callers)",
            extra={"port": port, "reason": f"bind address {host}"},
        )
    inbox.mkdir(parents=True, exist_ok=True)
    writer = InboxWriter(inbox)
    guard = _StreamGuard(2 * max_dataset_bytes)

    def on_store(event: Any) -> int:
        calling = event.assoc.requestor.ae_title
        uid = str(event.request.AffectedSOPInstanceUID or "")
        if not is_dicom_uid(uid):
            log.error(
                "C-STORE refused: SOP Instance UID is not a DICOM UID (PS3.5 9.1)",
                extra={"calling_ae": calling},
            )
            return StoreStatus.CANNOT_UNDERSTAND
        try:
            received = Path(event.dataset_path)
            size = received.stat().st_size
            if size > max_dataset_bytes:
                log.error(
                    "C-STORE refused: dataset over the size limit",
                    extra={
                        "calling_ae": calling,
                        "reason": f"{size} bytes, limit {max_dataset_bytes}",
                    },
                )
                return StoreStatus.OUT_OF_RESOURCES
            written = writer.store(received, uid)
        except OSError as exc:
            log.error(
                "C-STORE not stored",
                extra={"calling_ae": calling, "reason": exc.strerror or type(exc).__name__},
            )
            return StoreStatus.OUT_OF_RESOURCES
        log.info("C-STORE received", extra={"calling_ae": calling, "file": written.name})
        return StoreStatus.SUCCESS

    return ae.start_server(
        (host, port),
        block=False,
        evt_handlers=[(evt.EVT_C_STORE, on_store), (evt.EVT_PDU_RECV, guard.on_pdu)],
    )


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
    if code != StoreStatus.SUCCESS:
        raise SendError(
            f"{path.name}: {destination.ae_title} answered C-STORE with status "
            f"{'none' if code is None else hex(code)}"
        )
