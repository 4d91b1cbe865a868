"""The built frontend (frontend/dist): index.html at / and for the app's own routes, its assets.

Where it lives: ``settings.frontend_dir`` (``FACEEXPLORE_FRONTEND_DIR``; default the repository's
``frontend/dist``); an empty value turns it off. Without a built frontend, / answers
a short JSON note pointing at the API description.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_file
from werkzeug.routing import PathConverter

from faceexplore.index.gallery import resolve_in

from .core.errors import not_found

bp = Blueprint("frontend", __name__)

SERVER_PREFIXES = ("api", "gallery", "cache")


class FrontendPath(PathConverter):
    """A path that is not an address of the server's own routes: the catch-all then never matches
    /api/search, so routing answers GET there 405, and OPTIONS lists only the methods the API has
    (Allow). (/gallery//x still matches, and is refused below rather than redirected.)"""

    regex = rf"(?!(?:{'|'.join(SERVER_PREFIXES)})(?:/[^/]|/?$))[^/].*?"


def frontend_dir(settings) -> Path | None:
    return Path(settings.frontend_dir).resolve() if settings.frontend_dir else None


def _built() -> Path | None:
    root = current_app.config.get("FACEEXPLORE_FRONTEND_DIR")
    return root if root is not None and (root / "index.html").is_file() else None


def _index_html(root: Path):
    response = send_file(root / "index.html", mimetype="text/html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def home():
    root = _built()
    if root is None:
        return jsonify(
            {
                "name": "FaceExplore",
                "message": "The web frontend is not built (npm ci && npm run build in frontend/); the API is at /api/.",
                "api": "/api/openapi.json",
            }
        )
    return _index_html(root)


@bp.get("/<frontend_path:path>")
def frontend_file(path: str):
    first = path.split("/", 1)[0]
    root = _built()
    if root is None or first in SERVER_PREFIXES or any(p.startswith(".") for p in path.split("/")):
        raise not_found()  # (dot-files and `..` included)
    file = resolve_in(root, path)
    if file is not None and file.is_file():
        max_age = 365 * 24 * 3600 if first == "assets" else 0
        return send_file(file, max_age=max_age, conditional=True)
    if first == "assets" or "." in path.rsplit("/", 1)[-1]:
        raise not_found()  # a missing file, not a page of the app
    return _index_html(root)  # a client-side route (/people/3, ...)
