"""The service's main loop: model loaded once, a scan as the truth, inotify as a wake-up.

With `workers` > 1 the process is a supervisor: it runs the DICOM listener and the metrics
endpoint, and N worker processes (spawned, each with its own model or calling the shared
llama-server pool) run the loop over the one inbox and ledger. Claims are exclusive (atomic
rename, then a per-claim lock: service/claims.py), so a file is done once; a worker that
dies (SIGKILL included) is started again, and its claims are finished by whichever worker
next finds them free. SIGTERM to the supervisor is passed on: each worker finishes its file.

Signal handlers only set a flag: SIGTERM and SIGINT let the current file finish, then stop.
A model that cannot load is a transient failure: retried with backoff, inputs wait.

Logging: one JSON object per line on stderr, named fields only. Library warnings (pydicom's
"invalid value for VR ..." quotes the value, which may be report text) are captured from the
warnings module and the libraries' loggers and logged as their logger and category only.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from radlite_fhir.engine import runtime
from radlite_fhir.engine.registry import Registry
from radlite_fhir.errors import ModelError, printable
from radlite_fhir.pipeline import Pipeline
from radlite_fhir.service import dicom_net, http
from radlite_fhir.service.ledger import Ledger
from radlite_fhir.service.settings import WatchSettings
from radlite_fhir.service.worker import Metrics, Service

log = logging.getLogger("radlite.service")
JSON_FIELDS = (
    "file",
    "outputs",
    "seconds",
    "reason",
    "attempt",
    "retry_in_s",
    "same_as",
    "recovered",
    "inbox",
    "state",
    "port",
    "model",
    "calling_ae",
    "ae_title",
    "to",
    "logger",
    "category",
    "worker",
    "status",
)
# Loggers whose messages may quote data: logged by name and category, never by message.
LIBRARY_LOGGERS = ("py.warnings", "pydicom", "highdicom", "pynetdicom")
_WARNING_CATEGORY = re.compile(r":\d+: (\w+): ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; only the named fields, never report text. A record from a
    library logger keeps its logger name (and a warning its category), not its message."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"ts": round(record.created, 3), "level": record.levelname}
        if record.name == "radlite" or record.name.startswith("radlite."):
            out["event"] = record.getMessage()
            out.update({k: getattr(record, k) for k in JSON_FIELDS if hasattr(record, k)})
        else:
            out["event"] = "library warning" if record.name == "py.warnings" else "library log"
            out["logger"] = record.name
            if record.name == "py.warnings":
                found = _WARNING_CATEGORY.search(str(record.msg))
                out["category"] = found.group(1) if found else "Warning"
        return json.dumps(out, ensure_ascii=True)


def configure_logging(stream: TextIO) -> logging.Handler:
    """Send the service's log and library warnings, as JSON lines, to `stream` only (not to
    the root logger's plain-text handler, not to raw stderr). Returns the handler."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    logging.captureWarnings(True)  # warnings.warn -> logger "py.warnings"
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers[:] = [handler]
        library.setLevel(logging.WARNING)
        library.propagate = False
    return handler


def run(settings: WatchSettings) -> int:
    configure_logging(sys.stderr)
    stop, wake = _stop_on_signals()
    if settings.workers > 1:
        return _supervise(settings, stop)

    pipeline = Pipeline(Registry.load(), settings.results.pipeline_settings())
    service = Service(settings, pipeline, _sender(settings))
    model_ready = threading.Event()
    listener, server = _start_edges(
        settings,
        lambda: http.prometheus_text(service.metrics, service.ledger.counts()),
        lambda: {
            "ok": model_ready.is_set(),
            "model_loaded": model_ready.is_set(),
            "queued": service.metrics.queued,
        },
    )
    observer = None if settings.poll else _observe(settings, wake)
    log.info(
        "service started", extra={"inbox": str(settings.inbox), "recovered": service.recover()}
    )
    backoff = 1.0
    while not stop.is_set() and not model_ready.is_set():
        try:
            pipeline.warm_up()  # one model load for the life of the process
            model_ready.set()
        except ModelError as exc:
            log.error(
                "model cannot load, will retry", extra={"reason": str(exc), "retry_in_s": backoff}
            )
            stop.wait(backoff)
            backoff = min(300.0, backoff * 2)
    while not stop.is_set():
        if not service.step():
            wake.wait(
                settings.poll_interval_s if settings.poll else max(settings.min_age_ms / 1000, 0.2)
            )
            wake.clear()
    if observer is not None:
        observer.stop()
    _stop_edges(listener, server)
    service.ledger.close()
    runtime.close_all()  # a llama-server the runtime started stops with the service
    log.info("service stopped")
    return 0


def _stop_on_signals() -> tuple[threading.Event, threading.Event]:
    """(stop, wake): SIGTERM and SIGINT set both; the loop finishes its file, then stops."""
    stop = threading.Event()
    wake = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop, wake


def _start_edges(
    settings: WatchSettings, metrics_text: Callable[[], str], health: Callable[[], dict]
) -> tuple[Any, Any]:
    """The DICOM listener and the metrics endpoint, where the settings ask for them."""
    listener = None
    if settings.dicom_port:
        listener = dicom_net.start_listener(
            settings.dicom_ae_title,
            settings.dicom_host,
            settings.dicom_port,
            settings.inbox,
            settings.dicom_allowed_callers,
            max_dataset_bytes=int(settings.dicom_max_dataset_mb * 1_000_000),
        )
        log.info(
            "dicom listening",
            extra={"port": listener.server_address[1], "ae_title": settings.dicom_ae_title},
        )
    server = None
    if settings.metrics_port:
        server = http.serve(settings.metrics_host, settings.metrics_port, metrics_text, health)
        log.info("http listening", extra={"port": server.server_address[1]})
    return listener, server


def _stop_edges(listener: Any, server: Any) -> None:
    if server is not None:
        server.shutdown()
    if listener is not None:
        listener.shutdown()


def worker_settings(settings: WatchSettings) -> WatchSettings:
    """One worker's settings: no edges of its own (the supervisor runs them), and a share of
    the cores for its model unless `threads` says otherwise."""
    from radlite_fhir.engine.llama_runtime import default_threads

    threads = settings.threads or max(1, default_threads() // settings.workers)
    return replace(settings, workers=1, metrics_port=0, dicom_port=0, threads=threads)


def _worker_main(settings: WatchSettings, index: int) -> None:
    from radlite_fhir.coding import load_code_tables

    load_code_tables()
    configure_logging(sys.stderr)
    log.info("worker started", extra={"worker": index})
    sys.exit(run(settings))


RESTART_PAUSE_S = (1.0, 60.0)  # first and longest pause before a dead worker is restarted


def _supervise(settings: WatchSettings, stop: threading.Event) -> int:
    """Run `settings.workers` worker processes until stopped; restart any that dies."""
    context = multiprocessing.get_context("spawn")  # no llama.cpp state forked into a child
    child = worker_settings(settings)
    ledger = Ledger(settings.state / "ledger.sqlite3")
    workers: list[Any] = [None] * settings.workers
    restart_at = [0.0] * settings.workers
    pauses = [RESTART_PAUSE_S[0]] * settings.workers

    def alive() -> int:
        return sum(1 for w in workers if w is not None and w.is_alive())

    listener, server = _start_edges(
        settings,
        lambda: http.prometheus_text(Metrics(), ledger.counts()),
        lambda: {"ok": alive() == settings.workers, "workers_alive": alive()},
    )
    log.info("service started", extra={"inbox": str(settings.inbox), "worker": settings.workers})
    while not stop.is_set():
        now = time.monotonic()
        for index, worker in enumerate(workers):
            if worker is not None and worker.is_alive():
                continue
            if worker is not None:  # died: started again after a pause that grows
                log.warning("worker exited", extra={"worker": index, "status": worker.exitcode})
                workers[index] = None
                restart_at[index] = now + pauses[index]
                pauses[index] = min(pauses[index] * 2, RESTART_PAUSE_S[1])
            if now >= restart_at[index]:
                workers[index] = context.Process(
                    target=_worker_main, args=(child, index), name=f"radlite-worker-{index}"
                )
                workers[index].start()
        stop.wait(0.5)
    for worker in workers:
        if worker is not None and worker.is_alive():
            worker.terminate()  # SIGTERM: the worker finishes its current file
    grace = settings.max_seconds_per_file or 600.0
    for worker in workers:
        if worker is not None:
            worker.join(grace)
            if worker.is_alive():
                worker.kill()
    _stop_edges(listener, server)
    ledger.close()
    log.info("service stopped")
    return 0


def _sender(settings: WatchSettings) -> Callable[[list[Path]], None] | None:
    """C-STORE each result SR to the configured destination. A failed send is logged with
    the file's name; the SR stays in the outbox, to be sent again by hand."""
    if not settings.dicom_send_to:
        return None
    destination = dicom_net.Destination.parse(settings.dicom_send_to)

    def send(outputs: list[Path]) -> None:
        for output in outputs:
            if not output.name.endswith(".dcm"):
                continue
            try:
                dicom_net.send(output, destination, settings.dicom_ae_title)
                log.info(
                    "sr sent", extra={"file": printable(output.name), "to": destination.ae_title}
                )
            except (dicom_net.SendError, OSError) as exc:
                log.error(
                    "sr not sent",
                    extra={"file": printable(output.name), "reason": printable(str(exc))},
                )

    return send


def _observe(settings: WatchSettings, wake: threading.Event) -> Any:
    """inotify through watchdog: any event in the inbox only wakes the loop up."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    class Wake(FileSystemEventHandler):
        def on_any_event(self, event: Any) -> None:
            wake.set()

    observer = Observer()
    observer.schedule(Wake(), str(settings.inbox), recursive=False)
    observer.daemon = True
    observer.start()
    return observer


def status_lines(settings: WatchSettings) -> list[str]:
    from radlite_fhir.service.ledger import Ledger

    ledger = Ledger(settings.state / "ledger.sqlite3")
    counts = ledger.counts()
    lines = [f"ledger {settings.state / 'ledger.sqlite3'}"]
    lines += [
        f"  {state:11} {counts.get(state, 0)}"
        for state in ("received", "processing", "done", "duplicate", "failed")
    ]
    errors = ledger.last_errors()
    if errors:
        lines.append("last errors:")
        lines += [
            f"  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e['finished_at']))} "
            f"{e['name']}{' (done in part)' if e['state'] == 'done' else ''}: {e['error']}"
            for e in errors
        ]
    ledger.close()
    return lines
