"""A per-file time budget: a monotonic deadline checked between units of work.

Why checks between units and not a watchdog: a thread cannot be killed, and a child process
per file would load the model once per file. Every unit is bounded on its own (the readers are
linear in a size-capped input; a model call is bounded by its context and `max_tokens`), so a
file can overrun its budget by at most one unit: the reading, one report's set-up, or one
model call. `convert_file` checks after reading and before each report, the pipeline before
each model call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from radlite_fhir.errors import RadliteError


class TimeBudgetExceeded(RadliteError):
    """A file used up its time budget; its work was stopped (a permanent failure: the same
    file would take as long again)."""


@dataclass
class TimeBudget:
    """`seconds` of wall-clock time from construction; `seconds <= 0` means no limit."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def exceeded(self) -> bool:
        return self.seconds > 0 and time.monotonic() - self.started > self.seconds

    def check(self, where: str) -> None:
        """Raise TimeBudgetExceeded, naming `where` the work stopped, once the time is up."""
        if self.exceeded():
            raise TimeBudgetExceeded(
                f"time budget exceeded: {self.seconds:g} s per file "
                f"(max_seconds_per_file), stopped {where}"
            )
