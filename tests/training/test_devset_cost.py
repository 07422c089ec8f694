"""What the RADS work costs per report on a hand-written set (issue 15's cost target), measured
by `training.evaluate --devset` from the very model calls the product made.

Run on SmolLM2-135M (the fast test model) over reports of the ninth set the tables decide
(one label call each) and the ones they leave indeterminate (feature questions after the
label)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.development_set import load_devset
from training.devset_scores import TABLES, devset_markdown, evaluate_devset, table_label

NINTH = Path(__file__).resolve().parents[2] / "training" / "ninthset"


@pytest.mark.model
def test_the_rads_cost_per_report_splits_the_label_call_from_the_feature_questions(
    home_with_models: Path,
) -> None:
    with_system = [r for r in load_devset(NINTH) if r.system is not None]
    undecided = [r for r in with_system if table_label(r) is None]
    decided = [r for r in with_system if table_label(r) is not None][:3]
    assert undecided, "the ninth set has reports the tables leave indeterminate"
    records = decided + undecided
    results = evaluate_devset(records, {"tiny": "smollm2-135m"}, 1, log=lambda _: None)
    cost = results["rads_cost"]["tiny"]
    assert cost["label_s"] > 0 and cost["features_s"] >= 0 and cost["reading_s"] > 0
    # Only reports the tables leave undecided ask questions, at most four each.
    assert 1 <= cost["asked_reports"] <= len(undecided)
    assert cost["asked_reports"] <= cost["questions"] <= 4 * cost["asked_reports"]
    expected = (cost["label_s"] + cost["features_s"] + cost["reading_s"]) / cost["label_s"]
    assert cost["ratio"] == pytest.approx(expected, abs=0.002)
    assert cost["reading_s"] * len(records) == pytest.approx(results["seconds"][TABLES], abs=0.01)
    assert "RADS cost per report, tiny: label call" in devset_markdown(results, "ninth")
