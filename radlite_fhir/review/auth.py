"""Who may review: a reviewer list with scrypt-hashed passwords, sessions, CSRF tokens.

The list is a TOML file the site keeps (`radlite review add-reviewer` writes entries):

    [reviewers.jdoe]
    name = "Jane Doe"                    # shown and written into the Provenance
    password = "scrypt$16384$8$1$<salt hex>$<hash hex>"
    practitioner = "Practitioner/123"    # optional: the FHIR reference of the clinician

Passwords are hashed with the standard library's scrypt (RFC 7914); verification is
constant-time and an unknown name costs the same KDF run, so timing does not tell which
names exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radlite_fhir.errors import ConfigError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_DUMMY = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * 16}${'00' * 32}"


@dataclass(frozen=True)
class Reviewer:
    """A person allowed to confirm results; `practitioner` is a FHIR reference or None."""

    username: str
    name: str
    password_hash: str
    practitioner: str | None = None


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        key = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected) // 2,
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(key.hex(), expected)


def load_reviewers(path: Path) -> dict[str, Reviewer]:
    """The reviewer list; a missing, unreadable or empty file stops start-up (a review page
    nobody can log in to is a configuration error, not a state to serve)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: the reviewer list cannot be read ({type(exc).__name__})"
        ) from None
    out: dict[str, Reviewer] = {}
    for username, entry in (data.get("reviewers") or {}).items():
        if not isinstance(entry, dict) or not str(entry.get("password", "")).startswith("scrypt$"):
            raise ConfigError(f"{path}: reviewers.{username}.password is not an scrypt hash")
        out[username] = Reviewer(
            username=username,
            name=str(entry.get("name") or username),
            password_hash=str(entry["password"]),
            practitioner=entry.get("practitioner"),
        )
    if not out:
        raise ConfigError(f"{path}: the reviewer list names no reviewer")
    return out


def authenticate(reviewers: dict[str, Reviewer], username: str, password: str) -> Reviewer | None:
    reviewer = reviewers.get(username)
    ok = verify_password(password, reviewer.password_hash if reviewer else _DUMMY)
    return reviewer if ok and reviewer is not None else None


def add_reviewer(
    path: Path, username: str, name: str, password: str, practitioner: str | None = None
) -> None:
    """Add or replace one entry of the reviewer list (the file is created if missing)."""
    import tomli_w

    data: dict[str, Any] = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    entry: dict[str, Any] = {"name": name, "password": hash_password(password)}
    if practitioner:
        entry["practitioner"] = practitioner
    data.setdefault("reviewers", {})[username] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), "utf-8")
    path.chmod(0o600)


def new_token() -> str:
    return secrets.token_urlsafe(32)
