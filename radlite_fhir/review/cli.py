"""`radlite review ...`: the review's command line (cli.py calls `add_review_commands`).

radlite review serve   --queue OUTBOX --state DIR (--reviewers FILE | --reviewer-tokens FILE)
                       [--sr-folder DIR ...] [--host --port ...]
radlite review export  --state DIR --out records.jsonl [--with-entities]
radlite review add-reviewer --reviewers FILE USERNAME --name "Jane Doe" [--practitioner REF]
radlite review add-token --reviewer-tokens FILE USERNAME --name "Jane Doe" [--practitioner REF]
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any


def review_settings(args: argparse.Namespace) -> Any:
    """The review page's settings from the options add_review_options defined."""
    from radlite_fhir.review.settings import ReviewSettings

    return ReviewSettings(
        queue=args.queue,
        state=args.state,
        reviewers=args.reviewers,
        tokens=args.reviewer_tokens,
        sr_folders=tuple(args.sr_folder or ()),
        allow_remote=args.allow_remote,
        fhir_base_url=args.fhir_base_url,
        low_confidence=args.low_confidence,
        secure_cookie=args.secure_cookie,
    )


def add_review_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """The options a server needs for the review page (also for `radlite serve`)."""
    parser.add_argument(
        "--review-queue",
        "--queue",
        dest="queue",
        type=Path,
        required=required,
        help="folder of enriched Bundles (*.enriched.json) and AI SRs (*.dcm)",
    )
    parser.add_argument(
        "--review-state",
        "--state",
        dest="state",
        type=Path,
        required=required,
        help="folder of review.sqlite and outbox/ (the write-backs)",
    )
    parser.add_argument(
        "--reviewers",
        type=Path,
        default=None,
        help="TOML reviewer list (radlite review add-reviewer writes it); this, "
        "--reviewer-tokens or both",
    )
    parser.add_argument(
        "--reviewer-tokens",
        type=Path,
        default=None,
        help="reviewer token file, hashed (radlite review add-token writes it): "
        "'Authorization: Bearer' on the review API and on the login form",
    )
    parser.add_argument(
        "--sr-folder",
        type=Path,
        action="append",
        help="another folder of AI SRs (the outbox of radlite watch --format sr, the --out of "
        "convert --format sr); repeatable; the queue folder is always searched",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="answer clients other than loopback (put TLS in front)",
    )
    parser.add_argument(
        "--fhir-base-url", default=None, help="also POST each write-back transaction Bundle there"
    )
    parser.add_argument(
        "--low-confidence",
        type=float,
        default=0.8,
        help="results below this confidence are listed first (0.8)",
    )
    parser.add_argument("--secure-cookie", action="store_true",
                        help="mark the session cookie Secure (serving behind TLS)")  # fmt: skip


def cmd_review_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from radlite_fhir.review.app import review_app

    if args.allow_remote and args.host in ("127.0.0.1", "::1", "localhost"):
        print("note: --allow-remote has no effect on a loopback address", file=sys.stderr)
    uvicorn.run(
        review_app(review_settings(args)), host=args.host, port=args.port, log_level="warning"
    )
    return 0


def cmd_review_export(args: argparse.Namespace) -> int:
    from radlite_fhir.review.export import export
    from radlite_fhir.review.store import ReviewStore

    database = args.state / "review.sqlite"
    if not database.is_file():
        print(f"error: {database} does not exist (no review yet)", file=sys.stderr)
        return 2
    count = export(ReviewStore(database), args.out, with_entities=args.with_entities)
    print(f"{count} confirmed report(s) written to {args.out}")
    return 0


def cmd_review_add_reviewer(args: argparse.Namespace) -> int:
    from radlite_fhir.review.auth import add_reviewer

    password = os.environ.get("RADLITE_REVIEW_PASSWORD") or getpass.getpass("password: ")
    if len(password) < 8:
        print("error: the password needs 8 characters or more", file=sys.stderr)
        return 2
    add_reviewer(args.reviewers, args.username, args.name, password, args.practitioner)
    print(f"reviewer {args.username} written to {args.reviewers}")
    return 0


def cmd_review_add_token(args: argparse.Namespace) -> int:
    from radlite_fhir.review.auth import add_token

    token = add_token(args.reviewer_tokens, args.username, args.name, args.practitioner)
    print(f"reviewer token for {args.username} written (hashed) to {args.reviewer_tokens}",
          file=sys.stderr)  # fmt: skip
    print("the token, shown this once:", file=sys.stderr)
    print(token)
    return 0


def add_review_commands(subparsers: Any) -> None:
    """Add `review serve|export|add-reviewer` to the top-level subparsers of `radlite`."""
    review = subparsers.add_parser("review", help="clinician review of AI results")
    verbs = review.add_subparsers(dest="review_command", required=True)
    serve = verbs.add_parser("serve", help="serve the review page alone (no model)")
    add_review_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8081, help="port (8081)")
    serve.set_defaults(func=cmd_review_serve)
    export = verbs.add_parser(
        "export", help="write confirmed labels as training records (JSONL, training/ reads it)"
    )
    export.add_argument("--review-state", "--state", dest="state", type=Path, required=True)
    export.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    export.add_argument("--with-entities", action="store_true",
                        help="also export confirmed entities (partial NER labels)")  # fmt: skip
    export.set_defaults(func=cmd_review_export)
    add = verbs.add_parser("add-reviewer", help="add or replace a reviewer (scrypt hash)")
    add.add_argument("--reviewers", type=Path, required=True)
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the name written into the Provenance")
    add.add_argument("--practitioner", default=None, help="FHIR reference, e.g. Practitioner/1")
    add.set_defaults(func=cmd_review_add_reviewer)
    token = verbs.add_parser(
        "add-token", help="give a reviewer a new bearer token (printed once, stored hashed)"
    )
    token.add_argument("--reviewer-tokens", type=Path, required=True)
    token.add_argument("username")
    token.add_argument("--name", required=True, help="the name written into the Provenance")
    token.add_argument("--practitioner", default=None, help="FHIR reference, e.g. Practitioner/1")
    token.set_defaults(func=cmd_review_add_token)
