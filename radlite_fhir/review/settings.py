"""Review settings: where the queue is read, where the AI SRs lie, where decisions and
write-backs go, who may log in (a reviewer list, a token file, or both), and from where."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from radlite_fhir.errors import ConfigError

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class ReviewSettings:
    queue: Path  # folder of enriched Bundles (*.enriched.json) and AI result SRs (*.dcm)
    state: Path  # review.sqlite and outbox/ (the write-backs)
    reviewers: Path | None  # TOML reviewer list (auth.py); None: tokens only
    allow_remote: bool = False  # False: only loopback clients get the page
    fhir_base_url: str | None = None  # POST each write-back Bundle there as well
    low_confidence: float = 0.8  # results below it are listed first
    secure_cookie: bool = False  # set the Secure flag (behind TLS)
    session_ttl_s: float = 8 * 3600.0
    prefix: str = "/review"
    tokens: Path | None = None  # bearer token file (auth.py): scrypt hashes, never clear
    # Further folders of AI result SRs: the outbox of `radlite watch` with format sr, the
    # --out of `radlite convert --format sr` (the queue folder is always searched)
    sr_folders: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.reviewers is None and self.tokens is None:
            raise ConfigError("the review needs a reviewer list, a token file, or both")
        if not self.prefix.startswith("/") or self.prefix.endswith("/"):
            raise ConfigError("review prefix must start with '/' and not end with one")
        if not 0.0 <= self.low_confidence <= 1.0:
            raise ConfigError("low_confidence must lie between 0 and 1")
        if self.fhir_base_url and not self.fhir_base_url.startswith(("http://", "https://")):
            raise ConfigError("fhir_base_url must be an http(s) URL")

    @property
    def database(self) -> Path:
        return self.state / "review.sqlite"

    @property
    def outbox(self) -> Path:
        return self.state / "outbox"

    @property
    def sr_search(self) -> tuple[Path, ...]:
        """Where AI SRs are looked for: the queue folder, then the configured folders."""
        return tuple(dict.fromkeys((self.queue, *self.sr_folders)))
