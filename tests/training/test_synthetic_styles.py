"""The generator's promises for the feature reader's training data: many house styles, labels
only from the ACR tables, a configured share of exams no RADS system covers."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from radlite_fhir.coding import load_code_tables
from radlite_fhir.guidelines import assess
from radlite_fhir.sections import split_sections
from training.records import RADS, RADS_FEATURES, Record
from training.synthetic.generator import GENERATORS, Mix, generate, schedule
from training.synthetic.styles import BRITISH, british

NO_RADS = "No applicable RADS"


@pytest.fixture(scope="module")
def batch() -> list[Record]:
    return generate(900, seed=11)


def test_every_rads_label_is_what_the_table_computes_from_the_feature_record(
    batch: list[Record],
) -> None:
    tables = load_code_tables()
    checked = 0
    for record in batch:
        target = record.targets.get(RADS_FEATURES)
        if target is None:
            assert record.targets[RADS] == NO_RADS
            continue
        category = assess(target["system"], target["lesions"]).category
        assert category is not None, record.record_id
        found = tables.rads_category(f"{target['system']} {category}")
        assert found is not None and found.label == record.targets[RADS], record.record_id
        checked += 1
    assert checked > 300


def test_several_lesions_and_the_highest_risk_one_decides(batch: list[Record]) -> None:
    """A report with several lesions whose categories differ: the label is the riskiest one's
    (assess on all lesions differs from assess on the first alone in some reports)."""
    differs = 0
    for record in batch:
        target = record.targets.get(RADS_FEATURES)
        if target and len(target["lesions"]) > 1:
            first = assess(target["system"], target["lesions"][:1]).category
            differs += first != assess(target["system"], target["lesions"]).category
    assert differs >= 10


@pytest.mark.parametrize("share", [0.2, 0.35, 0.5])
def test_no_rads_share_is_the_configured_one(share: float) -> None:
    records = generate(200, seed=2, mix=Mix(no_rads_share=share))
    none = sum(r.targets[RADS] == NO_RADS for r in records) / len(records)
    assert abs(none - share) <= 0.01
    assert set(schedule(200, Mix(no_rads_share=share))) == set(GENERATORS)


def test_default_no_rads_share_is_about_a_third() -> None:
    records = generate(300, seed=4)
    none = sum(r.targets[RADS] == NO_RADS for r in records) / len(records)
    assert 0.30 <= none <= 0.40


def _has(batch: list[Record], pattern: str, flags: int = re.MULTILINE) -> int:
    return sum(bool(re.search(pattern, r.text, flags)) for r in batch)


@pytest.mark.parametrize(
    ("institution", "patterns"),
    [
        ("US academic", [r"^FINDINGS$", r"^IMPRESSION$"]),
        ("US community", [r"^Findings: ", r"^Impression: "]),
        ("UK NHS", [r"^Report: ", r"^(Conclusion|Opinion): ", r"^Clinical (details|info)"]),
        ("Australian", [r"^Clinical notes:$", r"^Comment:$"]),
        ("European", [r"^Description: ", r"^Indication: "]),
    ],
)
def test_each_heading_set_appears(batch: list[Record], institution: str, patterns) -> None:
    both = [r for r in batch if all(re.search(p, r.text, re.MULTILINE) for p in patterns)]
    assert len(both) >= 10, institution


def test_reports_with_no_headings_at_all(batch: list[Record]) -> None:
    """Dictation: the product's own section finder sees no heading in them."""
    bare = [r for r in batch if not any(s.heading for s in split_sections(r.text))]
    assert len(bare) >= 30
    assert any(RADS_FEATURES in r.targets for r in bare)


def test_british_and_american_spelling(batch: list[Record]) -> None:
    british_words = "|".join(BRITISH.values())
    american_words = "|".join(BRITISH)
    assert _has(batch, rf"\b({british_words})\b", re.I) >= 30
    assert _has(batch, rf"\b({american_words})\b", re.I) >= 30
    assert _has(batch, r"\bcentimetres\b") >= 3 and _has(batch, r"\bcentimeters\b") >= 3
    assert _has(batch, r"\boesophag") >= 5 and _has(batch, r"\besophag") >= 5
    assert british("Hemorrhagic cyst, color score 2, 3 centimeters.") == (
        "Haemorrhagic cyst, colour score 2, 3 centimetres."
    )


@pytest.mark.parametrize(
    ("what", "pattern", "least"),
    [
        ("template blocks", r"^(Nodule|Observation|Obs|Lesion|Finding|TIRADS nodule) 1:$", 30),
        ("tables", r"^\| 1 \|", 30),
        # The layouts the hand-written sets' authors used that no rule round generalised from.
        ("lettered items with bullets", r"^[\w #]+ A — .+\n  - ", 15),
        ("questions answered", r"^Size\? \d", 15),
        ("field = value exports", r"^Size = \d", 15),
        ("dotted-leader checklists", r"^Size \.{10} \d", 15),
        ("numbered impressions", r"^1\. .*\n2\. ", 50),
        ("priors", r"\b(Compared with|[Pp]reviously|increased from|unchanged from|stable)", 50),
        ("management advice", r"\b(FNA|biopsy|follow-up|MDT)\b", 150),
        ("negations", r"\b(no echogenic foci|no calcifications|without washout|No free fluid)", 20),
        ("incidental findings", r"(emphysema|hiatus hernia|splenomegaly|varices)", 20),
        ("abbreviations", r"\b(hypoecho|SOL|c/w|r/o|LDCT|APHE|PZ|TZ|CS \d)\b", 100),
        ("centimetres", r"\d\.\d cm\b", 100),
        ("millimetres", r"\d mm\b", 200),
        ("terse lines", r"^[A-Z][\w ,]+: [\d.x ]+ (mm|cm) ", 20),
    ],
)
def test_styles_appear(batch: list[Record], what: str, pattern: str, least: int) -> None:
    assert _has(batch, pattern) >= least, what


def test_advice_does_not_echo_the_category_when_it_is_withheld(batch: list[Record]) -> None:
    """Category words ('probably benign', 'highly suggestive', 'TR4') stand only in reports
    that state the category: the impression gives management, not the table's words."""
    echo = re.compile(
        r"probably benign|highly suggestive|low suspicion|moderate suspicion|"
        r"\b(TR|LR-)\d|category",
        re.I,
    )
    from radlite_fhir.rules import find_rads

    for record in batch:
        if record.targets[RADS] != NO_RADS and not find_rads(record.text):
            assert not echo.search(record.text), record.record_id


def test_every_system_and_most_categories_are_generated(batch: list[Record]) -> None:
    labels = Counter(r.targets[RADS] for r in batch)
    systems = Counter(label.rsplit(" ", 1)[0] for label in labels if label != NO_RADS)
    assert set(systems) == {"BI-RADS", "TI-RADS", "Lung-RADS", "LI-RADS", "PI-RADS", "O-RADS"}
    assert len(labels) >= 30
