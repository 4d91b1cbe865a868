"""FaceExplore: self-hosted face search for event photo galleries.

The packages, each importing only those below it (backend/pyproject.toml, [tool.importlinter]):
cli; web and evaluation (neither imports the other); live; search; people; index; faces; settings.
"""

__version__ = "0.1.0"
