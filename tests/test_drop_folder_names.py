"""Outputs never collide (issue 11, item 3): the name scheme, the policy for a name dropped
again (version / refuse / overwrite), the ledger's record of which output belongs to which
input, and a redo after a failure writing the name it reserved, not a new one. No model."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from radlite_fhir.convert import write_atomic
from radlite_fhir.naming import Holder, NameCollision, NameTaken, choose, output_name, present
from radlite_fhir.service import worker
from radlite_fhir.service.ledger import Ledger
from tests.test_poison_files import _drain, _report, _service


def test_output_names_keep_the_whole_input_name() -> None:
    assert output_name("rep.json", "bundle") == "rep.json.bundle.json"
    assert output_name(Path("in/rep.ndjson"), "bundle") == "rep.ndjson.bundle.json"
    assert output_name("rep.json.v2", "ndjson") == "rep.json.v2.ndjson"
    assert output_name("1.2.3.dcm", "sr", 2) == "1.2.3.dcm.2.sr.dcm"
    assert output_name("1.2.3.dcm", "enriched-sr") == "1.2.3.dcm.enriched.dcm"


def test_choose_applies_the_policy_to_whoever_holds_the_name() -> None:
    held = {"rep.json": Holder("c1"), "rep.json.v2": Holder("c2")}
    assert choose("new.json", NameCollision.VERSION, held.get).base == "new.json"
    assert choose("rep.json", NameCollision.VERSION, held.get).base == "rep.json.v3"
    overwrite = choose("rep.json", NameCollision.OVERWRITE, held.get)
    assert (overwrite.base, overwrite.overwrite, overwrite.replaces) == ("rep.json", True, "c1")
    with pytest.raises(NameTaken, match="already holds the result of an earlier input"):
        choose("rep.json", NameCollision.REFUSE, held.get)
    same = {"rep.json": Holder("c1", same_content=True)}
    for policy in NameCollision:  # the same content again is the same result, under any policy
        assert choose("rep.json", policy, same.get).replaces == "c1"


def test_present_sees_every_first_name_an_input_can_take(tmp_path: Path) -> None:
    (tmp_path / "a.dcm.1.sr.dcm").write_bytes(b"")
    (tmp_path / "b.json.enriched.dcm").write_bytes(b"")
    assert present(tmp_path, "a.dcm", "sr") and not present(tmp_path, "a.dcm", "bundle")
    assert present(tmp_path, "b.json", "enriched")


def test_write_atomic_without_overwrite_leaves_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "x.bundle.json"
    write_atomic(target, "first", overwrite=False)
    with pytest.raises(FileExistsError):
        write_atomic(target, "second", overwrite=False)
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bundle.json"]  # no temporary left
    write_atomic(target, "third")
    assert target.read_text() == "third"


def test_a_ledger_of_the_first_release_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE inputs (claim TEXT PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL,"
        " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, not_before REAL NOT NULL"
        " DEFAULT 0, received_at REAL NOT NULL, started_at REAL, finished_at REAL,"
        " outputs TEXT, error TEXT);"
        "INSERT INTO inputs (claim, name, sha256, state, received_at)"
        " VALUES ('c0', 'rep.json', 'ab', 'done', 0);"
    )
    old.commit()
    old.close()
    ledger = Ledger(path)
    assert ledger.reserve("c0", "rep.json")
    assert ledger.holder("rep.json")["claim"] == "c0"
    ledger.receive("c1", "rep.json", "cd")
    assert not ledger.reserve("c1", "rep.json")  # unique: a second worker chooses again
    ledger.close()


def _drop(service: worker.Service, name: str, report_id: str) -> None:
    path = service.settings.inbox / name
    path.write_text(json.dumps(_report(id=report_id)), encoding="utf-8")
    _drain(service)


def _rows(service: worker.Service) -> list[dict[str, Any]]:
    rows = service.ledger.conn.execute(
        "SELECT claim, name, sha256, state, output_base, replaces, outputs, error FROM inputs "
        "ORDER BY received_at"
    )
    return [dict(row) for row in rows]


def test_refuse_sends_the_second_file_to_error_with_its_reason(home: Path, tmp_path: Path) -> None:
    service = _service(tmp_path, name_collision="refuse")
    _drop(service, "rep.json", "first")
    result = service.settings.outbox / "rep.json.bundle.json"
    first = result.stat().st_ino
    _drop(service, "rep.json", "second")
    assert result.stat().st_ino == first  # not written again
    assert sorted(p.name for p in service.settings.outbox.iterdir()) == ["rep.json.bundle.json"]
    reason = json.loads((service.errors / "rep.json.error.json").read_text())
    assert reason["exception"] == "NameTaken"
    assert "already holds the result of an earlier input" in reason["errors"][0]["error"]
    assert [(r["state"], r["output_base"]) for r in _rows(service)] == [
        ("done", "rep.json"),
        ("failed", None),
    ]


def test_overwrite_replaces_and_the_ledger_records_whose_result_it_was(
    home: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path, name_collision="overwrite")
    _drop(service, "rep.json", "first")
    result = service.settings.outbox / "rep.json.bundle.json"
    first = result.stat().st_ino
    _drop(service, "rep.json", "second")
    assert result.stat().st_ino != first  # replaced (atomically: a new file)
    assert sorted(p.name for p in service.settings.outbox.iterdir()) == ["rep.json.bundle.json"]
    first, second = _rows(service)
    assert (first["output_base"], second["output_base"]) == (None, "rep.json")
    assert second["replaces"] == first["claim"] and first["sha256"] != second["sha256"]
    assert json.loads(first["outputs"]) == json.loads(second["outputs"])


def test_the_same_content_reemitted_under_its_name_keeps_the_name(
    home: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path, duplicates="reemit")
    _drop(service, "rep.json", "same")
    _drop(service, "rep.json", "same")
    assert sorted(p.name for p in service.settings.outbox.iterdir()) == ["rep.json.bundle.json"]
    first, second = _rows(service)
    assert second["replaces"] == first["claim"] and second["output_base"] == "rep.json"


def test_a_redo_writes_the_name_reserved_before_the_failure(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outputs written, then the disk fails before the ledger says done: the retry writes the
    same reserved name again (rep.json.v2), not a third version."""
    service = _service(tmp_path)
    _drop(service, "rep.json", "first")
    real_settle = service._settle
    failures = iter([OSError(28, "No space left on device")])

    def settle_once(*args: Any, **kwargs: Any) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real_settle(*args, **kwargs)

    monkeypatch.setattr(service, "_settle", settle_once)
    _drop(service, "rep.json", "second")
    assert (service.settings.outbox / "rep.json.v2.bundle.json").exists()
    (claim,) = service.work.iterdir()
    assert service.ledger.get(claim.name)["output_base"] == "rep.json.v2"
    service.ledger.conn.execute("UPDATE inputs SET not_before = 0")  # the backoff is over
    _drain(service)
    assert sorted(p.name for p in service.settings.outbox.iterdir()) == [
        "rep.json.bundle.json",
        "rep.json.v2.bundle.json",
    ]
    assert [r["state"] for r in _rows(service)] == ["done", "done"]


def test_a_result_the_interface_engine_took_away_still_holds_its_name(
    home: Path, tmp_path: Path
) -> None:
    """The ledger, not the outbox, is the truth: a consumed result's name is not reused."""
    service = _service(tmp_path)
    _drop(service, "rep.json", "first")
    (service.settings.outbox / "rep.json.bundle.json").unlink()  # picked up downstream
    _drop(service, "rep.json", "second")
    assert [p.name for p in service.settings.outbox.iterdir()] == ["rep.json.v2.bundle.json"]


def test_a_file_in_the_outbox_no_input_wrote_is_not_overwritten(home: Path, tmp_path: Path) -> None:
    service = _service(tmp_path)
    foreign = service.settings.outbox / "rep.json.bundle.json"
    foreign.write_text("written by someone else")
    _drop(service, "rep.json", "first")
    assert foreign.read_text() == "written by someone else"
    assert (service.settings.outbox / "rep.json.v2.bundle.json").exists()
