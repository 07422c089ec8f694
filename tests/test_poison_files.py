"""No input stops the service, no report text leaks, no result is overwritten (issue 11).

A drop folder with good reports mixed with every poison case we know: after driving
`Service.step()` until idle, each good report has its own output, each poison file is in
error/ with a reason that names it and its exception type, no exception escaped, and a marker
string carried by the reports' text appears in no log line, error file, ledger row or
`radlite status` line. Then the collision cases (one stem with two suffixes, a name dropped
again with new content) and a file swapped for a symbolic link between the stability check
and the claim. No model: the pipeline runs with no tasks.
"""

from __future__ import annotations

import base64
import errno
import io
import json
import logging
import os
import sqlite3
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import config as pydicom_config
from pydicom.valuerep import validate_value

from radlite_fhir.convert import output_name
from radlite_fhir.engine.registry import Registry
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.service import run as service_run
from radlite_fhir.service import worker
from radlite_fhir.service.settings import WatchSettings
from radlite_fhir.service.worker import Service

MARKER = "ZZMARKERZZ"


def _report(**overrides: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"text": "CT chest"},
        "subject": {"reference": "Patient/p1"},
        "conclusion": f"No acute findings. {MARKER}",
    }
    resource.update(overrides)
    return {key: value for key, value in resource.items() if value is not None}


def _form(content_type: str, text: str) -> list[dict[str, str]]:
    return [{"contentType": content_type, "data": base64.b64encode(text.encode()).decode()}]


def _service(root: Path, **overrides: Any) -> Service:
    settings = WatchSettings(
        inbox=root / "inbox",
        outbox=root / "outbox",
        state_dir=root / "state",
        tasks="",
        min_age_ms=0,
        metrics_port=0,
        **overrides,
    )
    return Service(settings, Pipeline(Registry.load(), PipelineSettings(tasks=())))


def _drain(service: Service, limit: int = 200) -> None:
    for _ in range(limit):
        if not service.step() and not service.step():  # two scans: the size-stable check
            return
    raise AssertionError(f"not idle after {limit} steps")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The service's JSON logging (library warnings included) into a string, restored after."""
    loggers = [logging.getLogger(n) for n in ("radlite.service", *service_run.LIBRARY_LOGGERS)]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    stream = io.StringIO()
    service_run.configure_logging(stream)
    try:
        yield stream
    finally:
        logging.captureWarnings(False)
        for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


GOOD = {
    "good.json": json.dumps(_report()),
    "good-spaces.json": json.dumps(
        _report(conclusion="Nodule\u00a08\u2009mm.\u2028No other finding."), ensure_ascii=False
    ),
    "good-hidden-html.json": json.dumps(
        _report(
            conclusion=None,
            presentedForm=_form(
                "text/html",
                f'<div><p>Impression: normal.</p><span style="display:none">{MARKER}</span>'
                f"<script>var a = '{MARKER}'</script><!-- {MARKER} --></div>",
            ),
        )
    ),
    "rep.json": json.dumps(_report(id="rep-json")),  # one stem, two suffixes: two results
    "rep.ndjson": json.dumps(_report(id="rep-ndjson")) + "\n",
    "good-lines.ndjson": json.dumps(
        _report(conclusion="One\u2028two\u0085three"), ensure_ascii=False
    )
    + "\n"
    + json.dumps(_report(id="r2"))
    + "\n",
}
POISON = {  # name -> (content, what the reason must say)
    "deep-1200.json": (
        '{"resourceType": "DiagnosticReport", "extension": ' + "[" * 1200 + "]" * 1200 + "}",
        "nested deeper than",
    ),
    "deep-200.json": (
        '{"resourceType": "Bundle", "entry": ' + '[{"x": ' * 100 + "1" + "}]" * 100 + "}",
        "nested deeper than",
    ),
    "idna.json": (
        json.dumps(
            _report(
                conclusion=None,
                presentedForm=_form("text/plain; charset=idna", f"xn--{MARKER} nodule."),
            )
        ),
        "charset 'idna'",
    ),
    "html-bomb.json": (
        json.dumps(
            _report(conclusion=None, presentedForm=_form("text/html", "<div>" + "<a " * 20000))
        ),
        "carries no report text",
    ),
    "status-marker.json": (json.dumps(_report(status=MARKER)), "DiagnosticReport.status: enum"),
    "valueerror.json": (json.dumps(_report(id="ve")), "ValueError at"),
    "recursion.json": (json.dumps(_report(id="re")), "RecursionError at"),
}
BAD_NAME = os.fsdecode(b"good-\xff.json")  # a byte that is not UTF-8 in the file name


def test_poison_files_go_to_error_good_ones_flow_and_no_text_leaks(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    log_stream: io.StringIO,
    capfd: pytest.CaptureFixture[str],
) -> None:
    real_convert = worker.convert_file

    def convert(pipeline: Pipeline, source: Path, *args: Any, **kwargs: Any) -> Any:
        """Unexpected exceptions from deep inside, with report text in their messages, and
        library warnings that quote values (as pydicom's do)."""
        if source.name == "valueerror.json":
            raise ValueError(f"invalid literal for int() with base 10: '{MARKER}'")
        if source.name == "recursion.json":
            raise RecursionError(f"maximum recursion depth exceeded {MARKER}")
        if source.name == "good.json":  # pydicom warns and logs, quoting the value
            validate_value("UI", MARKER, pydicom_config.WARN)
            warnings.warn(f"Other library: '{MARKER}'", UserWarning, stacklevel=1)
        return real_convert(pipeline, source, *args, **kwargs)

    monkeypatch.setattr(worker, "convert_file", convert)
    service = _service(tmp_path)
    inbox = service.settings.inbox
    for name, text in GOOD.items():
        (inbox / name).write_text(text, encoding="utf-8")
    (inbox / BAD_NAME).write_text(json.dumps(_report(id="bad-name")), encoding="utf-8")
    for name, (text, _) in POISON.items():
        (inbox / name).write_text(text, encoding="utf-8")

    started = time.perf_counter()
    _drain(service)
    assert time.perf_counter() - started < 60

    good = sorted([*GOOD, BAD_NAME])
    assert sorted(p.name for p in service.processed.iterdir()) == good
    assert sorted(p.name for p in service.settings.outbox.iterdir()) == sorted(
        output_name(Path(n), "bundle") for n in good
    )
    assert sorted(p.name for p in service.errors.iterdir()) == sorted(
        [*POISON, *(f"{n}.error.json" for n in POISON)]
    )
    for name, (_, expected) in POISON.items():
        reason = json.loads((service.errors / f"{name}.error.json").read_text(encoding="utf-8"))
        assert reason["file"] == name
        assert reason["exception"] in {"InputError", "ValueError", "RecursionError"}
        assert expected in reason["errors"][0]["error"], (name, reason)
    assert not list(inbox.iterdir()) and not list(service.work.iterdir())
    assert service.ledger.counts() == {"done": len(good), "failed": len(POISON)}
    names = {row["name"] for row in service.ledger.conn.execute("SELECT name FROM inputs")}
    assert "good-\\xff.json" in names

    # The same name dropped again with new content: a second version, the first kept.
    first_result = (service.settings.outbox / "rep.json.bundle.json").read_bytes()
    (inbox / "rep.json").write_text(json.dumps(_report(id="rep-json-2")), encoding="utf-8")
    # A file swapped for a link to a report outside the inbox after the scan found it stable.
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(_report(id="outside")), encoding="utf-8")
    outside_before = outside.read_bytes()
    (inbox / "swap.json").write_text(json.dumps(_report(id="swap")), encoding="utf-8")
    service.ready_files()  # the first scan notes sizes and times
    ready = {p.name: p for p in service.ready_files()}
    assert set(ready) == {"rep.json", "swap.json"}
    (inbox / "swap.json").unlink()
    os.symlink(outside, inbox / "swap.json")
    assert service.claim(ready["swap.json"]) is None  # changed since the check: given back
    assert (inbox / "swap.json").is_symlink()
    _drain(service)

    assert (service.settings.outbox / "rep.json.bundle.json").read_bytes() == first_result
    assert json.loads((service.settings.outbox / "rep.json.v2.bundle.json").read_text())
    rows = service.ledger.conn.execute(
        "SELECT sha256, output_base, outputs FROM inputs WHERE name = 'rep.json' "
        "ORDER BY received_at"
    ).fetchall()
    assert [(r["output_base"], json.loads(r["outputs"])) for r in rows] == [
        ("rep.json", ["rep.json.bundle.json"]),
        ("rep.json.v2", ["rep.json.v2.bundle.json"]),
    ]
    assert rows[0]["sha256"] != rows[1]["sha256"]
    assert (service.errors / "swap.json").is_symlink()  # refused, moved as a link
    swap_reason = json.loads((service.errors / "swap.json.error.json").read_text())
    assert swap_reason["exception"] == "Refused"
    assert "symbolic link" in swap_reason["errors"][0]["error"]
    assert outside.read_bytes() == outside_before
    assert not list(service.settings.outbox.glob("swap.json*"))
    assert service.ledger.counts() == {"done": len(good) + 1, "failed": len(POISON) + 1}

    # No report text anywhere the service writes or says something.
    rows = service.ledger.conn.execute("SELECT * FROM inputs").fetchall()
    ledger_text = json.dumps([dict(row) for row in rows])
    error_files = "".join(
        p.read_text(encoding="utf-8") for p in service.errors.glob("*.error.json")
    )
    status = "\n".join(service_run.status_lines(service.settings))
    captured = capfd.readouterr()
    logged = log_stream.getvalue()
    for where, text in {
        "ledger": ledger_text,
        "error files": error_files,
        "status": status,
        "log": logged,
        "stdout": captured.out,
        "stderr": captured.err,
    }.items():
        assert MARKER not in text, where
    events = [json.loads(line) for line in logged.splitlines()]
    assert any(e["event"] == "library warning" and e["category"] == "UserWarning" for e in events)
    assert any(e.get("event") == "library log" and e.get("logger") == "pydicom" for e in events)
    assert sum(e["event"] == "file failed" for e in events) == len(POISON) + 1


def test_transient_failure_is_retried_then_sent_to_error(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(worker, "convert_file", disk_full)
    service = _service(tmp_path, max_attempts=3)
    (service.settings.inbox / "full.json").write_text(json.dumps(_report()), encoding="utf-8")
    for attempt in (1, 2):
        _drain(service)
        (claim,) = service.work.iterdir()
        row = service.ledger.get(claim.name)
        assert (row["state"], row["attempts"]) == ("received", attempt)
        assert "OSError" in row["error"] and "No space left" in row["error"]
        service.ledger.conn.execute("UPDATE inputs SET not_before = 0")  # the backoff is over
    _drain(service)
    assert not list(service.work.iterdir())
    reason = json.loads((service.errors / "full.json.error.json").read_text())
    assert reason["exception"] == "GaveUp"
    assert "gave up after 3 attempts: OSError" in reason["errors"][0]["error"]
    assert service.metrics.retries == 2 and service.metrics.failed == 1


def test_claim_that_reached_max_attempts_goes_to_error_on_restart(
    home: Path, tmp_path: Path
) -> None:
    """A file that killed the process max_attempts times (segfault, OOM, SIGKILL) is not
    taken again after the next restart."""
    service = _service(tmp_path, max_attempts=2)
    claim = service.work / "20260101T000000-0123456789ab"
    claim.mkdir()
    (claim / "killer.json").write_text(json.dumps(_report()), encoding="utf-8")
    service.ledger.receive(claim.name, "killer.json", "0" * 64)
    service.ledger.start(claim.name)
    service.ledger.start(claim.name)  # two starts, never finished: the process died twice
    service.ledger.close()

    restarted = _service(tmp_path, max_attempts=2)
    assert restarted.recover() == 1
    _drain(restarted)
    assert not list(restarted.work.iterdir())
    assert not list(restarted.settings.outbox.iterdir())
    reason = json.loads((restarted.errors / "killer.json.error.json").read_text())
    assert reason["exception"] == "Interrupted"
    assert "gave up after 2 attempts" in reason["errors"][0]["error"]
    assert restarted.ledger.counts() == {"failed": 1}


def test_failure_that_cannot_be_recorded_does_not_stop_the_loop(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger itself failing: the claim is held back, step() returns, nothing raises."""
    service = _service(tmp_path)
    (service.settings.inbox / "one.json").write_text(json.dumps(_report()), encoding="utf-8")

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(service.ledger, "start", broken)
    monkeypatch.setattr(service.ledger, "retry_later", broken)
    _drain(service)
    (claim,) = service.work.iterdir()
    assert claim.name in service._held
    assert service.step() is False  # held back: idle, not spinning, not raising
