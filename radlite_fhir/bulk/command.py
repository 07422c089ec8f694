"""`radlite bulk`: argument parsing and printing only; `driver.run_bulk` does the work.

`add_bulk_command(subparsers)` adds the command to `radlite`'s command table;
`python -m radlite_fhir.bulk` runs it alone. Exit codes as `radlite convert`: 0 every shard
converted without an error, 1 some shards or reports failed (errors.jsonl), 2 usage or
configuration errors (among them: Ray is not installed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from radlite_fhir.bulk.settings import (
    BULK_FORMATS,
    DEFAULT_MAX_INPUT_MB,
    NO_TASKS,
    RAY_AUTO,
    RAY_LOCAL,
    BulkSettings,
)

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_TASKS = "rads,staging,ner,impression"


def cmd_bulk(args: argparse.Namespace) -> int:
    from radlite_fhir.bulk.driver import import_ray, run_bulk
    from radlite_fhir.errors import ConfigError
    from radlite_fhir.pipeline import parse_task_list

    import_ray()  # before anything else: without the extra, say how to install it
    missing = [p for p in args.inputs if not p.exists()]
    if missing:
        raise ConfigError(f"no such input: {', '.join(map(str, missing))}")
    tasks = () if args.tasks.strip() == NO_TASKS else parse_task_list(args.tasks)
    settings = BulkSettings(
        inputs=tuple(args.inputs),
        out=args.out,
        ray=args.ray,
        workers=args.workers,
        output_format=args.format,
        tasks=tasks,
        model=args.model,
        threads=args.threads,
        rules_first=args.rules_first,
        min_confidence=args.min_confidence,
        max_input_mb=args.max_input_mb,
    )
    summary = run_bulk(settings)
    errors_file = settings.out / "errors.jsonl"
    print(
        f"{summary.converted} shards converted, {summary.skipped} already finished, "
        f"{summary.failed} failed, of {summary.shards} in {settings.out}"
        + (f"; {summary.errors} errors, see {errors_file}" if summary.errors else "")
    )
    return EXIT_SOME_FAILED if summary.errors else EXIT_OK


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        help="NDJSON ($export) or Bundle shards, or folders searched for them",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output folder: one output per shard, errors.jsonl and bulk-manifest.jsonl "
        "(new or empty, or one an earlier bulk run with the same settings left)",
    )
    parser.add_argument(
        "--ray",
        default=RAY_AUTO,
        metavar="auto|local|ADDRESS",
        help=f"{RAY_AUTO} (default): the cluster in $RAY_ADDRESS or started on this machine by "
        f"`ray start`, else a new local one; {RAY_LOCAL}: a new local one; or HOST:PORT of a "
        "running cluster's head",
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="actors, each with its own model (default: the cluster's CPUs / --threads)",
    )
    parser.add_argument(
        "--format",
        choices=BULK_FORMATS,
        default="ndjson",
        help="per shard: NDJSON (default) or a transaction Bundle, as `radlite convert`",
    )
    parser.add_argument(
        "--tasks",
        default=DEFAULT_TASKS,
        help="comma-separated tasks: rads, staging, ner, impression (default: all); "
        f"'{NO_TASKS}': read and check the shards only, no model",
    )
    parser.add_argument(
        "--model", default=None, metavar="NAME", help="serve every task with this model"
    )
    parser.add_argument(
        "--threads",
        type=_positive,
        default=1,
        help="llama.cpp threads per actor, and the CPUs Ray reserves for each (default 1)",
    )
    parser.add_argument("--rules-first", action="store_true", help="as `radlite convert`")
    parser.add_argument(
        "--min-confidence", type=float, default=0.5, help="as `radlite convert` (0.5)"
    )
    parser.add_argument(
        "--max-input-mb",
        type=float,
        default=DEFAULT_MAX_INPUT_MB,
        help=f"refuse shards larger than this (default {DEFAULT_MAX_INPUT_MB:g})",
    )


def add_bulk_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add `bulk` to `radlite`'s subcommands (the object `add_subparsers` returns)."""
    bulk = subparsers.add_parser(
        "bulk",
        help="convert many NDJSON/Bundle shards on a Ray cluster, resumable",
        description="Convert FHIR Bulk Data $export NDJSON files and Bundles (shards) with "
        "the same pipeline and outputs as `radlite convert`, spread over a pool of Ray "
        "actors that each load the model once. One output per shard in --out, errors in "
        "errors.jsonl; finished shards are recorded in bulk-manifest.jsonl, so a rerun after "
        "a failure converts only the rest. Needs the 'ray' extra. See docs/bulk.md.",
    )
    add_arguments(bulk)
    bulk.set_defaults(func=cmd_bulk)
    return bulk


def main(argv: list[str] | None = None) -> int:
    """`python -m radlite_fhir.bulk`: the bulk command alone, with `radlite`'s exit codes."""
    import logging

    from radlite_fhir.errors import RadliteError

    parser = argparse.ArgumentParser(prog="python -m radlite_fhir.bulk")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return cmd_bulk(args)
    except RadliteError as exc:
        print(f"radlite: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
