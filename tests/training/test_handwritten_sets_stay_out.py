"""The hand-written sets (training/devset, checkset, blindset, finalset, heldset, sixthset,
seventhset, eighthset, ninthset) measure the product on
reports no generator wrote; they are never trained on. Training reads only the sources a
recipe names (from the data folder given on the command line) and the generator: no module of
that path names the sets, no recipe points into the repository, and no generated report
repeats a hand-written one."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from tests.conftest import REPO
from training.recipe import load_recipe
from training.synthetic.generator import generate

SETS = (
    "devset",
    "checkset",
    "blindset",
    "finalset",
    "heldset",
    "sixthset",
    "seventhset",
    "eighthset",
    "ninthset",
    "tenthset",
    "eleventhset",
    "twelfthset",
    "thirteenthset",
    "fourteenthset",
    "fifteenthset",
    "sixteenthset",
    "seventeenthset",
    "eighteenthset",
    "nineteenthset",
    "twentiethset",
    "twentyfirstset",
    "twentysecondset",
    "twentythirdset",
    "twentyfourthset",
    "twentyfifthset",
    "twentysixthset",
    "twentyseventhset",
)
TRAINING = REPO / "training"
# Everything `python -m training.data` and `python -m training.train` import of ours.
DATA_PATH = [
    TRAINING / "data.py",
    TRAINING / "train.py",
    TRAINING / "builder.py",
    TRAINING / "recipe.py",
    TRAINING / "records.py",
    TRAINING / "feature_questions.py",
    TRAINING / "base_model.py",
    *sorted((TRAINING / "synthetic").glob("*.py")),
    *sorted((TRAINING / "sources").glob("*.py")),
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_training_path_never_names_the_hand_written_sets() -> None:
    for path in DATA_PATH:
        text = path.read_text("utf-8")
        for name in (*SETS, "development_set", "devset_scores"):
            assert name not in text, f"{path.name} names {name}"
        ours = {m for m in _imports(path) if m.startswith("training")}
        assert all(
            (TRAINING.parent / (m.replace(".", "/") + ".py")) in DATA_PATH
            or (TRAINING.parent / m.replace(".", "/")).is_dir()
            for m in ours
        ), f"{path.name} imports outside the training path: {ours}"


def test_no_recipe_reads_from_the_repository() -> None:
    for recipe_path in sorted((TRAINING / "recipes").glob("*.yaml")):
        recipe = load_recipe(recipe_path)
        for source in recipe.data.sources:
            path = Path(source.path)
            assert not path.is_absolute() or not path.is_relative_to(REPO), recipe_path.name
            assert not any(part in SETS for part in path.parts), recipe_path.name


def test_no_generated_report_repeats_a_hand_written_one() -> None:
    written = []
    for name in SETS:
        for path in sorted((TRAINING / name).glob("*.yaml")):
            written += [item["text"].strip() for item in yaml.safe_load(path.read_text("utf-8"))]
    assert len(written) >= 200
    generated = {r.text.strip() for r in generate(400, seed=7)}
    assert not generated & set(written)


def test_every_hand_written_record_has_its_own_id() -> None:
    # The sets are measured together and compared run against run by record id: two sets that
    # reuse an id ("bi-rads-01") would hide one record's result behind the other's.
    ids = [
        item["id"]
        for name in SETS
        for path in sorted((TRAINING / name).glob("*.yaml"))
        for item in yaml.safe_load(path.read_text("utf-8"))
    ]
    assert len(ids) > 1500
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
