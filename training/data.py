"""Collect a recipe's records (sources + synthetic) and build its split samples on disk.

`python -m training.data RECIPE --data DIR --out DIR` writes train/validation/test JSONL
samples and the held-out records (test_records.jsonl) that `training.evaluate` runs the product
on, plus counts per source, task and split, and the share of RADS samples answered "No
applicable RADS".
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from radlite_fhir.coding import load_code_tables
from radlite_fhir.engine.calls import IM_END
from training.builder import SPLITS, Sample, SplitConfig, build, split_records, write_jsonl
from training.recipe import Recipe, load_recipe
from training.records import RADS, Record
from training.sources import load
from training.synthetic.generator import Mix, generate


def _limited(records: list[Record], limit: int | None, seed: int) -> list[Record]:
    if not limit or len(records) <= limit:
        return records
    order = sorted(
        records, key=lambda r: hashlib.sha256(f"{seed}:{r.record_id}".encode()).hexdigest()
    )
    return order[:limit]


def collect(recipe: Recipe, data_dir: Path) -> list[Record]:
    records: list[Record] = []
    for spec in recipe.data.sources:
        path = Path(spec.path).expanduser()
        found = load(spec.name, path if path.is_absolute() else data_dir / path)
        records.extend(_limited(found, spec.limit, recipe.data.seed))
    if recipe.data.synthetic:
        mix = Mix(no_rads_share=recipe.data.no_rads_share)
        records.extend(
            generate(
                recipe.data.synthetic, recipe.data.synthetic_seed, recipe.data.state_share, mix
            )
        )
    return records


def prepare(recipe: Recipe, data_dir: Path, out: Path) -> dict[str, object]:
    """Write the samples of every split and the held-out records; return the counts."""
    split = SplitConfig(recipe.data.seed, recipe.data.test_share, recipe.data.validation_share)
    parts = split_records(collect(recipe, data_dir), split)
    samples = build(
        parts,
        recipe.profiles,
        recipe.data.weights,
        recipe.data.seed,
        recipe.data.tasks,
        recipe.data.feature_questions,
    )
    counts: dict[str, object] = {}
    for name in SPLITS:
        write_jsonl(out / f"{name}.jsonl", samples[name])
        counts[name] = {
            "records": len(parts[name]),
            "samples": len(samples[name]),
            "by_task": dict(Counter(s.task for s in samples[name])),
            "by_source": dict(Counter(s.source for s in samples[name])),
            "no_rads_share": no_rads_share(samples[name]),
        }
    with (out / "test_records.jsonl").open("w", encoding="utf-8") as handle:
        for record in parts["test"]:
            handle.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
    (out / "data_counts.json").write_text(json.dumps(counts, indent=2), "utf-8")
    return counts


def no_rads_share(samples: list[Sample]) -> float | None:
    """The share of RADS samples whose answer is "No applicable RADS" (None: no RADS sample)."""
    label = load_code_tables().no_applicable_label
    rads = [s for s in samples if s.task == RADS]
    if not rads:
        return None
    none = sum(s.completion.removesuffix(IM_END).strip() == label for s in rads)
    return round(none / len(rads), 4)


def read_records(path: Path) -> list[Record]:
    with path.open(encoding="utf-8") as handle:
        return [Record(**json.loads(line)) for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.data", description=__doc__)
    parser.add_argument("recipe", type=Path)
    parser.add_argument("--data", type=Path, required=True, help="folder the sources are read from")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    counts = prepare(load_recipe(args.recipe), args.data, args.out)
    print(json.dumps(counts, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
