"""N workers on one inbox: claims are exclusive while their worker lives and free once it
dies (SIGKILL included); `radlite watch --workers N` loses and duplicates nothing when one of
its workers is killed mid-run."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radlite_fhir.engine.registry import Registry
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.service.claims import ClaimLocks
from radlite_fhir.service.ledger import Ledger
from radlite_fhir.service.settings import WatchSettings
from radlite_fhir.service.worker import Service
from tests.conftest import SAMPLES

SOURCE = json.loads((SAMPLES / "us-thyroid-tirads.json").read_text(encoding="utf-8"))


def _worker(root: Path) -> Service:
    """A Service as one worker process has it (no model is loaded until a file is done)."""
    settings = WatchSettings(
        inbox=root / "inbox",
        outbox=root / "outbox",
        state_dir=root / "state",
        tasks="rads",
        model="smollm2-135m",
        min_age_ms=0,
        metrics_port=0,
    )
    return Service(settings, Pipeline(Registry.load(), PipelineSettings(tasks=("rads",))))


def test_a_live_workers_claim_is_not_taken_by_another(home: Path, tmp_path: Path) -> None:
    first, second = _worker(tmp_path), _worker(tmp_path)  # two lock holders, as two processes
    (tmp_path / "inbox" / "a.json").write_text(json.dumps(SOURCE), encoding="utf-8")
    taken = first.claim(tmp_path / "inbox" / "a.json")
    assert taken is not None and taken.exists()
    assert first.claimed() == [taken]  # its own claim, due now
    assert second.claimed() == []  # in work/, but another worker's
    first.locks.release(taken.parent.name)  # as the kernel does when `first` dies
    assert second.claimed() == [taken]
    assert first.claimed() == []


def _hold_then_wait(folder: Path, claim: str, ready: multiprocessing.Event) -> None:
    locks = ClaimLocks(folder)
    assert locks.try_hold(claim)
    ready.set()
    time.sleep(600)


def test_a_killed_workers_claims_become_free(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_then_wait, args=(tmp_path, "c1", ready))
    holder.start()
    assert ready.wait(60)
    mine = ClaimLocks(tmp_path)
    assert not mine.try_hold("c1")
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(30)
    assert mine.try_hold("c1")
    mine.release("c1")
    assert not (tmp_path / "c1.lock").exists()


def test_lock_files_of_settled_claims_are_swept(tmp_path: Path) -> None:
    locks = ClaimLocks(tmp_path)
    (tmp_path / "gone.lock").write_text("")  # its worker died after settling the claim
    (tmp_path / "live.lock").write_text("")
    locks.sweep({"live"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.lock"]


def _children(pid: int) -> list[int]:
    """The supervisor's worker processes (multiprocessing's spawned children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                found.append(int(child))
    return found


def _pending(inbox: Path, state: Path) -> list[Path] | None:
    """What still waits in the inbox or in a work folder; None when a work folder was removed
    while it was being listed (the service finished it meanwhile): look again."""
    try:
        return list(inbox.iterdir()) + list((state / "work").glob("*/*"))
    except FileNotFoundError:
        return None


@pytest.mark.model
def test_watch_with_two_workers_survives_a_killed_worker(
    home_with_models: Path, tmp_path: Path
) -> None:
    inbox, outbox, state = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "state"
    inbox.mkdir()
    names = [f"report-{i:02d}.json" for i in range(24)]
    for number, name in enumerate(names):
        (inbox / name).write_text(json.dumps({**SOURCE, "id": f"syn-w-{number}"}), "utf-8")
    command = [
        sys.executable, "-m", "radlite_fhir.cli", "watch", "--workers", "2",
        "--inbox", str(inbox), "--outbox", str(outbox), "--state-dir", str(state),
        "--model", "smollm2-135m", "--tasks", "rads", "--min-age-ms", "0",
        "--metrics-port", "0", "--threads", "1",
    ]  # fmt: skip
    log = tmp_path / "service.log"
    with log.open("wb") as sink:
        supervisor = subprocess.Popen(command, stderr=sink)
    try:
        deadline = time.time() + 600
        ledger_file = state / "ledger.sqlite3"
        while time.time() < deadline:  # kill a worker once both are working
            done = Ledger(ledger_file).counts().get("done", 0) if ledger_file.exists() else 0
            if done >= 3 and len(_children(supervisor.pid)) == 2:
                break
            time.sleep(0.2)
        victims = _children(supervisor.pid)
        assert len(victims) == 2, "the supervisor did not run two workers"
        os.kill(victims[0], signal.SIGKILL)
        while time.time() < deadline:
            left = _pending(inbox, state)
            if left == []:
                break
            time.sleep(0.5)
        assert left == [], f"not drained: {sorted(p.name for p in left or [])}"
        assert len(_children(supervisor.pid)) == 2, "the killed worker was not started again"
    finally:
        supervisor.send_signal(signal.SIGTERM)
        exit_code = supervisor.wait(timeout=300)
    assert exit_code == 0
    assert sorted(p.name for p in (state / "processed").iterdir()) == names
    assert sorted(p.name for p in outbox.iterdir()) == sorted(f"{n}.bundle.json" for n in names)
    assert not list((state / "error").iterdir())
    counts = Ledger(state / "ledger.sqlite3").counts()
    assert counts.get("done") == len(names) and not counts.get("failed")
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(e["event"] == "worker exited" and e.get("status") == -9 for e in events)
    identifiers = [
        entry["request"]["url"]
        for name in names
        for entry in json.loads((outbox / f"{name}.bundle.json").read_text())["entry"]
        if entry["resource"]["resourceType"] == "Observation"
    ]
    assert len(identifiers) == len(set(identifiers)) == len(names)
