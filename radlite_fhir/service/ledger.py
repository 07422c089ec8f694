"""SQLite ledger of every input the service has claimed: the durable truth after a crash.

WAL journal, a busy timeout, one transaction helper; the schema is a constant. Rows are
keyed by the claim folder name (unique per claim); content sha256 finds re-dropped content.
Names and errors are stored through `printable`: a file name with a byte that is not UTF-8
would otherwise make SQLite raise UnicodeEncodeError and stop the service. Errors hold
element paths and rules, never report text (`radlite status` prints them).

Which output belongs to which input: each row holds the input's name and content sha256,
`output_base` (the name its outputs start with, reserved before any is written, unique among
rows, so a crash and redo writes the same names and no two inputs share one), `outputs`, and
`replaces` (the claim whose outputs it overwrote, under `name_collision = overwrite` or for
the same content again). A failed input gives its reservation back.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from radlite_fhir.errors import printable

SCHEMA = """
CREATE TABLE IF NOT EXISTS inputs (
    claim TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('received', 'processing', 'done', 'failed', 'duplicate')),
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    received_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    outputs TEXT,
    error TEXT,
    output_base TEXT,
    replaces TEXT
);
CREATE INDEX IF NOT EXISTS inputs_by_content ON inputs (sha256, state);
CREATE INDEX IF NOT EXISTS inputs_by_state ON inputs (state);
"""
# Columns added after the first release: (name, declaration), added to older ledgers at open.
ADDED_COLUMNS = (("output_base", "TEXT"), ("replaces", "TEXT"))
INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS inputs_by_output ON inputs (output_base);
"""
UNFINISHED = ("received", "processing")


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.executescript(SCHEMA)
        present = {row["name"] for row in self.conn.execute("PRAGMA table_info(inputs)")}
        for column, declaration in ADDED_COLUMNS:
            if column not in present:
                self.conn.execute(f"ALTER TABLE inputs ADD COLUMN {column} {declaration}")
        self.conn.executescript(INDEXES)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def receive(self, claim: str, name: str, sha256: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO inputs (claim, name, sha256, state, received_at)"
                " VALUES (?, ?, ?, 'received', ?)",
                (claim, printable(name), sha256, time.time()),
            )

    def get(self, claim: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM inputs WHERE claim = ?", (claim,)).fetchone()

    def done_with_content(self, sha256: str, claim: str) -> sqlite3.Row | None:
        return self.conn.execute(
            "SELECT * FROM inputs WHERE sha256 = ? AND state = 'done' AND claim != ? LIMIT 1",
            (sha256, claim),
        ).fetchone()

    def holder(self, output_base: str) -> sqlite3.Row | None:
        """The row whose outputs are named after `output_base`, if any."""
        return self.conn.execute(
            "SELECT * FROM inputs WHERE output_base = ?", (printable(output_base),)
        ).fetchone()

    def reserve(self, claim: str, output_base: str, replaces: str | None = None) -> bool:
        """Give `claim` the output name `output_base`, taking it from `replaces` (whose row
        keeps its outputs list as history). False when another claim holds the name (a second
        worker was quicker): choose again."""
        try:
            with self.transaction() as db:
                if replaces is not None:
                    db.execute("UPDATE inputs SET output_base = NULL WHERE claim = ?", (replaces,))
                db.execute(
                    "UPDATE inputs SET output_base = ?, replaces = ? WHERE claim = ?",
                    (printable(output_base), replaces, claim),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def start(self, claim: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE inputs SET state = 'processing', attempts = attempts + 1, "
                "started_at = ? WHERE claim = ?",
                (time.time(), claim),
            )

    def finish(
        self, claim: str, state: str, outputs: list[str] | None = None, error: str | None = None
    ) -> None:
        """Record the outcome. A failed input releases its output name (it wrote nothing
        under it that anyone relies on; a partial SR set is in the outbox, which the next
        holder's choice checks too)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE inputs SET state = ?, finished_at = ?, outputs = ?, error = ?, "
                "output_base = CASE WHEN ? = 'failed' THEN NULL ELSE output_base END "
                "WHERE claim = ?",
                (
                    state,
                    time.time(),
                    json.dumps([printable(o) for o in outputs or []]),
                    None if error is None else printable(error),
                    state,
                    claim,
                ),
            )

    def retry_later(self, claim: str, error: str, delay: float) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE inputs SET state = 'received', error = ?, not_before = ? WHERE claim = ?",
                (printable(error), time.time() + delay, claim),
            )

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT state, COUNT(*) AS n FROM inputs GROUP BY state")
        return {row["state"]: row["n"] for row in rows}

    def last_errors(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest failures, and inputs done in part (some reports not enriched)."""
        rows = self.conn.execute(
            "SELECT name, state, error, finished_at FROM inputs WHERE state = 'failed' "
            "OR (state = 'done' AND error IS NOT NULL) ORDER BY finished_at DESC LIMIT ?",
            (limit,),
        )
        return [dict(row) for row in rows]

    def close(self) -> None:
        self.conn.close()
