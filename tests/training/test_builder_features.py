"""Feature-question samples: the product's own question, a value the table's schema admits and
a quotation that stands in the report, parsed back by the product's own answer reader."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from radlite_fhir.engine.calls import IM_END
from radlite_fhir.features.reader import FeatureReading, LesionReading, read_features
from radlite_fhir.guidelines import GUIDELINES, FieldKind, RadsSystem, record_from_mapping
from radlite_fhir.report import ModelInfo
from radlite_fhir.sections import split_sections
from radlite_fhir.tasks import Answer
from radlite_fhir.tasks.profiles import STRUCTURED, structured_prefix
from radlite_fhir.tasks.rads_features import FeatureQuestion, grounded_answer
from tests.conftest import REPO
from training.builder import DEFAULT_TASKS, build, samples
from training.feature_questions import FeatureSample, asked_by_product, feature_questions
from training.recipe import load_recipe
from training.records import RADS, RADS_FEATURES, Record
from training.synthetic.generator import generate

MODEL = ModelInfo("test", "0" * 64, "1", STRUCTURED, "structured-v3")
RECIPES = REPO / "training" / "recipes"


@pytest.fixture(scope="module")
def batch() -> list[Record]:
    return generate(500, seed=21)


@pytest.fixture(scope="module")
def questions(batch: list[Record]) -> list[tuple[Record, FeatureSample]]:
    return [(r, q) for r in batch for q in feature_questions(r, 99)]


def _parsed(kind: FieldKind, word: str) -> object:
    if kind is FieldKind.FLAG:
        return {"yes": True, "no": False}[word]
    if kind is FieldKind.SCORE:
        return int(word)
    if kind is FieldKind.NUMBER:
        return float(word)
    return word


def test_every_quotation_stands_in_its_report(questions) -> None:
    assert len(questions) > 1000
    for record, question in questions:
        assert question.quote and question.quote in record.text, record.record_id
        assert '"' not in question.quote and "\n" not in question.quote
        assert question.prompt.startswith(structured_prefix(record.text))


def test_every_value_is_valid_for_its_field(questions) -> None:
    for record, question in questions:
        specs = {spec.name: spec for spec in GUIDELINES[question.system].fields()}
        spec = specs[question.field]
        value = _parsed(spec.kind, question.value)
        if spec.kind in (FieldKind.TERM, FieldKind.TERMS):
            assert value in spec.terms, (record.record_id, question.field)
        record_from_mapping(GUIDELINES[question.system].record_type, {question.field: value})


def test_the_value_is_the_feature_records(questions) -> None:
    for record, question in questions:
        lesion = record.targets[RADS_FEATURES]["lesions"][question.lesion]
        held = lesion[question.field]
        value = _parsed(
            {s.name: s for s in GUIDELINES[question.system].fields()}[question.field].kind,
            question.value,
        )
        assert value in held if isinstance(held, list) else value == held, record.record_id


def test_prompt_is_the_products_question(questions) -> None:
    record, question = questions[0]
    specs = {spec.name: spec for spec in GUIDELINES[question.system].fields()}
    label = FeatureQuestion(question.lesion, specs[question.field]).label(question.system)
    assert question.prompt == structured_prefix(record.text) + label
    assert re.fullmatch(r"Feature: \S+ [\w ]+ of lesion \d+:", label)


def test_product_reads_the_answers_back(questions) -> None:
    """Each completion through rads_features.grounded_answer (the product's parser) gives the
    record's value and the quotation's span, sizes quoted in cm as well as in mm."""
    read = in_cm = 0
    for record, q in questions:
        lesions = record.targets[RADS_FEATURES]["lesions"]
        reading = FeatureReading(
            q.system, lesions=tuple(LesionReading(0, len(record.text)) for _ in lesions)
        )
        spec = {s.name: s for s in GUIDELINES[q.system].fields()}[q.field]
        question = FeatureQuestion(q.lesion, spec)
        answer = Answer(question.label(q.system) + q.completion, MODEL)
        found = grounded_answer(question, record.text, reading, answer)
        assert found is not None, (record.record_id, q.field, q.quote)
        expected = _parsed(spec.kind, q.value)
        assert found.value == ((expected,) if spec.kind is FieldKind.TERMS else expected)
        assert record.text[found.start : found.end].lower() == q.quote.lower()
        read += 1
        in_cm += spec.kind is FieldKind.NUMBER and "cm" in q.quote.lower()
    assert read > 1000 and in_cm > 0


def test_negated_features_are_asked_with_their_negative_term(questions) -> None:
    negative = Counter()
    for _, q in questions:
        if re.match(r"(?i)(no|without|none|nil|absent)\b|.*: (none|nil|absent|no)$", q.quote):
            negative[(q.system.value, q.field, q.value)] += 1
    assert negative[("TI-RADS", "echogenic_foci", "none")] >= 5
    assert negative[("LI-RADS", "washout", "no")] >= 5
    assert negative[("LI-RADS", "aphe", "none")] >= 5
    assert negative[("O-RADS", "peritoneal_disease", "no")] >= 5


def test_feature_questions_only_when_a_recipe_selects_them(batch: list[Record]) -> None:
    record = next(r for r in batch if RADS_FEATURES in r.targets)
    default = samples(record, [STRUCTURED])
    assert RADS_FEATURES not in {s.task for s in default}
    chosen = samples(record, [STRUCTURED], (*DEFAULT_TASKS, RADS_FEATURES), feature_cap=2)
    features = [s for s in chosen if s.task == RADS_FEATURES]
    assert 1 <= len(features) <= 2
    assert all(s.completion.endswith('"' + IM_END) for s in features)
    assert samples(record, ["radlite"], (RADS_FEATURES,)) == []
    parts = {"train": [record], "validation": [], "test": []}
    built = build(parts, [STRUCTURED], {RADS: 1.0}, 0, (RADS_FEATURES,), 3)
    assert {s.task for s in built["train"]} == {RADS_FEATURES}


def test_the_two_reader_recipes_train_the_same_data_on_two_bases() -> None:
    small = load_recipe(RECIPES / "radlite-reader-0.5b.yaml")
    large = load_recipe(RECIPES / "radlite-reader-1.5b.yaml")
    assert small.data == large.data
    assert RADS_FEATURES in small.data.tasks
    assert (small.base.model, large.base.model) == ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")
    assert RADS_FEATURES not in load_recipe(RECIPES / "radlite-mini.yaml").data.tasks


def test_unknown_task_in_a_recipe_is_refused(tmp_path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("base: {model: x}\ndata: {tasks: [rads, features]}\n", "utf-8")
    with pytest.raises(ValueError, match=r"data\.tasks"):
        load_recipe(path)


def test_the_reader_recipes_no_rads_share_on_the_corpora(shared_data, tmp_path) -> None:
    """The RADS answers of the whole recipe (corpora + generator): a third 'No applicable'."""
    from training.data import prepare

    counts = prepare(load_recipe(RECIPES / "radlite-reader-0.5b.yaml"), shared_data, tmp_path)
    for split in ("train", "test"):
        assert 0.30 <= counts[split]["no_rads_share"] <= 0.40
        assert counts[split]["by_task"][RADS_FEATURES] > 0


def _adapted_layers(model) -> set[int]:
    """The decoder layers whose parameters train."""
    layers = set()
    for name, parameter in model.named_parameters():
        match = re.search(r"\.layers\.(\d+)\.", name)
        if match and parameter.requires_grad:
            layers.add(int(match.group(1)))
    return layers


def test_an_adapter_on_the_upper_layers_leaves_the_lower_ones_frozen() -> None:
    """The CPU pilot recipe adapts only its named layers, so the backward pass stops there.
    A four-layer Qwen2 built from a config (random weights, nothing read) stands in for the
    base: the layer choice is peft's, applied to the same architecture."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from training.train import attach_lora

    pilot = load_recipe(RECIPES / "radlite-reader-0.5b-cpu-pilot.yaml")
    assert pilot.data.tasks == (RADS_FEATURES,)
    assert pilot.lora.layers_to_transform == tuple(range(16, 24))  # Qwen2.5-0.5B: 24 layers
    config = Qwen2Config(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    upper = dataclasses.replace(
        pilot, lora=dataclasses.replace(pilot.lora, layers_to_transform=(2, 3))
    )
    assert _adapted_layers(attach_lora(Qwen2ForCausalLM(config), upper)) == {2, 3}
    everywhere = load_recipe(RECIPES / "radlite-mini.yaml")
    assert _adapted_layers(attach_lora(Qwen2ForCausalLM(config), everywhere)) == {0, 1, 2, 3}


def test_a_capped_draw_asks_first_what_the_products_lexicon_leaves_missing(batch) -> None:
    """Trained as the product asks: with one question per report, the question is one the
    product would put to the model on that report (a feature its lexicon leaves missing)."""
    gapped = 0
    for record in batch:
        target = record.targets.get(RADS_FEATURES)
        if not target:
            continue
        system = RadsSystem(target["system"])
        gaps = asked_by_product(record, system, len(target["lesions"]))
        answerable = {(q.lesion, q.field) for q in feature_questions(record, 99)}
        if not gaps & answerable:
            continue
        gapped += 1
        (drawn,) = feature_questions(record, 1)
        assert (drawn.lesion, drawn.field) in gaps, record.record_id
        reading = read_features(record.text, split_sections(record.text))
        assert drawn.field not in reading.lesions[drawn.lesion].features  # the lexicon's gap
    # 20 of the 500 (seed 21): the generator states most features in words the lexicon reads.
    assert gapped >= 10
