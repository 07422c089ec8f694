"""What the drop folder needs to know about filesystems: which one a path is on, whether it
is a network filesystem, and how to move a file durably between two of them.

Why: SQLite's WAL needs shared memory that network filesystems do not provide (the ledger
must sit on a local disk), and rename(2) cannot cross filesystems (EXDEV), so a claim from an
inbox on a share into a local state folder is a copy, an fsync and an unlink.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

MOUNTS = Path("/proc/mounts")
# fs types (the third field of /proc/mounts) on which SQLite WAL and rename atomicity are not
# to be trusted; a type that starts with one of the prefixes counts too (smb3, nfs4, ...).
NETWORK_FS_PREFIXES = (
    "nfs",
    "cifs",
    "smb",
    "afs",
    "ceph",
    "glusterfs",
    "lustre",
    "gpfs",
    "9p",
    "ncpfs",
    "coda",
    "fuse.sshfs",
    "fuse.glusterfs",
    "fuse.ceph",
    "fuse.s3fs",
    "fuse.rclone",
    "fuse.gcsfuse",
    "fuse.cifs",
    "fuse.smbnetfs",
    "davfs",
    "fuse.davfs",
)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Mount:
    point: Path
    fs_type: str


def parse_mounts(text: str) -> list[Mount]:
    """The mounts in /proc/mounts text (`device point type options ...`; spaces in a mount
    point written as \\040)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            point = _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[1])
            mounts.append(Mount(Path(point), fields[2]))
    return mounts


def mount_of(path: Path, mounts: list[Mount] | None = None) -> Mount | None:
    """The mount `path` (resolved; it need not exist yet) lies on: the longest mount point
    above it, the last mounted where two share a point. None where /proc/mounts is absent."""
    if mounts is None:
        try:
            mounts = parse_mounts(MOUNTS.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None
    target = path.resolve()
    best: Mount | None = None
    for mount in mounts:
        if (target == mount.point or mount.point in target.parents) and (
            best is None or len(mount.point.parts) >= len(best.point.parts)
        ):
            best = mount
    return best


def is_network(fs_type: str) -> bool:
    return fs_type.lower().startswith(NETWORK_FS_PREFIXES)


def network_fs_type(path: Path, mounts: list[Mount] | None = None) -> str | None:
    """The network filesystem type `path` is on, or None when it is local (or unknown)."""
    mount = mount_of(path, mounts)
    return mount.fs_type if mount is not None and is_network(mount.fs_type) else None


def local_state_home() -> Path:
    """Where state goes when the default beside the inbox is on a network filesystem:
    $XDG_STATE_HOME/radlite-fhir, else ~/.local/state/radlite-fhir."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "radlite-fhir"


def local_state_dir(inbox: Path) -> Path:
    """A state folder on the local disk for `inbox`, named after it and its path's digest
    (two inboxes with one name keep two ledgers)."""
    resolved = inbox.resolve()
    digest = hashlib.sha256(os.fsencode(resolved)).hexdigest()[:12]
    return local_state_home() / f"{resolved.name or 'inbox'}-{digest}"


def same_filesystem(first: Path, second: Path) -> bool:
    """Whether both folders are on one device (a rename between them may still fail with
    EXDEV across two mounts of one filesystem; the claim handles that too)."""
    return os.stat(first).st_dev == os.stat(second).st_dev


def copy_durably(source: Path, target: Path) -> None:
    """Copy the regular file `source` to `target` (via a temporary name beside it), fsync the
    data and the folder. `source` is opened without following a symbolic link and without
    blocking on a FIFO; anything but a regular file raises OSError."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(source, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(source))
        tmp = target.with_name(f".{target.name}.copy.tmp")
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while chunk := os.read(fd, COPY_CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view) :]
            os.fsync(out)
        finally:
            os.close(out)
        os.replace(tmp, target)
    finally:
        os.close(fd)
    fsync_folder(target.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename or unlink in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a folder; the data itself is synced
    finally:
        os.close(fd)
