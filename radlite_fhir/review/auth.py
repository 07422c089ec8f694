"""Who may review: a reviewer list with scrypt-hashed passwords, a token file with
scrypt-hashed bearer tokens, sessions, CSRF tokens.

The list is a TOML file the site keeps (`radlite review add-reviewer` writes entries):

    [reviewers.jdoe]
    name = "Jane Doe"                    # shown and written into the Provenance
    password = "scrypt$16384$8$1$<salt hex>$<hash hex>"
    practitioner = "Practitioner/123"    # optional: the FHIR reference of the clinician

The token file holds one reviewer per line (`radlite review add-token` writes them and prints
the token once; the file never holds it in clear):

    # username  scrypt hash of the secret           practitioner (or -)  name
    jdoe        scrypt$16384$8$1$<salt>$<hash>      Practitioner/123     Jane Doe

A token is `<username>.<secret>`: the username picks the line, so a request costs one KDF run
however many reviewers the file names. A token is accepted as `Authorization: Bearer` on the
API (no cookie, so no CSRF token either) and on the login form instead of a password.

Secrets are hashed with the standard library's scrypt (RFC 7914); verification is
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


TOKEN_SEPARATOR = "."
NO_PRACTITIONER = "-"


def load_tokens(path: Path) -> dict[str, Reviewer]:
    """The token file as reviewers whose `password_hash` is the hash of their token's secret.
    A missing or unreadable file, a malformed line (named by number) or a file naming nobody
    stops start-up, as the reviewer list does."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: the token file cannot be read ({type(exc).__name__})") from None
    out: dict[str, Reviewer] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(maxsplit=3)
        if len(parts) < 3 or not parts[1].startswith("scrypt$"):
            raise ConfigError(
                f"{path}: line {number}: expected 'username scrypt-hash practitioner-or-- name'"
            )
        username, hashed, practitioner = parts[0], parts[1], parts[2]
        if TOKEN_SEPARATOR in username or username in out:
            raise ConfigError(f"{path}: line {number}: the username has a '.' or appears twice")
        out[username] = Reviewer(
            username=username,
            name=parts[3].strip() if len(parts) > 3 else username,
            password_hash=hashed,
            practitioner=None if practitioner == NO_PRACTITIONER else practitioner,
        )
    if not out:
        raise ConfigError(f"{path}: the token file names no reviewer")
    return out


def authenticate_token(tokens: dict[str, Reviewer], token: str) -> Reviewer | None:
    """The reviewer a presented token belongs to, or None (one KDF run either way)."""
    username, _, secret = token.strip().rpartition(TOKEN_SEPARATOR)
    return authenticate(tokens, username, secret) if username and secret else None


def add_token(path: Path, username: str, name: str, practitioner: str | None = None) -> str:
    """Give `username` a new token (replacing an earlier one) and return it: the only time it
    exists in clear. The file is created if missing, readable by its owner only."""
    if not username or TOKEN_SEPARATOR in username or any(c.isspace() for c in username):
        raise ConfigError("a token's username needs no '.' and no white space")
    if practitioner is not None and (not practitioner or any(c.isspace() for c in practitioner)):
        raise ConfigError("the practitioner reference must not hold white space")
    secret = secrets.token_urlsafe(32)
    kept = []
    if path.exists():
        kept = [
            line
            for line in path.read_text("utf-8").splitlines()
            if line.split(maxsplit=1)[:1] != [username]
        ]
    else:
        kept = ["# radlite review tokens: username  scrypt-hash  practitioner-or--  name"]
    name_text = " ".join(name.split()) or username
    kept.append(f"{username} {hash_password(secret)} {practitioner or NO_PRACTITIONER} {name_text}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(kept) + "\n", "utf-8")
    path.chmod(0o600)
    return f"{username}{TOKEN_SEPARATOR}{secret}"
