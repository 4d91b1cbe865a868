"""The organiser's password: a slow salted hash in the data folder, never the password itself.

``<data dir>/organiser_password.json`` (mode 600) holds the scrypt parameters, a random salt and
the hash. Verifying recomputes the hash and compares in constant time. ``fingerprint`` names the
stored hash without revealing it: a session remembers it, so that setting a new password ends
every session made with the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from faceexplore.site import store as sitestore

log = logging.getLogger(__name__)

PASSWORD_FILE = "organiser_password.json"
MAX_PASSWORD_LENGTH = 1024  # scrypt reads the whole password: a megabyte "password" would be a cheap attack

# scrypt's cost: N=2**15, r=8 needs 32 MiB and a noticeable fraction of a second per try, the
# parameters OWASP's password storage cheat sheet lists for scrypt.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32


class PasswordError(ValueError):
    """A password that cannot be set (empty, too long)."""


@dataclass(frozen=True)
class StoredPassword:
    n: int
    r: int
    p: int
    salt: bytes
    hash: bytes

    def to_json(self) -> str:
        b64 = base64.b64encode
        return json.dumps(
            {
                "algorithm": "scrypt",
                "n": self.n,
                "r": self.r,
                "p": self.p,
                "salt": b64(self.salt).decode(),
                "hash": b64(self.hash).decode(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> StoredPassword:
        data = json.loads(text)
        if data.get("algorithm") != "scrypt":
            raise ValueError(f"unknown password hash algorithm {data.get('algorithm')!r}")
        return cls(
            n=int(data["n"]),
            r=int(data["r"]),
            p=int(data["p"]),
            salt=base64.b64decode(data["salt"]),
            hash=base64.b64decode(data["hash"]),
        )


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: scrypt needs 128 * n * r bytes; Python's default limit (32 MiB) is just short of it
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=HASH_BYTES)


def password_path(data_dir) -> Path:
    return Path(data_dir) / PASSWORD_FILE


def check_new_password(password: str) -> None:
    if not password:
        raise PasswordError("the password must not be empty")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> StoredPassword:
    check_new_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    return StoredPassword(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))


def set_password(data_dir, password: str) -> None:
    """Store a new hash of ``password`` (replacing the old one atomically, mode 600), and end
    every session (the sessions' fingerprint of the old hash ends them too, should the site's
    store be out of reach)."""
    stored = hash_password(password)
    path = password_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{PASSWORD_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(stored.to_json() + "\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        sitestore.end_all_sessions(data_dir)
    except (OSError, sqlite3.Error) as exc:
        log.warning("cannot delete the stored sessions (%s); the new password ends them anyway", exc)


def load_password(data_dir) -> StoredPassword | None:
    """The stored hash, or None while no password is set (or its file cannot be read)."""
    try:
        return StoredPassword.from_json(password_path(data_dir).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or damaged: as if none were set (nobody can log in)


def verify(stored: StoredPassword, password: str) -> bool:
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        return False
    return hmac.compare_digest(_scrypt(password, stored.salt, stored.n, stored.r, stored.p), stored.hash)


def fingerprint(stored: StoredPassword) -> str:
    """A short name for this stored hash (changes with every new password, reveals nothing)."""
    return hashlib.sha256(b"faceexplore-password-version:" + stored.salt + stored.hash).hexdigest()[:32]
