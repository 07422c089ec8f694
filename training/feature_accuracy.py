"""Feature by feature: does a model read what a hand-written report states?

`python -m training.feature_accuracy --devset training/twentysixthset [--devset ...]
 [--candidate LABEL=MODEL[+ADAPTER.gguf] ...] --out DIR [--threads N]`

The product asks a model for a feature only where its lexicon leaves one missing, so on a
hand-written set the product's decision moves with the model on a handful of reports (4 of 60
on the twenty-sixth set): too few to tell one extractor from another. This asks every gold
feature instead, exactly as the product asks (`question_call`: the shared prefix, the question,
the value grammar; then `ground`: the confidence floor and the quotation that must stand in the
lesion's text). It asks only where "lesion 1" names one lesion for certain: the
reports whose gold record and whose reading both hold one lesion (the others are counted).

Per system, for each candidate: right (the grounded value is the gold one), wrong (grounded,
another value), dropped (the answer fails the floor or the grounding, as the product drops it;
the reasons are counted), and written right (the value before the floor and the grounding).
Beside them, the lexicon's own reading of the same features: right, wrong, not read. A
feature of several terms (echogenic foci) is compared by its highest-scoring term, the one the
table adds. Nothing here is trained on: the sets are the hand-written ones.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from radlite_fhir.engine import runtime
from radlite_fhir.engine.registry import Registry
from radlite_fhir.engine.runtime import Runtime
from radlite_fhir.features.reader import FeatureReading, Grounded
from radlite_fhir.guidelines import GUIDELINES, FieldKind, FieldSpec, RadsSystem
from radlite_fhir.pipeline import model_info
from radlite_fhir.report import ModelInfo
from radlite_fhir.tasks import answer_from
from radlite_fhir.tasks.rads import reading_of
from radlite_fhir.tasks.rads_features import (
    Dropped,
    FeatureQuestion,
    ground,
    question_call,
    written_value,
)
from training.development_set import DevRecord, load_devset
from training.registry_candidates import register_candidate

LEXICON = "lexicon"


class Outcome(StrEnum):
    """A reader's value for one gold feature."""

    RIGHT = "right"
    WRONG = "wrong"
    DROPPED = "dropped"  # for the lexicon: not read


@dataclass(frozen=True)
class FeatureItem:
    """One gold feature of a one-lesion report, asked about lesion 1."""

    record: DevRecord
    reading: FeatureReading
    system: RadsSystem
    spec: FieldSpec
    gold: Any


def deciding_value(spec: FieldSpec, value: Any) -> Any:
    """The value as the table weighs it: of several terms, the highest-scoring; a number as
    float (gold sizes are written as integers, answers as decimals)."""
    if spec.kind is FieldKind.TERMS:
        terms = [value] if isinstance(value, str) else list(value or ())
        known = [t for t in terms if t in spec.terms]
        return max(known, key=spec.terms.index) if known else None
    if spec.kind is FieldKind.NUMBER and not isinstance(value, bool):
        return round(float(value), 1) if isinstance(value, int | float) else None
    return value


def outcome(spec: FieldSpec, gold: Any, read: Any | None) -> Outcome:
    if read is None:
        return Outcome.DROPPED
    return (
        Outcome.RIGHT if deciding_value(spec, read) == deciding_value(spec, gold) else Outcome.WRONG
    )


def items(records: list[DevRecord]) -> tuple[list[FeatureItem], Counter]:
    """The features to ask about, and why the others were not asked (counts)."""
    asked: list[FeatureItem] = []
    skipped: Counter = Counter()
    for record in records:
        if record.system is None:
            continue
        if len(record.lesions) != 1:
            skipped["gold record has several lesions (or none)"] += 1
            continue
        reading = reading_of(record.report())
        if reading.system is not record.system or len(reading.lesions) != 1:
            skipped["reading has another system or lesion count"] += 1
            continue
        specs = {spec.name: spec for spec in GUIDELINES[record.system].fields()}
        for name, gold in record.lesions[0].items():
            spec = specs.get(name)
            if spec is not None and deciding_value(spec, gold) is not None:
                asked.append(FeatureItem(record, reading, record.system, spec, gold))
    return asked, skipped


def lexicon_outcome(item: FeatureItem) -> Outcome:
    found = item.reading.lesions[0].features.get(item.spec.name)
    return outcome(item.spec, item.gold, None if found is None else found.value)


@dataclass(frozen=True)
class ModelOutcome:
    """One question to one model: what the product keeps, the value written before the floor
    and the grounding, and why a dropped answer was dropped."""

    kept: Outcome
    written: Outcome
    dropped_because: Dropped | None


def model_outcome(item: FeatureItem, model: Runtime, info: ModelInfo) -> ModelOutcome:
    """Ask as the product asks."""
    question = FeatureQuestion(0, item.spec)
    call = question_call(item.record.text, item.system, question)
    answer = answer_from(call, model.complete(call), info)
    found = ground(question, item.record.text, item.reading, answer)
    kept = found.value if isinstance(found, Grounded) else None
    return ModelOutcome(
        kept=outcome(item.spec, item.gold, kept),
        written=outcome(item.spec, item.gold, written_value(question, item.system, answer)),
        dropped_because=found if isinstance(found, Dropped) else None,
    )


def tally(asked: list[FeatureItem], results: list[Outcome]) -> dict[str, dict[Outcome, int]]:
    """Outcome counts per system and over all ("all")."""
    table: dict[str, dict[Outcome, int]] = defaultdict(lambda: dict.fromkeys(Outcome, 0))
    for item, result in zip(asked, results, strict=True):
        table[item.system.value][result] += 1
        table["all"][result] += 1
    return dict(table)


def right_where_lexicon_is_not(results: list[Outcome], lexicon: list[Outcome]) -> int:
    """How many features a reader has right that the lexicon does not read right: what it
    could add to the product, which asks a model only where the lexicon leaves a gap."""
    return sum(
        r == Outcome.RIGHT and x != Outcome.RIGHT for r, x in zip(results, lexicon, strict=True)
    )


def markdown(
    per_reader: dict[str, list[Outcome]],
    written: dict[str, list[Outcome]],
    asked: list[FeatureItem],
    skipped: Counter,
) -> str:
    """Right/asked per system for each reader (what the product keeps), the values a model
    writes right before the floor and the grounding, and, kept and written, what it reads right
    that the lexicon does not: kept is what it adds today; written is the most a better floor
    could let it add."""
    systems = [s.value for s in RadsSystem if any(i.system is s for i in asked)]
    not_asked = ", ".join(f"{n} reports: {why}" for why, n in skipped.items()) or "none"
    lexicon = per_reader[LEXICON]
    misses = sum(x != Outcome.RIGHT for x in lexicon)
    lines = [
        f"Features asked: {len(asked)} (one-lesion reports); not asked: {not_asked}",
        "",
        "| reader | " + " | ".join(systems) + " | all kept right | wrong | dropped | written "
        "right (before floor and grounding) | kept right where the lexicon is not | written right "
        f"where the lexicon is not (of {misses}) |",
        "|---" * (len(systems) + 7) + "|",
    ]
    for reader, results in per_reader.items():
        table = tally(asked, results)
        cells = [f"{table[s][Outcome.RIGHT]}/{sum(table[s].values())}" for s in [*systems, "all"]]
        raw = written.get(reader)
        written_right = "–" if raw is None else raw.count(Outcome.RIGHT)
        kept_beyond = "–" if reader == LEXICON else right_where_lexicon_is_not(results, lexicon)
        written_beyond = "–" if raw is None else right_where_lexicon_is_not(raw, lexicon)
        wrong, dropped = table["all"][Outcome.WRONG], table["all"][Outcome.DROPPED]
        lines.append(
            f"| {reader} | {' | '.join(cells)} | {wrong} | {dropped} | {written_right} | "
            f"{kept_beyond} | {written_beyond} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.feature_accuracy", description=__doc__
    )
    parser.add_argument("--devset", type=Path, action="append", required=True)
    parser.add_argument("--candidate", action="append", default=[], help="LABEL=MODEL[+ADAPTER]")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    records = [r for folder in args.devset for r in load_devset(folder)]
    asked, skipped = items(records)
    per_reader = {LEXICON: [lexicon_outcome(i) for i in asked]}
    written: dict[str, list[Outcome]] = {}
    dropped: dict[str, Counter] = {}
    registry = Registry.load()
    for text in args.candidate:
        label, _, model_text = text.partition("=")
        spec = registry.get(register_candidate(registry, label, model_text))
        model = runtime.load(spec, args.threads)
        info = model_info(spec)
        outcomes = [model_outcome(i, model, info) for i in asked]
        per_reader[label] = [o.kept for o in outcomes]
        written[label] = [o.written for o in outcomes]
        dropped[label] = Counter(o.dropped_because for o in outcomes if o.dropped_because)
        print(f"{label}: {tally(asked, per_reader[label])['all']}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    detail = [
        {"id": i.record.record_id, "field": i.spec.name, "gold": i.gold}
        | {reader: results[n] for reader, results in per_reader.items()}
        | {f"{reader} written": results[n] for reader, results in written.items()}
        for n, i in enumerate(asked)
    ]
    scores = {reader: tally(asked, results) for reader, results in per_reader.items()}
    (args.out / "feature_accuracy.json").write_text(
        json.dumps(
            {
                "scores": scores,
                "dropped_because": {k: dict(v) for k, v in dropped.items()},
                "skipped": dict(skipped),
                "items": detail,
            },
            indent=1,
        ),
        "utf-8",
    )
    table = markdown(per_reader, written, asked, skipped) + "".join(
        f"\n{label} dropped: " + ", ".join(f"{n} {why}" for why, n in reasons.most_common())
        for label, reasons in dropped.items()
    )
    (args.out / "feature_accuracy.md").write_text(table, "utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
