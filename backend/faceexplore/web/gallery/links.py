"""Signed, expiring links to photos, thumbnails and face crops (setting ``gallery_access = "private"``).

A link is ``<path>?expires=<unix time>&md5=<token>``, where the token is the base64url MD5 (no
padding) of ``"<expires><path> <link secret>"``, with ``path`` the decoded URL path. That is
exactly what nginx's secure_link module computes for services/nginx.conf's

    secure_link     $arg_md5,$arg_expires;
    secure_link_md5 "$secure_link_expires$uri $faceexplore_link_secret";

so nginx checks the links itself when it serves the files from disk, and the app checks the same
links when it serves them alone (files.py). MD5 is what secure_link offers; the secret is long
and random, so a link for another path cannot be made from the links one was given.

The link secret is derived from the app's secret key (never the key itself: nginx's copy of it
then cannot sign session cookies). ``write_nginx_links_conf`` puts it, with the rule that follows
from ``gallery_access``, into ``<data dir>/nginx-links.conf`` (mode 600), which the rendered
nginx configuration includes: the secret is never on a command line or in a built image.

Expiry times are rounded up to a step of a quarter of ``link_lifetime``, so the addresses of one
photo stay the same for a while and the browser's cache keeps working; a link stays valid for
between ``link_lifetime`` and 1.25 times it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import time
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes, urlsplit

from flask import current_app, request

from ..core import tokens
from ..core.errors import ApiError
from ..session.routes import is_organiser

NGINX_LINKS_CONF = "nginx-links.conf"


def link_secret(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"faceexplore nginx secure_link", hashlib.sha256).hexdigest()


def link_token(path: str, expires: int, secret: str) -> str:
    # os.fsencode: a gallery name that is not UTF-8 (its bytes as surrogates) signs as the bytes
    # nginx sees in $uri
    signed = str(int(expires)).encode() + os.fsencode(path) + b" " + secret.encode()
    digest = hashlib.md5(signed, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def expiry(lifetime: int, now: float | None = None) -> int:
    now = time.time() if now is None else now
    step = max(60, int(lifetime) // 4)
    return (int(now) // step + 1) * step + int(lifetime)


def sign(path: str, secret: str, lifetime: int, now: float | None = None) -> str:
    """The signed address of ``path`` (a decoded URL path such as ``/gallery/a b.jpg``)."""
    expires = expiry(lifetime, now)
    return f"{quote(os.fsencode(path), safe='/')}?expires={expires}&md5={link_token(path, expires, secret)}"


def verify(path: str, expires: str | None, md5: str | None, secret: str, now: float | None = None) -> str | None:
    """None when the link is good; else why not: "missing", "bad" or "expired"."""
    if not expires or not md5:
        return "missing"
    if not expires.isdigit() or len(expires) > 12:
        return "bad"
    if not hmac.compare_digest(link_token(path, int(expires), secret).encode(), md5.encode("utf-8", "replace")):
        return "bad"
    if int(expires) < (time.time() if now is None else now):
        return "expired"
    return None


# -- in the app --------------------------------------------------------------------------------
def _private() -> bool:
    return current_app.extensions["faceexplore"].settings.gallery_access == "private"


def url(path: str) -> str:
    """``path`` as the API hands it out: signed when the gallery is private."""
    if not _private():
        return quote(os.fsencode(path), safe="/")
    settings = current_app.extensions["faceexplore"].settings
    return sign(path, current_app.config["FACEEXPLORE_LINK_SECRET"], settings.link_lifetime)


def raw_path() -> str:
    """The request's decoded path with every byte kept (as nginx's $uri has it): from the raw
    request line (gunicorn's RAW_URI, or REQUEST_URI), since the framework's decoded path loses
    the bytes of a name that is not UTF-8. Without a raw line, ``request.path``."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return request.path
    path = raw.split("?", 1)[0].split("#", 1)[0]
    if "://" in path:  # an absolute-form request target
        path = urlsplit(path).path
    try:
        return os.fsdecode(unquote_to_bytes(path.encode("latin-1")))  # WSGI: the line's bytes as latin-1
    except UnicodeEncodeError:
        return request.path


def require_signed_link() -> None:
    """Refuse (403) a request for a file whose link is missing, wrong or expired (when private)."""
    if not _private():
        return
    problem = verify(raw_path(), request.args.get("expires"), request.args.get("md5"), current_app.config["FACEEXPLORE_LINK_SECRET"])
    if problem == "expired":
        raise ApiError(403, "link_expired", "This link has expired. Go back to the page and open the photo again.")
    if problem:
        raise ApiError(403, "link_required", "Photos open only through the links the site gives out.")


# -- downloads ---------------------------------------------------------------------------------
# A search's answer carries a download token: the ids of the photos it found, sealed (tokens.py:
# opaque, bound to the index file) and valid as long as its links. A visitor of a private gallery
# downloads photos only with it, and only the photos it lists.
def download_token(photo_ids) -> str | None:
    ids = sorted({int(i) for i in photo_ids})
    if not ids:
        return None
    return tokens.seal_for_app(tokens.DOWNLOAD, [ids[0]] + [b - a for a, b in zip(ids, ids[1:])])  # gaps: shorter


def download_token_ids(token: str | None) -> set[int] | None:
    """The photo ids a token allows, or None for a token that is missing, forged, too old or made
    for another index file (whose photo ids name other photos)."""
    lifetime = current_app.extensions["faceexplore"].settings.link_lifetime
    try:
        gaps = tokens.open_for_app(tokens.DOWNLOAD, token, max_age=lifetime)
    except (tokens.InvalidToken, tokens.ExpiredToken):
        return None
    if not isinstance(gaps, list) or not all(isinstance(g, int) for g in gaps):
        return None
    return set(itertools.accumulate(gaps))


def require_downloadable(photo_ids, token: str | None) -> None:
    """A visitor of a private gallery may download only the photos their search returned."""
    if not _private() or is_organiser():
        return
    allowed = download_token_ids(token)
    if allowed is None or not set(photo_ids) <= allowed:
        raise ApiError(
            403, "not_in_results", "Only the photos a search found can be downloaded. Search again and download from its results."
        )


# -- nginx -------------------------------------------------------------------------------------
def nginx_links_conf(secret: str, gallery_access: str) -> str:
    refused = '"1" 0;\n    default 1;' if gallery_access == "private" else "default 0;"
    return (
        "# Written by FaceExplore (faceexplore/web/gallery/links.py) from its secret key and the gallery_access\n"
        f"# setting ({gallery_access}); included by nginx.conf. Keep it private: mode 600.\n"
        f'map $host $faceexplore_link_secret {{\n    default "{secret}";\n}}\n'
        f"map $secure_link $faceexplore_link_refused {{\n    {refused}\n}}\n"
    )


def write_nginx_links_conf(data_dir, secret: str, gallery_access: str) -> Path:
    """Write ``<data dir>/nginx-links.conf`` (mode 600) unless it already says the same."""
    path = Path(data_dir) / NGINX_LINKS_CONF
    text = nginx_links_conf(secret, gallery_access)
    try:
        if path.read_text() == text:
            return path
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{NGINX_LINKS_CONF}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
