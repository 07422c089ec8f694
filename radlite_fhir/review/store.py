"""The review's SQLite database: every decision (append-only: a changed mind is a new row,
the earlier one stays), the sign-offs with the files they wrote, and the login sessions.

Schema as constants, WAL and a busy timeout, one transaction helper (the ledger's pattern).
The database holds the Observation as the model wrote it beside each decision, so the trace
survives even when the outbox file is cleaned up.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radlite_fhir.review.vocab import Action

SCHEMA = """
CREATE TABLE IF NOT EXISTS decision (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_key TEXT NOT NULL,
    item_key TEXT NOT NULL,
    action TEXT NOT NULL,
    value TEXT,               -- the corrected label or text (correct only)
    reviewer TEXT NOT NULL,
    decided_at REAL NOT NULL,
    original TEXT NOT NULL    -- the Observation JSON as the model wrote it
);
CREATE INDEX IF NOT EXISTS decision_report ON decision (report_key, item_key, id);
CREATE TABLE IF NOT EXISTS signoff (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_key TEXT NOT NULL,
    source_file TEXT NOT NULL,
    report_index INTEGER NOT NULL,
    reviewer TEXT NOT NULL,
    signed_at REAL NOT NULL,
    bundle_path TEXT NOT NULL,
    sr_path TEXT,
    posted TEXT,              -- 'HTTP <status>' or the error type of a POST; NULL: not posted
    record TEXT NOT NULL      -- the training record of the confirmed labels (JSON)
);
CREATE INDEX IF NOT EXISTS signoff_report ON signoff (report_key);
CREATE TABLE IF NOT EXISTS session (
    token_sha256 TEXT PRIMARY KEY,
    reviewer TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Decision:
    item_key: str
    action: Action
    value: str | None
    reviewer: str
    decided_at: float
    original: dict[str, Any]


@dataclass(frozen=True)
class Session:
    reviewer: str
    csrf: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ReviewStore:
    """One database file; safe to share between the server's threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        self._db.close()

    # --- decisions ----------------------------------------------------------------------
    def decide(
        self,
        report_key: str,
        item_key: str,
        action: Action,
        value: str | None,
        reviewer: str,
        original: dict[str, Any],
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO decision (report_key, item_key, action, value, reviewer, "
                "decided_at, original) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    report_key,
                    item_key,
                    action.value,
                    value,
                    reviewer,
                    time.time(),
                    json.dumps(original, separators=(",", ":")),
                ),
            )

    def current(self, report_key: str) -> dict[str, Decision]:
        """The latest decision per result of a report (earlier rows stay as the history)."""
        return {d.item_key: d for d in self.history(report_key)}

    def history(self, report_key: str) -> list[Decision]:
        rows = self._query(
            "SELECT item_key, action, value, reviewer, decided_at, original FROM decision "
            "WHERE report_key = ? ORDER BY id",
            (report_key,),
        )
        return [
            Decision(row[0], Action(row[1]), row[2], row[3], row[4], json.loads(row[5]))
            for row in rows
        ]

    # --- sign-offs ----------------------------------------------------------------------
    def sign(
        self,
        report_key: str,
        source_file: str,
        report_index: int,
        reviewer: str,
        bundle_path: Path,
        sr_path: Path | None,
        record: dict[str, Any],
    ) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO signoff (report_key, source_file, report_index, reviewer, "
                "signed_at, bundle_path, sr_path, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    report_key,
                    source_file,
                    report_index,
                    reviewer,
                    time.time(),
                    str(bundle_path),
                    str(sr_path) if sr_path else None,
                    json.dumps(record, ensure_ascii=False),
                ),
            )
            return int(cursor.lastrowid or 0)

    def set_posted(self, signoff_id: int, outcome: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE signoff SET posted = ? WHERE id = ?", (outcome, signoff_id))

    def signed(self) -> set[str]:
        return {row[0] for row in self._query("SELECT report_key FROM signoff")}

    def signoff_count(self, report_key: str) -> int:
        rows = self._query("SELECT COUNT(*) FROM signoff WHERE report_key = ?", (report_key,))
        return int(rows[0][0])

    def records(self) -> list[dict[str, Any]]:
        """The training record of each report's latest sign-off."""
        rows = self._query("SELECT report_key, record FROM signoff ORDER BY id")
        latest = {key: json.loads(record) for key, record in rows}
        return list(latest.values())

    def signoffs(self) -> list[dict[str, Any]]:
        names = ("id", "report_key", "source_file", "reviewer", "signed_at", "bundle_path")
        rows = self._query(f"SELECT {', '.join(names)}, sr_path, posted FROM signoff ORDER BY id")
        return [dict(zip((*names, "sr_path", "posted"), row, strict=True)) for row in rows]

    # --- sessions -----------------------------------------------------------------------
    def open_session(self, token: str, reviewer: str, csrf: str, ttl_s: float) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM session WHERE expires < ?", (time.time(),))
            db.execute(
                "INSERT INTO session (token_sha256, reviewer, csrf, expires) VALUES (?, ?, ?, ?)",
                (token_hash(token), reviewer, csrf, time.time() + ttl_s),
            )

    def session(self, token: str) -> Session | None:
        rows = self._query(
            "SELECT reviewer, csrf, expires FROM session WHERE token_sha256 = ?",
            (token_hash(token),),
        )
        row = rows[0] if rows else None
        if row is None or row[2] < time.time():
            return None
        return Session(row[0], row[1])

    def close_session(self, token: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM session WHERE token_sha256 = ?", (token_hash(token),))
