"""The event's access code: a short code printed on the event's posters that visitors enter (or
open in a QR link, ``/?code=CODE``) before searching, when ``search_access`` is ``code``.

It is a shared secret, not a password: it keeps the search to the people at the event. Kept in
``<data dir>/access-code.json`` (mode 600) with a generation counter; the browser's grant (a
signed cookie, faceexplore/web/access/routes.py) carries the generation and a random id of it, so
rotating the code (``faceexplore access-code --new``, or the organiser's page) ends every earlier
grant.

Whether the code is asked for (``mode``): the setting ``search_access`` when set; unset, a data
folder with a code file asks for it, a new data folder (no index yet) gets a code file on first
start (so it asks), and an existing one without a code file (made before codes existed) stays
open until ``faceexplore access-code`` makes one.

Wrong guesses are counted per client address in the site store (``DATA/site.sqlite3``, shared by
every gunicorn worker): at most ``GUESSES_PER_CLIENT`` wrong codes per ``GUESS_WINDOW_S``.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from .store import BUSY_TIMEOUT_S, site_path

CODE_FILE = "access-code.json"
# no 0/O, 1/I/L, 5/S, 2/Z, 8/B: a code read off a poster is typed right
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8  # 25**8 = 1.5e11 codes: guesses limited to GUESSES_PER_CLIENT per window find none
GUESSES_PER_CLIENT = 10
GUESS_WINDOW_S = 15 * 60.0


@dataclass(frozen=True)
class AccessCode:
    code: str
    generation: int
    grant_id: str  # random, per generation: a grant names it, so one from another data folder never passes
    created: float


def code_path(data_dir) -> Path:
    return Path(data_dir) / CODE_FILE


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(typed: str) -> str:
    """What a visitor typed, as the code is written: capitals, no spaces or dashes."""
    return "".join(ch for ch in str(typed).upper() if ch not in " -\t")


def read(data_dir) -> AccessCode | None:
    try:
        raw = json.loads(code_path(data_dir).read_text())
        return AccessCode(str(raw["code"]), int(raw["generation"]), str(raw["grant_id"]), float(raw["created"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{code_path(data_dir)} is damaged ({exc}); run `faceexplore access-code --new` to make a new code") from None


def _write(data_dir, code: AccessCode, replace: bool) -> bool:
    """Write the file (mode 600) atomically; without ``replace``, only if there is none (False
    when another process was first)."""
    path = code_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{CODE_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"code": code.code, "generation": code.generation, "grant_id": code.grant_id, "created": code.created}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # fails if another worker was first
            return True
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)


def ensure(data_dir) -> AccessCode:
    """The code, made now if there is none."""
    code = read(data_dir)
    if code is None:
        _write(data_dir, AccessCode(new_code(), 1, secrets.token_hex(8), time.time()), replace=False)
        code = read(data_dir)
    return code


def rotate(data_dir, origin: str) -> AccessCode:
    """A new code; every grant of the old one ends. Logged in the audit log."""
    from . import audit

    old = read(data_dir)
    generation = (old.generation if old else 0) + 1
    code = AccessCode(new_code(), generation, secrets.token_hex(8), time.time())
    _write(data_dir, code, replace=True)
    audit.record(data_dir, "access_code_rotated", {"generation": generation}, origin)
    return code


def mode(settings) -> str:
    """ "code" or "open" (see the module's docstring). Makes the code file for a new data folder."""
    if settings.search_access is not None:
        if settings.search_access == "code":
            ensure(settings.data_dir)
        return settings.search_access
    if code_path(settings.data_dir).is_file():
        return "code"
    if Path(settings.index_path).exists():
        return "open"  # a data folder from before access codes: running sites keep working
    ensure(settings.data_dir)
    return "code"


def matches(code: AccessCode, typed: str) -> bool:
    return hmac.compare_digest(normalise(typed).encode("utf-8", "replace"), code.code.encode())


def site_link(base_url: str, code: AccessCode) -> str:
    return f"{base_url.rstrip('/')}/?code={code.code}"


# -- wrong guesses, counted across workers in the site store ---------------------------------
_GUESSES = """
CREATE TABLE IF NOT EXISTS access_guesses (client TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS access_guesses_client ON access_guesses(client, at);
"""


def _connect(data_dir) -> sqlite3.Connection:
    path = site_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # the site store's mode
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(_GUESSES)
    return db


def begin_guess(data_dir, client: str, now: float | None = None) -> tuple[float, int | None]:
    """Count a guess from ``client`` unless it must wait: (0, the guess's id) when it may go
    ahead, else (seconds to wait, None). Checked and counted in one transaction across workers."""
    now = time.time() if now is None else now
    with closing(_connect(data_dir)) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM access_guesses WHERE at <= ?", (now - GUESS_WINDOW_S,))
            mine = [at for (at,) in db.execute("SELECT at FROM access_guesses WHERE client = ? ORDER BY at DESC", (client,))]
            wait = mine[GUESSES_PER_CLIENT - 1] + GUESS_WINDOW_S - now if len(mine) >= GUESSES_PER_CLIENT else 0.0
            guess = None if wait > 0 else db.execute("INSERT INTO access_guesses VALUES (?, ?)", (client, now)).lastrowid
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return max(wait, 0.0), guess


def guess_right(data_dir, guess: int) -> None:
    """The right code: the guess is not a wrong one."""
    with closing(_connect(data_dir)) as db:
        db.execute("DELETE FROM access_guesses WHERE rowid = ?", (guess,))
