"""The review's core, without HTTP: what each result may become, recording a decision, and
the sign-off that writes the FHIR Bundle and the verified SR once every result of a report is
decided. The web layer (app.py) and the tests call this directly."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radlite_fhir.coding import CodeTables, load_code_tables
from radlite_fhir.errors import ConfigError
from radlite_fhir.review.auth import Reviewer, authenticate_token, load_reviewers, load_tokens
from radlite_fhir.review.export import training_record
from radlite_fhir.review.fhir_out import corrected_value, review_bundle, review_entries
from radlite_fhir.review.settings import ReviewSettings
from radlite_fhir.review.sr_out import SrIndex, find_predecessor, verified_sr_bytes
from radlite_fhir.review.store import Decision, ReviewStore, token_hash
from radlite_fhir.review.vocab import ENTITY_KINDS, STAGE_GROUP, Action, Group
from radlite_fhir.review.worklist import Item, ReviewReport, Worklist

log = logging.getLogger("radlite.review")
MAX_REMEMBERED_TOKENS = 1000


class ReviewRefused(ValueError):
    """A decision the rules do not allow (unknown report or result, a label not in the code
    table); the message names the rule, never a value from the report."""


@dataclass(frozen=True)
class SignOff:
    bundle: Path
    sr: Path | None
    posted: str | None


@dataclass(frozen=True)
class Outcome:
    decided: dict[str, str]  # item key -> action
    signoff: SignOff | None


class ReviewService:
    def __init__(self, settings: ReviewSettings, tables: CodeTables | None = None) -> None:
        self.settings = settings
        self.tables = tables or load_code_tables()
        self.reviewers: dict[str, Reviewer] = (
            load_reviewers(settings.reviewers) if settings.reviewers else {}
        )
        self.tokens: dict[str, Reviewer] = load_tokens(settings.tokens) if settings.tokens else {}
        for username in self.reviewers.keys() & self.tokens.keys():
            mine, theirs = self.reviewers[username], self.tokens[username]
            if (mine.name, mine.practitioner) != (theirs.name, theirs.practitioner):
                raise ConfigError(
                    f"{settings.tokens}: reviewer {username} has another name or practitioner "
                    "in the reviewer list; one person, one identity in the Provenance"
                )
        self.worklist = Worklist(settings.queue, self.tables)
        self.store = ReviewStore(settings.database)
        self.srs = SrIndex(settings.sr_search, self.tables)
        self._verified: dict[str, Reviewer] = {}  # sha256 of a presented token -> reviewer

    # --- who ----------------------------------------------------------------------------
    def identity(self, username: str) -> Reviewer | None:
        """The reviewer a session belongs to (from the reviewer list or the token file)."""
        return self.reviewers.get(username) or self.tokens.get(username)

    def bearer(self, token: str) -> Reviewer | None:
        """The reviewer of a presented bearer token. A token once verified is remembered by
        its SHA-256 for the life of the process, so API calls do not each pay the KDF."""
        if not self.tokens:
            return None
        seen = token_hash(token)
        if seen in self._verified:
            return self._verified[seen]
        reviewer = authenticate_token(self.tokens, token)
        if reviewer is not None and len(self._verified) < MAX_REMEMBERED_TOKENS:
            self._verified[seen] = reviewer
        return reviewer

    # --- reading ------------------------------------------------------------------------
    def queue(self) -> list[tuple[ReviewReport, bool]]:
        """Every report with whether it is signed off; open ones first by priority."""
        signed = self.store.signed()
        floor = self.settings.low_confidence
        reports = sorted(self.worklist.reports(), key=lambda r: r.priority(floor))
        return [(r, r.key in signed) for r in reports if r.key not in signed] + [
            (r, True) for r in reports if r.key in signed
        ]

    def next_open(self, after: str | None = None) -> ReviewReport | None:
        open_reports = [r for r, done in self.queue() if not done and r.key != after]
        return open_reports[0] if open_reports else None

    def choices(self, item: Item) -> list[str]:
        """The labels a correction may choose (the code table of the result's kind)."""
        tables = self.tables
        if item.group in (Group.RADS, Group.DISCORDANCE) and item.system in tables.rads:
            return [c.label for c in tables.rads[item.system].categories.values()]
        if item.group is Group.TNM and item.system:
            prefix = "p" if item.label.startswith("p") else "c"
            if item.system == STAGE_GROUP:
                return [f"{prefix}{g}" for g in tables.stage_groups()]
            return [f"{prefix}{c}" for c in tables.tnm_categories(item.system)]
        if item.group is Group.ENTITY:
            return list(ENTITY_KINDS)
        if item.group is Group.UNPARSEABLE:
            return tables.rads_labels()[:-1]
        return []

    def describe(self, report: ReviewReport) -> dict[str, Any]:
        """One report for the JSON API: its text, and each result in the order of review
        with its span, the labels a correction may choose and the current decision."""
        decisions = self.store.current(report.key)
        floor = self.settings.low_confidence

        def one(item: Item) -> dict[str, Any]:
            decision = decisions.get(item.key)
            return {
                "key": item.key,
                "group": item.group.value,
                "label": item.label,
                "heading": item.heading,
                "kind": item.system,
                "ai_asserted": item.ai_asserted,
                "confidence": item.confidence,
                "flagged": item.conflict or (item.confidence or 1.0) < floor,
                "span": [item.span.start, item.span.end] if item.span else None,
                "choices": self.choices(item),
                "decision": decision.action.value if decision else None,
                "value": decision.value if decision else None,
            }

        return {
            "report": report.key,
            "title": report.title,
            "file": report.path.name,
            "signed_off": report.key in self.store.signed(),
            "text": report.text,
            "items": [one(i) for i in report.ordered(floor)],
        }

    # --- deciding -----------------------------------------------------------------------
    def decide(
        self,
        report_key: str,
        item_keys: list[str],
        action: Action,
        value: str | None,
        reviewer: Reviewer,
    ) -> Outcome:
        report = self.worklist.get(report_key)
        if report is None:
            raise ReviewRefused("no such report in the review queue")
        if report.key in self.store.signed():
            raise ReviewRefused("the report is already signed off")
        items = {i.key: i for i in report.items}
        for key in item_keys:
            item = items.get(key)
            if item is None:
                raise ReviewRefused("no such result in the report")
            if action is Action.CORRECT:
                self._check_correction(item, value)
        for key in item_keys:
            stored = value if action is Action.CORRECT else None
            self.store.decide(
                report.key, key, action, stored, reviewer.username, items[key].resource
            )
        decisions = self.store.current(report.key)
        signoff = None
        if all(i.key in decisions for i in report.items):
            signoff = self.sign_off(report, decisions, reviewer)
        return Outcome({k: d.action.value for k, d in decisions.items()}, signoff)

    def _check_correction(self, item: Item, value: str | None) -> None:
        if value is None or not value.strip():
            raise ReviewRefused("a correction needs a value")
        if item.group is Group.IMPRESSION:
            return
        if value not in self.choices(item):
            raise ReviewRefused("the corrected value is not in the code table of the result")
        try:
            corrected_value(self.tables, item, value)
        except ValueError:
            raise ReviewRefused("the corrected value cannot be coded") from None

    def sign_off(
        self, report: ReviewReport, decisions: dict[str, Decision], reviewer: Reviewer
    ) -> SignOff:
        """Write the Bundle, and the verified SR when the report's AI SR is found (SrIndex)."""
        outbox = self.settings.outbox
        outbox.mkdir(parents=True, exist_ok=True)
        sequence = self.store.signoff_count(report.key) + 1
        stem = f"{report.path.name.removesuffix('.enriched.json')}-{report.index}"
        bundle = review_bundle(review_entries(self.tables, report, decisions, reviewer, sequence))
        bundle_path = outbox / f"{stem}.review-{sequence}.json"
        _write_new(bundle_path, json.dumps(bundle, indent=2, ensure_ascii=False).encode())
        sr_path = None
        predecessor = find_predecessor(report, self.srs)
        if predecessor is None:
            log.info("review: no AI SR with the reviewed results for %s; no verified SR", stem)
        else:
            sr_path = outbox / f"{stem}.verified-{sequence}.sr.dcm"
            _write_new(
                sr_path,
                verified_sr_bytes(
                    self.tables, report, predecessor.path, decisions, reviewer, sequence
                ),
            )
        signoff_id = self.store.sign(
            report.key,
            report.path.name,
            report.index,
            reviewer.username,
            bundle_path,
            sr_path,
            training_record(report, decisions),
        )
        posted = None
        if self.settings.fhir_base_url:
            posted = post_bundle(self.settings.fhir_base_url, bundle_path.read_bytes())
            self.store.set_posted(signoff_id, posted)
        return SignOff(bundle_path, sr_path, posted)


def _write_new(path: Path, data: bytes) -> None:
    """Write through a temporary name and rename, never over an existing file."""
    if path.exists():
        raise FileExistsError(f"{path.name} exists: a write-back is never replaced")
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.rename(path)


def post_bundle(base_url: str, body: bytes, timeout_s: float = 30.0) -> str:
    """POST a transaction Bundle to the FHIR base; 'HTTP <status>' or the error's type (the
    Bundle stays in the outbox either way)."""
    request = urllib.request.Request(
        base_url.rstrip("/"),
        data=body,
        method="POST",
        headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        log.warning("review: POST of a write-back Bundle answered HTTP %s", exc.code)
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        log.warning("review: POST of a write-back Bundle failed (%s)", type(exc).__name__)
        return type(exc).__name__
