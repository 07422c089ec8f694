"""Answers of the byte-exact radlite profile on fixed inputs, recorded so that engine work
(prefix reuse, timing, confidence) is proven not to change them.

Regenerate only on purpose (a llama.cpp upgrade), from the repository root:
    RADLITE_HOME=... python -m tests.radlite_golden
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from radlite_fhir.engine.llama_runtime import LoadedModel
from radlite_fhir.engine.registry import Registry
from radlite_fhir.readers import read_path
from radlite_fhir.tasks import TASK_NAMES, all_tasks
from radlite_fhir.tasks.profiles import RADLITE

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "fixtures" / "radlite_answers.json"
SAMPLES = HERE.parent / "samples"
CASES = {
    "smollm2-135m": ["mammo-birads4b.json", "ct-staging-tnm.json", "cxr-normal-html.json"],
    "qwen2.5-coder-0.5b": ["mammo-birads4b.json"],
}
THREADS = 2


def radlite_answers(model_name: str, model_path: Path) -> dict[str, dict[str, str]]:
    """Every radlite call of every task, in pipeline order, on a freshly loaded model."""
    spec = replace(Registry.load().get(model_name), path=model_path, profile=RADLITE, n_ctx=2048)
    model = LoadedModel(spec, THREADS)
    tasks = all_tasks()
    out: dict[str, dict[str, str]] = {}
    for name in CASES[model_name]:
        report = read_path(SAMPLES / name, 10_000_000).reports[0]
        out[name] = {
            call.key: model.complete(call).text
            for task in TASK_NAMES
            for call in tasks[task].calls(report, RADLITE)
        }
    return out


def main() -> int:
    registry = Registry.load()
    golden = {name: radlite_answers(name, registry.get(name).resolved_path()) for name in CASES}
    GOLDEN.write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
