"""The feature-by-feature evaluation (training.feature_accuracy): which features it asks, how it
scores the lexicon's and a model's value against the hand-written gold, and the whole path
with a real model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from radlite_fhir.guidelines import GUIDELINES, RadsSystem
from training.development_set import load_devset
from training.feature_accuracy import (
    LEXICON,
    Outcome,
    deciding_value,
    items,
    lexicon_outcome,
    main,
    markdown,
)

TRAINING = Path(__file__).resolve().parents[2] / "training"
TWENTYSIXTH = TRAINING / "twentysixthset"


def _spec(system: RadsSystem, name: str):
    return next(s for s in GUIDELINES[system].fields() if s.name == name)


def test_several_terms_are_weighed_by_the_highest_scoring_one_and_sizes_as_numbers() -> None:
    foci = _spec(RadsSystem.TI_RADS, "echogenic_foci")
    size = _spec(RadsSystem.TI_RADS, "size_mm")
    assert deciding_value(foci, ["none", "punctate"]) == "punctate"
    assert deciding_value(foci, ("punctate",)) == deciding_value(foci, "punctate")
    assert deciding_value(foci, ["not_a_term"]) is None
    assert deciding_value(size, 16) == deciding_value(size, 16.0) == 16.0


def test_only_one_lesion_reports_whose_reading_agrees_are_asked() -> None:
    records = load_devset(TWENTYSIXTH)
    asked, skipped = items(records)
    assert asked and sum(skipped.values()) > 0
    by_id = {r.record_id: r for r in records}
    for item in asked:
        record = by_id[item.record.record_id]
        assert record.system is item.system and len(record.lesions) == 1
        assert len(item.reading.lesions) == 1
        assert item.gold == record.lesions[0][item.spec.name]
    assert not any(i.record.system is None for i in asked)


def test_the_lexicon_is_scored_against_the_gold_value() -> None:
    record = next(r for r in load_devset(TWENTYSIXTH) if r.record_id == "t26-ti-rads-03")
    asked, _ = items([record])
    composition = next(i for i in asked if i.spec.name == "composition")
    assert lexicon_outcome(composition) == Outcome.RIGHT  # "mixed solid and cystic"
    other = dataclasses.replace(composition, gold="solid")
    assert lexicon_outcome(other) == Outcome.WRONG
    unread = dataclasses.replace(
        composition,
        reading=dataclasses.replace(
            composition.reading,
            lesions=(dataclasses.replace(composition.reading.lesions[0], features={}),),
        ),
    )
    assert lexicon_outcome(unread) == Outcome.DROPPED


def test_the_table_counts_what_a_model_reads_right_where_the_lexicon_does_not() -> None:
    asked, skipped = items(load_devset(TWENTYSIXTH))
    lexicon = [lexicon_outcome(i) for i in asked]
    perfect = [Outcome.RIGHT] * len(asked)
    table = markdown({LEXICON: lexicon, "perfect": perfect}, {"perfect": perfect}, asked, skipped)
    row = next(line for line in table.splitlines() if line.startswith("| perfect |"))
    gaps = sum(x != Outcome.RIGHT for x in lexicon)
    assert gaps > 0
    # Kept and written alike, a perfect reader has every gap the lexicon leaves right.
    assert row.endswith(f"| {len(asked)} | {gaps} | {gaps} |")
    assert f"{len(asked)}/{len(asked)}" in row
    # Written right only where the lexicon is right already: it could add nothing.
    echo = [Outcome.RIGHT if x == Outcome.RIGHT else Outcome.WRONG for x in lexicon]
    table = markdown({LEXICON: lexicon, "echo": echo}, {"echo": echo}, asked, skipped)
    row = next(line for line in table.splitlines() if line.startswith("| echo |"))
    assert row.endswith(f"| {len(asked) - gaps} | 0 | 0 |")
    assert f"(of {gaps})" in table


@pytest.mark.model
def test_a_real_model_is_asked_every_feature_as_the_product_asks(
    home_with_models: Path, tmp_path: Path
) -> None:
    source = yaml.safe_load((TWENTYSIXTH / "ti-rads.yaml").read_text("utf-8"))
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "ti-rads.yaml").write_text(yaml.safe_dump(source[2:4]), "utf-8")
    out = tmp_path / "out"
    assert (
        main(["--devset", str(folder), "--candidate", "tiny=smollm2-135m", "--out", str(out)]) == 0
    )
    result = json.loads((out / "feature_accuracy.json").read_text("utf-8"))
    assert len(result["items"]) == 12  # two one-lesion reports, six gold features each
    assert {item["tiny"] for item in result["items"]} <= set(Outcome)
    assert {item["tiny written"] for item in result["items"]} <= set(Outcome)
    # What the product keeps was written first: a value kept right was written right.
    assert all(
        i["tiny written"] == Outcome.RIGHT for i in result["items"] if i["tiny"] == Outcome.RIGHT
    )
    assert sum(result["scores"]["tiny"]["all"].values()) == len(result["items"])
    dropped = result["scores"]["tiny"]["all"][Outcome.DROPPED]
    assert sum(result["dropped_because"].get("tiny", {}).values()) == dropped
    assert "| tiny |" in (out / "feature_accuracy.md").read_text("utf-8")
