"""RadGraph (1.0: one JSON object keyed by report path, entities with 'tokens' and 'label',
dev/test annotated under labeler_1) and RadGraph-XL (DyGIE JSON lines: 'sentences' token lists
and 'ner' [start, end, label] spans, end inclusive).

Labels map to the product's NER kinds: ANAT-DP / 'Anatomy::definitely present' -> anatomy;
OBS-DP, OBS-DA, OBS-U and the XL 'Observation::...' labels -> observation present / absent /
uncertain. Split by patient (pNNNNNNNN in the MIMIC path) where the key names one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from training.records import NER, Record, SourceError

KINDS = {
    "anat-dp": "anatomy",
    "obs-dp": "observation_present",
    "obs-da": "observation_absent",
    "obs-u": "observation_uncertain",
    "anatomy::definitely present": "anatomy",
    "anatomy::definitely absent": "anatomy",
    "anatomy::uncertain": "anatomy",
    "observation::definitely present": "observation_present",
    "observation::definitely absent": "observation_absent",
    "observation::uncertain": "observation_uncertain",
}


def kind_of(label: str, where: str) -> str:
    kind = KINDS.get(label.strip().lower())
    if kind is None:
        raise SourceError(where, f"unknown RadGraph entity label {label!r}")
    return kind


def group_of(key: str) -> str:
    match = re.search(r"\bp(\d{6,})\b", key)
    return f"p{match.group(1)}" if match else key


def _from_dict_format(path: Path, data: dict[str, Any]) -> Iterator[Record]:
    for key, doc in data.items():
        annotated = doc if "entities" in doc else doc.get("labeler_1", {})
        if "text" not in doc or "entities" not in annotated:
            raise SourceError(path, f"report {key!r} has no text or entities")
        entities = sorted(annotated["entities"].values(), key=lambda e: e["start_ix"])
        items = [(kind_of(e["label"], f"{path}:{key}"), e["tokens"]) for e in entities]
        yield Record("radgraph", key, group_of(key), doc["text"], {NER: items})


def _from_dygie(path: Path, line: str, number: int) -> Record:
    where = f"{path}:{number}"
    try:
        doc = json.loads(line)
        tokens = [t for sentence in doc["sentences"] for t in sentence]
        spans = [span for sentence in doc["ner"] for span in sentence]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SourceError(where, f"not a DyGIE RadGraph-XL document: {exc}") from None
    items = [
        (kind_of(label, where), " ".join(tokens[start : end + 1]))
        for start, end, label in sorted(spans)
    ]
    key = str(doc.get("doc_key", number))
    return Record("radgraph-xl", key, group_of(key), " ".join(tokens), {NER: items})


def load(path: Path) -> Iterator[Record]:
    files = sorted([*path.rglob("*.json"), *path.rglob("*.jsonl")]) if path.is_dir() else [path]
    for file in files:
        text = file.read_text("utf-8")
        stripped = text.lstrip()
        if stripped.startswith("{") and '"sentences"' not in stripped[:2000]:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SourceError(file, f"not JSON: {exc}") from None
            yield from _from_dict_format(file, data)
        else:
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    yield _from_dygie(file, line, number)
