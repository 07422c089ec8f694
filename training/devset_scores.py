"""Scores on the hand-written sets, per RADS system, as the issue's targets read them.

For each report that has a system: right (system and category), undercall (lower category or
none), overcall (higher category), wrong system; for reports where no system applies: a category
coded anyway ("spurious"). Three readers side by side: the guideline tables on the features the
text states (no model), and per candidate the product's decision (statement > tables > model
label above the confidence floor) and the model's one-label answer alone (no floor).

Beside them, what the RADS work costs per report on each candidate (issue 15's cost target: at
most 1.5x the one-label answer): the label call's model seconds (the report is read in it,
since only the RADS task runs), the feature questions' seconds, and reading the features with
the lexicon.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from radlite_fhir.engine.registry import Registry
from radlite_fhir.features.reader import read_features
from radlite_fhir.guidelines import GUIDELINES, RadsSystem
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.report import Status
from radlite_fhir.tasks.rads import KEY as LABEL_KEY
from radlite_fhir.tasks.rads import parse_rads_answer
from radlite_fhir.tasks.rads_policy import label_of
from training.development_set import DevRecord
from training.registry_candidates import register_candidate

NONE = "none"
TABLES = "tables (no model)"


def verdict(record: DevRecord, label: str | None) -> str:
    """right / undercall / overcall / wrong system / missed for a RADS report; for a report
    with no system: right (nothing coded) or spurious."""
    if record.system is None:
        return "right" if label is None else "spurious"
    if label is None:
        return "missed"
    system, _, category = label.partition(" ")
    if system != record.system.value:
        return "wrong system"
    if category == record.category:
        return "right"
    order = GUIDELINES[record.system].order
    if category not in order or record.category not in order:
        return "wrong"
    return "undercall" if order.index(category) < order.index(record.category or "") else "overcall"


def table_label(record: DevRecord) -> str | None:
    report = record.report()
    assessment = read_features(report.text, report.sections, report.code_text).assessment()
    if assessment is None or assessment.category is None:
        return None
    return label_of(assessment)


def summarise(records: list[DevRecord], labels: list[str | None]) -> dict[str, Any]:
    by_system: dict[str, Counter[str]] = defaultdict(Counter)
    for record, label in zip(records, labels, strict=True):
        by_system[record.system.value if record.system else NONE][verdict(record, label)] += 1
    out: dict[str, Any] = {}
    for system, counts in sorted(by_system.items()):
        n = sum(counts.values())
        row: dict[str, Any] = {"n": n, "accuracy": counts["right"] / n}
        if system == NONE:
            row["spurious"] = counts["spurious"] / n
        else:
            row["undercall"] = (counts["undercall"] + counts["missed"]) / n
            row["missed"] = counts["missed"] / n
            row["overcall"] = counts["overcall"] / n
            row["wrong_system"] = counts["wrong system"] / n
        out[system] = row
    return out


def evaluate_devset(
    records: list[DevRecord], candidates: dict[str, str], threads: int | None, log=print
) -> dict[str, Any]:
    started = time.perf_counter()
    results: dict[str, Any] = {
        "records": len(records),
        "readers": {TABLES: summarise(records, [table_label(r) for r in records])},
        "seconds": {TABLES: round(time.perf_counter() - started, 2)},
    }
    registry = Registry.load()
    for label, text in candidates.items():
        name = register_candidate(registry, label, text)
        pipeline = Pipeline(
            registry, PipelineSettings(tasks=("rads",), model=name, threads=threads)
        )
        decided, alone = [], []
        cost = {"label_seconds": 0.0, "feature_seconds": 0.0, "questions": 0, "asked_reports": 0}
        started = time.perf_counter()
        for index, record in enumerate(records, start=1):
            findings = pipeline.enrich(record.report())
            questions = [t for t in findings.timings if t.task != LABEL_KEY]
            cost["label_seconds"] += sum(t.seconds for t in findings.timings if t.task == LABEL_KEY)
            cost["feature_seconds"] += sum(t.seconds for t in questions)
            cost["questions"] += len(questions)
            cost["asked_reports"] += bool(questions)
            main = next((r for r in findings.results if r.kind == "rads"), None)
            decided.append(main.value if main and main.status is Status.CODED else None)
            raw = main.raw_answer if main else None
            category, _ = parse_rads_answer(raw) if raw else (None, False)
            alone.append(category.label if category else None)
            if index % 20 == 0:
                log(f"{label}: {index}/{len(records)}")
        results["seconds"][label] = round(time.perf_counter() - started, 1)
        results.setdefault("rads_cost", {})[label] = _cost_per_report(
            cost, results["seconds"][TABLES], len(records)
        )
        results["readers"][f"{label}: product decision"] = summarise(records, decided)
        results["readers"][f"{label}: model label alone"] = summarise(records, alone)
    return results


def _cost_per_report(cost: dict[str, Any], reading_seconds: float, n: int) -> dict[str, Any]:
    label, features = cost["label_seconds"] / n, cost["feature_seconds"] / n
    reading = reading_seconds / n
    return {
        "label_s": round(label, 3),
        "features_s": round(features, 3),
        "reading_s": round(reading, 4),
        "questions": cost["questions"],
        "asked_reports": cost["asked_reports"],
        "ratio": round((label + features + reading) / label, 3) if label else None,
    }


def devset_markdown(results: dict[str, Any], title: str) -> str:
    """Per system: accuracy (undercall / overcall / wrong system), spurious for no-RADS."""
    readers = list(results["readers"])
    systems = [s.value for s in RadsSystem] + [NONE]
    lines = [f"## {title} ({results['records']} reports)", ""]
    lines.append("| system | n | " + " | ".join(readers) + " |")
    lines.append("|---|---|" + "---|" * len(readers))
    for system in systems:
        cells, n = [], 0
        for reader in readers:
            row = results["readers"][reader].get(system)
            if row is None:
                cells.append("-")
                continue
            n = row["n"]
            if system == NONE:
                cells.append(f"{row['accuracy']:.2f} (coded {row['spurious']:.2f})")
            else:
                cells.append(
                    f"{row['accuracy']:.2f} (under {row['undercall']:.2f} / over "
                    f"{row['overcall']:.2f} / wrong system {row['wrong_system']:.2f})"
                )
        if n:
            lines.append(f"| {system} | {n} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Seconds: " + ", ".join(f"{k} {v}" for k, v in results["seconds"].items()) + ".")
    for label, c in results.get("rads_cost", {}).items():
        lines.append(
            f"\nRADS cost per report, {label}: label call {c['label_s']:.2f} s (the report read "
            f"in it), feature questions {c['features_s']:.3f} s ({c['questions']} questions on "
            f"{c['asked_reports']} of {results['records']} reports), reading the features "
            f"{1000 * c['reading_s']:.0f} ms: {c['ratio']}x the label call (target <= 1.5x)."
        )
    return "\n".join(lines) + "\n"
