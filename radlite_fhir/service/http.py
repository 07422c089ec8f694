"""Loopback HTTP for operators: /healthz and Prometheus /metrics (text format 0.0.4)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from radlite_fhir.service.worker import Metrics


def prometheus_text(metrics: Metrics, ledger_counts: dict[str, int]) -> str:
    lines = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    metric(
        "radlite_files_processed_total",
        "counter",
        "Inputs converted and moved out.",
        [("", metrics.processed)],
    )
    metric(
        "radlite_files_failed_total", "counter", "Inputs moved to error/.", [("", metrics.failed)]
    )
    metric(
        "radlite_files_duplicate_total",
        "counter",
        "Re-dropped content skipped.",
        [("", metrics.duplicates)],
    )
    metric(
        "radlite_retries_total",
        "counter",
        "Transient failures put back for retry.",
        [("", metrics.retries)],
    )
    metric(
        "radlite_files_in_queue",
        "gauge",
        "Files in the inbox and claimed, not finished.",
        [("", metrics.queued)],
    )
    metric(
        "radlite_model_answers_unparseable_total",
        "counter",
        "Model answers that did not parse (kept, not coded).",
        [("", metrics.unparseable)],
    )
    metric(
        "radlite_stage_seconds",
        "summary",
        "Seconds per stage over processed files.",
        [(f'_sum{{stage="{stage}"}}', seconds) for stage, seconds in metrics.seconds.items()]
        + [(f'_count{{stage="{stage}"}}', metrics.files_timed) for stage in metrics.seconds],
    )
    metric(
        "radlite_ledger_inputs",
        "gauge",
        "Ledger rows by state.",
        [(f'{{state="{state}"}}', n) for state, n in sorted(ledger_counts.items())],
    )
    return "\n".join(lines) + "\n"


def serve(
    host: str, port: int, metrics: Callable[[], str], health: Callable[[], dict[str, object]]
) -> ThreadingHTTPServer:
    """Start the endpoint on a daemon thread; the caller shuts it down."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, kind, code = metrics().encode(), "text/plain; version=0.0.4", 200
            elif self.path == "/healthz":
                state = health()
                body = json.dumps(state).encode()
                kind, code = "application/json", 200 if state.get("ok") else 503
            else:
                body, kind, code = b"not found\n", "text/plain", 404
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # access logs are not wanted on stderr

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="radlite-http", daemon=True).start()
    return server
