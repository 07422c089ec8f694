"""The drop folder's edges (issue 11, items 1 and 5): an inbox on another filesystem than the
state folder (EXDEV), a state folder on a network filesystem, the per-file time budget and
report cap, and a report longer than the model's context (an explicit, recorded error)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from radlite_fhir.budget import TimeBudget, TimeBudgetExceeded
from radlite_fhir.engine.registry import Registry
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.service import filesystems
from radlite_fhir.service.run import status_lines
from radlite_fhir.service.settings import WatchSettings
from radlite_fhir.service.worker import STAGING_PREFIX, Service
from tests import helpers
from tests.test_poison_files import MARKER, _drain, _report, _service

# --- an inbox on another filesystem ------------------------------------------------------


@pytest.fixture
def other_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A folder on another filesystem than tmp_path (tmpfs /dev/shm), removed after."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("no writable /dev/shm for a second filesystem")
    folder = Path(tempfile.mkdtemp(prefix="radlite-test-", dir=shm))
    try:
        if filesystems.same_filesystem(folder, tmp_path):
            pytest.skip("/dev/shm is on the same filesystem as the test's folder")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _service_with_inbox(root: Path, inbox: Path, **overrides: object) -> Service:
    settings = WatchSettings(
        inbox=inbox,
        outbox=root / "outbox",
        state_dir=root / "state",
        tasks="",
        min_age_ms=0,
        metrics_port=0,
        **overrides,  # type: ignore[arg-type]
    )
    return Service(settings, Pipeline(Registry.load(), PipelineSettings(tasks=())))


def test_inbox_on_another_filesystem_is_claimed_by_copy(
    home: Path, tmp_path: Path, other_filesystem: Path
) -> None:
    inbox = other_filesystem / "inbox"
    service = _service_with_inbox(tmp_path, inbox)
    assert service._cross_device
    (inbox / "one.json").write_text(json.dumps(_report(id="one")), encoding="utf-8")
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(_report(id="outside")), encoding="utf-8")
    os.symlink(outside, inbox / "link.json")
    _drain(service)
    assert [p.name for p in service.processed.iterdir()] == ["one.json"]
    assert [p.name for p in service.settings.outbox.iterdir()] == ["one.json.bundle.json"]
    assert (service.errors / "link.json").is_symlink()  # refused, copied as a link
    reason = json.loads((service.errors / "link.json.error.json").read_text())
    assert reason["exception"] == "Refused"
    assert not list(inbox.iterdir()) and not list(service.work.iterdir())
    assert service.ledger.counts() == {"done": 1, "failed": 1}


def test_a_copy_a_crash_interrupted_is_finished_on_restart(
    home: Path, tmp_path: Path, other_filesystem: Path
) -> None:
    """Killed after the rename within the inbox (the claim), before the copy was done."""
    inbox = other_filesystem / "inbox"
    inbox.mkdir()
    claim = "20260101T000000-0123456789ab"
    (inbox / f"{STAGING_PREFIX}{claim}.late.json").write_text(json.dumps(_report(id="late")))
    (tmp_path / "state" / "work" / claim).mkdir(parents=True)
    (tmp_path / "state" / "work" / claim / ".late.json.copy.tmp").write_text('{"half')
    service = _service_with_inbox(tmp_path, inbox)
    assert service.recover() == 1
    assert not list(inbox.iterdir())
    _drain(service)
    assert [p.name for p in service.processed.iterdir()] == ["late.json"]
    assert [p.name for p in service.settings.outbox.iterdir()] == ["late.json.bundle.json"]
    assert not list(service.work.iterdir())


# --- network filesystems ------------------------------------------------------------------


@pytest.fixture
def mounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A /proc/mounts in which tmp_path/share is NFS and tmp_path/'smb share' is CIFS."""
    table = tmp_path / "mounts"
    table.write_text(
        "/dev/vda / ext4 rw,relatime 0 0\n"
        f"server:/export {tmp_path}/share nfs4 rw,relatime,vers=4.2 0 0\n"
        f"//host/scans {tmp_path}/smb\\040share cifs rw 0 0\n"
        f"sshfs#me@host:/ {tmp_path}/share/local-again ext4 rw 0 0\n"
    )
    monkeypatch.setattr(filesystems, "MOUNTS", table)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    return table


def test_network_filesystems_are_recognised(tmp_path: Path, mounts: Path) -> None:
    assert filesystems.network_fs_type(tmp_path / "share" / "inbox") == "nfs4"
    assert filesystems.network_fs_type(tmp_path / "smb share" / "x") == "cifs"
    assert filesystems.network_fs_type(tmp_path / "share" / "local-again" / "x") is None
    assert filesystems.network_fs_type(tmp_path / "local") is None
    for kind in ("nfs", "smb3", "fuse.sshfs", "ceph", "9p"):
        assert filesystems.is_network(kind)
    assert not any(filesystems.is_network(k) for k in ("ext4", "xfs", "tmpfs", "overlay"))


def test_real_mount_table_is_read() -> None:
    if not filesystems.MOUNTS.exists():
        pytest.skip("no /proc/mounts here")
    assert filesystems.mount_of(Path.cwd()) is not None


def test_state_goes_to_a_local_disk_when_the_inbox_is_on_a_share(
    home: Path, tmp_path: Path, mounts: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = WatchSettings(inbox=tmp_path / "share" / "inbox")
    assert shared.state == filesystems.local_state_dir(tmp_path / "share" / "inbox")
    assert shared.state.is_relative_to(tmp_path / "xdg" / "radlite-fhir")
    local = WatchSettings(inbox=tmp_path / "local" / "inbox")
    assert local.state == tmp_path / "local" / "radlite-state"

    caplog.set_level(logging.INFO, logger="radlite.service")
    explicit = WatchSettings(
        inbox=tmp_path / "local" / "inbox",
        outbox=tmp_path / "outbox",
        state_dir=tmp_path / "share" / "state",
        metrics_port=0,
    )
    Service(explicit, Pipeline(Registry.load(), PipelineSettings(tasks=())))
    warned = [r for r in caplog.records if "network filesystem" in r.getMessage()]
    assert warned and warned[0].levelno == logging.WARNING
    assert "nfs4" in warned[0].reason  # type: ignore[attr-defined]


# --- time budget and report cap -------------------------------------------------------------


def _bundle(count: int) -> str:
    entries = [{"resource": _report(id=f"r{n}")} for n in range(count)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def test_a_file_over_its_time_budget_goes_to_error_at_once(home: Path, tmp_path: Path) -> None:
    """A real 200-report Bundle against a budget shorter than its reading takes."""
    service = _service(tmp_path, max_seconds_per_file=1e-6)
    (service.settings.inbox / "many.json").write_text(_bundle(200), encoding="utf-8")
    _drain(service)
    assert not list(service.settings.outbox.iterdir())
    reason = json.loads((service.errors / "many.json.error.json").read_text())
    assert reason["exception"] == "TimeBudgetExceeded"
    assert "time budget exceeded" in reason["errors"][0]["error"]
    (row,) = service.ledger.conn.execute("SELECT state, attempts, error FROM inputs")
    assert (row["state"], row["attempts"]) == ("failed", 1)  # permanent: not retried
    assert MARKER not in row["error"]


def test_no_budget_and_a_generous_one_let_the_same_file_through(home: Path, tmp_path: Path) -> None:
    for budget in (0.0, 600.0):
        service = _service(tmp_path / str(budget), max_seconds_per_file=budget)
        (service.settings.inbox / "many.json").write_text(_bundle(20), encoding="utf-8")
        _drain(service)
        assert [p.name for p in service.processed.iterdir()] == ["many.json"]


def test_a_file_with_more_reports_than_the_cap_is_refused(home: Path, tmp_path: Path) -> None:
    service = _service(tmp_path, max_reports_per_file=3)
    (service.settings.inbox / "four.json").write_text(_bundle(4), encoding="utf-8")
    (service.settings.inbox / "three.json").write_text(_bundle(3), encoding="utf-8")
    _drain(service)
    assert [p.name for p in service.processed.iterdir()] == ["three.json"]
    reason = json.loads((service.errors / "four.json.error.json").read_text())
    assert "4 reports, over the limit of 3 per file" in reason["errors"][0]["error"]


def test_budget_settings_are_checked(tmp_path: Path) -> None:
    from radlite_fhir.errors import ConfigError
    from radlite_fhir.service.settings import load_settings

    settings = load_settings(None, {"max_seconds_per_file": "30", "name_collision": "refuse"})
    assert (settings.max_seconds_per_file, settings.name_collision) == (30.0, "refuse")
    for bad in ({"max_reports_per_file": 0}, {"name_collision": "append"}):
        with pytest.raises(ConfigError):
            load_settings(None, bad)


# --- a report longer than the model's context (SmolLM2 with a short context) -------------------


def _short_context_pipeline(n_ctx: int) -> Pipeline:
    spec = replace(Registry.load().get("smollm2-135m"), name="smollm2-short", n_ctx=n_ctx)
    registry = Registry(catalog={}, site={spec.name: spec}, presets={}, default_name=spec.name)
    return Pipeline(registry, PipelineSettings(tasks=("rads",), model=spec.name))


LONG = "The thyroid gland shows a heterogeneous echotexture without a focal lesion. " * 300
SHORT = "Right lobe nodule, solid, hypoechoic, 14 mm. Impression: ACR TI-RADS TR4."


def test_a_report_longer_than_the_context_is_a_recorded_error(
    home_with_models: Path, tmp_path: Path
) -> None:
    settings = WatchSettings(
        inbox=tmp_path / "inbox",
        outbox=tmp_path / "outbox",
        state_dir=tmp_path / "state",
        tasks="rads",
        min_age_ms=0,
        metrics_port=0,
    )
    service = Service(settings, _short_context_pipeline(1024))
    inbox = settings.inbox
    (inbox / "long.json").write_text(
        json.dumps(_report(conclusion=f"{LONG} {MARKER}")), encoding="utf-8"
    )
    (inbox / "mixed.ndjson").write_text(
        json.dumps(_report(id="short", conclusion=SHORT))
        + "\n"
        + json.dumps(_report(id="long", conclusion=f"{LONG} {MARKER}"))
        + "\n",
        encoding="utf-8",
    )
    _drain(service)
    # one long report: nothing to write, the file is in error/ with the reason
    reason = json.loads((service.errors / "long.json.error.json").read_text())
    assert "report 1 of 1 not enriched: task rads" in reason["errors"][0]["error"]
    assert "exceeds the context of 1024 tokens" in reason["errors"][0]["error"]
    # one short, one long: the short one's result is written, the long one recorded
    assert [p.name for p in service.processed.iterdir()] == ["mixed.ndjson"]
    assert [p.name for p in settings.outbox.iterdir()] == ["mixed.ndjson.bundle.json"]
    partial = json.loads((service.errors / "mixed.ndjson.error.json").read_text())
    assert "report 2 of 2 not enriched" in partial["errors"][0]["error"]
    rows = {
        r["name"]: dict(r)
        for r in service.ledger.conn.execute("SELECT name, state, error FROM inputs")
    }
    assert rows["mixed.ndjson"]["state"] == "done"
    assert "report 2 of 2 not enriched" in rows["mixed.ndjson"]["error"]
    assert rows["long.json"]["state"] == "failed"
    status = "\n".join(status_lines(settings))
    assert "mixed.ndjson (done in part): InputError: report 2 of 2 not enriched" in status
    texts = json.dumps(rows) + json.dumps(reason) + json.dumps(partial) + status
    assert MARKER not in texts and "echotexture" not in texts


def test_the_pipeline_checks_the_budget_before_a_model_call(home_with_models: Path) -> None:
    pipeline = _short_context_pipeline(2048)
    report = helpers.report(SHORT, "US thyroid")
    assert pipeline.enrich(report, TimeBudget(0)).results  # no limit
    with pytest.raises(TimeBudgetExceeded, match=r"stopped before the \w+ model call"):
        pipeline.enrich(report, TimeBudget(1e-9))
