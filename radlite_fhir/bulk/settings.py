"""What one `radlite bulk` run asks for, and the part of it that decides the outputs.

The outputs of a shard depend on the format, the tasks, the models (by sha256 and prompt
version), the confidence floor, rules-first and the product version; the manifest records
these so that a rerun with other settings cannot mix results made two ways in one folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radlite_fhir import __version__
from radlite_fhir.settings import ResultSettings
from radlite_fhir.writers.table import WRITERS, OutputFormat, Per

if TYPE_CHECKING:  # the pipeline imports llama.cpp: not for `radlite --help`
    from radlite_fhir.pipeline import Pipeline, PipelineSettings

# per-shard FHIR outputs (one output per file in the writers table); SRs are one per report
BULK_FORMATS = tuple(
    f for f in (OutputFormat.NDJSON, OutputFormat.BUNDLE) if WRITERS[f].per is Per.FILE
)
RAY_AUTO, RAY_LOCAL = "auto", "local"  # --ray: find or start / always start / an address
NO_TASKS = "none"  # --tasks none: read, check and write only (no model is loaded)


@dataclass(frozen=True)
class BulkSettings:
    """Where and how a bulk run works (inputs, output folder, Ray, actors), and `results`:
    what decides the outputs, the object convert, watch and serve hold too."""

    inputs: tuple[Path, ...]
    out: Path
    ray: str = RAY_AUTO
    workers: int | None = None  # actors; default: the cluster's CPUs // threads
    results: ResultSettings = field(
        default_factory=lambda: ResultSettings(output_format=OutputFormat.NDJSON, tasks=())
    )

    def __post_init__(self) -> None:
        if self.results.output_format not in BULK_FORMATS:
            names = ", ".join(f.value for f in BULK_FORMATS)
            raise ValueError(f"output_format must be one of {names}")
        if self.workers is not None and self.workers < 1:
            raise ValueError("workers must be at least 1")

    @property
    def output_format(self) -> OutputFormat:
        return self.results.output_format

    @property
    def threads(self) -> int:
        """llama.cpp threads per actor, and the CPUs Ray reserves for each (default 1)."""
        return self.results.threads or 1

    @property
    def max_bytes(self) -> int:
        return self.results.max_bytes

    def pipeline_settings(self) -> PipelineSettings:
        return replace(self.results, threads=self.threads).pipeline_settings()


def fingerprint(settings: BulkSettings, pipeline: Pipeline) -> dict[str, Any]:
    """The settings that decide a shard's outputs (JSON-ready). `pipeline` is only asked
    which models it routes to; nothing is loaded."""
    from radlite_fhir.pipeline import model_info

    results = settings.results.fingerprint()
    return {
        "radlite_fhir": __version__,
        "format": results["format"],
        "tasks": results["tasks"],
        "models": [
            {
                "name": info.name,
                "sha256": info.sha256,
                "prompt_version": info.prompt_version,
                "adapter_sha256": info.adapter_sha256,
            }
            for info in (model_info(spec) for spec in pipeline.models())
        ],
        "rules_first": results["rules_first"],
        "min_confidence": results["min_confidence"],
        "max_input_mb": results["max_input_mb"],
    }
