"""What the fuzz modules share (no tests here): the Hypothesis profiles, the hang ceiling, the
marker planted in report text, and a tally per reader of examples run and the slowest one.

Profiles, chosen with RADLITE_FUZZ_PROFILE (default `ci`, what `.ci/run` gets):
- `ci`: 10,000 examples per reader, derandomized (the same inputs on every run, so a CI
  failure reproduces), no example database, no deadline (a slow example is measured, not
  failed: the ceiling below only catches hangs).
- `quick`: 300 examples, for editing the strategies.
- `deep`: 100,000 examples, random seed, for a hunt by hand.
A module that cannot afford the full count asks for fewer with `fuzz_settings(n)`; every count
is capped by the profile's.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st

PROFILE_VARIABLE = "RADLITE_FUZZ_PROFILE"
FULL = 10_000  # examples per reader per CI run (issue 11's target)
HANG_CEILING_S = 10.0  # CPU seconds: one example past this hangs (the target is < 2 s)
# Planted in report text (never in ids, codes or resource type names, which messages may
# name): no error message may hold it.
MARKER = "Zq7MarkerText"

settings.register_profile(
    "ci",
    max_examples=FULL,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
settings.register_profile("quick", parent=settings.get_profile("ci"), max_examples=300)
settings.register_profile(
    "deep", parent=settings.get_profile("ci"), max_examples=100_000, derandomize=False
)


def fuzz_settings(examples: int = FULL) -> settings:
    """The selected profile with at most `examples` examples."""
    profile = settings.get_profile(os.environ.get(PROFILE_VARIABLE, "ci"))
    return settings(profile, max_examples=min(examples, profile.max_examples))


@dataclass
class Tally:
    """Examples one fuzz test ran and the slowest one's time (reading only, not generation).

    Time is CPU time of this process: a hang burns CPU (a backtracking regex, a quadratic
    parser), while the clock also counts the turns of whatever else runs on the machine
    (on a loaded 2-core machine, several times the CPU time)."""

    name: str
    examples: int = 0
    slowest_s: float = 0.0  # CPU
    slowest_wall_s: float = 0.0
    started_cpu_s: float = field(default_factory=time.process_time)
    started_s: float = field(default_factory=time.perf_counter)
    wall_s: float = 0.0
    cpu_s: float = 0.0

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Time the block; an example that takes more than HANG_CEILING_S of CPU fails (a
        hang, which Hypothesis then reports with its input)."""
        started, started_wall = time.process_time(), time.perf_counter()
        yield
        elapsed = time.process_time() - started
        self.examples += 1
        self.slowest_s = max(self.slowest_s, elapsed)
        self.slowest_wall_s = max(self.slowest_wall_s, time.perf_counter() - started_wall)
        assert elapsed < HANG_CEILING_S, f"{self.name}: one example took {elapsed:.1f} s of CPU"

    def done(self, expected: int) -> None:
        """The test's end: its time is taken, and it must have run `expected` examples."""
        self.wall_s = time.perf_counter() - self.started_s
        self.cpu_s = time.process_time() - self.started_cpu_s
        assert self.examples >= expected, f"{self.name}: {self.examples} of {expected} examples"

    def line(self) -> str:
        """The summary: examples, the slowest read, the test's time (generation included),
        on the clock and on the CPU (the clock counts other processes' turns too)."""
        return (
            f"fuzz {self.name}: {self.examples} examples, slowest {self.slowest_s:.3f} s CPU "
            f"({self.slowest_wall_s:.3f} s clock), {self.cpu_s:.0f} s CPU in all "
            f"({self.wall_s:.0f} s clock)"
        )


@contextmanager
def tallies(request: pytest.FixtureRequest) -> Iterator[dict[str, Tally]]:
    """Tallies by name, printed past output capture when the block ends (a module's fuzz
    summary in the CI log)."""
    found: dict[str, Tally] = {}
    yield found
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        return
    with capture.global_and_fixture_disabled():
        for tally in found.values():
            reporter.write_line(tally.line())


def tally(found: dict[str, Tally], name: str) -> Tally:
    """The tally `name`, started fresh (a test run twice counts once)."""
    found[name] = Tally(name)
    return found[name]


# --- cheap generation ------------------------------------------------------------------------
# Hypothesis draws a string in one choice, but a list in one choice per member: a recursive
# JSON strategy costs ~5 ms an example, a string of the same information ~1 ms. So inputs are
# built from "programs": strings over a private-use alphabet whose characters each pick an
# operation or a fragment from a pool. Hypothesis shrinks a program like any string (shorter,
# lower characters: earlier pool members), so a failure still comes back small.
OP_BASE = 0xE000
OP_COUNT = 256

# Characters that broke or bent readers before (issue 11) and their relatives.
HOSTILE_CHARS = [
    "\u00a0",  # no-break space
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    "\u0085",  # next line
    "\u2009",  # thin space
    "\u200b",  # zero-width space
    "\ufeff",  # byte order mark
    "\u202e",  # right-to-left override
    "\u0301",  # combining acute accent
    "\x00",
    "\x1b",
    "\x7f",
    "\r",
    "\n",
    "\t",
    "\v",
    "\f",
    "\U0001f600",
    "≥",
    "µ",
    "<",
    ">",
    "&",
    '"',
    "'",
    "\\",
    "\ufffd",
    "\uffff",
]
SURROGATES = ["\ud800", "\udfff", "\udc80"]  # lone: fine in JSON escapes, not in UTF-8


def ops(max_size: int) -> st.SearchStrategy[str]:
    """A program: up to `max_size` operation characters."""
    return st.text(
        st.characters(min_codepoint=OP_BASE, max_codepoint=OP_BASE + OP_COUNT - 1),
        max_size=max_size,
    )


def op(char: str) -> int:
    return ord(char) - OP_BASE


def hostile_pool(seed: int, size: int, surrogates: bool = False) -> list[str]:
    """`size` strings of up to 24 characters mixing ASCII, the hostile characters and random
    code points (lone surrogates too when asked), the same on every run."""
    rng = random.Random(seed)
    chars = HOSTILE_CHARS + (SURROGATES if surrogates else [])
    out = ["", " ", "x"]
    while len(out) < size:
        parts = []
        for _ in range(rng.randrange(1, 25)):
            roll = rng.random()
            if roll < 0.45:
                parts.append(chr(rng.randrange(0x20, 0x7F)))
            elif roll < 0.75:
                parts.append(rng.choice(chars))
            else:
                code = rng.randrange(0x80, 0x110000)
                parts.append(chr(code) if not 0xD800 <= code <= 0xDFFF else "\u00e9")
        out.append("".join(parts))
    return out


def json_value(program: str, leaves: Sequence[Any], keys: Sequence[str]) -> Any:
    """The JSON value a program builds: each character opens an array (0-11) or an object
    (12-23), closes the innermost one (24-47) or adds a leaf (the rest; `leaves` by the
    character). Members of objects take a key from `keys` by the character and position."""
    root: list[Any] = []
    stack: list[Any] = [root]
    for char in program:
        code = op(char)
        if 24 <= code < 48:
            if len(stack) > 1:
                stack.pop()
            continue
        value: Any = [] if code < 12 else {} if code < 24 else leaves[code % len(leaves)]
        top = stack[-1]
        if isinstance(top, list):
            top.append(value)
        else:
            top[keys[(code + len(top)) % len(keys)]] = value
        if code < 24:
            stack.append(value)
    return root[0] if len(root) == 1 else root


def note_input(**values: Any) -> None:
    """Record the example's input for the failure report (this Hypothesis prints a failing
    example's arguments blank; CI reruns reproduce it anyway, being derandomized). Long
    strings and bytes are cut to their first 2,000 items, before repr: repr of every
    300 kB input would cost more than reading it."""
    parts = []
    for name, value in values.items():
        if isinstance(value, str | bytes) and len(value) > 2_000:
            parts.append(f"{name}={value[:2_000]!r}... ({len(value)} in all)")
        else:
            parts.append(f"{name}={value!r}"[:4_000])
    note("input: " + ", ".join(parts))
