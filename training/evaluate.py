"""Run the product's pipeline over held-out records and compare models side by side.

`python -m training.evaluate RUN/test_records.jsonl --candidate zero-shot=qwen2.5-coder-0.5b
 --candidate fine-tuned=radlite-mini --out DIR [--per-source N] [--threads N]`
`python -m training.evaluate --devset training/devset [--devset training/checkset] --out DIR
 [--candidate ...]`: the hand-written sets (no generator wrote them), reported apart from the
 generated test split, per RADS system: the guideline tables on the features the text states
 (no model), and per candidate the product's decision (exactly as `radlite convert`) and the
 model's one-label answer alone.

A candidate is LABEL=MODEL or LABEL=MODEL+ADAPTER.gguf (a registry model, optionally with a
LoRA adapter file not yet registered). Each record runs only the tasks it has gold for, through
`Pipeline.enrich` exactly as `radlite convert` runs them (rules, grammars, confidence floor);
impressions are generated from the report without its impression, as in training. Metrics:
RADS accuracy with error severity and per-system accuracy; TNM exact match and per-axis
accuracy; entity F1; impression ROUGE-L. Writes metrics.json, report.md and report.html.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from radlite_fhir.engine.registry import Registry
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.report import Report, Status, digest
from radlite_fhir.sections import split_sections
from training.data import read_records
from training.development_set import load_devset
from training.devset_scores import devset_markdown, evaluate_devset
from training.metrics import entity_f1, rads_severity, rouge_l
from training.records import IMPRESSION, NER, RADS, TNM, Record
from training.registry_candidates import register_candidate
from training.report_html import write_reports

PRODUCT_TASKS = {RADS: "rads", TNM: "staging", NER: "ner"}
KEPT = (Status.CODED, Status.LOW_CONFIDENCE)


def as_report(record: Record, text: str) -> Report:
    return Report(
        text=text,
        source_path=f"{record.source}:{record.record_id}",
        sections=split_sections(text),
        source_digest=digest(text),
    )


def predict(pipelines: dict, record: Record) -> dict[str, object]:
    """The product's answers for the record's gold tasks."""
    tasks = tuple(PRODUCT_TASKS[k] for k in PRODUCT_TASKS if k in record.targets)
    predicted: dict[str, object] = {}
    if tasks:
        findings = pipelines[tasks].enrich(as_report(record, record.text))
        results = findings.results
        rads = [r for r in results if r.task == "rads"]
        if RADS in record.targets:
            coded = next((r.value for r in rads if r.status in KEPT), None)
            said_none = any(r.status is Status.NOT_APPLICABLE for r in rads)
            predicted[RADS] = coded or ("No applicable RADS" if said_none else None)
        if TNM in record.targets:
            predicted[TNM] = {
                r.kind: str(r.value).lstrip("cp")
                for r in results
                if r.task == "staging" and r.status in KEPT and r.value
            }
        if NER in record.targets:
            predicted[NER] = sorted(
                {
                    (r.kind.removeprefix("entity:"), str(r.value).lower())
                    for r in results
                    if r.task == "ner" and r.value
                }
            )
    if IMPRESSION in record.targets:
        findings = pipelines[("impression",)].enrich(
            as_report(record, record.findings or record.text)
        )
        predicted[IMPRESSION] = next(
            (r.value for r in findings.results if r.status is Status.CODED), ""
        )
    return predicted


def score(records: list[Record], predictions: list[dict]) -> dict[str, object]:
    rads_total, rads_right = 0, 0
    severity: Counter[str] = Counter()
    per_system: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    tnm_exact, tnm_n, axis_right, axis_n = 0, 0, Counter(), Counter()
    entity_pairs, rouge = [], []
    for record, predicted in zip(records, predictions, strict=True):
        gold = record.targets
        if RADS in gold:
            verdict = rads_severity(predicted.get(RADS), gold[RADS])
            severity[verdict] += 1
            rads_total += 1
            rads_right += verdict == "correct"
            system = gold[RADS].split(" ")[0]
            per_system[system][0] += verdict == "correct"
            per_system[system][1] += 1
        if TNM in gold:
            want, got = gold[TNM], predicted.get(TNM, {})
            tnm_n += 1
            tnm_exact += want == {k: v for k, v in got.items() if k in want or not want}
            for axis, value in want.items():
                axis_n[axis] += 1
                axis_right[axis] += got.get(axis) == value
        if NER in gold:
            entity_pairs.append(
                ({tuple(x) for x in predicted.get(NER, [])}, {(k, t.lower()) for k, t in gold[NER]})
            )
        if IMPRESSION in gold:
            rouge.append(rouge_l(str(predicted.get(IMPRESSION, "")), gold[IMPRESSION]))
    metrics: dict[str, object] = {}
    if rads_total:
        metrics["rads_accuracy"] = rads_right / rads_total
        metrics["rads_n"] = rads_total
        metrics["rads_severity"] = {k: v / rads_total for k, v in sorted(severity.items())}
        metrics["rads_per_system"] = {k: v[0] / v[1] for k, v in sorted(per_system.items())}
    if tnm_n:
        metrics["tnm_exact"] = tnm_exact / tnm_n
        metrics["tnm_n"] = tnm_n
        metrics["tnm_axis_accuracy"] = {a: axis_right[a] / axis_n[a] for a in sorted(axis_n)}
    if entity_pairs:
        metrics["entity"] = entity_f1(entity_pairs)
        metrics["entity_n"] = len(entity_pairs)
    if rouge:
        metrics["impression_rouge_l"] = sum(rouge) / len(rouge)
        metrics["impression_n"] = len(rouge)
    return metrics


def select(records: list[Record], per_source: int | None) -> list[Record]:
    if not per_source:
        return records
    taken: Counter[str] = Counter()
    chosen = []
    for record in records:
        if taken[record.source] < per_source:
            taken[record.source] += 1
            chosen.append(record)
    return chosen


def evaluate(
    records: list[Record], candidates: dict[str, str], threads: int | None, log=print
) -> dict[str, object]:
    registry = Registry.load()
    results: dict[str, object] = {"records": len(records), "candidates": {}}
    for label, text in candidates.items():
        name = register_candidate(registry, label, text)
        task_sets = {
            tuple(PRODUCT_TASKS[k] for k in PRODUCT_TASKS if k in r.targets) for r in records
        } | {("impression",)}
        pipelines = {
            tasks: Pipeline(registry, PipelineSettings(tasks=tasks, model=name, threads=threads))
            for tasks in task_sets
            if tasks
        }
        started = time.perf_counter()
        predictions = []
        for index, record in enumerate(records, start=1):
            predictions.append(predict(pipelines, record))
            if index % 10 == 0:
                elapsed = time.perf_counter() - started
                log(f"{label}: {index}/{len(records)} records, {elapsed:.0f} s")
        seconds = time.perf_counter() - started
        by_source: dict[str, object] = {}
        for source in sorted({r.source for r in records}):
            pairs = [
                (r, p) for r, p in zip(records, predictions, strict=True) if r.source == source
            ]
            by_source[source] = score([r for r, _ in pairs], [p for _, p in pairs])
        results["candidates"][label] = {
            "model": text,
            "seconds": round(seconds, 1),
            "overall": score(records, predictions),
            "by_source": by_source,
        }
        log(f"{label}: {len(records)} records in {seconds:.0f} s")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__)
    parser.add_argument(
        "records", type=Path, nargs="?", help="test_records.jsonl from training.data"
    )
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        help="LABEL=MODEL or LABEL=MODEL+ADAPTER.gguf (repeat)",
    )
    parser.add_argument(
        "--devset",
        type=Path,
        action="append",
        default=[],
        help="a folder of hand-written reports (training/devset); reported separately (repeat)",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-source", type=int, help="at most N records of each source")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    if args.records is None and not args.devset:
        parser.error("give test records, --devset, or both")
    if args.records is not None and not args.candidate:
        parser.error("test records need at least one --candidate")
    candidates = dict(c.split("=", 1) for c in args.candidate)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.records is not None:
        records = select(read_records(args.records), args.per_source)
        results = evaluate(records, candidates, args.threads)
        (args.out / "metrics.json").write_text(json.dumps(results, indent=2), "utf-8")
        write_reports(results, args.out)
        print((args.out / "report.md").read_text("utf-8"))
    for folder in args.devset:
        scores = evaluate_devset(load_devset(folder), candidates, args.threads)
        name = folder.name or "devset"
        (args.out / f"{name}.json").write_text(json.dumps(scores, indent=2), "utf-8")
        table = devset_markdown(scores, f"Hand-written set `{folder}`")
        (args.out / f"{name}.md").write_text(table, "utf-8")
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
