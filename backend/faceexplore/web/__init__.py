"""The web API (Flask): search by sample photos, browse people and photos, download zips.

``create_app`` is the application factory; ``server.run_server`` runs it under gunicorn with the
face models loaded once per worker.
"""

from .app import create_app

__all__ = ["create_app"]
