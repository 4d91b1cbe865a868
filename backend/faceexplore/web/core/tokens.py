"""Opaque, expiring tokens bound to one index file: candidate tokens, download tokens, the
tokens of download links, and a found answer's removal and save tokens.

A token is a small JSON payload, compressed and sealed with AES-GCM (authenticated encryption),
base64url without padding. The key is derived from the app's secret key with HKDF, one key per
purpose, so a token of one kind never opens as another. The payload carries its purpose, the time
it was made and the index's id (``cache.generation``, the id that names the index's cache folder):
photo and person ids restart at 1 in an index file deleted and built again, so a token made for
another index would name someone else's photos. Such a token is answered as an expired one (the
visitor searches again), never used. A visitor learns nothing from a token: it decodes to random
bytes, not to ids or confidences.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import time
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from .state import state

VERSION = b"\x01"
NONCE_BYTES = 12
MAX_TOKEN_CHARS = 100_000  # the longest a request model lets through
MAX_PAYLOAD_BYTES = 1_000_000  # inflating a sealed token is bounded too (it is ours, but cheaply so)

CANDIDATE = "candidate"
DOWNLOAD = "download"
DOWNLOAD_LINK = "download link"
REMOVAL = "removal"  # a found answer's "remove me" (web/search/actions.py)
SAVE = "save"  # a found answer's "save my search" (web/search/actions.py)


class InvalidToken(Exception):
    """Missing, malformed, forged, or made for another purpose or with another key."""


class ExpiredToken(Exception):
    """Genuine, but too old or made for another index file: the visitor should search again."""


@functools.lru_cache(maxsize=32)
def _aead(secret_key: str, purpose: str) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"faceexplore token: " + purpose.encode())
    return AESGCM(hkdf.derive(secret_key.encode()))


def seal(purpose: str, data, secret_key: str, index_id: str, now: float | None = None) -> str:
    """``data`` (anything JSON) sealed for ``purpose`` and the index ``index_id``."""
    payload = {"u": purpose, "i": index_id, "t": int(time.time() if now is None else now), "d": data}
    plain = json.dumps(payload, separators=(",", ":")).encode()
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: no header bytes
    compressed = packer.compress(plain) + packer.flush()
    nonce = os.urandom(NONCE_BYTES)
    sealed = VERSION + nonce + _aead(secret_key, purpose).encrypt(nonce, compressed, VERSION + purpose.encode())
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def open_token(purpose: str, token: str | None, secret_key: str, index_id: str, max_age: float, now: float | None = None):
    """The data sealed in ``token``; raises InvalidToken or ExpiredToken."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken from None
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != VERSION:
        raise InvalidToken
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        compressed = _aead(secret_key, purpose).decrypt(nonce, body, VERSION + purpose.encode())
        unpacker = zlib.decompressobj(-15)
        plain = unpacker.decompress(compressed, MAX_PAYLOAD_BYTES)
        payload = json.loads(plain)
    except (InvalidTag, zlib.error, ValueError):
        raise InvalidToken from None
    if not isinstance(payload, dict) or payload.get("u") != purpose or not isinstance(payload.get("t"), int):
        raise InvalidToken
    now = time.time() if now is None else now
    if payload.get("i") != index_id or now - payload["t"] > max_age:
        raise ExpiredToken
    return payload.get("d")


# -- in the app --------------------------------------------------------------------------------
def seal_for_app(purpose: str, data) -> str:
    """``data`` sealed with this app's key for the index it serves now."""
    return seal(purpose, data, current_app.config["SECRET_KEY"], state().cache_generation())


def open_for_app(purpose: str, token: str | None, max_age: float):
    """What ``seal_for_app`` sealed, if it was for the index served now and is not too old."""
    return open_token(purpose, token, current_app.config["SECRET_KEY"], state().cache_generation(), max_age)
