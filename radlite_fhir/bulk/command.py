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

from radlite_fhir.bulk.settings import BULK_FORMATS, NO_TASKS, RAY_AUTO, RAY_LOCAL, BulkSettings
from radlite_fhir.settings import (
    DEFAULT_TASKS,
    ResultSettings,
    add_result_options,
    results_from_args,
)

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


def cmd_bulk(args: argparse.Namespace) -> int:
    from radlite_fhir.bulk.driver import import_ray, run_bulk
    from radlite_fhir.errors import ConfigError

    import_ray()  # before anything else: without the extra, say how to install it
    missing = [p for p in args.inputs if not p.exists()]
    if missing:
        raise ConfigError(f"no such input: {', '.join(map(str, missing))}")
    settings = bulk_settings(args)
    summary = run_bulk(settings)
    errors_file = settings.out / "errors.jsonl"
    print(
        f"{summary.converted} shards converted, {summary.skipped} already finished, "
        f"{summary.failed} failed, of {summary.shards} in {settings.out}"
        + (f"; {summary.errors} errors, see {errors_file}" if summary.errors else "")
    )
    return EXIT_SOME_FAILED if summary.errors else EXIT_OK


def bulk_settings(args: argparse.Namespace) -> BulkSettings:
    """The run's settings from the parsed options; the results part is built as convert's
    is (`--tasks none`: no tasks, no model)."""
    base = None
    if args.tasks.strip() == NO_TASKS:
        base = ResultSettings(tasks=())
        args = argparse.Namespace(**{**vars(args), "tasks": None})
    return BulkSettings(
        inputs=tuple(args.inputs),
        out=args.out,
        ray=args.ray,
        workers=args.workers,
        results=results_from_args(args, args.format, base),
    )


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
        "--threads",
        type=_positive,
        default=1,
        help="llama.cpp threads per actor, and the CPUs Ray reserves for each (default 1)",
    )
    add_result_options(parser, options=("model", "rules_first", "min_confidence", "max_input_mb"))


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
