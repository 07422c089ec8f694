"""Service settings: defaults < TOML file ([watch] table) < RADLITE_WATCH_* environment < CLI.

The settings that decide the results (format, tasks, model, threads, rules_first,
min_confidence, max_input_mb) are the flat [watch] keys they always were; `WatchSettings.
results` gives them as the `ResultSettings` that convert, serve and bulk use.

The state folder (work/, processed/, error/, the SQLite ledger and its WAL) defaults to
`radlite-state` beside the inbox when that is a local disk, and to a folder under
$XDG_STATE_HOME (~/.local/state) when the inbox sits on a network filesystem: SQLite's WAL is
not safe on NFS or SMB. An explicit `state_dir` is used as given (the service warns when it is
on a network filesystem).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from radlite_fhir.errors import ConfigError
from radlite_fhir.naming import NameCollision
from radlite_fhir.service import filesystems
from radlite_fhir.settings import ResultSettings


@dataclass(frozen=True)
class WatchSettings:
    inbox: Path = Path("inbox")
    outbox: Path = Path("outbox")
    state_dir: Path | None = None  # work/, processed/, error/, ledger; default beside inbox
    format: str = "bundle"
    tasks: str = "rads,staging,ner,impression"
    model: str | None = None
    threads: int | None = None  # per worker; default: the cores shared out among workers
    rules_first: bool = False  # as `radlite convert --rules-first`
    workers: int = 1  # processes over the one inbox and ledger (claims are exclusive)
    min_age_ms: int = 1000  # partial-write guard (Mirth's default)
    include: tuple[str, ...] = ("*.json", "*.ndjson", "*.jsonl", "*.dcm")
    exclude: tuple[str, ...] = ()
    poll: bool = False  # scan only, no inotify (network shares)
    poll_interval_s: float = 2.0
    after_success: str = "move"  # move to processed/, or delete
    duplicates: str = "skip"  # content already done: skip, or reemit (identical output)
    # an input whose output name holds another input's result: version (<name>.v2...),
    # refuse (to error/), overwrite (explicit; recorded in the ledger)
    name_collision: NameCollision = NameCollision.VERSION
    max_attempts: int = 5  # transient failures before an input goes to error/
    # wall-clock budget for one file's reading and model work (0: none); checked after
    # reading, before each report and before each model call; over it, the file goes to
    # error/ (permanent), so one input cannot hold the worker
    max_seconds_per_file: float = 600.0
    max_reports_per_file: int = 1000  # more reports in one file: refused before model work
    metrics_port: int = 9464  # 0: no HTTP endpoint
    metrics_host: str = "127.0.0.1"
    max_input_mb: float = 20.0
    min_confidence: float = 0.5
    # DICOM network edge (`radlite dicom listen`): C-STORE SCP into the inbox, results out.
    dicom_port: int = 0  # 0: no listener
    dicom_host: str = "127.0.0.1"  # loopback unless --host says otherwise
    dicom_max_dataset_mb: float = 20.0  # larger C-STORE datasets: 0xA700 Out of Resources
    dicom_ae_title: str = "RADLITE"
    dicom_allowed_callers: tuple[str, ...] = ()  # empty: any calling AE title
    dicom_send_to: str = ""  # AE_TITLE@host:port that receives result SRs; empty: none

    @property
    def results(self) -> ResultSettings:
        """What decides the results, as convert, serve and bulk hold it
        (radlite_fhir.settings); ConfigError names a bad value."""
        return ResultSettings(
            output_format=self.format,
            tasks=self.tasks,
            model=self.model,
            threads=self.threads,
            rules_first=self.rules_first,
            min_confidence=self.min_confidence,
            max_input_mb=self.max_input_mb,
        )

    @property
    def state(self) -> Path:
        """`state_dir`, else `radlite-state` beside the inbox on a local disk, else a local
        folder named after the inbox (see the module docstring)."""
        if self.state_dir is not None:
            return self.state_dir
        beside = self.inbox.resolve().parent / "radlite-state"
        if filesystems.network_fs_type(beside) is None:
            return beside
        return filesystems.local_state_dir(self.inbox)


def _coerce(name: str, kind: Any, value: Any) -> Any:
    text = str(kind)
    if "tuple" in text:
        return (
            tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, str)
            else tuple(value)
        )
    if "Path" in text:
        return Path(value) if value not in (None, "") else None
    if "bool" in text:
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}
    if "float" in text:
        return float(value)
    if "int" in text:
        return int(value) if value not in (None, "") else None
    return value


def load_settings(config: Path | None, overrides: dict[str, Any]) -> WatchSettings:
    values: dict[str, Any] = {}
    known = {f.name: f.type for f in fields(WatchSettings)}
    if config is not None:
        try:
            table = tomllib.loads(config.read_text("utf-8")).get("watch", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{config}: cannot read the service settings: {exc}") from None
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigError(f"{config}: unknown [watch] settings {unknown}")
        values.update(table)
    for name in known:
        env = os.environ.get(f"RADLITE_WATCH_{name.upper()}")
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = replace(WatchSettings(), **{k: _coerce(k, known[k], v) for k, v in values.items()})
    settings.results  # noqa: B018 -- checks format, tasks, threads, confidence, input limit
    if settings.after_success not in ("move", "delete"):
        raise ConfigError("after_success must be move or delete")
    if settings.duplicates not in ("skip", "reemit"):
        raise ConfigError("duplicates must be skip or reemit")
    try:
        settings = replace(settings, name_collision=NameCollision(settings.name_collision))
    except ValueError:
        choices = ", ".join(c.value for c in NameCollision)
        raise ConfigError(f"name_collision must be one of {choices}") from None
    if settings.workers < 1:
        raise ConfigError("workers must be 1 or more")
    if settings.max_reports_per_file is None or settings.max_reports_per_file < 1:
        raise ConfigError("max_reports_per_file must be 1 or more")
    if settings.max_seconds_per_file < 0:
        raise ConfigError("max_seconds_per_file must be 0 (no limit) or more")
    if settings.dicom_send_to:
        from radlite_fhir.service.dicom_net import Destination

        Destination.parse(settings.dicom_send_to)  # a typo stops start-up, not the first send
    return settings
