"""Finding the photos of a gallery: recursively, any layout, any letter case of extension.

File names are bytes on Linux and need not be UTF-8 (a ``caf\\xe9.jpg`` copied from an old
Latin-1 system). Python hands such names over with each undecodable byte as a lone surrogate
(``surrogateescape``), which SQLite, JSON and URLs all refuse. So a path is *stored* in a
lossless text form (``stored_path``): a valid UTF-8 name as it is, each undecodable byte as
U+FFFD followed by its two hex digits (and a literal U+FFFD doubled), and ``filesystem_path``
turns it back into the name on disk.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from faceexplore.faces.images import PHOTO_EXTENSIONS

ESCAPE = "\ufffd"  # the Unicode replacement character: what a reader expects where a byte was lost
_STORED_ESCAPES = re.compile(ESCAPE + "(?:" + ESCAPE + "|([89A-F][0-9A-F]))")
_UNDECODABLE = re.compile("[\ufffd\udc80-\udcff]")


@dataclass(frozen=True)
class GalleryFile:
    path: str  # relative to the gallery, '/'-separated, in stored form (see stored_path)
    size: int
    mtime_ns: int


def stored_path(name: str) -> str:
    """The lossless, valid-Unicode form of a file name as Python's file functions give it (with
    ``surrogateescape`` for bytes that are not UTF-8). Identity for every UTF-8 name without
    U+FFFD in it."""

    def escape(match):
        ch = match.group()
        return ESCAPE * 2 if ch == ESCAPE else f"{ESCAPE}{ord(ch) - 0xDC00:02X}"

    return _UNDECODABLE.sub(escape, name)


def filesystem_path(stored: str) -> str:
    """The name on disk of a ``stored_path`` (a str for ``open``/``os`` functions, with
    undecodable bytes as surrogates; ``os.fsencode`` gives its bytes)."""

    def unescape(match):
        return ESCAPE if match.group(1) is None else chr(0xDC00 + int(match.group(1), 16))

    return _STORED_ESCAPES.sub(unescape, stored)


def url_path(stored: str) -> str:
    """The percent-encoded URL path of a stored path: the bytes of the name on disk, so that a
    server reading files straight from disk (nginx) opens that very file."""
    return quote(os.fsencode(filesystem_path(stored)), safe="/")


def name_from_url_path(quoted: str) -> str:
    """The name on disk (for ``resolve_in``) of a raw, still percent-encoded URL path: its bytes
    as they are, whether UTF-8 or not (a framework's decoded path has lost the bytes that are
    not UTF-8)."""
    return os.fsdecode(unquote_to_bytes(quoted))


def scan_gallery(root: str | Path) -> list[GalleryFile]:
    """Every photo file under ``root``, sorted by path. Hidden folders and files are skipped;
    symbolic links to folders are not followed (a link loop must not hang the scan), and a link
    to a file outside the gallery is skipped (the gallery is served from ``root`` only, so what
    lies outside it would be indexed but never shown)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"the gallery folder {root} does not exist")
    real_root = os.path.realpath(root)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in PHOTO_EXTENSIONS:
                continue
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full)
            except OSError:  # vanished or a dangling link
                continue
            if os.path.islink(full) and not os.path.realpath(full).startswith(real_root + os.sep):
                continue
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            found.append(GalleryFile(stored_path(rel), st.st_size, st.st_mtime_ns))
    found.sort(key=lambda f: f.path)
    return found


def resolve_in(root: str | Path, relative: str) -> Path | None:
    """``root/relative`` if it stays inside ``root`` once links are resolved, else None.
    ``relative`` is a name on disk (see ``filesystem_path`` for a stored one)."""
    root = Path(root).resolve()
    try:
        candidate = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return candidate if candidate.is_relative_to(root) and candidate != root else None
