"""FaceExplore: self-hosted face search for event photo galleries.

The packages, each importing only those below it (backend/pyproject.toml, [tool.importlinter]):
cli and evaluation; web; live; search; people; index; faces; settings.
"""

__version__ = "0.1.0"
