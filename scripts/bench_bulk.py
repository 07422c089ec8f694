"""Reports per minute of `radlite bulk` with 1 and 2 Ray workers, side by side in one run:
the same reports (the samples' DiagnosticReports, repeated with new ids), in shards of
--per-shard reports, through a fresh local Ray instance each round, on the default model
(or --model), each worker with --threads llama.cpp threads.

    .venv/bin/python scripts/bench_bulk.py [--reports 40] [--workers 1,2] [--threads 1]

Two rates per round: end to end (Ray start, one model load per actor, every shard) and
steady (the reports of the shards finished after the first one, over the time from the
first finished shard to the last: the part that grows with the backlog). The ratio to
linear is the steady rate with N workers over N times the rate with the first round's
workers. On a machine with other work running, the numbers say so: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from radlite_fhir.bulk.driver import run_bulk
from radlite_fhir.bulk.settings import RAY_LOCAL, BulkSettings
from radlite_fhir.pipeline import parse_task_list

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def sample_reports() -> list[dict]:
    """Every DiagnosticReport in samples/ (single reports and the bulk export)."""
    reports = [
        json.loads(line)
        for line in (SAMPLES / "bulk-export.ndjson").read_text(encoding="utf-8").splitlines()
    ]
    for path in sorted(SAMPLES.glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if resource.get("resourceType") == "DiagnosticReport":
            reports.append(resource)
    return reports


def write_shards(folder: Path, total: int, per_shard: int) -> None:
    """`total` reports, the samples in turn with new ids, `per_shard` to an NDJSON shard."""
    samples = sample_reports()
    lines = []
    for number in range(total):
        report = dict(samples[number % len(samples)])
        report["id"] = f"bench-{number:04d}"
        lines.append(json.dumps(report, ensure_ascii=False))
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, total, per_shard):
        shard = folder / f"DiagnosticReport_{start // per_shard:03d}.ndjson"
        shard.write_text("\n".join(lines[start : start + per_shard]) + "\n", encoding="utf-8")


def one_round(shards: Path, out: Path, workers: int, args: argparse.Namespace) -> dict:
    settings = BulkSettings(
        inputs=(shards,),
        out=out,
        ray=RAY_LOCAL,
        workers=workers,
        tasks=parse_task_list(args.tasks),
        model=args.model,
        threads=args.threads,
    )
    finished: list[tuple[float, int]] = []  # (time, reports) per shard

    def echo(line: str) -> None:
        if " reports" in line and " -> " in line:
            reports = int(line.rsplit(": ", 1)[1].split()[0])
            finished.append((time.perf_counter(), reports))

    begin = time.perf_counter()
    summary = run_bulk(settings, echo=echo)
    end = time.perf_counter()
    reports = sum(count for _, count in finished)
    steady = sum(count for _, count in finished[1:])
    window = finished[-1][0] - finished[0][0] if len(finished) > 1 else 0.0
    return {
        "workers": workers,
        "shards": summary.converted,
        "reports": reports,
        "seconds": end - begin,
        "end_to_end_per_min": 60 * reports / (end - begin),
        "steady_per_min": 60 * steady / window if window else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--per-shard", type=int, default=5, help="reports per shard (5)")
    parser.add_argument("--workers", default="1,2", help="comma-separated pool sizes (1,2)")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads per worker")
    parser.add_argument("--model", default=None, help="registered model (default: routing)")
    parser.add_argument("--tasks", default="rads,staging,ner,impression")
    args = parser.parse_args()
    rounds = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        shards = Path(tmp) / "shards"
        write_shards(shards, args.reports, args.per_shard)
        results = [one_round(shards, Path(tmp) / f"out-{n}", n, args) for n in rounds]
    base = results[0]["steady_per_min"] / results[0]["workers"]
    load = os.getloadavg()[0]
    print(f"radlite bulk, {args.reports} reports, --threads {args.threads}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at the end")  # fmt: skip
    print(
        f"{'workers':>8} {'seconds':>8} {'end-to-end/min':>15} {'steady/min':>11} {'x linear':>9}"
    )
    for result in results:
        ratio = result["steady_per_min"] / (base * result["workers"])
        print(
            f"{result['workers']:>8} {result['seconds']:>8.1f} "
            f"{result['end_to_end_per_min']:>15.2f} {result['steady_per_min']:>11.2f} "
            f"{ratio:>9.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
