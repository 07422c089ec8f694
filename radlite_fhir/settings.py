"""The settings that decide the results, one object for every front end.

`radlite convert`, `radlite watch` (and `dicom listen`), `radlite serve` and `radlite bulk`
used to build the pipeline's settings each their own way, so an option existed in one and not
the others (--rules-first only in convert): the same report then gave other results depending
on how it arrived. `ResultSettings` holds everything that decides an output (format, tasks,
model, threads, rules-first, confidence floor, input size limit); each front end builds it
once, from its command line (`add_result_options` / `results_from_args`) or, for watch, from
defaults < TOML < RADLITE_WATCH_* < command line (service/settings.py), and derives the
pipeline's settings from it. What only concerns one front end (inbox, port, Ray address)
stays in that front end's settings.

Imports stay light (no pipeline, no model runtime): `radlite --help` builds its options here.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from radlite_fhir.errors import ConfigError
from radlite_fhir.writers.table import OutputFormat, output_format

if TYPE_CHECKING:
    from radlite_fhir.pipeline import PipelineSettings

DEFAULT_TASKS = "rads,staging,ner,impression"
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MAX_INPUT_MB = 20.0
# The options every front end takes, by their ResultSettings field names.
RESULT_OPTIONS = ("tasks", "model", "threads", "rules_first", "min_confidence", "max_input_mb")


@dataclass(frozen=True)
class ResultSettings:
    """What decides a result. `tasks` may be given as text ('rads,staging'); it is kept as
    the pipeline's ordered tuple. Invalid values raise ConfigError naming the setting."""

    output_format: OutputFormat = OutputFormat.BUNDLE
    tasks: tuple[str, ...] | str = DEFAULT_TASKS
    model: str | None = None
    threads: int | None = None  # llama.cpp threads; None: the runtime's default
    rules_first: bool = False  # skip a model call the report's explicit statements settle
    min_confidence: float = DEFAULT_MIN_CONFIDENCE  # model-only labels below it: not coded
    max_input_mb: float = DEFAULT_MAX_INPUT_MB  # larger inputs are refused unread

    def __post_init__(self) -> None:
        try:
            chosen = output_format(self.output_format)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        object.__setattr__(self, "output_format", chosen)
        object.__setattr__(self, "tasks", _tasks(self.tasks))
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be 1 or more, not {self.threads}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ConfigError(f"min_confidence must be between 0 and 1, not {self.min_confidence}")
        if not self.max_input_mb > 0:
            raise ConfigError(f"max_input_mb must be more than 0, not {self.max_input_mb}")

    @property
    def max_bytes(self) -> int:
        return int(self.max_input_mb * 1_000_000)

    def pipeline_settings(self) -> PipelineSettings:
        """The engine's part of these settings."""
        from radlite_fhir.pipeline import PipelineSettings

        return PipelineSettings(
            tasks=tuple(self.tasks),
            model=self.model,
            threads=self.threads,
            rules_first=self.rules_first,
            min_confidence=self.min_confidence,
        )

    def fingerprint(self) -> dict[str, Any]:
        """The settings as JSON-ready data (the bulk manifest records them)."""
        return {
            "format": self.output_format.value,
            "tasks": list(self.tasks),
            "rules_first": self.rules_first,
            "min_confidence": self.min_confidence,
            "max_input_mb": self.max_input_mb,
        }

    def updated(self, **values: Any) -> ResultSettings:
        """A copy with the values that are not None (an option not given keeps the field)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def _tasks(value: tuple[str, ...] | str | Iterable[str]) -> tuple[str, ...]:
    """The pipeline's ordered, checked task tuple. No tasks (an empty tuple, or a [watch]
    `tasks = ""`): read, check and write only, no model work."""
    if isinstance(value, str) and not value.strip():
        return ()
    if isinstance(value, str):
        from radlite_fhir.pipeline import parse_task_list

        return parse_task_list(value)
    tasks = tuple(value)
    return _tasks(",".join(tasks)) if tasks else ()


def add_result_options(
    parser: argparse.ArgumentParser,
    *,
    layered: bool = False,
    options: tuple[str, ...] = RESULT_OPTIONS,
) -> None:
    """Add the result options to a front end's parser, with one spelling and one help text
    everywhere. `layered` (watch): every default is None, so a value the TOML file or the
    environment gave is kept unless the option is given. `options`: the subset to add (bulk
    keeps its own --tasks and --threads, whose meaning differs there)."""

    def default(value: Any) -> Any:
        return None if layered else value

    where = " (default: --config, RADLITE_WATCH_*, else %s)" if layered else " (default %s)"
    if "tasks" in options:
        parser.add_argument(
            "--tasks",
            default=default(DEFAULT_TASKS),
            help="comma-separated tasks: rads, staging, ner, impression" + where % "all",
        )
    if "model" in options:
        parser.add_argument(
            "--model",
            default=None,
            metavar="NAME",
            help="serve every task with this registered model (default: routing, "
            "else the default model)",
        )
    if "threads" in options:
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="llama.cpp threads per worker (default: --config, RADLITE_WATCH_*, else the "
            "cores shared out among --workers)"
            if layered
            else "llama.cpp threads (default: $RADLITE_THREADS or the physical cores)",
        )
    if "rules_first" in options:
        parser.add_argument(  # watch: --no-rules-first undoes a TOML or environment true
            "--rules-first",
            action=argparse.BooleanOptionalAction if layered else "store_true",
            default=default(False),
            help="skip the model for RADS/TNM when the report states them explicitly (the "
            "result records that it came from the text)",
        )
    if "min_confidence" in options:
        parser.add_argument(
            "--min-confidence",
            type=float,
            default=default(DEFAULT_MIN_CONFIDENCE),
            help="do not code a RADS/TNM label the model alone chose with a lower probability "
            "(0 codes every parseable label)" + where % f"{DEFAULT_MIN_CONFIDENCE:g}",
        )
    if "max_input_mb" in options:
        parser.add_argument(
            "--max-input-mb",
            type=float,
            default=default(DEFAULT_MAX_INPUT_MB),
            help="refuse inputs larger than this" + where % f"{DEFAULT_MAX_INPUT_MB:g}",
        )


def results_from_args(
    args: argparse.Namespace,
    chosen: str | OutputFormat,
    base: ResultSettings | None = None,
) -> ResultSettings:
    """The settings a front end's parsed options give, format `chosen`, over `base` (its
    defaults; an option the parser does not have, or left None, keeps base's value)."""
    base = base or ResultSettings()
    return base.updated(
        output_format=chosen, **{name: getattr(args, name, None) for name in RESULT_OPTIONS}
    )
