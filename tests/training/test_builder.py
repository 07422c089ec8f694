"""Samples are the product's own prompts; the split is by group and seed, not by row."""

from __future__ import annotations

from radlite_fhir.tasks import all_tasks
from radlite_fhir.tasks.ner import parse_entities
from radlite_fhir.tasks.profiles import RADLITE, STRUCTURED
from radlite_fhir.tasks.rads import parse_rads_answer
from radlite_fhir.tasks.staging import parse_structured
from tests.helpers import report
from training.builder import SplitConfig, build, samples, split_of, split_records
from training.records import IMPRESSION, NER, RADS, TNM, Record

RECORD = Record(
    "test",
    "r1",
    "patient-1",
    "FINDINGS: 2 cm spiculated mass in the right upper lobe.\n\nIMPRESSION: Suspicious mass.",
    {
        RADS: "Lung-RADS 4B",
        TNM: {"T": "T1b", "N": "N0", "M": "M0"},
        NER: [("anatomy", "right upper lobe"), ("observation_present", "spiculated mass")],
        IMPRESSION: "Suspicious mass.",
    },
    findings="FINDINGS: 2 cm spiculated mass in the right upper lobe.",
)


def test_structured_samples_are_the_product_prompts_and_parse_back() -> None:
    built = {s.task: s for s in samples(RECORD, [STRUCTURED])}
    product = {
        c.key: c for t in all_tasks().values() for c in t.calls(report(RECORD.text), STRUCTURED)
    }
    assert built[RADS].prompt == product["rads_assignment"].prompt
    assert built[TNM].prompt == product["tnm_staging"].prompt
    assert built[NER].prompt == product["radiology_ner"].prompt
    assert "IMPRESSION" not in built[IMPRESSION].prompt  # generated from the findings
    for sample in built.values():
        assert sample.completion.endswith("<|im_end|>")
    answer = lambda s: s.prompt[s.prompt.rindex("assistant\n") + 10 :] + s.completion[:-10]  # noqa: E731
    assert parse_rads_answer(answer(built[RADS]))[0].label == "Lung-RADS 4B"
    assert parse_structured(answer(built[TNM])) == {"T": "T1b", "N": "N0", "M": "M0"}
    assert ("anatomy", "right upper lobe") in parse_entities(answer(built[NER]))


def test_radlite_samples_use_the_contract_prompts() -> None:
    built = samples(RECORD, [RADLITE])
    tasks = [(s.task, s.prompt.split("]")[0].split("[TASK: ")[1]) for s in built]
    assert tasks == [
        (RADS, "rads_assignment"),
        (TNM, "n_staging"),
        (TNM, "m_staging"),
        (NER, "radiology_ner"),
        (IMPRESSION, "impression_generation"),
    ]
    n_answer = next(s for s in built if "n_staging" in s.prompt).completion
    assert n_answer == "Negative. N staging: N0<|im_end|>"


def test_not_applicable_staging_and_partial_tnm() -> None:
    none = Record("t", "r", "g", "Normal study.", {TNM: {}})
    assert [s.completion for s in samples(none, [STRUCTURED])] == [" Not applicable<|im_end|>"]
    partial = Record("t", "r", "g", "Pathology.", {TNM: {"T": "T2", "N": "N1"}})
    assert samples(partial, [STRUCTURED]) == []  # the structured answer needs all three axes
    assert [s.completion for s in samples(partial, [RADLITE])] == [
        "Positive. N staging: N1<|im_end|>"
    ]


def test_split_is_by_group_and_independent_of_order() -> None:
    records = [Record("s", f"r{i}", f"p{i // 3}", "text", {RADS: "BI-RADS 1"}) for i in range(300)]
    config = SplitConfig(seed=1, test_share=0.2, validation_share=0.1)
    forward = split_records(records, config)
    backward = split_records(list(reversed(records)), config)
    assert {n: {r.record_id for r in v} for n, v in forward.items()} == {
        n: {r.record_id for r in v} for n, v in backward.items()
    }
    groups = {n: {r.group for r in v} for n, v in forward.items()}
    assert not groups["train"] & groups["test"] and not groups["validation"] & groups["test"]
    assert 0.1 < len(forward["test"]) / 300 < 0.3
    assert split_of("p1", 1, 0.2, 0.1) == split_of("p1", 1, 0.2, 0.1)
    other_seed = split_records(records, SplitConfig(seed=2, test_share=0.2, validation_share=0.1))
    assert {r.record_id for r in other_seed["test"]} != {r.record_id for r in forward["test"]}


def test_weights_repeat_training_samples_only() -> None:
    parts = {"train": [RECORD], "validation": [], "test": [RECORD]}
    built = build(parts, [STRUCTURED], {RADS: 3.0, IMPRESSION: 1.0}, seed=0)
    assert sum(s.task == RADS for s in built["train"]) == 3
    assert sum(s.task == RADS for s in built["test"]) == 1
