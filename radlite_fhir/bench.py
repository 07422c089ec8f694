"""`radlite bench`: what a report costs, where the time goes, and how close the engine runs to
llama.cpp itself on this machine. Printed as a table and written as JSON.

The fixed report set comes from the shared corpora (Open-i chest radiographs and MTSamples
radiology transcriptions, chosen at even intervals of the id order, so every run reads the same
reports). Each report goes through the whole product path: a FHIR DiagnosticReport file is
read, enriched (four tasks) and written as a Bundle. Two ways, side by side in one process
on one loaded model:
  notebook   - the radlite prompts, every task a fresh full prompt (RadLite's notebook, and
               the radlite profile as shipped: its sampled answers read every prompt whole)
  structured - this product's profile, the report read once and reused by every task
"""

from __future__ import annotations

import csv
import json
import resource
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from radlite_fhir.convert import convert_file
from radlite_fhir.engine import llama_runtime, runtime
from radlite_fhir.engine.registry import ModelSpec, Registry
from radlite_fhir.errors import ConfigError
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.report import Findings, TaskTiming
from radlite_fhir.tasks.profiles import RADLITE, STRUCTURED, STRUCTURED_HEAD, structured_call

MODES = {
    "notebook": (RADLITE, True),
    "structured": (STRUCTURED, False),
}
MAX_REPORT_CHARS = 2000  # the radlite profile's 2048-token context must hold the report


@dataclass
class ModeResult:
    mode: str
    reports: int
    wall_seconds: float
    model_seconds: float
    per_report: list[dict[str, float]] = field(default_factory=list)
    per_task: dict[str, dict[str, float]] = field(default_factory=dict)
    prompt_rate: float = 0.0
    report_read_rate: float = 0.0
    decode_rate: float = 0.0

    @property
    def reports_per_minute(self) -> float:
        return 60 * self.reports / self.wall_seconds

    @property
    def outside_model_share(self) -> float:
        return (self.wall_seconds - self.model_seconds) / self.wall_seconds


def fixed_reports(data_dir: Path, count: int) -> list[dict[str, Any]]:
    """`count` DiagnosticReports built from the corpora, the same every run."""
    openi = data_dir / "openi_reports.csv"
    mtsamples = data_dir / "mtsamples_radiology.csv"
    for path in (openi, mtsamples):
        if not path.is_file():
            raise ConfigError(f"{path}: missing (bench --data names the shared corpora folder)")
    with openi.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["findings"].strip() and r["impression"]]
    rows.sort(key=lambda r: int(r["uid"]))
    texts = [
        (
            f"openi-{r['uid']}",
            "XR Chest",
            "\n".join(
                f"{h}: {r[k].strip()}"
                for h, k in (
                    ("INDICATION", "indication"),
                    ("COMPARISON", "comparison"),
                    ("FINDINGS", "findings"),
                    ("IMPRESSION", "impression"),
                )
                if r[k].strip()
            ),
        )
        for r in _evenly(rows, count - count // 2)
    ]
    with mtsamples.open(encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if "IMPRESSION" in r["transcription"] and len(r["transcription"]) <= MAX_REPORT_CHARS
        ]
    rows.sort(key=lambda r: int(r["note_id"]))
    texts += [
        (f"mtsamples-{r['note_id']}", r["sample_name"].strip(), r["transcription"])
        for r in _evenly(rows, count // 2)
    ]
    return [
        {
            "resourceType": "DiagnosticReport",
            "id": f"bench-{key}",
            "status": "final",
            "code": {"text": title},
            "subject": {"reference": "Patient/bench"},
            "conclusion": text,
        }
        for key, title, text in texts
    ]


def _evenly(rows: list[Any], count: int) -> list[Any]:
    if count <= 0 or not rows:
        return []
    step = len(rows) / count
    return [rows[int(i * step)] for i in range(count)]


def run_mode(
    mode: str, spec: ModelSpec, inputs: list[Path], out_dir: Path, threads: int
) -> ModeResult:
    profile, fresh = MODES[mode]
    bench_spec = replace(spec, name=f"bench-{mode}", profile=profile)
    registry = Registry(
        catalog={}, site={bench_spec.name: bench_spec}, presets={}, default_name=bench_spec.name
    )
    pipeline = Pipeline(
        registry, PipelineSettings(model=bench_spec.name, threads=threads, fresh_prompts=fresh)
    )
    pipeline.warm_up()
    findings: list[Findings] = []
    per_report = []
    started = time.perf_counter()
    for source in inputs:
        began = time.perf_counter()
        outcome = convert_file(pipeline, source, out_dir / mode, "bundle", 10_000_000)
        if outcome.errors:
            raise ConfigError(f"bench input {source} failed: {outcome.errors[0]}")
        findings.extend(outcome.findings)
        timings = [t for f in outcome.findings for t in f.timings]
        per_report.append(_report_costs(timings, time.perf_counter() - began))
    wall = time.perf_counter() - started
    timings = [t for f in findings for t in f.timings]
    result = ModeResult(
        mode=mode,
        reports=len(findings),
        wall_seconds=wall,
        model_seconds=sum(t.seconds for t in timings),
        per_report=per_report,
    )
    for key in dict.fromkeys(t.task for t in timings):
        group = [t for t in timings if t.task == key]
        result.per_task[key] = {
            "calls": len(group),
            "prompt_tokens": statistics.mean(t.prompt_tokens for t in group),
            "evaluated_prompt_tokens": statistics.mean(t.evaluated_prompt_tokens for t in group),
            "generated_tokens": statistics.mean(t.completion_tokens for t in group),
            "seconds": statistics.mean(t.seconds for t in group),
            "prompt_tokens_per_second": _rate(group, "evaluated_prompt_tokens", "prompt_seconds"),
            "generated_tokens_per_second": _rate(group, "completion_tokens", "decode_seconds"),
        }
    result.prompt_rate = _rate(timings, "evaluated_prompt_tokens", "prompt_seconds")
    result.report_read_rate = _rate(
        [t for t in timings if t.evaluated_prompt_tokens >= 64],
        "evaluated_prompt_tokens",
        "prompt_seconds",
    )
    result.decode_rate = _rate(timings, "completion_tokens", "decode_seconds")
    return result


def _rate(timings: list[TaskTiming], tokens: str, seconds: str) -> float:
    spent = sum(getattr(t, seconds) for t in timings)
    return sum(getattr(t, tokens) for t in timings) / spent if spent else 0.0


def _report_costs(timings: list[TaskTiming], wall: float) -> dict[str, float]:
    """One report's cost against the read-once ideal: reading the report once (the first
    call's prompt) plus writing every answer."""
    first = timings[0] if timings else None
    return {
        "wall_seconds": wall,
        "evaluated_prompt_tokens": sum(t.evaluated_prompt_tokens for t in timings),
        "one_task_prompt_tokens": first.evaluated_prompt_tokens if first else 0,
        "ideal_seconds": (first.prompt_seconds if first else 0.0)
        + sum(t.decode_seconds for t in timings),
    }


def run_bench(
    spec: ModelSpec, data_dir: Path, count: int, threads: int, modes: list[str]
) -> dict[str, Any]:
    """Measure every mode and the llama.cpp ceiling; return the JSON document."""
    model = runtime.load(spec, threads)
    documents = fixed_reports(data_dir, count)
    with tempfile.TemporaryDirectory(prefix="radlite-bench-") as tmp:
        folder = Path(tmp)
        inputs = []
        for document in documents:
            path = folder / "in" / f"{document['id']}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document), encoding="utf-8")
            inputs.append(path)
        results = [run_mode(mode, spec, inputs, folder / "out", threads) for mode in modes]
    # Peak memory of the product's own work, taken before the ceiling loads a second copy.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The ceiling reads the same prompts the structured mode reads (system prompt cached,
    # report and answer label timed), so the rates compare like with like.
    prompts = [
        list(model.tokenize(structured_call("rads_assignment", d["conclusion"], 1).prompt))
        for d in documents
    ]
    system = model.count_tokens(STRUCTURED_HEAD)
    ceiling = llama_runtime.raw_rates(spec, threads, prompts, [system] * len(prompts))
    model_mb = spec.resolved_path().stat().st_size / 2**20
    return {
        "model": {"name": spec.name, "sha256": spec.sha256, "file_mb": round(model_mb, 1)},
        "threads": threads,
        "reports": [d["id"] for d in documents],
        "ceiling": {
            **asdict(ceiling),
            "prompt_rate": ceiling.prompt_rate,
            "decode_rate": ceiling.decode_rate,
        },
        "modes": {
            r.mode: {
                **asdict(r),
                "reports_per_minute": r.reports_per_minute,
                "outside_model_share": r.outside_model_share,
            }
            for r in results
        },
        "peak_rss_mb": round(peak_mb, 1),
        "targets": _targets(results, ceiling, peak_mb, model_mb),
    }


def _targets(
    results: list[ModeResult], ceiling: llama_runtime.RawRates, peak_mb: float, model_mb: float
) -> dict[str, dict[str, Any]]:
    targets: dict[str, dict[str, Any]] = {}
    structured = next((r for r in results if r.mode == "structured"), None)
    if structured:
        ratios = [
            r["evaluated_prompt_tokens"] / r["one_task_prompt_tokens"]
            for r in structured.per_report
            if r["one_task_prompt_tokens"]
        ]
        walls = [r["wall_seconds"] / r["ideal_seconds"] for r in structured.per_report]
        targets["prompt tokens, 4 tasks / 1 task (structured) <= 1.3"] = {
            "value": max(ratios),
            "mean": statistics.mean(ratios),
            "met": max(ratios) <= 1.3,
        }
        targets["wall / (one prefix + answers) (structured) <= 1.10"] = {
            "value": max(walls),
            "mean": statistics.mean(walls),
            "met": max(walls) <= 1.10,
        }
        read_share = structured.report_read_rate / ceiling.prompt_rate
        decode_share = structured.decode_rate / ceiling.decode_rate
        targets["report read rate / llama.cpp prompt rate >= 0.90"] = {
            "value": read_share,
            "met": read_share >= 0.90,
        }
        targets["decode rate / llama.cpp decode rate >= 0.90"] = {
            "value": decode_share,
            "met": decode_share >= 0.90,
        }
        targets["time outside the model / wall (structured) < 0.02"] = {
            "value": structured.outside_model_share,
            "met": structured.outside_model_share < 0.02,
        }
    targets["peak RSS - GGUF size <= 600 MB"] = {
        "value": peak_mb - model_mb,
        "met": peak_mb - model_mb <= 600,
    }
    return targets


def format_table(document: dict[str, Any]) -> str:
    """The human-readable summary of a bench document."""
    lines = []
    ceiling = document["ceiling"]
    lines.append(
        f"model {document['model']['name']} ({document['model']['file_mb']} MB), "
        f"{document['threads']} threads, {len(document['reports'])} reports"
    )
    lines.append(
        f"llama.cpp ceiling: prompt {ceiling['prompt_rate']:.1f} tok/s, "
        f"decode {ceiling['decode_rate']:.1f} tok/s"
    )
    notebook = document["modes"].get("notebook")
    lines.append("")
    lines.append(
        f"{'mode':11} {'s/report':>9} {'reports/min':>11} {'vs notebook':>11} "
        f"{'prompt tok/s':>12} {'read tok/s':>10} {'decode tok/s':>12} "
        f"{'outside model':>13}"
    )
    for name, mode in document["modes"].items():
        ratio = (mode["reports_per_minute"] / notebook["reports_per_minute"]) if notebook else 1
        lines.append(
            f"{name:11} {mode['wall_seconds'] / mode['reports']:9.2f} "
            f"{mode['reports_per_minute']:11.2f} {ratio:10.2f}x "
            f"{mode['prompt_rate']:12.1f} {mode['report_read_rate']:10.1f} "
            f"{mode['decode_rate']:12.1f} {100 * mode['outside_model_share']:12.2f}%"
        )
    for name, mode in document["modes"].items():
        lines.append("")
        lines.append(f"{name}: per task (means)")
        lines.append(
            f"  {'task':22} {'prompt':>6} {'read':>5} {'gen':>5} {'s':>6} "
            f"{'read tok/s':>10} {'gen tok/s':>9}"
        )
        for key, task in mode["per_task"].items():
            lines.append(
                f"  {key:22} {task['prompt_tokens']:6.0f} {task['evaluated_prompt_tokens']:5.0f} "
                f"{task['generated_tokens']:5.1f} {task['seconds']:6.2f} "
                f"{task['prompt_tokens_per_second']:10.1f} "
                f"{task['generated_tokens_per_second']:9.1f}"
            )
    lines.append("")
    lines.append(f"peak RSS {document['peak_rss_mb']:.0f} MB")
    lines.append("targets:")
    for name, target in document["targets"].items():
        lines.append(f"  {'met ' if target['met'] else 'MISS'} {name}: {target['value']:.3f}")
    return "\n".join(lines)
