"""What one `radlite bulk` run asks for, and the part of it that decides the outputs.

The outputs of a shard depend on the format, the tasks, the models (by sha256 and prompt
version), the confidence floor, rules-first and the product version; the manifest records
these so that a rerun with other settings cannot mix results made two ways in one folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radlite_fhir import __version__

if TYPE_CHECKING:  # the pipeline imports llama.cpp: not for `radlite --help`
    from radlite_fhir.pipeline import Pipeline, PipelineSettings

BULK_FORMATS = ("ndjson", "bundle")  # per-shard FHIR outputs; SRs are one file per report
RAY_AUTO, RAY_LOCAL = "auto", "local"  # --ray: find or start / always start / an address
DEFAULT_MAX_INPUT_MB = 20.0  # as `radlite convert`, so the same shards are refused
NO_TASKS = "none"  # --tasks none: read, check and write only (no model is loaded)


@dataclass(frozen=True)
class BulkSettings:
    inputs: tuple[Path, ...]
    out: Path
    ray: str = RAY_AUTO
    workers: int | None = None  # actors; default: the cluster's CPUs // threads
    output_format: str = "ndjson"
    tasks: tuple[str, ...] = ()
    model: str | None = None
    threads: int = 1  # llama.cpp threads per actor, and the CPUs Ray reserves for each
    rules_first: bool = False
    min_confidence: float = 0.5
    max_input_mb: float = DEFAULT_MAX_INPUT_MB

    def __post_init__(self) -> None:
        if self.output_format not in BULK_FORMATS:
            raise ValueError(f"output_format must be one of {BULK_FORMATS}")
        if self.threads < 1:
            raise ValueError("threads must be at least 1")
        if self.workers is not None and self.workers < 1:
            raise ValueError("workers must be at least 1")

    @property
    def max_bytes(self) -> int:
        return int(self.max_input_mb * 1_000_000)

    def pipeline_settings(self) -> PipelineSettings:
        from radlite_fhir.pipeline import PipelineSettings

        return PipelineSettings(
            tasks=self.tasks,
            model=self.model,
            threads=self.threads,
            rules_first=self.rules_first,
            min_confidence=self.min_confidence,
        )


def fingerprint(settings: BulkSettings, pipeline: Pipeline) -> dict[str, Any]:
    """The settings that decide a shard's outputs (JSON-ready). `pipeline` is only asked
    which models it routes to; nothing is loaded."""
    from radlite_fhir.pipeline import model_info

    return {
        "radlite_fhir": __version__,
        "format": settings.output_format,
        "tasks": list(settings.tasks),
        "models": [
            {
                "name": info.name,
                "sha256": info.sha256,
                "prompt_version": info.prompt_version,
                "adapter_sha256": info.adapter_sha256,
            }
            for info in (model_info(spec) for spec in pipeline.models())
        ],
        "rules_first": settings.rules_first,
        "min_confidence": settings.min_confidence,
        "max_input_mb": settings.max_input_mb,
    }
