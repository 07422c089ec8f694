"""Which worker owns a claim: an advisory lock per claim, held while the claim is in work/.

Several workers (processes of `radlite watch --workers N`, or services started by hand on
one state folder) share one inbox, one work/ folder and one ledger. Claiming is already
exclusive (an atomic rename out of the inbox), but a claim left in work/ is picked up again
by `Service.claimed()`: after a crash that is recovery, while its worker lives it would be
the same file done twice at once. So the worker that claims a file holds an exclusive
`flock` on locks/<claim>.lock until the claim is settled. The kernel drops the lock when the
process dies (SIGKILL included), so a dead worker's claims become free to the others, and a
live worker's claims (in processing, or waiting for a retry) are skipped.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class ClaimLocks:
    """The locks this process holds, by claim name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._held: dict[str, int] = {}

    def _path(self, claim: str) -> Path:
        return self.folder / f"{claim}.lock"

    def holds(self, claim: str) -> bool:
        return claim in self._held

    def try_hold(self, claim: str) -> bool:
        """Take the claim's lock unless another live process holds it. True when this process
        holds it now (already or newly)."""
        if claim in self._held:
            return True
        descriptor = os.open(self._path(claim), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._held[claim] = descriptor
        return True

    def sweep(self, live_claims: set[str]) -> None:
        """Remove the lock files of claims that left work/ while their worker died between
        settling and releasing (free, and no folder by that name)."""
        for lock in self.folder.glob("*.lock"):
            claim = lock.name.removesuffix(".lock")
            if claim not in live_claims and self.try_hold(claim):
                self.release(claim)

    def release(self, claim: str) -> None:
        """Give the lock up once the claim has left work/ (its lock file is removed first, so
        a worker that opens the name afterwards finds no claim folder to work on)."""
        descriptor = self._held.pop(claim, None)
        if descriptor is None:
            return
        self._path(claim).unlink(missing_ok=True)
        os.close(descriptor)
