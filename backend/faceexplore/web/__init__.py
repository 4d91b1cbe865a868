"""The web API (Flask): search by sample photos, browse people and photos, download zips.

``create_app`` is the application factory; ``server.run_server`` runs it under gunicorn with the
face models loaded once per worker.

Split like the frontend's features: search/, people/, gallery/ (files, links, downloads,
uploads) and session/, on core/ (state, errors, models, tokens, limits); app.py assembles
them with status, document and frontend. May import every layer below it (live, search,
people, index, faces, settings); backend/pyproject.toml's contracts say which web part may
import which.
"""

from .app import create_app

__all__ = ["create_app"]
