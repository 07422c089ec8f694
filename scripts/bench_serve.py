"""Requests per minute of `radlite serve` with the default model, at 1 and 4 concurrent
clients, side by side in one run (a real uvicorn server on loopback, the sample reports).

    .venv/bin/python scripts/bench_serve.py [--requests 8] [--threads N]
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import uvicorn

from radlite_fhir.engine.registry import Registry
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.service.api import ServeSettings, build_app

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "samples").glob("*.json"))


def post(base: str, path: Path) -> int:
    request = urllib.request.Request(
        f"{base}/fhir/DiagnosticReport/$enrich",
        path.read_bytes(),
        {"Content-Type": "application/fhir+json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=600) as reply:
        reply.read()
        return reply.status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=8, help="requests per round")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    pipeline = Pipeline(Registry.load(), PipelineSettings(threads=args.threads))
    pipeline.warm_up()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = build_app(ServeSettings(queue_size=args.requests), pipeline)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    base = f"http://127.0.0.1:{port}"
    inputs = [SAMPLES[i % len(SAMPLES)] for i in range(args.requests)]
    post(base, inputs[0])  # first request: lazy imports, caches
    print(f"model {pipeline.models()[0].name}, {args.requests} requests per round, 4 tasks each")
    for clients in (1, 4):
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            statuses = list(pool.map(lambda path: post(base, path), inputs))
        seconds = time.perf_counter() - started
        assert statuses == [200] * len(inputs), statuses
        print(
            f"{clients} client(s): {60 * len(inputs) / seconds:.1f} requests/min "
            f"({seconds / len(inputs):.2f} s per request)"
        )
    server.should_exit = True
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
