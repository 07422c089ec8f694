"""The paper's metrics (accuracy, ROUGE-L, Jaccard, per-label accuracy, entity F1) and RADS
error severity (overcall / undercall within a system, as ranked in mappings/rads.yaml)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from radlite_fhir.coding import load_code_tables


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens (longest common subsequence)."""
    a, b = words(prediction), words(reference)
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    lcs = previous[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def jaccard(prediction: Iterable[str], reference: Iterable[str]) -> float:
    a, b = set(prediction), set(reference)
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def entity_f1(pairs: Iterable[tuple[set, set]]) -> dict[str, float]:
    """Micro precision / recall / F1 over (kind, lower-cased text) sets per report."""
    tp = fp = fn = 0
    for predicted, gold in pairs:
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def rads_severity(predicted: str | None, gold: str) -> str:
    """'correct', 'overcall', 'undercall', 'same rank' (4A for 4B), 'unranked' (0, NC...),
    'wrong system', 'missed' (no RADS or nothing where one applies), 'spurious' (a category
    where none applies)."""
    if predicted == gold:
        return "correct"
    tables = load_code_tables()
    none = tables.no_applicable_label
    if gold == none:
        return "spurious" if predicted else "missed"
    if predicted in (None, none):
        return "missed"
    p, g = tables.rads_category(predicted), tables.rads_category(gold)
    if p is None or g is None or p.system != g.system:
        return "wrong system"
    if p.rank is None or g.rank is None:
        return "unranked"
    if p.rank == g.rank:
        return "same rank"
    return "overcall" if p.rank > g.rank else "undercall"
