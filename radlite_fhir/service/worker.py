"""The drop-folder worker: claim by rename, process one file per `step()`, never lose one.

Folders under the state directory: work/<claim>/<name> (claimed, not finished), processed/,
error/ (with <name>.error.json). A claim is an atomic rename out of the inbox; the ledger row
follows. After a crash at any instant, `recover()` finds every claim folder still in work/
and finishes it: outputs are written atomically under deterministic names with deterministic
identifiers, so doing a file twice writes the same bytes, never a second result.

No input stops the service. Whatever goes wrong while one file is processed is that file's
outcome: an input error or any unexpected exception (RecursionError, UnicodeError, a writer's
SchemaViolation, ...) sends it to error/ at once; a transient one (a model that cannot load,
OSError such as a full disk, a locked ledger) is retried with backoff and sent to error/ after
`max_attempts`. A claim whose processing was started `max_attempts` times and never finished
(the process died on it: a segfault, OOM, SIGKILL) goes to error/ when it is next due, so a
file that kills the process cannot be taken first after every restart forever. Reasons name
the file, the exception type and the element and rule, never report text.

Claiming: the scan lists regular files and symbolic links (by lstat, never following one);
a file is ready when its size and mtime did not change between two scans. The claim renames
it into work/<claim>/, then compares size and mtime again: a file that changed after the
check (still being written, or swapped for a link) is given back to the inbox for the next
scan. A symbolic link, however it got there, goes to error/ unread (reason "Refused"): the
service never follows a link out of the inbox. When the inbox is on another filesystem than
the state folder (rename fails with EXDEV), the claim renames the file within the inbox to
`.radlite-claim.<claim>.<name>` (the atomic step that keeps two workers apart), copies it
into work/, fsyncs, and unlinks it; `recover()` finishes a copy a crash interrupted.

Per file: output names are chosen and reserved in the ledger before anything is written
(`radlite_fhir.naming`, docs/drop-folder-names.md): the whole input name, a version where the
name came before with other content (or refusal, or overwriting, by `name_collision`). The
reading and model work run under a time budget (`max_seconds_per_file`, checked after reading,
before each report and before each model call) and a cap on reports per file; over either,
the file goes to error/ at once. A report the model cannot read (longer than its context) is
that report's error: in the reason file and the ledger row, never a silent "done".
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import json
import logging
import os
import sqlite3
import stat
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from radlite_fhir.budget import TimeBudget
from radlite_fhir.convert import convert_file, write_atomic
from radlite_fhir.errors import InputError, ModelError, RadliteError, printable
from radlite_fhir.naming import Holder, choose, present, versioned
from radlite_fhir.pipeline import Pipeline
from radlite_fhir.report import Status
from radlite_fhir.service import filesystems
from radlite_fhir.service.claims import ClaimLocks
from radlite_fhir.service.ledger import Ledger
from radlite_fhir.service.settings import WatchSettings
from radlite_fhir.writers.fhir import SchemaViolation

log = logging.getLogger("radlite.service")
TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".swp", ".crdownload", "~")
# Failures that may pass on their own; everything else a file causes is permanent.
TRANSIENT: tuple[type[Exception], ...] = (ModelError, OSError, sqlite3.OperationalError)
# Exceptions whose messages are ours or the OS's (paths, element paths, rules), never report
# text; any other exception is described by its type and where it was raised only.
_MESSAGE_IS_SAFE: tuple[type[Exception], ...] = (RadliteError, OSError, SchemaViolation)
HELD_S = 30.0  # how long a claim whose failure could not be recorded waits
STAGING_PREFIX = ".radlite-claim."  # inbox name of a claim being copied to another filesystem
COPY_SUFFIX = ".copy.tmp"  # filesystems.copy_durably's temporary name
RESERVE_TRIES = 100  # output-name choices before the reservation counts as a transient failure


@dataclass
class Metrics:
    processed: int = 0
    failed: int = 0
    duplicates: int = 0
    retries: int = 0
    unparseable: int = 0
    queued: int = 0
    seconds: dict[str, float] = field(
        default_factory=lambda: {"read_model_write": 0.0, "model": 0.0}
    )
    files_timed: int = 0


class Service:
    def __init__(
        self,
        settings: WatchSettings,
        pipeline: Pipeline,
        on_outputs: Callable[[list[Path]], None] | None = None,
    ) -> None:
        """`on_outputs` receives the output files of each input once they are recorded as
        done (the DICOM sender)."""
        self.settings = settings
        self.pipeline = pipeline
        self.on_outputs = on_outputs
        state = settings.state
        self.work, self.processed, self.errors = (
            state / "work",
            state / "processed",
            state / "error",
        )
        for folder in (settings.inbox, settings.outbox, self.work, self.processed, self.errors):
            folder.mkdir(parents=True, exist_ok=True)
        self._cross_device = not filesystems.same_filesystem(settings.inbox, self.work)
        self._check_filesystems(state)
        self.ledger = Ledger(state / "ledger.sqlite3")
        self.locks = ClaimLocks(state / "locks")  # claim ownership among workers
        self.metrics = Metrics()
        self._seen: dict[str, tuple[int, float]] = {}  # name -> (size, mtime) at last scan
        self._ready: deque[Path] = deque()  # ready at the last scan, not yet claimed
        # claim -> time: claims whose failure could not even be recorded (ledger or disk
        # failing), held back in memory so the loop does not spin on them
        self._held: dict[str, float] = {}

    # --- finding and claiming ------------------------------------------------------------
    def _wanted(self, name: str) -> bool:
        if name.startswith(".") or name.endswith(TEMPORARY_SUFFIXES):
            return False
        if not any(fnmatch.fnmatch(name, p) for p in self.settings.include):
            return False
        return not any(fnmatch.fnmatch(name, p) for p in self.settings.exclude)

    def _check_filesystems(self, state: Path) -> None:
        """Say at start what the filesystems mean for this run: a state folder on a network
        filesystem (SQLite WAL is unsafe there), an inbox on another one (claims copied)."""
        network = filesystems.network_fs_type(state)
        if network is not None:
            log.warning(
                "state folder on a network filesystem: keep the ledger on a local disk",
                extra={"state": str(state), "reason": f"filesystem type {network}"},
            )
        if self._cross_device:
            log.info(
                "inbox on another filesystem than the state folder: claims are copied",
                extra={"inbox": str(self.settings.inbox)},
            )

    def ready_files(self) -> list[Path]:
        """Inbox files (and symbolic links, to be refused) old enough and whose size and
        mtime did not change since the last scan; links are never followed."""
        now = time.time()
        ready, seen = [], {}
        with os.scandir(self.settings.inbox) as entries:
            for entry in entries:
                if not (entry.is_file(follow_symlinks=False) or entry.is_symlink()):
                    continue
                if not self._wanted(entry.name):
                    continue
                stat_ = entry.stat(follow_symlinks=False)
                seen[entry.name] = (stat_.st_size, stat_.st_mtime)
                old_enough = (now - stat_.st_mtime) * 1000 >= self.settings.min_age_ms
                if old_enough and self._seen.get(entry.name) == seen[entry.name]:
                    ready.append(Path(entry.path))
        self._seen = seen
        self.metrics.queued = len(seen) + sum(1 for _ in self.work.iterdir())
        return sorted(ready, key=lambda p: p.name)

    def claim(self, path: Path) -> Path | None:
        """Take `path` into work/<claim>/ (see the module docstring). None when another
        worker took it first, or when it changed since the scan found it stable (it is
        given back to the inbox for the next scan)."""
        claim = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}"
        self.locks.try_hold(claim)  # a new name: ours before its folder exists
        try:
            taken = self._claim(path, claim)
        except BaseException:
            self.locks.release(claim)
            raise
        if taken is None:
            self.locks.release(claim)
        return taken

    def _claim(self, path: Path, claim: str) -> Path | None:
        if not self._cross_device:
            folder = self.work / claim
            folder.mkdir()
            target = folder / path.name
            try:
                os.rename(path, target)
            except FileNotFoundError:
                folder.rmdir()
                return None
            except OSError as exc:
                folder.rmdir()
                if exc.errno != errno.EXDEV:
                    raise
                self._cross_device = True  # two mounts of one filesystem, say
                log.info(
                    "inbox on another filesystem than the state folder: claims are copied",
                    extra={"inbox": str(self.settings.inbox)},
                )
            else:
                if self._changed(target, path.name) and _give_back(target, path):
                    folder.rmdir()
                    return None
                self.ledger.receive(claim, path.name, _file_digest(target))
                return target
        staged = path.with_name(f"{STAGING_PREFIX}{claim}.{path.name}")
        try:
            os.rename(path, staged)  # within the inbox: atomic, one worker wins
        except FileNotFoundError:
            return None
        if self._changed(staged, path.name) and _give_back(staged, path):
            return None
        try:
            target = self._finish_staging(staged, claim, path.name)
        except OSError:  # the state disk full, say: back to the inbox, tried again later
            if os.path.lexists(staged):
                _give_back(staged, path)
            raise
        self.ledger.receive(claim, path.name, _file_digest(target))
        return target

    def _changed(self, taken: Path, name: str) -> bool:
        """Whether the entry taken differs (size, mtime, by lstat) from what the scan that
        found it stable saw (a claim without a scan, by a test, say, is not checked)."""
        seen = self._seen.get(name)
        if seen is None:
            return False
        now = os.lstat(taken)
        return (now.st_size, now.st_mtime) != seen

    def _finish_staging(self, staged: Path, claim: str, name: str) -> Path:
        """Copy a claim staged in the inbox into work/<claim>/<name> durably, then remove it
        from the inbox. A symbolic link is copied as a link (to be refused, never read)."""
        folder = self.work / claim
        folder.mkdir(exist_ok=True)
        target = folder / name
        if stat.S_ISLNK(os.lstat(staged).st_mode):
            if not os.path.lexists(target):
                os.symlink(os.readlink(staged), target)
        else:
            filesystems.copy_durably(staged, target)
        staged.unlink()
        filesystems.fsync_folder(staged.parent)
        return target

    # --- doing the work ------------------------------------------------------------------
    def claimed(self) -> list[Path]:
        """Claimed inputs not yet finished, oldest claim first, whose retry time has come."""
        out = []
        for folder in sorted(p for p in self.work.iterdir() if p.is_dir()):
            if not self.locks.try_hold(folder.name):
                continue  # another live worker's claim (processing, or waiting for a retry)
            try:
                entries = list(folder.iterdir())
            except FileNotFoundError:  # settled by its worker since the listing
                self.locks.release(folder.name)
                continue
            files = [f for f in entries if not f.name.startswith(".")]
            if not files:
                # a crash after the move out, before the folder was removed, or in a copy
                # from another filesystem (`recover` copies again from the inbox)
                for leftover in entries:
                    leftover.unlink()
                folder.rmdir()
                self.locks.release(folder.name)
                continue
            if self._held.get(folder.name, 0.0) > time.time():
                continue
            row = self.ledger.get(folder.name)
            if row is None:  # crash between the rename and the ledger row
                self.ledger.receive(folder.name, files[0].name, _file_digest(files[0]))
                row = self.ledger.get(folder.name)
            if row is not None and row["not_before"] <= time.time():
                out.append(files[0])
        return out

    def step(self) -> bool:
        """Do one unit of work: finish a claim that is due (left by a crash, or waiting for a
        retry), else claim and process the next ready inbox file. False when idle.

        The inbox is scanned only when the list of ready files from the last scan is used up,
        so 10,000 waiting files cost one scan per 10,000 files, and at most one claim is in
        work/ at a time in normal operation (claims waiting for a retry add to it).

        A failure of the service's own bookkeeping (the ledger or the state folder failing,
        outside any one file's processing) is logged and reported as idle, so the loop waits
        its poll interval and tries again instead of exiting."""
        try:
            return self._step()
        except Exception as exc:
            log.error("step failed, will try again", extra={"reason": describe_exception(exc)})
            return False

    def _step(self) -> bool:
        pending = self.claimed()
        if pending:
            self.process(pending[0])
            return True
        if not self._ready:
            self._ready.extend(self.ready_files())
        while self._ready:
            claimed = self.claim(self._ready.popleft())
            if claimed is not None:
                self.process(claimed)
                return True
        return False

    def process(self, path: Path) -> None:
        """Process one claimed file. Any exception is this file's failure (see the module
        docstring); none reaches the caller."""
        claim = path.parent.name
        try:
            self._process(path, claim)
        except Exception as exc:
            self._contain(path, claim, exc)

    def _process(self, path: Path, claim: str) -> None:
        row = self.ledger.get(claim)
        if row is None:
            raise sqlite3.OperationalError(f"no ledger row for claim {claim}")
        if row["attempts"] >= self.settings.max_attempts:
            last = row["error"] or "the service stopped while processing it (crash or kill)"
            self._fail(
                path,
                claim,
                [InputError(path.name, f"gave up after {row['attempts']} attempts: {last}")],
                "Interrupted" if row["error"] is None else "GaveUp",
            )
            return
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            problem = f"{kind}: refused, never followed or read"
            self._fail(path, claim, [InputError(path.name, problem)], "Refused")
            return
        self.ledger.start(claim)
        earlier = self.ledger.done_with_content(row["sha256"], claim)
        if earlier is not None and self.settings.duplicates == "skip":
            self._settle(path, claim, "duplicate", json.loads(earlier["outputs"] or "[]"))
            self.metrics.duplicates += 1
            log.info(
                "duplicate skipped",
                extra={"file": printable(path.name), "same_as": earlier["claim"]},
            )
            return
        base = self._output_base(path.name, claim, row)
        started = time.perf_counter()
        results = self.settings.results
        outcome = convert_file(
            self.pipeline,
            path,
            self.settings.outbox,
            results.output_format,
            results.max_bytes,
            base=base,
            budget=TimeBudget(self.settings.max_seconds_per_file),
            max_reports=self.settings.max_reports_per_file,
        )
        seconds = time.perf_counter() - started
        self.metrics.seconds["read_model_write"] += seconds
        self.metrics.seconds["model"] += sum(t.seconds for f in outcome.findings for t in f.timings)
        self.metrics.files_timed += 1
        self.metrics.unparseable += sum(
            1 for f in outcome.findings for r in f.results if r.status is Status.UNPARSEABLE
        )
        if outcome.errors and not outcome.outputs:
            self._fail(path, claim, outcome.errors)
            return
        outputs = [output.name for output in outcome.outputs]
        partial = None
        if outcome.errors:  # bad NDJSON lines, reports the model could not read: recorded
            self._write_reason(path.name, outcome.errors)
            partial = "InputError: " + "; ".join(_located(e) for e in outcome.errors)
        self._settle(path, claim, "done", outputs, partial)
        self.metrics.processed += 1
        if self.on_outputs is not None and outcome.outputs:
            self.on_outputs(outcome.outputs)
        log.info(
            "file done",
            extra={
                "file": printable(path.name),
                "outputs": [printable(o) for o in outputs],
                "seconds": round(seconds, 3),
            },
        )

    def _output_base(self, name: str, claim: str, row: sqlite3.Row) -> str:
        """The name this input's outputs start with: the one reserved by an earlier attempt
        (a redo writes the same names), else chosen by `name_collision` and reserved now.
        NameTaken (refuse) is this file's permanent failure."""
        reserved = row["output_base"]
        if reserved:
            return _unprintable_base(name, reserved)
        for _ in range(RESERVE_TRIES):
            choice = choose(
                name,
                self.settings.name_collision,
                lambda base: self._holder(base, claim, row["sha256"]),
            )
            if self.ledger.reserve(claim, printable(choice.base), choice.replaces):
                if choice.overwrite:
                    log.warning(
                        "earlier result overwritten",
                        extra={
                            "file": printable(name),
                            "outputs": [printable(choice.base)],
                            "same_as": choice.replaces or "a file in the outbox",
                        },
                    )
                elif choice.base != name:
                    log.info(
                        "name seen before, new version",
                        extra={"file": printable(name), "outputs": [printable(choice.base)]},
                    )
                return choice.base
        raise sqlite3.OperationalError("no output name could be reserved (busy ledger)")

    def _holder(self, base: str, claim: str, sha256: str) -> Holder | None:
        """Who holds the output name `base`: another ledger row, or a file in the outbox
        that no row accounts for; None when it is free (or ours)."""
        row = self.ledger.holder(printable(base))
        if row is not None and row["claim"] != claim:
            return Holder(row["claim"], row["state"] == "done" and row["sha256"] == sha256)
        if row is None and present(self.settings.outbox, base, self.settings.format):
            return Holder(None)
        return None

    def _contain(self, path: Path, claim: str, exc: Exception) -> None:
        """Make `exc`, raised while `path` was processed, that file's outcome: retried later
        (transient) or the file moved to error/ with its reason. When even that fails (the
        ledger or the disk), the claim is held back in memory and the loop goes on."""
        reason = describe_exception(exc)
        try:
            if not path.exists():  # settled before the failure (in the DICOM sender, say)
                log.error("failure after the file was settled", extra={"reason": reason})
                return
            row = self.ledger.get(claim)
            attempts = max(1, row["attempts"] if row is not None else 1)
            if isinstance(exc, TRANSIENT):
                self._transient(path, claim, attempts, reason)
            else:
                self._fail(path, claim, [_as_input_error(path, exc)], type(exc).__name__)
        except Exception as second:
            delay = HELD_S
            self._held[claim] = time.time() + delay
            log.error(
                "failure could not be recorded, claim held back",
                extra={
                    "file": printable(path.name),
                    "reason": f"{reason}; then {describe_exception(second)}",
                    "retry_in_s": delay,
                },
            )

    def _transient(self, path: Path, claim: str, attempts: int, reason: str) -> None:
        if attempts >= self.settings.max_attempts:
            self._fail(
                path,
                claim,
                [InputError(path.name, f"gave up after {attempts} attempts: {reason}")],
                "GaveUp",
            )
            return
        delay = min(300.0, 2.0**attempts)
        self.ledger.retry_later(claim, reason, delay)
        self.metrics.retries += 1
        log.warning(
            "transient failure, will retry",
            extra={
                "file": printable(path.name),
                "attempt": attempts,
                "retry_in_s": delay,
                "reason": reason,
            },
        )

    def _fail(
        self, path: Path, claim: str, errors: list[InputError], exception: str = "InputError"
    ) -> None:
        """Reason file, ledger row, then the file into error/ (a crash in between redoes it)."""
        self._write_reason(path.name, errors, exception)
        problems = "; ".join(e.problem for e in errors)
        self.ledger.finish(claim, "failed", error=f"{exception}: {problems}")
        os.replace(path, _free_name(self.errors / path.name))
        path.parent.rmdir()
        self.locks.release(claim)
        self._held.pop(claim, None)
        self.metrics.failed += 1
        log.warning(
            "file failed",
            extra={"file": printable(path.name), "reason": f"{exception}: {problems}"},
        )

    def _write_reason(
        self, name: str, errors: list[InputError], exception: str = "InputError"
    ) -> None:
        """<name>.error.json: the file (printable), the exception type, and each problem
        with its NDJSON line where there is one."""
        reason = {
            "file": printable(name),
            "exception": exception,
            "errors": [{"line": e.line, "error": e.problem} for e in errors],
            "at": time.time(),
        }
        write_atomic(self.errors / f"{name}.error.json", json.dumps(reason, indent=2) + "\n")

    def _settle(
        self, path: Path, claim: str, state: str, outputs: list[str], error: str | None = None
    ) -> None:
        """Ledger first, then the input out of work/ (processed/ or deleted), then the claim
        folder: a crash between any two leaves the file in work/, and redoing it writes the
        same output again (an empty claim folder is removed by `claimed`). `error`: the
        problems of a file done in part (some reports or lines not enriched)."""
        self.ledger.finish(claim, state, outputs=outputs, error=error)
        if self.settings.after_success == "delete":
            path.unlink()
        else:
            os.replace(path, _free_name(self.processed / path.name))
        path.parent.rmdir()
        self.locks.release(claim)
        self._held.pop(claim, None)

    def recover(self) -> int:
        """Remove temporary output files a killed run left (never renamed into place, so
        never a result); return the count of claims left unfinished (redone by `step`, or,
        when their processing was already started `max_attempts` times, sent to error/ by it
        without being processed again)."""
        for stale in self.settings.outbox.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        self.locks.sweep({folder.name for folder in self.work.iterdir()})
        with os.scandir(self.settings.inbox) as entries:
            staged = [Path(e.path) for e in entries if e.name.startswith(STAGING_PREFIX)]
        for path in staged:  # a copy to another filesystem the crash interrupted
            claim, _, name = path.name.removeprefix(STAGING_PREFIX).partition(".")
            try:
                self._finish_staging(path, claim, name)
            except OSError as exc:  # not a file (a FIFO, say): left where it is, said once
                log.error(
                    "interrupted claim cannot be finished",
                    extra={"file": printable(path.name), "reason": describe_exception(exc)},
                )
        return len(self.claimed())


def describe_exception(exc: BaseException) -> str:
    """`Type: message` for exceptions whose messages are ours or the OS's; for any other,
    the type and where it was raised (file:line function), because its message may quote
    report text (ValueError("invalid literal ... 'the text'"))."""
    name = type(exc).__name__
    if isinstance(exc, InputError):
        return f"{name}: {exc.problem}"
    if isinstance(exc, _MESSAGE_IS_SAFE):
        return f"{name}: {printable(str(exc))[:500]}"
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return name
    last = frames[-1]
    return f"{name} at {Path(last.filename).name}:{last.lineno} {last.name}"


def _as_input_error(path: Path, exc: Exception) -> InputError:
    if isinstance(exc, InputError):
        return InputError(path.name, exc.problem, exc.line)
    return InputError(path.name, describe_exception(exc))


def _located(error: InputError) -> str:
    return f"line {error.line}: {error.problem}" if error.line is not None else error.problem


def _unprintable_base(name: str, reserved: str) -> str:
    """The output base a ledger row holds, as a real file name: the ledger stores names
    through `printable`, so the base is rebuilt from the input's own name and the version."""
    shown = printable(name)
    if reserved == shown:
        return name
    version = reserved.removeprefix(f"{shown}.v")
    return versioned(name, int(version)) if version.isdigit() else name


def _give_back(taken: Path, original: Path) -> bool:
    """Put an entry taken out of the inbox back under its name, unless a new file of that name
    arrived meanwhile (then False: the caller keeps the claim). Never follows a link."""
    try:
        os.link(taken, original, follow_symlinks=False)
    except FileExistsError:
        return False
    except OSError:  # no hard links here (or a folder): rename, after a check
        if os.path.lexists(original):
            return False
        os.rename(taken, original)
        return True
    taken.unlink()
    return True


def _free_name(target: Path) -> Path:
    """`target`, or `target` with a counter when a file of that name is already there."""
    if not target.exists():
        return target
    for number in range(1, 1_000_000):
        candidate = target.with_name(f"{target.name}.{number}")
        if not candidate.exists():
            return candidate
    raise OSError(f"no free name for {target}")


def _file_digest(path: Path) -> str:
    """Content sha256, streamed (a 100 MB drop must not be held in memory). A symbolic link
    is not followed (its digest is empty; `_process` refuses it)."""
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
    except OSError:
        return ""
    finally:
        os.close(fd)
    return digest.hexdigest()
