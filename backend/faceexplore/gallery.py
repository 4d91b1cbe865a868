"""Finding the photos of a gallery: recursively, any layout, any letter case of extension."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .images import PHOTO_EXTENSIONS


@dataclass(frozen=True)
class GalleryFile:
    path: str  # relative to the gallery, '/'-separated
    size: int
    mtime_ns: int


def scan_gallery(root: str | Path) -> list[GalleryFile]:
    """Every photo file under ``root``, sorted by path. Hidden folders and files are skipped;
    symbolic links to folders are not followed (a link loop must not hang the scan)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"the gallery folder {root} does not exist")
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
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            found.append(GalleryFile(rel, st.st_size, st.st_mtime_ns))
    found.sort(key=lambda f: f.path)
    return found


def resolve_in(root: str | Path, relative: str) -> Path | None:
    """``root/relative`` if it stays inside ``root`` once links are resolved, else None."""
    root = Path(root).resolve()
    try:
        candidate = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return candidate if candidate.is_relative_to(root) and candidate != root else None
