"""RadNLI and MedNLI: JSON lines with sentence1 (premise), sentence2 (hypothesis), gold_label.

The text is RadLite's 'Premise: ... Hypothesis: ...'. Split by premise, so one premise's
pairs never sit on both sides.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from training.records import NLI, Record, SourceError

LABELS = {"entailment", "contradiction", "neutral"}


def load(path: Path) -> Iterator[Record]:
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    for file in files:
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    premise, hypothesis = item["sentence1"].strip(), item["sentence2"].strip()
                    gold = item["gold_label"].strip().lower()
                except (json.JSONDecodeError, KeyError, AttributeError) as exc:
                    raise SourceError(f"{file}:{number}", f"not an NLI pair: {exc}") from None
                if gold not in LABELS:
                    raise SourceError(f"{file}:{number}", f"gold_label {gold!r} not in {LABELS}")
                pair_id = str(item.get("pair_id") or item.get("pairID") or f"{file.stem}-{number}")
                group = hashlib.sha256(premise.encode()).hexdigest()[:16]
                text = f"Premise: {premise} Hypothesis: {hypothesis}"
                yield Record(file.stem, pair_id, group, text, {NLI: gold})
